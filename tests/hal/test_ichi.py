"""ICHI link behaviour beyond the contract: events, faults, garbage, restarts, a lost rig."""

from __future__ import annotations

import asyncio
import os

import pytest

from smemu.errors import HalError
from smemu.hal.ichi import IchiPort, LinkSettings
from smemu.hal.ichi_rig import VirtualRig
from smemu.hal.ports import LineEventKind, open_port
from smemu.hal.virtual import VirtualHub

pytestmark = pytest.mark.timeout(60)

FAST = LinkSettings(ack_timeout=0.02, retries=60)
FAULTS = "drop=0.2&corrupt=0.15&split=0.3&duplicate=0.15&reorder=0.1"
INITIAL = [LineEventKind.POWER_ON, LineEventKind.SEAL, LineEventKind.HOT_SHOE_PRESENT]


async def events(port: object, n: int) -> list[LineEventKind]:
    assert isinstance(port, IchiPort)
    return [(await port.read_line_event(timeout=5)).kind for _ in range(n)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_events_and_data_cross_a_faulty_line_once_each_and_in_order(seed: int) -> None:
    async def main() -> None:
        hub = VirtualHub()
        rig = await VirtualRig.start(f"virtual://rig?{FAULTS}&seed={seed}", hub=hub, settings=FAST)
        device = open_port(
            f"ichi://virtual://rig?{FAULTS}&seed={seed + 100}#ack_timeout=0.02&retries=60", hub=hub
        )
        async with device:
            assert await events(device, 3) == INITIAL
            expected: list[LineEventKind] = []
            for i in range(10):
                await rig.set_power(i % 2 == 1)
                await rig.set_sealed(i % 3 != 0)
                await rig.set_hot_shoe(i % 4 != 0)
                expected += [
                    LineEventKind.POWER_ON if i % 2 else LineEventKind.POWER_OFF,
                    LineEventKind.SEAL if i % 3 else LineEventKind.TAMPER,
                    LineEventKind.HOT_SHOE_PRESENT if i % 4 else LineEventKind.HOT_SHOE_ABSENT,
                ]
            assert await events(device, len(expected)) == expected
            payload = os.urandom(3000)
            await device.write(payload)
            got = b""
            while len(got) < len(payload):
                got += await rig.receive(timeout=5)
            assert got == payload
            stats = device.stats
            assert stats.retransmissions + rig.stats.retransmissions > 0
            assert stats.drops + stats.errors + rig.stats.drops + rig.stats.errors > 0
        await rig.close()

    asyncio.run(main())


def test_garbage_on_the_line_is_counted_and_the_link_carries_on() -> None:
    async def main() -> None:
        hub = VirtualHub()
        rig = await VirtualRig.start("virtual://rig", hub=hub, settings=FAST)
        device = open_port("ichi://virtual://rig#ack_timeout=0.02&retries=60", hub=hub)
        noise = open_port("virtual://rig", hub=hub)  # a third party on the line
        async with device, noise:
            await events(device, 3)
            for size in (1, 7, 500, 5000):
                await noise.write(os.urandom(size))
                await noise.write(b"\x7e" + os.urandom(size) + b"\x7e")
            await noise.write(b"\x7e\x11\x05")  # a truncated frame
            await rig.send(b"still here")
            got = b""
            while len(got) < 10:
                got += await device.read(timeout=5)
            assert got == b"still here"
            assert device.stats.drops > 0 and device.stats.errors > 0
            assert rig.stats.drops > 0
        await rig.close()

    asyncio.run(main())


def test_a_device_restart_resynchronises_and_gets_the_lines_again() -> None:
    async def main() -> None:
        hub = VirtualHub()
        rig = await VirtualRig.start("virtual://rig", hub=hub, settings=FAST)
        for round_ in range(3):
            device = open_port("ichi://virtual://rig", hub=hub)
            async with device:
                assert await events(device, 3) == INITIAL
                await device.write(b"boot %d" % round_)
                assert await rig.receive(timeout=5) == b"boot %d" % round_
                await rig.send(b"hello")
                assert await device.read(timeout=5) == b"hello"
        assert rig.resets_seen == 3
        await rig.close()

    asyncio.run(main())


def test_a_rig_restart_is_noticed_by_a_running_device() -> None:
    async def main() -> None:
        hub = VirtualHub()
        rig = await VirtualRig.start("virtual://rig", hub=hub, settings=FAST)
        device = open_port("ichi://virtual://rig", hub=hub)
        async with device:
            await events(device, 3)
            await rig.send(b"a")  # the old rig used sequence number 0
            assert await device.read(timeout=5) == b"a"
            await rig.close()
            rig = await VirtualRig.start("virtual://rig", hub=hub, settings=FAST)
            await rig.send(b"b")  # the new rig starts again at 0: must not look repeated
            assert await device.read(timeout=5) == b"b"
        await rig.close()

    asyncio.run(main())


def test_without_a_rig_open_fails_and_a_vanished_rig_fails_writes() -> None:
    async def main() -> None:
        hub = VirtualHub()
        lonely = open_port("ichi://virtual://rig#ack_timeout=0.01&retries=3", hub=hub)
        with pytest.raises(HalError, match="no ICHI rig"):
            await lonely.open()
        assert not lonely.is_open
        rig = await VirtualRig.start("virtual://rig", hub=hub, settings=FAST)
        device = open_port("ichi://virtual://rig#ack_timeout=0.01&retries=3", hub=hub)
        async with device:
            await events(device, 3)
            await rig.close()
            with pytest.raises(HalError, match="no ACK"):
                await device.write(b"anyone?")

    asyncio.run(main())


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="no pseudo-terminals on this OS")
def test_the_virtual_rig_serves_a_pty_for_outside_tools() -> None:
    async def main() -> None:
        rig = await VirtualRig.start()
        assert rig.device_url.startswith("ichi:///dev/")
        device = open_port(rig.device_url)
        async with device:
            assert await events(device, 3) == INITIAL
            await rig.set_sealed(False)
            assert await events(device, 1) == [LineEventKind.TAMPER]
            event_time = None
            await rig.set_power(False)
            event = await device.read_line_event(timeout=5)
            event_time = event.at
            assert event.kind is LineEventKind.POWER_OFF and event_time is not None
        await rig.close()

    asyncio.run(main())
