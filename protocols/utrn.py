"""UTRN prepayment top-up tokens: Verhoeff check, encode, decode, verify (GBCS §14.3; reference §6).

Sans-IO. A UTRN is 20 decimal digits: PPTD = PTUT + 0x669D529B714A0000 (19 digits) and a
GBCS-variant Verhoeff check digit (tables 14.8a/b/c). PTUT packs the value, its class, 10
counter bits and 32 bits of a GMAC tag keyed from the supplier's prepayment KA key.
"""

from __future__ import annotations

import enum
import hmac
from dataclasses import dataclass
from typing import Final

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.security.gcm import MAC_AAD_PREFIX, gmac_full
from smemu.protocols.security.kdf import KdfMode, message_key

#: Added to the 64-bit PTUT to give the 19-digit PPTD (reference §6.1 step 6).
PPTD_OFFSET: Final = 7_394_156_990_786_306_048
#: Largest top-up value (13 bits).
MAX_VALUE: Final = 8191
#: Number of digits in a UTRN (19-digit PPTD + check digit).
UTRN_LENGTH: Final = 20
#: Number of low counter bits a UTRN carries: counter bits 41..32.
COUNTER_BITS: Final = 10

_PPTD_DIGITS: Final = UTRN_LENGTH - 1
_EUI_HEX_DIGITS: Final = 16
_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")
_DECIMAL_DIGITS: Final = frozenset("0123456789")
_COUNTER_MASK: Final = (1 << COUNTER_BITS) - 1
# PTUT-high bits 31..25 are zero in every valid token, so PTUT < 2**57.
_PTUT_LIMIT: Final = 1 << 57
_UTRN_MODE: Final = KdfMode.COMMAND

# GBCS Verhoeff variant (reference §6.2): permutation table P (14.8b), dihedral D5
# multiplication table D (14.8a) and the check-digit table I (14.8c). I is not the group
# inverse of textbook Verhoeff; reproduce the tables literally.
_P: Final = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_D: Final = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_I: Final = (1, 2, 6, 7, 5, 8, 3, 0, 9, 4)
_START_ROW: Final = 4


class ValueClass(enum.IntEnum):
    """Unit of a top-up value (PTUT-high bits 14..13)."""

    PENNIES = 0
    POUNDS = 1


def _first_non_digit(text: str) -> int | None:
    for index, char in enumerate(text):
        if char not in _DECIMAL_DIGITS:
            return index
    return None


def verhoeff_check_digit(digits: str) -> str:
    """Compute the GBCS Verhoeff check digit of a digit string (reference §6.2).

    Processes the digits left to right starting at permutation row 4:
    ``c = D[c][P[k][d]]``, ``k = (k + 1) mod 8``; the check digit is ``I[c]``.

    :param digits: ASCII decimal digits, normally the 19-digit PPTD.
    :returns: the check digit, one character.
    :raises DecodeError: ``digits`` is empty or holds anything but ASCII digits 0-9.
    """
    if not digits:
        raise DecodeError("expected decimal digits, got an empty string", path="utrn")
    bad = _first_non_digit(digits)
    if bad is not None:
        raise DecodeError(f"expected a decimal digit, got {digits[bad]!r}", path="utrn", offset=bad)
    check = 0
    row = _START_ROW
    for char in digits:
        check = _D[check][_P[row][ord(char) - 48]]
        row = (row + 1) & 7
    return chr(48 + _I[check])


def verhoeff_valid(utrn: str) -> bool:
    """Tell whether the last digit of ``utrn`` is the GBCS Verhoeff check digit of the rest.

    :param utrn: a digit string, normally the 20-digit UTRN.
    :returns: ``True`` if the check digit is right; ``False`` if it is wrong, or if
        ``utrn`` has fewer than two characters or any character other than ASCII 0-9.
    """
    if len(utrn) < 2 or _first_non_digit(utrn) is not None:
        return False
    return verhoeff_check_digit(utrn[:-1]) == utrn[-1]


def _eui(value: str | bytes, field: str) -> bytes:
    # Accept the spellings a supplier system uses: any case, '-' or space separators.
    if isinstance(value, bytes):
        if len(value) != _EUI_HEX_DIGITS // 2:
            raise LocalProtocolError(f"{field} must be 8 bytes, got {len(value)}")
        return value
    cleaned = value.replace("-", "").replace(" ", "")
    if len(cleaned) != _EUI_HEX_DIGITS or not _HEX_DIGITS.issuperset(cleaned):
        raise DecodeError(f"unexpected {field} format", path=field)
    return bytes.fromhex(cleaned)


def _ptut_high(counter: int, value: int, value_class: int) -> int:
    return (((counter >> 32) & _COUNTER_MASK) << 15) | (value_class << 13) | value


def utrn_key(prepayment_secret: bytes, originator: bytes, target: bytes, counter: int) -> bytes:
    """Derive the UTRN key K (reference §6.1 step 2).

    ``K = KDF(Z, OtherInfo(originator, 0x01, counter, target))``.

    :param prepayment_secret: Z between the supplier's prepayment KA key and the device's KA
        key, e.g. from :meth:`~smemu.protocols.security.keystore.KeyStore.prepayment_secret`.
    :param originator: the supplier's EUI-64 (8 bytes).
    :param target: the device's EUI-64 (8 bytes).
    :param counter: the 64-bit UTRN counter.
    :returns: the 16-byte key.
    :raises LocalProtocolError: an EUI is not 8 bytes or the counter is out of range.
    :raises SecurityError: ``prepayment_secret`` is not 32 bytes.
    """
    return message_key(prepayment_secret, originator, _UTRN_MODE, counter, target)


def utrn_tag(key: bytes, originator: bytes, target: bytes, counter: int, ptut_high: int) -> bytes:
    """Compute the full 16-byte GCM tag whose last 4 bytes are PTUT-low (reference §6.1).

    AAD = ``11 00 00 00 00 00 | originator | target | 01 | counter (8) | PTUT-high (4)``.

    :param key: the key from :func:`utrn_key`.
    :param originator: the supplier's EUI-64 (8 bytes), also the IV.
    :param target: the device's EUI-64 (8 bytes).
    :param counter: the 64-bit UTRN counter.
    :param ptut_high: the upper 32 bits of PTUT.
    :returns: the 16-byte tag.
    :raises LocalProtocolError: the originator is not 8 bytes.
    :raises SecurityError: the key is not 16 bytes.
    """
    aad = b"".join(
        (
            MAC_AAD_PREFIX,
            originator,
            target,
            _UTRN_MODE.to_bytes(1, "big"),
            counter.to_bytes(8, "big"),
            ptut_high.to_bytes(4, "big"),
        )
    )
    return gmac_full(key, originator, aad)


@dataclass(frozen=True, slots=True)
class UtrnToken:
    """The fields of a decoded UTRN (reference §6.1).

    PTUT layout (64 bits, MSB first)::

        | 0 (7) | counter bits 41..32 (10) | class (2) | value (13) | tag[12:16] (32) |
        \\_________________ PTUT-high (32) _________________/ \\__ PTUT-low (32) __/
    """

    #: Top-up amount, 0..8191, in units of :attr:`value_class`.
    value: int
    #: Whether :attr:`value` counts pennies or pounds.
    value_class: ValueClass
    #: Bits 41..32 of the UTRN counter (the device reconstructs the rest).
    counter_bits: int
    #: Last 4 bytes of the 16-byte GCM tag, as an unsigned int.
    ptut_low: int

    def __post_init__(self) -> None:
        if not 0 <= self.value <= MAX_VALUE:
            raise LocalProtocolError(f"value out of range: {self.value} (expected 0..{MAX_VALUE})")
        if self.value_class not in (ValueClass.PENNIES, ValueClass.POUNDS):
            raise LocalProtocolError(f"unknown value class {self.value_class}")
        if not 0 <= self.counter_bits <= _COUNTER_MASK:
            raise LocalProtocolError(f"counter bits out of range: {self.counter_bits}")
        if not 0 <= self.ptut_low <= 0xFFFFFFFF:
            raise LocalProtocolError(f"PTUT-low out of range: {self.ptut_low}")

    @property
    def ptut_high(self) -> int:
        """The upper 32 bits of PTUT."""
        return (self.counter_bits << 15) | (self.value_class << 13) | self.value

    @property
    def ptut(self) -> int:
        """The 64-bit Prepayment Top-Up Token."""
        return (self.ptut_high << 32) | self.ptut_low

    @property
    def utrn(self) -> str:
        """The 20-digit UTRN string (PPTD then check digit)."""
        pptd = str(self.ptut + PPTD_OFFSET)
        return pptd + verhoeff_check_digit(pptd)


def encode_utrn(
    *,
    prepayment_secret: bytes,
    originator: str | bytes,
    target: str | bytes,
    counter: int,
    value: int,
    value_class: ValueClass = ValueClass.PENNIES,
) -> str:
    """Make the UTRN a supplier sends in CS01a/CS01b (reference §6.1).

    The secret is passed rather than a key because the key depends on the counter; a key
    store caches the secret per (supplier, device), so each token costs one hash and one
    GMAC. Only counter bits 41..32 travel in the token, yet the whole counter enters the key
    and the tag: GBCS counters for top-ups have their low 32 bits zero.

    :param prepayment_secret: Z between the supplier's prepayment KA private key and the
        device's KA public key
        (:meth:`~smemu.protocols.security.keystore.KeyStore.prepayment_secret`).
    :param originator: the supplier's EUI-64: 8 bytes, or 16 hex digits in any case with
        optional ``-`` or space separators.
    :param target: the device's EUI-64, in the same forms.
    :param counter: the 64-bit UTRN counter (the top-up command's originator counter).
    :param value: the amount, 0..8191.
    :param value_class: pennies (default) or pounds.
    :returns: the 20-digit UTRN.
    :raises DecodeError: ``originator`` or ``target`` is a string that is not 16 hex
        digits ("unexpected originator format" / "unexpected target format").
    :raises LocalProtocolError: ``value`` is outside 0..8191 ("value out of range"), the
        counter is outside 0..2**64-1, the value class is unknown, or an EUI given as bytes
        is not 8 bytes.
    :raises SecurityError: ``prepayment_secret`` is not 32 bytes.
    """
    originator_eui = _eui(originator, "originator")
    target_eui = _eui(target, "target")
    if not 0 <= value <= MAX_VALUE:
        raise LocalProtocolError(f"value out of range: {value} (expected 0..{MAX_VALUE})")
    if value_class not in (ValueClass.PENNIES, ValueClass.POUNDS):
        raise LocalProtocolError(f"unknown value class {value_class}")
    key = utrn_key(prepayment_secret, originator_eui, target_eui, counter)
    high = _ptut_high(counter, value, value_class)
    tag = utrn_tag(key, originator_eui, target_eui, counter, high)
    token = UtrnToken(
        value=value,
        value_class=ValueClass(value_class),
        counter_bits=(counter >> 32) & _COUNTER_MASK,
        ptut_low=int.from_bytes(tag[12:], "big"),
    )
    return token.utrn


def decode_utrn(utrn: str) -> UtrnToken:
    """Read the fields of a UTRN, checking its form and check digit (not its tag).

    :param utrn: the 20-digit UTRN.
    :returns: the token; authenticate it with :func:`verify_utrn`.
    :raises DecodeError: not 20 ASCII digits, a wrong check digit, a PTUT outside the
        valid range, or an unknown value class.
    """
    if len(utrn) != UTRN_LENGTH:
        raise DecodeError(f"expected {UTRN_LENGTH} digits, got {len(utrn)} characters", path="utrn")
    bad = _first_non_digit(utrn)
    if bad is not None:
        raise DecodeError(f"expected a decimal digit, got {utrn[bad]!r}", path="utrn", offset=bad)
    expected = verhoeff_check_digit(utrn[:_PPTD_DIGITS])
    if utrn[_PPTD_DIGITS] != expected:
        raise DecodeError(
            f"check digit mismatch: expected {expected}, got {utrn[_PPTD_DIGITS]}",
            path="utrn.check_digit",
            offset=_PPTD_DIGITS,
        )
    ptut = int(utrn[:_PPTD_DIGITS]) - PPTD_OFFSET
    if not 0 <= ptut < _PTUT_LIMIT:
        raise DecodeError("PTUT out of range (not a GBCS UTRN)", path="utrn.pptd", offset=0)
    high = ptut >> 32
    value_class = (high >> 13) & 0x3
    if value_class > ValueClass.POUNDS:
        raise DecodeError(f"unknown value class {value_class}", path="utrn.value_class", offset=0)
    return UtrnToken(
        value=high & MAX_VALUE,
        value_class=ValueClass(value_class),
        counter_bits=(high >> 15) & _COUNTER_MASK,
        ptut_low=ptut & 0xFFFFFFFF,
    )


def verify_utrn(
    utrn: UtrnToken | str,
    *,
    prepayment_secret: bytes,
    originator: str | bytes,
    target: str | bytes,
    counter: int,
) -> bool:
    """Authenticate a UTRN for a given full counter (the device side, reference §6.1).

    How a device reconstructs the 64-bit counter from the 10 bits, and its replay rules,
    are in GBCS §14.3.4/14.3.5 (not available); the caller supplies the counter.

    :param utrn: a decoded token, or the 20-digit string.
    :param prepayment_secret: Z as for :func:`encode_utrn` (the device computes it from its
        KA private key and the supplier's prepayment KA public key).
    :param originator: the supplier's EUI-64 (forms as for :func:`encode_utrn`).
    :param target: the device's EUI-64.
    :param counter: the full 64-bit counter to check against.
    :returns: ``True`` if the counter bits match and the tag recomputes; else ``False``.
    :raises DecodeError: ``utrn`` is a malformed string (see :func:`decode_utrn`) or an
        EUI string is malformed.
    :raises LocalProtocolError: the counter is out of range or an EUI is not 8 bytes.
    :raises SecurityError: ``prepayment_secret`` is not 32 bytes.
    """
    token = decode_utrn(utrn) if isinstance(utrn, str) else utrn
    originator_eui = _eui(originator, "originator")
    target_eui = _eui(target, "target")
    key = utrn_key(prepayment_secret, originator_eui, target_eui, counter)
    if (counter >> 32) & _COUNTER_MASK != token.counter_bits:
        return False
    tag = utrn_tag(key, originator_eui, target_eui, counter, token.ptut_high)
    return hmac.compare_digest(tag[12:], token.ptut_low.to_bytes(4, "big"))
