"""The register engine: tariff, prepayment, logs and load-control timing.

Layer: firmware. Two implementations of one function over shared byte layouts (layout.py):
``reference.py`` (pure Python, the definition) and ``_engine.c`` (the same results, folded per
day). Importing this package picks the C extension; ``SMEMU_PURE_PYTHON=1`` forces the
reference; :data:`IMPLEMENTATION` says which one is active ("c" or "python"). When the
extension is missing (no compiler at install time) the reference is used and
:data:`C_ERROR` says why, unless ``SMEMU_REQUIRE_C=1`` (CI), which makes that an ImportError.

Why a CPython extension module and not ctypes or cffi: one ``advance`` call per span must
cost well under a microsecond (performance.md: ~50 ns per extension call, ~730 ns per ctypes
call), and the Limited API (abi3) keeps one wheel per platform for every Python >= 3.11.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Final, Protocol

from smemu.firmware.registers import layout, loadcontrol, reference
from smemu.firmware.registers.layout import Buffer
from smemu.firmware.registers.loadcontrol import SwitchCalendar, SwitchCommand


class AdvanceFunction(Protocol):
    """The signature both engines' ``advance`` share (see reference.advance)."""

    def __call__(  # noqa: PLR0917 - the positional signature of _engine.advance
        self,
        table: Buffer,
        states: Buffer,
        logs: Buffer | None,
        t_from: int,
        t_to: int,
        imports: Buffer,
        exports: Buffer | None = None,
        reactive: Buffer | None = None,
        /,
    ) -> bytes: ...


C_ERROR: str | None = None  #: why the C extension is not active (None when it is)
advance: AdvanceFunction = reference.advance
#: the naive per-half-hour TOU loop the benchmark compares with (C only, else None)
naive_tou: Callable[[Buffer, Buffer, Buffer], None] | None = None
IMPLEMENTATION: str = reference.IMPLEMENTATION
_switch_timeline: Callable[[Buffer, int, int, int, Buffer, int, int], bytes] | None = None

if os.environ.get("SMEMU_PURE_PYTHON") == "1":
    C_ERROR = "SMEMU_PURE_PYTHON=1"
else:
    try:
        from smemu.firmware.registers import _engine
    except ImportError as exc:
        if os.environ.get("SMEMU_REQUIRE_C") == "1":
            message = f"SMEMU_REQUIRE_C=1 but the C register engine is missing: {exc}"
            raise ImportError(message) from exc
        C_ERROR = f"C extension not built: {exc}"
    else:
        if _engine.LAYOUT_VERSION != layout.LAYOUT_VERSION:  # pragma: no cover - build skew
            raise ImportError("_engine.c and layout.py disagree on LAYOUT_VERSION: rebuild")
        advance = _engine.advance
        naive_tou = _engine.naive_tou
        _switch_timeline = _engine.switch_timeline
        IMPLEMENTATION = _engine.IMPLEMENTATION

USING_C: Final = IMPLEMENTATION == "c"


def switch_timeline(
    cal: SwitchCalendar,
    t_from: int,
    t_to: int,
    commands: Sequence[SwitchCommand] = (),
    *,
    switch: int = 0,
    seed: int = 0,
    no_override: tuple[tuple[int, int], ...] = (),
) -> list[tuple[int, bool]]:
    """A load switch's (instant, closed) changes over [t_from, t_to), by the active engine.

    The same result as :func:`~smemu.firmware.registers.loadcontrol.timeline` (the
    reference), computed in C when the extension is active.
    """
    if _switch_timeline is None:
        return loadcontrol.timeline(
            cal, t_from, t_to, list(commands), switch=switch, seed=seed, no_override=no_override
        )
    words, effective = loadcontrol.packed_inputs(cal, list(commands), no_override)
    data = _switch_timeline(words, cal.random_offset_limit, t_from, t_to, effective, switch, seed)
    return loadcontrol.decode_timeline(data)


__all__ = [
    "C_ERROR",
    "IMPLEMENTATION",
    "USING_C",
    "advance",
    "naive_tou",
    "switch_timeline",
]
