"""Value types shared by the GBCS codecs: EUI-64 entity identifiers and the CRA flag.

Layer: protocols (sans-IO). GBCS section 7.2 (grouping header): parties are named by EUI-64
"Entity Identifiers"; the CRA flag says whether a message is a Command, Response or Alert.
"""

from __future__ import annotations

import enum
import re

from smemu.errors import DecodeError, LocalProtocolError

_SEPARATORS = re.compile(r"[\s:\-_.]")
_HEX16 = re.compile(r"[0-9A-Fa-f]{16}")


class Eui64(bytes):
    """An 8-byte EUI-64 entity identifier (big-endian, as carried in GBCS headers).

    It is ``bytes`` (hashable, concatenates directly) that prints the way people write it:
    ``90-B3-D5-1F-30-01-00-00``. ZigBee on-air addresses are the same bytes reversed.
    """

    __slots__ = ()

    def __new__(cls, value: bytes) -> Eui64:
        if len(value) != 8:
            raise LocalProtocolError(f"an EUI-64 is 8 bytes, got {len(value)}")
        return super().__new__(cls, value)

    @classmethod
    def parse(cls, text: str) -> Eui64:
        """Parse ``90B3D51F30010000`` or ``90-B3-D5-1F-30-01-00-00`` (any case, ``-``/``:``/space).

        :raises DecodeError: unless exactly 16 hex digits remain after removing separators.
        """
        digits = _SEPARATORS.sub("", text)
        if not _HEX16.fullmatch(digits):
            raise DecodeError(f"expected an EUI-64 of 16 hex digits, got {text!r}")
        return cls(bytes.fromhex(digits))

    def __str__(self) -> str:
        return "-".join(f"{b:02X}" for b in self)

    def __repr__(self) -> str:
        return f"Eui64('{self}')"

    @property
    def compact(self) -> str:
        """Upper-case hex without separators, as key store file names use it (lower-cased)."""
        return self.hex().upper()


class Cra(enum.IntEnum):
    """The CRA flag (GBCS 7.2.4): first byte of the transaction id."""

    COMMAND = 1
    RESPONSE = 2
    ALERT = 3

    @property
    def label(self) -> str:
        """Lower-case name used in JSON output: ``command``, ``response`` or ``alert``."""
        return self.name.lower()
