"""Specifics of the OS backends: tcp listen/connect, pty slave access with plain pyserial."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest
import serial

from smemu.errors import HalError
from smemu.hal.ports import open_port
from smemu.hal.ptyport import PtyPort
from smemu.hal.tcp import TcpPort

pytestmark = pytest.mark.timeout(30)


def test_a_listener_on_port_zero_reports_its_address_and_serves_the_newest_peer() -> None:
    async def main() -> None:
        port = open_port("tcp://127.0.0.1:0?listen=1")
        assert isinstance(port, TcpPort) and port.listening
        async with port:
            host, number = port.address
            assert host == "127.0.0.1" and number > 0
            assert port.location == f"127.0.0.1:{number}"
            await port.write(b"nobody hears this")
            assert port.stats.drops == 17
            first = open_port(f"tcp://127.0.0.1:{number}")
            await first.open()
            await port.wait_connected(timeout=5)
            await first.write(b"one")
            assert await port.read(timeout=5) == b"one"
            second = open_port(f"tcp://127.0.0.1:{number}?mode=connect")
            await second.open()
            while port.stats.connections < 2:
                await asyncio.sleep(0.01)
            await port.write(b"to the newest")
            assert await second.read(timeout=5) == b"to the newest"
            with pytest.raises(HalError, match="closed by peer"):
                await first.read(timeout=5)  # the older peer was let go
            await second.close()
            await first.close()
            # a peer may come back after the last one left
            third = open_port(f"tcp://127.0.0.1:{number}")
            async with third:
                await third.write(b"back")
                assert await port.read(timeout=5) == b"back"

    asyncio.run(main())


def test_connecting_to_nothing_fails_cleanly() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]

    async def main() -> None:
        port = open_port(f"tcp://127.0.0.1:{free}")
        with pytest.raises(HalError, match="cannot open"):
            await port.open()
        assert not port.is_open

    asyncio.run(main())


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="no pseudo-terminals on this OS")
def test_a_plain_pyserial_client_talks_through_the_pty_and_the_link(tmp_path: Path) -> None:
    link = tmp_path / "meter"

    async def main() -> None:
        port = open_port(f"pty://?link={link}")
        assert isinstance(port, PtyPort)
        async with port:
            assert link.is_symlink() and os.readlink(link) == port.slave_path
            assert port.location == str(link)
            client = serial.Serial(str(link), timeout=2)
            try:
                await port.write(bytes(range(256)))
                got = await asyncio.to_thread(client.read, 256)
                assert got == bytes(range(256))  # raw mode: no byte is translated
                client.write(b"\x00\x03\x11\x13\r\n\x7f")
                data = b""
                while len(data) < 7:
                    data += await port.read(timeout=2)
                assert data == b"\x00\x03\x11\x13\r\n\x7f"
            finally:
                client.close()
            # the client left; the port keeps working for the next one
            client = serial.Serial(port.slave_path, timeout=2)
            try:
                client.write(b"again")
                assert await port.read(timeout=2) == b"again"
            finally:
                client.close()
        assert not link.exists()

    asyncio.run(main())
