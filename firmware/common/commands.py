"""CommandMachine: the part every GBCS device shares -- accept, dispatch, answer, alert.

Layer: firmware. Architecture steps 3-6.

Theory of operation
-------------------
A message event is unwrapped (HAN devices receive a tunnel PUT, the comms hub raw WAN
bytes) and decoded with :func:`smemu.protocols.gbcs.frame.locate`; a decode failure
raises out of :meth:`Machine.step`, so malformed input changes nothing. A decoded command
goes through :func:`~smemu.firmware.common.security.check_command`. A rejection is written
to the security log (and, for an unauthorised role, answered with alert 0x8F30); nothing
else changes. An accepted command first records its counter (same step, same NVM
transaction), then is dispatched through the subclass's :attr:`CommandMachine.HANDLERS`
table (message code -> method name). A code missing from the table is answered with the
ECS100 "Command not supported by Device" alert rather than silence.

Subclasses declare ``HANDLERS`` and ``UPLINK`` (the port unsolicited alerts leave by).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar, Final

from smemu.firmware.common import respond
from smemu.firmware.common.credentials import Credentials, load_credentials
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import Machine, MessageEvent, Tx
from smemu.firmware.common.security import (
    REJECTION_ALERTS,
    Accepted,
    Rejected,
    check_command,
    counter_key,
)
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.frame import Located
from smemu.protocols.gbcs.types import Eui64

#: Security-log event code for a rejected command (GBCS has per-cause codes; 0 until the
#: event-code table lands with issue 6).
_SECURITY_EVENT: Final = 0
#: Handler signature: (machine, step view, accepted command) -> response bytes or None.
Handler = Callable[["CommandMachine", Tx, Accepted], bytes | None]


class CommandMachine(Machine):
    """A machine that executes authenticated GBCS commands from remote parties."""

    #: message code -> name of the method handling it
    HANDLERS: ClassVar[Mapping[int, str]] = {}
    #: the port unsolicited messages (alerts) leave by
    UPLINK: ClassVar[str] = "han"
    #: ports whose frames are tunnel payloads (:mod:`~smemu.firmware.common.han`)
    TUNNEL_PORTS: ClassVar[frozenset[str]] = frozenset({"han"})

    def __init__(self, eui: Eui64, nvm: Mapping[str, bytes]) -> None:
        super().__init__(eui, nvm)
        self._credentials: Credentials | None = None

    @property
    def credentials(self) -> Credentials:
        """Keys and trust anchors, built from NVM on first use and after they change."""
        if self._credentials is None:
            self._credentials = load_credentials(self.eui, self.nvm)
        return self._credentials

    def committed(self, writes: Mapping[str, bytes | None]) -> None:
        if any(k.startswith(("cred/", "anchor/")) for k in writes):
            self._credentials = None

    # ------------------------------------------------------------------ transport

    def unwrap(self, event: MessageEvent) -> bytes | None:
        """The GBCS bytes inside an event (``None``: a tunnel frame that carries none)."""
        if event.port not in self.TUNNEL_PORTS:
            return event.data
        han = decode_han(event.data)
        if han.command is TunnelCommand.PUT:
            return han.message
        if han.command is TunnelCommand.GET_RESPONSE:
            return han.message or None
        return None

    def send(self, tx: Tx, port: str, data: bytes) -> None:
        """Send GBCS bytes on ``port`` (wrapped in a tunnel PUT on the HAN)."""
        if port in self.TUNNEL_PORTS:
            data = HanFrame(TunnelCommand.PUT, data).encode()
        tx.send(port, data)

    # ------------------------------------------------------------------- commands

    def on_message(self, tx: Tx, event: MessageEvent) -> None:
        data = self.unwrap(event)
        if data is None:
            self.on_tunnel(tx, event)
            return
        located = frame.locate(data)
        tx.tally("received")
        self.on_located(tx, event, located)

    def on_tunnel(self, tx: Tx, event: MessageEvent) -> None:
        """A tunnel frame without a message (a GET, an empty GET-RESPONSE)."""
        tx.log("trace", f"tunnel frame {event.data[:1].hex()} ignored")

    def on_located(self, tx: Tx, event: MessageEvent, located: Located) -> None:
        self.execute(tx, event.port, located)

    def execute(self, tx: Tx, reply_port: str, located: Located) -> None:
        """Check and run one command addressed to this machine; answer on ``reply_port``."""
        result = check_command(
            located,
            self.eui,
            self.credentials,
            lambda eui: tx.get_int(counter_key(eui)),
        )
        if isinstance(result, Rejected):
            self.reject(tx, reply_port, result)
            return
        counter = result.counter_write
        if counter is not None:
            tx.put_int(*counter)
        tx.tally("accepted")
        code = result.command.header.message_code
        name = self.HANDLERS.get(code)
        if name is None:
            tx.log("event", f"command 0x{code:04X} not supported", respond.ALERT_NOT_SUPPORTED)
            answer: bytes | None = self.not_supported(tx, result)
        else:
            handler: Callable[[Tx, Accepted], bytes | None] = getattr(self, name)
            answer = handler(tx, result)
        if answer is not None:
            self.send(tx, reply_port, answer)
            tx.tally("sent")

    def not_supported(self, tx: Tx, accepted: Accepted) -> bytes | None:
        """The answer to an authenticated command this device does not implement."""
        return respond.not_supported_alert(tx, self.credentials, accepted.command)

    def reject(self, tx: Tx, reply_port: str, rejected: Rejected) -> None:
        command = rejected.command
        what = "message"
        if command is not None:
            h = command.header
            what = f"0x{h.message_code:04X} from {h.originator} counter {h.originator_counter}"
        tx.log("security", f"rejected {what}: {rejected.reason.value}", _SECURITY_EVENT)
        tx.tally("rejected")
        alert_code = REJECTION_ALERTS.get(rejected.reason)
        if alert_code is not None and command is not None:
            alert = respond.dlms_alert(
                tx, self.credentials, command.header.originator, alert_code
            )
            self.send(tx, reply_port, alert)
            tx.tally("sent")
