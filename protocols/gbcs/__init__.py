"""GBCS outer framing: MAC header, grouping header, GBT blocks, message codes.

Layer: protocols. See :mod:`smemu.protocols.gbcs.frame` for the codec and
:mod:`smemu.protocols.gbcs.gbt` for segmentation and reassembly.
"""

from __future__ import annotations

from smemu.protocols.gbcs.frame import (
    GbcsMessage,
    GbtBlockMessage,
    GeneralSigningMessage,
    GroupingHeader,
    Located,
    MacProtectedMessage,
    OtherInformation,
    decode,
    decode_exact,
    encode,
    locate,
)
from smemu.protocols.gbcs.types import Cra, Eui64

__all__ = [
    "Cra",
    "Eui64",
    "GbcsMessage",
    "GbtBlockMessage",
    "GeneralSigningMessage",
    "GroupingHeader",
    "Located",
    "MacProtectedMessage",
    "OtherInformation",
    "decode",
    "decode_exact",
    "encode",
    "locate",
]
