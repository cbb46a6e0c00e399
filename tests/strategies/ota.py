"""Hypothesis strategies for ZigBee OTA Upgrade cluster frames (smemu.protocols.zigbee.ota).

Everything drawn encodes without error and decodes back to an equal frame.
"""

from __future__ import annotations

from hypothesis import strategies as st

from smemu.protocols.zigbee import ota

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)


@st.composite
def image_notifies(draw: st.DrawFn) -> ota.ImageNotify:
    kind = draw(st.integers(0, 3))
    return ota.ImageNotify(
        kind,
        draw(u8),
        draw(u16) if kind >= 1 else None,
        draw(u16) if kind >= 2 else None,
        draw(u32) if kind >= 3 else None,
    )


@st.composite
def query_requests(draw: st.DrawFn) -> ota.QueryNextImageRequest:
    control = draw(u8)
    hardware = draw(u16) if control & ota.FC_HARDWARE_VERSION else None
    return ota.QueryNextImageRequest(control, draw(u16), draw(u16), draw(u32), hardware)


@st.composite
def query_responses(draw: st.DrawFn) -> ota.QueryNextImageResponse:
    status = draw(st.sampled_from([int(s) for s in ota.OtaStatus]) | u8)
    if status != ota.OtaStatus.SUCCESS:
        return ota.QueryNextImageResponse(status)
    return ota.QueryNextImageResponse(status, draw(u16), draw(u16), draw(u32), draw(u32))


@st.composite
def block_requests(draw: st.DrawFn) -> ota.ImageBlockRequest:
    control = draw(u8)
    node = draw(st.binary(min_size=8, max_size=8)) if control & ota.FC_NODE_ADDRESS else None
    period = draw(u16) if control & ota.FC_BLOCK_PERIOD else None
    return ota.ImageBlockRequest(
        control, draw(u16), draw(u16), draw(u32), draw(u32), draw(u8), node, period
    )


blocks = st.builds(ota.ImageBlock, u16, u16, u32, u32, st.binary(max_size=255))
waits = st.builds(ota.ImageBlockWait, u32, u32, u16)
aborts = st.builds(
    ota.ImageBlockAbort,
    u8.filter(lambda s: s not in (ota.OtaStatus.SUCCESS, ota.OtaStatus.WAIT_FOR_DATA)),
)
end_requests = st.builds(ota.UpgradeEndRequest, u8, u16, u16, u32)
end_responses = st.builds(ota.UpgradeEndResponse, u16, u16, u32, u32, u32)

ota_commands = st.one_of(
    image_notifies(),
    query_requests(),
    query_responses(),
    block_requests(),
    blocks,
    waits,
    aborts,
    end_requests,
    end_responses,
)

ota_frames = st.builds(ota.OtaFrame, u8, ota_commands, st.booleans())
