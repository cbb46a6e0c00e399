"""``smemu capture``: write GBCS messages into a pcap that Wireshark and tshark dissect as GBCS.

Layer: tools. The format and the writer live in :mod:`smemu.hil.capture`; this module reads
the inputs (as ``smemu decode`` does), checks that each one frames as GBCS, and writes them.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from smemu.errors import DecodeError, SmemuError
from smemu.hil.capture import EPOCH, PcapWriter, split_messages
from smemu.protocols.text import parse_message_text


def _read(name: str) -> tuple[str, str]:
    if name == "-":
        return "<stdin>", sys.stdin.read()
    try:
        return name, Path(name).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise click.BadParameter(f"cannot read {name}: {exc.strerror}", param_hint="INPUT") from exc


def _parse_start(value: str | None) -> datetime:
    if value is None:
        return EPOCH
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"expected an ISO 8601 date-time such as 2024-05-01T12:00:00Z, got {value!r}",
            param_hint="--start",
        ) from exc
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


@click.command("capture")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The pcap file to write (replaced if it exists).",
)
@click.option(
    "--start",
    metavar="DATETIME",
    default=None,
    help="Time stamp of the first packet, ISO 8601 (UTC unless it names a zone); later "
    "packets follow one microsecond apart. Default: 1970-01-01T00:00:00Z, so the same "
    "inputs always give the same file.",
)
def capture_command(inputs: tuple[str, ...], out: Path, start: str | None) -> None:
    """Write GBCS messages into FILE.pcap for Wireshark or tshark.

    INPUT is read as by 'smemu decode': files of hex (any separators) or base64, several
    messages back to back allowed, or - for stdin. Each message becomes one packet of link
    type 252 (Wireshark "exported PDU") that names the gbcs_message dissector, so Wireshark
    shows the grouping header, MAC header and GBZ payload fields with no set-up.

    \b
    Examples:
      smemu capture --out vectors.pcap ../shared/conformance/rtds-4.5.0/*/*.HEX
      tshark -r vectors.pcap -V
      echo 'DF 09 01 ...' | smemu capture --out one.pcap -

    Exit status: 0 when every message was written; 1 when an input does not frame as GBCS
    (nothing is written then: the error names the input, the field and the byte offset);
    2 for a usage error.
    """
    first = _parse_start(start)
    messages: list[bytes] = []
    for name in inputs:
        source, text = _read(name)
        try:
            for blob in parse_message_text(text):
                messages.extend(split_messages(blob))
        except DecodeError as exc:
            click.echo(f"smemu capture: {source}: {exc}", err=True)
            sys.exit(1)
    try:
        with PcapWriter.open(out, start=first) as writer:
            for message in messages:
                writer.write(message)
    except OSError as exc:
        raise click.BadParameter(f"cannot write {out}: {exc.strerror}", param_hint="--out") from exc
    except SmemuError as exc:
        click.echo(f"smemu capture: {exc}", err=True)
        sys.exit(1)
    noun = "message" if writer.count == 1 else "messages"
    click.echo(f"wrote {writer.count} {noun} to {out}")
