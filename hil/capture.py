"""Packet captures of GBCS traffic that Wireshark and tshark open and dissect as GBCS.

Layer: hil. The file format is classic libpcap (microsecond timestamps) with link type 252,
LINKTYPE_WIRESHARK_UPPER_PDU ("exported PDU"): each packet opens with a list of TLVs naming
the dissector to hand the rest to (``gbcs_message``), then carries one GBCS message. The
byte encoding is pure functions (:func:`encode_pcap`, :func:`decode_pcap`); the
:class:`PcapWriter` streams packets to a file as they happen, for ``smemu capture`` and for
live traffic of a running premises.

Timestamps are reproducible: a packet written without one is stamped one microsecond after
the previous packet (the first at the writer's ``start``, by default the Unix epoch).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Final, Self

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.gbcs import frame

#: pcap link type of Wireshark's exported-PDU format (tcpdump.org link-layer header types)
LINKTYPE_WIRESHARK_UPPER_PDU: Final = 252
#: the Wireshark dissector registered for whole GBCS messages (packet-gbcs.c)
GBCS_DISSECTOR: Final = "gbcs_message"
#: exported-PDU TLV tag: end of the TLV list (value empty)
EXP_PDU_TAG_END_OF_OPT: Final = 0
#: exported-PDU TLV tag: name of the dissector that decodes the PDU after the TLVs
EXP_PDU_TAG_DISSECTOR_NAME: Final = 12
#: largest packet we write or accept (the libpcap default snapshot length)
SNAPLEN: Final = 262144
#: first packet's time when a writer is given no start: 1970-01-01T00:00:00Z
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
#: spacing of packets written without a timestamp
DEFAULT_STEP: Final = timedelta(microseconds=1)

_PCAP_MAGIC: Final = 0xA1B2C3D4  # microsecond resolution; byte order tells endianness
_FILE_HEADER: Final = struct.Struct("<IHHiIII")  # magic, 2, 4, thiszone, sigfigs, snaplen, lt
_RECORD_HEADER: Final = struct.Struct("<IIII")  # seconds, microseconds, captured, original
_TLV_HEADER: Final = struct.Struct(">HH")  # exported-PDU TLVs are big-endian
_US_PER_S: Final = 1_000_000
_MAX_SECONDS: Final = 0xFFFFFFFF


def file_header(linktype: int = LINKTYPE_WIRESHARK_UPPER_PDU) -> bytes:
    """The 24-byte libpcap global header (little-endian, version 2.4, microseconds).

    ::

        magic A1B2C3D4 | major 2 | minor 4 | thiszone 0 | sigfigs 0 | snaplen | link type
    """
    return _FILE_HEADER.pack(_PCAP_MAGIC, 2, 4, 0, 0, SNAPLEN, linktype)


def exported_pdu_tags(dissector: str = GBCS_DISSECTOR) -> bytes:
    """The exported-PDU TLV list that sends the packet's remaining bytes to ``dissector``.

    Each TLV is tag (2 bytes) | length (2 bytes) | value, big-endian. The dissector name is
    ASCII, padded with NUL bytes to a multiple of 4 (the padding counts in the length; readers
    strip it). The list ends with tag 0, length 0.

    :raises LocalProtocolError: if the name is empty or not ASCII.
    """
    if not dissector or not dissector.isascii():
        raise LocalProtocolError(f"a dissector name is non-empty ASCII, got {dissector!r}")
    name = dissector.encode("ascii")
    name += b"\x00" * (-len(name) % 4)
    return (
        _TLV_HEADER.pack(EXP_PDU_TAG_DISSECTOR_NAME, len(name))
        + name
        + _TLV_HEADER.pack(EXP_PDU_TAG_END_OF_OPT, 0)
    )


def _microseconds(instant: datetime) -> int:
    if instant.tzinfo is None:
        raise LocalProtocolError(f"capture timestamps need a time zone, got naive {instant}")
    delta = instant - EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * _US_PER_S + delta.microseconds
    if not 0 <= micros // _US_PER_S <= _MAX_SECONDS:
        raise LocalProtocolError(f"a pcap timestamp is 1970..2106, got {instant.isoformat()}")
    return micros


def packet_record(message: bytes, timestamp: datetime, *, tags: bytes | None = None) -> bytes:
    """One pcap record: header, exported-PDU TLVs (``tags``; default: to ``gbcs_message``), message.

    :raises LocalProtocolError: for a naive or out-of-range timestamp, or a packet over
        :data:`SNAPLEN` bytes.
    """
    prefix = exported_pdu_tags() if tags is None else tags
    size = len(prefix) + len(message)
    if size > SNAPLEN:
        raise LocalProtocolError(f"a packet is at most {SNAPLEN} bytes, got {size}")
    seconds, micros = divmod(_microseconds(timestamp), _US_PER_S)
    return _RECORD_HEADER.pack(seconds, micros, size, size) + prefix + message


@dataclass(frozen=True, slots=True)
class CapturedPacket:
    """A packet read back from a capture."""

    timestamp: datetime  #: capture time (UTC, microsecond resolution)
    dissector: str  #: the exported-PDU dissector name ("" when the packet names none)
    data: bytes  #: the PDU after the TLVs: one GBCS message


def encode_pcap(
    messages: Iterable[bytes],
    *,
    start: datetime = EPOCH,
    step: timedelta = DEFAULT_STEP,
) -> bytes:
    """A whole capture in memory: message ``i`` is stamped ``start + i * step``."""
    tags = exported_pdu_tags()
    parts = [file_header()]
    parts.extend(
        packet_record(message, start + index * step, tags=tags)
        for index, message in enumerate(messages)
    )
    return b"".join(parts)


def _decode_tags(record: bytes, base: int, path: str) -> tuple[str, int]:
    dissector = ""
    pos = 0
    while True:
        if pos + 4 > len(record):
            raise DecodeError("TLV list has no end-of-options tag", path=path, offset=base + pos)
        tag, length = _TLV_HEADER.unpack_from(record, pos)
        pos += 4
        if pos + length > len(record):
            raise DecodeError(
                f"TLV {tag} of {length} bytes runs past the packet's end",
                path=path,
                offset=base + pos - 2,
            )
        if tag == EXP_PDU_TAG_END_OF_OPT:
            return dissector, pos + length
        if tag == EXP_PDU_TAG_DISSECTOR_NAME and not dissector:
            dissector = record[pos : pos + length].rstrip(b"\x00").decode("ascii", "replace")
        pos += length


def iter_pcap(data: bytes) -> Iterator[CapturedPacket]:
    """Read a classic pcap of exported PDUs (either byte order), packet by packet.

    :raises DecodeError: for another format or link type, or a truncated record.
    """
    if len(data) < _FILE_HEADER.size:
        raise DecodeError(
            f"a pcap file opens with a {_FILE_HEADER.size}-byte header, got {len(data)} bytes",
            path="pcap.header",
            offset=0,
        )
    order = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">"}.get(data[:4])
    if order is None:
        raise DecodeError(
            f"expected the microsecond pcap magic A1B2C3D4, got {data[:4].hex().upper()}",
            path="pcap.header.magic",
            offset=0,
        )
    header = struct.Struct(order + "IHHiIII").unpack_from(data)
    if header[6] != LINKTYPE_WIRESHARK_UPPER_PDU:
        raise DecodeError(
            f"expected link type {LINKTYPE_WIRESHARK_UPPER_PDU}, got {header[6]}",
            path="pcap.header.linktype",
            offset=20,
        )
    record_header = struct.Struct(order + "IIII")
    pos = _FILE_HEADER.size
    number = 0
    while pos < len(data):
        path = f"pcap.packet[{number}]"
        if pos + record_header.size > len(data):
            raise DecodeError("truncated record header", path=path, offset=pos)
        seconds, micros, captured, _original = record_header.unpack_from(data, pos)
        pos += record_header.size
        if pos + captured > len(data):
            raise DecodeError(
                f"record of {captured} bytes runs past the end of the file", path=path, offset=pos
            )
        record = data[pos : pos + captured]
        dissector, body = _decode_tags(record, pos, path + ".tags")
        stamp = EPOCH + timedelta(seconds=seconds, microseconds=micros)
        yield CapturedPacket(stamp, dissector, record[body:])
        pos += captured
        number += 1


def decode_pcap(data: bytes) -> list[CapturedPacket]:
    """Every packet of a capture (see :func:`iter_pcap`)."""
    return list(iter_pcap(data))


def split_messages(blob: bytes) -> list[bytes]:
    """Cut a blob holding GBCS messages back to back into one ``bytes`` per message.

    :raises DecodeError: where a message does not frame (offsets are into ``blob``).
    """
    messages: list[bytes] = []
    pos = 0
    while pos < len(blob):
        try:
            _message, rest = frame.decode(blob[pos:])
        except DecodeError as exc:
            raise exc.within(f"message[{len(messages)}]", pos) from exc
        end = len(blob) - len(rest)
        messages.append(blob[pos:end])
        pos = end
    return messages


class PcapWriter:
    """Streams GBCS messages into a pcap file as they are sent or received.

    ::

        with PcapWriter.open("premises.pcap") as capture:
            capture.write(message_bytes)                  # start, start + 1 us, ...
            capture.write(reply_bytes, clock.now())       # or the emulated clock's time

    Each packet is flushed as it is written, so Wireshark can follow a live file.
    """

    def __init__(
        self,
        stream: BinaryIO,
        *,
        start: datetime = EPOCH,
        step: timedelta = DEFAULT_STEP,
        close_stream: bool = False,
    ) -> None:
        """Write the file header to ``stream`` (which the writer closes only if ``close_stream``).

        :param start: time of the first packet written without a timestamp.
        :param step: spacing of packets written without a timestamp.
        """
        _microseconds(start)  # reject a naive or out-of-range start now, not at first write
        self._stream = stream
        self._close_stream = close_stream
        self._tags = exported_pdu_tags()
        self._step = step
        self._next = start
        self._count = 0
        self._closed = False
        stream.write(file_header())
        stream.flush()

    @classmethod
    def open(
        cls, path: str | Path, *, start: datetime = EPOCH, step: timedelta = DEFAULT_STEP
    ) -> Self:
        """Create (or truncate) ``path`` and return a writer that owns the file."""
        stream = Path(path).open("wb")  # noqa: SIM115 -- the writer owns and closes it
        try:
            return cls(stream, start=start, step=step, close_stream=True)
        except BaseException:
            stream.close()
            raise

    @property
    def count(self) -> int:
        """How many packets have been written."""
        return self._count

    def write(self, message: bytes, timestamp: datetime | None = None) -> None:
        """Append one GBCS message, stamped ``timestamp`` or one step after the previous packet.

        :raises LocalProtocolError: after :meth:`close`, or for a bad timestamp or size.
        """
        if self._closed:
            raise LocalProtocolError("write on a closed capture")
        instant = self._next if timestamp is None else timestamp
        self._stream.write(packet_record(message, instant, tags=self._tags))
        self._stream.flush()
        self._next = instant + self._step
        self._count += 1

    def close(self) -> None:
        """Finish the capture (idempotent); closes the file if the writer opened it."""
        if self._closed:
            return
        self._closed = True
        if self._close_stream:
            self._stream.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def write_pcap(
    path: str | Path,
    messages: Iterable[bytes],
    *,
    start: datetime = EPOCH,
    step: timedelta = DEFAULT_STEP,
) -> int:
    """Write ``messages`` to a new capture at ``path``; return how many were written."""
    with PcapWriter.open(path, start=start, step=step) as capture:
        for message in messages:
            capture.write(message)
        return capture.count
