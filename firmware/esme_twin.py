"""The twin-element ESME variant: a secondary measuring element beside the primary one.

Layer: firmware. Theory of operation
------------------------------------
One :class:`~smemu.firmware.esme.EsmeMachine` serves both variants; the NVM entry
:data:`VARIANT` (device configuration, written at manufacture: SMETS MeterVariant 'A' single
element, 'B' twin element) says which. A twin-element meter differs from a single-element
one in what the Use Case volume marks ``TWIN_ELEMENT_ESME_ONLY``, and in the secondary
element's own tariff:

* **Object model** (:func:`twin_model`): the members the volume marks twin-element only are
  present -- the secondary import in ImportRegisterCollection (ECS17b), the four secondary
  TOU registers in TariffTOURegisterCollection (ECS17d), the secondary import and TOU values
  in each entry of the billing data logs (ECS20b/c), the daily read log (ECS21a) and the
  half-hourly profile (ECS22b). Profile buffers therefore carry the longer entry type.
* **Registers**: the secondary element is a second register-engine meter
  (:data:`~smemu.firmware.metering.SECONDARY` keys) with its own load model
  (:data:`LOAD`) and its own compiled table: the secondary tariff of ECS01c / ECS01d
  (:data:`~smemu.firmware.tariff.SECONDARY_TARIFF`: calendar 0-0:13.0.1.255 selecting the
  secondary TOU rates 1..4 with script selectors 201..204, special days 0-0:11.0.1.255, the
  price matrix 0-0:19.20.5.255). It keeps no logs of its own and no prepayment: credit, debt,
  blocks and the standing charge are the meter's, kept by the primary element.
* **MPANs** (ECS39a / ECS40): the combined MPAN attribute holds the primary MPAN and, on a
  twin-element meter only, the secondary one; a single-element meter refuses a value longer
  than one MPAN (:func:`single_element_objects`).
* **Supply**: the volume gives the ESME one disconnect control (0-0:96.3.10.255) and one
  load switch; it supplies both elements, so while it is open neither element measures
  consumption (:func:`catch_up` takes the switch state).

The machine advances the secondary engine whenever it advances the primary one
(:func:`catch_up`) and re-compiles the secondary table after a request or an activation
that wrote tariff values (:func:`after_writes`, before the primary's, which clears the
shared dirty flag).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Final

from smemu.errors import ConfigError
from smemu.firmware import esme_registers, metering, tariff
from smemu.firmware.common.cosem import (
    CosemContext,
    CosemFailure,
    CosemObject,
    Getter,
    ObjectTable,
)
from smemu.firmware.common.machine import Tx
from smemu.firmware.cosem_model import Model, ModelAttribute, check_value, store
from smemu.firmware.registers.ops import Event, Registers
from smemu.firmware.registers.tables import Settings, Table, compile_table
from smemu.protocols.dlms.apdu import DataAccessResult, parse_obis
from smemu.protocols.dlms.axdr import Data
from smemu.protocols.dlms.data import (
    Array,
    DoubleLongUnsigned,
    Enum,
    Integer,
    OctetString,
    Structure,
)
from smemu.protocols.dlms.object_types import CosemObject as VolumeObject
from smemu.protocols.dlms.shapes import shape_of

VARIANT: Final = "esme/variant"  #: device configuration: b"single" (default) or b"twin"
SINGLE: Final = "single"
TWIN: Final = "twin"
VARIANTS: Final = (SINGLE, TWIN)
#: device configuration: the secondary element's load model, JSON as ``esme/load``
LOAD: Final = "esme/twin/load"
DEFAULT_WATTS: Final = 200  #: the secondary element's constant load when none is configured
#: the volume's condition on the members only a twin-element ESME has
TWIN_CONDITION: Final = "TWIN_ELEMENT_ESME_ONLY"
#: the secondary element's active import register (the secondary price matrix's commodity)
SECONDARY_IMPORT: Final = parse_obis("1-20:1.8.0.255")
#: the secondary element keeps registers only: no billing day, no logs
SECONDARY_SETTINGS: Final = Settings(
    billing_day=0, log_profile=False, log_daily=False, log_billing=False
)
_UNIT_WH: Final = 30
_PRICE_SCALER: Final = -5
_OTHER_UNIT: Final = 254
_U32: Final = 0xFFFFFFFF


# ---------------------------------------------------------------------------- variant


def variant(tx: Tx) -> str:
    """The meter's variant from its configuration (single element unless told otherwise)."""
    raw = tx.get(VARIANT)
    text = raw.decode("ascii", errors="replace").strip() if raw is not None else SINGLE
    return text if text in VARIANTS else SINGLE


def is_twin(tx: Tx) -> bool:
    return variant(tx) == TWIN


def configuration(name: str) -> dict[str, bytes]:
    """The NVM entries that make a fresh ESME of variant ``name`` (merge into its NVM before
    the first boot).

    :raises ConfigError: ``name`` is no ESME variant.
    """
    if name not in VARIANTS:
        raise ConfigError(f"unknown ESME variant {name!r}: expected one of {', '.join(VARIANTS)}")
    return {VARIANT: name.encode("ascii")}


# ------------------------------------------------------------------ secondary registers


def compile_secondary(tx: Tx) -> Table:
    """The secondary element's engine table, from its active tariff objects."""
    return compile_table(
        tariff.tariff_from_active(tx, tariff.SECONDARY_TARIFF), None, SECONDARY_SETTINGS
    )


def initialise(tx: Tx) -> None:
    """Zeroed secondary registers on a twin-element meter's first boot (or on becoming one)."""
    if not metering.has_state(tx, metering.SECONDARY):
        metering.initialise(tx, compile_secondary(tx), element=metering.SECONDARY)
        tx.log("event", "secondary element registers initialised")


def load_model(tx: Tx) -> metering.LoadModel:
    """The secondary element's consumption: ``esme/twin/load``, else a constant load."""
    return metering.LoadModel.from_tx(tx, LOAD, DEFAULT_WATTS)


def catch_up(tx: Tx, *, closed: bool, disabled_at: int | None = None) -> list[Event]:
    """Advance the secondary engine to now: no consumption while the load switch is open,
    nor after ``disabled_at``, the instant in this span the primary element's engine
    disabled the supply (credit exhausted)."""
    load = load_model(tx)
    events: list[Event] = []
    if closed and disabled_at is not None:
        events += metering.catch_up(
            tx, load, closed=True, until=disabled_at, element=metering.SECONDARY
        )
        closed = False
    events += metering.catch_up(tx, load, closed=closed, element=metering.SECONDARY)
    return events


def after_writes(tx: Tx) -> None:
    """Re-compile the secondary table if this request (or activation) wrote tariff values.

    Call before :func:`~smemu.firmware.esme_registers.after_writes`, which clears the flag.
    """
    if tx.get_int(esme_registers.DIRTY):
        metering.replace_table(tx, compile_secondary(tx), metering.SECONDARY)


def registers(tx: Tx) -> Registers:
    """The secondary element's registers at its engine's instant."""
    return metering.registers(tx, metering.SECONDARY)


# ------------------------------------------------------------------------ object model


def _twin_row(row: VolumeObject) -> VolumeObject:
    fields = tuple(
        dataclasses.replace(f, condition=None) if f.condition == TWIN_CONDITION else f
        for f in row.fields
    )
    return dataclasses.replace(row, fields=fields)


def twin_model(model: Model) -> Model:
    """``model`` with every twin-element-only member made a required one."""
    attributes: dict[tuple[int, bytes], dict[int, ModelAttribute]] = {}
    for key, attrs in model.attributes.items():
        out: dict[int, ModelAttribute] = {}
        for index, attribute in attrs.items():
            row = attribute.row
            if any(f.condition == TWIN_CONDITION for f in row.fields):
                row = _twin_row(row)
                out[index] = ModelAttribute(row, shape_of(row.fields), attribute.writable)
            else:
                out[index] = attribute
        attributes[key] = out
    protected = {
        obis: tuple(attributes[(a.row.class_id, a.row.obis)][a.row.index] for a in group)
        for obis, group in model.protected.items()
    }
    return Model(attributes, model.methods, protected)


# ----------------------------------------------------------------------------- objects


def _u32(value: int) -> Data:
    return DoubleLongUnsigned(max(0, value) & _U32)


def _scaler(scaler: int, unit: int) -> Getter:
    return lambda ctx: Structure((Integer(scaler), Enum(unit)))


def _secondary_import(ctx: CosemContext) -> Data:
    return _u32(registers(ctx.tx).import_wh)


def _secondary_tou(ctx: CosemContext) -> Array:
    tou = registers(ctx.tx).tou_wh[: tariff.SECONDARY_RATES]
    return Array(tuple(_u32(v) for v in tou))


def _secondary_rate(n: int) -> Getter:
    return lambda ctx: _u32(registers(ctx.tx).tou_wh[n])


def _secondary_price(ctx: CosemContext) -> Data:
    """SecondaryActiveTariffPrice: the secondary element's TOU price in force now."""
    table = metering.table_words(ctx.tx, metering.SECONDARY)
    state = metering.state_words(ctx.tx, metering.SECONDARY)
    return _u32(esme_registers.price_in_force(table, state))


def _appended(primary: Getter | None, extra: Callable[[CosemContext], Data]) -> Getter:
    """A collection getter: the single-element structure with the secondary member added."""

    def get(ctx: CosemContext) -> Data:
        base = primary(ctx) if primary is not None else Structure(())
        items = base.items if isinstance(base, Structure) else (base,)
        return Structure((*items, extra(ctx)))

    return get


#: MeterPointAdministrationNumber(combinedMPANS): the primary MPAN, then -- on a twin-element
#: meter -- the secondary one, 13 octets each (Use Case volume, ECS39a / ECS40)
MPANS: Final = (1, parse_obis("0-0:94.44.34.11"))
MPAN_LENGTH: Final = 13


def single_element_objects(model: Model) -> dict[tuple[int, bytes], CosemObject]:
    """What only a single-element meter does: refuse a secondary MPAN ("writing a string
    longer than 13 bytes to a single element meter shall result in an error")."""
    attribute = model.attributes[MPANS][2]

    def set_mpans(ctx: CosemContext, value: Data) -> None:
        check_value(attribute, value)
        if isinstance(value, OctetString) and len(value.value) > MPAN_LENGTH:
            raise CosemFailure(DataAccessResult.OTHER_REASON)
        store(ctx, *MPANS, 2, value)

    return {MPANS: CosemObject(set={2: set_mpans})}


IMPORT_COLLECTION: Final = parse_obis("0-0:94.44.34.10")
TOU_COLLECTION: Final = parse_obis("0-0:94.44.34.1")


def objects(single: ObjectTable) -> dict[tuple[int, bytes], CosemObject]:
    """The twin-element objects with behaviour, overlaid on ``single`` (the single-element
    objects with behaviour): the collections gain their secondary members, and the
    secondary registers and active price are engine views."""

    def getter(key: tuple[int, bytes]) -> Getter | None:
        found = single.get(key)
        return None if found is None else found.get.get(2)

    imports = (1, IMPORT_COLLECTION)
    tou = (1, TOU_COLLECTION)
    return {
        imports: CosemObject(get={2: _appended(getter(imports), _secondary_import)}),
        tou: CosemObject(get={2: _appended(getter(tou), _secondary_tou)}),
        (3, SECONDARY_IMPORT): CosemObject(
            get={2: _secondary_import, 3: _scaler(0, _UNIT_WH)}
        ),
        **{
            (3, parse_obis(f"1-20:1.8.{n + 1}.255")): CosemObject(
                get={2: _secondary_rate(n), 3: _scaler(0, _UNIT_WH)}
            )
            for n in range(tariff.SECONDARY_RATES)
        },
        (3, tariff.SECONDARY_ACTIVE_PRICE): CosemObject(
            get={2: _secondary_price, 3: _scaler(_PRICE_SCALER, _OTHER_UNIT)}
        ),
    }


__all__ = [
    "LOAD",
    "SINGLE",
    "TWIN",
    "VARIANT",
    "VARIANTS",
    "after_writes",
    "catch_up",
    "compile_secondary",
    "configuration",
    "initialise",
    "is_twin",
    "load_model",
    "objects",
    "registers",
    "single_element_objects",
    "twin_model",
    "variant",
]
