"""Wireshark's GBCS dissector (tshark) on what the comms hub, GPF, GSME, PPMID and HCALC send.

Every reference COMMAND addressed to a CHF, GPF, GSME, PPMID or HCALC is replayed, re-keyed,
to a fresh emulated device exactly as the conformance runner does; every answer (the
response and any alert sent with it) goes into one pcap for tshark, which must find no
malformed packet and no expert warning or error, and agree with our decoders:

* framing (:func:`tests.crosscheck.test_tshark.header_disagreements`): message code, CRA
  flag, originator counter, originator and recipient EUIs, MAC and signature bytes; a GBT
  block is checked on its routing and GBT headers, and the message tshark reassembles from a
  device's blocks against the one :class:`~smemu.protocols.gbcs.gbt.GbtReassembler` gives;
* the GBZ payload (:func:`tests.crosscheck.tshark_gbz.gbz_disagreements`): components,
  clusters, ZCL frame controls, sequence numbers and command ids, encrypted blocks, and in
  the plaintext ZCL frames the statuses, attribute ids and answered command ids.

The GBZ comparison is first calibrated on the whole reference set, where tshark and our
decoder must agree too. Skips, saying why, when tshark or the reference set is absent.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from smemu.firmware.common.machine import DeviceType
from smemu.hil.conformance import CaseResult, ConformanceRunner, RunResult, Verdict, discover
from smemu.hil.dut import EmulatedProvider
from smemu.hil.headend import roles_from_keystore
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.frame import GbcsMessage, GbtBlockMessage
from smemu.protocols.gbcs.gbt import GbtReassembler, segment
from smemu.protocols.gbcs.types import Cra
from smemu.protocols.security.keystore import DirectoryKeyStore
from smemu.protocols.text import parse_message_text
from smemu.protocols.zigbee import gbz, zcl
from smemu.protocols.zigbee.gbz import GbzComponent
from smemu.protocols.zigbee.registry import decode_command
from smemu.protocols.zigbee.zcl import ZclHeader
from tests.crosscheck.test_tshark import header_disagreements
from tests.crosscheck.tshark import TsharkPacket, dissect, tshark_executable
from tests.crosscheck.tshark_gbz import gbz_disagreements, gbz_payload

pytestmark = [
    pytest.mark.skipif(
        tshark_executable() is None,
        reason="tshark not on PATH: install Wireshark's tshark (Debian: apt-get install "
        "tshark) to check the emulated devices' answers with Wireshark's GBCS dissector",
    ),
    pytest.mark.timeout(300),
]

#: The device types of issue #7 (every type but the ESME, which test_tshark_responses covers).
DEVICE_TYPES = frozenset(
    {DeviceType.CHF, DeviceType.GPF, DeviceType.GSME, DeviceType.PPMID, DeviceType.HCALC}
)


@dataclasses.dataclass(frozen=True)
class Answer:
    """One message an emulated device sent, with where it came from."""

    label: str
    data: bytes
    result: CaseResult


@pytest.fixture(scope="module")
def device_run(rtds_dir: Path, keystore_dir: Path) -> Iterator[RunResult]:
    """Every reference command for the five device types, replayed to fresh emulated devices."""
    store = DirectoryKeyStore.load(keystore_dir)
    roles = roles_from_keystore(keystore_dir)
    provider = EmulatedProvider()
    try:
        runner = ConformanceRunner(provider, store, roles, timeout=2, device_types=DEVICE_TYPES)
        yield asyncio.run(runner.run(discover(rtds_dir), vectors=str(rtds_dir)))
    finally:
        provider.close()


def answers_of(run: RunResult) -> list[Answer]:
    """Every response and alert of the scenarios that ran, in the order the devices sent them."""
    out = []
    for r in run.results:
        if r.verdict is Verdict.SKIPPED:
            continue
        if r.actual:
            out.append(Answer(f"{r.scenario.id} response", r.actual, r))
        out += [Answer(f"{r.scenario.id} alert {n}", a, r) for n, a in enumerate(r.alerts)]
    return out


def stream_disagreements(datas: Sequence[bytes], packets: Sequence[TsharkPacket]) -> list[str]:
    """Every difference between tshark and us over one capture, as ``index: problem``.

    Whole messages are compared on headers and GBZ payload. GBT blocks are compared on their
    own headers as tshark sees each one; when our reassembler completes a message, tshark
    must have reassembled the same length in that frame and read the same headers and GBZ
    payload from it.
    """
    reassembler = GbtReassembler()
    failures: list[str] = []
    for index, (data, packet) in enumerate(zip(datas, packets, strict=True)):
        message = frame.decode_exact(data)
        problems = header_disagreements(packet, message)
        if packet.malformed:
            problems.append("tshark: malformed packet")
        problems += [f"tshark expert: {p}" for p in packet.expert_problems()]
        if isinstance(message, GbtBlockMessage):
            problems += _block_disagreements(packet, message, reassembler)
        else:
            problems += gbz_disagreements(packet, message)
        failures += [f"{index}: {p}" for p in problems]
    return failures


def _block_disagreements(
    packet: TsharkPacket, block: GbtBlockMessage, reassembler: GbtReassembler
) -> list[str]:
    problems = []
    numbers = packet.values("gbcs_message.gbt_header.block_number")
    lasts = packet.values("gbcs_message.gbt_header.block_control.last_block")
    seen = ([int(n, 0) for n in numbers], [v in ("1", "True") for v in lasts])
    if seen != ([block.block_number], [block.last_block]):
        problems.append(f"gbt block: tshark (number, last) {seen}, ours {block.block_number}")
    whole = reassembler.feed(block)
    if whole is None:
        return problems
    lengths = packet.values("gbcs_message.gbt.reassembled.length")
    if lengths != [str(len(whole))]:
        problems.append(f"gbt reassembled length: tshark {lengths}, ours {len(whole)}")
        return problems
    message = frame.decode_exact(whole)
    problems += [f"reassembled: {p}" for p in header_disagreements(packet, message)]
    problems += [f"reassembled: {p}" for p in gbz_disagreements(packet, message)]
    return problems


def _report(answers: Sequence[Answer], failures: Sequence[str]) -> str:
    lines = []
    for failure in failures[:20]:
        index, _, problem = failure.partition(": ")
        lines.append(f"{answers[int(index)].label}: {problem}")
    return f"{len(failures)} problems, first ones:\n" + "\n".join(lines)


def test_every_answer_dissects_cleanly_and_agrees(device_run: RunResult, tmp_path: Path) -> None:
    answers = answers_of(device_run)
    sent_by = Counter(a.result.device_type for a in answers)
    assert set(sent_by) == DEVICE_TYPES, f"answers by device type: {sent_by}"
    assert len(answers) > 150, device_run.summary()
    datas = [a.data for a in answers]
    packets = dissect(datas, tmp_path, name="device-answers")
    failures = stream_disagreements(datas, packets)
    assert not failures, _report(answers, failures)


def test_responses_answer_the_replayed_commands(device_run: RunResult) -> None:
    """Each response is a response to the command sent: its counter, to its sender."""
    checked = 0
    for r in device_run.results:
        if not r.actual:
            continue
        response = frame.signing_message(frame.decode_exact(r.actual))
        sent = frame.signing_message(frame.decode_exact(r.sent))
        assert response is not None and sent is not None, r.scenario.id
        assert response.header.cra is Cra.RESPONSE, r.scenario.id
        assert response.header.originator_counter == sent.header.originator_counter
        assert response.header.recipient == sent.header.originator, r.scenario.id
        checked += 1
    assert checked > 150


def test_gbz_answers_were_compared_field_by_field(device_run: RunResult) -> None:
    """The GBZ comparison above had something to bite on: plaintext ZCL of several kinds."""
    kinds: Counter[str] = Counter()
    for answer in answers_of(device_run):
        payload = gbz_payload(frame.decode_exact(answer.data))
        if payload is None:
            continue
        kinds["gbz messages"] += 1
        for c in payload.components:
            kinds[
                "encrypted" if c.is_encrypted else f"0x{c.cluster_id:04X}/{c.command_id:02X}"
            ] += 1
    assert kinds["gbz messages"] > 100, kinds
    assert kinds["encrypted"] > 0, kinds
    assert len(kinds) > 10, kinds  # many cluster / command pairs, not one answer repeated


def test_segmented_answers_reassemble_alike(device_run: RunResult, tmp_path: Path) -> None:
    """A device answer carried in GBT blocks: tshark reassembles what our reassembler does.

    The emulated devices send whole messages; the longest GBZ and the longest non-GBZ answer
    are cut into blocks as a WAN link would carry them, interleaved block by block.
    """
    answers = [a.data for a in answers_of(device_run)]
    is_gbz = [gbz_payload(frame.decode_exact(d)) is not None for d in answers]
    longest = [
        max((d for d, g in zip(answers, is_gbz, strict=True) if g), key=len),
        max((d for d, g in zip(answers, is_gbz, strict=True) if not g), key=len),
    ]
    chains = [segment(d, block_size=64) for d in longest]
    datas = [
        chain[n].encode()
        for n in range(max(map(len, chains)))
        for chain in chains
        if n < len(chain)
    ]
    packets = dissect(datas, tmp_path, name="gbt")
    failures = stream_disagreements(datas, packets)
    assert not failures, "\n".join(failures[:20])
    reassembled = [p for p in packets if p.values("gbcs_message.gbt.reassembled.length")]
    assert len(reassembled) == 2


def test_reference_gbz_payloads_agree(rtds_dir: Path, tmp_path: Path) -> None:
    """Calibration: on every reference message the GBZ comparison finds tshark agreeing."""
    datas = [
        blob
        for path in sorted(rtds_dir.rglob("*.HEX"))
        for blob in parse_message_text(path.read_text())
    ]
    messages = [frame.decode_exact(d) for d in datas]
    packets = dissect(datas, tmp_path, name="rtds-gbz")
    failures = [
        f"{n}: {p}"
        for n, (message, packet) in enumerate(zip(messages, packets, strict=True))
        for p in gbz_disagreements(packet, message)
    ]
    assert not failures, "\n".join(failures[:20])
    assert sum(gbz_payload(m) is not None for m in messages) > 250


# ------------------------------------------------------------ the comparison can fail


def _first_with(answers: Sequence[Answer], kind: type[zcl.ZclCommand]) -> tuple[bytes, int]:
    """An answer with a plaintext component of ``kind``, and that component's index."""
    for answer in answers:
        payload = gbz_payload(frame.decode_exact(answer.data))
        for n, c in enumerate(payload.components if payload else ()):
            header = ZclHeader(c.frame_control, c.sequence, c.command_id, c.manufacturer_code)
            if not c.is_encrypted and isinstance(
                decode_command(c.cluster_id, header, c.payload), kind
            ):
                return answer.data, n
    raise AssertionError(f"no answer holds a plaintext {kind.__name__}")


def _with_component(message: GbcsMessage, index: int, component: GbzComponent) -> GbcsMessage:
    """``message`` with GBZ component ``index`` replaced (its MAC and signature left stale)."""
    inner = frame.signing_message(message)
    payload = gbz_payload(message)
    assert inner is not None and payload is not None
    components = list(payload.components)
    components[index] = component
    new_inner = dataclasses.replace(
        inner, payload=gbz.encode(dataclasses.replace(payload, components=tuple(components)))
    )
    if isinstance(message, frame.MacProtectedMessage):
        return dataclasses.replace(message, inner=new_inner)
    return new_inner


def test_the_gbz_comparison_catches_disagreements(device_run: RunResult, tmp_path: Path) -> None:
    answers = answers_of(device_run)
    data, index = _first_with(answers, zcl.DefaultResponse)
    [packet] = dissect([data], tmp_path, name="one")
    message = frame.decode_exact(data)
    assert gbz_disagreements(packet, message) == []
    payload = gbz_payload(message)
    assert payload is not None
    component = payload.components[index]
    # a status byte our side reads differently from what tshark saw on the wire
    answered = zcl.DefaultResponse.decode_exact(component.payload)
    other_status = 0x01 if answered.status == 0 else 0x00
    changed = dataclasses.replace(answered, status=other_status)
    wrong = _with_component(message, index, replace(component, payload=changed.encode()))
    assert any(p.startswith("zcl statuses") for p in gbz_disagreements(packet, wrong))
    # a cluster and a sequence number
    wrong = _with_component(message, index, replace(component, cluster_id=component.cluster_id ^ 1))
    assert any(
        p.startswith("gbz extended_header_cluster") for p in gbz_disagreements(packet, wrong)
    )
    wrong = _with_component(message, index, replace(component, sequence=component.sequence + 1))
    problems = gbz_disagreements(packet, wrong)
    assert any(p.startswith("gbz transaction") for p in problems)
    assert any(p.startswith("zcl tsn") for p in problems)
    # an attribute id tshark reports differently
    data, _ = _first_with(answers, zcl.ReadAttributesResponse)
    [packet] = dissect([data], tmp_path, name="two")
    assert gbz_disagreements(packet, frame.decode_exact(data)) == []
    name = next(k for k in packet.fields if k.endswith(".attr_id"))
    packet.fields[name] = [hex(int(packet.fields[name][0], 0) ^ 0x0100), *packet.fields[name][1:]]
    assert any(
        p.startswith("zcl attribute ids")
        for p in gbz_disagreements(packet, frame.decode_exact(data))
    )
    # a DLMS / ASN.1 answer tshark took for GBZ
    other = next(a.data for a in answers if gbz_payload(frame.decode_exact(a.data)) is None)
    [plain] = dissect([other], tmp_path, name="three")
    assert gbz_disagreements(plain, frame.decode_exact(other)) == []
    plain.fields["gbcs_gbz.profile_id"] = ["0x0109"]
    assert gbz_disagreements(plain, frame.decode_exact(other)) != []


def test_the_header_comparison_catches_a_disagreement(
    device_run: RunResult, tmp_path: Path
) -> None:
    answers = answers_of(device_run)
    data = answers[0].data
    [packet] = dissect([data], tmp_path, name="hdr")
    assert stream_disagreements([data], [packet]) == []
    inner = frame.signing_message(frame.decode_exact(data))
    assert inner is not None
    packet.fields["gbcs_message.grouping_header.business_target_id"] = [
        bytes(inner.header.originator).hex(":")
    ]
    assert any("business_target_id" in p for p in stream_disagreements([data], [packet]))
