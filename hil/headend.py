"""The head-end: plays a remote party, builds and secures commands, checks what comes back.

Layer: hil. Theory of operation: :class:`HeadEnd` is sans-IO. :meth:`HeadEnd.build` turns a
use case and typed parameters into a secured command (GBCS 4.3: signed with the remote
party's DS key when the use case is critical, MAC'd with the key derived between the
access-control broker and the device, a fresh originator counter strictly increasing per
(party, device)) and remembers it as pending. :meth:`HeadEnd.accept` takes received bytes,
correlates each response with its command (counter, message code, swapped parties;
gbcs-reference.md 14.11), verifies its signature / MAC with the device's keys and collects
alerts. :class:`HeadEndClient` adds the I/O: it writes commands to a hal port and feeds what
it reads back to the core.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Final, Self

from cryptography import x509
from cryptography.x509.oid import NameOID

from smemu.errors import ConfigError, DecodeError, HalError, HalTimeout, SecurityError
from smemu.firmware.common.credentials import Role
from smemu.hal.ports import Port, open_port
from smemu.hil.commands import BuildContext, build_payload, builder_for, message_code_of
from smemu.protocols.framing.wan import WanFramer
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.frame import (
    GbcsMessage,
    GeneralSigningMessage,
    GroupingHeader,
    Located,
    OtherInformation,
)
from smemu.protocols.gbcs.secure import Verdict
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.security.keystore import KeyStore

_log = logging.getLogger(__name__)
_NAMED: Final = frozenset(int(r) for r in Role)

_MAX_COUNTER: Final = (1 << 64) - 1
#: Top-up counters keep their low 32 bits zero (the UTRN carries bits 41..32; GBCS 14.3).
_UTRN_STEP: Final = 1 << 32


def role_name(role: int) -> str:
    """The slug of a RemotePartyRole number (``supplier``...; ``role 8`` if unnamed)."""
    try:
        return Role(role).slug
    except ValueError:
        return f"role {role}"


def role_from_certificate(pem: bytes) -> int | None:
    """The RemotePartyRole of an organisation certificate: its subject OU, two hex digits.

    A number, not always a :class:`Role`: test PKIs use roles GBCS leaves unnamed (the DCC
    test load controller is 08).

    :returns: ``None`` for a device certificate, a bare key, or an OU that is no number.
    """
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        return None
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError:
        return None
    for attribute in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME):
        value = attribute.value
        text = value if isinstance(value, str) else value.decode("ascii", "replace")
        try:
            return Role(int(text, 16)) if int(text, 16) in _NAMED else int(text, 16)
        except ValueError:
            continue
    return None


def roles_from_keystore(folder: str | os.PathLike[str]) -> dict[Eui64, int]:
    """Read ``<eui>-ds.pem`` / ``<eui>-ka.pem`` certificates in a keystore/ folder: EUI -> role."""
    roles: dict[Eui64, int] = {}
    for path in sorted(Path(folder).glob("*-*.pem")):
        stem = path.name.split("-", 1)[0]
        try:
            eui = Eui64.parse(stem)
        except DecodeError:
            continue
        role = role_from_certificate(path.read_bytes())
        if role is not None:
            roles.setdefault(eui, role)
    return roles


class CounterStore:
    """Originator counters per (party, device): strictly increasing, optionally persisted.

    A counter never goes below ``floor`` (pass, say, milliseconds since the epoch, so that a
    lost file still yields counters above those a device has seen). With ``path`` every
    allocation is written to a small JSON file before it is handed out.
    """

    def __init__(self, path: Path | None = None, *, floor: int = 1) -> None:
        self.path = path
        self.floor = floor
        self._last: dict[tuple[Eui64, Eui64], int] = {}
        if path is not None and path.is_file():
            self._load(path)

    def _load(self, path: Path) -> None:
        try:
            raw = json.loads(path.read_text())
            for key, value in raw.items():
                party, _, device = key.partition("/")
                self._last[(Eui64.parse(party), Eui64.parse(device))] = int(value)
        except (OSError, ValueError, AttributeError) as exc:
            raise ConfigError(f"counter file {path}: expected a JSON object ({exc})") from exc

    def last(self, party: Eui64, device: Eui64) -> int | None:
        """The last counter handed out for (party, device), if any."""
        return self._last.get((party, device))

    def next(self, party: Eui64, device: Eui64, *, utrn: bool = False) -> int:
        """Allocate the next counter; with ``utrn`` one whose low 32 bits are zero."""
        previous = self._last.get((party, device), 0)
        value = max(previous + 1, self.floor)
        if utrn:
            value = -(-value // _UTRN_STEP) * _UTRN_STEP
        if value > _MAX_COUNTER:
            raise ConfigError(f"originator counter of {party} for {device} is exhausted")
        self._last[(party, device)] = value
        self._save()
        return value

    def _save(self) -> None:
        if self.path is None:
            return
        data = {f"{p.compact}/{d.compact}": v for (p, d), v in sorted(self._last.items())}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(self.path)


@dataclass(frozen=True, slots=True)
class OutgoingCommand:
    """A secured command ready to send, and what its response must match."""

    use_case: str
    message_code: int
    originator: Eui64  #: the remote party (grouping header originator)
    device: Eui64  #: the recipient
    counter: int
    critical: bool  #: signed by the originator's DS key
    message: GbcsMessage
    data: bytes  #: the encoded message


class Outcome(enum.StrEnum):
    """What a received message turned out to be."""

    RESPONSE = "response"  #: answers a pending command and verifies
    UNVERIFIED = "unverified response"  #: answers a command, but a check failed or had no key
    ALERT = "alert"
    UNMATCHED = "unmatched"  #: a response to no pending command
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class Received:
    """One message that came back, correlated and checked."""

    outcome: Outcome
    data: bytes
    message: GbcsMessage | None
    command: OutgoingCommand | None = None
    signature: str = Verdict.ABSENT
    mac: str = Verdict.ABSENT
    problems: tuple[str, ...] = ()

    @property
    def verified(self) -> bool:
        """A response to one of our commands whose every present check is valid."""
        return self.outcome is Outcome.RESPONSE


def _verify(located: Located, store: KeyStore) -> tuple[str, str, list[str]]:
    problems: list[str] = []
    try:
        signature = secure.verify_signature(located, store)
        mac = secure.verify_mac(located, store)
    except SecurityError as exc:
        return Verdict.NO_KEY, Verdict.NO_KEY, [f"security check failed: {exc}"]
    for name, verdict in (("signature", signature), ("MAC", mac)):
        if verdict in (Verdict.INVALID, Verdict.NO_KEY):
            problems.append(f"{name} {verdict}")
    if signature == Verdict.ABSENT and mac == Verdict.ABSENT:
        problems.append("neither signed nor MAC'd")
    return signature, mac, problems


@dataclass(slots=True)
class HeadEnd:
    """Sans-IO head-end: builds secured commands and accepts what devices send back.

    :param keystore: private keys of the parties played (DS, KA) and of the ACB (KA), public
        keys of the devices (DS, KA).
    :param parties: the EUI-64 of each role played; the access-control broker entry names
        the ACB whose KA key MACs every command.
    :param counters: originator counters (a fresh in-memory store by default).
    """

    keystore: KeyStore
    parties: Mapping[int, Eui64]
    counters: CounterStore = field(default_factory=CounterStore)
    pending: dict[tuple[int, int, Eui64], OutgoingCommand] = field(default_factory=dict)
    alerts: list[Received] = field(default_factory=list)

    def party(self, role: int) -> Eui64:
        """The EUI-64 the head-end uses for ``role``.

        :raises ConfigError: the head-end plays no such role.
        """
        eui = self.parties.get(role)
        if eui is None:
            played = ", ".join(role_name(r) for r in self.parties) or "none"
            raise ConfigError(f"the head-end has no {role_name(role)} party (it plays {played})")
        return eui

    @property
    def acb(self) -> Eui64:
        """The access-control broker whose key MACs commands."""
        return self.party(Role.ACCESS_CONTROL_BROKER)

    def build(
        self,
        use_case: str,
        device: Eui64,
        params: Mapping[str, object] | None = None,
        *,
        role: int = Role.SUPPLIER,
    ) -> OutgoingCommand:
        """Build, secure and register a command for ``use_case`` to ``device``.

        ``params`` are ``name=value`` strings as typed on a command line, or typed values
        (a :class:`~smemu.hil.commands_tariff.TariffSettings`, ints, date-time octets).

        :raises ConfigError: unknown use case, bad parameters, a role not played.
        :raises UseCaseNotImplemented: the use case has no builder yet.
        :raises SecurityError: the keystore lacks a key the command needs.
        """
        builder = builder_for(use_case)
        code = message_code_of(use_case)
        originator = self.party(role)
        counter = self.counters.next(originator, device, utrn=builder.utrn)
        ctx = BuildContext(counter, originator, device, self.keystore)
        payload = build_payload(use_case, ctx, params or {})
        header = GroupingHeader(
            Cra.COMMAND, counter, originator, device, None, OtherInformation(code)
        )
        unsigned = GeneralSigningMessage(header, payload, None)
        return self.submit(unsigned, use_case=builder.use_case, sign=builder.critical)

    def secure(
        self, message: GeneralSigningMessage, *, sign: bool, mac: bool = True
    ) -> GbcsMessage:
        """Sign (when ``sign``) with the originator's DS key, then MAC with the ACB's key."""
        if sign:
            message = secure.sign(message, self.keystore)
        if not mac:
            return message
        return secure.protect(message, self.keystore, acb=self.acb)

    def submit(
        self, message: GeneralSigningMessage, *, use_case: str, sign: bool, mac: bool = True
    ) -> OutgoingCommand:
        """Secure an unsigned command and remember it as pending (replay builds its own)."""
        secured = self.secure(message, sign=sign, mac=mac)
        header = message.header
        command = OutgoingCommand(
            use_case=use_case,
            message_code=header.message_code,
            originator=header.originator,
            device=header.recipient,
            counter=header.originator_counter,
            critical=sign,
            message=secured,
            data=secured.encode(),
        )
        self.pending[(command.counter, command.message_code, command.device)] = command
        return command

    def accept(self, data: bytes) -> list[Received]:
        """Decode, correlate and verify every message in ``data`` (whole messages only)."""
        out: list[Received] = []
        rest = bytes(data)
        while rest:
            try:
                located = frame.locate(rest)
            except DecodeError as exc:
                out.append(Received(Outcome.MALFORMED, rest, None, problems=(str(exc),)))
                break
            raw = rest[: len(rest) - len(located.rest)]
            rest = located.rest
            out.append(self._accept_one(located, raw))
        return out

    def _accept_one(self, located: Located, raw: bytes) -> Received:
        message = located.message
        inner = frame.signing_message(message)
        if inner is None:
            return Received(
                Outcome.MALFORMED, raw, message, problems=("GBT blocks are not reassembled here",)
            )
        header = inner.header
        signature, mac, problems = _verify(located, self.keystore)
        if header.cra is Cra.ALERT:
            received = Received(Outcome.ALERT, raw, message, None, signature, mac, tuple(problems))
            self.alerts.append(received)
            return received
        if header.cra is Cra.COMMAND:
            return Received(
                Outcome.UNMATCHED,
                raw,
                message,
                None,
                signature,
                mac,
                ("a command, not a response",),
            )
        command = self.pending.get(
            (header.originator_counter, header.message_code, header.originator)
        )
        if command is None:
            return Received(
                Outcome.UNMATCHED,
                raw,
                message,
                None,
                signature,
                mac,
                (
                    f"no pending command with counter {header.originator_counter}, message code "
                    f"0x{header.message_code:04X} to {header.originator}",
                ),
            )
        expected_recipient = command.originator
        if header.recipient != expected_recipient:
            problems.append(f"recipient {header.recipient}, expected {expected_recipient}")
        problems.extend(_invoke_id_problem(command, inner))
        del self.pending[(command.counter, command.message_code, command.device)]
        outcome = Outcome.UNVERIFIED if problems else Outcome.RESPONSE
        return Received(outcome, raw, message, command, signature, mac, tuple(problems))


def _invoke_id_problem(command: OutgoingCommand, response: GeneralSigningMessage) -> list[str]:
    payload = response.payload
    if payload[:1] != b"\xda" or len(payload) < 5:
        return []
    got = int.from_bytes(payload[2:5], "big")
    want = command.counter & 0xFFFFFF
    return [] if got == want else [f"invoke id {got}, expected {want}"]


# --------------------------------------------------------------------------------- I/O


class HeadEndClient:
    """Sends a :class:`HeadEnd`'s commands over a hal port and waits for their responses.

    Use as ``async with HeadEndClient(head_end, url) as client: await client.send(cmd)``.
    The byte stream is split into messages by the WAN framer; alerts and unmatched messages
    read while waiting are kept in :attr:`received`.
    """

    def __init__(self, head_end: HeadEnd, url: str, *, port: Port | None = None) -> None:
        self.head_end = head_end
        self.url = url
        self._port = port
        self._framer = WanFramer()
        self.received: list[Received] = []

    async def __aenter__(self) -> Self:
        if self._port is None:
            self._port = open_port(self.url)
        if not self._port.is_open:
            await self._port.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._port is not None:
            await self._port.close()

    async def send(self, command: OutgoingCommand, *, timeout: float = 10.0) -> Received:
        """Write ``command`` and return its response (verified or not).

        :raises HalTimeout: no response within ``timeout`` seconds.
        :raises HalError: the port failed.
        """
        port = self._port
        if port is None:
            raise HalError("the head-end client is not open")
        _log.debug("send %s counter %d", command.use_case, command.counter)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await port.write(command.data, timeout=timeout)
        while True:
            left = deadline - loop.time()
            if left <= 0:
                break
            try:
                chunk = await port.read(timeout=left)
            except HalTimeout:
                break
            self._framer.feed(chunk)
            for raw in self._framer:
                for received in self.head_end.accept(raw):
                    if received.command is command:
                        return received
                    self.received.append(received)
        raise HalTimeout(
            f"no response to {command.use_case} (counter {command.counter}) from "
            f"{command.device} within {timeout:g} s on {self.url}"
        )
