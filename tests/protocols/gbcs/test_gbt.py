"""GBT segmentation and reassembly, on messages we segment ourselves (the vectors have none)."""

from __future__ import annotations

from dataclasses import replace
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smemu.errors import LocalProtocolError, RemoteProtocolError
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.frame import GbcsMessage, GbtBlockMessage
from smemu.protocols.gbcs.gbt import GbtReassembler, segment
from tests.strategies.gbcs import general_signing, mac_protected


@settings(max_examples=150, deadline=None)
@given(mac_protected | general_signing, st.integers(1, 300), st.randoms(use_true_random=False))
def test_shuffled_and_repeated_blocks_reassemble(
    message: GbcsMessage, size: int, rnd: Random
) -> None:
    data = frame.encode(message)
    blocks = segment(data, block_size=size)
    assert [b.block_number for b in blocks] == list(range(1, len(blocks) + 1))
    assert [b.last_block for b in blocks] == [False] * (len(blocks) - 1) + [True]
    # each block survives its own framing
    assert all(frame.decode_exact(frame.encode(b)) == b for b in blocks)
    order = blocks + rnd.sample(blocks, k=min(3, len(blocks)))
    rnd.shuffle(order)
    reassembler = GbtReassembler()
    results = [reassembler.feed(b) for b in order]
    done = [r for r in results if r is not None]
    assert done[0] == data
    assert frame.decode_exact(done[0]) == message


def _blocks(n: int) -> list[GbtBlockMessage]:
    message = frame.decode_exact(
        bytes.fromhex("DF090100000000000003E80890B3D51F300100000800DB1234567890A00002004F")
        + bytes([100])
        + bytes(range(100))
    )
    data = frame.encode(message)
    blocks = segment(data, block_size=len(data) // n + 1)
    assert len(blocks) == n
    return blocks


def test_a_missing_block_is_reported_and_nothing_is_returned() -> None:
    blocks = _blocks(5)
    reassembler = GbtReassembler()
    for block in blocks[:2] + blocks[3:]:
        assert reassembler.feed(block) is None
    key = GbtReassembler.key_of(blocks[0])
    assert reassembler.pending() == [key]
    assert reassembler.missing(key) == [3]
    assert reassembler.feed(blocks[2]) is not None
    assert reassembler.pending() == []


def test_conflicting_repeat_raises_and_forgets_the_message() -> None:
    blocks = _blocks(3)
    reassembler = GbtReassembler()
    reassembler.feed(blocks[0])
    evil = replace(blocks[0], block_data=b"x")
    with pytest.raises(RemoteProtocolError, match="different data"):
        reassembler.feed(evil)
    assert reassembler.pending() == []


def test_block_beyond_last_raises() -> None:
    blocks = _blocks(3)
    reassembler = GbtReassembler()
    reassembler.feed(blocks[1])
    early_last = replace(blocks[0], last_block=True)
    with pytest.raises(RemoteProtocolError, match="beyond the last block"):
        reassembler.feed(early_last)


def test_segment_refuses_bad_sizes() -> None:
    data = frame.encode(_blocks(2)[0])
    with pytest.raises(LocalProtocolError):
        segment(data)
    with pytest.raises(LocalProtocolError):
        segment(b"\xdf", block_size=0)
