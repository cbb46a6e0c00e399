"""Options shared by several ``smemu`` commands, defined once with environment fallbacks.

Layer: tools (style rule I36: shared options in one place, typed context, thin commands).
"""

from __future__ import annotations

from pathlib import Path

import click

from smemu.errors import SecurityError
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.keystore import DirectoryKeyStore, KeyStore

keystore_option = click.option(
    "--keystore",
    "keystore",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="SMEMU_KEYSTORE",
    show_envvar=True,
    help="Folder of keys and certificates in the keystore/ layout "
    "(<EUI>[-pp]-{ds,ka}.{pem,key}). Without it, signatures and MACs report 'no key'.",
)

acb_option = click.option(
    "--acb",
    "acbs",
    multiple=True,
    metavar="EUI",
    help="EUI-64 of an access-control broker whose key MACs commands (repeatable; default: "
    "the DCC test ACB 90-B3-D5-1F-30-00-00-02 and the GBCS 18.4 vectors' AB-AB-...-AB).",
)


def load_keystore(path: Path | None) -> KeyStore | None:
    """Load a key store folder, turning a bad folder into a usage error that says why."""
    if path is None:
        return None
    try:
        return DirectoryKeyStore.load(path)
    except SecurityError as exc:
        raise click.BadParameter(str(exc), param_hint="--keystore") from exc


def parse_acbs(values: tuple[str, ...]) -> tuple[Eui64, ...] | None:
    """The ``--acb`` values as EUI-64s, or ``None`` for the default list."""
    if not values:
        return None
    try:
        return tuple(Eui64.parse(v) for v in values)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--acb") from exc
