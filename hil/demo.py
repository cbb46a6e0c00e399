"""The demo's material: a small test PKI and GBCS messages of our own making.

Layer: hil. Keys come from fixed labels (so a run needs nothing from outside and the
identities are stable), messages are built, signed and MAC'd exactly as a head-end and a
meter would, and the key store is written in the keystore/ layout so ``smemu decode`` can
check everything.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import serialization

from smemu.devices.config import load_config
from smemu.devices.premises import Premises
from smemu.errors import DecodeError, SecurityError
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.machine import DeviceType
from smemu.hil.capture import PcapWriter
from smemu.protocols import zigbee
from smemu.protocols.dlms import apdu, protection
from smemu.protocols.dlms.axdr import Data
from smemu.protocols.dlms.data import (
    DoubleLongUnsigned,
    Enum,
    LongUnsigned,
    NullData,
    OctetString,
    Structure,
)
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.decrypt import decrypt_payload
from smemu.protocols.gbcs.frame import (
    GeneralSigningMessage,
    GroupingHeader,
    Located,
    OtherInformation,
)
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.security.keys import private_key_from_scalar
from smemu.protocols.security.keystore import InMemoryKeyStore, KeyKind, KeyStore

SUPPLIER = Eui64.parse("90-B3-D5-1F-30-01-00-00")
ACB = Eui64.parse("90-B3-D5-1F-30-00-00-02")
ESME = Eui64.parse("00-DB-12-34-56-78-90-A0")
_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # P-256 n

#: (party, key kinds) of the demo PKI
PARTIES: tuple[tuple[Eui64, tuple[KeyKind, ...]], ...] = (
    (SUPPLIER, (KeyKind.DS, KeyKind.KA)),
    (ACB, (KeyKind.KA,)),
    (ESME, (KeyKind.DS, KeyKind.KA)),
)


def demo_keystore() -> InMemoryKeyStore:
    """A key store whose private keys derive from fixed labels: the same on every run."""
    store = InMemoryKeyStore()
    for eui, kinds in PARTIES:
        for kind in kinds:
            label = f"smemu demo {eui} {kind.value}".encode()
            scalar = int.from_bytes(hashlib.sha256(label).digest(), "big") % (_ORDER - 1) + 1
            store.add_private_key(eui, kind, private_key_from_scalar(scalar))
    return store


def write_keystore(store: InMemoryKeyStore, folder: Path) -> None:
    """Write ``<eui>-<kind>.key`` (PKCS#8) and ``<eui>-<kind>.pem`` (public key) files."""
    folder.mkdir(parents=True, exist_ok=True)
    for eui, kinds in PARTIES:
        for kind in kinds:
            private = store.private_key(eui, kind)
            if private is None:
                continue
            stem = folder / f"{eui.hex()}-{kind.value}"
            stem.with_suffix(".key").write_bytes(
                private.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            stem.with_suffix(".pem").write_bytes(
                private.public_key().public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            )


@dataclass(frozen=True, slots=True)
class DemoMessage:
    """One message of the demo conversation."""

    name: str
    data: bytes


def _header(
    cra: Cra, counter: int, originator: Eui64, recipient: Eui64, code: int
) -> GroupingHeader:
    return GroupingHeader(cra, counter, originator, recipient, None, OtherInformation(code))


def _invoke_id(counter: int) -> bytes:
    """DLMS long-invoke-id-and-priority: 0x20 and the counter's low 24 bits (reference 7.2)."""
    return (0x20000000 | (counter & 0xFFFFFF)).to_bytes(4, "big")


def demo_messages(store: InMemoryKeyStore) -> list[DemoMessage]:
    """A short conversation: read the firmware version (ECS52), close the supply (ECS42).

    Payloads are the DLMS forms of gbcs-reference.md 5.1-5.3, written out as bytes until
    the typed payload builders exist.
    """
    c52, c42 = 0x1000, 0x1001
    # ECS52: get 1/0-0:0.2.1.255 attribute 2 (firmware version); non-critical: MAC only
    ecs52_req = (
        b"\xd9" + _invoke_id(c52) + bytes.fromhex("0001010001000000020 1ff020100".replace(" ", ""))
    )
    ecs52_rsp = (
        b"\xda" + _invoke_id(c52) + bytes.fromhex("00000109040102030401 0100".replace(" ", ""))
    )
    # ECS42: action 9/0-0:10.0.106.255 method 1, script 51 (close); critical: signed and MAC'd
    ecs42_req = (
        b"\xd9"
        + _invoke_id(c42)
        + bytes.fromhex("0001030009 00000a006aff 01 01 120033".replace(" ", ""))
    )
    ecs42_rsp = b"\xda" + _invoke_id(c42) + bytes.fromhex("0000010001 0300".replace(" ", ""))
    command52 = GeneralSigningMessage(
        _header(Cra.COMMAND, c52, SUPPLIER, ESME, 0x0059), ecs52_req, b""
    )
    reply52 = GeneralSigningMessage(
        _header(Cra.RESPONSE, c52, ESME, SUPPLIER, 0x0059), ecs52_rsp, b""
    )
    command42 = GeneralSigningMessage(
        _header(Cra.COMMAND, c42, SUPPLIER, ESME, 0x004F), ecs42_req, None
    )
    reply42 = GeneralSigningMessage(
        _header(Cra.RESPONSE, c42, ESME, SUPPLIER, 0x004F), ecs42_rsp, None
    )
    return [
        DemoMessage(
            "ECS52 command (supplier -> ESME, MAC'd by the ACB)",
            secure.protect(command52, store, acb=ACB).encode(),
        ),
        DemoMessage(
            "ECS52 response (ESME -> supplier, MAC'd)", secure.protect(reply52, store).encode()
        ),
        DemoMessage(
            "ECS42 command (supplier -> ESME, signed and MAC'd)",
            secure.protect(secure.sign(command42, store), store, acb=ACB).encode(),
        ),
        DemoMessage(
            "ECS42 response (ESME -> supplier, signed)", secure.sign(reply42, store).encode()
        ),
    ]


# ------------------------------------------------------------------ commands for a premises


def dlms_request(counter: int, *items: tuple[apdu.AccessRequestSpecification, Data]) -> bytes:
    """A DLMS access-request payload (GBCS invoke id from ``counter``)."""
    return apdu.encode(
        apdu.AccessRequestMessage(
            0x20000000 | (counter & 0xFFFFFF),
            b"",
            tuple(spec for spec, _ in items),
            tuple(value for _, value in items),
        )
    )


def get(class_id: int, obis: str, attribute: int) -> tuple[apdu.AccessRequestGet, Data]:
    return apdu.AccessRequestGet(class_id, apdu.parse_obis(obis), attribute), NullData()


def action(
    class_id: int, obis: str, method: int, value: Data
) -> tuple[apdu.AccessRequestAction, Data]:
    return apdu.AccessRequestAction(class_id, apdu.parse_obis(obis), method), value


def build_command(
    store: KeyStore,
    *,
    originator: Eui64,
    recipient: Eui64,
    code: int,
    counter: int,
    payload: bytes,
    sign: bool,
    acb: Eui64,
) -> bytes:
    """A command as a head-end sends it: signed when ``sign``, MAC'd by ``acb``."""
    message = GeneralSigningMessage(
        _header(Cra.COMMAND, counter, originator, recipient, code), payload, None
    )
    if sign:
        message = secure.sign(message, store)
    return secure.protect(message, store, acb=acb).encode()


# ----------------------------------------------------------------------- the premises story


@dataclass(slots=True)
class StoryRow:
    """One line of the demo's summary table."""

    step: str
    use_case: str
    device: str
    outcome: str
    verified: str


@dataclass(slots=True)
class Story:
    """A premises, a head-end's keys and counter, and what happened so far."""

    premises: Premises
    store: KeyStore
    supplier: Eui64
    acb: Eui64
    echo: Callable[[str], None]
    counter: int = 1000
    received: list[bytes] = field(default_factory=list)
    rows: list[StoryRow] = field(default_factory=list)

    def _observe(self, direction: str, data: bytes, at: datetime) -> None:
        if direction == "out":
            self.received.append(data)

    async def command(
        self,
        step: str,
        use_case: str,
        device: DeviceType,
        payload: Callable[[int], bytes],
        *,
        code: int,
        sign: bool = False,
        replay: bytes | None = None,
        silent: str = "no answer",
    ) -> tuple[bytes, list[Located]]:
        """Send one command (or replay earlier bytes); return it and what came back."""
        target = self.premises.device(device).eui
        if replay is None:
            self.counter += 1
            data = build_command(
                self.store,
                originator=self.supplier,
                recipient=target,
                code=code,
                counter=self.counter,
                payload=payload(self.counter),
                sign=sign,
                acb=self.acb,
            )
        else:
            data = replay
        self.received.clear()
        self.premises.inject_wan(data)
        await self.premises.settle()
        answers = [frame.locate(m) for m in self.received]
        outcome = silent if not answers else _describe(answers[0], self.store)
        verified = "-"
        if answers:
            verified = "yes" if all(_verified(a, self.store) for a in answers) else "NO"
        self.rows.append(StoryRow(step, use_case, device.value, outcome, verified))
        self.echo(f"  {use_case:<7} -> {device.value:<5} {outcome}  (verified: {verified})")
        return data, answers


def _verified(located: Located, store: KeyStore) -> bool:
    verdicts = (secure.verify_signature(located, store), secure.verify_mac(located, store))
    return secure.Verdict.VALID in verdicts and secure.Verdict.INVALID not in verdicts


def _data_text(value: Data) -> str:
    if isinstance(value, OctetString):
        return value.value.hex().upper()
    if isinstance(value, DoubleLongUnsigned):
        return f"{value.value}"
    if isinstance(value, Enum):
        return f"enum {value.value}"
    if isinstance(value, NullData):
        return "null"
    return type(value).__name__


def _describe(located: Located, store: KeyStore) -> str:
    """One readable line about a response or alert."""
    inner = frame.signing_message(located.message)
    if inner is None:
        return "GBT block"
    if inner.header.cra is Cra.ALERT:
        return f"alert 0x{inner.message_code:04X} ({_alert_code(inner.payload)})"
    _, plaintexts = decrypt_payload(located, store)
    if frame.payload_family(inner.payload) == "gbz":
        gbz = zigbee.decode_typed(inner.payload, alert=False, plaintexts=plaintexts)
        names = [str(c.get("command", c["cluster"])) for c in gbz.to_json()["components"]]
        return "GBZ response: " + (", ".join(names) or "no components")
    if plaintexts:
        value = protection.decode_plaintext(plaintexts[0])
        return f"decrypted registers {_registers(value)}"
    body = apdu.decode_exact(inner.payload)
    if not isinstance(body, apdu.AccessResponseMessage):
        return "response"
    parts = []
    for value, spec in zip(body.list_of_data, body.specifications, strict=False):
        parts.append(_data_text(value) if spec.result == 0 else f"result {spec.result}")
    return "response: " + ", ".join(parts)


def _registers(value: Data) -> str:
    numbers = []

    def walk(v: Data) -> None:
        if isinstance(v, DoubleLongUnsigned):
            numbers.append(v.value)
        elif isinstance(v, Structure):
            for item in v.items:
                walk(item)

    walk(value)
    return f"import {numbers[0]} Wh" if numbers else "?"


def _alert_code(payload: bytes) -> str:
    if payload[:2] == b"\x01\x09" and len(payload) >= 5:
        return f"alert code 0x{int.from_bytes(payload[3:5], 'big'):04X}"
    try:
        body = apdu.decode_exact(payload)
    except DecodeError:
        return "?"
    if isinstance(body, apdu.DataNotificationMessage) and isinstance(body.body, Structure):
        first = body.body.items[0] if body.body.items else None
        if isinstance(first, LongUnsigned):
            return f"alert code 0x{first.value:04X}"
    return "?"


def _import_wh(answers: list[Located], store: KeyStore) -> int | None:
    for located in answers:
        _, plaintexts = decrypt_payload(located, store)
        if plaintexts:
            value = protection.decode_plaintext(plaintexts[0])
            while isinstance(value, Structure) and value.items:
                value = value.items[0]
            if isinstance(value, DoubleLongUnsigned):
                return value.value
    return None


_ECS17B: Final = 0x0027
_ECS52: Final = 0x0059
_ECS43: Final = 0x0050
_ECS42: Final = 0x004F
_ECS45: Final = 0x0052
_ECS24: Final = 0x003A
_GCS38: Final = 0x0084


def _ecs17b(counter: int) -> bytes:
    return dlms_request(counter, action(30, "0-0:43.2.8.255", 1, NullData()))


async def run_story(out: Path, echo: Callable[[str], None]) -> Story:
    """Start the default premises, commission it, and walk the demo story."""
    state = out / "premises"
    if state.exists():
        shutil.rmtree(state)
    config = load_config(None)
    premises = Premises(config, state, wan="virtual://smemu-demo", speed=0.0)
    pcap_path = out / "demo.pcap"
    async with premises:
        pki = premises.pki
        if pki is None:
            raise SecurityError("premises has no PKI")
        story = Story(
            premises,
            pki.keystore,
            pki.remote_parties[Role.SUPPLIER],
            pki.remote_parties[Role.ACCESS_CONTROL_BROKER],
            echo,
        )
        with PcapWriter.open(pcap_path, start=premises.clock.now()) as pcap:
            premises.observers.append(story._observe)
            premises.observers.append(lambda d, data, at: pcap.write(data, at))
            await _walk(story)
    echo(f"\nPacket capture of the WAN conversation: {pcap_path}")
    return story


async def _walk(story: Story) -> None:
    p, echo = story.premises, story.echo
    echo(f"Premises up at {p.clock.now():%Y-%m-%d %H:%M} (simulated), WAN {p.wan_url}")
    for device in p.devices.values():
        echo(f"  {device.spec.name:<6} {device.eui}")
    echo("\n1. Commissioning: CHF device log holds every HAN device; keys and trust anchors")
    echo(
        "   were installed from the generated test PKI in "
        + str(story.premises.pki.folder if story.premises.pki else "-")
    )
    await story.command(
        "firmware",
        "ECS52",
        DeviceType.CHF,
        lambda c: dlms_request(c, get(1, "0-0:0.2.1.255", 2)),
        code=_ECS52,
    )
    await story.command(
        "firmware",
        "ECS52",
        DeviceType.ESME,
        lambda c: dlms_request(c, get(1, "0-0:0.2.1.255", 2)),
        code=_ECS52,
    )
    echo("\n2. Read the import register (ECS17b: the answer is encrypted for the supplier)")
    _, first = await story.command("read", "ECS17b", DeviceType.ESME, _ecs17b, code=_ECS17B)
    echo("\n3. Read the active tariff's day profiles (ECS24, from the tariff switching table)")
    await story.command(
        "tariff",
        "ECS24",
        DeviceType.ESME,
        lambda c: dlms_request(c, get(20, "0-0:13.0.0.255", 5)),
        code=_ECS24,
    )
    echo("\n4. Accelerate a week of simulated time (the GSME wakes every 30 minutes)")
    fired = await p.advance(timedelta(days=7))
    echo(f"   now {p.clock.now():%Y-%m-%d %H:%M}, {fired} timers fired")
    _, second = await story.command("read", "ECS17b", DeviceType.ESME, _ecs17b, code=_ECS17B)
    before, after = _import_wh(first, story.store), _import_wh(second, story.store)
    if before is not None and after is not None:
        echo(f"   consumption over the week: {after - before} Wh")
    echo("\n5. Open the supply (ECS43, critical: signed), check it, replay the command")
    opened, _ = await story.command(
        "supply",
        "ECS43",
        DeviceType.ESME,
        lambda c: dlms_request(c, action(9, "0-0:10.0.106.255", 1, LongUnsigned(52))),
        code=_ECS43,
        sign=True,
    )
    await story.command(
        "supply",
        "ECS45",
        DeviceType.ESME,
        lambda c: dlms_request(c, get(70, "0-0:96.3.10.255", 3)),
        code=_ECS45,
    )
    await story.command(
        "replay",
        "ECS43",
        DeviceType.ESME,
        _ecs17b,
        code=_ECS43,
        replay=opened,
        silent="rejected: replayed counter (security log)",
    )
    await p.advance(timedelta(days=1))
    await story.command("read", "ECS17b", DeviceType.ESME, _ecs17b, code=_ECS17B)
    await story.command(
        "supply",
        "ECS42",
        DeviceType.ESME,
        lambda c: dlms_request(c, action(9, "0-0:10.0.106.255", 1, LongUnsigned(51))),
        code=_ECS42,
        sign=True,
    )
    echo("\n6. A gas command waits at the GPF until the battery-powered GSME wakes")
    await story.command(
        "gas",
        "GCS38",
        DeviceType.GSME,
        lambda c: b"\x01\x09\x00",
        code=_GCS38,
        silent="queued at the GPF",
    )
    story.received.clear()
    await p.advance(timedelta(minutes=31))
    for data in story.received:
        located = frame.locate(data)
        echo(f"   after the wake-up: {_describe(located, story.store)}")
        story.rows.append(
            StoryRow(
                "gas",
                "GCS38",
                "gsme",
                _describe(located, story.store),
                "yes" if _verified(located, story.store) else "NO",
            )
        )
    esme = p.device(DeviceType.ESME)
    echo(
        f"\nESME security log: {len(esme.logs('security'))} entries; "
        f"event log: {len(esme.logs('event'))} entries"
    )
