"""The ESME meters nothing while it has no mains supply.

Whole-machine scenarios (power lost, power back, then the registers read) judged against the
pure-Python reference engine fed the consumption the test expects, and properties of the
interval series :func:`smemu.firmware.metering.imports` builds around outages.
"""

from __future__ import annotations

import json
from array import array
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.devices.keys import Pki
from smemu.firmware import esme, metering
from smemu.firmware.common.machine import BootEvent, LineEvent, TimerEvent, Tx
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers import ops, reference
from tests.firmware._support import ESME, T0, make_pki

HALF_HOUR = lay.INTERVAL
T0_S = int(T0.timestamp())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki") / "keys")


def _meter(pki: Pki, load: dict[str, int]) -> esme.EsmeMachine:
    nvm = pki.provisioning(ESME)
    nvm[metering.LOAD] = json.dumps(load).encode()
    machine = esme.EsmeMachine(ESME, nvm)
    machine.step(BootEvent(), T0)
    return machine


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _reference(machine: esme.EsmeMachine, t_to: int, usage: list[int]) -> ops.Registers:
    """The reference engine over [T0, t_to) from the machine's boot table and fresh state."""
    table = machine.nvm[metering.TABLE]
    state = lay.new_state(T0_S)
    words = array("q")
    words.frombytes(table)
    logs = bytearray(lay.log_bytes(words))
    reference.advance(table, memoryview(state).cast("B"), logs, T0_S, t_to, array("H", usage))
    return ops.read(state)


def _registers(machine: esme.EsmeMachine, when: datetime) -> ops.Registers:
    machine.step(TimerEvent(esme.REGISTERS_TIMER), when)
    return metering.registers(Tx(when, machine.nvm))


def test_an_outage_on_interval_boundaries_meters_nothing(pki: Pki) -> None:
    load = metering.LoadModel(600, 46)
    machine = _meter(pki, {"watts": 600, "seed": 46})
    machine.step(LineEvent(esme.POWER, False), _at(90))
    # the loss brought the registers up to the loss instant
    assert metering.registers(Tx(_at(90), machine.nvm)).t == T0_S + 90 * 60
    machine.step(LineEvent(esme.POWER, True), _at(300))
    got = _registers(machine, _at(480))
    usage = [
        0 if 90 <= m < 300 else load.interval_wh(T0_S + m * 60) for m in range(0, 480, 30)
    ]
    want = _reference(machine, T0_S + 480 * 60, usage)
    assert got == want
    assert got.import_wh == sum(usage) > 0
    # the same meter without the outage would have metered the dark hours too
    lit = _meter(pki, {"watts": 600, "seed": 46})
    assert _registers(lit, _at(480)).import_wh > got.import_wh


def test_a_cut_interval_is_metered_for_the_seconds_it_had_power(pki: Pki) -> None:
    machine = _meter(pki, {"watts": 1200})  # 600 Wh a half-hour
    machine.step(LineEvent(esme.POWER, False), _at(40))  # 10 of the 30 minutes lit
    machine.step(LineEvent(esme.POWER, True), _at(100))  # 20 of the 30 minutes lit
    got = _registers(machine, _at(150))
    usage = [600, 200, 0, 400, 600]
    assert got == _reference(machine, T0_S + 150 * 60, usage)


def test_power_loss_sends_nothing_and_stops_the_register_timer(pki: Pki) -> None:
    machine = _meter(pki, {"watts": 800})
    lost = machine.step(LineEvent(esme.POWER, False), _at(60))
    assert not lost.sends
    assert [(t.name, t.at) for t in lost.timers] == [(esme.REGISTERS_TIMER, None)]
    # a second loss report changes nothing
    again = machine.step(LineEvent(esme.POWER, False), _at(70))
    assert not again.writes


def test_two_outages_in_one_interval(pki: Pki) -> None:
    machine = _meter(pki, {"watts": 1200})
    for off, on in ((35, 40), (45, 55)):
        machine.step(LineEvent(esme.POWER, False), _at(off))
        machine.step(LineEvent(esme.POWER, True), _at(on))
    got = _registers(machine, _at(90))
    # 30-60: 15 dark minutes -> 300 Wh; the others whole
    assert got == _reference(machine, T0_S + 90 * 60, [600, 300, 600])


def test_a_restart_without_an_outage_keeps_metering(pki: Pki) -> None:
    machine = _meter(pki, {"watts": 1200})
    machine.step(BootEvent(), _at(60))  # the process restarted: the meter had power
    assert _registers(machine, _at(120)).import_wh == 4 * 600


# ------------------------------------------------------------------ the series


def _expand(series: array[int], t_from: int, t_to: int) -> list[int]:
    count = (t_to - t_from) // HALF_HOUR
    return list(series) * count if len(series) == 1 else list(series)


_SPAN = st.tuples(st.integers(0, 20 * HALF_HOUR), st.integers(1, 6 * HALF_HOUR))


@given(
    seed=st.none() | st.integers(0, 1000),
    n=st.integers(1, 20),
    spans=st.lists(_SPAN, max_size=3),
    cut=st.integers(0, 20),
)
def test_imports_share_per_interval(
    seed: int | None, n: int, spans: list[tuple[int, int]], cut: int
) -> None:
    load = metering.LoadModel(900, seed)
    t_from = T0_S
    t_to = t_from + n * HALF_HOUR
    dark: list[metering.Span] = [(t_from + a, t_from + a + d) for a, d in spans]
    got = metering.imports(load, t_from, t_to, closed=True, dark=dark)
    full = [load.interval_wh(t) for t in range(t_from, t_to, HALF_HOUR)]
    values = _expand(got, t_from, t_to)
    assert len(values) == n
    for i, t in enumerate(range(t_from, t_to, HALF_HOUR)):
        lit = set(range(t, t + HALF_HOUR))
        for a, b in dark:
            lit -= set(range(a, t_to if b is None else b))
        assert values[i] == full[i] * len(lit) // HALF_HOUR
    # however the span is cut at a boundary, the intervals are the same
    mid = t_from + min(cut, n) * HALF_HOUR
    joined = [
        v
        for a, b in ((t_from, mid), (mid, t_to))
        for v in _expand(metering.imports(load, a, b, closed=True, dark=dark), a, b)
    ]
    assert joined == values
    # an open load switch consumes nothing, outage or not
    assert list(metering.imports(load, t_from, t_to, closed=False, dark=dark)) == [0]


def test_an_open_outage_darkens_everything_after_the_loss() -> None:
    load = metering.LoadModel(1200)
    got = metering.imports(load, T0_S, T0_S + 4 * HALF_HOUR, closed=True,
                           dark=[(T0_S + HALF_HOUR + 900, None)])  # fmt: skip
    assert list(got) == [600, 300, 0, 0]
