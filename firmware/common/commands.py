"""CommandMachine: the part every GBCS device shares -- accept, dispatch, answer, alert.

Layer: firmware. Architecture steps 3-6.

Theory of operation
-------------------
A message event is unwrapped (HAN devices receive a tunnel PUT, the comms hub raw WAN
bytes) and decoded with :func:`smemu.protocols.gbcs.frame.locate`; a decode failure
raises out of :meth:`Machine.step`, so malformed input changes nothing. A decoded command
goes through :func:`~smemu.firmware.common.security.check_command` (recipient, counter per
remote party and role, role, MAC, signature -- in that order). A rejection is written to the
security log with its alert code and, where
:data:`~smemu.firmware.common.security.OUTCOMES` says so, answered with a Generic Critical
Alert; no other NVM key changes (only the alert counter, when an alert is sent). An
accepted command first records its counter (same step, same NVM transaction), then is
dispatched through the subclass's :attr:`CommandMachine.HANDLERS` table (message code ->
method name). A code missing from the table is answered with the ECS100 "Command not
supported by Device" alert rather than silence.

Future-dated instructions (:mod:`~smemu.firmware.common.future`): a handler calls
:meth:`CommandMachine.schedule_future` / :meth:`CommandMachine.cancel_future`; the machine
keeps the ``future`` timer, runs due items through their action method and sends the
0x8F66 / 0x8F67 outcome alerts, with no help from the subclass.

HAN parties: a device that takes HAN-only commands (the GSME: PCS01 / PCS02 from its PPMID)
names the devices of its log that may send them (:meth:`CommandMachine.han_parties`, read
from NVM); their key agreement keys join the key store the credentials are built with, so the
MAC of their commands and of the answers to them use the same keys as everything else. The
credentials are rebuilt when NVM under :attr:`CommandMachine.HAN_PARTY_PREFIXES` changes.

Subclasses declare ``HANDLERS`` and ``UPLINK`` (the port unsolicited alerts leave by).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar, Final

from smemu.errors import DecodeError, SmemuError
from smemu.firmware.common import future, respond
from smemu.firmware.common.credentials import Credentials, Role, load_credentials
from smemu.firmware.common.future import FutureItem
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import Machine, MessageEvent, TimerEvent, Tx
from smemu.firmware.common.security import (
    Accepted,
    AlertTo,
    HanParty,
    Rejected,
    Rejection,
    check_command,
)
from smemu.protocols.dlms.data import OctetString
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.frame import Located
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.keys import public_key_from_point
from smemu.protocols.security.keystore import KeyKind

#: Security-log code of a rejection that has no specific alert code.
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
    #: NVM prefixes :meth:`han_parties` reads (a change there rebuilds the credentials)
    HAN_PARTY_PREFIXES: ClassVar[tuple[str, ...]] = ()

    def __init__(self, eui: Eui64, nvm: Mapping[str, bytes]) -> None:
        super().__init__(eui, nvm)
        self._credentials: Credentials | None = None
        self._han_parties: Mapping[Eui64, HanParty] = {}

    @property
    def credentials(self) -> Credentials:
        """Keys, trust anchors and HAN parties' keys, built from NVM on first use and after
        they change."""
        if self._credentials is None:
            credentials = load_credentials(self.eui, self.nvm)
            parties = self.han_parties(self.nvm)
            for party in parties.values():
                try:
                    key = public_key_from_point(party.ka_point)
                except (ValueError, SmemuError):
                    continue  # a corrupt entry authenticates nothing
                credentials.keystore.add_public_key(bytes(party.eui), KeyKind.KA, key)
            self._han_parties = parties
            self._credentials = credentials
        return self._credentials

    def han_parties(self, nvm: Mapping[str, bytes]) -> Mapping[Eui64, HanParty]:
        """The devices that may send this one HAN-only commands (default: none)."""
        return {}

    def committed(self, writes: Mapping[str, bytes | None]) -> None:
        prefixes = ("cred/", "anchor/", *self.HAN_PARTY_PREFIXES)
        if any(k.startswith(prefixes) for k in writes):
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
        tx.tally("received")
        try:
            located = frame.locate(data)
        except DecodeError as exc:
            # Not a GBCS message at all: nothing to authenticate or answer, but the
            # integrity failure goes to the security log like any other refused command.
            tx.log("trace", f"undecodable message: {exc}")
            self.reject(tx, event.port, Rejected(Rejection.MALFORMED, None))
            return
        self.on_located(tx, event, located)

    def on_tunnel(self, tx: Tx, event: MessageEvent) -> None:
        """A tunnel frame without a message (a GET, an empty GET-RESPONSE)."""
        tx.log("trace", f"tunnel frame {event.data[:1].hex()} ignored")

    def on_located(self, tx: Tx, event: MessageEvent, located: Located) -> None:
        self.execute(tx, event.port, located)

    def execute(self, tx: Tx, reply_port: str, located: Located) -> None:
        """Check and run one command addressed to this machine; answer on ``reply_port``."""
        credentials = self.credentials
        result = check_command(
            located,
            self.eui,
            credentials,
            recipients=self.recipients,
            counters=tx.get_int,
            han_parties=self._han_parties,
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

    @property
    def recipients(self) -> frozenset[Eui64]:
        """EUIs whose commands this machine executes (a GPF would add its GSME's)."""
        return frozenset({self.eui})

    def reject(self, tx: Tx, reply_port: str, rejected: Rejected) -> None:
        """Discard a command: security log, and the alert :data:`OUTCOMES` names, only."""
        command = rejected.command
        outcome = rejected.outcome
        what = "message"
        if command is not None:
            h = command.header
            what = f"0x{h.message_code:04X} from {h.originator} counter {h.originator_counter}"
        tx.log("security", f"rejected {what}: {rejected.reason.value}", outcome.log_code)
        tx.tally("rejected")
        recipient: Eui64 | None = None
        if outcome.alert_to is AlertTo.ORIGINATOR and command is not None:
            recipient = command.header.originator
        elif outcome.alert_to is AlertTo.SUPPLIER:
            supplier = self.credentials.anchor(Role.SUPPLIER)
            recipient = None if supplier is None else supplier.eui
        if recipient is None:
            return
        alert = respond.dlms_alert(tx, self.credentials, recipient, outcome.log_code)
        self.send(tx, reply_port, alert)
        tx.tally("sent")

    # ---------------------------------------------------------------- future-dated

    def schedule_future(self, tx: Tx, item: FutureItem) -> FutureItem | None:
        """Store a future-dated instruction; returns the one it replaced, if any."""
        tx.log("event", f"future-dated {item.identity} stored for {item.at.isoformat()}")
        return future.schedule(tx, item)

    def cancel_future(self, tx: Tx, identity: str) -> FutureItem | None:
        """Cancel the pending instruction ``identity``; returns it (``None``: none pending)."""
        cancelled = future.cancel(tx, identity)
        if cancelled is not None:
            tx.log("event", f"future-dated {identity} cancelled")
        return cancelled

    def pending_future(self, tx: Tx) -> list[FutureItem]:
        return future.pending(tx)

    def booted(self, tx: Tx) -> None:
        # Pending instructions are NVM; their timer is not: re-arm it at every start.
        future.rearm(tx)

    def base_timer(self, tx: Tx, event: TimerEvent) -> bool:
        if event.name != future.TIMER:
            return False
        self.run_due_future(tx)
        return True

    def run_due_future(self, tx: Tx) -> None:
        """Execute every due instruction alone, then send its 0x8F66 / 0x8F67 alert."""
        for item in future.take_due(tx):
            mark = tx.savepoint()
            try:
                action: Callable[[Tx, FutureItem], bool] = getattr(self, item.action)
                ok = bool(action(tx, item))
            except (SmemuError, ValueError, AttributeError) as exc:
                ok = False
                reason = str(exc)
            else:
                reason = "refused by the device"
            if not ok:
                # Undo a partial execution (the queue removal came before the mark).
                tx.rollback(mark)
                tx.log("trace", f"future-dated {item.identity} failed: {reason}")
            code = future.ALERT_EXECUTED if ok else future.ALERT_NOT_EXECUTED
            tx.log("event", f"future-dated {item.identity} {'executed' if ok else 'failed'}", code)
            self.future_alert(tx, item, code)
        future.rearm(tx)

    def future_alert(self, tx: Tx, item: FutureItem, alert_code: int) -> None:
        """Send the outcome alert of ``item`` (DLMS form; a GBZ device overrides this)."""
        alert = respond.dlms_alert(
            tx,
            self.credentials,
            item.originator,
            alert_code,
            (OctetString(item.reference),),
            message_code=item.alert_message_code,
        )
        self.send(tx, self.UPLINK, alert)
        tx.tally("sent")
