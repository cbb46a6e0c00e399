"""GSME: HAN-only commands (PCS01, PCS02) from the PPMID its device log holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smemu.devices.keys import Pki
from smemu.firmware import joins
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import BootEvent, DeviceType, MessageEvent
from smemu.firmware.common.security import han_counter_key
from smemu.firmware.gas_joins import han_parties
from smemu.firmware.gsme import GsmeMachine
from smemu.protocols.asn1.values import DeviceType as LogType
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader, OtherInformation
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.zigbee import gbz

from ._support import GSME, T0, make_pki

PPMID = Eui64.parse("00-DB-12-34-56-78-90-A5")
OTHER = Eui64.parse("00-DB-12-34-56-78-90-A6")
PCS02 = 0x0090
#: Select Available Emergency Credit: issue time 0, originating device 2 (IHD)
_SELECT_EC = gbz.GbzMessage(
    (gbz.GbzComponent(gbz.CONTROL_LAST, 0x0705, 0x01, 0, 0x00, bytes(4) + b"\x02"),)
)


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(
        tmp_path, {GSME: DeviceType.GSME, PPMID: DeviceType.PPMID, OTHER: DeviceType.PPMID}
    )


def _ka_der(pki: Pki, eui: Eui64) -> bytes:
    pem = (pki.folder / f"{eui.hex()}-ka.pem").read_bytes()
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


def _join_entry(der: bytes | None, kind: LogType = LogType.PPMID) -> bytes:
    entry = {"type": int(kind), "method": 3, "ka": None if der is None else der.hex()}
    return json.dumps(entry, sort_keys=True).encode()


def _gsme(pki: Pki, *, joined: dict[Eui64, bytes]) -> GsmeMachine:
    nvm = pki.provisioning(GSME)
    for eui, entry in joined.items():
        nvm[joins.PREFIX + eui.hex()] = entry
    machine = GsmeMachine(GSME, nvm)
    machine.step(BootEvent(), T0)
    return machine


def _pcs02(pki: Pki, originator: Eui64, counter: int, *, mac: bool = True) -> bytes:
    header = GroupingHeader(Cra.COMMAND, counter, originator, GSME, None, OtherInformation(PCS02))
    message = GeneralSigningMessage(header, gbz.encode(_SELECT_EC), b"")
    if not mac:
        return message.encode()
    return secure.protect(message, pki.keystore).encode()


def _send(machine: GsmeMachine, data: bytes) -> list[bytes]:
    """The responses (CRA 2) the GSME sends back for ``data``."""
    step = machine.step(MessageEvent("han", HanFrame(TunnelCommand.PUT, data).encode()), T0)
    out = []
    for sent in step.sends:
        message = decode_han(sent.data).message
        inner = frame.signing_message(frame.locate(message).message) if message else None
        if inner is not None and inner.header.cra is Cra.RESPONSE:
            out.append(message)
    return out


def test_joined_ppmid_is_a_han_party(pki: Pki) -> None:
    nvm = {joins.PREFIX + PPMID.hex(): _join_entry(_ka_der(pki, PPMID)),
           joins.PREFIX + OTHER.hex(): _join_entry(None)}
    parties = han_parties(nvm)
    assert list(parties) == [PPMID]  # an entry without a certificate authenticates nothing
    assert parties[PPMID].device_type is LogType.PPMID
    assert len(parties[PPMID].ka_point) == 64


def test_pcs02_from_the_joined_ppmid_is_answered(pki: Pki) -> None:
    machine = _gsme(pki, joined={PPMID: _join_entry(_ka_der(pki, PPMID))})
    [answer] = _send(machine, _pcs02(pki, PPMID, 10_000))
    located = frame.locate(answer)
    inner = frame.signing_message(located.message)
    assert inner is not None
    assert (inner.header.recipient, inner.header.originator_counter) == (PPMID, 10_000)
    # MAC'd with the GSME-PPMID key, as the PPMID checks it
    assert secure.verify_mac(located, pki.keystore, ()) is secure.Verdict.VALID
    [reply] = gbz.decode_exact(inner.payload).components
    assert (reply.cluster_id, reply.command_id, reply.payload[:1]) == (0x0705, 0x0B, b"\x00")


@pytest.mark.parametrize("case", ["not joined", "other device", "wrong type", "no mac", "bad mac"])
def test_pcs02_refused_without_a_trusted_han_party(pki: Pki, case: str) -> None:
    der = _ka_der(pki, PPMID)
    joined = {PPMID: _join_entry(der, LogType.TYPE2 if case == "wrong type" else LogType.PPMID)}
    machine = _gsme(pki, joined={} if case == "not joined" else joined)
    originator = OTHER if case == "other device" else PPMID
    data = _pcs02(pki, originator, 10_001, mac=case != "no mac")
    if case == "bad mac":
        data = data[:-1] + bytes((data[-1] ^ 1,))
    before = dict(machine.nvm)
    assert _send(machine, data) == []
    changed = {k for k in machine.nvm if machine.nvm.get(k) != before.get(k)}
    assert not any(k.startswith(("ctr/", "gsme/")) and "log" not in k for k in changed)


def test_unjoin_forgets_the_party(pki: Pki) -> None:
    machine = _gsme(pki, joined={PPMID: _join_entry(_ka_der(pki, PPMID))})
    assert _send(machine, _pcs02(pki, PPMID, 10_000))
    machine._nvm.pop(joins.PREFIX + PPMID.hex())  # as an unjoin's commit does
    machine.committed({joins.PREFIX + PPMID.hex(): None})
    assert _send(machine, _pcs02(pki, PPMID, 10_001)) == []


def test_han_counter_namespace_is_not_a_role() -> None:
    assert han_counter_key(PPMID) == f"ctr/han/{PPMID.hex()}"
