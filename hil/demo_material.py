"""Fixed demo material: a small test PKI and GBCS messages of our own making.

Layer: hil. Keys come from fixed labels (so a run needs nothing from outside and the
identities are stable), messages are built, signed and MAC'd exactly as a head-end and a
meter would, and the key store is written in the keystore/ layout so ``smemu decode`` can
check everything. Tests of codecs, captures and decoders use these; the premises story
(:mod:`smemu.hil.demo`) uses the head-end instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from smemu.protocols.dlms import apdu
from smemu.protocols.dlms.axdr import Data
from smemu.protocols.dlms.data import NullData
from smemu.protocols.gbcs import secure
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader, OtherInformation
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
