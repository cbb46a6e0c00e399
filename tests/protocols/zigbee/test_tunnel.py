"""HAN tunnelling (SE Tunneling cluster 0x0704) frames and the GBCS tunnel header."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.errors import DecodeError
from smemu.protocols.zigbee import tunnel
from smemu.protocols.zigbee.registry import ZclFrame, decode_frame
from smemu.protocols.zigbee.tunnel import (
    GB_HRGP_PROTOCOL_ID,
    TUNNELING_CLUSTER,
    RequestTunnel,
    RequestTunnelResponse,
    TransferData,
    TunnelGet,
    TunnelGetResponse,
    TunnelPut,
    decode_gbcs_tunnel,
)
from smemu.protocols.zigbee.zcl import ZclHeader
from tests.strategies.zigbee import gbcs_tunnel_commands, zcl_records


def test_request_tunnel_for_gbcs() -> None:
    # client -> server, cluster-specific (fc 01), seq 5, command 00: protocol 6 (GB-HRGP),
    # manufacturer FFFF, flow control off, maximum incoming transfer size 1500
    frame = ZclFrame.build(RequestTunnel(GB_HRGP_PROTOCOL_ID, 0xFFFF, 0, 1500), 5)
    wire = bytes.fromhex("01 05 00 06 ffff 00 dc05")
    assert frame.encode() == wire
    assert decode_frame(TUNNELING_CLUSTER, wire) == frame


def test_request_tunnel_response() -> None:
    wire = bytes.fromhex("09 05 00 0100 00 dc05")
    frame = decode_frame(TUNNELING_CLUSTER, wire)
    assert frame.command == RequestTunnelResponse(1, tunnel.TunnelStatus.SUCCESS, 1500)
    assert frame.to_json()["payload"]["tunnel_status"] == "success"


def test_transfer_data_carries_a_gbcs_put() -> None:
    message = bytes.fromhex("dd00") + b"\x11" * 10  # any GBCS message bytes
    data = TunnelPut(message=message).encode()
    assert data[:1] == b"\x03"
    frame = decode_frame(TUNNELING_CLUSTER, bytes.fromhex("01 00 02 0100") + data)
    assert frame.command == TransferData(1, data)
    assert frame.command.undecoded_bytes == 0
    assert decode_gbcs_tunnel(data) == TunnelPut(message=message)


def test_server_to_client_transfer_data_get_response() -> None:
    data = bytes.fromhex("02 03") + b"\xdf\x09"
    frame = decode_frame(TUNNELING_CLUSTER, bytes.fromhex("19 07 01 0200") + data)
    assert isinstance(frame.command, tunnel.TransferDataToClient)
    assert decode_gbcs_tunnel(frame.command.data) == TunnelGetResponse(
        remaining=3, message=b"\xdf\x09"
    )
    assert frame.to_json()["command"] == "transfer_data"


def test_gbcs_get_is_one_byte() -> None:
    assert TunnelGet().encode() == b"\x01"
    assert decode_gbcs_tunnel(b"\x01") == TunnelGet()
    with pytest.raises(DecodeError) as info:
        decode_gbcs_tunnel(b"\x01\x00")
    assert info.value.path == "gbcs_tunnel"


@pytest.mark.parametrize(
    ("data", "path"), [(b"", "gbcs_tunnel"), (b"\x07", "gbcs_tunnel.command")]
)
def test_bad_gbcs_tunnel_commands(data: bytes, path: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_gbcs_tunnel(data)
    assert info.value.path == path


def test_truncated_frame_errors_have_a_path() -> None:
    with pytest.raises(DecodeError) as info:
        decode_frame(TUNNELING_CLUSTER, bytes.fromhex("01 05 00 06 ff"))
    assert info.value.path == "zcl.RequestTunnel.manufacturer_code"
    assert info.value.offset == 4
    with pytest.raises(DecodeError) as info:
        decode_frame(TUNNELING_CLUSTER, b"\x01")
    assert info.value.path == "zcl.header"


_TUNNEL_CLASSES = [
    c for c in tunnel.__dict__.values()
    if isinstance(c, type) and getattr(c, "CLUSTER_ID", None) == TUNNELING_CLUSTER
    and c.__name__[0] != "_"
]


@given(st.sampled_from(_TUNNEL_CLASSES).flatmap(zcl_records), st.integers(0, 255))
def test_tunnel_frames_round_trip(command: tunnel.ZclCommand, sequence: int) -> None:
    frame = ZclFrame.build(command, sequence)
    assert decode_frame(TUNNELING_CLUSTER, frame.encode()) == frame


@given(gbcs_tunnel_commands())
def test_gbcs_tunnel_commands_round_trip(
    command: TunnelGet | TunnelGetResponse | TunnelPut,
) -> None:
    assert decode_gbcs_tunnel(command.encode()) == command


@given(st.binary(max_size=40))
def test_random_frames_raise_only_decode_error(data: bytes) -> None:
    try:
        frame = decode_frame(TUNNELING_CLUSTER, data)
    except DecodeError:
        return
    assert frame.encode() == data
    assert ZclHeader.decode(data)[0] == frame.header


@given(st.binary(max_size=40))
def test_random_tunnel_payloads_raise_only_decode_error(data: bytes) -> None:
    try:
        command = decode_gbcs_tunnel(data)
    except DecodeError:
        return
    assert command.encode() == data
