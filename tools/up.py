"""``smemu up``: run a premises until interrupted, with a live status line.

Layer: tools. Thin: options -> :class:`~smemu.devices.premises.Premises` and
:func:`~smemu.devices.runner.run_premises`; this module only prints.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from smemu.devices.config import load_config
from smemu.devices.premises import STATE_FILE, Premises
from smemu.devices.runner import Status, run_premises
from smemu.errors import ConfigError, HalError, SecurityError


def _speed(text: str | None) -> float | str | None:
    if text is None:
        return "config"
    if text == "wall":
        return None
    try:
        value = float(text)
    except ValueError:
        raise click.BadParameter("a number >= 0 or 'wall'", param_hint="--speed") from None
    if value < 0:
        raise click.BadParameter("must be >= 0", param_hint="--speed")
    return value


def _ports_table(premises: Premises) -> Table:
    table = Table(title=f"premises {premises.config.name}", title_justify="left")
    for column in ("device", "EUI-64", "ports"):
        table.add_column(column)
    described = premises.describe()
    devices = described["devices"]
    assert isinstance(devices, list)
    for entry in devices:
        ports = [f"{name}: {where}" for name, where in entry["ports"].items()]
        wan = premises.wan_port
        if entry["type"] == "chf" and wan is not None and wan.carries_line_events:
            ports.append("rig lines (power, tamper, hot shoe)")
        table.add_row(entry["name"], entry["eui"], "\n".join(ports))
    return table


def _status_text(status: Status) -> Text:
    return Text.assemble(
        ("sim ", "dim"),
        (status.sim_time.strftime("%Y-%m-%d %H:%M:%S"), "bold"),
        ("  in ", "dim"),
        (str(status.wan_in), "green"),
        ("  out ", "dim"),
        (str(status.wan_out), "green"),
        ("  alerts ", "dim"),
        (str(status.alerts), "yellow"),
        ("  rejected ", "dim"),
        (str(status.rejected), "red" if status.rejected else "dim"),
        ("  bad input ", "dim"),
        (str(status.bad_input), "red" if status.bad_input else "dim"),
    )


@click.command("up")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Premises file (TOML). Default: the embedded premises (CH, GPF, ESME, GSME, PPMID, "
    "HCALC).",
)
@click.option("--wan", metavar="URL", help="WAN port URL (default: the premises file's, "
              "tcp://127.0.0.1:8716).")
@click.option("--speed", metavar="N|wall", help="Simulated seconds per real second, or 'wall'.")
@click.option(
    "--state",
    "state_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".smemu/premises"),
    show_default=True,
    envvar="SMEMU_STATE",
    show_envvar=True,
    help="State folder: device stores, keystore/, premises.json. Reuse it to resume.",
)
def up_command(
    config_path: Path | None, wan: str | None, speed: str | None, state_dir: Path
) -> None:
    """Run a premises (comms hub and HAN devices) until Ctrl-C or SIGTERM."""
    console = Console(stderr=False)
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    premises = Premises(config, state_dir, wan=wan, speed=_speed(speed))
    live = Live(Text("starting..."), console=console, auto_refresh=False, transient=False)

    def started(p: Premises) -> None:
        console.print(_ports_table(p))
        console.print("Ctrl-C or SIGTERM stops the premises; --state resumes it.")
        keystore = p.pki.folder if p.pki else "-"
        console.print(f"state: {state_dir / STATE_FILE}   keystore: {keystore}")
        live.start()

    def tick(status: Status) -> None:
        live.update(_status_text(status), refresh=True)

    try:
        asyncio.run(run_premises(premises, on_started=started, on_tick=tick))
    except (ConfigError, HalError, SecurityError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        live.stop()
    console.print("\nstopped; state saved in", str(state_dir))
