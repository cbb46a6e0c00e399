"""The HAN tunnel envelope: round trips, and bad bytes raise only DecodeError."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.errors import DecodeError
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han

frames = st.one_of(
    st.just(HanFrame(TunnelCommand.GET)),
    st.builds(
        HanFrame,
        st.just(TunnelCommand.GET_RESPONSE),
        st.binary(max_size=64),
        st.integers(0, 255),
    ),
    st.builds(HanFrame, st.just(TunnelCommand.PUT), st.binary(min_size=1, max_size=64)),
)


@given(frames)
def test_round_trip(frame: HanFrame) -> None:
    assert decode_han(frame.encode()) == frame


@given(st.binary(max_size=40))
def test_random_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    try:
        frame = decode_han(data)
    except DecodeError:
        return
    assert frame.encode() == data


def test_errors_name_the_problem() -> None:
    with pytest.raises(DecodeError, match="0x07"):
        decode_han(b"\x07")
    with pytest.raises(DecodeError, match="one byte"):
        decode_han(b"\x01\x00")
