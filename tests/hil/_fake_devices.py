"""Stand-in devices for the conformance runner's own tests (not emulated devices).

Each answers a re-keyed command by a rule: the reference response verbatim (for a device
that carries the reference identities), a reference response re-addressed and re-secured
with the device's own keys (optionally altered), or nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from smemu.errors import HalTimeout
from smemu.firmware.common.machine import DeviceType
from smemu.hil.conformance import Scenario, read_vector
from smemu.hil.dut import DeviceUnavailableError
from smemu.hil.preconditions import Precondition, Prepared
from smemu.protocols.dlms import apdu
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader, MacProtectedMessage
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.security.keystore import KeyStore

Answer = Callable[[bytes], list[bytes]]


@dataclass(slots=True)
class FakeDevice:
    """A device whose answers come from ``answer``; ``raises`` makes it raise HalTimeout."""

    eui: Eui64
    device_type: DeviceType
    answer: Answer
    raises: bool = False
    commands: list[bytes] = field(default_factory=list)
    prepared: list[Precondition] = field(default_factory=list)

    def properties(self) -> Mapping[str, str]:
        return {"smemu.rig": "fake", "smemu.firmware.version": "fake-1"}

    async def exchange(self, command: bytes, *, timeout: float) -> list[bytes]:
        self.commands.append(command)
        if self.raises:
            raise HalTimeout(f"nothing within {timeout:g} s")
        return self.answer(command)

    async def prepare(self, preconditions: Sequence[Precondition]) -> Prepared:
        """Record the conditions (a fake answering the reference is already in them)."""
        self.prepared.extend(preconditions)
        return Prepared()

    async def close(self) -> None:
        return None


@dataclass(slots=True)
class FakeProvider:
    keystore: KeyStore
    parties: Mapping[int, Eui64]
    devices: Mapping[DeviceType, FakeDevice]
    rig: str = "fake"
    #: with the reference identities: devices by EUI (preferred over ``devices``)
    by_eui: Mapping[Eui64, FakeDevice] = field(default_factory=dict)
    han_party: Eui64 | None = None
    #: the KA certificate of ``han_party`` (None: no join before a HAN-only command)
    han_certificate: bytes | None = None

    def han_party_certificate(self) -> bytes | None:
        return self.han_certificate

    def issue_certificate(self, template: bytes, subject: Eui64, public_key: bytes | None) -> bytes:
        """A fake answering the reference wants the reference certificate back."""
        return template

    async def device(
        self, device_type: DeviceType, *, reference: Eui64 | None = None,
        variant: str | None = None,
    ) -> FakeDevice:
        found = self.by_eui.get(reference) if reference is not None else None
        if found is not None and found.device_type is device_type:
            return found
        found = self.devices.get(device_type)
        if found is None:
            raise DeviceUnavailableError(f"no fake {device_type.value}")
        return found


def _inner(data: bytes) -> GeneralSigningMessage:
    inner = frame.signing_message(frame.locate(data).message)
    assert inner is not None
    return inner


def _header(data: bytes) -> GroupingHeader:
    return _inner(data).header


def _key(data: bytes) -> tuple[int, int, bytes]:
    inner = _inner(data)
    return inner.header.originator_counter, inner.header.message_code, inner.payload


def reference_answers(scenarios: list[Scenario]) -> Answer:
    """Answer each command with the reference response of the reference command with the same
    counter, message code and payload (a replay that keeps identities and counters)."""
    table: dict[tuple[int, int, bytes], bytes] = {}
    for s in scenarios:
        if s.input is not None and s.response is not None:
            table[_key(read_vector(s.input))] = read_vector(s.response)

    def answer(command: bytes) -> list[bytes]:
        found = table.get(_key(command))
        return [] if found is None else [found]

    return answer


def resecured_answers(
    reference: bytes, store: KeyStore, mutate: Callable[[bytes], bytes] = lambda p: p
) -> Answer:
    """Answer with ``reference`` re-addressed to the command, re-secured with ``store``."""
    located = frame.locate(reference)
    ref = frame.signing_message(located.message)
    assert ref is not None

    def answer(command: bytes) -> list[bytes]:
        h = _header(command)
        payload = ref.payload
        if payload[:1] == b"\xda":
            message = apdu.decode_exact(payload)
            assert isinstance(message, apdu.AccessResponseMessage)
            invoke = (message.invoke_id_and_priority & 0xFF000000) | (
                h.originator_counter & 0xFFFFFF
            )
            payload = apdu.encode(replace(message, invoke_id_and_priority=invoke))
        header = GroupingHeader(
            Cra.RESPONSE,
            h.originator_counter,
            h.recipient,
            h.originator,
            ref.header.date_time,
            ref.header.other_information,
        )
        unsigned = GeneralSigningMessage(header, mutate(payload), None)
        message: GeneralSigningMessage | MacProtectedMessage = unsigned
        if ref.signature:
            message = secure.sign(unsigned, store)
        elif ref.signature is not None:
            message = GeneralSigningMessage(header, unsigned.payload, b"")
        if isinstance(located.message, MacProtectedMessage):
            assert isinstance(message, GeneralSigningMessage)
            message = secure.protect(message, store)
        return [message.encode()]

    return answer


def fail_actions(payload: bytes) -> bytes:
    """An access-response whose every action result is 1 (hardware-fault) instead."""
    message = apdu.decode_exact(payload)
    assert isinstance(message, apdu.AccessResponseMessage)
    specs = tuple(
        apdu.AccessResponseAction(1) if isinstance(s, apdu.AccessResponseAction) else s
        for s in message.specifications
    )
    return apdu.encode(replace(message, specifications=specs))
