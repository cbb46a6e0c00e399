"""The whole reference sample against emulated devices of every type, as CI runs it.

This is the regression net for the conformance scoreboard: every COMMAND of the shared
sample is replayed through ``smemu conformance run`` (the users' path, JUnit report
included) to fresh emulated devices, and the verdicts are held to a ledger. A failure or a
skip is allowed only when it is listed below with its reason, and a listed one that starts
passing fails the test too, so the ledger cannot go stale and the score cannot slip back.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Final

import pytest
from click.testing import CliRunner

from smemu.tools.cli import main

pytestmark = pytest.mark.timeout(300)

_OUTSIDE_21A: Final = (
    "the reference meter's flow periods (10 s / 3600 s), CV and thresholds are not the values "
    "the set's GCS23/GCS24a write: configured outside the set"
)
_OUTSIDE_21F: Final = (
    "the reference meter's tariff and calendar (calendar id, 3 special days, block prices "
    "10600-12000) come from no command of the set"
)
_OUTSIDE_21B: Final = (
    "the reference meter's friendly-credit calendar (id 470793600, 4 day profiles) is not the "
    "set's GCS05 (473385600, 3 day profiles)"
)
_OUTSIDE_15B: Final = (
    "needs a change-of-supplier snapshot (cause 0x2000) at the reference clock; no command of "
    "the set is a change of supplier on the GSME (GCS44 writes contact details only)"
)

#: scenario (``<folder>/<name>``) -> why the emulated device does not pass it
KNOWN_FAILURES: Final[dict[str, str]] = {
    # -- state the reference meter held that no command of the set creates
    "6.2.8_GCS21a/GCS21a_6.2.8_SUCCESS": _OUTSIDE_21A,
    "6.2.8_GCS21a/GCS21a_6.2.8_ERROR": _OUTSIDE_21A,
    "6.2.9_GCS21j/GCS21j_6.2.9_SUCCESS": (
        "payment control configuration 0x0C97: Debt Configuration (bit 10) set, which only the "
        "set's GCS03 CANCELLATION command carries; the applied GCS03 writes 0x0897"
    ),
    "4.11.1_GCS21f/GCS21f_4.11.1_SUCCESS": _OUTSIDE_21F,
    "4.11.1_GCS21f/GCS21f_4.11.1_ERROR": _OUTSIDE_21F,
    "4.11.1_GCS21f/GCS21f_4.11.1_NOT_FOUND": (
        "the reference meter held prices but no calendar, which no replay of the set gives"
    ),
    "4.13_GCS21b/GCS21b_4.13_SUCCESS": _OUTSIDE_21B,
    "4.13_GCS21b/GCS21b_4.13_ERROR": _OUTSIDE_21B,
    "4.13_GCS21b/GCS21b_4.13_NOT_FOUND": (
        "the reference meter held no friendly-credit calendar, yet the set configures one (GCS05)"
    ),
    "4.4.2_GCS15b/GCS15b_4.4.2_SUCCESS": _OUTSIDE_15B,
    "4.4.2_GCS15b/GCS15b_4.4.2_ERROR": _OUTSIDE_15B,
    "4.4.3_GCS15c/GCS15c_4.4.3_SUCCESS": (
        "the reference publishes billing snapshots dated 2015-02-01 and 2015-03-01, after its "
        "own clock (2015-01-01T00:00Z in every reference header)"
    ),
}

#: scenario -> why it cannot run at all
KNOWN_SKIPS: Final[dict[str, str]] = {
    "NA_CS02bAnyByContingency/CS02bAnyByContingency_NA_SUCCESS": (
        "the sample holds the RESPONSE but not the COMMAND"
    ),
    "NA_CS02bAnyByContingency/CS02bAnyByContingency_NA_ERROR": (
        "the sample holds the RESPONSE but not the COMMAND"
    ),
}

#: device types the sample addresses, each of which must have run
DEVICE_TYPES: Final = ("esme", "gsme", "chf", "gpf", "ppmid", "hcalc")


def _verdicts(report: Path) -> dict[str, tuple[str, str, str]]:
    """scenario -> (verdict, device type, message) from the JUnit report."""
    out: dict[str, tuple[str, str, str]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") or "" for p in case.iter("property")}
        scenario = props.get("smemu.scenario") or f"{case.get('classname')}/{case.get('name')}"
        verdict, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                verdict, message = tag, node.get("message") or ""
        out[scenario] = (verdict, props.get("smemu.device.type", ""), message)
    return out


@pytest.fixture(scope="module")
def sample(rtds_dir: Path, keystore_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[
    str, tuple[str, str, str]
]:
    out = tmp_path_factory.mktemp("sample")
    result = CliRunner().invoke(
        main,
        [
            "conformance",
            "run",
            "--vectors",
            str(rtds_dir),
            "--keystore",
            str(keystore_dir),
            "--device",
            "emulated",
            "--junit",
            str(out / "c.xml"),
            "--html",
            str(out / "c.html"),
            "--quiet",
        ],
    )
    assert result.exit_code in (0, 1), result.output
    return _verdicts(out / "c.xml")


def test_every_device_type_ran_its_commands(sample: dict[str, tuple[str, str, str]]) -> None:
    ran = Counter(kind for verdict, kind, _ in sample.values() if verdict != "skipped")
    assert len(sample) >= 400, f"only {len(sample)} scenarios found in the sample"
    for kind in DEVICE_TYPES:
        assert ran[kind] >= 1, f"no {kind} command ran: {dict(ran)}"


def test_nothing_fails_that_the_ledger_does_not_explain(
    sample: dict[str, tuple[str, str, str]],
) -> None:
    failing = {s: m for s, (v, _, m) in sample.items() if v in ("failure", "error")}
    unexplained = {s: m for s, m in failing.items() if s not in KNOWN_FAILURES}
    assert not unexplained, "\n".join(f"{s}: {m}" for s, m in sorted(unexplained.items()))
    mended = sorted(s for s in KNOWN_FAILURES if s in sample and s not in failing)
    assert not mended, f"these pass now; take them out of KNOWN_FAILURES: {mended}"


def test_nothing_is_skipped_that_the_ledger_does_not_explain(
    sample: dict[str, tuple[str, str, str]],
) -> None:
    skipped = {s: m for s, (v, _, m) in sample.items() if v == "skipped"}
    unexplained = {s: m for s, m in skipped.items() if s not in KNOWN_SKIPS}
    assert not unexplained, "\n".join(f"{s}: {m}" for s, m in sorted(unexplained.items()))
    running = sorted(s for s in KNOWN_SKIPS if s in sample and s not in skipped)
    assert not running, f"these run now; take them out of KNOWN_SKIPS: {running}"
