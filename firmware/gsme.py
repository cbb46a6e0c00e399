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

Commands arrive inside GET-RESPONSEs and go through the shared acceptance checks. GSME
use cases are GBZ (ZigBee) payloads; none are implemented yet, so an authenticated
command is answered with a GBZ Generic Critical Alert carrying alert code 0x8F85
("command not supported") and the command's message code and counter.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar, Final

from smemu.firmware.common import respond
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import (
    DeviceType,
    Event,
    EventKind,
    MessageEvent,
    TimerEvent,
    Tx,
)
from smemu.firmware.common.security import Accepted
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader, OtherInformation
from smemu.protocols.gbcs.types import Cra
from smemu.protocols.zigbee import gbz

WAKE_S: Final = "gsme/wake_s"
DEFAULT_WAKE_S: Final = 1800
AWAKE_WINDOW_S: Final = 10
WAKE: Final = "wake"
SLEEP: Final = "sleep"


class GsmeMachine(CommandMachine):
    """Gas smart meter."""

    device_type = DeviceType.GSME
    HANDLERS: ClassVar = {}
    UPLINK: ClassVar = "han"

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
        tx.send("han", HanFrame(TunnelCommand.GET).encode())
        tx.timer(SLEEP, tx.now + timedelta(seconds=AWAKE_WINDOW_S))
        self._next_wake(tx)
        tx.tally("wakes")

    def on_timer(self, tx: Tx, event: TimerEvent) -> None:
        if event.name == WAKE:
            self._wake(tx)
        elif event.name == SLEEP:
            tx.timer(SLEEP, None)

    def on_message(self, tx: Tx, event: MessageEvent) -> None:
        han = decode_han(event.data)
        if han.command is not TunnelCommand.GET_RESPONSE:
            tx.log("trace", f"unexpected tunnel command {han.command.name}")
            return
        if han.message:
            super().on_message(tx, event)
        if han.remaining:
            tx.send("han", HanFrame(TunnelCommand.GET).encode())
        else:
            tx.timer(SLEEP, tx.now)  # nothing left: radio off now

    def not_supported(self, tx: Tx, accepted: Accepted) -> bytes | None:
        h = accepted.command.header
        counter = respond.next_alert_counter(tx)
        body = gbz.GbzMessage(
            alert=gbz.GbzAlert(
                respond.ALERT_NOT_SUPPORTED,
                respond.seconds_since_2000(tx.now),
                h.message_code.to_bytes(2, "big") + h.originator_counter.to_bytes(8, "big"),
                0,
            )
        )
        header = GroupingHeader(
            Cra.ALERT,
            counter,
            self.eui,
            h.originator,
            None,
            OtherInformation(respond.GENERIC_CRITICAL_ALERT),
        )
        message = GeneralSigningMessage(header, gbz.encode(body), None)
        return respond.secure_message(message, self.credentials, critical=True)
