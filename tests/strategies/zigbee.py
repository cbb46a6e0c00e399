"""Hypothesis strategies generating valid GBZ payloads (style rule H32).

Everything drawn here encodes without error and decodes back (with the matching ``alert``
flag) to an equal object.
"""

from __future__ import annotations

from hypothesis import strategies as st

from smemu.protocols.zigbee.gbz import (
    COMPONENT_ALERT_CODES,
    CONTROL_ENCRYPTED,
    CONTROL_FROM_DATE_TIME,
    ZCL_MANUFACTURER_SPECIFIC,
    GbzAlert,
    GbzComponent,
    GbzEncryption,
    GbzMessage,
)
from tests.strategies.dlms import ciphered_blocks

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFF_FFFF)


@st.composite
def gbz_components(draw: st.DrawFn, *, encrypted: bool | None = None) -> GbzComponent:
    """One component; ``encrypted`` forces (True/False) or leaves to chance (None)."""
    control = draw(u8) & ~(CONTROL_ENCRYPTED | CONTROL_FROM_DATE_TIME)
    frame_control = draw(u8)
    from_date_time = draw(st.one_of(st.none(), u32))
    if from_date_time is not None:
        control |= CONTROL_FROM_DATE_TIME
    manufacturer = draw(u16) if frame_control & ZCL_MANUFACTURER_SPECIFIC else None
    if encrypted is None:
        encrypted = draw(st.booleans())
    encryption = None
    payload = b""
    if encrypted:
        control |= CONTROL_ENCRYPTED
        encryption = GbzEncryption(draw(u8), draw(u8), draw(ciphered_blocks))
    else:
        payload = draw(st.binary(max_size=80))
    return GbzComponent(
        control,
        draw(u16),
        frame_control,
        draw(u8),
        draw(u8),
        payload,
        from_date_time,
        manufacturer,
        encryption,
    )


@st.composite
def gbz_alerts(draw: st.DrawFn) -> GbzMessage:
    """Alert-form payloads (decode them with ``alert=True``)."""
    code = draw(st.one_of(st.sampled_from(sorted(COMPONENT_ALERT_CODES)), u16))
    timestamp = draw(u32)
    if code in COMPONENT_ALERT_CODES:
        components = draw(st.lists(gbz_components(), max_size=2))
        return GbzMessage(tuple(components), GbzAlert(code, timestamp))
    data = draw(st.binary(max_size=40))
    return GbzMessage((), GbzAlert(code, timestamp, data, draw(u8)))


#: Command/response-form payloads (decode them with ``alert=False``).
gbz_messages = st.lists(gbz_components(), max_size=5).map(lambda cs: GbzMessage(tuple(cs)))
