"""Conformance reports: JUnit XML for CI, one self-contained HTML page for people.

Layer: hil. Both read a :class:`~smemu.hil.conformance.RunResult`. The JUnit file has the
usual shape (``testsuites`` > ``testsuite`` per use-case folder > ``testcase`` per scenario,
with ``failure`` / ``error`` / ``skipped`` and ``properties``: rig and firmware identities,
message code, device type, the first difference). The HTML page shows, per use case, each
scenario's verdict and, folded out, the decoded command, the expected and actual responses
side by side (decoded by :mod:`smemu.protocols.gbcs.inspect`, typed payload included) and the
first difference. Every text is escaped; the page needs no other file and no script.
"""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from smemu import __version__
from smemu.errors import SmemuError
from smemu.hil.conformance import CaseResult, RunResult, Verdict
from smemu.protocols.gbcs.inspect import inspect_bytes
from smemu.protocols.security.keystore import KeyStore

#: verdict -> the short mark of the matrix
MARKS: Final[Mapping[Verdict, str]] = {
    Verdict.PASSED: "P",
    Verdict.FAILED: "F",
    Verdict.TIMEOUT: "T",
    Verdict.ERROR: "E",
    Verdict.SKIPPED: "S",
}


# ----------------------------------------------------------------------------- matrix


@dataclass(frozen=True, slots=True)
class MatrixRow:
    """One use-case folder's line of the matrix."""

    folder: str
    use_case: str
    device_type: str
    counts: Mapping[Verdict, int]
    marks: str  #: one mark per scenario, in order (``PPF``)

    @property
    def verdict(self) -> Verdict:
        """The folder's verdict: the worst of its scenarios."""
        for verdict in (Verdict.FAILED, Verdict.TIMEOUT, Verdict.ERROR, Verdict.PASSED):
            if self.counts.get(verdict):
                return verdict
        return Verdict.SKIPPED


def matrix(run: RunResult) -> list[MatrixRow]:
    """The per-use-case matrix, in run order."""
    rows = []
    for folder, results in run.by_use_case().items():
        counts = {v: sum(1 for r in results if r.verdict is v) for v in Verdict}
        types = sorted({r.device_type.value for r in results if r.device_type is not None})
        rows.append(
            MatrixRow(
                folder,
                results[0].use_case_id or folder.partition("_")[2] or folder,
                ",".join(types) or "-",
                counts,
                "".join(MARKS[r.verdict] for r in results),
            )
        )
    return rows


# ------------------------------------------------------------------------------ JUnit


def _case_properties(result: CaseResult) -> dict[str, str]:
    props = dict(result.properties)
    props["smemu.scenario"] = result.scenario.id
    if result.message_code is not None:
        props["smemu.message_code"] = f"0x{result.message_code:04X}"
    if result.use_case_id is not None:
        props["smemu.use_case"] = result.use_case_id
    if result.device_type is not None:
        props.setdefault("smemu.device.type", result.device_type.value)
    first = result.first_difference
    if first is not None:
        props["smemu.first_difference"] = first
    if result.rewritten:
        props["smemu.replay.rewritten"] = ",".join(result.rewritten)
    if result.preconditions:
        props["smemu.preconditions"] = "; ".join(result.preconditions)
    if result.setup:
        props["smemu.setup"] = ",".join(result.setup)
    return props


def _details(result: CaseResult) -> str:
    lines = [result.message]
    if result.problems:
        lines.append("verification: " + "; ".join(result.problems))
    if result.setup:
        lines.append("setup: " + ", ".join(result.setup))
    if result.preconditions:
        lines.append("preconditions: " + "; ".join(result.preconditions))
    if result.comparison is not None:
        lines.extend(f"difference: {d}" for d in result.comparison.differences)
    if result.sent:
        lines.append(f"sent: {result.sent.hex().upper()}")
    if result.actual:
        lines.append(f"actual: {result.actual.hex().upper()}")
    if result.expected:
        lines.append(f"expected: {result.expected.hex().upper()}")
    return "\n".join(lines)


def junit_tree(run: RunResult, *, timestamp: datetime | None = None) -> ET.ElementTree[ET.Element]:
    """The JUnit XML document of a run (one ``testsuite`` per use-case folder)."""
    stamp = (timestamp or datetime.now(UTC)).replace(microsecond=0).isoformat()
    root = ET.Element(
        "testsuites",
        name="smemu conformance",
        tests=str(len(run.results)),
        failures=str(run.failed),
        errors=str(run.count(Verdict.ERROR)),
        skipped=str(run.count(Verdict.SKIPPED)),
        time=f"{run.duration:.3f}",
    )
    for folder, results in run.by_use_case().items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=folder,
            tests=str(len(results)),
            failures=str(sum(1 for r in results if r.verdict.failed)),
            errors=str(sum(1 for r in results if r.verdict is Verdict.ERROR)),
            skipped=str(sum(1 for r in results if r.verdict is Verdict.SKIPPED)),
            time=f"{sum(r.duration for r in results):.3f}",
            timestamp=stamp,
        )
        suite_props = ET.SubElement(suite, "properties")
        for name, value in (
            ("smemu.version", __version__),
            ("smemu.rig", run.rig),
            ("smemu.vectors", run.vectors),
        ):
            ET.SubElement(suite_props, "property", name=name, value=value)
        for result in results:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"conformance.{folder}",
                name=result.scenario.name,
                time=f"{result.duration:.3f}",
            )
            props = ET.SubElement(case, "properties")
            for name, value in sorted(_case_properties(result).items()):
                ET.SubElement(props, "property", name=name, value=value)
            verdict = result.verdict
            if verdict.failed:
                node = ET.SubElement(case, "failure", message=result.message, type=verdict.value)
                node.text = _details(result)
            elif verdict is Verdict.ERROR:
                node = ET.SubElement(case, "error", message=result.message, type="error")
                node.text = _details(result)
            elif verdict is Verdict.SKIPPED:
                ET.SubElement(case, "skipped", message=result.message)
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(run: RunResult, path: Path, *, timestamp: datetime | None = None) -> None:
    """Write the JUnit XML of ``run`` to ``path`` (UTF-8, with an XML declaration)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    junit_tree(run, timestamp=timestamp).write(path, encoding="utf-8", xml_declaration=True)


# ------------------------------------------------------------------------------- HTML

_CSS: Final = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em} h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}
.passed{color:#176d2c} .failed,.timeout{color:#b00020} .error{color:#a15c00}
.skipped{color:#666} .v{font-weight:bold}
details{margin:.3em 0 .3em 1em} summary{cursor:pointer}
.side{display:grid;grid-template-columns:1fr 1fr;gap:1em}
pre{background:#f6f6f6;padding:.5em;overflow:auto;font-size:.8em;max-height:40em}
.diff{background:#fff3f3;border-left:4px solid #b00020;padding:.3em .6em}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _decoded(data: bytes, keys: KeyStore | None) -> str:
    """A JSON rendering of one message (typed payload where the decoders have one)."""
    if not data:
        return "(none)"
    try:
        found = inspect_bytes(data, keys, typed=True)
    except (SmemuError, ValueError) as exc:  # a report shows what it can, never crashes
        return f"cannot decode: {exc}\n{data.hex().upper()}"
    objects: list[dict[str, Any]] = [i.to_json() for i in found]
    for obj in objects:
        obj.pop("source", None)
    shown: Any = objects[0] if len(objects) == 1 else objects
    return json.dumps(shown, indent=1, default=str)


def _section(
    result: CaseResult, reference_keys: KeyStore | None, device_keys: KeyStore | None
) -> str:
    v = result.verdict.value
    parts = [
        f'<details id="{_e(result.scenario.id)}"><summary><span class="v {v}">{_e(v)}</span> '
        f"{_e(result.scenario.name)} &mdash; {_e(result.message)}</summary>"
    ]
    first = result.first_difference
    if first is not None:
        parts.append(f'<p class="diff">First difference: <code>{_e(first)}</code></p>')
    if result.problems:
        parts.append(f"<p>Verification: {_e('; '.join(result.problems))}</p>")
    if result.setup:
        parts.append(f"<p>Configured first by: {_e(', '.join(result.setup))}</p>")
    if result.preconditions:
        parts.append(f"<p>Precondition: {_e('; '.join(result.preconditions))}</p>")
    if result.properties:
        props = ", ".join(f"{k}={v}" for k, v in sorted(result.properties.items()))
        parts.append(f"<p><small>{_e(props)}</small></p>")
    if result.command:
        parts.append(
            f"<h4>Command (reference)</h4><pre>{_e(_decoded(result.command, reference_keys))}</pre>"
        )
    if result.expected or result.actual:
        parts.append(
            '<div class="side"><div><h4>Expected response (reference)</h4>'
            f"<pre>{_e(_decoded(result.expected, reference_keys))}</pre></div>"
            "<div><h4>Actual response (device)</h4>"
            f"<pre>{_e(_decoded(result.actual, device_keys))}</pre></div></div>"
        )
    if result.comparison is not None and result.comparison.tolerated:
        items = "".join(
            f"<li><code>{_e(d.path)}</code>: {_e(d.reason)}</li>"
            for d in result.comparison.tolerated
        )
        parts.append(f"<h4>Allowed differences</h4><ul>{items}</ul>")
    if result.alerts:
        alerts = "\n\n".join(_decoded(a, device_keys) for a in result.alerts)
        parts.append(f"<h4>Other messages from the device</h4><pre>{_e(alerts)}</pre>")
    parts.append("</details>")
    return "".join(parts)


def html_report(
    run: RunResult,
    *,
    reference_keys: KeyStore | None = None,
    device_keys: KeyStore | None = None,
    title: str = "smemu conformance report",
) -> str:
    """The whole HTML page of a run (UTF-8 text, self-contained)."""
    rows = matrix(run)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p>Rig: <code>{_e(run.rig)}</code>; vectors: <code>{_e(run.vectors)}</code>; "
        f"smemu {_e(__version__)}; {run.duration:.1f} s.</p>",
        f'<p class="v">{_e(run.summary())}</p>',
        "<table><tr><th>Use case</th><th>Folder</th><th>Device</th><th>Verdict</th>"
        "<th>Scenarios</th></tr>",
    ]
    for row in rows:
        v = row.verdict.value
        out.append(
            f'<tr><td><a href="#{_e(row.folder)}">{_e(row.use_case)}</a></td>'
            f"<td>{_e(row.folder)}</td><td>{_e(row.device_type)}</td>"
            f'<td class="v {v}">{_e(v)}</td><td><code>{_e(row.marks)}</code></td></tr>'
        )
    out.append("</table>")
    for folder, results in run.by_use_case().items():
        out.append(f'<h2 id="{_e(folder)}">{_e(folder)}</h2>')
        out.extend(_section(r, reference_keys, device_keys) for r in results)
    out.append("</body></html>\n")
    return "\n".join(out)


def write_html(
    run: RunResult,
    path: Path,
    *,
    reference_keys: KeyStore | None = None,
    device_keys: KeyStore | None = None,
) -> None:
    """Write :func:`html_report` to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = html_report(run, reference_keys=reference_keys, device_keys=device_keys)
    path.write_text(text, encoding="utf-8")


def summary_lines(rows: Sequence[MatrixRow]) -> list[str]:
    """The matrix as plain text lines (for logs and non-terminal output)."""
    width = max([len(r.use_case) for r in rows] + [len("use case")])
    head = f"{'use case':<{width}}  {'device':<6} {'verdict':<8} scenarios"
    return [head] + [
        f"{r.use_case:<{width}}  {r.device_type:<6} {r.verdict.value:<8} {r.marks}" for r in rows
    ]
