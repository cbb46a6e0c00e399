"""Hypothesis strategies generating valid GBCS outer structures (style rule H32)."""

from __future__ import annotations

from hypothesis import strategies as st

from smemu.protocols.gbcs.frame import (
    GbtBlockMessage,
    GeneralSigningMessage,
    GroupingHeader,
    MacProtectedMessage,
    OtherInformation,
)
from smemu.protocols.gbcs.types import Cra, Eui64

u64 = st.integers(min_value=0, max_value=(1 << 64) - 1)
euis = st.binary(min_size=8, max_size=8).map(Eui64)
cras = st.sampled_from(list(Cra))
message_codes = st.integers(min_value=0, max_value=0xFFFF)
certificates = st.binary(max_size=450).map(lambda b: b"\x30" + b)


@st.composite
def other_information(draw: st.DrawFn) -> OtherInformation:
    code = draw(message_codes)
    variant = draw(st.sampled_from(["code", "id", "counter", "origctr", "cert", "origctr+cert"]))
    if variant == "code":
        return OtherInformation(code)
    srp = draw(euis)
    if variant == "id":
        return OtherInformation(code, srp)
    counter = draw(u64)
    if variant == "counter":
        return OtherInformation(code, srp, counter)
    if variant == "origctr":
        return OtherInformation(code, srp, counter, draw(u64))
    if variant == "cert":
        cert = draw(certificates.filter(lambda c: len(c) != 8))
        return OtherInformation(code, srp, counter, None, cert)
    orig = draw(u64.filter(lambda v: v >> 56 != 0x30))
    return OtherInformation(code, srp, counter, orig, draw(certificates))


grouping_headers = st.builds(
    GroupingHeader,
    cra=cras,
    originator_counter=u64,
    originator=euis,
    recipient=euis,
    date_time=st.none() | st.binary(min_size=12, max_size=12),
    other_information=other_information(),
)
# Payload sizes cross the one-byte (127), 0x81 (255) and 0x82 length forms.
payloads = st.binary(max_size=40) | st.binary(min_size=120, max_size=600)
signatures = st.sampled_from([b""]) | st.binary(min_size=64, max_size=64)

general_signing = st.builds(
    GeneralSigningMessage,
    header=grouping_headers,
    payload=payloads,
    signature=st.none() | signatures,
)
mac_protected = st.builds(
    MacProtectedMessage,
    inner=st.builds(
        GeneralSigningMessage, header=grouping_headers, payload=payloads, signature=signatures
    ),
    mac=st.binary(min_size=12, max_size=12),
    security_control=st.integers(0, 255),
    invocation_counter=st.integers(0, 0xFFFFFFFF),
)
gbt_blocks = st.builds(
    GbtBlockMessage,
    cra=cras,
    originator_counter=u64,
    originator=euis,
    recipient=euis,
    message_code=message_codes,
    block_number=st.integers(0, 0xFFFF),
    block_number_ack=st.integers(0, 0xFFFF),
    last_block=st.booleans(),
    block_data=payloads,
    streaming=st.booleans(),
    window=st.integers(0, 63),
    security_header=st.binary(min_size=5, max_size=5),
)
gbcs_messages = mac_protected | general_signing | gbt_blocks
