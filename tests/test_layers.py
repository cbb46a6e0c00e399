"""The dependency direction of architecture.md, checked mechanically on every source file.

protocols <- firmware <- devices <- hil <- tools; hal is used by devices and hil only;
protocols imports nothing of ours but the exception root; hal imports only the byte framers
(smemu.protocols.framing, sans-IO) besides it; firmware is deterministic (no event loop,
sockets, threads or wall clock).
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

#: layer -> the smemu subpackages it may import (besides itself and smemu.errors); a dotted
#: entry allows that sub-package (and below) only
ALLOWED: dict[str, set[str]] = {
    "protocols": set(),
    "hal": {"protocols.framing"},
    "firmware": {"protocols"},
    "devices": {"protocols", "firmware", "hal"},
    "hil": {"protocols", "firmware", "hal", "devices"},
    "tools": {"protocols", "firmware", "hal", "devices", "hil"},
}

#: standard modules a layer must not import (style rules B6, B9)
FORBIDDEN_STDLIB: dict[str, set[str]] = {
    "protocols": {"asyncio", "socket", "threading", "selectors", "serial", "time", "sqlite3"},
    "firmware": {"asyncio", "socket", "threading", "selectors", "serial", "time", "sqlite3"},
}


def imported_modules(source: str) -> list[tuple[int, str]]:
    """Every absolute module name a source file imports, with its line number."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _allowed(layer: str, parts: list[str]) -> bool:
    """Whether ``layer`` may import smemu.<parts...> (an entry allows itself and below)."""
    for entry in ALLOWED[layer]:
        prefix = entry.split(".")
        if parts[: len(prefix)] == prefix:
            return True
    return False


def violations(layer: str, path: Path, source: str) -> list[str]:
    """What ``source`` (a file of ``layer``) imports against the dependency rules."""
    problems = []
    for line, name in imported_modules(source):
        parts = name.split(".")
        if parts[0] == "smemu":
            if len(parts) < 2 or parts[1] in ("errors", layer):
                continue
            if not _allowed(layer, parts[1:]):
                problems.append(f"{path}:{line}: {layer} imports {name}")
        elif parts[0] in FORBIDDEN_STDLIB.get(layer, set()):
            problems.append(f"{path}:{line}: {layer} imports {name} (not allowed in {layer})")
        elif parts[0] in ALLOWED:
            problems.append(f"{path}:{line}: imports {name}: use the smemu.{name} namespace")
    return problems


def test_every_layer_keeps_the_dependency_direction() -> None:
    problems: list[str] = []
    checked = 0
    for layer in ALLOWED:
        for path in sorted((REPO / layer).rglob("*.py")):
            problems += violations(layer, path.relative_to(REPO), path.read_text())
            checked += 1
    assert checked > 0
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("layer", "source", "expected"),
    [
        ("protocols", "from smemu.firmware import esme\n", "protocols imports smemu.firmware"),
        ("hal", "import smemu.devices.premises\n", "hal imports smemu.devices.premises"),
        ("hal", "from smemu.protocols.gbcs import frame\n", "hal imports smemu.protocols.gbcs"),
        ("hal", "import smemu.protocols\n", "hal imports smemu.protocols"),
        ("hal", "from smemu.protocols import framing\n", "hal imports smemu.protocols"),
        ("hal", "from smemu.protocols.framingx import y\n", "hal imports smemu.protocols"),
        ("firmware", "import asyncio\n", "firmware imports asyncio"),
        ("firmware", "from smemu.hal import ports\n", "firmware imports smemu.hal"),
        ("devices", "from smemu.tools import cli\n", "devices imports smemu.tools"),
        ("tools", "from protocols import gbcs\n", "use the smemu.protocols namespace"),
    ],
)
def test_the_checker_catches_a_crossing(layer: str, source: str, expected: str) -> None:
    found = violations(layer, Path("x.py"), source)
    assert any(expected in p for p in found), found


def test_allowed_imports_pass_the_checker() -> None:
    source = "from smemu.errors import DecodeError\nfrom smemu.protocols.gbcs import frame\n"
    assert violations("firmware", Path("x.py"), source) == []


def test_hal_may_use_the_byte_framers_only() -> None:
    source = (
        "import smemu.protocols.framing\n"
        "from smemu.protocols.framing.ichi import IchiFramer\n"
        "from smemu.hal.ports import Port\n"
    )
    assert violations("hal", Path("x.py"), source) == []


def test_every_package_folder_is_installed() -> None:
    """A subpackage missing from pyproject's list would vanish from the wheel."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {"smemu"}
    for layer in ALLOWED:
        for init in (REPO / layer).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO)
            on_disk.add(".".join(("smemu", *rel.parts)))
    assert on_disk == listed, f"on disk only: {on_disk - listed}; listed only: {listed - on_disk}"
