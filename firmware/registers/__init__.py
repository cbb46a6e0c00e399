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
from collections.abc import Callable
from typing import Final

from smemu.firmware.registers import layout, reference
from smemu.firmware.registers.layout import Buffer

AdvanceFunction = Callable[
    [Buffer, Buffer, "Buffer | None", int, int, Buffer, "Buffer | None"], bytes
]

C_ERROR: str | None = None  #: why the C extension is not active (None when it is)
advance: AdvanceFunction = reference.advance
#: the naive per-half-hour TOU loop the benchmark compares with (C only, else None)
naive_tou: Callable[[Buffer, Buffer, Buffer], None] | None = None
IMPLEMENTATION: str = reference.IMPLEMENTATION

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
        IMPLEMENTATION = _engine.IMPLEMENTATION

USING_C: Final = IMPLEMENTATION == "c"

__all__ = ["C_ERROR", "IMPLEMENTATION", "USING_C", "advance", "naive_tou"]
