"""A premises whose WAN is ``ichi://`` over a pty, driven by the virtual rig: data, faults,
line events (supply outage and restore, tamper, hot shoe) and bad input."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from smemu.devices.config import load_config
from smemu.devices.premises import Premises
from smemu.errors import HalError, HalTimeout
from smemu.firmware.common.machine import DeviceType
from smemu.hal.ichi import LinkSettings
from smemu.hal.ichi_rig import VirtualRig
from smemu.hal.ports import Port, open_port
from smemu.hal.virtual import VirtualHub
from smemu.protocols.framing.wan import WanFramer
from tests.devices.test_premises import _assert_verified_response, _ecs52

pytestmark = pytest.mark.timeout(60)
FAST = LinkSettings(ack_timeout=0.05, retries=60)
FAULTS = "drop=0.15&corrupt=0.1&split=0.3&duplicate=0.1"


async def _answers(rig: VirtualRig, want: int, timeout: float = 10.0) -> list[bytes]:
    framer = WanFramer()
    got: list[bytes] = []
    async with asyncio.timeout(timeout):
        while len(got) < want:
            framer.feed(await rig.receive(timeout=timeout))
            got += list(framer)
    return got


async def _wait(predicate: object, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.01)


async def _relay(a: Port, b: Port) -> None:
    while True:
        try:
            data = await a.read()
        except HalError:
            return
        await b.write(data)


@contextlib.asynccontextmanager
async def faulty_pty_rig(seed: int) -> AsyncIterator[tuple[VirtualRig, str]]:
    """A rig whose line runs through a fault injector (both ways) and then a real pty."""
    hub = VirtualHub()
    rig = await VirtualRig.start(f"virtual://line?{FAULTS}&seed={seed}", hub=hub, settings=FAST)
    near = open_port(f"virtual://line?{FAULTS}&seed={seed + 50}", hub=hub)
    pty = open_port("pty://")
    await near.open()
    await pty.open()
    tasks = [asyncio.create_task(_relay(near, pty)), asyncio.create_task(_relay(pty, near))]
    try:
        yield rig, f"ichi://{pty.location}#ack_timeout=0.05&retries=60"
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await rig.close()
        await near.close()
        await pty.close()


def test_wan_over_ichi_on_a_pty(tmp_path: Path) -> None:
    async def main() -> None:
        rig = await VirtualRig.start("pty://", settings=FAST)
        assert rig.device_url.startswith("ichi:///dev/")
        try:
            async with Premises(load_config(None), tmp_path, wan=rig.device_url, speed=0.0) as p:
                assert p.wan_location().startswith("/dev/")
                await rig.send(_ecs52(p, 1))
                await rig.send(_ecs52(p, 2, DeviceType.CHF))
                first, second = await _answers(rig, 2)
                _assert_verified_response(p, first, 1)
                _assert_verified_response(p, second, 2)
                assert p.chf.stats["line_power_on"] == 0  # the initial report is the nominal state
        finally:
            await rig.close()

    asyncio.run(main())


@pytest.mark.parametrize("seed", [1, 2])
def test_ichi_recovers_from_drops_and_corruption(tmp_path: Path, seed: int) -> None:
    async def main() -> None:
        async with faulty_pty_rig(seed) as (rig, url), Premises(
            load_config(None), tmp_path, wan=url, speed=0.0
        ) as p:
            for n in range(1, 6):
                await rig.send(_ecs52(p, n))
            answers = await _answers(rig, 5, timeout=30)
            for n, answer in enumerate(answers, 1):
                _assert_verified_response(p, answer, n)
            assert p.wan_port is not None
            stats = p.wan_port.stats
            assert stats.retransmissions + rig.stats.retransmissions > 0
            assert p.stats["wan_in"] == 5  # once each: duplicates were not delivered

    asyncio.run(main())


def test_rig_lines_reach_the_hub_and_the_esme(tmp_path: Path) -> None:
    async def main() -> None:
        rig = await VirtualRig.start("pty://", settings=FAST)
        try:
            async with Premises(load_config(None), tmp_path, wan=rig.device_url, speed=0.0) as p:
                chf, esme = p.chf, p.device(DeviceType.ESME)
                assert p.han is not None
                await rig.set_power(False)
                await _wait(lambda: not esme.powered and not chf.powered)
                assert [o["on"] for o in esme.outages()] == [None]
                # While the hub is off, a command is lost (not an error).
                await rig.send(_ecs52(p, 3))
                await _wait(lambda: p.stats["wan_unpowered"] == 1)
                tunnel_before = p.han.tunnel_of(esme.eui)
                await rig.set_power(True)
                await _wait(lambda: esme.powered and chf.powered)
                await p.settle()
                [outage] = esme.outages()
                assert outage["off"] is not None and outage["on"] is not None
                assert chf.outages() == [outage] or len(chf.outages()) == 1
                texts = [e["text"] for e in esme.logs("event")]
                assert any(t.startswith("supply outage") for t in texts)
                assert any(t.startswith("supply restored") for t in texts)
                assert p.han.tunnel_of(esme.eui) not in (None, tunnel_before)
                await rig.set_sealed(False)
                await rig.set_hot_shoe(False)
                await rig.set_sealed(True)
                await _wait(lambda: chf.stats["line_tamper_off"] == 1)
                hub_texts = [e["text"] for e in chf.logs("event")]
                for text in ("tamper: seal broken", "hot shoe: comms hub removed", "sealed"):
                    assert any(text in t for t in hub_texts), text
                assert esme.stats["line_tamper_on"] == 0  # tamper is the hub's own switch
                # And the premises works again after the outage.
                await rig.send(_ecs52(p, 4))
                [answer] = await _answers(rig, 1)
                _assert_verified_response(p, answer, 4)
        finally:
            await rig.close()

    asyncio.run(main())


def test_bad_input_over_ichi_and_a_raw_pty_is_counted(tmp_path: Path) -> None:
    async def main() -> None:
        rig = await VirtualRig.start("pty://", settings=FAST)
        try:
            async with Premises(load_config(None), tmp_path, wan=rig.device_url, speed=0.0) as p:
                await p.settle()
                good = _ecs52(p, 9)
                await rig.send(os.urandom(5000))
                await rig.send(good[: len(good) // 2])  # truncated
                for _ in range(20):  # flood
                    await rig.send(os.urandom(4000))
                await rig.send(b"\x00" * 8 + good)
                answers = await _answers(rig, 1, timeout=20)
                _assert_verified_response(p, answers[-1], 9)
                assert p.stats["wan_dropped_bytes"] > 0
                assert all(d.stats["errors"] == 0 for d in p.devices.values())
                # Raw garbage straight onto the serial line under the ICHI link.
                await rig.port.write(os.urandom(3000))
                await rig.send(_ecs52(p, 10))
                [answer] = await _answers(rig, 1, timeout=20)
                _assert_verified_response(p, answer, 10)
                assert p.wan_port is not None and p.wan_port.stats.drops > 0
        finally:
            await rig.close()

    asyncio.run(main())


def test_bad_input_on_a_raw_pty_wan(tmp_path: Path) -> None:
    async def main() -> None:
        async with Premises(load_config(None), tmp_path, wan="pty://", speed=0.0) as p:
            client = open_port("serial://" + p.wan_location())
            async with client:
                await client.write(os.urandom(20_000))
                await client.write(_ecs52(p, 5)[:40])
                await asyncio.sleep(0.1)
                await client.write(b"\x00" * 8 + _ecs52(p, 6))
                framer = WanFramer()
                got: list[bytes] = []
                async with asyncio.timeout(10):
                    while not got:
                        with contextlib.suppress(HalTimeout):
                            framer.feed(await client.read(timeout=0.5))
                        got += list(framer)
                _assert_verified_response(p, got[-1], 6)
            assert p.stats["wan_dropped_bytes"] > 0
            assert all(d.stats["errors"] == 0 for d in p.devices.values())

    asyncio.run(main())
