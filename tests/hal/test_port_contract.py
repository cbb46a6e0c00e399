"""One contract for every port backend on this machine (style rule F26).

Each test builds a connected pair inside its own event loop (tests/hal/_pairs.py): virtual,
tcp, pyserial loop://, pty with a pyserial client, ICHI over a pty with the virtual rig, and
ICHI over a virtual line that drops, corrupts, splits, duplicates, delays and reorders.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from smemu.errors import HalError, HalTimeout
from tests.hal._pairs import FACTORIES, Pair

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(params=sorted(FACTORIES))
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run(backend: str, body: object) -> None:
    async def main() -> None:
        pair = await FACTORIES[backend]()
        try:
            await body(pair)  # type: ignore[operator]
        finally:
            await pair.close()

    asyncio.run(main())


async def read_exactly(pair: Pair, n: int, timeout: float = 10.0) -> bytes:
    got = b""
    while len(got) < n:
        got += await pair.port.read(n - len(got), timeout=timeout)
    return got


async def receive_exactly(pair: Pair, n: int, timeout: float = 10.0) -> bytes:
    got = b""
    while len(got) < n:
        got += await pair.receive(timeout)
    return got


@pytest.mark.parametrize("size", [1, 300, 5000])
def test_bytes_from_the_far_end_arrive_whole_and_in_order(backend: str, size: int) -> None:
    data = os.urandom(size)

    async def body(pair: Pair) -> None:
        await pair.send(data)
        assert await read_exactly(pair, size) == data
        assert pair.port.stats.bytes_in == size

    run(backend, body)


@pytest.mark.parametrize("size", [1, 2000])
def test_bytes_written_reach_the_far_end(backend: str, size: int) -> None:
    chunks = [os.urandom(size) for _ in range(3)]

    async def body(pair: Pair) -> None:
        for chunk in chunks:
            await pair.port.write(chunk, timeout=10)
        got = await (read_exactly(pair, 3 * size) if pair.loopback else receive_exactly(
            pair, 3 * size))
        assert got == b"".join(chunks)
        assert pair.port.stats.bytes_out == 3 * size

    run(backend, body)


def test_read_times_out_and_the_port_stays_usable(backend: str) -> None:
    async def body(pair: Pair) -> None:
        with pytest.raises(HalTimeout) as caught:
            await pair.port.read(timeout=0.05)
        assert isinstance(caught.value, TimeoutError)
        assert pair.port.stats.timeouts == 1
        await pair.send(b"after")
        assert await read_exactly(pair, 5) == b"after"

    run(backend, body)


def test_read_returns_at_most_max_bytes(backend: str) -> None:
    async def body(pair: Pair) -> None:
        await pair.send(b"0123456789")
        first = await pair.port.read(4, timeout=5)
        assert 1 <= len(first) <= 4
        rest = await read_exactly(pair, 10 - len(first))
        assert first + rest == b"0123456789"

    run(backend, body)


def test_closing_wakes_a_pending_reader_and_later_calls_fail(backend: str) -> None:
    async def body(pair: Pair) -> None:
        reader = asyncio.ensure_future(pair.port.read(timeout=10))
        await asyncio.sleep(0.02)
        await pair.port.close()
        with pytest.raises(HalError):
            await reader
        with pytest.raises(HalError):
            await pair.port.read(timeout=1)
        with pytest.raises(HalError):
            await pair.port.write(b"x")
        await pair.port.close()  # closing twice is harmless
        assert not pair.port.is_open

    run(backend, body)


def test_line_events_only_on_ports_that_carry_them(backend: str) -> None:
    async def body(pair: Pair) -> None:
        if pair.port.carries_line_events:
            with pytest.raises(HalTimeout):
                await pair.port.read_line_event(timeout=0.05)
        else:
            with pytest.raises(HalError, match="no line events"):
                await pair.port.read_line_event(timeout=0.05)

    run(backend, body)


def test_a_flood_of_random_bytes_is_carried_or_counted_never_fatal(backend: str) -> None:
    flood = os.urandom(200_000)

    async def body(pair: Pair) -> None:
        # framed and acknowledged links get a shorter flood, to keep the run short
        flood_size = 20_000 if pair.port.carries_line_events else len(flood)
        sender = asyncio.ensure_future(pair.send(flood[:flood_size]))
        got = await read_exactly(pair, flood_size, timeout=20)
        await sender
        assert got == flood[:flood_size]
        await pair.send(b"still alive")
        assert await read_exactly(pair, 11) == b"still alive"

    run(backend, body)


def test_location_says_where_to_attach(backend: str) -> None:
    async def body(pair: Pair) -> None:
        assert pair.port.location
        assert pair.port.url in repr(pair.port)

    run(backend, body)
