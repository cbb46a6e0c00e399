"""``smemu bench``: benchmarks that print their figures (never timed unit tests).

Layer: tools. The measuring lives in :mod:`smemu.hil.bench`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from smemu.hil.bench import bench_codec, load_corpus
from smemu.tools.options import load_keystore


def _default(env: str, relative: str) -> Path | None:
    if env in os.environ:
        return Path(os.environ[env])
    candidate = Path.cwd().parent / "shared" / relative
    return candidate if candidate.is_dir() else None


@click.group("bench")
def bench_group() -> None:
    """Benchmarks for sizing a lab; each prints its figures and ends with one JSON line."""


@bench_group.command("codec")
@click.option(
    "--vectors",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of *.HEX messages "
    "(default: $SMEMU_VECTORS, else ../shared/conformance/rtds-4.5.0).",
)
@click.option(
    "--keystore",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Key store folder (default: $SMEMU_KEYSTORE, else ../shared/conformance/keystore).",
)
@click.option(
    "--repetitions",
    type=click.IntRange(1, 200),
    default=15,
    show_default=True,
    help="Interleaved passes; each figure is the best of them (the machines are noisy).",
)
def codec_command(vectors: Path | None, keystore: Path | None, repetitions: int) -> None:
    """Decode + verify + re-encode a corpus, against the bare crypto it needs.

    Prints the corpus time, the crypto-only floor (the ECDSA verifies, KDFs and GMACs the
    corpus needs, inputs prepared beforehand) and their ratio (target: at most 1.5),
    measured in one run, best of the repetitions; then the same with payload decryption
    on both sides. The last line is one JSON object with every figure.
    """
    vectors = vectors or _default("SMEMU_VECTORS", "conformance/rtds-4.5.0")
    keystore = keystore or _default("SMEMU_KEYSTORE", "conformance/keystore")
    if vectors is None or not vectors.is_dir():
        raise click.UsageError("no corpus: give --vectors DIR (a folder of *.HEX files)")
    store = load_keystore(keystore)
    if store is None:
        raise click.UsageError("no keys: give --keystore DIR (the crypto floor needs them)")
    corpus = load_corpus(vectors)
    if not corpus:
        raise click.UsageError(f"no *.HEX messages under {vectors}")
    click.echo(f"corpus: {len(corpus)} messages from {vectors}", err=True)
    result = bench_codec(
        corpus, store, repetitions=repetitions, progress=lambda s: click.echo(s, err=True)
    )
    per = result.corpus_s / len(corpus) * 1e6
    click.echo(
        f"decode + verify + re-encode:   {result.corpus_s * 1e3:8.2f} ms ({per:.1f} us/message)"
    )
    click.echo(f"crypto floor (ECDSA/KDF/GMAC): {result.crypto_floor_s * 1e3:8.2f} ms")
    click.echo(f"ratio:                         {result.ratio:8.3f} (target <= 1.5)")
    click.echo(
        f"with payload decryption on both sides: {result.corpus_decrypt_s * 1e3:.2f} ms vs "
        f"{result.crypto_floor_decrypt_s * 1e3:.2f} ms, ratio {result.ratio_with_decryption:.3f}"
    )
    click.echo(json.dumps(result.as_json()))


@bench_group.command("engine")
@click.option(
    "--meters",
    type=click.IntRange(1),
    default=100_000,
    show_default=True,
    help="Meters in the fleet (the issue's figure is 100,000; fewer for a quick look).",
)
@click.option("--days", type=click.IntRange(1, 3660), default=365, show_default=True)
@click.option(
    "--chunk",
    type=click.IntRange(1),
    default=1_000,
    show_default=True,
    help="Meters per advance() call (one shard's worth of consumption in memory).",
)
@click.option(
    "--reference-meters",
    type=click.IntRange(1, 1_000),
    default=4,
    show_default=True,
    help="Meters of the slice the pure-Python reference runs (its rate is scaled).",
)
def engine_command(meters: int, days: int, chunk: int, reference_meters: int) -> None:
    """The register engine: full semantics in C vs the reference vs a naive C TOU loop.

    One year of half-hourly consumption per meter; targets (same run): the engine at least
    as fast as the naive TOU-only loop, >= 300x the reference, <= 1 us per advance() call,
    <= 2 KiB of state per meter and <= 60 KB with the full 13-month and 731-day logs. The
    last line is one JSON object; its checksum must equal reference_checksum.
    """
    from smemu.hil.bench_engine import bench_engine

    result = bench_engine(
        meters=meters,
        days=days,
        chunk=chunk,
        reference_meters=reference_meters,
        progress=lambda s: click.echo(s, err=True),
    )
    figures = result.as_json()
    click.echo(f"implementation:        {figures['implementation']}")
    click.echo(f"tariff: {figures['tariff']}")
    click.echo(
        f"engine (full):         {figures['engine_mhh_per_s']:>14,} meter-half-hours/s "
        f"({figures['engine_ns_per_mhh']} ns each)"
    )
    click.echo(f"naive C TOU-only loop: {figures['plain_c_mhh_per_s']:>14,} meter-half-hours/s")
    click.echo(f"  ({figures['plain_c']})")
    click.echo(f"pure-Python reference: {figures['reference_mhh_per_s']:>14,} meter-half-hours/s")
    click.echo(
        f"engine / naive: {figures['engine_vs_plain_c']} (target >= 1); "
        f"engine / reference: {figures['engine_vs_reference']} (target >= 300)"
    )
    click.echo(f"call overhead: {figures['call_overhead_us']} us per advance() (target <= 1)")
    click.echo(
        f"state: {figures['state_bytes_per_meter']} B/meter (target <= 2048); with full logs "
        f"+{figures['log_bytes_per_meter']} B (target total <= 60000)"
    )
    same = "equal" if result.checksum == result.reference_checksum else "DIFFERENT"
    click.echo(f"checksum on the slice: {result.checksum} vs reference {same}")
    click.echo(json.dumps(figures))
