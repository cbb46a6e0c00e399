"""``smemu keys``: generate and show a test PKI (remote parties and devices).

Layer: tools. Thin over :mod:`smemu.devices.keys`.
"""

from __future__ import annotations

from pathlib import Path

import click

from smemu.devices.config import load_config
from smemu.devices.keys import init_pki as make_pki
from smemu.devices.keys import load_pki
from smemu.errors import ConfigError, SecurityError


@click.group("keys")
def keys_group() -> None:
    """Test PKI: keys and certificates in the keystore/ layout."""


@keys_group.command("init")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Premises file whose devices get keys (default: the embedded premises).",
)
@click.option("--seed", help="Derive every key from this text (reproducible PKI).")
def init_command(folder: Path, config_path: Path | None, seed: str | None) -> None:
    """Generate keys and certificates for the remote parties and the premises' devices,
    and the manufacturer's firmware image signing key."""
    try:
        config = load_config(config_path)
        pki = make_pki(
            folder,
            {d.eui: d.type for d in config.devices},
            seed=None if seed is None else seed.encode(),
        )
    except (ConfigError, SecurityError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    _show(pki.folder)


@keys_group.command("show")
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
def show_command(folder: Path) -> None:
    """List the parties of a PKI folder."""
    _show(folder)


def _show(folder: Path) -> None:
    try:
        pki = load_pki(folder)
    except (ConfigError, SecurityError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"PKI in {folder}")
    for role, eui in pki.remote_parties.items():
        click.echo(f"  {role.slug:<24} {eui}")
    for eui, kind in pki.devices.items():
        click.echo(f"  device {kind.value:<17} {eui}")
    if pki.manufacturer is not None:
        click.echo(f"  {'manufacturer (images)':<24} {pki.manufacturer}")
