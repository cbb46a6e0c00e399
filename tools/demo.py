"""``smemu demo``: what ``make demo`` runs. Grows with the emulator.

Layer: tools. Today it makes a small PKI and a GBCS conversation of our own, writes them to
a folder, and decodes them with the same code as ``smemu decode``.
"""

from __future__ import annotations

from pathlib import Path

import click

from smemu.hil.demo import demo_keystore, demo_messages, write_keystore
from smemu.protocols.gbcs.inspect import inspect_bytes
from smemu.protocols.security.keystore import DirectoryKeyStore
from smemu.tools.render import render_tree


@click.command("demo")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build/demo"),
    show_default=True,
    help="Folder for the demo's key store and message files.",
)
def demo_command(out: Path) -> None:
    """Build a signed and MAC'd GBCS conversation with our own test keys, then decode it."""
    store = demo_keystore()
    keys = out / "keystore"
    write_keystore(store, keys)
    messages = demo_messages(store)
    click.echo(f"Demo PKI written to {keys} (supplier, access-control broker, ESME).\n")
    loaded = DirectoryKeyStore.load(keys)
    failures = 0
    for number, message in enumerate(messages, start=1):
        path = out / f"message-{number}.hex"
        path.write_text(message.data.hex(" ").upper() + "\n")
        click.secho(f"== {message.name}", bold=True)
        for result in inspect_bytes(message.data, loaded, source=str(path)):
            click.echo(render_tree(result))
            good = result.ok and result.reencode == "identical"
            good = good and result.signature != "invalid" and result.mac != "invalid"
            failures += not good
    click.echo(f"Try it yourself: smemu decode --keystore {keys} {out}/message-*.hex")
    if failures:
        raise click.ClickException(f"{failures} demo messages did not verify")
