"""virtual://: hubs as objects, channels, and the seeded fault injector."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from smemu.errors import ConfigError
from smemu.hal.ports import open_port
from smemu.hal.virtual import FaultConfig, FaultInjector, VirtualHub, VirtualPort

pytestmark = pytest.mark.timeout(30)

WRITES = [bytes([i % 256]) * (1 + i % 17) for i in range(300)]


def deliveries(config: FaultConfig) -> list[tuple[float, bytes]]:
    injector = FaultInjector(config)
    out = [(d.delay, d.data) for w in WRITES for d in injector.plan(w)]
    return out + [(d.delay, d.data) for d in injector.release()]


def test_the_same_seed_gives_the_same_faults_and_another_seed_others() -> None:
    config = FaultConfig(drop=0.1, delay=0.2, duplicate=0.1, split=0.3, corrupt=0.1, reorder=0.1,
                         seed=3)
    assert deliveries(config) == deliveries(config)
    assert deliveries(replace(config, seed=4)) != deliveries(config)


def test_no_faults_passes_every_write_through() -> None:
    assert deliveries(FaultConfig()) == [(0.0, w) for w in WRITES]


def test_drop_everything() -> None:
    injector = FaultInjector(FaultConfig(drop=1.0))
    assert [injector.plan(w) for w in WRITES[:5]] == [[]] * 5
    assert injector.stats.dropped == 5


def test_corrupt_changes_exactly_one_byte() -> None:
    injector = FaultInjector(FaultConfig(corrupt=1.0, seed=1))
    for w in WRITES:
        (out,) = injector.plan(w)
        assert len(out.data) == len(w)
        assert sum(a != b for a, b in zip(out.data, w, strict=True)) == 1


def test_split_and_duplicate_keep_the_bytes() -> None:
    split = FaultInjector(FaultConfig(split=1.0, seed=2))
    dup = FaultInjector(FaultConfig(duplicate=1.0, seed=2))
    for w in WRITES:
        pieces = [d.data for d in split.plan(w)]
        assert b"".join(pieces) == w
        assert len(pieces) == (1 if len(w) == 1 else len(pieces))
        assert [d.data for d in dup.plan(w)] == [w, w]
    assert split.stats.split == sum(len(w) > 1 for w in WRITES)


def test_reorder_swaps_a_write_with_the_next() -> None:
    injector = FaultInjector(FaultConfig(reorder=1.0))
    assert injector.plan(b"first") == []
    assert [d.data for d in injector.plan(b"second")] == [b"second", b"first"]
    assert injector.plan(b"third") == []
    assert [d.data for d in injector.release()] == [b"third"]


def test_delay_is_bounded() -> None:
    injector = FaultInjector(FaultConfig(delay=1.0, max_delay=0.01))
    assert all(0 <= d.delay <= 0.01 for w in WRITES for d in injector.plan(w))


def test_fault_config_from_a_url_and_bad_values() -> None:
    port = VirtualPort("virtual://wan?drop=0.25&corrupt=0.5&seed=9")
    assert port.injector is not None
    assert port.injector.config == FaultConfig(drop=0.25, corrupt=0.5, seed=9)
    with pytest.raises(ConfigError, match="unknown fault"):
        VirtualPort("virtual://wan?dorp=0.1")
    with pytest.raises(ConfigError, match="not a number"):
        VirtualPort("virtual://wan?drop=lots")
    with pytest.raises(ConfigError, match="probability"):
        VirtualPort("virtual://wan?drop=2")
    with pytest.raises(ConfigError):
        VirtualPort("virtual://")


def test_channels_are_per_hub_and_per_name_and_a_channel_is_a_bus() -> None:
    async def main() -> None:
        hub_a, hub_b = VirtualHub(), VirtualHub()
        a1, a2, a3 = (open_port("virtual://han", hub=hub_a) for _ in range(3))
        other_name = open_port("virtual://wan", hub=hub_a)
        other_hub = open_port("virtual://han", hub=hub_b)
        for port in (a1, a2, a3, other_name, other_hub):
            await port.open()
        await a1.write(b"hello")
        assert await a2.read(timeout=1) == b"hello"
        assert await a3.read(timeout=1) == b"hello"
        for port in (a1, other_name, other_hub):
            with pytest.raises(TimeoutError):
                await port.read(timeout=0.02)
        assert len(hub_a.ports("han")) == 3
        for port in (a1, a2, a3, other_name, other_hub):
            await port.close()
        assert hub_a.ports("han") == []

    asyncio.run(main())


def test_bytes_written_to_an_empty_channel_are_lost_and_counted() -> None:
    async def main() -> None:
        port = open_port("virtual://alone", hub=VirtualHub())
        async with port:
            await port.write(b"nobody")
            assert port.stats.drops == 6

    asyncio.run(main())


def test_the_default_hub_belongs_to_the_running_loop() -> None:
    async def main() -> VirtualHub:
        a, b = open_port("virtual://x"), open_port("virtual://x")
        async with a, b:
            await a.write(b"1")
            assert await b.read(timeout=1) == b"1"
            assert isinstance(a, VirtualPort)
            assert a.hub is VirtualHub.for_loop()
            return a.hub

    assert asyncio.run(main()) is not asyncio.run(main())


def test_hub_faults_apply_to_a_channel_and_delays_keep_order() -> None:
    async def main() -> None:
        hub = VirtualHub()
        hub.set_faults("wan", FaultConfig(delay=0.5, max_delay=0.01, seed=5))
        a, b = open_port("virtual://wan", hub=hub), open_port("virtual://wan", hub=hub)
        async with a, b:
            sent = b"".join(WRITES)
            for w in WRITES:
                await a.write(w)
            got = b""
            while len(got) < len(sent):
                got += await b.read(timeout=2)
            assert got == sent
            assert isinstance(a, VirtualPort) and a.injector is not None
            assert a.injector.stats.delayed > 0
            hub.set_faults("wan", FaultConfig(drop=1.0))
            await a.write(b"gone")
            with pytest.raises(TimeoutError):
                await b.read(timeout=0.05)
            hub.set_faults("wan", None)
            assert hub.faults("wan") is None
            await a.write(b"back")
            assert await b.read(timeout=1) == b"back"

    asyncio.run(main())


def test_injected_faults_reach_the_reader_deterministically() -> None:
    async def main() -> bytes:
        hub = VirtualHub()
        a = open_port("virtual://w?drop=0.2&corrupt=0.2&duplicate=0.2&seed=11", hub=hub)
        b = open_port("virtual://w", hub=hub)
        async with a, b:
            for w in WRITES:
                await a.write(w)
            got = b""
            with pytest.raises(TimeoutError):
                while True:
                    got += await b.read(timeout=0.05)
            return got

    first = asyncio.run(main())
    assert first == asyncio.run(main())
    assert first != b"".join(WRITES)
