"""Shared fixtures: where the reference vectors and test keys are.

The reference set is never copied into this repository. It is found, in this order, from
``--shared DIR``, the ``SMEMU_SHARED`` environment variable, or ``../shared`` beside the
checkout. Tests that need it skip with a message saying where they looked.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("smemu-vectors", "smemu reference vectors")
    group.addoption(
        "--shared",
        default=None,
        help="the shared/ folder holding conformance/rtds-4.5.0 and conformance/keystore "
        "(default: $SMEMU_SHARED, else ../shared beside the checkout)",
    )


def _shared_candidates(config: pytest.Config) -> list[Path]:
    # An explicit location is authoritative: no silent fallback to ../shared.
    opt = config.getoption("--shared")
    if opt:
        return [Path(opt)]
    env = os.environ.get("SMEMU_SHARED")
    if env:
        return [Path(env)]
    return [REPO.parent / "shared"]


def find_shared(config: pytest.Config) -> Path | None:
    for cand in _shared_candidates(config):
        if (cand / "conformance" / "rtds-4.5.0").is_dir():
            return cand.resolve()
    return None


def _skip_message(config: pytest.Config) -> str:
    looked = ", ".join(str(p) for p in _shared_candidates(config))
    return (
        "reference vectors not found (looked in: "
        f"{looked}); pass --shared DIR or set SMEMU_SHARED to run these tests"
    )


@pytest.fixture(scope="session")
def shared_dir(pytestconfig: pytest.Config) -> Path:
    found = find_shared(pytestconfig)
    if found is None:
        pytest.skip(_skip_message(pytestconfig))
    return found


@pytest.fixture(scope="session")
def rtds_dir(shared_dir: Path) -> Path:
    return shared_dir / "conformance" / "rtds-4.5.0"


@pytest.fixture(scope="session")
def keystore_dir(shared_dir: Path) -> Path:
    return shared_dir / "conformance" / "keystore"


def rtds_files(config: pytest.Config) -> list[Path]:
    """Every reference message file, for parametrising tests at collection time."""
    shared = find_shared(config)
    if shared is None:
        return []
    return sorted((shared / "conformance" / "rtds-4.5.0").rglob("*.HEX"))


_FAMILY_FIXTURES = {"rtds_file": None, "rtds_dlms_file": "dlms", "rtds_gbz_file": "gbz"}


def _payload_family(path: Path) -> str:
    from smemu.protocols.gbcs import frame
    from smemu.protocols.gbcs.frame import payload_family
    from smemu.protocols.text import parse_message_text

    message = frame.decode_exact(parse_message_text(path.read_text())[0])
    inner = frame.signing_message(message)
    return "none" if inner is None else payload_family(inner.payload)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # A test that asks for `rtds_file` runs once per reference message (`rtds_dlms_file`,
    # `rtds_gbz_file`: once per message of that payload family); with no reference set it
    # runs once and skips, saying where it looked (never a silent zero-test pass).
    for name, family in _FAMILY_FIXTURES.items():
        if name not in metafunc.fixturenames:
            continue
        files = rtds_files(metafunc.config)
        if family is not None:
            files = [f for f in files if _payload_family(f) == family]
        if files:
            base = files[0].parents[1]
            ids = [str(f.relative_to(base)) for f in files]
            metafunc.parametrize(name, files, ids=ids)
        else:
            skip = pytest.mark.skip(reason=_skip_message(metafunc.config))
            metafunc.parametrize(name, [pytest.param(None, marks=skip)])


@pytest.fixture
def tmp_cwd(tmp_path: Path) -> Iterator[Path]:
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)
