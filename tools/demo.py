"""``smemu demo``: what ``make demo`` runs. Grows with the emulator.

Layer: tools. Starts the default premises in-process (virtual clock, in-process WAN),
commissions it, walks a short story through a head-end's eyes (:func:`smemu.hil.demo.run_story`)
and ends with a summary table and the path of a packet capture of the WAN conversation.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from smemu.hil.demo import run_story


@click.command("demo")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build/demo"),
    show_default=True,
    help="Folder for the demo premises' state, keys and packet capture.",
)
def demo_command(out: Path) -> None:
    """Run a virtual premises and talk to it as a supplier would; summarise what happened."""
    console = Console()
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    story = asyncio.run(run_story(out, click.echo))
    table = Table(title="Summary", title_justify="left")
    for column in ("step", "use cases", "devices", "what it showed", "verified"):
        table.add_column(column)
    for row in story.rows:
        table.add_row(row.step, row.use_case, row.device, row.outcome, row.verified)
    console.print(table)
    elapsed = time.monotonic() - started
    click.echo(f"Done in {elapsed:.1f} s. Decode it yourself: "
               f"smemu decode --keystore {out}/premises/keystore ...")
    failures = [e for e in story.exchanges if e.verified == "NO"]
    if failures:
        raise click.ClickException(f"{len(failures)} answers did not verify")
