"""EsmeMachine: the electricity smart meter.

Layer: firmware.

Theory of operation
-------------------
The ESME is a :class:`~smemu.firmware.common.commands.CommandMachine` whose handlers all
serve DLMS access-requests from one COSEM object table (:attr:`EsmeMachine.OBJECTS`): the
generic model of every object the ESME use cases name (:mod:`smemu.firmware.cosem_model`),
overlaid with the objects that have behaviour. Metrology, tariff and prepayment live in the
register engine (:mod:`smemu.firmware.metering`): before a request is served, and at the
``registers`` timer, the engine advances from its last instant to now in one call; engine
events (low credit, emergency credit available / exhausted, credit exhausted and supply
disablement, billing snapshots, debt cleared) become alerts and supply moves
(:mod:`smemu.firmware.supply`). The timer is set to the next instant an event may happen
(:func:`~smemu.firmware.esme_registers.next_wake`). Tariff and prepayment writes compile
into the engine's table after the request (:mod:`smemu.firmware.tariff`,
:mod:`smemu.firmware.prepayment`); future activation date-times wait on the ``tariff`` timer.

Local interaction: a ``keypad`` message carries a typed UTRN (ASCII digits); the lines
``enable_button`` and ``emergency_credit_button`` are the consumer's buttons.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Final

from smemu.firmware import esme_registers, firmware_image, metering, prepayment, supply, tariff
from smemu.firmware.common import respond
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.cosem import CosemContext, CosemFailure, CosemObject, ObjectTable, serve
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.machine import DeviceType, LineEvent, MessageEvent, TimerEvent, Tx
from smemu.firmware.common.security import Accepted
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
from smemu.firmware.esme_extensions import extend
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers import ops
from smemu.firmware.registers.ops import Event
from smemu.protocols.dlms import apdu, axdr
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
from smemu.protocols.dlms.protection import ProtectionParameters
from smemu.protocols.gbcs.decrypt import encryption_key
from smemu.protocols.gbcs.frame import GeneralSigningMessage
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.gbcs.use_cases import USE_CASES, Device, by_message_code
from smemu.protocols.security import gcm

FIRMWARE_VERSION: Final = "fw/version"
IMPORT_W: Final = "esme/import_w"  #: device configuration: constant import power, W
SUPPLY: Final = supply.SUPPLY  #: disconnect control state: 0 open, 1 closed, 2 armed
REGISTERS_TIMER: Final = "registers"
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


def _export_value(ctx: CosemContext) -> Data:
    return DoubleLongUnsigned(metering.registers(ctx.tx).export_wh & 0xFFFFFFFF)


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


class EsmeMachine(CommandMachine):
    """Electricity smart meter."""

    device_type = DeviceType.ESME
    HANDLERS: ClassVar = {
        code: "dlms_command"
        for uc in device_use_cases(Device.ESME)
        for code in USE_CASES[uc].message_codes
    }
    HANDLERS, extension, extension_future, future_alert = extend(HANDLERS, CommandMachine.future_alert)  # noqa: E501 - ASN.1 use cases (esme_extensions)
    UPLINK: ClassVar = "han"
    #: the COSEM objects this device serves
    OBJECTS: ClassVar[ObjectTable] = overlay(
        overlay(
            overlay(
                esme_registers.with_activations(generic_table(ESME_MODEL)),
                overlay(esme_registers.legacy_active_setters(ESME_MODEL), OBJECTS),
            ),
            _legacy_alcs_setters(ESME_MODEL),
        ),
        _protection_table(ESME_MODEL),
    )

    def on_boot(self, tx: Tx) -> None:
        if not metering.has_state(tx):
            metering.initialise(tx, prepayment.compile_active(tx))
            tx.put_int(SUPPLY, supply.Supply.CLOSED)
            tx.log("event", "first boot: registers initialised")
        if tx.get(FIRMWARE_VERSION) is None:
            tx.put(FIRMWARE_VERSION, DEFAULT_FIRMWARE)

    def booted(self, tx: Tx) -> None:
        super().booted(tx)
        tariff.rearm(tx)
        self.registers_due(tx)
        self.power(tx, True)  # power applied: ends an outage the meter recorded

    # ------------------------------------------------------------- register engine

    def load_model(self, tx: Tx) -> metering.LoadModel:
        """The consumption model: ``esme/load`` JSON, else the configured constant power."""
        model = metering.LoadModel.from_tx(tx)
        if tx.get(metering.LOAD) is None and tx.get(IMPORT_W) is not None:
            return metering.LoadModel(max(0, tx.get_int(IMPORT_W)))
        return model

    def registers_due(self, tx: Tx) -> None:
        """Advance the engine to now, act on its events, and set the next wake-up."""
        load = self.load_model(tx)
        events = metering.catch_up(tx, load, closed=supply.closed(tx))
        self.engine_events(tx, events)
        tx.timer(REGISTERS_TIMER, metering.instant(esme_registers.next_wake(tx, load)))

    def engine_events(self, tx: Tx, events: list[Event]) -> None:
        """Turn engine events into supply moves, log entries and alerts."""
        for event in events:
            code = _EVENT_ALERTS.get(event.code)
            if event.code == lay.E_SUPPLY_DISABLED:
                supply.transition(tx, supply.Cause.CREDIT_EXHAUSTED)
            elif event.code == lay.E_DEBT_CLEARED:
                code = (0x81A7, 0x81A8)[event.value] if event.value in (0, 1) else 0x81A9
            tx.log("event", f"{event.name} at {metering.instant(event.t).isoformat()}", code or 0)
            if code is not None:
                self.alert(tx, code, event)

    def alert(self, tx: Tx, code: int, event: Event) -> None:
        """Send an engine alert to the supplier (critical for 0x8Fxx codes)."""
        supplier = esme_registers.supplier_eui(self.credentials)
        if supplier is None:
            return
        critical = code >> 8 == 0x8F
        message_code = (
            ECS68_BILLING_ALERT
            if event.code == lay.E_BILLING_SNAPSHOT
            else respond.GENERIC_CRITICAL_ALERT if critical else respond.GENERIC_NON_CRITICAL_ALERT
        )
        data = respond.dlms_alert(
            tx, self.credentials, Eui64(supplier), code, message_code=message_code,
            critical=critical,
        )  # fmt: skip
        self.send(tx, self.UPLINK, data)
        tx.tally("sent")

    def on_timer(self, tx: Tx, event: TimerEvent) -> None:
        if event.name == REGISTERS_TIMER:
            self.registers_due(tx)
        elif event.name == tariff.TIMER:
            self.registers_due(tx)
            for key in tariff.take_due(tx):
                tariff.activate(tx, tariff.activation_copies(*key) or ())
                esme_registers.mark_dirty(tx)
            self.engine_events(tx, esme_registers.after_writes(tx))
            self.registers_due(tx)
        else:
            super().on_timer(tx, event)

    # ------------------------------------------------------------ local interaction

    def on_message(self, tx: Tx, event: MessageEvent) -> None:
        if event.port == OTA:
            firmware_image.on_image(self, tx, event.data)
            return
        if event.port != KEYPAD:
            super().on_message(tx, event)
            return
        self.registers_due(tx)
        text = event.data.decode("ascii", errors="replace").strip()
        result = esme_registers.utrn_entry(tx, self.credentials, text)
        if result.outcome is prepayment.UtrnOutcome.ACCEPTED:
            tx.log("event", "credit added locally", 0x810E)
        self.registers_due(tx)

    def on_line(self, tx: Tx, event: LineEvent) -> None:
        if event.line == POWER:
            self.power(tx, event.active)
            return
        if not event.active:
            return
        self.registers_due(tx)
        if event.line == ENABLE_BUTTON:
            if supply.state(tx) is supply.Supply.ARMED:
                metering.mutate(tx, ops.enable_supply)
                supply.transition(tx, supply.Cause.BUTTON)
        elif event.line == EMERGENCY_CREDIT_BUTTON:
            if prepayment.activate_emergency_credit(tx):
                tx.log("event", "emergency credit activated", 0x81AB)
                esme_registers.credit_changed(tx)
        else:
            super().on_line(tx, event)
            return
        self.registers_due(tx)

    def power(self, tx: Tx, on: bool) -> None:
        """The mains supply to the meter went off or came back (the rig's ``power`` line:
        its loss reaches :meth:`on_line`, its return is a power-on, :meth:`booted`).

        Loss is remembered in NVM (the meter's power-fail store); on restoration after an
        outage of :data:`OUTAGE_ALERT_AFTER` or more the meter raises ECS80 (0x0067) to the
        network operator: alert 0x8F36 "Supply Outage Restored - outage >= 3 minutes" with
        the interruption and restoration date-times (gbcs-reference.md 5.4).
        """
        now = _device_time_of(tx)
        if not on:
            if tx.get(OUTAGE_START) is None:
                tx.put(OUTAGE_START, respond.cosem_datetime(now))
                tx.put_json(OUTAGE_START_S, int(tx.now.timestamp()))
                tx.log("event", "supply outage")
            return
        started = tx.get(OUTAGE_START)
        start_s = tx.get_json(OUTAGE_START_S, None)
        if started is None:
            return
        tx.delete(OUTAGE_START)
        tx.delete(OUTAGE_START_S)
        lasted = int(tx.now.timestamp()) - (start_s if isinstance(start_s, int) else 0)
        tx.log("event", f"supply restored after {lasted} s")
        self.registers_due(tx)
        operator = self.credentials.anchor(Role.NETWORK_OPERATOR)
        if lasted < OUTAGE_ALERT_AFTER.total_seconds() or operator is None:
            return
        restored = OctetString(respond.cosem_datetime(now))
        data = respond.dlms_alert(
            tx, self.credentials, operator.eui, ALERT_OUTAGE_RESTORED,
            (OctetString(started), restored), message_code=ECS80_OUTAGE_RESTORE,
        )  # fmt: skip
        self.send(tx, self.UPLINK, data)
        tx.tally("sent")

    # ------------------------------------------------------------------ commands

    def dlms_command(self, tx: Tx, accepted: Accepted) -> bytes:
        """Serve a DLMS access-request from :attr:`OBJECTS` and secure the response."""
        command = accepted.command
        self.registers_due(tx)
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
            self.engine_events(tx, esme_registers.after_writes(tx))
            self.registers_due(tx)
        header = respond.response_header(command, self.credentials.eui, tx)
        if _dated_response(command.header.message_code):
            header = dataclasses.replace(
                header, date_time=respond.cosem_datetime(_device_time_of(tx))
            )
        message = GeneralSigningMessage(header, apdu.encode(body), None)
        # A signed command is a critical one even where the registry has no criticality
        # (use cases outside the volume: ECS08, ECS30, ECS46c, ECS47); its response is signed.
        critical = accepted.critical or bool(command.signature)
        return respond.secure_message(message, self.credentials, critical=critical)


KEYPAD: Final = "keypad"  #: port of typed UTRNs
OTA: Final = "ota"  #: port of delivered firmware images (firmware distribution)
POWER: Final = "power"  #: the meter's mains supply (inactive: outage)
OUTAGE_START: Final = "esme/outage/start"  #: COSEM date-time the supply was lost
OUTAGE_START_S: Final = "esme/outage/start_s"  #: the same instant, seconds since the epoch
OUTAGE_ALERT_AFTER: Final = timedelta(minutes=3)
ALERT_OUTAGE_RESTORED: Final = 0x8F36  #: Supply Outage Restored - outage >= 3 minutes
ECS80_OUTAGE_RESTORE: Final = 0x0067  #: ECS80 Supply Outage Restore Alert from ESME
ENABLE_BUTTON: Final = "enable_button"
EMERGENCY_CREDIT_BUTTON: Final = "emergency_credit_button"
ECS68_BILLING_ALERT: Final = 0x0061  #: ECS68 ESME Critical Sensitive Alert (Billing Data Log)
#: engine event -> alert code (GBCS alert code table)
_EVENT_ALERTS: Final = {
    lay.E_LOW_CREDIT: 0x810D,
    lay.E_EC_AVAILABLE: 0x8119,
    lay.E_EC_EXHAUSTED: 0x81AA,
    lay.E_CREDIT_EXHAUSTED: 0x8F0F,
    lay.E_BILLING_SNAPSHOT: 0x8F0A,
}


#: Register reads whose responses carry the time of reading in the grouping header
#: (gbcs-reference.md 7.2.7: ECS17a-e, ECS18a/b, ECS19, ECS23, ECS23b).
_DATED_READS: Final = frozenset(
    {"ECS17a", "ECS17b", "ECS17c", "ECS17d", "ECS17e", "ECS18a", "ECS18b", "ECS19", "ECS23",
     "ECS23b"}
)  # fmt: skip


#: Use cases outside the volume whose successors are future-dated capable (ECS08a, ECS46d):
#: their responses carry the date-time the same way (gbcs-reference.md 7.2.7).
_DATED_LEGACY: Final = frozenset({"ECS08", "ECS46c"})
#: Top-ups: the response carries the time the credit was applied (gbcs-reference.md 3.2,
#: date-time present in CS01a / CS01b responses).
_DATED_TOP_UPS: Final = frozenset({"CS01a", "CS01b"})


def _dated_response(message_code: int) -> bool:
    """Whether the response's grouping header carries a date-time: future-dated capable
    use cases (the execution time) and the register reads (the time of reading)."""
    use_case = by_message_code(message_code)
    if use_case is None:
        return False
    dated = _DATED_READS | _DATED_LEGACY | _DATED_TOP_UPS
    return bool(use_case.future_dated) or use_case.id in dated
