"""Connected port pairs for the HAL contract suite: one per backend available on this machine.

Each pair is a port under test and a peer (another port, a pyserial client, or the virtual
rig) with send/receive, built inside the test's event loop.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from smemu.hal.ichi import LinkSettings
from smemu.hal.ichi_rig import VirtualRig
from smemu.hal.ports import Port, open_port
from smemu.hal.ptyport import PtyPort
from smemu.hal.tcp import TcpPort
from smemu.hal.virtual import VirtualHub


@dataclass
class Pair:
    """A port under test and the far end of its line."""

    port: Port
    send: Callable[[bytes], Awaitable[None]]  #: far end -> port
    receive: Callable[[float], Awaitable[bytes]]  #: port -> far end (timeout)
    cleanups: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    loopback: bool = False  #: the far end is the port itself (serial loop://)

    async def close(self) -> None:
        await self.port.close()
        for cleanup in reversed(self.cleanups):
            await cleanup()


def _port_peer(port: Port, peer: Port) -> Pair:
    async def receive(timeout: float) -> bytes:
        return await peer.read(timeout=timeout)

    return Pair(port, peer.write, receive, [peer.close])


async def virtual_pair() -> Pair:
    hub = VirtualHub()
    port, peer = open_port("virtual://line", hub=hub), open_port("virtual://line", hub=hub)
    await port.open()
    await peer.open()
    return _port_peer(port, peer)


async def pty_pair() -> Pair:
    port = open_port("pty://")
    assert isinstance(port, PtyPort)
    await port.open()
    peer = open_port("serial://" + port.slave_path)  # pyserial on the slave side
    await peer.open()
    return _port_peer(port, peer)


async def tcp_pair() -> Pair:
    port = open_port("tcp://127.0.0.1:0?mode=listen")
    assert isinstance(port, TcpPort)
    await port.open()
    peer = open_port(f"tcp://{port.location}")
    await peer.open()
    await port.wait_connected(timeout=5)
    return _port_peer(port, peer)


async def serial_loop_pair() -> Pair:
    port = open_port("serial://loop://")
    await port.open()

    async def receive(timeout: float) -> bytes:
        return await port.read(timeout=timeout)

    return Pair(port, port.write, receive, loopback=True)


async def _ichi_pair(
    rig_url: str, hub: VirtualHub | None, device_url: str | None, settings: LinkSettings | None
) -> Pair:
    rig = await VirtualRig.start(rig_url, hub=hub, settings=settings)
    port = open_port(device_url or rig.device_url, hub=hub)
    await port.open()
    for _ in range(3):  # the rig reports its lines after the device's RESET
        await port.read_line_event(timeout=5)

    async def receive(timeout: float) -> bytes:
        return await rig.receive(timeout=timeout)

    return Pair(port, rig.send, receive, [rig.close])


async def ichi_pty_pair() -> Pair:
    return await _ichi_pair("pty://", None, None, None)


#: faults on both directions of the rig line; the ICHI link must hide them all
RIG_FAULTS = "drop=0.15&corrupt=0.1&split=0.3&duplicate=0.1&reorder=0.1&delay=0.1&max_delay=0.005"


async def ichi_faulty_pair() -> Pair:
    return await _ichi_pair(
        f"virtual://rig?{RIG_FAULTS}&seed=7",
        VirtualHub(),
        f"ichi://virtual://rig?{RIG_FAULTS}&seed=8#ack_timeout=0.02&retries=60",
        LinkSettings(ack_timeout=0.02, retries=60),
    )


#: backend name -> pair factory (pty-based pairs only where the OS has ptys)
FACTORIES: dict[str, Callable[[], Awaitable[Pair]]] = {
    "virtual": virtual_pair,
    "tcp": tcp_pair,
    "serial-loop": serial_loop_pair,
    "ichi-virtual-faulty": ichi_faulty_pair,
}
if hasattr(os, "openpty"):
    FACTORIES["pty"] = pty_pair
    FACTORIES["ichi-pty"] = ichi_pty_pair
