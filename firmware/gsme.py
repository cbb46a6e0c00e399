"""GsmeMachine: the battery-powered gas smart meter (minimal until issue 7).

Layer: firmware.

Theory of operation
-------------------
The GSME keeps its radio off. Its lifecycle uses the ``ASLEEP`` state of
:data:`~smemu.firmware.common.machine.TRANSITIONS`: the ``wake`` timer (every
``gsme/wake_s`` seconds, default :data:`DEFAULT_WAKE_S`) is a WAKE event; on waking it
sends a tunnel GET to the comms hub and keeps polling while GET-RESPONSEs say more
messages are queued; a GET-RESPONSE with nothing left, or the ``sleep`` timer (a guard
:data:`AWAKE_WINDOW_S` after waking), is a SLEEP event. A message arriving while asleep is
illegal in the table: the device layer drops and counts it (the radio was off).

Commands arrive inside GET-RESPONSEs (or a tunnel PUT while awake) and go through the
shared acceptance checks. GSME use cases are GBZ (ZigBee) payloads, served by
:func:`smemu.firmware.gas_zcl.serve` with the handlers of
:mod:`smemu.firmware.gas_handlers`; the response echoes each component's sequence number
and is signed when the command was critical. A message code outside the gas use cases is
answered with a GBZ Generic Critical Alert carrying alert code 0x8F85 ("command not
supported") and the command's message code and counter. Future-dated outcome alerts
(0x8F66 / 0x8F67) go out in GBZ form (message code 0x00CD).

Firmware (CS05b, CS06; :mod:`smemu.firmware.gsme_firmware`): at every wake the GSME also
asks the hub for an image on its ``ota`` port, and stays awake while that exchange is open
(a download in progress), even after the GPF's queue is empty; the download resumes at the
next wake. CS06 (ASN.1) activates the verified image as on the ESME
(:func:`smemu.firmware.firmware_image.cs06_activate`), and GCS38 then reports its version.
The radio sleeps when the poll is done (NVM :data:`POLLING` cleared) and no OTA exchange
is open, or when the guard timer ends the wake.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import ClassVar, Final

from smemu.firmware import (
    firmware_image,
    gas_billing_alert,
    gas_events,
    gas_future,
    gas_metering,
    gas_mirror,
    gas_tariff,
    gas_valve,
    gsme_firmware,
    joins,
)
from smemu.firmware.common import respond
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.future import FutureItem
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import (
    DeviceType,
    Event,
    EventKind,
    LineEvent,
    MessageEvent,
    TimerEvent,
    Tx,
)
from smemu.firmware.common.security import Accepted, HanParty, Rejected
from smemu.firmware.esme_extensions import extend
from smemu.firmware.gas_events import HANDLERS as EVENT_HANDLERS
from smemu.firmware.gas_events import record
from smemu.firmware.gas_handlers import HANDLERS as ZCL_HANDLERS
from smemu.firmware.gas_handlers import PREPAYMENT, STORE
from smemu.firmware.gas_joins import GSME_HANDLERS, dispatch, han_parties
from smemu.firmware.gas_prepayment import consumer_top_up_handler, utrn_keys
from smemu.firmware.gas_service import answer, gbz_codes
from smemu.firmware.gas_zcl import CommandHandler
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.gbcs.use_case_types import Device
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.events import LogId

WAKE_S: Final = "gsme/wake_s"
DEFAULT_WAKE_S: Final = 1800
AWAKE_WINDOW_S: Final = 10
#: CS10b Read ZigBee Device Security Log (a GBZ use case of any ZigBee device)
CS10B: Final = 0x00A1
WAKE: Final = "wake"
#: input line of the consumer's button on the meter (opens an armed valve)
VALVE_BUTTON: Final = "enable_button"
SLEEP: Final = "sleep"
#: NVM: 1 while the wake's tunnel poll of the GPF's queue is not finished
POLLING: Final = "radio/polling"
#: NVM counter of the mirror refresh messages sent
MIRROR_SEQ: Final = "mirror/seq"


#: the ZCL command handlers of the GSME: the shared gas ones over the event-log read
ZCL_SERVER: Final = {**EVENT_HANDLERS, **ZCL_HANDLERS}


def gbz_future_alert(machine: CommandMachine, tx: Tx, item: FutureItem, alert_code: int) -> None:
    """The 0x8F66 / 0x8F67 outcome alert in GBZ form (message code 0x00CD)."""
    alert = gbz.GbzAlert(
        alert_code,
        respond.seconds_since_2000(tx.now),
        bytes((len(item.reference),)) + item.reference,
        1,
    )
    secured = respond.gbz_alert(
        tx,
        machine.credentials,
        item.originator,
        alert,
        message_code=item.alert_message_code,
        critical=True,
    )
    machine.send(tx, machine.UPLINK, secured)
    tx.tally("sent")


class GsmeMachine(CommandMachine):
    """Gas smart meter."""

    device_type = DeviceType.GSME
    HANDLERS: ClassVar[Mapping[int, str]] = {
        **gbz_codes(Device.GSME, "gbz_command"),
        CS10B: "gbz_command",
        **dict.fromkeys(GSME_HANDLERS, "asn1_command"),
        firmware_image.CS06: "cs06_command",
    }
    UPLINK: ClassVar = "han"
    HAN_PARTY_PREFIXES: ClassVar = (joins.PREFIX,)

    def classify(self, event: Event) -> EventKind:
        if isinstance(event, TimerEvent):
            if event.name == WAKE:
                return EventKind.WAKE
            if event.name == SLEEP:
                return EventKind.SLEEP
        return super().classify(event)

    def _next_wake(self, tx: Tx) -> None:
        period = tx.get_int(WAKE_S, DEFAULT_WAKE_S)
        tx.timer(WAKE, tx.now + timedelta(seconds=period))

    def on_boot(self, tx: Tx) -> None:
        if tx.get(WAKE_S) is None:
            tx.put_int(WAKE_S, DEFAULT_WAKE_S)
        # Poll once at power-up, then on the schedule.
        self._wake(tx)

    def _wake(self, tx: Tx) -> None:
        # instructions whose instant passed while asleep (the queue's timer fires them too)
        self.run_due_future(tx)
        gas_tariff.activate_due(tx)  # next values stored without a queue item (older NVM)
        self.refresh_mirror(tx)
        tx.send("han", HanFrame(TunnelCommand.GET).encode())
        tx.put_int(POLLING, 1)
        gsme_firmware.wake(self, tx)
        self._stay_awake(tx)
        self._next_wake(tx)
        tx.tally("wakes")

    def on_timer(self, tx: Tx, event: TimerEvent) -> None:
        if event.name == WAKE:
            self._wake(tx)
        elif event.name == SLEEP:
            tx.timer(SLEEP, None)
            tx.delete(POLLING)
            gsme_firmware.asleep(tx)

    def _stay_awake(self, tx: Tx) -> None:
        tx.timer(SLEEP, tx.now + timedelta(seconds=AWAKE_WINDOW_S))

    def _sleep_if_done(self, tx: Tx) -> None:
        if tx.get_int(POLLING) == 1 or gsme_firmware.is_open(tx):
            self._stay_awake(tx)
        else:
            tx.timer(SLEEP, tx.now)  # nothing left: radio off now

    def on_message(self, tx: Tx, event: MessageEvent) -> None:
        if event.port == gsme_firmware.OTA_PORT:
            gsme_firmware.on_frame(self, tx, event.data)
            self._sleep_if_done(tx)
            return
        han = decode_han(event.data)
        if han.command is TunnelCommand.PUT:
            # Awake and addressed directly (a HAN peer or a test harness): execute now.
            super().on_message(tx, event)
            return
        if han.command is not TunnelCommand.GET_RESPONSE:
            tx.log("trace", f"unexpected tunnel command {han.command.name}")
            return
        if han.message:
            super().on_message(tx, event)
        if han.remaining:
            tx.send("han", HanFrame(TunnelCommand.GET).encode())
        else:
            self.refresh_mirror(tx)  # what the commands just run changed
            tx.delete(POLLING)
            self._sleep_if_done(tx)

    def refresh_mirror(self, tx: Tx) -> None:
        """Send the GPF what changed in the GSME's data since the last refresh, and push a
        billing snapshot taken meanwhile (GCS53)."""
        for payload in gas_mirror.chunks(gas_mirror.changes(tx)):
            seq = tx.get_int(MIRROR_SEQ) + 1
            tx.put_int(MIRROR_SEQ, seq)
            self.send(tx, "han", gas_mirror.message(self.eui, seq, payload))
            tx.tally("mirror_refreshes")
        self.push_billing_snapshot(tx)
        self.send_valve_alerts(tx)

    def send_valve_alerts(self, tx: Tx) -> None:
        """Record and send the credit / valve alerts the registers raised
        (:mod:`smemu.firmware.gas_valve`) now that the radio is on, each logged and
        alerted as its GCS20 event configuration says (:func:`gas_events.raise_event`)."""
        for code, at in gas_valve.take_alerts(tx):
            if not gas_events.raise_event(tx, code):  # as GCS20 configured it
                continue
            data = gas_valve.alert_message(tx, self.credentials, code, at)
            if data is not None:
                self.send(tx, self.UPLINK, data)
                tx.tally("sent")

    def on_line(self, tx: Tx, event: LineEvent) -> None:
        """The consumer's valve button (:data:`VALVE_BUTTON`) opens an armed valve."""
        if event.line != VALVE_BUTTON or not event.active:
            super().on_line(tx, event)
            return
        gas_metering.catch_up(tx)
        opened = gas_valve.local_open(tx, gas_metering.enable_supply)
        tx.log("event", f"valve button: valve {gas_valve.state(tx).name.lower()}")
        tx.tally("valve_opened" if opened else "valve_button")

    def push_billing_snapshot(self, tx: Tx) -> None:
        """GCS53: the end-of-billing-period snapshot the registers reached, as an alert."""
        snap = gas_billing_alert.due(tx)
        if snap is None:
            return
        data = gas_billing_alert.alert(tx, self.credentials, snap)
        if data is None:
            tx.log("trace", "GCS53 not sent: no supplier key")
            return
        tx.log("event", f"billing snapshot {snap.snapshot_id} pushed",
               gas_billing_alert.ALERT_BILLING_SNAPSHOT)
        self.send(tx, self.UPLINK, data)
        tx.tally("sent")

    def han_parties(self, nvm: Mapping[str, bytes]) -> Mapping[Eui64, HanParty]:
        """PCS01 / PCS02 come from the PPMID the device log holds (gas_joins)."""
        return han_parties(nvm)

    def reject(self, tx: Tx, reply_port: str, rejected: Rejected) -> None:
        """Discard a command as every device does, and keep it in the security log."""
        super().reject(tx, reply_port, rejected)
        record(tx, LogId.SECURITY_EVENT_LOG, rejected.outcome.log_code)

    @property
    def zcl_server(self) -> Mapping[tuple[int, int], CommandHandler]:
        """:data:`ZCL_SERVER` with this meter's keys: top-ups (CS01b, PCS01) authenticate
        the UTRN with the supplier's prepayment key and the meter's own."""
        top_up = consumer_top_up_handler(lambda tx: utrn_keys(tx, self.credentials))
        return {**ZCL_SERVER, (PREPAYMENT, 0x04): top_up}

    def gbz_command(self, tx: Tx, accepted: Accepted) -> bytes:
        """Serve a GBZ command payload and secure the GBZ response; what it future-dates
        goes on the common queue (:mod:`smemu.firmware.gas_future`)."""
        context = gas_future.CommandContext.of(accepted)
        handlers = gas_future.tracked(self.zcl_server, context, self)
        return answer(tx, accepted, self.credentials, STORE, handlers)

    def gas_future(self, tx: Tx, item: FutureItem) -> bool:
        """Execute a future-dated gas instruction at its instant (the queue's action)."""
        return gas_future.execute(tx, item)

    def cs06_command(self, tx: Tx, accepted: Accepted) -> bytes | None:
        """CS06 Activate Firmware (ASN.1): the image the download left pending."""
        return firmware_image.cs06_activate(self, tx, accepted)

    def asn1_command(self, tx: Tx, accepted: Accepted) -> bytes | None:
        """Joins, unjoins, the device log, the clock and credentials (ASN.1 payloads)."""
        return dispatch(GSME_HANDLERS, self, tx, accepted)

    # CS02b future-dated replacements run and alert in ASN.1 form; the rest in GBZ form.
    _, _, extension_future, future_alert = extend({}, gbz_future_alert)

    def not_supported(self, tx: Tx, accepted: Accepted) -> bytes | None:
        h = accepted.command.header
        alert = gbz.GbzAlert(
            respond.ALERT_NOT_SUPPORTED,
            respond.seconds_since_2000(tx.now),
            h.message_code.to_bytes(2, "big") + h.originator_counter.to_bytes(8, "big"),
            0,
        )
        return respond.gbz_alert(
            tx,
            self.credentials,
            h.originator,
            alert,
            message_code=respond.GENERIC_CRITICAL_ALERT,
            critical=True,
        )
