"""A bounded receive buffer shared by the port backends: producers feed, one reader waits.

Layer: hal (private). Bytes arrive from a reader callback, a thread or another port; a port's
``_read_internal`` takes them out. Overflow (a flood nobody reads) drops the oldest bytes and
counts them, so a peer can never make a device use unbounded memory.
"""

from __future__ import annotations

import asyncio
from typing import Final

from smemu.errors import HalError

#: Default most bytes a receive buffer holds before it drops the oldest.
DEFAULT_LIMIT: Final = 1 << 20


class ReceiveBuffer:
    """Bytes waiting to be read, with wake-up of the reader and a closed/failed state."""

    def __init__(self, *, limit: int = DEFAULT_LIMIT) -> None:
        self._data = bytearray()
        self._event = asyncio.Event()
        self._error: HalError | None = None
        self.limit = limit
        self.dropped = 0  #: bytes discarded because the buffer was full

    def __len__(self) -> int:
        return len(self._data)

    def feed(self, data: bytes) -> None:
        """Append ``data`` (keeping at most ``limit`` bytes) and wake the reader."""
        if not data or self._error is not None:
            return
        self._data += data
        excess = len(self._data) - self.limit
        if excess > 0:
            del self._data[:excess]
            self.dropped += excess
        self._event.set()

    def fail(self, error: HalError) -> None:
        """Make pending and later reads raise ``error`` once the buffered bytes are gone."""
        if self._error is None:
            self._error = error
        self._event.set()

    def reset(self) -> None:
        """Forget buffered bytes and any failure (a port being reopened)."""
        self._data.clear()
        self._error = None
        self._event = asyncio.Event()

    async def get(self, max_bytes: int) -> bytes:
        """Wait for bytes and return up to ``max_bytes`` of them."""
        while not self._data:
            if self._error is not None:
                raise self._error
            self._event.clear()
            await self._event.wait()
        chunk = bytes(self._data[:max_bytes])
        del self._data[:max_bytes]
        return chunk
