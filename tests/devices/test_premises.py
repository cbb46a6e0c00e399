"""A premises driven for real: OS sockets and ptys with pyserial clients, faults, restarts."""

from __future__ import annotations

import asyncio
import os
import random
from datetime import timedelta
from pathlib import Path

import pytest
import serial

from smemu.devices.config import load_config
from smemu.devices.premises import Premises
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.machine import DeviceType
from smemu.hil.demo import action, build_command, dlms_request, get
from smemu.protocols.dlms.data import LongUnsigned
from smemu.protocols.framing.wan import WanFramer
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.types import Cra

pytestmark = pytest.mark.timeout(60)
ECS52, ECS43 = 0x0059, 0x0050


def _ecs52(p: Premises, counter: int, kind: DeviceType = DeviceType.ESME) -> bytes:
    assert p.pki is not None
    return build_command(
        p.pki.keystore,
        originator=p.pki.remote_parties[Role.SUPPLIER],
        recipient=p.device(kind).eui,
        code=ECS52,
        counter=counter,
        payload=dlms_request(counter, get(1, "0-0:0.2.1.255", 2)),
        sign=False,
        acb=p.pki.remote_parties[Role.ACCESS_CONTROL_BROKER],
    )


def _ecs43(p: Premises, counter: int) -> bytes:
    assert p.pki is not None
    return build_command(
        p.pki.keystore,
        originator=p.pki.remote_parties[Role.SUPPLIER],
        recipient=p.device(DeviceType.ESME).eui,
        code=ECS43,
        counter=counter,
        payload=dlms_request(counter, action(9, "0-0:10.0.106.255", 1, LongUnsigned(52))),
        sign=True,
        acb=p.pki.remote_parties[Role.ACCESS_CONTROL_BROKER],
    )


def _client_exchange(port: serial.SerialBase, data: bytes, want: int = 1) -> list[bytes]:
    """Blocking pyserial client: write, then read until ``want`` whole messages arrive."""
    port.write(data)
    framer = WanFramer()
    got: list[bytes] = []
    for _ in range(200):
        framer.feed(port.read(4096))
        got += list(framer)
        if len(got) >= want:
            break
    return got


def _assert_verified_response(p: Premises, data: bytes, counter: int) -> None:
    assert p.pki is not None
    located = frame.locate(data)
    inner = frame.signing_message(located.message)
    assert inner is not None
    assert inner.header.cra is Cra.RESPONSE
    assert inner.header.originator_counter == counter
    verdicts = {
        secure.verify_mac(located, p.pki.keystore),
        secure.verify_signature(located, p.pki.keystore),
    }
    assert secure.Verdict.VALID in verdicts and secure.Verdict.INVALID not in verdicts


def test_tcp_wan_with_a_pyserial_socket_client(tmp_path: Path) -> None:
    async def main() -> None:
        async with Premises(load_config(None), tmp_path, wan="tcp://127.0.0.1:0", speed=0.0) as p:
            url = "socket://" + p.wan_location()

            def client() -> list[bytes]:
                with serial.serial_for_url(url, timeout=0.05) as port:
                    first = _client_exchange(port, _ecs52(p, 1))
                    second = _client_exchange(port, _ecs52(p, 2, DeviceType.CHF))
                    return first + second

            answers = await asyncio.to_thread(client)
            assert len(answers) == 2
            _assert_verified_response(p, answers[0], 1)
            _assert_verified_response(p, answers[1], 2)

    asyncio.run(main())


def test_pty_wan_with_a_pyserial_client(tmp_path: Path) -> None:
    async def main() -> None:
        async with Premises(load_config(None), tmp_path, wan="pty://", speed=0.0) as p:
            path = p.wan_location()
            assert path.startswith("/dev/")

            def client() -> list[bytes]:
                with serial.Serial(path, timeout=0.05) as port:
                    return _client_exchange(port, _ecs43(p, 7))

            [answer] = await asyncio.to_thread(client)
            _assert_verified_response(p, answer, 7)
            esme = p.device(DeviceType.ESME)
            assert esme.machine.nvm["esme/supply"][-1] == 0

    asyncio.run(main())


def test_bad_input_on_the_wan_is_counted_and_changes_nothing(tmp_path: Path) -> None:
    rng = random.Random(5)

    async def main() -> None:
        async with Premises(load_config(None), tmp_path, wan="tcp://127.0.0.1:0", speed=0.0) as p:
            await p.settle()
            states = {eui: dict(d.machine.nvm) for eui, d in p.devices.items()}
            url = "socket://" + p.wan_location()
            good = _ecs52(p, 3)
            junk = bytes(rng.getrandbits(8) for _ in range(20_000))
            flood = os.urandom(200_000)

            def client() -> list[bytes]:
                with serial.serial_for_url(url, timeout=0.05) as port:
                    port.write(junk)
                    port.write(good[: len(good) // 2])  # truncated frame
                    port.write(flood)
                    return _client_exchange(port, b"\x00" * 8 + good)

            answers = await asyncio.to_thread(client)
            assert [frame.locate(a).message.header.originator_counter for a in answers] == [3]  # type: ignore[union-attr]
            await p.settle()
            assert p.stats["wan_dropped_bytes"] > 0
            for eui, device in p.devices.items():
                if device.spec.type not in (DeviceType.ESME, DeviceType.CHF):
                    assert dict(device.machine.nvm) == states[eui]
                assert device.stats["errors"] == 0

    asyncio.run(main())


def test_restart_with_the_same_state_resumes_and_rejects_a_replay(tmp_path: Path) -> None:
    async def first() -> tuple[bytes, dict[str, bytes], str]:
        async with Premises(load_config(None), tmp_path, wan="virtual://a", speed=0.0) as p:
            seen: list[bytes] = []
            p.observers.append(lambda d, data, at: seen.append(data) if d == "out" else None)
            command = _ecs43(p, 100)
            p.inject_wan(command)
            await p.settle()
            assert len(seen) == 1
            await p.advance(timedelta(days=2))
            esme = p.device(DeviceType.ESME)
            return command, dict(esme.machine.nvm), p.clock.now().isoformat()

    async def second(command: bytes, nvm: dict[str, bytes], when: str) -> None:
        async with Premises(load_config(None), tmp_path, wan="virtual://b", speed=0.0) as p:
            assert p.clock.now().isoformat() == when
            esme = p.device(DeviceType.ESME)
            assert any(k.startswith("ctr/") for k in nvm)
            for key in (
                "cred/ds",
                "cred/ka",
                "esme/supply",
                "reg/state",
                *[k for k in nvm if k.startswith("ctr/")],
            ):
                assert esme.machine.nvm[key] == nvm[key], key
            seen: list[bytes] = []
            p.observers.append(lambda d, data, at: seen.append(data) if d == "out" else None)
            p.inject_wan(command)
            await p.settle()
            assert seen == []
            assert esme.stats["rejected"] == 1
            assert any("counter" in e["text"] for e in esme.logs("security"))
            p.inject_wan(_ecs52(p, 101))
            await p.settle()
            assert len(seen) == 1
            _assert_verified_response(p, seen[0], 101)

    command, nvm, when = asyncio.run(first())
    asyncio.run(second(command, nvm, when))


def test_gsme_commands_wait_for_the_wake_up(tmp_path: Path) -> None:
    async def main() -> None:
        async with Premises(load_config(None), tmp_path, wan="virtual://g", speed=0.0) as p:
            seen: list[bytes] = []
            p.observers.append(lambda d, data, at: seen.append(data) if d == "out" else None)
            await p.settle()
            gsme = p.device(DeviceType.GSME)
            assert gsme.machine.state.value == "asleep"
            p.inject_wan(_ecs52(p, 5, DeviceType.GSME))
            await p.settle()
            assert seen == []
            assert p.device(DeviceType.GPF).stats["queued"] == 1
            await p.advance(timedelta(minutes=29))
            assert seen == []
            await p.advance(timedelta(minutes=2))
            assert len(seen) == 1
            inner = frame.signing_message(frame.locate(seen[0]).message)
            assert inner is not None and inner.header.cra is Cra.ALERT
            assert inner.header.originator == gsme.eui
            assert gsme.machine.state.value == "asleep"

    asyncio.run(main())


def test_virtual_wan_with_injected_faults_recovers(tmp_path: Path) -> None:
    """A duplicated and split stream still yields exactly the right answers."""

    async def main() -> None:
        async with Premises(load_config(None), tmp_path, wan="virtual://f", speed=0.0) as p:
            seen: list[bytes] = []
            p.observers.append(lambda d, data, at: seen.append(data) if d == "out" else None)
            data = _ecs52(p, 11)
            for i in range(0, len(data), 7):
                p.inject_wan(data[i : i + 7])
            p.inject_wan(data)  # a duplicate: a non-replay-protected read is answered again
            await p.settle()
            assert len(seen) == 2

    asyncio.run(main())
