"""Benchmark of the register engine: full semantics in C vs the reference vs a naive C loop.

Layer: hil. A fleet of meters on one shared table (48 TOU rates on weekdays, a 4-block set
at weekends, cost, prepayment with hourly and daily debt recovery, maximum demand, daily
read log and billing snapshots) runs one year of half-hourly consumption, one ``advance``
call per chunk of meters. In the same run: the pure-Python reference on a slice (scaled),
and a naive per-half-hour C loop that only adds each half-hour to its TOU register over the
same consumption arrays. Consumption is drawn once per chunk size from a seeded generator
and reused for every chunk, so memory stays at one chunk (performance.md: ratios, measured
in one run, never absolute times). Times are CPU time of the calling thread (the engine
and the naive loop run in it), so a busy neighbour on a shared machine does not tilt the
ratio towards whichever ran while it was quiet.

The consumption is 0..511 Wh per half-hour, mean ~190 Wh (~9.2 kWh a day, ~3,350 kWh a
year: between Ofgem's medium and high typical domestic figures). With block thresholds of
3, 6 and 9 kWh reset daily, nearly every weekend day crosses two or three thresholds, so the
engine emits ~273 block-change events per meter-year, each found by a search of that day's
running sums: the tariff is not picked to be easy (:data:`TARIFF`). The naive loop is
described by :data:`PLAIN_C`.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from smemu.firmware import registers
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers import reference
from smemu.firmware.registers.calendar import (
    days_from_civil,
    local_midnight,
    profile_for_day,
    slot_of,
)
from smemu.firmware.registers.calendar import local_day as local_day_of
from smemu.firmware.registers.tables import (
    DayProfile,
    Prepayment,
    Season,
    Settings,
    SpecialDay,
    Table,
    Tariff,
    compile_table,
)

#: what the benchmark's tariff is, printed with its figures
TARIFF = (
    "weekdays: 48 TOU rates (one per half-hour); weekends, 25 Dec and 1 Jan: one block set, "
    "thresholds 3/6/9 kWh, daily reset; standing charge; prepayment with hourly and daily "
    "debt recovery; max demand (30 min); daily read log; monthly billing snapshots; "
    "consumption 0..511 Wh per half-hour, mean ~190"
)

#: what the naive loop it is compared with does, printed with its figures
PLAIN_C = (
    "naive C, per meter and half-hour k: register[rate[k]] += import[k] (int64 += uint16), "
    "TOU accumulation only, over the same consumption arrays, same compiler flags and AVX2 "
    "clone as the engine, one call per chunk, timed alternately with the engine per chunk"
)


def bench_table() -> Table:
    """The benchmark tariff: the full semantics the issue asks to be measured."""
    weekday = DayProfile(tuple((slot * 30, slot + 1) for slot in range(48)))
    weekend = DayProfile(((0, 101),))
    tariff = Tariff(
        day_profiles=(weekday, weekend),
        week_profiles=((0, 0, 0, 0, 0, 1, 1),),
        seasons=(Season(1, 1, 0),),
        special_days=(SpecialDay(12, 25, 1), SpecialDay(1, 1, 1)),
        tou_prices=tuple(9_000 + 731 * k for k in range(48)),
        block_prices=((14_000, 19_000, 26_000, 38_000),),
        block_thresholds=((3_000, 6_000, 9_000),),
        standing_charge=53_000,
    )
    prepayment = Prepayment(
        low_credit_threshold=40_000_000,
        emergency_credit_threshold=150_000,
        emergency_credit_limit=500_000,
        disablement_threshold=0,
        debt_rates=((1_000, "hourly"), (20_000, "daily")),
    )
    settings = Settings(billing_day=1, log_profile=False, log_daily=True, log_billing=True)
    return compile_table(tariff, prepayment, settings)


def consumption(meters: int, intervals: int, seed: int) -> bytearray:
    """uint16 Wh per meter per half-hour, 0..511 (mean ~190 Wh), from a seeded generator."""
    rng = random.Random(seed)
    n = meters * intervals
    out = bytearray(2 * n)
    out[0::2] = rng.randbytes(n)
    out[1::2] = rng.randbytes(n).translate(bytes(1 if b < 64 else 0 for b in range(256)))
    return out


def _initial_states(meters: int, t0: int) -> bytes:
    state = lay.new_state(t0, prepay=True, balance=150_000_000)  # 1500.00 of credit
    state[lay.S_DEBT], state[lay.S_DEBT + 1] = 2_000_000 * lay.FINE, 4_000_000 * lay.FINE
    return state.tobytes() * meters


def _checksum(states: bytes | bytearray, logs: bytes | bytearray, events: bytes) -> str:
    digest = hashlib.sha256()
    for part in (states, logs, events):
        digest.update(part)
    return digest.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class EngineBench:
    """Figures of one ``bench engine`` run."""

    meters: int
    days: int
    intervals: int  #: half-hours in the span (a DST change adds or removes two)
    implementation: str
    engine_s: float
    plain_c_s: float
    reference_s: float
    reference_meters: int
    call_overhead_us: float
    checksum: str
    reference_checksum: str
    events: int

    @property
    def meter_half_hours(self) -> int:
        return self.meters * self.intervals

    def as_json(self) -> dict[str, object]:
        mhh = self.meter_half_hours
        ref_mhh = self.reference_meters * self.intervals
        engine = mhh / self.engine_s if self.engine_s else 0.0
        plain = mhh / self.plain_c_s if self.plain_c_s else 0.0
        ref = ref_mhh / self.reference_s if self.reference_s else 0.0
        full_flags = lay.F_LOG_PROFILE | lay.F_LOG_DAILY | lay.F_LOG_BILLING
        full = lay.log_sections(full_flags)[4]
        every_log = lay.F_LOG_PROFILE | lay.F_LOG_PROFILE_EXPORT | lay.F_LOG_DAILY
        every_log |= lay.F_LOG_BILLING
        with_export = lay.log_sections(every_log)[4]
        with_reactive = lay.log_sections(full_flags | lay.F_LOG_PROFILE_REACTIVE)[4]
        return {
            "implementation": self.implementation,
            "tariff": TARIFF,
            "plain_c": PLAIN_C,
            "clock": "thread CPU time",
            "meters": self.meters,
            "days": self.days,
            "meter_half_hours": mhh,
            "engine_s": round(self.engine_s, 4),
            "plain_c_s": round(self.plain_c_s, 4),
            "engine_mhh_per_s": round(engine),
            "plain_c_mhh_per_s": round(plain),
            "reference_mhh_per_s": round(ref),
            "engine_vs_plain_c": round(engine / plain, 3) if plain else None,
            "engine_vs_reference": round(engine / ref, 1) if ref else None,
            "engine_ns_per_mhh": round(1e9 / engine, 3) if engine else None,
            "call_overhead_us": round(self.call_overhead_us, 3),
            "state_bytes_per_meter": lay.STATE_BYTES,
            "log_bytes_per_meter": full,
            #: of which the Billing Data Log's payment rings (ECS20d credits, ECS20a repayments)
            "payment_log_bytes_per_meter": lay.PREPAYMENT_LOG_BYTES,
            "log_bytes_per_meter_with_export_profile": with_export,
            #: the reactive import profile is a separate log flag (uint16 varh, like import)
            "log_bytes_per_meter_with_reactive_profile": with_reactive,
            "events": self.events,
            "reference_meters": self.reference_meters,
            "checksum": self.checksum,
            "reference_checksum": self.reference_checksum,
        }


def _rates(table: Table, t0: int, intervals: int) -> bytes:
    """The TOU register of every half-hour of the span (block half-hours: rate 1)."""
    w = table.words
    out = bytearray(intervals)
    profiles: dict[int, int] = {}
    for k in range(intervals):
        t = t0 + k * lay.INTERVAL
        day = local_day_of(t)
        if day not in profiles:
            profiles[day] = profile_for_day(w, day)
        selector = w[lay.T_PROFILES + 48 * profiles[day] + slot_of(t)]
        out[k] = selector if selector < lay.BLOCK_SELECTOR else 0
    return bytes(out)


def call_overhead_us(repetitions: int = 5, calls: int = 20_000) -> float:
    """Microseconds per ``advance`` call on one meter over an empty span (best of runs)."""
    table = bench_table().data
    state = bytearray(lay.new_state(0).tobytes())
    imports = bytes(2)
    advance = registers.advance
    best = float("inf")
    for _ in range(repetitions):
        start = time.thread_time()
        for _ in range(calls):
            advance(table, state, None, 0, 0, imports, None)
        best = min(best, time.thread_time() - start)
    return best / calls * 1e6


def bench_engine(
    *,
    meters: int = 100_000,
    days: int = 365,
    chunk: int = 1_000,
    reference_meters: int = 4,
    seed: int = 1,
    progress: Callable[[str], None] | None = None,
) -> EngineBench:
    """Run the engine benchmark (see the module docstring)."""
    table = bench_table()
    t0 = local_midnight(days_from_civil(2023, 1, 1))
    t1 = local_midnight(days_from_civil(2023, 1, 1) + days)
    intervals = (t1 - t0) // lay.INTERVAL
    chunk = max(1, min(chunk, meters))
    series = consumption(chunk, intervals, seed)
    rates = _rates(table, t0, intervals)
    per_log = lay.log_bytes(table.words)
    template = _initial_states(chunk, t0)
    advance = registers.advance
    naive = getattr(registers, "naive_tou", None)

    # the slice: the reference and the active engine on the first meters, same inputs
    ref_n = max(1, min(reference_meters, chunk))
    ref_series = bytes(series[: 2 * ref_n * intervals])
    ref_states = bytearray(template[: ref_n * lay.STATE_BYTES])
    ref_logs = bytearray(per_log * ref_n)
    start = time.thread_time()
    ref_events = reference.advance(table.data, ref_states, ref_logs, t0, t1, ref_series)
    reference_s = time.thread_time() - start
    reference_checksum = _checksum(ref_states, ref_logs, ref_events)
    c_states, c_logs = bytearray(template[: ref_n * lay.STATE_BYTES]), bytearray(per_log * ref_n)
    c_events = advance(table.data, c_states, c_logs, t0, t1, ref_series, None)
    checksum = _checksum(c_states, c_logs, c_events)
    if progress:
        progress(f"reference: {ref_n} meters x {days} days in {reference_s:.2f} s")

    states = bytearray(template)
    logs = bytearray(per_log * chunk)
    regs = bytearray(48 * 8 * chunk)
    engine_s = plain_s = 0.0
    events = 0
    done = 0
    while done < meters:
        n = min(chunk, meters - done)
        states[:] = template
        view_states = memoryview(states)[: n * lay.STATE_BYTES]
        view_logs = memoryview(logs)[: n * per_log]
        view_series = memoryview(series)[: 2 * n * intervals]
        start = time.thread_time()
        events += len(advance(table.data, view_states, view_logs, t0, t1, view_series, None))
        engine_s += time.thread_time() - start
        if naive is not None:
            start = time.thread_time()
            naive(rates, view_series, memoryview(regs)[: 48 * 8 * n])
            plain_s += time.thread_time() - start
        done += n
        if progress and ((done // chunk) % 10 == 0 or done == meters):
            progress(f"{done}/{meters} meters: engine {engine_s:.2f} s, naive {plain_s:.2f} s")
    return EngineBench(
        meters=meters,
        days=days,
        intervals=intervals,
        implementation=registers.IMPLEMENTATION,
        engine_s=engine_s,
        plain_c_s=plain_s,
        reference_s=reference_s,
        reference_meters=ref_n,
        call_overhead_us=call_overhead_us(),
        checksum=checksum,
        reference_checksum=reference_checksum,
        events=events // lay.EVENT_BYTES,
    )
