"""The HAN tunnel envelope: round trips, and bad bytes raise only DecodeError."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.errors import DecodeError, LocalProtocolError
from smemu.firmware.common.han import (
    MAX_TRANSFER_SIZE,
    HanFrame,
    TunnelCommand,
    decode_han,
    decode_link,
    request_tunnel,
    request_tunnel_response,
    transfer_data,
)
from smemu.protocols.zigbee import tunnel
from smemu.protocols.zigbee.registry import decode_frame

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
    with pytest.raises(DecodeError, match="trailing"):
        decode_han(b"\x01\x00")
    with pytest.raises(DecodeError, match="PUT carries"):
        decode_han(b"\x03")


links = st.one_of(
    st.builds(request_tunnel, st.integers(0, 255)),
    st.builds(
        request_tunnel_response,
        st.integers(0, 255),
        st.integers(0, 0xFFFF),
        st.sampled_from(tunnel.TunnelStatus),
    ),
    st.builds(
        lambda payload, tid, seq, down: transfer_data(
            payload, tunnel_id=tid, sequence=seq, to_client=down
        ),
        frames.map(HanFrame.encode),
        st.integers(0, 0xFFFF),
        st.integers(0, 255),
        st.booleans(),
    ),
)


@given(links)
def test_link_frames_are_tunneling_cluster_frames(data: bytes) -> None:
    """Every link frame decodes with the zigbee registry as a Tunneling cluster command."""
    decoded = decode_frame(tunnel.TUNNELING_CLUSTER, data)
    assert decoded.encode() == data
    link = decode_link(data)
    assert link.sequence == decoded.header.sequence
    assert link.command == decoded.command
    if link.payload is not None:
        assert decoded.header.disable_default_response
        assert decoded.header.direction == int(
            isinstance(link.command, tunnel.TransferDataToClient)
        )
        decode_han(link.payload)  # the GBCS tunnel header inside


def test_request_tunnel_asks_for_gbcs_without_flow_control() -> None:
    command = decode_link(request_tunnel(7)).command
    assert isinstance(command, tunnel.RequestTunnel)
    assert command.protocol_id == tunnel.GB_HRGP_PROTOCOL_ID == 6
    assert command.manufacturer_code == 0xFFFF
    assert not command.flow_control_support


def test_oversize_transfer_is_refused_and_other_clusters_rejected() -> None:
    with pytest.raises(LocalProtocolError):
        transfer_data(b"\x03" + bytes(MAX_TRANSFER_SIZE), tunnel_id=1, sequence=0, to_client=True)
    with pytest.raises(DecodeError, match="Tunneling"):
        decode_link(bytes((0x00, 0x01, 0x0B, 0x00, 0x00)))  # a profile-wide Default Response


@given(st.binary(max_size=40))
def test_random_link_bytes_raise_only_decode_error(data: bytes) -> None:
    try:
        link = decode_link(data)
    except DecodeError:
        return
    assert type(link.command).CLUSTER_ID == tunnel.TUNNELING_CLUSTER
