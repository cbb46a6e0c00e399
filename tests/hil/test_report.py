"""Conformance reports: JUnit XML shape and properties, HTML escaping and content."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from smemu.firmware.common.machine import DeviceType
from smemu.hil.conformance import CaseResult, RunResult, Scenario, Verdict
from smemu.hil.report import html_report, matrix, summary_lines, write_html, write_junit

_EVIL = "<script>alert(\"x\")</script> & 'q'"


def _run() -> RunResult:
    props = {"smemu.rig": "fake-rig", "smemu.firmware.version": "fw-7"}

    def case(name: str, verdict: Verdict, message: str, folder: str = "7.1_ECS42") -> CaseResult:
        return CaseResult(
            Scenario(folder, name),
            verdict,
            message,
            device_type=DeviceType.ESME,
            message_code=0x004F,
            use_case_id="ECS42",
            command=b"\xdf\x09",
            expected=b"\xdf\x09\x02",
            actual=b"\xdf\x09\x02\x00",
            properties=props,
            duration=0.01,
        )

    return RunResult(
        (
            case("ECS42_7.1_SUCCESS", Verdict.PASSED, "matches the reference"),
            case("ECS42_7.1_ERROR", Verdict.FAILED, _EVIL),
            case("ECS42_7.1_SLOW", Verdict.TIMEOUT, "no response within 1 s"),
            case("X_1_A", Verdict.ERROR, "replay: no key", folder="1_X"),
            case("X_1_B", Verdict.SKIPPED, "no device", folder="1_X"),
        ),
        rig="fake-rig",
        vectors="/v",
        duration=0.5,
    )


def test_junit_has_the_usual_shape_counts_and_properties(tmp_path: Path) -> None:
    path = tmp_path / "out" / "c.xml"
    write_junit(_run(), path)
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "5",
        "2",
        "1",
        "1",
    )
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["7.1_ECS42", "1_X"]
    for suite in suites:
        assert suite.find("properties") is not None
        assert int(suite.get("tests", "0")) == len(suite.findall("testcase"))
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert all(c.get("classname", "").startswith("conformance.") for c in cases.values())
    props = {
        p.get("name"): p.get("value")
        for p in cases["ECS42_7.1_SUCCESS"].findall("properties/property")
    }
    assert props["smemu.rig"] == "fake-rig"
    assert props["smemu.firmware.version"] == "fw-7"
    assert props["smemu.message_code"] == "0x004F"
    assert props["smemu.device.type"] == "esme"
    assert list(cases["ECS42_7.1_SUCCESS"]) == [cases["ECS42_7.1_SUCCESS"].find("properties")]
    failure = cases["ECS42_7.1_ERROR"].find("failure")
    assert failure is not None and failure.get("message") == _EVIL
    timeout = cases["ECS42_7.1_SLOW"].find("failure")
    assert timeout is not None and timeout.get("type") == "timeout"
    assert cases["X_1_A"].find("error") is not None
    assert cases["X_1_B"].find("skipped") is not None


def test_html_is_one_escaped_page_with_every_use_case(tmp_path: Path) -> None:
    text = html_report(_run())
    assert text.startswith("<!DOCTYPE html>")
    assert "<script" not in text  # the hostile message is escaped, and no script is used
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;q&#x27;" in text
    assert 'id="7.1_ECS42"' in text and 'id="1_X"' in text
    assert "Expected response (reference)" in text and "Actual response (device)" in text
    assert "3 failed" not in text and "1 passed, 2 failed (1 timed out)" in text
    assert "src=" not in text and "<link" not in text  # self-contained
    path = tmp_path / "r.html"
    write_html(_run(), path)
    written = path.read_text(encoding="utf-8")
    assert written.count("<details") == 5 and "1 passed, 2 failed" in written


def test_matrix_rows_take_the_worst_verdict() -> None:
    rows = matrix(_run())
    assert [(r.folder, r.verdict, r.marks) for r in rows] == [
        ("7.1_ECS42", Verdict.FAILED, "PFT"),
        ("1_X", Verdict.ERROR, "ES"),
    ]
    lines = summary_lines(rows)
    assert lines[0].startswith("use case") and "PFT" in lines[1]
