"""The gas meter's registers: consumption volume, energy, TOU / block registers and balances.

Layer: firmware. SMETS GSME registers kept in the register engine
(:mod:`smemu.firmware.registers`), the same engine the ESME uses (:mod:`~smemu.firmware.metering`).

Theory of operation
-------------------
The engine counts *units* per half-hour and prices them. For the gas meter a unit is one
litre (1/1000 m3: the Metering cluster's multiplier 1 / divisor 1000), so the engine's
energy registers are the volume registers the GSME publishes (current summation delivered,
TOU register matrix 0x0100..., block counters 0x0700...) and its half-hourly profile and
daily log hold litres. Gas is priced per kWh, so the compiled table's prices are per m3:
``price_per_kWh x CV x CF / 3.6`` (GCS23: calorific value in MJ/m3, conversion factor),
which makes the engine's cost of N litres exactly that of their energy. The standing
charge, debt recovery, emergency credit and the billing snapshots are the engine's.

NVM: ``gsme/engine/state``, ``gsme/engine/logs``, ``gsme/engine/table`` (the engine);
``gsme/engine/tariff``, ``gsme/engine/prepayment`` and ``gsme/engine/settings`` (billing
calendar and block counter reset; the source of the table, JSON),
``gsme/engine/cv`` (calorific value, 1/1000 MJ/m3), ``gsme/engine/cf`` (conversion factor,
1/1000000), ``gsme/engine/generation`` (bumped on every recompilation),
``gsme/engine/causes`` (snapshot causes of billing log entries not taken by the billing
calendar), ``gsme/engine/daily`` (the Daily Read Log and Prepayment Daily Read Log: the
registers at each local midnight, :data:`DAILY_WORDS` int64 words an entry in a ring of
:data:`DAILY_SLOTS`, the engine state's ``S_DAILY_HEAD`` counting the entries ever written),
and the consumption model ``gsme/flow`` (:mod:`smemu.firmware.gas_flow`, whose names this
module re-exports).

Interface for the command handlers (:mod:`smemu.firmware.gas_handlers`): tariff, price and
prepayment commands call :func:`set_tariff` / :func:`set_prepayment`, GCS23 calls
:func:`set_conversion`, payment mode changes :func:`set_payment_mode`, top-ups and credit
adjustments :func:`credit`, emergency credit :func:`activate_emergency_credit` (whether the
engine took it; :func:`credit` with ``CreditKind.EMERGENCY`` does the same);
each brings the registers up to ``tx.now`` under the old settings first. Reads use
:func:`registers` (after :func:`catch_up`).
"""

from __future__ import annotations

import dataclasses
from array import array
from collections.abc import Sequence
from typing import Final

from smemu.firmware import gas_valve
from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_flow import (
    DEFAULT_LITRES_PER_HOUR,
    FLOW,
    CreditKind,
    GasFlow,
    GasRegisters,
)
from smemu.firmware.registers import advance as engine_advance
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers import ops
from smemu.firmware.registers.calendar import local_day, local_midnight
from smemu.firmware.registers.ops import Event, decode_events
from smemu.firmware.registers.tables import (
    DayProfile,
    Prepayment,
    Season,
    Settings,
    SpecialDay,
    Tariff,
    compile_table,
)

STATE: Final = "gsme/engine/state"
LOGS: Final = "gsme/engine/logs"
TABLE: Final = "gsme/engine/table"
TARIFF: Final = "gsme/engine/tariff"
PREPAYMENT: Final = "gsme/engine/prepayment"
CV: Final = "gsme/engine/cv"
CF: Final = "gsme/engine/cf"
GENERATION: Final = "gsme/engine/generation"
CAUSES: Final = "gsme/engine/causes"
DAILY: Final = "gsme/engine/daily"
SETTINGS: Final = "gsme/engine/settings"

#: Daily read log entry words: UTC midnight, volume (litres), TOU registers 1-4, block
#: counters 1-4 (litres), accumulated debt, time debts 1 and 2, payment debt, emergency
#: credit balance, meter balance (engine fine money units).
D_T, D_VOLUME, D_TOU, D_BLOCK = 0, 1, 2, 6
D_ACC_DEBT, D_DEBT, D_PAY_DEBT, D_EC, D_BALANCE = 10, 11, 13, 14, 15
DAILY_WORDS: Final = 16
DAILY_SLOTS: Final = lay.DAILY_SLOTS  #: 731 days (SMETS: two years of daily reads)

#: Default calorific value (1/1000 MJ/m3) and conversion factor (1/1000000): typical GB gas.
DEFAULT_CV: Final = 39_500
DEFAULT_CF: Final = 1_022_640
#: ZCL snapshot causes (SE 1.4 Metering, Snapshot Cause bitmap)
CAUSE_BILLING_PERIOD: Final = 0x0000_0002
CAUSE_TARIFF: Final = 0x0000_0008
CAUSE_SUPPLIER: Final = 0x0000_2000
CAUSE_MODE: Final = 0x0000_4000
_MAX_PRICE: Final = (1 << 31) - 1  #: the engine's largest price (10^-5 units per m3)


def _epoch(tx: Tx) -> int:
    return int(tx.now.timestamp())


def _floor(seconds: int) -> int:
    return seconds - seconds % lay.INTERVAL


def conversion(tx: Tx) -> tuple[int, int]:
    """(calorific value in 1/1000 MJ/m3, conversion factor in 1/1000000) in force."""
    return tx.get_int(CV, DEFAULT_CV), tx.get_int(CF, DEFAULT_CF)


def energy_wh(litres: int, cv_milli: int, cf_micro: int) -> int:
    """Energy of ``litres`` of gas: m3 x MJ/m3 x CF / 3.6 = kWh (floor, in Wh)."""
    # litres/1000 * cv/1000 * cf/1e6 / 3.6 kWh = litres*cv*cf / 3.6e12 kWh = .../3.6e9 Wh
    return litres * cv_milli * cf_micro // 3_600_000_000


def _per_m3(price_per_kwh: int, cv_milli: int, cf_micro: int) -> int:
    """A price per kWh as a price per m3 (the engine prices litres as if they were Wh),
    at most the engine's largest price."""
    per_m3 = (price_per_kwh * cv_milli * cf_micro + 1_800_000_000) // 3_600_000_000
    return min(per_m3, _MAX_PRICE)


def _tariff_to_json(tariff: Tariff) -> object:
    return dataclasses.asdict(tariff)


def _tariff_from_json(raw: object) -> Tariff:
    if not isinstance(raw, dict):
        return Tariff(day_profiles=(DayProfile(((0, 1),)),))
    return Tariff(
        day_profiles=tuple(
            DayProfile(tuple((int(a), int(b)) for a, b in p["switches"]))
            for p in raw["day_profiles"]
        ),
        week_profiles=tuple(tuple(int(d) for d in w) for w in raw["week_profiles"]),
        seasons=tuple(Season(**s) for s in raw["seasons"]),
        special_days=tuple(SpecialDay(**s) for s in raw["special_days"]),
        tou_prices=tuple(int(p) for p in raw["tou_prices"]),
        block_prices=tuple(tuple(int(p) for p in b) for b in raw["block_prices"]),
        block_thresholds=tuple(tuple(int(p) for p in b) for b in raw["block_thresholds"]),
        standing_charge=int(raw["standing_charge"]),
    )


def _prepayment_from_json(raw: object) -> Prepayment:
    if not isinstance(raw, dict):
        return Prepayment()
    rates = raw.get("debt_rates", ((0, "daily"), (0, "daily")))
    friendly = raw.get("friendly", ())
    return Prepayment(
        **{k: v for k, v in raw.items() if k not in ("debt_rates", "friendly")},
        debt_rates=((int(rates[0][0]), str(rates[0][1])), (int(rates[1][0]), str(rates[1][1]))),
        friendly=tuple(tuple((int(a), int(b)) for a, b in day) for day in friendly),
    )


def gas_table(tx: Tx) -> bytes:
    """The engine table compiled from the stored tariff, prepayment settings and CV / CF."""
    tariff = _tariff_from_json(tx.get_json(TARIFF))
    cv, cf = conversion(tx)
    priced = dataclasses.replace(
        tariff,
        tou_prices=tuple(_per_m3(p, cv, cf) for p in tariff.tou_prices),
        block_prices=tuple(tuple(_per_m3(p, cv, cf) for p in b) for b in tariff.block_prices),
    )
    table = compile_table(priced, _prepayment_from_json(tx.get_json(PREPAYMENT)), settings(tx))
    return table.data


def settings(tx: Tx) -> Settings:
    """The meter settings in force (billing day, block counter reset); the default: billing
    on the 1st of each month, block counters reset daily."""
    raw = tx.get_json(SETTINGS, {})
    if not isinstance(raw, dict):
        return Settings()
    day = raw.get("billing_day", 1)
    reset = raw.get("block_reset", "daily")
    return Settings(
        billing_day=day if isinstance(day, int) and 0 <= day <= 28 else 1,
        block_reset=reset if reset in ("daily", "billing") else "daily",
    )


def set_settings(tx: Tx, new: Settings) -> None:
    """Install a billing calendar / block reset (GCS25) from now (registers caught up first)."""
    if new == settings(tx):
        return
    catch_up(tx)
    tx.put_json(SETTINGS, {"billing_day": new.billing_day, "block_reset": new.block_reset})
    _recompile(tx)


def _state(tx: Tx) -> array[int]:
    words = array("q")
    raw = tx.get(STATE)
    words.frombytes(raw if raw is not None else lay.new_state(_floor(_epoch(tx))).tobytes())
    return words


def _table(tx: Tx) -> bytes:
    raw = tx.get(TABLE)
    if raw is None:
        raw = gas_table(tx)
        tx.put(TABLE, raw)
    return raw


def _logs(tx: Tx, table: bytes) -> bytearray:
    raw = tx.get(LOGS)
    if raw is None:
        words = array("q")
        words.frombytes(table)
        return bytearray(lay.log_bytes(words))
    return bytearray(raw)


def catch_up(tx: Tx, *, until: int | None = None) -> list[Event]:
    """Advance the registers to the last half-hour boundary at or before ``until`` (default
    ``tx.now``); a closed valve (``gsme/valve`` 0) means no flow. The engine's events go to
    :func:`smemu.firmware.gas_valve.engine_events` (a credit disablement closes the valve).

    The engine runs once up to the last :data:`DAILY_SLOTS` local midnights of the span, then
    from midnight to midnight, so that the daily read log gets the registers of each day.
    """
    table = _table(tx)
    state = _state(tx)
    logs = _logs(tx, table)
    t_from = state[lay.S_T]
    t_to = _floor(_epoch(tx) if until is None else until)
    events: list[Event] = []
    if t_to > t_from:
        flowing = tx.get_int("gsme/valve", 1) == 1
        flow = GasFlow.from_tx(tx)
        view = memoryview(state).cast("B")
        stops = _midnights(t_from, t_to)
        if len(stops) > DAILY_SLOTS:
            stops = stops[-DAILY_SLOTS - 1 :]  # older midnights are overwritten anyway
        daily = bytearray(tx.get(DAILY) or bytes(DAILY_SLOTS * DAILY_WORDS * 8))
        midnights = frozenset(stops)
        start = t_from
        for stop in (*stops, t_to):
            if stop <= start:
                continue
            imports = flow.imports(start, stop) if flowing else array("H", (0,))
            data = engine_advance(table, view, logs or None, start, stop, imports, None)
            events.extend(decode_events(data))
            if stop in midnights:
                _log_day(daily, state, stop)
            start = stop
        if stops:
            tx.put(DAILY, bytes(daily))
        _note_calendar_snapshots(tx, events)
    tx.put(STATE, state.tobytes())
    tx.put(LOGS, bytes(logs))
    if events:
        gas_valve.engine_events(tx, events)  # a credit disablement closes the valve
    return events


def _midnights(t_from: int, t_to: int) -> list[int]:
    """The local (GB) midnights in (t_from, t_to], as UTC instants."""
    out: list[int] = []
    day = local_day(t_from) + 1
    while (t := local_midnight(day)) <= t_to:
        if t > t_from:
            out.append(t)
        day += 1
    return out


def _log_day(daily: bytearray, state: array[int], t: int) -> None:
    """Write the daily read log entry of the midnight ``t`` (the engine's daily head)."""
    serial = state[lay.S_DAILY_HEAD] - 1
    tou = state[lay.S_TOU : lay.S_TOU + 4]
    block = state[lay.S_BLOCK : lay.S_BLOCK + 4]
    entry = array(
        "q",
        (
            t, state[lay.S_IMPORT], *tou, *block, state[lay.S_ACC_DEBT], state[lay.S_DEBT],
            state[lay.S_DEBT + 1], state[lay.S_PAY_DEBT], state[lay.S_EC], state[lay.S_BALANCE],
        ),
    )  # fmt: skip
    at = serial % DAILY_SLOTS * DAILY_WORDS * 8
    daily[at : at + DAILY_WORDS * 8] = entry.tobytes()


def _note_calendar_snapshots(tx: Tx, events: Sequence[Event]) -> None:
    causes = _causes(tx)
    for event in events:
        if event.code == lay.E_BILLING_SNAPSHOT:
            causes[str(event.value - 1)] = CAUSE_BILLING_PERIOD
    if causes:
        _keep_causes(tx, causes)


def _causes(tx: Tx) -> dict[str, int]:
    raw = tx.get_json(CAUSES, {})
    return {str(k): int(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def _keep_causes(tx: Tx, causes: dict[str, int]) -> None:
    newest = sorted(causes, key=int)[-lay.BILLING_SLOTS :]
    tx.put_json(CAUSES, {k: causes[k] for k in newest})


def registers(tx: Tx) -> GasRegisters:
    """The registers at the state's instant (call :func:`catch_up` first to bring them to now)."""
    r = ops.read(_state(tx))
    cv, cf = conversion(tx)
    return GasRegisters(
        t=r.t,
        volume_litres=r.import_wh,
        energy_wh=energy_wh(r.import_wh, cv, cf),
        tou_litres=r.tou_wh,
        block_litres=r.block_wh[0] if r.block_wh else (),
        accumulated_cost=r.accumulated_cost,
        balance=r.meter_balance,
        emergency_credit=r.emergency_credit_balance,
        accumulated_debt=r.accumulated_debt,
        time_debts=r.time_debts,
        payment_debt=r.payment_debt,
        prepayment=r.prepayment,
        emergency_credit_active=r.emergency_credit_active,
        supply_disabled=r.supply_disabled,
    )


def _mutate(tx: Tx) -> tuple[bytes, array[int], bytearray]:
    catch_up(tx)
    table = _table(tx)
    return table, _state(tx), _logs(tx, table)


def credit(tx: Tx, amount: int, kind: CreditKind | str) -> GasRegisters:
    """Add credit (GCS40a-d adjustments, top-ups, PCS01/PCS02); the registers afterwards.

    ``amount`` is in 10^-5 currency units (ZCL money with price trailing digit 5, the
    engine's unit: nothing is rounded away). A top-up (``amount`` > 0) recovers
    payment-based debt first (Debt Recovery Top Up Percentage #3, prepayment attribute
    0x0239 in 1/100 %, at most the Overall Debt Cap 0x0006 a week when it is set; logged in
    the repayment log, GCS15d), then repays the accumulated debt and used emergency credit
    (engine ``top_up``); an adjustment adds the signed amount to the meter balance;
    emergency credit is activated when available (``amount`` ignored).
    """
    kind = CreditKind(kind)
    if kind is CreditKind.EMERGENCY:
        activate_emergency_credit(tx)
        return registers(tx)
    table, state, logs = _mutate(tx)
    words = array("q")
    words.frombytes(table)
    if kind is CreditKind.TOP_UP:
        percent, cap = _recovery_settings(tx)
        ops.top_up(
            words, state, state[lay.S_T], amount, percent_bp=percent, weekly_cap=cap,
            logs=memoryview(logs),
        )  # fmt: skip
    else:  # ADJUSTMENT
        state[lay.S_BALANCE] += amount * lay.FINE
        ops.rearm(words, state)
    tx.put(STATE, state.tobytes())
    tx.put(LOGS, bytes(logs))
    _credit_changed(tx, words, state)
    return registers(tx)


def _credit_changed(
    tx: Tx, table: array[int], state: array[int], *, emergency: bool = False
) -> None:
    """A valve closed for lack of credit is armed once credit is above the disablement
    threshold again (:func:`smemu.firmware.gas_valve.credit_changed`)."""
    ec = state[lay.S_EC] if state[lay.S_FLAGS] & lay.M_EC_ACTIVE else 0
    available = state[lay.S_BALANCE] + ec
    gas_valve.credit_changed(tx, available, table[lay.T_DISABLE], emergency=emergency)


def enable_supply(tx: Tx) -> bool:
    """Re-enable a supply the engine disabled for credit (the consumer opening an armed
    valve): whether the supply is enabled (refused at or below the disablement threshold
    in prepayment mode)."""
    table, state, _logs = _mutate(tx)
    words = array("q")
    words.frombytes(table)
    enabled = ops.enable_supply(words, state)
    if enabled:
        tx.put(STATE, state.tobytes())
    return enabled


def activate_emergency_credit(tx: Tx) -> bool:
    """GCS06 / PCS02 (SMETS Activate Emergency Credit): whether the engine activated
    emergency credit. A refusal (already in use, the balance above the threshold, or no
    emergency credit left once the deficit is paid) changes nothing but the catch-up."""
    table, state, _logs = _mutate(tx)
    words = array("q")
    words.frombytes(table)
    activated = ops.activate_emergency_credit(words, state)
    if activated:
        tx.put(STATE, state.tobytes())
        _credit_changed(tx, words, state, emergency=True)
    return activated


def reset_credit(tx: Tx) -> GasRegisters:
    """GCS40b (SMETS Reset Meter Balance): the meter balance, the emergency credit balance
    and the accumulated debt register become zero (emergency credit in use ends); the
    registers afterwards."""
    table, state, _logs_bytes = _mutate(tx)
    words = array("q")
    words.frombytes(table)
    state[lay.S_BALANCE] = 0
    state[lay.S_EC] = 0
    state[lay.S_ACC_DEBT] = 0
    state[lay.S_FLAGS] &= ~lay.M_EC_ACTIVE
    ops.rearm(words, state)
    tx.put(STATE, state.tobytes())
    _credit_changed(tx, words, state)
    return registers(tx)


def _attribute(tx: Tx, attribute: int, size: int, *, signed: bool = False) -> int | None:
    """A Prepayment cluster attribute's integer value (``type || LE value``) if stored."""
    raw = tx.get(f"gsme/attr/0705/{attribute:04x}")
    if raw is None or len(raw) != 1 + size:
        return None
    return int.from_bytes(raw[1:], "little", signed=signed)


def _recovery_settings(tx: Tx) -> tuple[int, int | None]:
    """(payment-based debt recovery per top-up in 1/100 %, weekly cap or None)."""
    percent = _attribute(tx, 0x0239, 2) or 0
    cap = _attribute(tx, 0x0006, 4, signed=True)
    return min(percent, 10_000), cap if cap is not None and cap > 0 else None


def set_debts(tx: Tx, *, time_debts: tuple[int, int], payment_debt: int) -> GasRegisters:
    """GCS04: set the time-based debt registers 1 / 2 and the payment-based debt register
    (10^-5 currency units) from now; the registers afterwards."""
    _table_bytes, state, _logs_bytes = _mutate(tx)
    ops.set_debts(state, time_debts=time_debts, payment_debt=payment_debt)
    tx.put(STATE, state.tobytes())
    return registers(tx)


def snapshot(tx: Tx, cause: int) -> None:
    """Take a billing data log entry now, outside the billing calendar (tariff, mode or
    supplier change: GCS01a/b, GCS02/03, GCS44), remembering its ``cause``."""
    table, state, logs = _mutate(tx)
    words = array("q")
    words.frombytes(table)
    event = ops.snapshot(words, state, memoryview(logs), state[lay.S_T])
    tx.put(STATE, state.tobytes())
    tx.put(LOGS, bytes(logs))
    causes = _causes(tx)
    causes[str(event.value - 1)] = cause
    _keep_causes(tx, causes)


def _recompile(tx: Tx) -> None:
    table = gas_table(tx)
    old = array("q")
    old.frombytes(_table(tx))
    new = array("q")
    new.frombytes(table)
    tx.put(TABLE, table)
    if lay.log_bytes(old) != lay.log_bytes(new):
        tx.put(LOGS, bytes(lay.log_bytes(new)))
    tx.put_int(GENERATION, tx.get_int(GENERATION) + 1)


def set_tariff(tx: Tx, tariff: Tariff, *, snapshot_cause: int | None = CAUSE_TARIFF) -> None:
    """Install a tariff (prices in 10^-5 currency per kWh, thresholds in litres) from now."""
    catch_up(tx)
    if snapshot_cause is not None:
        snapshot(tx, snapshot_cause)
    tx.put_json(TARIFF, _tariff_to_json(tariff))
    _recompile(tx)


def tariff(tx: Tx) -> Tariff:
    """The tariff in force (prices per kWh as installed)."""
    return _tariff_from_json(tx.get_json(TARIFF))


def set_prepayment(tx: Tx, settings: Prepayment) -> None:
    """Install prepayment settings (thresholds and limits in 10^-5 currency units)."""
    catch_up(tx)
    tx.put_json(PREPAYMENT, dataclasses.asdict(settings))
    _recompile(tx)


def set_conversion(tx: Tx, *, cv_milli: int | None = None, cf_micro: int | None = None) -> None:
    """GCS23: a new calorific value (1/1000 MJ/m3) and / or conversion factor (1/1000000)."""
    catch_up(tx)
    if cv_milli is not None:
        tx.put_int(CV, cv_milli)
    if cf_micro is not None:
        tx.put_int(CF, cf_micro)
    _recompile(tx)


def set_payment_mode(tx: Tx, *, prepay: bool) -> None:
    """GCS02 / GCS03: snapshot (cause: change of meter mode), then switch the mode."""
    table, state, logs = _mutate(tx)
    words = array("q")
    words.frombytes(table)
    event = ops.set_payment_mode(words, state, memoryview(logs), state[lay.S_T], prepay=prepay)
    tx.put(STATE, state.tobytes())
    tx.put(LOGS, bytes(logs))
    causes = _causes(tx)
    causes[str(event.value - 1)] = CAUSE_MODE
    _keep_causes(tx, causes)


__all__ = [
    "DEFAULT_LITRES_PER_HOUR",
    "FLOW",
    "CreditKind",
    "GasFlow",
    "GasRegisters",
    "activate_emergency_credit",
    "catch_up",
    "conversion",
    "credit",
    "enable_supply",
    "energy_wh",
    "registers",
    "reset_credit",
    "set_conversion",
    "set_debts",
    "set_payment_mode",
    "set_prepayment",
    "set_settings",
    "set_tariff",
    "settings",
    "snapshot",
    "tariff",
]
