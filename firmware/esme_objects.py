"""The ESME's COSEM object table: the objects with behaviour, the generic model, the overlays.

Layer: firmware. Split out of :mod:`smemu.firmware.esme` (same behaviour): the device's own
object handlers (firmware version, energy registers, clock, disconnect control, Data
Protection), :data:`ESME_MODEL` (every attribute and method the ESME use cases access, Use
Case volume object lists), :func:`object_table` (the model overlaid with the objects with
behaviour, ECS47's legacy setters and the protection methods) and the twin-element table.
The HAN side's objects (auxiliary controllers, :mod:`smemu.firmware.esme_han`) overlay last.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Final

from smemu.firmware import esme_han, esme_registers, esme_twin, metering, supply
from smemu.firmware.common import respond
from smemu.firmware.common.cosem import CosemContext, CosemFailure, CosemObject, ObjectTable
from smemu.firmware.common.machine import Tx
from smemu.firmware.cosem_model import (
    Model,
    ModelAttribute,
    build_model,
    check_value,
    device_use_cases,
    generic_table,
    load,
    overlay,
    store,
)
from smemu.firmware.registers import ops
from smemu.protocols.dlms import axdr
from smemu.protocols.dlms.apdu import ActionResult, DataAccessResult, parse_obis
from smemu.protocols.dlms.axdr import Data
from smemu.protocols.dlms.data import (
    Array,
    Boolean,
    DoubleLongUnsigned,
    Enum,
    Integer,
    LongUnsigned,
    NullData,
    OctetString,
    Structure,
    Unsigned,
)
from smemu.protocols.dlms.dates import utc_instant
from smemu.protocols.dlms.protection import ProtectionParameters
from smemu.protocols.gbcs.decrypt import encryption_key
from smemu.protocols.gbcs.frame import GeneralSigningMessage
from smemu.protocols.gbcs.use_cases import Device
from smemu.protocols.security import gcm

FIRMWARE_VERSION: Final = "fw/version"
CLOCK_OFFSET: Final = "clock/offset_s"
CLOCK_PRESET: Final = "clock/preset"
CLOCK_BASE: Final = "clock/base"

DEFAULT_FIRMWARE: Final = bytes.fromhex("01000000")
_UNIT_WH: Final = 30
_UNIT_VARH: Final = 32
_SCRIPT_CLOSE: Final = 51
_SCRIPT_OPEN: Final = 52
_SCRIPT_ARM: Final = 54


def import_wh(tx: Tx) -> int:
    """Active import energy (Wh) at the engine's last half-hour boundary."""
    return metering.registers(tx).import_wh


def device_time(tx: Tx) -> datetime:
    """The meter's clock: the comms hub's time plus the offset ECS70 set."""
    offset = tx.get_json(CLOCK_OFFSET, 0)
    return tx.now + timedelta(seconds=offset if isinstance(offset, int) else 0)


def _device_time(ctx: CosemContext) -> datetime:
    return device_time(ctx.tx)


# --------------------------------------------------------------------- object handlers


def _firmware(ctx: CosemContext) -> Data:
    return OctetString(ctx.tx.get(FIRMWARE_VERSION) or DEFAULT_FIRMWARE)


def _import_value(ctx: CosemContext) -> Data:
    return DoubleLongUnsigned(import_wh(ctx.tx) & 0xFFFFFFFF)


def _export_value(ctx: CosemContext) -> Data:
    return DoubleLongUnsigned(metering.registers(ctx.tx).export_wh & 0xFFFFFFFF)


def _scaler_unit(unit: int) -> Data:
    return Structure((Integer(0), Enum(unit)))


def _clock_time(ctx: CosemContext) -> Data:
    return OctetString(respond.cosem_datetime(_device_time(ctx)))


def _clock_base(ctx: CosemContext, value: Data) -> None:
    if not isinstance(value, Enum):
        raise CosemFailure(DataAccessResult.TYPE_UNMATCHED)
    ctx.tx.put_int(CLOCK_BASE, value.value)


def _clock_preset(ctx: CosemContext, value: Data) -> Data:
    """preset_adjusting_time: structure{preset time, validity start, validity end}."""
    if not isinstance(value, Structure) or len(value.items) != 3:
        raise CosemFailure(ActionResult.TYPE_UNMATCHED)
    parts = []
    for item in value.items:
        if not isinstance(item, OctetString) or len(item.value) != 12:
            raise CosemFailure(ActionResult.TYPE_UNMATCHED)
        parts.append(item.value)
    ctx.tx.put(CLOCK_PRESET, b"".join(parts))
    return NullData()


def _clock_adjust(ctx: CosemContext, value: Data) -> Data:
    """adjust_to_preset_time: inside the validity window, set the clock to the preset time,
    or -- when the preset time is unspecified -- to the comms hub's time (offset 0)."""
    raw = ctx.tx.get(CLOCK_PRESET)
    if raw is None or len(raw) != 36:
        raise CosemFailure(ActionResult.TEMPORARY_FAILURE)
    preset = utc_instant(raw[0:12])
    start = utc_instant(raw[12:24])
    end = utc_instant(raw[24:36])
    now = _device_time(ctx)
    if (start is not None and now < start) or (end is not None and now > end):
        raise CosemFailure(ActionResult.TEMPORARY_FAILURE)
    offset = 0 if preset is None else int((preset - ctx.now).total_seconds())
    ctx.tx.put_json(CLOCK_OFFSET, offset)
    ctx.tx.delete(CLOCK_PRESET)
    ctx.tx.log("event", f"clock adjusted (offset {offset} s)")
    return NullData()


def _switch(ctx: CosemContext, value: Data) -> Data:
    """The disconnect-control script table: 51 close (ECS42), 52 open (ECS43), 54 arm."""
    if not isinstance(value, LongUnsigned):
        raise CosemFailure(ActionResult.TYPE_UNMATCHED)
    causes = {_SCRIPT_CLOSE: supply.Cause.CLOSE, _SCRIPT_OPEN: supply.Cause.OPEN,
              _SCRIPT_ARM: supply.Cause.ARM}  # fmt: skip
    cause = causes.get(value.value)
    if cause is None:
        raise CosemFailure(ActionResult.OBJECT_UNAVAILABLE)
    if cause is supply.Cause.CLOSE:
        metering.mutate(ctx.tx, ops.enable_supply)
    supply.transition(ctx.tx, cause)
    return NullData()


def _control_state(ctx: CosemContext) -> Data:
    return Enum(supply.state(ctx.tx))


def _output_state(ctx: CosemContext) -> Data:
    return Boolean(0xFF if supply.closed(ctx.tx) else 0)


def _protected_attributes(ctx: CosemContext, values: tuple[Data, ...]) -> Data:
    """get_protected_attributes (IC 30 m1): the values, encrypted for the requesting party
    (reference 4.5 / 7.6): structure{array of protection parameters, ciphered block}."""
    command = ctx.command
    header = respond.response_header(command, ctx.credentials.eui, ctx.tx)
    key = encryption_key(GeneralSigningMessage(header, b"", None), ctx.credentials.keystore)
    if key is None:
        raise CosemFailure(ActionResult.READ_WRITE_DENIED)
    block = gcm.encrypt_block(key, ctx.credentials.eui, axdr.encode(Structure(values)))
    party = header.other_information.supplementary_remote_party_id or header.recipient
    params = ProtectionParameters(
        2,
        b"\x04" + header.originator_counter.to_bytes(8, "big"),
        bytes(ctx.credentials.eui),
        bytes(party),
        b"",
        Structure((Enum(2), Structure((OctetString(b"\x02"), OctetString(b""))))),
    )
    return Structure((Array((params.to_data(),)), OctetString(block)))


def _import_collection(ctx: CosemContext) -> Data:
    """ImportRegisterCollection (ECS17b): active and reactive import with scalers."""
    return Structure(
        (
            _import_value(ctx),
            _scaler_unit(_UNIT_WH),
            DoubleLongUnsigned(0),
            _scaler_unit(_UNIT_VARH),
        )
    )


_OWN: Final[ObjectTable] = {
    (1, parse_obis("0-0:0.2.1.255")): CosemObject(get={2: _firmware}),
    (3, parse_obis("1-0:1.8.0.255")): CosemObject(
        get={2: _import_value, 3: lambda ctx: _scaler_unit(_UNIT_WH)}
    ),
    (3, parse_obis("1-0:2.8.0.255")): CosemObject(
        get={2: _export_value, 3: lambda ctx: _scaler_unit(_UNIT_WH)}
    ),
    (3, parse_obis("1-0:4.8.0.255")): CosemObject(
        get={2: lambda ctx: DoubleLongUnsigned(0), 3: lambda ctx: _scaler_unit(_UNIT_VARH)}
    ),
    (8, parse_obis("0-0:1.0.0.255")): CosemObject(
        get={2: _clock_time, 4: lambda ctx: Unsigned(0),
             9: lambda ctx: Enum(ctx.tx.get_int(CLOCK_BASE, 1))},
        set={9: _clock_base},
        act={4: _clock_adjust, 5: _clock_preset},
    ),
    (9, parse_obis("0-0:10.0.106.255")): CosemObject(act={1: _switch}),
    (70, parse_obis("0-0:96.3.10.255")): CosemObject(get={2: _output_state, 3: _control_state}),
    (1, parse_obis("0-0:94.44.34.10")): CosemObject(get={2: _import_collection}),
}

#: the objects with behaviour: the engine-backed ones, then the device's own
OBJECTS: Final[ObjectTable] = overlay(esme_registers.OBJECTS, _OWN)

#: every attribute and method the ESME use cases access (Use Case volume object lists)
ESME_MODEL: Final = build_model(device_use_cases(Device.ESME))


def _protection_table(model: Model, special: ObjectTable) -> dict[tuple[int, bytes], CosemObject]:
    """A get_protected_attributes method for every Data Protection object of the model,
    reading the protected attributes through ``special`` (or the model's defaults)."""
    table: dict[tuple[int, bytes], CosemObject] = {}
    for obis, attributes in model.protected.items():

        def method(
            ctx: CosemContext, value: Data, attributes: tuple[ModelAttribute, ...] = attributes
        ) -> Data:
            values = []
            for attribute in attributes:
                row = attribute.row
                found = special.get((row.class_id, row.obis))
                getter = None if found is None else found.get.get(row.index)
                values.append(getter(ctx) if getter is not None else load(ctx, attribute))
            return _protected_attributes(ctx, tuple(values))

        table[(30, obis)] = CosemObject(act={1: method})
    return table


#: ECS47 (0x0055, outside the volume: ECS47a's predecessor) sets an HC ALCS / ALCS state
#: attribute (1/0-0:94.44.117-121.x/2) in its earlier form, a long-unsigned, where ECS47a
#: writes a date-time; both are the same attribute (gbcs-reference.md 6, row 0x0055).
_ECS47: Final = 0x0055
_ALCS_STATE_GROUPS: Final = range(117, 122)


def _legacy_alcs_setters(model: Model) -> dict[tuple[int, bytes], CosemObject]:
    """Setters of the ALCS state attributes that also take ECS47's long-unsigned form."""
    table: dict[tuple[int, bytes], CosemObject] = {}
    for (class_id, obis), attributes in model.attributes.items():
        attribute = attributes.get(2)
        if class_id != 1 or attribute is None or not attribute.writable:
            continue
        if obis[:4] != b"\x00\x00\x5e\x2c" or obis[4] not in _ALCS_STATE_GROUPS:
            continue

        def set_state(
            ctx: CosemContext, value: Data, attribute: ModelAttribute = attribute
        ) -> None:
            row = attribute.row
            legacy = ctx.command.header.message_code == _ECS47 and isinstance(value, LongUnsigned)
            if not legacy:
                check_value(attribute, value)
            store(ctx, row.class_id, row.obis, row.index, value)

        table[(class_id, obis)] = CosemObject(set={2: set_state})
    return table


def object_table(model: Model, special: ObjectTable) -> dict[tuple[int, bytes], CosemObject]:
    """Every object ``model`` names (NVM-backed, activation times acting), overlaid with the
    objects with behaviour ``special``, the legacy setters, the Data Protection methods and
    the HAN side's auxiliary controller objects (:func:`smemu.firmware.esme_han.objects`)."""
    table = overlay(
        overlay(
            overlay(
                esme_registers.with_activations(generic_table(model)),
                overlay(esme_registers.legacy_active_setters(model), special),
            ),
            _legacy_alcs_setters(model),
        ),
        _protection_table(model, special),
    )
    return overlay(table, esme_han.objects(table))


@functools.cache
def twin_objects() -> dict[tuple[int, bytes], CosemObject]:
    """The object table of a twin-element meter (built on first use)."""
    special = overlay(OBJECTS, esme_twin.objects(OBJECTS))
    return object_table(esme_twin.twin_model(ESME_MODEL), special)
