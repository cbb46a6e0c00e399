"""Run the DCC's open-source GBCS parser (npm ``@smartdcc/gbcs-parser``) over GBCS messages.

The node harness in ``tests/crosscheck/js`` (installed with ``npm ci --prefix
tests/crosscheck/js``) parses each message with ``parseGbcsMessage(hex, lookupKey)`` and
prints a summary per message: message code, CRA flag, originator counter (decimal string,
64-bit), originator and recipient EUI (lower-case hex), ``signature_valid`` (the parser
verifies a signature when one is present: true / false; null when unsigned), the MAC bytes
(the parser shows but does not verify the MAC), or ``ok: false`` with the parser's error.
Keys are read from a folder in our keystore layout (``<eui>-{ds,ka}.{pem,key}``), so the
shared test keys and our own device certificates both work.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

JS_DIR = Path(__file__).resolve().parent / "js"
HARNESS = JS_DIR / "parse.js"
PACKAGE = JS_DIR / "node_modules" / "@smartdcc" / "gbcs-parser"


def gbcs_parser_unavailable() -> str | None:
    """Why the harness cannot run here (a sentence for a skip), or None when it can."""
    if shutil.which("node") is None:
        return "node is not on PATH: install Node.js 18+ to run the @smartdcc/gbcs-parser check"
    if not (PACKAGE / "package.json").is_file():
        return (
            f"@smartdcc/gbcs-parser is not installed in {JS_DIR}: run "
            "`npm ci --prefix tests/crosscheck/js` (needs the package from the npm registry)"
        )
    return None


def parse_with_gbcs_parser(
    messages: Sequence[bytes], keystore: Path, *, timeout: float = 600
) -> list[dict[str, Any]]:
    """One summary dict per message, as the DCC parser read it (see the module docstring).

    :raises RuntimeError: if the harness is unavailable or node fails as a whole (a message
        the parser rejects is reported in its summary, not raised).
    """
    reason = gbcs_parser_unavailable()
    if reason is not None:
        raise RuntimeError(reason)
    node = shutil.which("node")
    assert node is not None
    request = json.dumps({"keystore": str(keystore), "messages": [m.hex() for m in messages]})
    result = subprocess.run(
        [node, str(HARNESS)],
        input=request,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=JS_DIR,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"gbcs-parser harness failed: {result.stderr.strip()}")
    summaries: list[dict[str, Any]] = json.loads(result.stdout)
    if len(summaries) != len(messages):
        raise RuntimeError(f"sent {len(messages)} messages, harness answered {len(summaries)}")
    return summaries
