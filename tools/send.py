"""``smemu send``: build a command as a remote party, secure it, send it, show the response.

Layer: tools. The work is done by :mod:`smemu.hil.headend` (building, securing, correlating,
verifying) and :mod:`smemu.protocols.gbcs.inspect` (the decoded view, the same JSON schema as
``smemu decode``); this module resolves options, talks to the port and sets the exit status.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import click

from smemu.devices.keys import load_pki
from smemu.errors import ConfigError, DecodeError, HalError, SecurityError, SmemuError
from smemu.firmware.common.credentials import Role
from smemu.hil.commands import UseCaseNotImplemented, builder_for
from smemu.hil.headend import CounterStore, HeadEnd, HeadEndClient, Received, role_name
from smemu.protocols.gbcs.inspect import inspect_bytes
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.keystore import KeyStore
from smemu.tools.render import render_tree

#: ``--as`` names -> the role played.
ROLES: Final[dict[str, Role]] = {
    "supplier": Role.SUPPLIER,
    "network-operator": Role.NETWORK_OPERATOR,
    "acb": Role.ACCESS_CONTROL_BROKER,
    "other-user": Role.OTHER_USER,
}
PREMISES_FILE: Final = "premises.json"
COUNTERS_FILE: Final = "headend-counters.json"


@dataclass(frozen=True, slots=True)
class Premises:
    """What ``smemu send`` reads from ``<state>/premises.json``."""

    wan: str | None
    devices: dict[Eui64, str]  #: EUI -> device type
    keystore: Path | None


def read_premises(state: Path) -> Premises:
    """Read ``premises.json``: the WAN URL, the devices (EUI and type) and the key folder.

    :raises click.BadParameter: the file is missing or not the expected JSON.
    """
    path = state / PREMISES_FILE
    try:
        raw: Any = json.loads(path.read_text())
    except OSError as exc:
        raise click.BadParameter(
            f"expected {path} (written by `smemu up --state {state}`): {exc.strerror}",
            param_hint="--state",
        ) from exc
    except ValueError as exc:
        raise click.BadParameter(f"{path} is not JSON: {exc}", param_hint="--state") from exc
    if not isinstance(raw, dict):
        raise click.BadParameter(f"{path}: expected a JSON object", param_hint="--state")
    wan = raw.get("wan") or raw.get("wan_url")
    if isinstance(wan, dict):
        wan = wan.get("url")
    devices: dict[Eui64, str] = {}
    entries = raw.get("devices", [])
    if isinstance(entries, dict):
        entries = [
            {"eui": k, **v} if isinstance(v, dict) else {"eui": k} for k, v in entries.items()
        ]
    for entry in entries if isinstance(entries, list) else []:
        try:
            devices[Eui64.parse(str(entry["eui"]))] = str(entry.get("type", "?"))
        except (KeyError, TypeError, DecodeError):
            continue
    folder = raw.get("keystore") or raw.get("pki")
    keystore = None
    if isinstance(folder, str):
        keystore = (state / folder).resolve()
    else:
        for name in ("pki", "keystore", "keys"):
            if (state / name).is_dir():
                keystore = state / name
                break
    return Premises(wan if isinstance(wan, str) else None, devices, keystore)


def _parse_params(values: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {value!r}", param_hint="--param")
        params[name.strip()] = text.strip()
    return params


def _load_keys(folder: Path) -> tuple[KeyStore, dict[int, Eui64]]:
    try:
        pki = load_pki(folder)
    except (SecurityError, ConfigError) as exc:
        raise click.BadParameter(str(exc), param_hint="--keystore") from exc
    return pki.keystore, {int(r): e for r, e in pki.remote_parties.items()}


async def _exchange(
    head_end: HeadEnd, url: str, command: Any, timeout: float
) -> tuple[Received, list[Received]]:
    async with HeadEndClient(head_end, url) as client:
        received = await client.send(command, timeout=timeout)
        return received, list(client.received)


@click.command("send")
@click.option("--to", "to", required=True, metavar="EUI", help="EUI-64 of the target device.")
@click.option("--use-case", required=True, metavar="ID", help="Use case id, e.g. ECS17b, ECS52.")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A use case parameter (repeatable); e.g. ECS70 start=2024-01-01T00:00:00.",
)
@click.option(
    "--wan", metavar="URL", help="hal URL of the comms hub's WAN port (default: --state)."
)
@click.option(
    "--state",
    type=click.Path(file_okay=False, path_type=Path),
    help="State folder of `smemu up`: premises.json gives the WAN URL, devices and keys.",
)
@click.option(
    "--keystore",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="SMEMU_KEYSTORE",
    show_envvar=True,
    help="Key folder (keystore/ layout or `smemu keys init`): the remote parties' private "
    "keys and the devices' certificates.",
)
@click.option(
    "--as",
    "role_name_",
    type=click.Choice(sorted(ROLES)),
    default="supplier",
    show_default=True,
    help="The remote party to play.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["tree", "json"]),
    default="tree",
    show_default=True,
    help="tree: readable view; json: the `smemu decode --format json` schema.",
)
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds to wait.")
def send_command(  # noqa: PLR0917 - one parameter per option
    to: str,
    use_case: str,
    params: tuple[str, ...],
    wan: str | None,
    state: Path | None,
    keystore: Path | None,
    role_name_: str,
    fmt: str,
    timeout: float,
) -> None:
    """Send one use case's command to a device and print its verified response.

    The command is built from typed parameters, signed with the remote party's DS key when
    the use case is critical, MAC'd with the access-control broker's key, and given a fresh
    originator counter (kept in STATE/headend-counters.json with --state).

    \b
    Examples:
      smemu send --state run/ --to 00-DB-12-34-56-78-90-A0 --use-case ECS52
      smemu send --wan tcp://127.0.0.1:8716 --keystore keys/ --to 00DB1234567890A0 \\
          --use-case ECS17b --format json
      smemu send --state run/ --to 00DB1234567890A0 --use-case ECS70 \\
          --param start=2024-01-01T00:00:00 --param end=2024-01-01T00:10:00

    Exit status: 0 only when a response arrived and its signature / MAC verified; 1 when
    none arrived in time or it did not verify; 2 for a usage error.
    """
    try:
        device = Eui64.parse(to)
    except DecodeError as exc:
        raise click.BadParameter(str(exc), param_hint="--to") from exc
    raw_params = _parse_params(params)
    try:
        builder_for(use_case)
    except UseCaseNotImplemented as exc:
        raise click.BadParameter(str(exc), param_hint="--use-case") from exc
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--use-case") from exc
    premises = read_premises(state) if state is not None else None
    url = wan or (premises.wan if premises else None)
    if url is None:
        raise click.UsageError(
            "no WAN URL: pass --wan URL (e.g. tcp://127.0.0.1:8716) or --state DIR of `smemu up`"
            + (f" (its {PREMISES_FILE} names none)" if premises else "")
        )
    if premises and premises.devices and device not in premises.devices:
        known = ", ".join(f"{e} ({t})" for e, t in premises.devices.items())
        raise click.BadParameter(
            f"{device} is not a device of this premises; expected one of: {known}",
            param_hint="--to",
        )
    folder = keystore or (premises.keystore if premises else None)
    if folder is None:
        raise click.UsageError("no keys: pass --keystore DIR, or --state DIR holding its keys")
    store, parties = _load_keys(folder)
    counters = CounterStore(
        None if state is None else state / COUNTERS_FILE, floor=time.time_ns() // 1_000_000
    )
    head_end = HeadEnd(store, parties, counters)
    role = ROLES[role_name_]
    try:
        command = head_end.build(use_case, device, raw_params, role=role)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--param/--as") from exc
    except SmemuError as exc:
        raise click.ClickException(f"cannot build {use_case} as {role_name(role)}: {exc}") from exc
    try:
        received, others = asyncio.run(_exchange(head_end, url, command, timeout))
    except HalError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    _print(received, others, store, fmt)
    if not received.verified:
        click.echo(
            f"error: the response to {command.use_case} did not verify: "
            + "; ".join(received.problems),
            err=True,
        )
        sys.exit(1)


def _print(received: Received, others: list[Received], store: KeyStore, fmt: str) -> None:
    results = []
    for item in (*others, received):
        results.extend(inspect_bytes(item.data, store, source=item.outcome.value))
    if fmt == "json":
        json.dump([r.to_json() for r in results], sys.stdout, indent=1)
        sys.stdout.write("\n")
        return
    for result in results:
        sys.stdout.write(render_tree(result) + "\n")
    verdict = "verified" if received.verified else "NOT verified"
    sys.stdout.write(f"response {verdict} (signature {received.signature}, MAC {received.mac})\n")
