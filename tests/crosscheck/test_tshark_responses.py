"""Wireshark's GBCS dissector (tshark) on what the emulated ESME *sends*.

Every reference ESME COMMAND of the RTDS set is replayed, re-keyed, to a fresh emulated ESME
exactly as the conformance runner does (:class:`~smemu.hil.conformance.ConformanceRunner`
with :class:`~smemu.hil.dut.EmulatedProvider`); each answer -- the response, and any alert
the device sent with it -- goes into one pcap for tshark. tshark must find no malformed
packet and no expert warning or error, and agree with our decoder
(:mod:`smemu.protocols.gbcs.frame`) on message code, CRA flag, originator counter,
originator and recipient EUIs (and the MAC and signature bytes where present).

Skips, saying why, when tshark is not on PATH or the reference set (../shared) is absent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from smemu.firmware.common.machine import DeviceType
from smemu.hil.conformance import ConformanceRunner, RunResult, Verdict, discover
from smemu.hil.dut import EmulatedProvider
from smemu.hil.headend import roles_from_keystore
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.frame import GbcsMessage, MacProtectedMessage
from smemu.protocols.gbcs.types import Cra
from smemu.protocols.security.keystore import DirectoryKeyStore
from tests.crosscheck.tshark import TsharkPacket, dissect, eui, tshark_executable

pytestmark = [
    pytest.mark.skipif(
        tshark_executable() is None,
        reason="tshark not on PATH: install Wireshark's tshark (Debian: apt-get install "
        "tshark) to check the emulated ESME's responses with Wireshark's GBCS dissector",
    ),
    pytest.mark.timeout(300),
]

GH = "gbcs_message.grouping_header."


@pytest.fixture(scope="module")
def esme_run(rtds_dir: Path, keystore_dir: Path) -> Iterator[RunResult]:
    """Every reference ESME command, replayed to a fresh emulated ESME."""
    store = DirectoryKeyStore.load(keystore_dir)
    roles = roles_from_keystore(keystore_dir)
    provider = EmulatedProvider()
    try:
        runner = ConformanceRunner(
            provider, store, roles, timeout=2, device_types=frozenset({DeviceType.ESME})
        )
        yield asyncio.run(runner.run(discover(rtds_dir), vectors=str(rtds_dir)))
    finally:
        provider.close()


def _ours(message: GbcsMessage) -> dict[str, object]:
    inner = frame.signing_message(message)
    assert inner is not None, "an ESME answer is never a GBT block here"
    header = inner.header
    return {
        "message_code": header.message_code,
        "cra_flag": int(header.cra),
        "originator_counter": header.originator_counter,
        "business_originator_id": bytes(header.originator),
        "business_target_id": bytes(header.recipient),
    }


def disagreements(packet: TsharkPacket, data: bytes) -> list[str]:
    """Where tshark reads ``data`` differently from our decoder, or finds it faulty."""
    message = frame.decode_exact(data)
    problems = []
    for name, expected in _ours(message).items():
        values = packet.values(GH + name)
        if len(values) != 1:
            problems.append(f"{name}: tshark gave {values}, we decode {expected!r}")
            continue
        theirs: object = eui(values[0]) if isinstance(expected, bytes) else int(values[0], 0)
        if theirs != expected:
            problems.append(f"{name}: tshark {theirs!r}, ours {expected!r}")
    if isinstance(message, MacProtectedMessage):
        macs = [eui(v) for v in packet.values("gbcs_message.mac")]
        if macs != [message.mac]:
            problems.append(f"mac: tshark {[m.hex() for m in macs]}, ours {message.mac.hex()}")
    inner = frame.signing_message(message)
    if inner is not None and inner.signature:
        signatures = [eui(v) for v in packet.values("gbcs_message.krp")]
        if signatures != [inner.signature]:
            problems.append("signature: tshark and our decoder differ")
    if packet.malformed:
        problems.append("tshark: malformed packet")
    problems += [f"tshark expert: {p}" for p in packet.expert_problems()]
    return problems


def test_every_esme_response_dissects_cleanly_and_agrees(
    esme_run: RunResult, tmp_path: Path
) -> None:
    ran = [r for r in esme_run.results if r.verdict is not Verdict.SKIPPED]
    assert len(ran) > 100, esme_run.summary()
    assert all(r.device_type is DeviceType.ESME for r in ran)
    unanswered = [r.scenario.id for r in ran if not r.actual]
    assert unanswered == [], f"no response to {len(unanswered)} commands: {unanswered[:10]}"
    labels: list[str] = []
    datas: list[bytes] = []
    for r in ran:
        labels.append(f"{r.scenario.id} response")
        datas.append(r.actual)
        for n, alert in enumerate(r.alerts):
            labels.append(f"{r.scenario.id} alert {n}")
            datas.append(alert)
    packets = dissect(datas, tmp_path, name="esme-answers")
    failures = [
        f"{label}: {p}"
        for label, data, packet in zip(labels, datas, packets, strict=True)
        for p in disagreements(packet, data)
    ]
    assert not failures, f"{len(failures)} problems, first ones:\n" + "\n".join(failures[:20])
    # the answers are what they claim to be: responses to the replayed commands
    for r in ran:
        response = frame.signing_message(frame.decode_exact(r.actual))
        sent = frame.signing_message(frame.decode_exact(r.sent))
        assert response is not None and sent is not None
        assert response.header.cra is Cra.RESPONSE, r.scenario.id
        assert response.header.originator_counter == sent.header.originator_counter
        assert response.header.recipient == sent.header.originator


def test_the_comparison_catches_a_disagreement(esme_run: RunResult, tmp_path: Path) -> None:
    """The check above can fail: a response whose counter we misread is reported."""
    first = next(r for r in esme_run.results if r.actual)
    [packet] = dissect([first.actual], tmp_path, name="one")
    assert disagreements(packet, first.actual) == []
    inner = frame.signing_message(frame.decode_exact(first.actual))
    assert inner is not None
    wrong = str(inner.header.originator_counter + 1)
    packet.fields[GH + "originator_counter"] = [wrong]
    assert any("originator_counter" in p for p in disagreements(packet, first.actual))
