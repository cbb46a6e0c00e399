"""General Block Transfer: cut a GBCS message into GBT blocks and put blocks back together.

Layer: protocols (sans-IO). GBCS 7.3 as summarised in gbcs-reference.md section 11: each
block repeats the routing header (CRA, counter, originator, recipient, message code) and
carries a consecutive slice of the whole message; blocks may arrive out of order, twice, or
not at all. MAC and signature cover the reassembled message, which is decoded as usual.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from smemu.errors import LocalProtocolError, RemoteProtocolError
from smemu.protocols.gbcs.frame import GbtBlockMessage, decode, signing_message
from smemu.protocols.gbcs.types import Cra, Eui64

#: Largest block data used by default: the size the original parsers sanity-check against.
DEFAULT_BLOCK_SIZE: Final = 1200
#: A reassembly that would need more blocks than this is refused (a guard against floods).
MAX_BLOCKS: Final = 4096


def segment(
    message: bytes,
    *,
    block_size: int = DEFAULT_BLOCK_SIZE,
    security_header: bytes = b"\x11\x00\x00\x00\x00",
) -> list[GbtBlockMessage]:
    """Split an encoded GBCS message (``DD 00`` or ``DF``) into GBT blocks numbered from 1.

    The routing header of every block is taken from the message's grouping header.

    :param block_size: bytes of message per block (1..65535)
    :raises LocalProtocolError: for a block size out of range or too many blocks
    :raises DecodeError: if ``message`` is not a GBCS message
    """
    if not 1 <= block_size <= 0xFFFF:
        raise LocalProtocolError(f"block size must be 1..65535, got {block_size}")
    decoded, rest = decode(message)
    inner = signing_message(decoded)
    if inner is None:
        raise LocalProtocolError("a GBT block cannot itself be segmented")
    if rest:
        raise LocalProtocolError(f"segment one message at a time ({len(rest)} bytes follow it)")
    slices = [message[i : i + block_size] for i in range(0, len(message), block_size)]
    if len(slices) > MAX_BLOCKS:
        raise LocalProtocolError(f"{len(slices)} blocks exceed the limit of {MAX_BLOCKS}")
    header = inner.header
    return [
        GbtBlockMessage(
            cra=header.cra,
            originator_counter=header.originator_counter,
            originator=header.originator,
            recipient=header.recipient,
            message_code=header.message_code,
            block_number=number,
            block_number_ack=0,
            last_block=number == len(slices),
            block_data=data,
            security_header=security_header,
        )
        for number, data in enumerate(slices, start=1)
    ]


#: Which message a block belongs to: originator, CRA and originator counter identify it.
ReassemblyKey = tuple[Eui64, Cra, int]


@dataclass(slots=True)
class _Partial:
    message_code: int
    blocks: dict[int, bytes] = field(default_factory=dict)
    last: int | None = None


class GbtReassembler:
    """Collects GBT blocks of any number of messages and hands back each message when whole.

    Blocks may come in any order and more than once; an identical repeat is ignored, a repeat
    with different data, a block beyond the announced last block, or a second "last block"
    raises :class:`RemoteProtocolError` and drops that message's partial state.
    """

    def __init__(self, *, max_blocks: int = MAX_BLOCKS) -> None:
        self._max_blocks = max_blocks
        self._partials: dict[ReassemblyKey, _Partial] = {}

    @staticmethod
    def key_of(block: GbtBlockMessage) -> ReassemblyKey:
        """The key that groups ``block`` with the other blocks of its message."""
        return (block.originator, block.cra, block.originator_counter)

    def feed(self, block: GbtBlockMessage) -> bytes | None:
        """Add one block; return the complete message bytes once every block is in, else None."""
        key = self.key_of(block)
        number = block.block_number
        if not 1 <= number <= self._max_blocks:
            raise RemoteProtocolError(f"block number must be 1..{self._max_blocks}, got {number}")
        partial = self._partials.setdefault(key, _Partial(block.message_code))
        try:
            self._check(partial, block)
        except RemoteProtocolError:
            del self._partials[key]
            raise
        partial.blocks[number] = block.block_data
        if block.last_block:
            partial.last = number
        if partial.last is not None and len(partial.blocks) == partial.last:
            del self._partials[key]
            return b"".join(partial.blocks[n] for n in range(1, partial.last + 1))
        return None

    @staticmethod
    def _check(partial: _Partial, block: GbtBlockMessage) -> None:
        number = block.block_number
        if block.message_code != partial.message_code:
            raise RemoteProtocolError(
                f"block {number} carries message code 0x{block.message_code:04X}, "
                f"expected 0x{partial.message_code:04X} like the blocks before it"
            )
        seen = partial.blocks.get(number)
        if seen is not None and seen != block.block_data:
            raise RemoteProtocolError(f"block {number} arrived twice with different data")
        if block.last_block and partial.last is not None and partial.last != number:
            raise RemoteProtocolError(
                f"block {number} is marked last, but block {partial.last} already was"
            )
        last = partial.last if partial.last is not None else (number if block.last_block else None)
        if last is not None and max([number, *partial.blocks]) > last:
            raise RemoteProtocolError(f"a block beyond the last block {last} arrived")

    def missing(self, key: ReassemblyKey) -> list[int]:
        """Block numbers still awaited for ``key`` (known only up to the highest seen so far)."""
        partial = self._partials.get(key)
        if partial is None:
            return []
        top = partial.last if partial.last is not None else max(partial.blocks, default=0)
        return [n for n in range(1, top + 1) if n not in partial.blocks]

    def pending(self) -> list[ReassemblyKey]:
        """Messages with some but not all of their blocks."""
        return list(self._partials)

    def discard(self, key: ReassemblyKey) -> None:
        """Forget a partial message (for example after a timeout)."""
        self._partials.pop(key, None)
