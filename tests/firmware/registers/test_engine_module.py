"""The C extension as a module: init, layout agreement, argument checks and leaks (rule I35)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from array import array

import pytest

from smemu.firmware import registers
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers import reference
from smemu.firmware.registers.tables import DayProfile, Settings, Tariff, compile_table

needs_c = pytest.mark.skipif(not registers.USING_C, reason=f"no C engine: {registers.C_ERROR}")
TABLE = compile_table(Tariff((DayProfile(((0, 1),)),), tou_prices=(10_000,)), None, Settings())


def test_public_flag_names_the_active_implementation() -> None:
    assert registers.IMPLEMENTATION in ("c", "python")
    assert (registers.IMPLEMENTATION == "c") == registers.USING_C
    assert (registers.C_ERROR is None) == registers.USING_C


def test_pure_python_switch() -> None:
    code = "from smemu.firmware import registers as r; print(r.IMPLEMENTATION, r.C_ERROR)"
    env = {**os.environ, "SMEMU_PURE_PYTHON": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split()[0] == "python", out.stderr


@needs_c
def test_init_and_layout_constants() -> None:
    from smemu.firmware.registers import _engine

    assert _engine.LAYOUT_VERSION == lay.LAYOUT_VERSION
    assert _engine.STATE_BYTES == lay.STATE_BYTES
    assert _engine.TABLE_BYTES == lay.TABLE_BYTES
    assert _engine.IMPLEMENTATION == "c"
    # multi-phase init: a fresh module object can be created again in a subprocess too
    code = "import smemu.firmware.registers._engine as e; print(e.advance.__name__)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "advance", out.stderr


@pytest.mark.parametrize(
    "engine", [pytest.param(reference, id="python"), pytest.param(registers, id="active")]
)
def test_bad_arguments_raise_value_error(engine: object) -> None:
    advance = engine.advance  # type: ignore[attr-defined]
    state = bytearray(lay.new_state(0).tobytes())
    imports = array("H", [1, 2])
    with pytest.raises(ValueError):
        advance(TABLE.data[:-8], state, None, 0, 3600, imports, None)
    with pytest.raises(ValueError):
        advance(TABLE.data, state[:-8], None, 0, 3600, imports, None)
    with pytest.raises(ValueError):
        advance(TABLE.data, state, None, 0, 3601, imports, None)
    with pytest.raises(ValueError):
        advance(TABLE.data, state, None, 1800, 3600, imports, None)  # not at t_from
    with pytest.raises(ValueError):
        advance(TABLE.data, state, None, 0, 3600 * 2, imports, None)  # 4 intervals, 2 values
    with pytest.raises(ValueError):
        advance(TABLE.data, state, bytearray(5), 0, 3600, imports, None)
    bad = array("q", TABLE.words)
    bad[lay.T_PROFILES] = 77  # neither a TOU rate nor a block set
    with pytest.raises(ValueError):
        advance(bad.tobytes(), state, None, 0, 3600, imports, None)
    for index, value in ((lay.T_THRESH + 1, 5), (lay.T_MD_PERIOD, 5), (lay.T_MD_PERIOD, 49)):
        bad = array("q", TABLE.words)
        bad[lay.T_THRESH] = 10
        bad[index] = value  # descending block thresholds; a demand period not dividing 48
        with pytest.raises(ValueError):
            advance(bad.tobytes(), state, None, 0, 3600, imports, None)
    assert state == lay.new_state(0).tobytes()  # nothing changed


@needs_c
def test_no_leaks() -> None:
    """Buffers are released (a held export would block resizing) and memory stays flat."""
    from smemu.firmware.registers import _engine

    state = bytearray(lay.new_state(0).tobytes())
    logs = bytearray(lay.log_bytes(TABLE.words))
    imports = array("H", [500] * 96)
    template = bytes(state)

    def run(n: int) -> None:
        for _ in range(n):
            state[:] = template
            _engine.advance(TABLE.data, state, logs, 0, 96 * lay.INTERVAL, imports, imports)
            with contextlib.suppress(ValueError):
                _engine.advance(TABLE.data, state, logs, 0, 1, imports, None)

    run(200)
    before = sys.getallocatedblocks()
    run(2_000)
    assert sys.getallocatedblocks() - before < 50
    state.extend(b"")  # raises BufferError if a view were still exported
    logs.append(0)
    imports.append(0)
