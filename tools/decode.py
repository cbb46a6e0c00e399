"""``smemu decode``: decode GBCS messages, check signatures and MACs, decrypt, re-encode.

Layer: tools. The work is done by :mod:`smemu.protocols.gbcs.inspect`; this module reads the
inputs, prints the tree or the JSON list, and sets the exit status.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

import click

from smemu.errors import DecodeError
from smemu.protocols.gbcs.inspect import Inspection, inspect_bytes
from smemu.protocols.gbcs.secure import DEFAULT_ACBS
from smemu.protocols.text import parse_message_text
from smemu.tools.options import acb_option, keystore_option, load_keystore, parse_acbs
from smemu.tools.render import render_tree


def _read(name: str) -> tuple[str, str]:
    if name == "-":
        return "<stdin>", sys.stdin.read()
    path = Path(name)
    try:
        return name, path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise click.BadParameter(f"cannot read {name}: {exc.strerror}", param_hint="INPUT") from exc


@click.command("decode")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@keystore_option
@acb_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["tree", "json"]),
    default="tree",
    show_default=True,
    help="tree: readable field-by-field view; json: a list with one object per message.",
)
def decode_command(
    inputs: tuple[str, ...], keystore: Path | None, acbs: tuple[str, ...], fmt: str
) -> None:
    """Decode GBCS messages from files of hex or base64 (INPUT may be - for stdin).

    Hex may use any separators (spaces, colons, dashes, 0x prefixes); a file may hold several
    messages back to back. For each message it shows the framing fields, whether the
    signature and the MAC verify (valid, invalid, absent or 'no key'), whether an encrypted
    payload could be decrypted, and whether re-encoding gives the identical bytes.

    \b
    Examples:
      smemu decode message.hex
      smemu decode --keystore ../shared/conformance/keystore --format json vectors/*/*.HEX
      echo 'DF 09 01 ...' | smemu decode -

    Exit status: 0 when every input decoded, 1 when any did not (the error names the field
    and the byte offset), 2 for a usage error.
    """
    store = load_keystore(keystore)
    acb_list = parse_acbs(acbs) or DEFAULT_ACBS
    results: list[Inspection] = []
    for name in inputs:
        source, text = _read(name)
        try:
            blobs = parse_message_text(text)
        except DecodeError as exc:
            results.append(Inspection(source, 0, errors=[str(exc)]))
            continue
        for number, blob in enumerate(blobs, start=1):
            label = source if len(blobs) == 1 else f"{source}[{number}]"
            results.extend(inspect_bytes(blob, store, source=label, acbs=acb_list, typed=True))
    out: TextIO = sys.stdout
    if fmt == "json":
        json.dump([r.to_json() for r in results], out, indent=1)
        out.write("\n")
    else:
        for result in results:
            out.write(render_tree(result))
            out.write("\n")
        failed = sum(1 for r in results if not r.ok)
        out.write(
            f"{len(results)} messages, {len(results) - failed} decoded, {failed} with errors\n"
        )
    if any(not r.ok for r in results):
        sys.exit(1)
