"""EsmeMachine: the electricity smart meter (minimal until issue 6).

Layer: firmware.

Theory of operation
-------------------
The ESME is a :class:`~smemu.firmware.common.commands.CommandMachine` whose handlers all
serve DLMS access-requests from one COSEM object table (:data:`OBJECTS`). Metrology is a
constant-load model for now: the active import register is ``base + power x elapsed``,
computed from NVM (``esme/base_wh``, ``esme/since``, ``esme/import_w``) at the instant of a
read, so a jump of simulated time is one multiplication, not a loop. The supply follows the
disconnect-control script table (ECS42 close, ECS43 open, ECS44 arm); while the supply is
open the register does not advance.

Supported use cases (message code -> handler): ECS17a and ECS17b energy registers (ECS17b
encrypted through Data Protection, reference 4.5 / 7.6), ECS42/43/44 load switch, ECS45
switch state, ECS52 firmware version, ECS70 clock. Any other authenticated command gets
the ECS100 "not supported" alert.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Final

from smemu.firmware.common import respond
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.cosem import CosemContext, CosemFailure, CosemObject, ObjectTable, serve
from smemu.firmware.common.machine import DeviceType, Tx
from smemu.firmware.common.security import Accepted
from smemu.firmware.cosem_model import (
    Model,
    ModelAttribute,
    build_model,
    device_use_cases,
    generic_table,
    load,
    overlay,
)
from smemu.protocols.dlms import apdu, axdr
from smemu.protocols.dlms.apdu import ActionResult, DataAccessResult, parse_obis
from smemu.protocols.dlms.axdr import Data
from smemu.protocols.dlms.data import (
    Array,
    DoubleLongUnsigned,
    Enum,
    Integer,
    LongUnsigned,
    NullData,
    OctetString,
    Structure,
    Unsigned,
)
from smemu.protocols.dlms.protection import ProtectionParameters
from smemu.protocols.gbcs.decrypt import encryption_key
from smemu.protocols.gbcs.frame import GeneralSigningMessage
from smemu.protocols.gbcs.use_cases import USE_CASES, Device, by_message_code
from smemu.protocols.security import gcm

FIRMWARE_VERSION: Final = "fw/version"
BASE_WH: Final = "esme/base_wh"
SINCE: Final = "esme/since"
IMPORT_W: Final = "esme/import_w"
SUPPLY: Final = "esme/supply"  #: disconnect control state: 0 open, 1 closed, 2 armed
CLOCK_OFFSET: Final = "clock/offset_s"
CLOCK_PRESET: Final = "clock/preset"
CLOCK_BASE: Final = "clock/base"

DEFAULT_FIRMWARE: Final = bytes.fromhex("01000000")
DEFAULT_IMPORT_W: Final = 400
_UNIT_WH: Final = 30
_UNIT_VARH: Final = 32
_SCRIPT_CLOSE: Final = 51
_SCRIPT_OPEN: Final = 52
_SCRIPT_ARM: Final = 54


def _iso(instant: datetime) -> bytes:
    return instant.isoformat().encode()


def import_wh(tx: Tx) -> int:
    """Active import energy (Wh) at ``tx.now`` under the constant-load model."""
    base = tx.get_int(BASE_WH)
    raw = tx.get(SINCE)
    if raw is None or tx.get_int(SUPPLY, 1) != 1:
        return base
    since = datetime.fromisoformat(raw.decode())
    seconds = max(0.0, (tx.now - since).total_seconds())
    return base + int(tx.get_int(IMPORT_W, DEFAULT_IMPORT_W) * seconds // 3600)


def _settle(tx: Tx) -> None:
    """Fold the energy so far into the base (before the supply state changes)."""
    tx.put_int(BASE_WH, import_wh(tx))
    tx.put(SINCE, _iso(tx.now))


def _device_time_of(tx: Tx) -> datetime:
    offset = tx.get_json(CLOCK_OFFSET, 0)
    return tx.now + timedelta(seconds=offset if isinstance(offset, int) else 0)


def _device_time(ctx: CosemContext) -> datetime:
    return _device_time_of(ctx.tx)


# --------------------------------------------------------------------- object handlers


def _firmware(ctx: CosemContext) -> Data:
    return OctetString(ctx.tx.get(FIRMWARE_VERSION) or DEFAULT_FIRMWARE)


def _import_value(ctx: CosemContext) -> Data:
    return DoubleLongUnsigned(import_wh(ctx.tx) & 0xFFFFFFFF)


def _scaler_unit(unit: int) -> Data:
    return Structure((Integer(0), Enum(unit)))


def _clock_time(ctx: CosemContext) -> Data:
    return OctetString(respond.cosem_datetime(_device_time(ctx)))


def _cosem_instant(raw: bytes, tz: object) -> datetime | None:
    """A 12-octet COSEM date-time as a UTC instant; ``None`` when not fully specified."""
    if len(raw) != 12 or raw[0:2] == b"\xff\xff" or 0xFF in raw[2:4] or 0xFF in raw[5:8]:
        return None
    try:
        return datetime(int.from_bytes(raw[0:2], "big"), raw[2], raw[3], raw[5], raw[6], raw[7],
                        tzinfo=UTC)
    except ValueError:
        return None


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
    preset = _cosem_instant(raw[0:12], None)
    start = _cosem_instant(raw[12:24], None)
    end = _cosem_instant(raw[24:36], None)
    now = _device_time(ctx)
    if (start is not None and now < start) or (end is not None and now > end):
        raise CosemFailure(ActionResult.TEMPORARY_FAILURE)
    offset = 0 if preset is None else int((preset - ctx.now).total_seconds())
    ctx.tx.put_json(CLOCK_OFFSET, offset)
    ctx.tx.delete(CLOCK_PRESET)
    ctx.tx.log("event", f"clock adjusted (offset {offset} s)")
    return NullData()


def _switch(ctx: CosemContext, value: Data) -> Data:
    if not isinstance(value, LongUnsigned):
        raise CosemFailure(ActionResult.TYPE_UNMATCHED)
    states = {_SCRIPT_CLOSE: 1, _SCRIPT_OPEN: 0, _SCRIPT_ARM: 2}
    state = states.get(value.value)
    if state is None:
        raise CosemFailure(ActionResult.OBJECT_UNAVAILABLE)
    _settle(ctx.tx)
    ctx.tx.put_int(SUPPLY, state)
    ctx.tx.log("event", f"supply {('open', 'closed', 'armed')[state]}")
    return NullData()


def _control_state(ctx: CosemContext) -> Data:
    return Enum(ctx.tx.get_int(SUPPLY, 1))


def _protected_attributes(ctx: CosemContext, values: tuple[Data, ...]) -> Data:
    """get_protected_attributes (IC 30 m1): the values, encrypted for the requesting party
    (reference 4.5 / 7.6): structure{array of protection parameters, ciphered block}."""
    command = ctx.command
    header = respond.response_header(command, ctx.credentials.eui)
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


OBJECTS: Final[ObjectTable] = {
    (1, parse_obis("0-0:0.2.1.255")): CosemObject(get={2: _firmware}),
    (3, parse_obis("1-0:1.8.0.255")): CosemObject(
        get={2: _import_value, 3: lambda ctx: _scaler_unit(_UNIT_WH)}
    ),
    (3, parse_obis("1-0:2.8.0.255")): CosemObject(
        get={2: lambda ctx: DoubleLongUnsigned(0), 3: lambda ctx: _scaler_unit(_UNIT_WH)}
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
    (70, parse_obis("0-0:96.3.10.255")): CosemObject(get={3: _control_state}),
    (1, parse_obis("0-0:94.44.34.10")): CosemObject(get={2: _import_collection}),
}

#: every attribute and method the ESME use cases access (Use Case volume object lists)
ESME_MODEL: Final = build_model(device_use_cases(Device.ESME))


def _protection_table(model: Model) -> dict[tuple[int, bytes], CosemObject]:
    """A get_protected_attributes method for every Data Protection object of the model,
    reading the protected attributes through :data:`OBJECTS` (or the model's defaults)."""
    table: dict[tuple[int, bytes], CosemObject] = {}
    for obis, attributes in model.protected.items():

        def method(
            ctx: CosemContext, value: Data, attributes: tuple[ModelAttribute, ...] = attributes
        ) -> Data:
            values = []
            for attribute in attributes:
                row = attribute.row
                special = OBJECTS.get((row.class_id, row.obis))
                getter = None if special is None else special.get.get(row.index)
                values.append(getter(ctx) if getter is not None else load(ctx, attribute))
            return _protected_attributes(ctx, tuple(values))

        table[(30, obis)] = CosemObject(act={1: method})
    return table


class EsmeMachine(CommandMachine):
    """Electricity smart meter."""

    device_type = DeviceType.ESME
    HANDLERS: ClassVar = {
        code: "dlms_command"
        for uc in device_use_cases(Device.ESME)
        for code in USE_CASES[uc].message_codes
    }
    UPLINK: ClassVar = "han"
    #: the COSEM objects this device serves
    OBJECTS: ClassVar[ObjectTable] = overlay(
        overlay(generic_table(ESME_MODEL), OBJECTS), _protection_table(ESME_MODEL)
    )

    def on_boot(self, tx: Tx) -> None:
        if tx.get(SINCE) is None:
            tx.put(SINCE, _iso(tx.now))
            tx.put_int(SUPPLY, 1)
            tx.log("event", "first boot: registers initialised")
        if tx.get(FIRMWARE_VERSION) is None:
            tx.put(FIRMWARE_VERSION, DEFAULT_FIRMWARE)

    def dlms_command(self, tx: Tx, accepted: Accepted) -> bytes:
        """Serve a DLMS access-request from :attr:`OBJECTS` and secure the response."""
        command = accepted.command
        request = apdu.decode_exact(command.payload)
        if not isinstance(request, apdu.AccessRequestMessage):
            body = apdu.AccessResponseMessage(
                respond.invoke_id(command.header.originator_counter),
                b"",
                (NullData(),),
                (apdu.AccessResponseGet(DataAccessResult.OTHER_REASON),),
            )
        else:
            ctx = CosemContext(tx, command, self.credentials)
            body = serve(self.OBJECTS, ctx, request)
        header = respond.response_header(command, self.credentials.eui)
        if _dated_response(command.header.message_code):
            header = dataclasses.replace(
                header, date_time=respond.cosem_datetime(_device_time_of(tx))
            )
        message = GeneralSigningMessage(header, apdu.encode(body), None)
        # A signed command is a critical one even where the registry has no criticality
        # (use cases outside the volume: ECS08, ECS30, ECS46c, ECS47); its response is signed.
        critical = accepted.critical or bool(command.signature)
        return respond.secure_message(message, self.credentials, critical=critical)


#: Register reads whose responses carry the time of reading in the grouping header
#: (gbcs-reference.md 7.2.7: ECS17a-e, ECS18a/b, ECS19, ECS23, ECS23b).
_DATED_READS: Final = frozenset(
    {"ECS17a", "ECS17b", "ECS17c", "ECS17d", "ECS17e", "ECS18a", "ECS18b", "ECS19", "ECS23",
     "ECS23b"}
)  # fmt: skip


#: Use cases outside the volume whose successors are future-dated capable (ECS08a, ECS46d):
#: their responses carry the date-time the same way (gbcs-reference.md 7.2.7).
_DATED_LEGACY: Final = frozenset({"ECS08", "ECS46c"})


def _dated_response(message_code: int) -> bool:
    """Whether the response's grouping header carries a date-time: future-dated capable
    use cases (the execution time) and the register reads (the time of reading)."""
    use_case = by_message_code(message_code)
    if use_case is None:
        return False
    return bool(use_case.future_dated) or use_case.id in _DATED_READS | _DATED_LEGACY
