"""Differential test: Wireshark's GBCS dissector (tshark) against our framing decoder.

Every reference message, and messages our own code builds (the demo conversation, GBT
blocks), goes into one pcap (link type 252, dissector ``gbcs_message``); tshark must find no
malformed packet and agree with :mod:`smemu.protocols.gbcs.frame` on message code, CRA flag,
originator counter, originator, recipient, supplementary remote party, signature and MAC.

Pre-commands (the unsigned form a supplier hands to the DCC) omit the signature element
altogether; Wireshark 4.0's dissector requires one and reports those as malformed, so their
headers are compared as they are and the "no malformed packet" check runs on each pre-command
completed with the empty signature element ``00``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import pytest

from smemu.hil.demo import demo_keystore, demo_messages
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.frame import (
    GbcsMessage,
    GbtBlockMessage,
    GeneralSigningMessage,
    MacProtectedMessage,
)
from smemu.protocols.gbcs.gbt import segment
from smemu.protocols.text import parse_message_text
from tests.crosscheck.tshark import TsharkPacket, dissect, eui, tshark_executable

pytestmark = pytest.mark.skipif(
    tshark_executable() is None,
    reason="tshark not on PATH: install Wireshark's tshark (Debian: apt-get install tshark; "
    ".ci/run does) to cross-check our GBCS decoder against Wireshark's",
)

GH = "gbcs_message.grouping_header."
RH = "gbcs_message.routing_header."


def _corpus(rtds_dir: Path) -> list[tuple[str, bytes]]:
    out = []
    for path in sorted(rtds_dir.rglob("*.HEX")):
        for blob in parse_message_text(path.read_text()):
            out.append((str(path.relative_to(rtds_dir)), blob))
    assert out, f"no reference messages under {rtds_dir}"
    return out


def _is_precommand(message: GbcsMessage) -> bool:
    return isinstance(message, GeneralSigningMessage) and message.signature is None


def header_disagreements(packet: TsharkPacket, message: GbcsMessage) -> list[str]:
    """Where tshark's reading of the headers differs from ours ([] when it agrees)."""
    inner = frame.signing_message(message)
    if isinstance(message, GbtBlockMessage):
        prefix = RH
        ours: dict[str, object] = {
            "message_code": message.message_code,
            "cra_flag": int(message.cra),
            "originator_counter": message.originator_counter,
            "business_originator_id": bytes(message.originator),
            "business_target_id": bytes(message.recipient),
        }
    else:
        assert inner is not None
        prefix = GH
        header = inner.header
        other = header.other_information
        ours = {
            "message_code": other.message_code,
            "cra_flag": int(header.cra),
            "originator_counter": header.originator_counter,
            "business_originator_id": bytes(header.originator),
            "business_target_id": bytes(header.recipient),
        }
        if other.supplementary_remote_party_id is not None:
            ours["supplementary_remote_party_id"] = bytes(other.supplementary_remote_party_id)
        if other.supplementary_remote_party_counter is not None:
            ours["supplementary_remote_party_counter"] = other.supplementary_remote_party_counter
    problems = []
    for field, expected in ours.items():
        values = packet.values(prefix + field)
        if len(values) != 1:
            problems.append(f"{prefix}{field}: tshark gave {values}, we decode {expected!r}")
            continue
        theirs: object = eui(values[0]) if isinstance(expected, bytes) else int(values[0], 0)
        if theirs != expected:
            problems.append(f"{prefix}{field}: tshark {theirs!r}, ours {expected!r}")
    if isinstance(message, MacProtectedMessage):
        macs = [eui(v) for v in packet.values("gbcs_message.mac")]
        if macs != [message.mac]:
            problems.append(f"mac: tshark {[m.hex() for m in macs]}, ours {message.mac.hex()}")
    if inner is not None and inner.signature:
        signatures = [eui(v) for v in packet.values("gbcs_message.krp")]
        if signatures != [inner.signature]:
            problems.append(
                f"signature: tshark {[s.hex() for s in signatures]}, ours {inner.signature.hex()}"
            )
    return problems


def _check_all(
    labels: Sequence[str], datas: Sequence[bytes], packets: Sequence[TsharkPacket]
) -> list[str]:
    failures = []
    for label, data, packet in zip(labels, datas, packets, strict=True):
        message = frame.decode_exact(data)
        problems = header_disagreements(packet, message)
        if not _is_precommand(message):
            problems += packet.expert_problems()
        failures += [f"{label}: {p}" for p in problems]
    return failures


def test_reference_corpus_agrees_with_tshark(rtds_dir: Path, tmp_path: Path) -> None:
    corpus = _corpus(rtds_dir)
    labels = [label for label, _ in corpus]
    datas = [data for _, data in corpus]
    packets = dissect(datas, tmp_path, name="rtds")
    failures = _check_all(labels, datas, packets)
    assert not failures, f"{len(failures)} disagreements, first ones:\n" + "\n".join(failures[:20])


def test_precommands_with_empty_signature_element_are_well_formed(
    rtds_dir: Path, tmp_path: Path
) -> None:
    completed = []
    for label, data in _corpus(rtds_dir):
        message = frame.decode_exact(data)
        if _is_precommand(message):
            assert isinstance(message, GeneralSigningMessage)
            completed.append((label, dataclasses.replace(message, signature=b"").encode()))
    if not completed:
        pytest.skip("no pre-commands in the reference set")
    labels = [label for label, _ in completed]
    datas = [data for _, data in completed]
    packets = dissect(datas, tmp_path, name="precommands")
    failures = _check_all(labels, datas, packets)
    assert not failures, "\n".join(failures[:20])


def test_messages_we_build_dissect_cleanly(tmp_path: Path) -> None:
    demo = demo_messages(demo_keystore())
    labels = [m.name for m in demo]
    datas = [m.data for m in demo]
    packets = dissect(datas, tmp_path, name="demo")
    failures = _check_all(labels, datas, packets)
    assert not failures, "\n".join(failures)
    # the demo holds MAC-only, signed-only and signed-and-MAC'd messages: all were compared
    kinds = {type(frame.decode_exact(d)).__name__ for d in datas}
    assert kinds == {"MacProtectedMessage", "GeneralSigningMessage"}


def test_gbt_blocks_we_build_dissect_and_reassemble(tmp_path: Path) -> None:
    whole = demo_messages(demo_keystore())[2].data  # signed and MAC'd ECS42 command
    blocks = segment(whole, block_size=40)
    assert len(blocks) >= 3
    datas = [b.encode() for b in blocks]
    packets = dissect(datas, tmp_path, name="gbt")
    labels = [f"block {b.block_number}" for b in blocks]
    failures = _check_all(labels, datas, packets)
    for block, packet in zip(blocks, packets, strict=True):
        number = int(packet.one("gbcs_message.gbt_header.block_number"), 0)
        last = packet.one("gbcs_message.gbt_header.block_control.last_block")
        if (number, last in ("1", "True")) != (block.block_number, block.last_block):
            failures.append(f"block {block.block_number}: tshark says {number}, last={last}")
    # tshark reassembles the blocks and dissects the whole message in the last frame
    final = packets[-1]
    if int(final.one("gbcs_message.gbt.reassembled.length")) != len(whole):
        failures.append(f"reassembled length {final.values('gbcs_message.gbt.reassembled.length')}")
    failures += [
        f"reassembled: {p}" for p in header_disagreements(final, frame.decode_exact(whole))
    ]
    assert not failures, "\n".join(failures)
