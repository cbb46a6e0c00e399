"""A stand-in meter for head-end tests: answers each command with a fixed, secured response.

Not an emulated device (those live in smemu.devices): it only exercises the head-end's I/O,
correlation and verification over real sockets. Critical commands get a signed response,
the others a MAC'd one; the payload reports firmware version 01020304 for any get.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from smemu.protocols.framing.wan import WanFramer
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader
from smemu.protocols.gbcs.types import Cra
from smemu.protocols.security.keystore import KeyStore


def respond(command: bytes, store: KeyStore, *, counter_offset: int = 0) -> bytes:
    """The device's response to ``command`` (an ECS52-shaped access-response)."""
    inner = frame.signing_message(frame.locate(command).message)
    assert inner is not None
    h = inner.header
    counter = h.originator_counter + counter_offset
    invoke = (0x20000000 | (counter & 0xFFFFFF)).to_bytes(4, "big")
    payload = b"\xda" + invoke + bytes.fromhex("0000010904010203040101 00".replace(" ", ""))
    header = GroupingHeader(
        Cra.RESPONSE, counter, h.recipient, h.originator, None, h.other_information
    )
    if inner.signature:
        return secure.sign(GeneralSigningMessage(header, payload, None), store).encode()
    return secure.protect(GeneralSigningMessage(header, payload, b""), store).encode()


async def _handle(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, store: KeyStore, answer: bool
) -> None:
    framer = WanFramer()
    while data := await reader.read(4096):
        framer.feed(data)
        for raw in framer:
            if answer:
                writer.write(respond(raw, store))
                await writer.drain()
    writer.close()


async def start(store: KeyStore, *, answer: bool = True) -> tuple[asyncio.Server, str]:
    """Listen on a free loopback port; return the server and the URL to connect to."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _handle(reader, writer, store, answer)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"tcp://127.0.0.1:{port}"


@contextmanager
def in_thread(store: KeyStore, *, answer: bool = True) -> Iterator[str]:
    """Run the stand-in meter on its own event loop in a thread (for CLI tests)."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, object] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        server, url = loop.run_until_complete(start(store, answer=answer))
        box["server"], box["url"] = server, url
        ready.set()
        loop.run_forever()
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(5)
    try:
        yield str(box["url"])
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
