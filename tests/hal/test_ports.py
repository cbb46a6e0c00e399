"""Port URL resolution: the backend table, entry points, duplicates, unknown schemes."""

from __future__ import annotations

import asyncio
from importlib.metadata import EntryPoint

import pytest

from smemu.errors import ConfigError, HalError
from smemu.hal import ports
from smemu.hal.ports import BACKENDS, Port, PortStats, open_port, query_options, resolve_backend
from smemu.hal.ptyport import PtyPort
from smemu.hal.serialport import SerialPort
from smemu.hal.tcp import TcpPort
from smemu.hal.virtual import VirtualPort


class EchoPort(Port):
    """A third-party backend: whatever is written can be read back."""

    scheme = "echo"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()

    async def _open(self) -> None:
        pass

    async def _close(self) -> None:
        pass

    async def _read_internal(self, max_bytes: int) -> bytes:
        return await self._queue.get()

    async def _write_internal(self, data: bytes) -> None:
        self._queue.put_nowait(data)


def test_every_builtin_backend_resolves_to_its_port_class() -> None:
    expected = {"virtual": VirtualPort, "pty": PtyPort, "tcp": TcpPort, "serial": SerialPort}
    for scheme, cls in expected.items():
        assert resolve_backend(scheme) is cls
        assert cls.scheme == scheme
    assert resolve_backend("ichi").scheme == "ichi"
    assert set(BACKENDS) == {"virtual", "pty", "tcp", "serial", "ichi"}


def test_an_unknown_scheme_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown port scheme 'can'.*virtual://"):
        open_port("can://0")
    with pytest.raises(ConfigError, match="port URL"):
        open_port("/dev/ttyUSB0")


def test_an_extra_backend_is_used_and_a_clash_is_refused() -> None:
    extra = {"echo": f"{__name__}:EchoPort"}

    async def main() -> None:
        port = open_port("echo://x", extra=extra)
        async with port:
            await port.write(b"hi")
            assert await port.read(timeout=1) == b"hi"

    asyncio.run(main())
    with pytest.raises(ConfigError, match="registered twice"):
        resolve_backend("tcp", extra={"tcp": f"{__name__}:EchoPort"})
    with pytest.raises(ConfigError, match="not a Port"):
        resolve_backend("bad", extra={"bad": f"{__name__}:test_stats_as_a_dict"})
    with pytest.raises(ConfigError):
        resolve_backend("gone", extra={"gone": "smemu.hal.nowhere:Port"})


def test_entry_points_extend_the_table_and_duplicates_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fake(targets: list[tuple[str, str]]) -> object:
        return lambda group: [EntryPoint(n, v, group) for n, v in targets]

    monkeypatch.setattr(ports, "entry_points", fake([("echo", f"{__name__}:EchoPort")]))
    assert resolve_backend("echo") is EchoPort
    monkeypatch.setattr(
        ports, "entry_points",
        fake([("echo", f"{__name__}:EchoPort"), ("echo", "other.module:Port")]),
    )
    with pytest.raises(ConfigError, match="registered twice"):
        resolve_backend("echo")
    monkeypatch.setattr(ports, "entry_points", fake([("pty", f"{__name__}:EchoPort")]))
    with pytest.raises(ConfigError, match="registered twice"):
        resolve_backend("virtual")


def test_query_options_and_bad_urls() -> None:
    assert query_options("virtual://a?drop=0.1&seed=3") == {"drop": "0.1", "seed": "3"}
    assert query_options("pty://") == {}
    with pytest.raises(ConfigError):
        query_options("virtual://a?drop")
    for url in ["tcp://127.0.0.1", "tcp://127.0.0.1:99999", "tcp://h:1?mode=sideways",
                "tcp://h:1?colour=red", "pty://?colour=red", "serial:///dev/x?speed=1",
                "serial:///dev/x?baudrate=fast", "serial://", "ichi://nothing",
                "ichi://virtual://r#retries=many", "ichi://virtual://r#colour=1"]:
        with pytest.raises(ConfigError):
            open_port(url)


def test_ports_must_be_open_and_reads_need_room() -> None:
    async def main() -> None:
        port = open_port("virtual://x")
        with pytest.raises(HalError, match="not open"):
            await port.read()
        with pytest.raises(HalError, match="not open"):
            await port.write(b"x")
        async with port:
            with pytest.raises(ValueError):
                await port.read(0)
            await port.write(b"")  # nothing to send: nothing happens
            await port.open()  # opening twice is harmless

    asyncio.run(main())


def test_stats_as_a_dict() -> None:
    stats = PortStats(bytes_in=3, drops=1)
    assert stats.as_dict()["bytes_in"] == 3
    assert stats.as_dict()["drops"] == 1
