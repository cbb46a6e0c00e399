"""Text forms of GBCS messages: hex (any separators) and base64, as people and DUIS write them.

Layer: protocols (sans-IO). gbcs-reference.md section 12: DUIS hands messages over as base64,
the reference set stores hex; both must be accepted.
"""

from __future__ import annotations

import base64
import binascii
import re

from smemu.errors import DecodeError

_HEX_NOISE = re.compile(r"0[xX](?=[0-9A-Fa-f])|[\s:,;\-_.|]")
_HEX = re.compile(r"[0-9A-Fa-f]*")
_GBCS_FIRST_BYTES = (0xDD, 0xDF)


def _from_base64(token: str) -> bytes | None:
    try:
        data = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if data and data[0] in _GBCS_FIRST_BYTES else None


def parse_message_text(text: str) -> list[bytes]:
    """Turn text into the binary blobs it holds.

    Hex is tried first: after removing whitespace, ``:``, ``,``, ``-``, ``|`` and ``0x``
    prefixes, an even number of hex digits is one blob (which may hold several messages back
    to back). Otherwise the text is base64: one blob, or one blob per whitespace-separated
    token. Base64 must decode to something starting with 0xDD or 0xDF (a GBCS message).

    :raises DecodeError: when the text is neither, saying what was found.
    """
    stripped = text.strip()
    if not stripped:
        raise DecodeError("expected hex or base64 text, got nothing", path="input", offset=0)
    digits = _HEX_NOISE.sub("", stripped)
    if _HEX.fullmatch(digits):
        if len(digits) % 2:
            raise DecodeError(
                f"expected an even number of hex digits, got {len(digits)}", path="input"
            )
        return [bytes.fromhex(digits)]
    whole = _from_base64("".join(stripped.split()))
    if whole is not None:
        return [whole]
    blobs = []
    for number, token in enumerate(stripped.split(), start=1):
        blob = _from_base64(token)
        if blob is None:
            bad = next((c for c in digits if c not in "0123456789abcdefABCDEF"), "?")
            raise DecodeError(
                f"expected hex digits or base64 of a GBCS message; token {number} "
                f"({token[:16]!r}...) is neither (first non-hex character {bad!r})",
                path="input",
            )
        blobs.append(blob)
    return blobs
