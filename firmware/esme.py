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

HAN side: the ``zse`` port is the ZigBee Smart Energy prepayment server for joined PPMIDs
(PECS01-03, Publish Prepay Snapshot after every change: :mod:`smemu.firmware.esme_han_zse`);
the ``alc`` port and the ``alc`` timer drive auxiliary controllers that are HCALCs (ECS47a,
refresh, override notices, the Auxiliary Controller Event Log: :mod:`smemu.firmware.esme_han`).
The object table itself is assembled in :mod:`smemu.firmware.esme_objects`.

Variants: the NVM entry ``esme/variant`` (device configuration) makes the meter a single- or
twin-element one (:mod:`smemu.firmware.esme_twin`); a twin-element meter serves the twin
object table (:func:`twin_objects`) and advances a second engine meter for its secondary
element beside the primary one.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import ClassVar, Final

from smemu.firmware import (
    esme_han,
    esme_han_zse,
    esme_registers,
    esme_twin,
    firmware_image,
    metering,
    prepayment,
    supply,
    tariff,
)
from smemu.firmware.common import respond
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.cosem import CosemContext, ObjectTable, serve
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.machine import DeviceType, LineEvent, MessageEvent, TimerEvent, Tx
from smemu.firmware.common.security import Accepted
from smemu.firmware.cosem_model import device_use_cases, overlay
from smemu.firmware.esme_extensions import extend
from smemu.firmware.esme_objects import (
    CLOCK_BASE,
    CLOCK_OFFSET,
    CLOCK_PRESET,
    DEFAULT_FIRMWARE,
    ESME_MODEL,
    FIRMWARE_VERSION,
    OBJECTS,
    device_time,
    import_wh,
    object_table,
    twin_objects,
)
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers import ops
from smemu.firmware.registers.ops import Event
from smemu.protocols.dlms import apdu
from smemu.protocols.dlms.apdu import DataAccessResult
from smemu.protocols.dlms.data import NullData, OctetString
from smemu.protocols.gbcs.frame import GeneralSigningMessage
from smemu.protocols.gbcs.use_cases import USE_CASES, Device, by_message_code

IMPORT_W: Final = "esme/import_w"  #: device configuration: constant import power, W
SUPPLY: Final = supply.SUPPLY  #: disconnect control state: 0 open, 1 closed, 2 armed
REGISTERS_TIMER: Final = "registers"


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
    #: the COSEM objects a single-element meter serves (twin element: :func:`twin_objects`)
    OBJECTS: ClassVar[ObjectTable] = object_table(
        ESME_MODEL, overlay(OBJECTS, esme_twin.single_element_objects(ESME_MODEL))
    )

    def objects(self, tx: Tx) -> ObjectTable:
        """The object table of this meter's variant."""
        return twin_objects() if esme_twin.is_twin(tx) else self.OBJECTS

    def on_boot(self, tx: Tx) -> None:
        if not metering.has_state(tx):
            metering.initialise(tx, prepayment.compile_active(tx))
            tx.put_int(SUPPLY, supply.Supply.CLOSED)
            tx.log("event", "first boot: registers initialised")
        if esme_twin.is_twin(tx):
            esme_twin.initialise(tx)
        if tx.get(FIRMWARE_VERSION) is None:
            tx.put(FIRMWARE_VERSION, DEFAULT_FIRMWARE)

    def booted(self, tx: Tx) -> None:
        super().booted(tx)
        tariff.rearm(tx)
        esme_han.due(tx)
        self.power(tx, True)  # power applied: ends an outage the meter recorded
        self.registers_due(tx)

    # ------------------------------------------------------------- register engine

    def load_model(self, tx: Tx) -> metering.LoadModel:
        """The consumption model: ``esme/load`` JSON, else the configured constant power."""
        model = metering.LoadModel.from_tx(tx)
        if tx.get(metering.LOAD) is None and tx.get(IMPORT_W) is not None:
            return metering.LoadModel(max(0, tx.get_int(IMPORT_W)))
        return model

    def registers_due(self, tx: Tx) -> None:
        """Advance the engine (both elements' on a twin-element meter) to now, act on its
        events, and set the next wake-up."""
        load = self.advance_registers(tx)
        tx.timer(REGISTERS_TIMER, metering.instant(esme_registers.next_wake(tx, load)))
        esme_han_zse.publish(tx)

    def advance_registers(self, tx: Tx) -> metering.LoadModel:
        """Advance the engine(s) to now and act on the events; returns the load model."""
        load = self.load_model(tx)
        closed = supply.closed(tx)
        events = metering.catch_up(tx, load, closed=closed)
        if esme_twin.is_twin(tx):
            disabled = (e.t for e in events if e.code == lay.E_SUPPLY_DISABLED)
            esme_twin.catch_up(tx, closed=closed, disabled_at=next(disabled, None))
        self.engine_events(tx, events)
        return load

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

    def after_writes(self, tx: Tx) -> None:
        """Re-compile the engine tables a request or activation changed; act on the events."""
        if esme_twin.is_twin(tx):
            esme_twin.after_writes(tx)
        self.engine_events(tx, esme_registers.after_writes(tx))

    def alert(self, tx: Tx, code: int, event: Event) -> None:
        """Send an engine alert to the supplier (critical for 0x8Fxx codes)."""
        billing = event.code == lay.E_BILLING_SNAPSHOT
        esme_han.raise_alert(self, tx, code, message_code=ECS68_BILLING_ALERT if billing else None)

    def on_timer(self, tx: Tx, event: TimerEvent) -> None:
        if event.name == REGISTERS_TIMER:
            self.registers_due(tx)
        elif event.name == tariff.TIMER:
            self.registers_due(tx)
            for key in tariff.take_due(tx):
                tariff.activate(tx, tariff.activation_copies(*key) or ())
                esme_registers.mark_dirty(tx)
            self.after_writes(tx)
            self.registers_due(tx)
        elif event.name == esme_han.ALC_TIMER:
            esme_han.due(tx)
        else:
            super().on_timer(tx, event)

    # ------------------------------------------------------------ local interaction

    def on_message(self, tx: Tx, event: MessageEvent) -> None:
        if event.port == OTA:
            firmware_image.on_image(self, tx, event.data)
            return
        if event.port == esme_han.ALC_PORT:
            esme_han.on_frame(tx, event.source, event.data, machine=self)
            return
        if event.port == esme_han_zse.ZSE_PORT:
            esme_han_zse.on_frame(
                tx, event.source, event.data,
                credentials=self.credentials, catch_up=self.registers_due,
            )  # fmt: skip
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
                # the engine refuses without credit above the disablement level: stays armed
                if metering.mutate(tx, ops.enable_supply):
                    supply.transition(tx, supply.Cause.BUTTON)
                else:
                    tx.log("event", "supply enable refused: not enough credit")
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

        Metrology stops with the power: at the loss the registers are brought up to the loss
        instant and the outage is kept as a span without consumption
        (:func:`~smemu.firmware.metering.power_lost`); the return closes the span, and the
        caller (:meth:`booted`) advances the registers from there.
        """
        now = device_time(tx)
        if not on:
            if tx.get(OUTAGE_START) is None:
                self.advance_registers(tx)
                metering.power_lost(tx, metering.epoch(tx.now))
                tx.timer(REGISTERS_TIMER, None)  # nothing is metered until power returns
                tx.put(OUTAGE_START, respond.cosem_datetime(now))
                tx.put_json(OUTAGE_START_S, int(tx.now.timestamp()))
                tx.log("event", "supply outage")
            return
        started = tx.get(OUTAGE_START)
        start_s = tx.get_json(OUTAGE_START_S, None)
        metering.power_restored(tx, metering.epoch(tx.now))
        if started is None:
            return
        tx.delete(OUTAGE_START)
        tx.delete(OUTAGE_START_S)
        lasted = int(tx.now.timestamp()) - (start_s if isinstance(start_s, int) else 0)
        tx.log("event", f"supply restored after {lasted} s")
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
            body = serve(self.objects(tx), ctx, request)
            self.after_writes(tx)
            self.registers_due(tx)
        header = respond.response_header(command, self.credentials.eui, tx)
        if _dated_response(command.header.message_code):
            header = dataclasses.replace(
                header, date_time=respond.cosem_datetime(device_time(tx))
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


__all__ = [
    "CLOCK_BASE",
    "CLOCK_OFFSET",
    "CLOCK_PRESET",
    "DEFAULT_FIRMWARE",
    "ESME_MODEL",
    "FIRMWARE_VERSION",
    "OBJECTS",
    "EsmeMachine",
    "import_wh",
    "object_table",
    "twin_objects",
]
