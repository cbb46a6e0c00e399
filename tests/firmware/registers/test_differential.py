"""C engine vs pure-Python reference: identical states, logs and events (style rule H33).

Also span splitting: advancing A -> B -> C equals A -> C, and a constant rate equals the
same value repeated; all of them with and without a reactive import series. Top-ups
between spans (ops.top_up, which writes the Billing Data Log's payment rings, ECS20a /
ECS20d) and emergency credit selections (ops.activate_emergency_credit, which nets a
negative balance off the new EC) leave both engines identical too, and the rings hold the
newest payments. Skipped (with
the reason) when the C extension is not built, unless
SMEMU_REQUIRE_C=1, where the package import itself fails.
"""

from __future__ import annotations

from array import array
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smemu.firmware import registers
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers import ops, reference
from smemu.firmware.registers.ops import decode_events
from smemu.firmware.registers.tables import (
    DayProfile,
    Prepayment,
    Season,
    Settings,
    Table,
    Tariff,
    compile_table,
)
from tests.strategies.registers import (
    Payment,
    StateSpec,
    consumption,
    payments,
    prepayments,
    reactive_series,
    start_times,
    state_specs,
    tariffs,
    year_table,
)
from tests.strategies.registers import (
    settings as meter_settings,
)

pytestmark = pytest.mark.skipif(not registers.USING_C, reason=f"no C engine: {registers.C_ERROR}")

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _fleet(table: Table, specs: list[StateSpec], t: int) -> tuple[bytearray, bytearray]:
    states = bytearray(b"".join(spec.build(t).tobytes() for spec in specs))
    return states, bytearray(lay.log_bytes(table.words) * len(specs))


def _run(
    engine: object,
    table: Table,
    specs: list[StateSpec],
    *,
    cuts: list[int],
    imports: array[int],
    exports: array[int] | None = None,
    reactive: array[int] | None = None,
) -> tuple[bytes, bytes, bytes]:
    """Advance a fleet through the instants ``cuts`` (first = t0) with one engine."""
    advance = engine.advance  # type: ignore[attr-defined]
    t0 = cuts[0]
    states, logs = _fleet(table, specs, t0)
    total = (cuts[-1] - t0) // lay.INTERVAL
    meters = len(specs)
    events = []
    for a, b in pairwise(cuts):
        lo, hi = (a - t0) // lay.INTERVAL, (b - t0) // lay.INTERVAL

        def part(series: array[int] | None, lo: int = lo, hi: int = hi) -> array[int] | None:
            if series is None or len(series) == meters != meters * total:
                return series  # None, or a constant per meter
            out = array("H")
            for m in range(meters):
                out.extend(series[m * total + lo : m * total + hi])
            return out

        events.append(advance(table.data, states, logs, a, b, part(imports),
                              part(exports), part(reactive)))
    # events of a split run: per call, meter-major; compare per meter in time order
    merged = sorted(
        (e for data in events for e in decode_events(data)), key=lambda e: e.meter
    )
    return bytes(states), bytes(logs), repr(merged).encode()


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Table, list[StateSpec], int, int]:
    table = compile_table(draw(tariffs()), draw(prepayments()), draw(meter_settings))
    specs = draw(st.lists(state_specs, min_size=1, max_size=3))
    t0 = draw(start_times())
    intervals = draw(st.sampled_from([0, 1, 5, 48, 96, 48 * 4 + 7, 48 * 9]))
    return table, specs, t0, intervals


@FAST
@given(data=st.data(), scenario=scenarios())
def test_c_equals_reference(
    data: st.DataObject, scenario: tuple[Table, list[StateSpec], int, int]
) -> None:
    table, specs, t0, intervals = scenario
    imports = data.draw(consumption(len(specs), intervals))
    exports = data.draw(st.one_of(st.none(), consumption(len(specs), intervals)))
    reactive = data.draw(reactive_series(len(specs), intervals))
    cuts = [t0, t0 + intervals * lay.INTERVAL]
    from smemu.firmware.registers import _engine

    c = _run(_engine, table, specs, cuts=cuts, imports=imports, exports=exports,
             reactive=reactive)
    py = _run(reference, table, specs, cuts=cuts, imports=imports, exports=exports,
              reactive=reactive)
    assert c[0] == py[0], "states differ"
    assert c[1] == py[1], "logs differ"
    assert c[2] == py[2], "events differ"


@FAST
@given(data=st.data(), scenario=scenarios())
def test_split_spans_equal_one_span(
    data: st.DataObject, scenario: tuple[Table, list[StateSpec], int, int]
) -> None:
    table, specs, t0, intervals = scenario
    imports = data.draw(consumption(len(specs), intervals))
    reactive = data.draw(reactive_series(len(specs), intervals))
    end = t0 + intervals * lay.INTERVAL
    inner = data.draw(st.lists(st.integers(0, intervals), max_size=3))
    cuts = [t0, *sorted(t0 + k * lay.INTERVAL for k in inner), end]
    whole = _run(registers, table, specs, cuts=[t0, end], imports=imports, reactive=reactive)
    split = _run(registers, table, specs, cuts=cuts, imports=imports, reactive=reactive)
    assert split == whole


@FAST
@given(scenario=scenarios(), rate=st.integers(0, 3000))
def test_constant_rate_equals_repeated_series(
    scenario: tuple[Table, list[StateSpec], int, int], rate: int
) -> None:
    table, specs, t0, intervals = scenario
    end = t0 + intervals * lay.INTERVAL
    constant = array("H", [rate] * len(specs))
    repeated = array("H", [rate] * (len(specs) * intervals))
    for engine in (registers, reference):
        a = _fleet(table, specs, t0)
        b = _fleet(table, specs, t0)
        ea = engine.advance(table.data, a[0], a[1], t0, end, constant, None, constant)
        eb = engine.advance(table.data, b[0], b[1], t0, end, repeated, None, repeated)
        assert (a, ea) == (b, eb)


def test_a_year_of_whole_days_matches_reference() -> None:
    """The C whole-day path over a year with blocks, debts, prepayment and every log."""
    table = year_table()
    spec = StateSpec(True, 40_000_000, False, 0, (3_000_000, 1_000_000), False)
    t0 = 1_704_067_200  # 2024-01-01 00:00 UTC, a local midnight
    days = 366
    series = array("H", ((k * 7919) % 900 for k in range(48 * days)))
    reactive = array("H", ((k * 104_729) % 400 for k in range(48 * days)))
    cuts = [t0, t0 + days * 48 * lay.INTERVAL]
    from smemu.firmware.registers import _engine

    for q in (None, reactive):
        c = _run(_engine, table, [spec], cuts=cuts, imports=series, reactive=q)
        assert c == _run(reference, table, [spec], cuts=cuts, imports=series, reactive=q)


@pytest.mark.parametrize("logs", [False, True])
def test_reactive_on_the_fast_multi_day_path(logs: bool) -> None:
    """Whole ordinary days without profile logs run C's multi-day path with reactive too."""
    tariff = Tariff(
        day_profiles=(DayProfile(((0, 1), (7 * 60, 2))), DayProfile(((0, 101),))),
        week_profiles=((0, 0, 0, 0, 0, 1, 1),),
        tou_prices=(12_000, 24_000),
        block_prices=((15_000, 22_000, 30_000, 45_000),),
        block_thresholds=((4_000, 9_000, 15_000),),
    )
    settings = Settings(log_profile=False, log_profile_reactive=logs, billing_day=3)
    table = compile_table(tariff, None, settings)
    specs = [StateSpec(False, 0, False, 0, (0, 0), False)] * 2
    t0 = 1_704_067_200
    days = 40
    n = 2 * 48 * days
    imports = array("H", ((k * 7919) % 900 for k in range(n)))
    from smemu.firmware.registers import _engine

    for q in (array("H", ((k * 31) % 700 for k in range(n))), array("H", [123, 7])):
        for cuts in ([t0, t0 + days * 48 * lay.INTERVAL], [t0, t0 + 7 * 3600, t0 + days * 86400]):
            c = _run(_engine, table, specs, cuts=cuts, imports=imports, reactive=q)
            assert c == _run(reference, table, specs, cuts=cuts, imports=imports, reactive=q)


@st.composite
def block_debt_days(draw: st.DrawFn) -> tuple[Table, list[StateSpec], array[int]]:
    """Block days whose hourly debts clear among block changes, some on exact slot ends.

    A constant consumption that divides the thresholds reaches them exactly at slot ends
    (the block change instant is then the next slot's start, where an hour end may also
    clear a debt); the C whole-day path must order those events as the reference does,
    on 23- and 25-hour days too.
    """
    per_slot = draw(st.sampled_from([100, 150, 200, 250, 333]))
    steps = sorted(draw(st.lists(st.integers(1, 16), min_size=3, max_size=3)))
    exact = draw(st.booleans())
    thresholds = tuple(k * per_slot + (0 if exact else draw(st.integers(0, per_slot - 1)))
                       for k in steps)
    tariff = Tariff(
        day_profiles=(DayProfile(((0, 101),)), DayProfile(((0, 1), (12 * 60, 101)))),
        week_profiles=((0, 1, 0, 1, 0, 0, 1),),  # Sundays (the DST changes) mixed
        seasons=(Season(1, 1, 0),),
        special_days=(),
        tou_prices=(10_000,),
        block_prices=((14_000, 19_000, 26_000, 38_000),),
        block_thresholds=(tuple(sorted(thresholds)),),
        standing_charge=50_000,
    )
    rates = (draw(st.integers(1, 5_000)), draw(st.integers(1, 5_000)))
    prepayment = Prepayment(
        low_credit_threshold=0,
        emergency_credit_threshold=0,
        emergency_credit_limit=0,
        disablement_threshold=-10**9,
        debt_rates=((rates[0], "hourly"), (rates[1], draw(st.sampled_from(["hourly", "daily"])))),
    )
    table = compile_table(tariff, prepayment, Settings(billing_day=draw(st.integers(0, 28))))
    debts = (rates[0] * draw(st.integers(1, 60)) - draw(st.integers(0, rates[0] - 1)),
             rates[1] * draw(st.integers(1, 60)))
    spec = StateSpec(True, 3_000_000, False, 0, debts, False)
    days = 4
    noisy = draw(st.booleans())
    series = array("H", (per_slot + (k * 7 % 5 if noisy else 0) for k in range(48 * days)))
    return table, [spec], series


@FAST
@given(
    case=block_debt_days(),
    # local midnights: in winter, in summer, and two days before each DST change of 2024
    t0=st.sampled_from([1_704_067_200, 1_718_492_400, 1_711_670_400, 1_729_810_800]),
)
def test_debt_clearing_among_block_changes(
    case: tuple[Table, list[StateSpec], array[int]], t0: int
) -> None:
    table, specs, series = case
    cuts = [t0, t0 + len(series) * lay.INTERVAL]
    from smemu.firmware.registers import _engine

    c = _run(_engine, table, specs, cuts=cuts, imports=series)
    py = _run(reference, table, specs, cuts=cuts, imports=series)
    assert c == py


# ------------------------------------------------------- payments between spans (ECS20a/d)


def _run_paid(
    engine: object,
    table: Table,
    specs: list[StateSpec],
    *,
    cuts: list[int],
    imports: array[int],
    paid: dict[int, list[Payment]],
    payment_debt: int,
) -> tuple[bytes, bytes, bytes, list[list[tuple[int, int, int]]]]:
    """Advance through ``cuts``; after the first span ending at instant c, apply ``paid[c]``.

    Returns states, logs, events and, per meter, each payment's (instant, amount, fine debt
    recovered) as the state's payment debt register saw it.
    """
    advance = engine.advance  # type: ignore[attr-defined]
    t0 = cuts[0]
    states, logs = _fleet(table, specs, t0)
    per_log = lay.log_bytes(table.words)
    meters, total = len(specs), (cuts[-1] - t0) // lay.INTERVAL

    def state(m: int) -> memoryview:
        return memoryview(states)[m * lay.STATE_BYTES : (m + 1) * lay.STATE_BYTES].cast("q")

    for m in range(meters):
        state(m)[lay.S_PAY_DEBT] = payment_debt * lay.FINE
    history: list[list[tuple[int, int, int]]] = [[] for _ in specs]
    events = []
    done: set[int] = set()
    for a, b in pairwise(cuts):
        lo, hi = (a - t0) // lay.INTERVAL, (b - t0) // lay.INTERVAL
        part = array("H")
        for m in range(meters):
            part.extend(imports[m * total + lo : m * total + hi])
        events.append(advance(table.data, states, logs, a, b, part))
        for p in [] if b in done else paid.get(b, []):
            s = state(p.meter)
            if p.emergency:
                ops.activate_emergency_credit(table.words, s)
                continue
            region = memoryview(logs)[p.meter * per_log : (p.meter + 1) * per_log]
            before = s[lay.S_PAY_DEBT]
            ops.top_up(table.words, s, b + p.delay, p.amount, percent_bp=p.percent_bp,
                       weekly_cap=p.weekly_cap, logs=region if per_log else None)
            history[p.meter].append((b + p.delay, p.amount, before - s[lay.S_PAY_DEBT]))
        done.add(b)
    merged = sorted((e for data in events for e in decode_events(data)), key=lambda e: e.meter)
    return bytes(states), bytes(logs), repr(merged).encode(), history


@st.composite
def paid_scenarios(
    draw: st.DrawFn,
) -> tuple[Table, list[StateSpec], list[int], array[int], dict[int, list[Payment]], int]:
    """A scenario cut into spans, payments after some spans (enough to wrap both rings)."""
    table, specs, t0, _ = draw(scenarios())
    intervals = draw(st.sampled_from([4, 48, 96, 48 * 4 + 7, 48 * 9]))
    imports = draw(consumption(len(specs), intervals))
    inner = draw(st.lists(st.integers(0, intervals), min_size=1, max_size=4))
    cuts = [t0, *sorted(t0 + k * lay.INTERVAL for k in inner), t0 + intervals * lay.INTERVAL]
    paid: dict[int, list[Payment]] = {}
    for c in cuts[1:]:
        paid[c] = draw(st.lists(payments(len(specs)), max_size=8))
    return table, specs, cuts, imports, paid, draw(st.integers(0, 10_000_000))


@FAST
@given(case=paid_scenarios())
def test_payments_between_spans_c_equals_reference(
    case: tuple[Table, list[StateSpec], list[int], array[int], dict[int, list[Payment]], int],
) -> None:
    table, specs, cuts, imports, paid, debt = case
    from smemu.firmware.registers import _engine

    c = _run_paid(_engine, table, specs, cuts=cuts, imports=imports, paid=paid, payment_debt=debt)
    py = _run_paid(reference, table, specs, cuts=cuts, imports=imports, paid=paid,
                   payment_debt=debt)
    assert c[0] == py[0], "states differ"
    assert c[1] == py[1], "logs differ"
    assert c[2] == py[2], "events differ"
    # the rings against an independent model: the newest 5 payments, the newest 10
    # non-zero recoveries, oldest first; nothing at all without the billing log
    logged = bool(table.words[lay.T_FLAGS] & lay.F_LOG_BILLING)
    per_log = lay.log_bytes(table.words)
    for m, history in enumerate(py[3]):
        s = array("q", py[0][m * lay.STATE_BYTES : (m + 1) * lay.STATE_BYTES])
        region = py[1][m * per_log : (m + 1) * per_log]
        credits = [(t, a) for t, a, _ in history][-5:] if logged else []
        repaid = [(t, r // lay.FINE) for t, _, r in history if r][-10:] if logged else []
        assert [(e.t, e.amount) for e in ops.credit_log(table.words, s, region)] == credits
        assert [(e.t, e.amount) for e in ops.repayment_log(table.words, s, region)] == repaid


@FAST
@given(case=paid_scenarios(), data=st.data())
def test_payments_with_split_spans_equal_one_span_each(
    case: tuple[Table, list[StateSpec], list[int], array[int], dict[int, list[Payment]], int],
    data: st.DataObject,
) -> None:
    """Cutting the spans between payments further (A -> B -> C == A -> C) changes nothing."""
    table, specs, cuts, imports, paid, debt = case
    total = (cuts[-1] - cuts[0]) // lay.INTERVAL
    extra = data.draw(st.lists(st.integers(0, total), max_size=3))
    finer = sorted([*cuts, *(cuts[0] + k * lay.INTERVAL for k in extra)])
    whole = _run_paid(registers, table, specs, cuts=cuts, imports=imports, paid=paid,
                      payment_debt=debt)
    split = _run_paid(registers, table, specs, cuts=finer, imports=imports, paid=paid,
                      payment_debt=debt)
    assert split == whole
