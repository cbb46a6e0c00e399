"""Operations on a meter's engine state between spans: top-ups, emergency credit, resets.

Layer: firmware. These are rare, instantaneous changes (a UTRN top-up, the consumer
selecting emergency credit, ECS05's block counter reset, a tariff or payment-mode change);
they act on the same state words whichever engine advances time, so they exist once, here.
Amounts in and out are in 10^-5 currency units.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from smemu.firmware.registers import layout as lay
from smemu.firmware.registers.reference import (
    billing_snapshot,
    log_payment,
    payment_ring,
    reset_block_counters,
    settle,
)

WEEK = 7 * 86_400  #: the DebtRecoveryRateCap period, fixed at one week (SMETS 5.7.4.13)


@dataclass(frozen=True, slots=True)
class Event:
    """Something the firmware must act on, at UTC instant ``t`` (see layout ``E_*``)."""

    meter: int
    code: int
    t: int
    value: int

    @property
    def name(self) -> str:
        return lay.EVENT_NAMES.get(self.code, f"event_{self.code}")


def decode_events(data: bytes) -> list[Event]:
    """Unpack the events an ``advance`` call returned."""
    return [Event(*fields) for fields in struct.iter_unpack(lay.EVENT_FORMAT, data)]


@dataclass(frozen=True, slots=True)
class Registers:
    """A readable copy of one meter's registers (money in 10^-5 currency units, floor)."""

    t: int
    import_wh: int
    export_wh: int
    reactive_import_varh: int
    tou_wh: tuple[int, ...]
    block_wh: tuple[tuple[int, ...], ...]  #: per block set, per block, cumulative
    block_matrix_wh: tuple[tuple[int, ...], ...]  #: current block period
    accumulated_cost: int
    meter_balance: int
    emergency_credit_balance: int
    accumulated_debt: int
    time_debts: tuple[int, int]
    payment_debt: int
    #: largest maximum-demand-period import since the last billing snapshot, and its end
    max_demand_import_wh: int
    max_demand_import_t: int
    max_demand_export_wh: int
    max_demand_export_t: int
    prepayment: bool
    emergency_credit_active: bool
    supply_disabled: bool


def read(state: lay.Words) -> Registers:
    """The registers of a state."""
    s = state
    fine = lay.FINE
    return Registers(
        t=s[lay.S_T],
        import_wh=s[lay.S_IMPORT],
        export_wh=s[lay.S_EXPORT],
        reactive_import_varh=s[lay.S_REACTIVE],
        tou_wh=tuple(s[lay.S_TOU : lay.S_TOU + lay.N_TOU]),
        block_wh=tuple(tuple(s[lay.S_BLOCK + 4 * k : lay.S_BLOCK + 4 * k + 4]) for k in range(8)),
        block_matrix_wh=tuple(
            tuple(s[lay.S_MATRIX + 4 * k : lay.S_MATRIX + 4 * k + 4]) for k in range(8)
        ),
        accumulated_cost=s[lay.S_COST] // fine,
        meter_balance=s[lay.S_BALANCE] // fine,
        emergency_credit_balance=s[lay.S_EC] // fine,
        accumulated_debt=s[lay.S_ACC_DEBT] // fine,
        time_debts=(s[lay.S_DEBT] // fine, s[lay.S_DEBT + 1] // fine),
        payment_debt=s[lay.S_PAY_DEBT] // fine,
        max_demand_import_wh=s[lay.S_MD_IMPORT],
        max_demand_import_t=s[lay.S_MD_IMPORT_T],
        max_demand_export_wh=s[lay.S_MD_EXPORT],
        max_demand_export_t=s[lay.S_MD_EXPORT_T],
        prepayment=bool(s[lay.S_FLAGS] & lay.M_PREPAY),
        emergency_credit_active=bool(s[lay.S_FLAGS] & lay.M_EC_ACTIVE),
        supply_disabled=bool(s[lay.S_FLAGS] & lay.M_DISABLED),
    )


def _available(s: lay.Words) -> int:
    return s[lay.S_BALANCE] + (s[lay.S_EC] if s[lay.S_FLAGS] & lay.M_EC_ACTIVE else 0)


def rearm(table: lay.Words, s: lay.MutableWords) -> None:
    """Re-arm the credit alerts whose condition no longer holds (after credit is added)."""
    flags = s[lay.S_FLAGS]
    avail = _available(s)
    if avail >= table[lay.T_LOW_CREDIT]:
        flags &= ~lay.M_LOW_SENT
    if s[lay.S_BALANCE] >= table[lay.T_EC_THRESHOLD]:
        flags &= ~lay.M_EC_AVAILABLE_SENT
    if avail > table[lay.T_DISABLE]:
        flags &= ~(lay.M_EXHAUSTED_SENT | lay.M_PENDING_DISABLE)
    if not flags & lay.M_EC_ACTIVE:
        flags &= ~lay.M_EC_EXHAUSTED_SENT
    s[lay.S_FLAGS] = flags


def recovered_last_week(s: lay.Words, t: int) -> int:
    """Payment-based debt recovered in the 7 x 24 h before ``t`` (fine units)."""
    total = 0
    for i in range(8):
        at, amount = s[lay.S_RECOVERED + 2 * i], s[lay.S_RECOVERED + 2 * i + 1]
        if amount and t - WEEK < at <= t:
            total += amount
    return total


def top_up(
    table: lay.Words,
    s: lay.MutableWords,
    t: int,
    amount: int,
    *,
    percent_bp: int = 0,
    weekly_cap: int | None = None,
    logs: memoryview | None = None,
) -> int:
    """Add a top-up of ``amount`` at ``t``; return the payment-based debt recovered.

    The recovery is ``percent_bp`` (1/100 %) of the payment, capped by the remaining payment
    debt and by ``weekly_cap`` less what was recovered in the previous week
    (DebtRecoveryRateCap). The rest repays the accumulated debt register, then a used
    emergency credit (fully repaid: it ends), then credits the meter balance. With ``logs``
    (the meter's log region), the payment goes to the Billing Data Log's credit ring and
    its recovery, if any, to the repayment ring (reference.log_payment; ECS20d, ECS20a).
    """
    rest = amount * lay.FINE
    recover = min(rest * percent_bp // 10_000, s[lay.S_PAY_DEBT])
    if weekly_cap is not None:
        recover = min(recover, max(0, weekly_cap * lay.FINE - recovered_last_week(s, t)))
    recover = max(recover, 0)
    if recover:
        head = s[lay.S_RECOVERED_HEAD] % 8
        s[lay.S_RECOVERED + 2 * head], s[lay.S_RECOVERED + 2 * head + 1] = t, recover
        s[lay.S_RECOVERED_HEAD] += 1
        s[lay.S_PAY_DEBT] -= recover
    rest -= recover
    log_payment(table, s, logs, t, credit=amount * lay.FINE, recovered=recover)
    repay = min(rest, s[lay.S_ACC_DEBT])
    s[lay.S_ACC_DEBT] -= repay
    rest -= repay
    if s[lay.S_FLAGS] & lay.M_EC_ACTIVE:
        used = table[lay.T_EC_LIMIT] - s[lay.S_EC]
        repay = min(rest, used)
        s[lay.S_EC] += repay
        rest -= repay
        if repay == used:
            s[lay.S_FLAGS] &= ~lay.M_EC_ACTIVE
            s[lay.S_EC] = 0
    s[lay.S_BALANCE] += rest
    rearm(table, s)
    return recover // lay.FINE


@dataclass(frozen=True, slots=True)
class PaymentEntry:
    """One entry of a payment ring: UTC instant and amount (10^-5 currency units, floor)."""

    t: int
    amount: int


def credit_log(table: lay.Words, s: lay.Words, logs: lay.Buffer | None) -> list[PaymentEntry]:
    """The prepayment credits log (ECS20d, last 5 top-ups), oldest first."""
    rows = payment_ring(table, s, logs, repayments=False)
    return [PaymentEntry(t, amount // lay.FINE) for t, amount in rows]


def repayment_log(table: lay.Words, s: lay.Words, logs: lay.Buffer | None) -> list[PaymentEntry]:
    """The payment-based debt repayment log (ECS20a, last 10 recoveries), oldest first."""
    rows = payment_ring(table, s, logs, repayments=True)
    return [PaymentEntry(t, amount // lay.FINE) for t, amount in rows]


def activate_emergency_credit(table: lay.Words, s: lay.MutableWords) -> bool:
    """The consumer (or ECS09) selects emergency credit; return whether it is now in use.

    Allowed once the meter balance is below the emergency credit threshold. The EC balance
    starts at the limit and at once pays off a negative meter balance (what the last
    half-hour before disablement overdrew is owed to it: reference.settle), so the EC runs
    out exactly when the available credit reaches 0. Refused when that deficit would take
    the whole limit (no EC would be left to use; ECS09 then reports a failure).
    """
    flags = s[lay.S_FLAGS]
    if flags & lay.M_EC_ACTIVE or s[lay.S_BALANCE] >= table[lay.T_EC_THRESHOLD]:
        return False
    balance, ec = settle(s[lay.S_BALANCE], table[lay.T_EC_LIMIT], lay.M_EC_ACTIVE)
    if ec <= 0:
        return False
    s[lay.S_FLAGS] = (flags | lay.M_EC_ACTIVE) & ~lay.M_EC_EXHAUSTED_SENT
    s[lay.S_BALANCE], s[lay.S_EC] = balance, ec
    rearm(table, s)
    return True


def enable_supply(table: lay.Words, s: lay.MutableWords) -> bool:
    """Re-enable a disabled supply if the available credit is above the disablement level."""
    if _available(s) <= table[lay.T_DISABLE] and s[lay.S_FLAGS] & lay.M_PREPAY:
        return False
    s[lay.S_FLAGS] &= ~(lay.M_DISABLED | lay.M_PENDING_DISABLE)
    return True


def set_debts(s: lay.MutableWords, *, time_debts: tuple[int, int], payment_debt: int) -> None:
    """Set the debt registers (ECS09-style adjustment), 10^-5 currency units."""
    s[lay.S_DEBT], s[lay.S_DEBT + 1] = time_debts[0] * lay.FINE, time_debts[1] * lay.FINE
    s[lay.S_PAY_DEBT] = payment_debt * lay.FINE


def snapshot(table: lay.Words, s: lay.MutableWords, logs: memoryview | None, t: int) -> Event:
    """A billing data log snapshot outside the billing calendar (tariff or mode change)."""
    billing_snapshot(table, s, logs, t)
    return Event(0, lay.E_BILLING_SNAPSHOT, t, s[lay.S_BILLING_HEAD])


def set_payment_mode(
    table: lay.Words, s: lay.MutableWords, logs: memoryview | None, t: int, *, prepay: bool
) -> Event:
    """Switch credit <-> prepayment (ECS02/ECS03): snapshot, then change mode."""
    event = snapshot(table, s, logs, t)
    s[lay.S_FLAGS] = (s[lay.S_FLAGS] | lay.M_PREPAY) if prepay else (s[lay.S_FLAGS] & ~lay.M_PREPAY)
    rearm(table, s)
    return event


__all__ = [
    "Event",
    "PaymentEntry",
    "Registers",
    "activate_emergency_credit",
    "credit_log",
    "decode_events",
    "enable_supply",
    "read",
    "recovered_last_week",
    "repayment_log",
    "reset_block_counters",
    "set_debts",
    "set_payment_mode",
    "snapshot",
    "top_up",
]
