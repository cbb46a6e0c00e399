"""``smemu conformance run``: replay reference vectors against devices and report the verdicts.

Layer: tools (thin). Discovery, replay, comparison and the reports live in
:mod:`smemu.hil.conformance` and :mod:`smemu.hil.report`; devices come from
:mod:`smemu.hil.dut` (fresh emulated devices, or a rig behind a hal URL).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import click

from smemu.errors import ConfigError, DecodeError, SmemuError
from smemu.firmware.common.machine import DeviceType
from smemu.hil.conformance import (
    CaseResult,
    ConformanceRunner,
    RunResult,
    UseCaseVectors,
    Verdict,
    discover,
    read_vector,
)
from smemu.hil.dut import DEFAULT_START, DeviceProvider, EmulatedProvider, RigProvider
from smemu.hil.headend import roles_from_keystore
from smemu.hil.preconditions_state import earliest_date_time
from smemu.hil.report import matrix, summary_lines, write_html, write_junit
from smemu.tools.options import load_keystore

EMULATED: Final = "emulated"


@click.group("conformance")
def conformance_group() -> None:
    """Conformance: replay reference GBCS vectors against emulated or real devices."""


def reference_clock(suites: Iterable[UseCaseVectors]) -> datetime | None:
    """The reference devices' clock: :func:`~smemu.hil.preconditions_state.earliest_date_time`
    over every reference answer and alert of ``suites``."""

    def answers() -> Iterator[bytes]:
        for suite in suites:
            for scenario in suite.scenarios:
                for path in (scenario.response, *scenario.alerts):
                    if path is None:
                        continue
                    try:
                        yield read_vector(path)
                    except (DecodeError, OSError):
                        continue

    return earliest_date_time(answers())


def _parse_start(value: str | None, suites: Sequence[UseCaseVectors]) -> datetime:
    """``--start``, else the reference devices' clock (:func:`reference_clock`), else the
    default epoch."""
    if value is None:
        return reference_clock(suites) or DEFAULT_START
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"expected an ISO 8601 date-time such as 2020-01-01T00:00:00Z, got {value!r}",
            param_hint="--start",
        ) from exc
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def _provider(device: str, pki: Path | None, start: datetime) -> DeviceProvider:
    if device == EMULATED:
        return EmulatedProvider(pki, start)
    if "://" not in device:
        raise click.BadParameter(
            f"expected 'emulated' or a hal URL such as tcp://127.0.0.1:4059, got {device!r}",
            param_hint="--device",
        )
    if pki is None:
        raise click.BadParameter(
            "a real device needs --pki, the rig's PKI folder (pki.json names its devices)",
            param_hint="--pki",
        )
    from smemu.devices.keys import load_pki

    try:
        loaded = load_pki(pki)
    except SmemuError as exc:
        raise click.BadParameter(str(exc), param_hint="--pki") from exc
    if not loaded.devices:
        raise click.BadParameter(f"{pki}/pki.json names no devices", param_hint="--pki")
    return RigProvider(
        loaded.keystore,
        {int(role): eui for role, eui in loaded.remote_parties.items()},
        {kind: (device, eui) for eui, kind in loaded.devices.items()},
    )


def _progress(result: CaseResult, done: int, total: int) -> None:
    click.echo(f"[{done}/{total}] {result.verdict.value:<7} {result.scenario.id}", err=True)


def _print_matrix(run: RunResult) -> None:
    rows = [r for r in matrix(run) if r.verdict is not Verdict.SKIPPED]
    if rows:
        click.echo("marks: P passed, F failed, T timeout, E error, S skipped")
        for line in summary_lines(rows):
            click.echo(line)
    for result in run.results:
        if result.verdict.failed or result.verdict is Verdict.ERROR:
            click.echo(f"  {result.verdict.value}: {result.scenario.id}: {result.message}")


@conformance_group.command("run")
@click.option(
    "--vectors",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of reference vectors: <SRV>_<UseCase>/..._{COMMAND,PRECOMMAND,RESPONSE,"
    "ALERT}_GBCS.HEX (e.g. ../shared/conformance/rtds-4.5.0).",
)
@click.option(
    "--keystore",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    envvar="SMEMU_KEYSTORE",
    show_envvar=True,
    help="The key store the reference vectors were made with (keystore/ layout).",
)
@click.option(
    "--device",
    default=EMULATED,
    show_default=True,
    metavar="URL|emulated",
    help="'emulated': a fresh emulated device of the right type per command; or the hal URL "
    "of a real device or premises (tcp://HOST:PORT, serial:///dev/ttyUSB0, ...).",
)
@click.option(
    "--pki",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="PKI folder of the devices (pki.json + keys, as 'smemu up' writes). Required with a "
    "URL; for emulated devices a seeded temporary PKI is made when absent.",
)
@click.option(
    "--use-case",
    "pattern",
    metavar="PATTERN",
    default=None,
    help="Run only use cases whose folder, id or scenario matches this shell pattern "
    "(ECS17*, 7.1_*, *FUTURE_DATED*).",
)
@click.option(
    "--device-type",
    "device_types",
    multiple=True,
    type=click.Choice([t.value for t in DeviceType]),
    help="Run only commands for this device type (repeatable); others are skipped.",
)
@click.option("--timeout", default=10.0, show_default=True, help="Seconds to wait per answer.")
@click.option(
    "--start",
    metavar="DATETIME",
    default=None,
    help="Clock of fresh emulated devices, ISO 8601 (default: the reference devices' clock, "
    "the earliest date-time in the reference answers; else 2020-01-01T00:00:00Z).",
)
@click.option(
    "--junit",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="JUnit XML file to write.",
)
@click.option(
    "--html",
    "html_path",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="HTML report to write (one self-contained file).",
)
@click.option("--quiet", "-q", is_flag=True, help="No per-command progress on stderr.")
def run_command(  # click passes every option by keyword
    *,
    vectors: Path,
    keystore: Path,
    device: str,
    pki: Path | None,
    pattern: str | None,
    device_types: tuple[str, ...],
    timeout: float,
    start: str | None,
    junit: Path,
    html_path: Path,
    quiet: bool,
) -> None:
    """Replay every COMMAND under --vectors against a device and compare its RESPONSE.

    Each command is re-addressed and re-secured for the device under test (its EUI, keys
    and fresh counters), sent, and the answer is verified and compared with the reference
    response; only the differences the reviewed rules allow (the device's own time,
    counters, readings, signatures) are tolerated.

    \b
    Examples:
      smemu conformance run --vectors ../shared/conformance/rtds-4.5.0 \\
          --keystore ../shared/conformance/keystore --device-type esme \\
          --junit build/conformance.xml --html build/conformance.html
      smemu conformance run ... --device tcp://127.0.0.1:4059 --pki premises/pki

    Prints a per-use-case matrix and a final line 'N passed, N failed'. Exit status: 0 when
    every command ran and passed, 1 otherwise, 2 for a usage error.
    """
    reference_keys = load_keystore(keystore)
    assert reference_keys is not None  # --keystore is required
    try:
        suites = discover(vectors, pattern=pattern)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--vectors") from exc
    # the clock, the recipients' types and the writes replayed as preconditions are the
    # whole set's, whatever --use-case selects
    whole = discover(vectors) if pattern else suites
    provider = _provider(device, pki, _parse_start(start, whole))
    runner = ConformanceRunner(
        provider,
        reference_keys,
        roles_from_keystore(keystore),
        timeout=timeout,
        device_types=frozenset(DeviceType(t) for t in device_types),
    )
    try:
        run = asyncio.run(
            runner.run(
                suites,
                progress=None if quiet else _progress,
                vectors=str(vectors),
                context=whole,
            )
        )
        write_junit(run, junit)
        write_html(run, html_path, reference_keys=reference_keys, device_keys=provider.keystore)
    except OSError as exc:
        click.echo(f"smemu conformance: {exc}", err=True)
        sys.exit(1)
    except SmemuError as exc:
        click.echo(f"smemu conformance: {exc}", err=True)
        sys.exit(1)
    finally:
        if isinstance(provider, EmulatedProvider):
            provider.close()
    _print_matrix(run)
    click.echo(run.summary())
    sys.exit(0 if run.ok else 1)
