"""Hypothesis strategies for ZigBee OTA Upgrade file headers."""

from __future__ import annotations

from hypothesis import strategies as st

from smemu.protocols.zigbee import ota_file

#: headers with every optional field present or absent (total size left to ``build``)
headers = st.builds(
    ota_file.OtaFileHeader,
    manufacturer_code=st.integers(0, 0xFFFF),
    image_type=st.integers(0, 0xFFFF),
    file_version=st.integers(0, 0xFFFFFFFF),
    total_size=st.just(0),
    stack_version=st.integers(0, 0xFFFF),
    header_string=st.binary(min_size=32, max_size=32),
    security_credential_version=st.none() | st.integers(0, 0xFF),
    destination=st.none() | st.binary(min_size=8, max_size=8),
    hardware_versions=st.none() | st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)),
)
