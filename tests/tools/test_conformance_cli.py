"""``smemu conformance run``: matrix, final line, reports, exit status."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from smemu.tools.cli import main


def _invoke(rtds_dir: Path, keystore_dir: Path, tmp_path: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        [
            "conformance",
            "run",
            "--vectors",
            str(rtds_dir),
            "--keystore",
            str(keystore_dir),
            "--junit",
            str(tmp_path / "c.xml"),
            "--html",
            str(tmp_path / "c.html"),
            "--timeout",
            "1",
            *extra,
        ],
    )
    return result.exit_code, result.output


def test_run_writes_reports_and_ends_with_the_counts(
    rtds_dir: Path, keystore_dir: Path, tmp_path: Path
) -> None:
    code, output = _invoke(
        rtds_dir, keystore_dir, tmp_path, "--use-case", "7.[12]_ECS4*", "--device-type", "esme"
    )
    lines = output.strip().splitlines()
    last = lines[-1]
    assert last.split(", ")[0].endswith("passed") and " failed" in last
    passed = int(last.split()[0])
    failed = int(last.split(", ")[1].split()[0])
    assert passed + failed == 4
    assert code == (0 if failed == 0 else 1)
    assert any(line.startswith("ECS42") for line in lines)
    assert "[1/4]" in output  # progress
    root = ET.parse(tmp_path / "c.xml").getroot()
    assert root.get("tests") == "4"
    assert (tmp_path / "c.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_a_url_needs_a_pki_and_a_bad_device_is_a_usage_error(
    rtds_dir: Path, keystore_dir: Path, tmp_path: Path
) -> None:
    code, output = _invoke(rtds_dir, keystore_dir, tmp_path, "--device", "tcp://127.0.0.1:9")
    assert code == 2 and "--pki" in output
    code, output = _invoke(rtds_dir, keystore_dir, tmp_path, "--device", "nonsense")
    assert code == 2 and "--device" in output


def test_nothing_selected_is_not_a_pass(rtds_dir: Path, keystore_dir: Path, tmp_path: Path) -> None:
    code, output = _invoke(rtds_dir, keystore_dir, tmp_path, "--use-case", "no-such-*", "-q")
    assert code == 1
    assert output.strip().splitlines()[-1] == "0 passed, 0 failed"


def test_a_selected_read_is_typed_and_configured_from_the_whole_set(
    rtds_dir: Path, keystore_dir: Path, tmp_path: Path
) -> None:
    # GCS38's recipient is typed only by other gas commands of the set, and GCS18's SUCCESS
    # needs the set's GCS31: selecting them alone must not leave them skipped or unconfigured
    code, output = _invoke(rtds_dir, keystore_dir, tmp_path, "--use-case", "GCS38*")
    root = ET.parse(tmp_path / "c.xml").getroot()
    assert root.get("skipped") == "0", output
    assert output.strip().splitlines()[-1] == f"{root.get('tests')} passed, 0 failed"
    assert code == 0
    code, output = _invoke(rtds_dir, keystore_dir, tmp_path, "--use-case", "GCS18*")
    assert code == 0, output
