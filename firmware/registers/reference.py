"""The register engine in pure Python: the readable definition of its semantics.

Layer: firmware. ``_engine.c`` must give byte-identical states, logs and events (the
differential tests in tests/firmware/registers hold them equal); it is faster because it
folds whole days at once, but this module steps every half-hour, in this order:

Theory of operation, for the interval [t, T = t + 30 min) of each meter:

1. *Start*: a disablement deferred by the non-disablement (friendly credit) calendar takes
   effect if this interval is not friendly. While the supply is disabled, consumption is 0.
2. *Energy* (at T): import, export and reactive import registers, profile logs, maximum demand (the
   energy of each maximum demand period, 30 minutes by default, ending at UTC multiples of
   the period; the largest since the last billing snapshot, first instant wins), then the
   script selector of the local slot: a TOU rate register (cost = Wh x price), or a block
   set, where the block period counter moves through the set's thresholds, splitting the
   interval's energy at each threshold (cost per part at its block's price) with a
   block-change event at the pro-rata instant.
3. *Debit* (prepayment mode): the cost comes off the meter balance; while emergency credit
   is in use, any negative meter balance is then paid off from the EC balance as far as it
   goes (:func:`settle`; the same netting happens when the EC is activated, ops.py), so the
   balance goes negative only once the EC is spent. After each debit: emergency credit
   exhausted (the EC balance reached 0 in this debit), low credit (available credit =
   balance + active EC < threshold), emergency credit available (meter balance < its
   threshold, EC not active), credit exhausted (available <= disablement threshold) ->
   supply disabled now, or deferred while the slot is friendly. With the disablement
   threshold at 0, EC exhausted, credit exhausted and supply disabled share their instant.
   Each fires once until an operation (top-up, reset) re-arms it.
4. *Hour end*: hourly time-based debt recovery (min(rate, remaining)); debt-cleared event.
5. *Local midnight*: standing charge (cost, and debit), daily debt recovery, daily read log,
   billing snapshot when the new day is the billing day (then maximum demand resets),
   block counter reset (daily, or on the billing day).

With the emergency credit active and "suspend debt emergency" set, standing charge and
time-based debt go to the accumulated debt register instead of the balance (SMETS 4.6.5.1).

Between spans, a payment (ops.top_up) writes the two payment rings of the Billing Data Log
(:func:`log_payment`): the credit added (ECS20d, last 5) and the payment-based debt
recovered from it (ECS20a, last 10). ``advance`` never writes them: time passing is not a
payment; it only carries their heads in the state and their bytes in the log region.
"""

from __future__ import annotations

import struct
from array import array

from smemu.firmware.registers import layout as lay
from smemu.firmware.registers.calendar import (
    DAY,
    civil_from_days,
    local_day,
    profile_for_day,
    slot_of,
    utc_offset,
    weekday,
)
from smemu.firmware.registers.layout import Buffer

IMPLEMENTATION = "python"


class _Meter:
    """One meter's pass through a span: its state words, log views and the events found."""

    __slots__ = (
        "daily",
        "events",
        "export_profile",
        "index",
        "logs",
        "profile",
        "reactive_profile",
        "s",
        "w",
    )

    def __init__(self, table: lay.Words, state: array[int], index: int, logs: memoryview | None):
        self.w = table
        self.s = state
        self.index = index
        self.events: list[tuple[int, int, int, int]] = []
        self.logs = logs
        prof, exp, daily, _billing, _size = lay.log_sections(table[lay.T_FLAGS])
        flags = table[lay.T_FLAGS]
        self.profile = None
        self.export_profile = None
        self.daily = None
        self.reactive_profile = None
        if logs is not None:
            if flags & lay.F_LOG_PROFILE:
                self.profile = logs[prof : prof + 2 * lay.PROFILE_SLOTS].cast("H")
            if flags & lay.F_LOG_PROFILE_EXPORT:
                self.export_profile = logs[exp : exp + 2 * lay.PROFILE_SLOTS].cast("H")
            if flags & lay.F_LOG_PROFILE_REACTIVE:
                react = lay.reactive_section(flags)
                self.reactive_profile = logs[react : react + 2 * lay.PROFILE_SLOTS].cast("H")
            if flags & lay.F_LOG_DAILY:
                self.daily = logs[daily : daily + 8 * lay.DAILY_SLOTS].cast("I")

    def emit(self, code: int, t: int, value: int) -> None:
        self.events.append((self.index, code, t, value))

    # -- prepayment ---------------------------------------------------------------------

    def friendly(self, wd: int, slot: int) -> bool:
        return bool(self.w[lay.T_FRIENDLY + wd] >> slot & 1)

    def debit(self, amount: int, t: int, wd: int, slot: int) -> None:
        """Take ``amount`` (fine units) off the credit and raise the thresholds it crosses."""
        s, w = self.s, self.w
        if amount <= 0:
            return
        active = s[lay.S_FLAGS] & lay.M_EC_ACTIVE
        m, ec = settle(s[lay.S_BALANCE] - amount, s[lay.S_EC], active)
        if active and ec == 0 < s[lay.S_EC] and not s[lay.S_FLAGS] & lay.M_EC_EXHAUSTED_SENT:
            s[lay.S_FLAGS] |= lay.M_EC_EXHAUSTED_SENT
            self.emit(lay.E_EC_EXHAUSTED, t, m)
        s[lay.S_BALANCE], s[lay.S_EC] = m, ec
        avail = m + (ec if active else 0)
        flags = s[lay.S_FLAGS]
        if not flags & lay.M_LOW_SENT and avail < w[lay.T_LOW_CREDIT]:
            flags |= lay.M_LOW_SENT
            self.emit(lay.E_LOW_CREDIT, t, avail)
        if not flags & (lay.M_EC_ACTIVE | lay.M_EC_AVAILABLE_SENT) and m < w[lay.T_EC_THRESHOLD]:
            flags |= lay.M_EC_AVAILABLE_SENT
            self.emit(lay.E_EC_AVAILABLE, t, m)
        if not flags & lay.M_EXHAUSTED_SENT and avail <= w[lay.T_DISABLE]:
            flags |= lay.M_EXHAUSTED_SENT
            self.emit(lay.E_CREDIT_EXHAUSTED, t, avail)
            if not flags & lay.M_DISABLED:
                if self.friendly(wd, slot):
                    flags |= lay.M_PENDING_DISABLE
                else:
                    flags |= lay.M_DISABLED
                    self.emit(lay.E_SUPPLY_DISABLED, t, avail)
        s[lay.S_FLAGS] = flags

    def time_charge(self, amount: int, t: int, wd: int, slot: int) -> None:
        """Debit a time-based charge, or accumulate it as debt in suspended emergency credit."""
        s = self.s
        suspend = self.w[lay.T_FLAGS] & lay.F_SUSPEND_DEBT_EMERGENCY
        if suspend and s[lay.S_FLAGS] & lay.M_EC_ACTIVE:
            s[lay.S_ACC_DEBT] += amount
        else:
            self.debit(amount, t, wd, slot)

    def collect_debt(self, i: int, t: int, wd: int, slot: int) -> None:
        s, w = self.s, self.w
        rate, debt = w[lay.T_DEBT_RATE + i], s[lay.S_DEBT + i]
        if not s[lay.S_FLAGS] & lay.M_PREPAY or rate <= 0 or debt <= 0:
            return
        if s[lay.S_FLAGS] & lay.M_DISABLED and w[lay.T_FLAGS] & lay.F_SUSPEND_DEBT_DISABLED:
            return
        take = min(rate, debt)
        s[lay.S_DEBT + i] = debt - take
        self.time_charge(take, t, wd, slot)
        if debt == take:
            self.emit(lay.E_DEBT_CLEARED, t, i)

    # -- energy -------------------------------------------------------------------------

    def block_energy(self, block_set: int, e: int, t: int) -> int:
        """Book ``e`` Wh on block set ``block_set``; return its cost (fine units)."""
        s, w = self.s, self.w
        cost = 0
        done = 0
        period = s[lay.S_PERIOD]
        while done < e:
            b = sum(1 for k in range(3) if w[lay.T_THRESH + 3 * block_set + k] <= period)
            limit = w[lay.T_THRESH + 3 * block_set + b] if b < 3 else lay.NO_THRESHOLD
            take = min(e - done, limit - period)
            s[lay.S_BLOCK + 4 * block_set + b] += take
            s[lay.S_MATRIX + 4 * block_set + b] += take
            cost += take * w[lay.T_BLOCK_PRICE + 4 * block_set + b]
            period += take
            done += take
            if period == limit:
                self.emit(lay.E_BLOCK_CHANGE, t + lay.INTERVAL * done // e, block_set * 16 + b + 1)
        s[lay.S_PERIOD] = period
        return cost

    def interval(  # noqa: PLR0917 - one interval's inputs, in the hot loop
        self, t: int, day: int, profile: int, e: int, x: int, q: int = 0
    ) -> None:
        """Steps 1-4 of the theory of operation for the interval starting at ``t``."""
        s, w = self.s, self.w
        end = t + lay.INTERVAL
        wd, slot = weekday(day), slot_of(t)
        flags = s[lay.S_FLAGS]
        if flags & lay.M_PENDING_DISABLE and not self.friendly(wd, slot):
            flags = (flags & ~lay.M_PENDING_DISABLE) | lay.M_DISABLED
            s[lay.S_FLAGS] = flags
            avail = s[lay.S_BALANCE] + (s[lay.S_EC] if flags & lay.M_EC_ACTIVE else 0)
            self.emit(lay.E_SUPPLY_DISABLED, t, avail)
        if flags & lay.M_DISABLED:
            e = x = q = 0
        s[lay.S_IMPORT] += e
        s[lay.S_EXPORT] += x
        s[lay.S_REACTIVE] += q
        logged = self.profile is not None or self.export_profile is not None
        if logged or self.reactive_profile is not None:
            head = s[lay.S_PROFILE_HEAD] % lay.PROFILE_SLOTS
            if self.profile is not None:
                self.profile[head] = e
            if self.export_profile is not None:
                self.export_profile[head] = x
            if self.reactive_profile is not None:
                self.reactive_profile[head] = q
            s[lay.S_PROFILE_HEAD] += 1
        s[lay.S_MD_ACC] += e
        s[lay.S_MD_ACC_EXPORT] += x
        if end % (max(1, w[lay.T_MD_PERIOD]) * lay.INTERVAL) == 0:
            self.demand_period_end(end)
        selector = w[lay.T_PROFILES + 48 * profile + slot]
        if selector < lay.BLOCK_SELECTOR:
            s[lay.S_TOU + selector] += e
            cost = e * w[lay.T_TOU_PRICE + selector]
        else:
            cost = self.block_energy(selector - lay.BLOCK_SELECTOR, e, t) if e else 0
        s[lay.S_COST] += cost
        if flags & lay.M_PREPAY:
            self.debit(cost, end, wd, slot)
        if end % 3600 == 0:
            for i in range(2):
                if w[lay.T_DEBT_PERIOD + i] == 0:
                    self.collect_debt(i, end, wd, slot)
        if (end + utc_offset(end)) % DAY == 0:
            self.midnight(end, wd, slot)
        s[lay.S_T] = end

    def demand_period_end(self, end: int) -> None:
        """The end of a maximum demand period: its energy against the maxima (first wins)."""
        s = self.s
        if s[lay.S_MD_ACC] > s[lay.S_MD_IMPORT]:
            s[lay.S_MD_IMPORT], s[lay.S_MD_IMPORT_T] = s[lay.S_MD_ACC], end
        if s[lay.S_MD_ACC_EXPORT] > s[lay.S_MD_EXPORT]:
            s[lay.S_MD_EXPORT], s[lay.S_MD_EXPORT_T] = s[lay.S_MD_ACC_EXPORT], end
        s[lay.S_MD_ACC] = s[lay.S_MD_ACC_EXPORT] = 0

    def midnight(self, t: int, wd: int, slot: int) -> None:
        """Step 5: the end of a local day at UTC instant ``t``."""
        s, w = self.s, self.w
        standing = w[lay.T_STANDING]
        s[lay.S_COST] += standing
        if s[lay.S_FLAGS] & lay.M_PREPAY:
            self.time_charge(standing, t, wd, slot)
        for i in range(2):
            if w[lay.T_DEBT_PERIOD + i] == 1:
                self.collect_debt(i, t, wd, slot)
        if self.daily is not None:
            head = s[lay.S_DAILY_HEAD] % lay.DAILY_SLOTS
            self.daily[2 * head] = s[lay.S_IMPORT] & 0xFFFF_FFFF
            self.daily[2 * head + 1] = s[lay.S_EXPORT] & 0xFFFF_FFFF
            s[lay.S_DAILY_HEAD] += 1
        billing_day = w[lay.T_BILLING_DAY]
        if billing_day and civil_from_days(local_day(t))[2] == billing_day:
            billing_snapshot(w, s, self.logs, t)
            self.emit(lay.E_BILLING_SNAPSHOT, t, s[lay.S_BILLING_HEAD])
            if w[lay.T_FLAGS] & lay.F_BLOCK_RESET_BILLING:
                reset_block_counters(s)
        if not w[lay.T_FLAGS] & lay.F_BLOCK_RESET_BILLING:
            reset_block_counters(s)


def settle(balance: int, ec: int, active: int) -> tuple[int, int]:
    """Meter balance and emergency credit balance once an active EC covers a deficit.

    While emergency credit is in use, a negative meter balance is owed to it: the EC
    balance pays it off, as far as it goes. Whatever order debits come in, the result
    depends only on their sum (m + ec is kept), which lets _engine.c fold days.
    """
    if active and ec > 0 and balance < 0:
        paid = min(-balance, ec)
        return balance + paid, ec - paid
    return balance, ec


def reset_block_counters(s: lay.MutableWords) -> None:
    """Zero the block counter matrix and the block period counter (also ECS05)."""
    s[lay.S_PERIOD] = 0
    for k in range(lay.N_SETS * lay.N_BLOCKS):
        s[lay.S_MATRIX + k] = 0


def billing_snapshot(w: lay.Words, s: lay.MutableWords, logs: memoryview | None, t: int) -> None:
    """Write a billing data log entry (when logged), then reset maximum demand."""
    _p, _x, _d, billing, _size = lay.log_sections(w[lay.T_FLAGS])
    if logs is not None and w[lay.T_FLAGS] & lay.F_LOG_BILLING:
        entry = [
            t,
            s[lay.S_IMPORT],
            s[lay.S_EXPORT],
            s[lay.S_COST],
            s[lay.S_BALANCE],
            s[lay.S_EC],
            s[lay.S_ACC_DEBT],
            s[lay.S_DEBT],
            s[lay.S_DEBT + 1],
            s[lay.S_PAY_DEBT],
            s[lay.S_MD_IMPORT],
            s[lay.S_MD_IMPORT_T],
            s[lay.S_MD_EXPORT],
            s[lay.S_MD_EXPORT_T],
            *s[lay.S_TOU : lay.S_TOU + lay.N_TOU],
            *s[lay.S_BLOCK : lay.S_BLOCK + lay.N_SETS * lay.N_BLOCKS],
        ]
        head = s[lay.S_BILLING_HEAD] % lay.BILLING_SLOTS
        start = billing + head * lay.BILLING_WORDS * 8
        logs[start : start + lay.BILLING_WORDS * 8] = array("q", entry).tobytes()
        s[lay.S_BILLING_HEAD] += 1
    s[lay.S_MD_IMPORT] = s[lay.S_MD_IMPORT_T] = s[lay.S_MD_EXPORT] = s[lay.S_MD_EXPORT_T] = 0


def log_payment(
    w: lay.Words, s: lay.MutableWords, logs: memoryview | None, t: int, *, credit: int,
    recovered: int,
) -> None:
    """Log a payment at UTC ``t`` in the Billing Data Log's payment rings (when logged).

    ``credit`` (fine units) goes to the prepayment credits ring (ECS20d); ``recovered``, the
    payment-based debt taken from it, to the repayment ring (ECS20a) when it is not zero
    (an entry records "debt recovered as part of the Credit Added"; no recovery, no entry).
    Each ring's head in the state counts the entries ever written; the slot is head mod size.
    """
    sections = lay.prepayment_log_sections(w[lay.T_FLAGS])
    if logs is None or sections is None:
        return
    credit_at, repay_at = sections
    at = credit_at + s[lay.S_CREDIT_LOG_HEAD] % lay.CREDIT_LOG_SLOTS * 16
    logs[at : at + 16] = struct.pack("<qq", t, credit)
    s[lay.S_CREDIT_LOG_HEAD] += 1
    if recovered:
        at = repay_at + s[lay.S_REPAYMENT_LOG_HEAD] % lay.REPAYMENT_LOG_SLOTS * 16
        logs[at : at + 16] = struct.pack("<qq", t, recovered)
        s[lay.S_REPAYMENT_LOG_HEAD] += 1


def payment_ring(
    w: lay.Words, s: lay.Words, logs: Buffer | None, *, repayments: bool
) -> list[tuple[int, int]]:
    """The entries of a payment ring, oldest first: (UTC instant, fine units).

    :param repayments: True for the repayment ring (ECS20a), False for credits (ECS20d).
    """
    sections = lay.prepayment_log_sections(w[lay.T_FLAGS])
    if logs is None or sections is None:
        return []
    view = memoryview(logs).cast("B")
    if repayments:
        start, slots, head = sections[1], lay.REPAYMENT_LOG_SLOTS, s[lay.S_REPAYMENT_LOG_HEAD]
    else:
        start, slots, head = sections[0], lay.CREDIT_LOG_SLOTS, s[lay.S_CREDIT_LOG_HEAD]
    words = view[start : start + slots * 16].cast("q")
    first = max(0, head - slots)
    return [(words[2 * (k % slots)], words[2 * (k % slots) + 1]) for k in range(first, head)]


def check_span(
    table: Buffer, states: Buffer, logs: Buffer | None, t_from: int, t_to: int
) -> tuple[int, int]:
    """Validate a span's arguments; return (meters, intervals). Raises ValueError."""
    if len(memoryview(table).cast("B")) != lay.TABLE_BYTES:
        raise ValueError(f"table must be {lay.TABLE_BYTES} bytes")
    if memoryview(table).cast("B")[:8].cast("q")[0] != lay.LAYOUT_VERSION:
        raise ValueError("table layout version mismatch")
    size = len(memoryview(states).cast("B"))
    if size % lay.STATE_BYTES or t_from % lay.INTERVAL or t_to % lay.INTERVAL or t_to < t_from:
        raise ValueError("states must be whole states and the span half-hour aligned")
    _check_table(memoryview(table).cast("B").cast("q"))
    meters = size // lay.STATE_BYTES
    if logs is not None:
        per = lay.log_bytes(memoryview(table).cast("B").cast("q"))
        if len(memoryview(logs).cast("B")) != per * meters:
            raise ValueError(f"logs must be {per} bytes per meter")
    return meters, (t_to - t_from) // lay.INTERVAL


def _check_table(w: lay.Words) -> None:
    """The indexes the engine follows must be in range, whoever built the table."""
    n = w[lay.T_N_PROFILES]
    ok = 1 <= n <= lay.N_PROFILES and 0 <= w[lay.T_N_SEASONS] <= 4 and 0 <= w[lay.T_N_SPECIAL] <= 52
    ok = ok and all(0 <= w[lay.T_WEEKS + i] < n for i in range(28))
    ok = ok and all(0 <= w[lay.T_SEASONS + 4 * i + 3] <= 3 for i in range(4))
    ok = ok and all(0 <= w[lay.T_SPECIAL + 2 * i + 1] < n for i in range(52))
    ok = ok and all(0 <= w[lay.T_TOU_PRICE + i] < 1 << 31 for i in range(80))
    ok = ok and 0 <= w[lay.T_MD_PERIOD] <= 48 and 48 % max(1, w[lay.T_MD_PERIOD]) == 0
    ok = ok and all(w[lay.T_THRESH + i] > 0 for i in range(24))
    ok = ok and all(w[lay.T_THRESH + i] >= w[lay.T_THRESH + i - 1] for i in range(24) if i % 3)
    if not ok:
        raise ValueError("table holds out-of-range entries")


def _check_profile(w: lay.Words, p: int) -> None:
    for sel in w[lay.T_PROFILES + 48 * p : lay.T_PROFILES + 48 * p + 48]:
        block = lay.BLOCK_SELECTOR <= sel < lay.BLOCK_SELECTOR + lay.N_SETS
        if not (0 <= sel < lay.N_TOU or block):
            raise ValueError("table holds an out-of-range selector")


def _series(data: Buffer | None, meters: int, intervals: int) -> tuple[memoryview | None, bool]:
    if data is None:
        return None, False
    view = memoryview(data).cast("B").cast("H")
    if len(view) == meters * intervals:
        return view, False
    if len(view) == meters:
        return view, True
    raise ValueError("consumption must hold one uint16 per meter per interval, or per meter")


def advance(  # noqa: PLR0917 - the positional signature of _engine.advance
    table: Buffer,
    states: Buffer,
    logs: Buffer | None,
    t_from: int,
    t_to: int,
    imports: Buffer,
    exports: Buffer | None = None,
    reactive: Buffer | None = None,
) -> bytes:
    """Advance every meter in ``states`` from ``t_from`` to ``t_to`` (UTC seconds).

    :param table: a compiled table (:class:`~smemu.firmware.registers.tables.Table` data).
    :param states: writable, N states of :data:`~layout.STATE_BYTES`, all valid at t_from.
    :param logs: writable, N log regions of :func:`~layout.log_bytes`, or None (no logs).
    :param imports: uint16 Wh per meter per interval (meter-major), or one per meter.
    :param exports: the same for export, or None.
    :param reactive: the same for reactive import (uint16 varh), or None (none).
    :return: packed events (:data:`~layout.EVENT_FORMAT`), per meter in time order.
    """
    meters, intervals = check_span(table, states, logs, t_from, t_to)
    w = memoryview(table).cast("B").cast("q").tolist()
    view = memoryview(states).cast("B")
    imp, imp_const = _series(imports, meters, intervals)
    exp, exp_const = _series(exports, meters, intervals)
    rea, rea_const = _series(reactive, meters, intervals)
    per_log = lay.log_bytes(w)
    log_view = memoryview(logs).cast("B") if logs is not None else None
    for m in range(meters):
        if view[m * lay.STATE_BYTES : m * lay.STATE_BYTES + 8].cast("q")[0] != t_from:
            raise ValueError(f"meter {m} is not at t_from")
    days: dict[int, int] = {}
    for k in range(intervals):
        day = local_day(t_from + k * lay.INTERVAL)
        if day not in days:
            days[day] = profile_for_day(w, day)
            _check_profile(w, days[day])
    out = bytearray()
    for m in range(meters):
        state = array("q")
        state.frombytes(view[m * lay.STATE_BYTES : (m + 1) * lay.STATE_BYTES])
        region = None if log_view is None else log_view[m * per_log : (m + 1) * per_log]
        meter = _Meter(w, state, m, region)
        for k in range(intervals):
            t = t_from + k * lay.INTERVAL
            day = local_day(t)
            e = 0 if imp is None else imp[m if imp_const else m * intervals + k]
            x = 0 if exp is None else exp[m if exp_const else m * intervals + k]
            q = 0 if rea is None else rea[m if rea_const else m * intervals + k]
            meter.interval(t, day, days[day], e, x, q)
        view[m * lay.STATE_BYTES : (m + 1) * lay.STATE_BYTES] = state.tobytes()
        for event in meter.events:
            out += struct.pack(lay.EVENT_FORMAT, *event)
    return bytes(out)
