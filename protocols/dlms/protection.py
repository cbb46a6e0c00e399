"""Encrypted (Data Protection, IC 30) blocks inside DLMS payloads: find them, swap in plaintext.

Protocol layer (sans-IO); GBCS ref. §4.5 (block ``31 | IC(4) | ct | tag(12)``), §7.6
(protection parameters + ciphered octet-string in responses and the ECS68 alert). No crypto
here: callers decrypt with ``smemu.protocols.security`` and rebuild with :func:`replace_block`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Final, TypeVar

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.dlms import axdr
from smemu.protocols.dlms.apdu import (
    AccessResponseMessage,
    DataNotificationMessage,
    DlmsMessage,
)
from smemu.protocols.dlms.axdr import Array, Data, Enum, OctetString, Structure

__all__ = [
    "CIPHERED_SECURITY_CONTROL",
    "MIN_CIPHERED_BLOCK",
    "TAG_SIZE",
    "ProtectedBlock",
    "ProtectionParameters",
    "check_ciphered_block",
    "decode_plaintext",
    "find_blocks",
    "replace_block",
    "replace_data",
]

#: Security control byte of a GBCS ciphered block: authenticated and encrypted, suite 1.
CIPHERED_SECURITY_CONTROL: Final = 0x31
#: GCM tag length in a ciphered block (truncated to 96 bits).
TAG_SIZE: Final = 12
#: Smallest ciphered block: security control(1) + invocation counter(4) + tag(12).
MIN_CIPHERED_BLOCK: Final = 1 + 4 + TAG_SIZE

_Message = TypeVar("_Message", bound=DlmsMessage)


def check_ciphered_block(block: bytes) -> None:
    """Check the frame of a ciphered block: ``31 | IC(4) | ciphertext | tag(12)``.

    :raises DecodeError: shorter than 17 bytes or a security control byte other than 0x31
        (offsets into ``block``).
    """
    if len(block) < MIN_CIPHERED_BLOCK:
        raise DecodeError(
            f"expected at least {MIN_CIPHERED_BLOCK} bytes "
            "(security control, invocation counter, tag), "
            f"got {len(block)}",
            offset=0,
        )
    if block[0] != CIPHERED_SECURITY_CONTROL:
        raise DecodeError(
            f"expected security control 0x{CIPHERED_SECURITY_CONTROL:02X}, got 0x{block[0]:02X}",
            path="security_control",
            offset=0,
        )


@dataclass(frozen=True, slots=True)
class ProtectionParameters:
    """One entry of a protection-parameters array (IC 30; GBCS ref. §4.5, §7.6)::

    structure { enum protection_type,
                structure { octet-string transaction_id (04 | counter(8)),
                            octet-string originator_system_title (8),
                            octet-string recipient_system_title (8),
                            octet-string other_information,
                            key_info } }

    """

    #: 2 = authentication and encryption in GBCS.
    protection_type: int
    #: ``04`` (payload-encryption KDF mode) followed by the 8-byte counter.
    transaction_id: bytes
    #: EUI-64 of the device that encrypted.
    originator: bytes
    #: EUI-64 of the remote party the block is encrypted for.
    recipient: bytes
    #: other_information (empty in GBCS).
    other_information: bytes
    #: key_info, kept as sent (GBCS: ``structure{enum 2, structure{octet-string 02,
    #: octet-string empty}}``: agreed key, C(0e,2s) ECC CDH).
    key_info: Data

    @property
    def counter(self) -> int:
        """The counter for key derivation: transaction id bytes after the mode byte.

        :raises DecodeError: the transaction id is not 9 bytes.
        """
        if len(self.transaction_id) != 9:
            raise DecodeError(
                f"expected a 9-byte transaction id, got {len(self.transaction_id)} bytes",
                path="transaction_id",
            )
        return int.from_bytes(self.transaction_id[1:], "big")

    @property
    def mode(self) -> int | None:
        """The transaction id's first byte (0x04: KDF mode of payload encryption)."""
        return self.transaction_id[0] if self.transaction_id else None

    @classmethod
    def from_data(cls, value: Data) -> ProtectionParameters | None:
        """Read one entry from its A-XDR form, or ``None`` when ``value`` has another shape."""
        if not isinstance(value, Structure) or len(value.items) != 2:
            return None
        kind, options = value.items
        if not isinstance(kind, Enum) or not isinstance(options, Structure):
            return None
        if len(options.items) != 5:
            return None
        tid, orig, recip, other, key_info = options.items
        if not (
            isinstance(tid, OctetString)
            and isinstance(orig, OctetString)
            and isinstance(recip, OctetString)
            and isinstance(other, OctetString)
        ):
            return None
        return cls(kind.value, tid.value, orig.value, recip.value, other.value, key_info)

    def to_data(self) -> Data:
        """The A-XDR form, as it appears in a payload."""
        return Structure(
            (
                Enum(self.protection_type),
                Structure(
                    (
                        OctetString(self.transaction_id),
                        OctetString(self.originator),
                        OctetString(self.recipient),
                        OctetString(self.other_information),
                        self.key_info,
                    )
                ),
            )
        )


@dataclass(frozen=True, slots=True)
class ProtectedBlock:
    """A ciphered block found in a DLMS payload, with the parameters sent beside it.

    In a structure, an ``array`` of protection-parameter structures immediately followed
    by an ``octet-string`` holding a ciphered block: the whole ``structure{params, block}``
    of a get_protected_attributes response, or body elements 2 and 3 of the ECS68 alert.
    """

    #: Index path to the block's octet-string: the first index selects an element of the
    #: APDU's list of data (or 0 for a data-notification body), each next one an element
    #: of the structure/array there.
    location: tuple[int, ...]
    #: The protection parameters (GBCS: exactly one).
    parameters: tuple[ProtectionParameters, ...]
    #: The ciphered block ``31 | IC(4) | ciphertext | tag(12)``.
    block: bytes
    #: Human field path, e.g. ``access_response.list_of_data[0].structure[1]``.
    path: str


# ------------------------------------------------------------------------------ finding


def _walk(value: Data, location: tuple[int, ...], path: str) -> Iterator[ProtectedBlock]:
    if isinstance(value, Structure):
        items = value.items
        for i, item in enumerate(items):
            if (
                i > 0
                and isinstance(item, OctetString)
                and len(item.value) >= MIN_CIPHERED_BLOCK
                and item.value[0] == CIPHERED_SECURITY_CONTROL
            ):
                previous = items[i - 1]
                if isinstance(previous, Array) and previous.items:
                    params = [ProtectionParameters.from_data(p) for p in previous.items]
                    if all(p is not None for p in params):
                        yield ProtectedBlock(
                            (*location, i),
                            tuple(p for p in params if p is not None),
                            item.value,
                            f"{path}.structure[{i}]",
                        )
                        continue
            yield from _walk(item, (*location, i), f"{path}.structure[{i}]")
    elif isinstance(value, Array):
        for i, item in enumerate(value.items):
            yield from _walk(item, (*location, i), f"{path}.array[{i}]")


def find_blocks(message: DlmsMessage) -> tuple[ProtectedBlock, ...]:
    """Every ciphered block in ``message``, in wire order (none for plain payloads).

    Searches every structure/array in the list of data (access-request/-response) or the
    notification body (data-notification). Compact arrays are not searched.
    """
    if isinstance(message, DataNotificationMessage):
        return tuple(_walk(message.body, (0,), "data_notification.body"))
    root = (
        "access_response.list_of_data"
        if isinstance(message, AccessResponseMessage)
        else "access_request.list_of_data"
    )
    found: list[ProtectedBlock] = []
    for i, value in enumerate(message.list_of_data):
        found.extend(_walk(value, (i,), f"{root}[{i}]"))
    return tuple(found)


def decode_plaintext(plaintext: bytes) -> Data:
    """Decode a decrypted DLMS block: exactly one A-XDR Data value.

    :raises DecodeError: path prefixed ``plaintext``; offsets into ``plaintext``.
    """
    data = bytes(plaintext)
    try:
        value, end = axdr.decode_at(data, 0)
    except DecodeError as exc:
        raise exc.within("plaintext") from None
    if end != len(data):
        raise DecodeError(
            f"expected end of data, got {len(data) - end} trailing bytes",
            path="plaintext",
            offset=end,
        )
    return value


# ----------------------------------------------------------------------------- rebuilding


def _replace_in(value: Data, location: tuple[int, ...], new: Data) -> Data:
    if not location:
        return new
    if not isinstance(value, Structure | Array):
        raise LocalProtocolError(f"location runs into a {type(value).__name__}")
    index, rest = location[0], location[1:]
    if not 0 <= index < len(value.items):
        raise LocalProtocolError(f"location index {index} outside {len(value.items)} items")
    items = list(value.items)
    items[index] = _replace_in(items[index], rest, new)
    return replace(value, items=tuple(items))


def replace_data(message: _Message, location: tuple[int, ...], new: Data) -> _Message:
    """``message`` with the Data value at ``location`` (as in :attr:`ProtectedBlock.location`)
    replaced by ``new``.

    :raises LocalProtocolError: ``location`` does not name a value in ``message``.
    """
    if not location:
        raise LocalProtocolError("an empty location names no value")
    head, rest = location[0], location[1:]
    if isinstance(message, DataNotificationMessage):
        if head != 0:
            raise LocalProtocolError("a data-notification has one root value, index 0")
        return replace(message, body=_replace_in(message.body, rest, new))
    items = list(message.list_of_data)
    if not 0 <= head < len(items):
        raise LocalProtocolError(f"location index {head} outside {len(items)} list items")
    items[head] = _replace_in(items[head], rest, new)
    return replace(message, list_of_data=tuple(items))


def replace_block(message: _Message, block: ProtectedBlock, plaintext: Data) -> _Message:
    """The plaintext view: ``block``'s ciphered octet-string replaced by the decrypted Data.

    The protection parameters stay where they are, so the other blocks' locations still
    hold; the result encodes as A-XDR but is a view for display and typed decoding, not a
    message any device sends.

    :param message: the payload ``block`` was found in (by :func:`find_blocks`).
    :param block: the block to replace.
    :param plaintext: the decrypted block as Data (see :func:`decode_plaintext`).
    :raises LocalProtocolError: ``block`` does not belong to ``message``.
    """
    return replace_data(message, block.location, plaintext)
