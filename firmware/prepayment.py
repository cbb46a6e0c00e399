"""ESME prepayment: configuration from the COSEM objects, UTRN top-up rules, credit operations.

Layer: firmware. The prepayment settings (ECS08a thresholds and emergency credit, ECS07
debt recovery, ECS03 disablement threshold) are *active* COSEM values in NVM; they compile,
with the active tariff (:mod:`smemu.firmware.tariff`), into the register engine's table
(:func:`compile_active`). Money is in 10^-5 currency units, as GBCS prices are.

UTRN entry (CS01a, or typed on the keypad) follows GBCS section 14 as this emulator models
it (the replay rules' text is not available to us; reference 6.1):

* a lock-out: after :data:`MAX_FAILURES` invalid entries in a row, every entry is refused
  for :data:`LOCKOUT` (alert 0x81C5);
* the full counter is the smallest counter above the floor of the recently-used list whose
  bits 41..32 are the token's (the low 32 bits are zero);
* a counter in the recently-used list (the :data:`RECENT` highest accepted) is a replay
  (alert 0x8F51), one not above the floor is too old; the tag must authenticate with the
  supplier's prepayment key (alert 0x8F63 otherwise);
* a top-up that would take the meter balance above the maximum meter balance, or exceeds
  the maximum credit threshold, is refused (0x8F5B).

Each rejection changes nothing but the failure count and the log. :func:`check_utrn` is
those checks alone, shared by every meter (the GSME credits its own registers);
:func:`enter_utrn` is the ESME's entry: the checks, then :func:`top_up`.
:func:`utrn_secret` gives the key material from a meter's credentials.

An accepted payment is logged in the Billing Data Log's two payment rings, kept in the
register engine's log region (:func:`top_up`): the credit added (ECS20d, 7/0-0:98.1.5.255,
the last 5) and the payment-based debt recovered from it (ECS20a, 7/0-0:98.1.4.255, the
last 10). :data:`LOG_OBJECTS` serves them as the Use Case volume's profile buffers.
"""

from __future__ import annotations

import enum
from array import array
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from smemu.errors import ConfigError, DecodeError, LocalProtocolError, SecurityError
from smemu.firmware import metering
from smemu.firmware.common.cosem import CosemContext, CosemObject
from smemu.firmware.common.credentials import ANCHOR_PREFIX, Credentials, Role, prepayment_point
from smemu.firmware.common.machine import Tx
from smemu.firmware.cosem_model import stored_value
from smemu.firmware.metering import mutate, state_words
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers import ops
from smemu.firmware.registers.tables import Prepayment, Settings, Table, compile_table
from smemu.firmware.tariff import default_tariff, tariff_from_active
from smemu.protocols.dlms.apdu import parse_obis
from smemu.protocols.dlms.axdr import Data
from smemu.protocols.dlms.cosem import UnitCharge, ViewMismatchError
from smemu.protocols.dlms.data import (
    CompactArray,
    DoubleLongUnsigned,
    Structure,
    TypeDescription,
)
from smemu.protocols.security.keys import public_key_from_point
from smemu.protocols.security.keystore import KeyKind
from smemu.protocols.utrn import ValueClass, decode_utrn, verify_utrn

ACCOUNT: Final = parse_obis("0-0:19.0.0.255")
ACCOUNT_PASSIVE: Final = parse_obis("0-1:19.0.0.255")
METER_BALANCE: Final = parse_obis("0-0:19.10.0.255")
EMERGENCY_CREDIT: Final = parse_obis("0-0:19.10.1.255")
ACCUMULATED_DEBT: Final = parse_obis("0-0:19.10.2.255")
DEBT_RATES: Final = (parse_obis("0-0:19.20.1.255"), parse_obis("0-0:19.20.2.255"))
PAYMENT_DEBT: Final = parse_obis("0-0:19.20.3.255")
LOW_CREDIT: Final = parse_obis("0-0:94.44.128.9")
EC_LIMIT: Final = parse_obis("0-0:94.44.128.2")
EC_THRESHOLD: Final = parse_obis("0-0:94.44.128.3")
DISABLEMENT: Final = parse_obis("0-0:94.44.128.22")
DEBT_CAP: Final = parse_obis("0-0:94.44.128.13")
MAX_CREDIT: Final = parse_obis("0-0:94.44.2.10")
MAX_BALANCE: Final = parse_obis("0-0:94.44.2.20")

#: Billing Data Log (mostrecentPaymentBasedDebtRepayment), read by ECS20a
REPAYMENT_LOG: Final = parse_obis("0-0:98.1.4.255")
#: Billing Data Log (mostrecentPrepaymentCredits), read by ECS20d
CREDIT_LOG: Final = parse_obis("0-0:98.1.5.255")

PAYMENT_MODE_CREDIT: Final = 1
PAYMENT_MODE_PREPAYMENT: Final = 2

RECENT: Final = 5  #: accepted UTRN counters remembered
MAX_FAILURES: Final = 5  #: invalid entries in a row before the lock-out
LOCKOUT: Final = timedelta(hours=24)
UTRN_RECENT: Final = "utrn/recent"
UTRN_FAILURES: Final = "utrn/failures"
UTRN_LOCKED_UNTIL: Final = "utrn/locked_until"

_COUNTER_BITS: Final = 0x3FF


class UtrnOutcome(enum.IntEnum):
    """The result of a UTRN entry; a rejection's value is its GBCS alert code."""

    ACCEPTED = 0
    NOT_AUTHENTIC = 0x8F63
    DUPLICATE = 0x8F51
    LOCKED_OUT = 0x81C5
    EXCEEDS_MAXIMUM = 0x8F5B


@dataclass(frozen=True, slots=True)
class UtrnResult:
    outcome: UtrnOutcome
    amount: int = 0  #: credit added, 10^-5 currency units
    counter: int = 0
    recovered: int = 0  #: payment-based debt recovered from it



def _int(tx: Tx, class_id: int, obis: bytes, index: int, default: int = 0) -> int:
    value = getattr(stored_value(tx, class_id, obis, index), "value", default)
    return value if isinstance(value, int) else default


def _debt_rate(tx: Tx, obis: bytes) -> tuple[int, str]:
    charge = stored_value(tx, 113, obis, 5)
    amount = 0
    if charge is not None:
        try:
            entries = UnitCharge.from_data(charge).entries
        except ViewMismatchError:
            entries = ()
        amount = max(0, entries[0].charge) if entries else 0
    period = _int(tx, 113, obis, 8, 86_400)
    return amount, "hourly" if period == 3600 else "daily"


def _credit_configuration(tx: Tx) -> tuple[bool, bool]:
    """(suspend debt in emergency, suspend debt while disabled) from the account's
    credit_charge_configuration bits (bit 0 and bit 1, when the value is a bit-string)."""
    value = stored_value(tx, 111, ACCOUNT, 11)
    raw = getattr(value, "value", b"")
    first = raw[0] if isinstance(raw, bytes) and raw else 0
    return bool(first & 0x80), bool(first & 0x40)


def prepayment_from_active(tx: Tx) -> Prepayment:
    """The engine's prepayment settings from the active COSEM values."""
    emergency, disabled = _credit_configuration(tx)
    return Prepayment(
        low_credit_threshold=_int(tx, 9000, LOW_CREDIT, 2),
        emergency_credit_threshold=_int(tx, 9000, EC_THRESHOLD, 2),
        emergency_credit_limit=max(0, _int(tx, 9000, EC_LIMIT, 2)),
        disablement_threshold=_int(tx, 9000, DISABLEMENT, 2),
        debt_rates=(_debt_rate(tx, DEBT_RATES[0]), _debt_rate(tx, DEBT_RATES[1])),
        suspend_debt_emergency=emergency,
        suspend_debt_disabled=disabled,
    )


def compile_active(tx: Tx, settings: Settings | None = None) -> Table:
    """Compile the active tariff and prepayment settings; an unsupported tariff falls back
    to the default tariff with the same prices (logged)."""
    pre = prepayment_from_active(tx)
    try:
        return compile_table(tariff_from_active(tx), pre, settings)
    except ConfigError as exc:
        tx.log("event", f"tariff not compiled ({exc}): default tariff kept")
        try:
            return compile_table(default_tariff(), pre, settings)
        except ConfigError:
            return compile_table(default_tariff(), None, settings)


def payment_mode(tx: Tx) -> int:
    """The active payment mode (1 credit, 2 prepayment) of account_mode_and_status."""
    value = stored_value(tx, 111, ACCOUNT, 2)
    items = getattr(value, "items", ())
    mode = getattr(items[0], "value", PAYMENT_MODE_CREDIT) if items else PAYMENT_MODE_CREDIT
    return mode if mode in (PAYMENT_MODE_CREDIT, PAYMENT_MODE_PREPAYMENT) else PAYMENT_MODE_CREDIT


# ---------------------------------------------------------------------------------- UTRN


def _recent(tx: Tx) -> list[int]:
    raw = tx.get_json(UTRN_RECENT, [])
    return sorted(int(c) for c in raw if isinstance(c, int)) if isinstance(raw, list) else []


def full_counter(bits: int, recent: list[int]) -> int:
    """The smallest counter above the floor of ``recent`` whose bits 41..32 are ``bits``."""
    floor = recent[0] if len(recent) >= RECENT else 0
    high = (floor >> 32) + 1
    high += (bits - high) & _COUNTER_BITS
    return high << 32


def _fail(tx: Tx, outcome: UtrnOutcome) -> UtrnResult:
    failures = tx.get_int(UTRN_FAILURES) + 1
    tx.put_int(UTRN_FAILURES, failures)
    if failures >= MAX_FAILURES:
        tx.put(UTRN_LOCKED_UNTIL, (tx.now + LOCKOUT).isoformat().encode())
        tx.log("security", f"UTRN entry locked out after {failures} invalid entries")
    tx.log("security", f"UTRN rejected: {outcome.name.lower()}", outcome.value)
    return UtrnResult(outcome)


def locked_out(tx: Tx) -> bool:
    raw = tx.get(UTRN_LOCKED_UNTIL)
    return raw is not None and tx.now < datetime.fromisoformat(raw.decode())


def check_utrn(  # noqa: PLR0917 - the UTRN's inputs and the meter's maximum rule
    tx: Tx,
    text: str,
    secret: bytes | None,
    supplier: bytes,
    device: bytes,
    exceeds: Callable[[int], bool] | None = None,
) -> UtrnResult:
    """The UTRN checks every meter applies (see the module's rules); nothing is credited.

    Lock-out, token validity, counter recovery and replay, authenticity with the supplier's
    prepayment key, then ``exceeds(amount)`` -- the meter's own maximum credit rule
    (amount in 10^-5 currency units; ``None``: no maximum). An ACCEPTED result has its
    counter recorded in the recently-used list and the failure count cleared; the caller
    credits ``result.amount`` in the same transaction.

    :param secret: the prepayment ECDH secret of (supplier, device), None when unknown.
    """
    if locked_out(tx):
        tx.log("security", "UTRN rejected: locked out", UtrnOutcome.LOCKED_OUT.value)
        return UtrnResult(UtrnOutcome.LOCKED_OUT)
    try:
        token = decode_utrn(text)
    except DecodeError:
        return _fail(tx, UtrnOutcome.NOT_AUTHENTIC)
    recent = _recent(tx)
    counter = full_counter(token.counter_bits, recent)
    if counter in recent:
        return _fail(tx, UtrnOutcome.DUPLICATE)
    try:
        good = secret is not None and verify_utrn(
            token, prepayment_secret=secret, originator=supplier, target=device, counter=counter
        )
    except (DecodeError, LocalProtocolError, SecurityError):
        good = False
    if not good:
        # A replay of an older token: its counter sits in the list, one period back.
        if any(c >> 32 & _COUNTER_BITS == token.counter_bits for c in recent):
            return _fail(tx, UtrnOutcome.DUPLICATE)
        return _fail(tx, UtrnOutcome.NOT_AUTHENTIC)
    amount = token.value * (100_000 if token.value_class is ValueClass.POUNDS else 1_000)
    if exceeds is not None and exceeds(amount):
        tx.log("event", "UTRN refused: above the maximum credit", UtrnOutcome.EXCEEDS_MAXIMUM)
        return UtrnResult(UtrnOutcome.EXCEEDS_MAXIMUM)
    tx.put_json(UTRN_RECENT, sorted([*recent, counter])[-RECENT:])
    tx.put_int(UTRN_FAILURES, 0)
    return UtrnResult(UtrnOutcome.ACCEPTED, amount, counter)


def _exceeds_maximum(tx: Tx, amount: int) -> bool:
    """The ESME's maximum credit (one top-up) and maximum meter balance, when set."""
    max_credit = _int(tx, 9000, MAX_CREDIT, 2)
    max_balance = _int(tx, 9000, MAX_BALANCE, 2)
    balance = ops.read(state_words(tx)).meter_balance
    return (max_credit > 0 and amount > max_credit) or (
        max_balance > 0 and balance + amount > max_balance
    )


def enter_utrn(
    tx: Tx, text: str, secret: bytes | None, supplier: bytes, device: bytes
) -> UtrnResult:
    """Check a UTRN (:func:`check_utrn`) and, if it is good, credit the ESME with it.

    :param secret: the prepayment ECDH secret of (supplier, device), None when unknown.
    """
    result = check_utrn(
        tx, text, secret, supplier, device, lambda amount: _exceeds_maximum(tx, amount)
    )
    if result.outcome is not UtrnOutcome.ACCEPTED:
        return result
    recovered = top_up(tx, result.amount)
    tx.log("event", f"UTRN accepted: {result.amount} x 10^-5 credit (counter {result.counter:#x})")
    return replace(result, recovered=recovered)


def utrn_secret(tx: Tx, credentials: Credentials) -> tuple[bytes | None, bytes]:
    """(prepayment secret, supplier EUI) a meter authenticates UTRNs with (reference 6.1).

    Z = ECDH(own KA private, the supplier's prepayment KA public key), the key the supplier
    anchor carries (JSON member ``pp``); it is filed in the credentials' key store on first
    use. No supplier anchor: (None, eight zero octets); no prepayment key: (None, supplier).
    """
    anchor = credentials.anchor(Role.SUPPLIER)
    if anchor is None:
        return None, bytes(8)
    supplier = bytes(anchor.eui)
    keystore = credentials.keystore
    if keystore.pp_ka_public(supplier) is None:
        point = prepayment_point(tx.get(ANCHOR_PREFIX + Role.SUPPLIER.slug))
        if point is None:
            return None, supplier
        try:
            keystore.add_public_key(supplier, KeyKind.PP_KA, public_key_from_point(point))
        except SecurityError:
            return None, supplier
    try:
        return keystore.prepayment_secret(supplier, bytes(credentials.eui)), supplier
    except SecurityError:
        return None, supplier


# ------------------------------------------------------------------- credit operations


def top_up(tx: Tx, amount: int) -> int:
    """Credit ``amount`` as a payment (debt recovery per payment, then debts, then balance),
    logged at the instant it is applied in the payment rings (ECS20d, and ECS20a when debt
    was recovered); return the payment-based debt recovered."""
    percent = _int(tx, 113, PAYMENT_DEBT, 13)
    cap = _int(tx, 9000, DEBT_CAP, 2)
    state = state_words(tx)
    logs = bytearray(metering.logs(tx))
    t = max(state[lay.S_T], metering.epoch(tx.now))
    recovered = ops.top_up(
        metering.table_words(tx), state, t, amount, percent_bp=percent,
        weekly_cap=cap if cap > 0 else None, logs=memoryview(logs) if logs else None,
    )
    tx.put(metering.STATE, state.tobytes())
    if logs:
        tx.put(metering.LOGS, bytes(logs))
    return recovered


def adjust_balance(tx: Tx, amount: int) -> None:
    """ECS04a: add ``amount`` (may be negative) to the meter balance."""

    def change(table: array[int], state: array[int]) -> None:
        state[lay.S_BALANCE] += amount * lay.FINE
        ops.rearm(table, state)

    mutate(tx, change)


#: ECS04b set_amount_to_value targets: logical name -> state word
SETTABLE: Final = {METER_BALANCE: lay.S_BALANCE, EMERGENCY_CREDIT: lay.S_EC,
                   ACCUMULATED_DEBT: lay.S_ACC_DEBT}  # fmt: skip


def set_register(tx: Tx, obis: bytes, amount: int) -> None:
    """ECS04b: set a credit register to ``amount``."""
    word = SETTABLE[obis]

    def change(table: array[int], state: array[int]) -> None:
        state[word] = amount * lay.FINE
        ops.rearm(table, state)

    mutate(tx, change)


def add_debt(tx: Tx, register: int, amount: int) -> None:
    """ECS07 update_total_amount_remaining: 0/1 time debts, 2 payment debt (never < 0)."""
    word = lay.S_DEBT + register if register < 2 else lay.S_PAY_DEBT

    def change(table: array[int], state: array[int]) -> None:
        state[word] = max(0, state[word] + amount * lay.FINE)

    mutate(tx, change)


def activate_emergency_credit(tx: Tx) -> bool:
    """ECS09 / the consumer's button: take emergency credit if the balance allows it."""
    result = mutate(tx, ops.activate_emergency_credit)
    return bool(result)


# ------------------------------------------------------------------- payment logs

#: seconds from the Unix epoch to 2000-01-01T00:00:00Z, the epoch of GBCS log instants
_EPOCH_2000: Final = 946_684_800
_U32: Final = 0xFFFF_FFFF
#: one entry_dlValueLogEntry: structure{timestamp, dlValue}, both double-long-unsigned
#: (Use Case volume, ECS20a / ECS20d object lists; GBCS 18.2.1)
_ENTRY: Final = TypeDescription(
    Structure.TAG, 0, (TypeDescription(DoubleLongUnsigned.TAG),) * 2
)


def _buffer(entries: list[ops.PaymentEntry]) -> Data:
    """A payment ring as the profile buffer the volume gives: oldest entry first."""
    rows = tuple(
        Structure((
            DoubleLongUnsigned(min(_U32, max(0, e.t - _EPOCH_2000))),
            DoubleLongUnsigned(min(_U32, max(0, e.amount))),
        ))
        for e in entries
    )
    return CompactArray(_ENTRY, rows)


def credit_log_buffer(ctx: CosemContext) -> Data:
    """ECS20d: Billing Data Log (mostrecentPrepaymentCredits) buffer, attribute 2.

    Each entry: the UTC instant the credit was applied (seconds since 2000) and the amount
    of credit (10^-5 currency units). The read's range_descriptor (selective access 1,
    both bounds inclusive) is applied by the COSEM server to these time stamps.
    """
    tx = ctx.tx
    rows = ops.credit_log(metering.table_words(tx), state_words(tx), metering.logs(tx) or None)
    return _buffer(rows)


def repayment_log_buffer(ctx: CosemContext) -> Data:
    """ECS20a: Billing Data Log (mostrecentPaymentBasedDebtRepayment) buffer, attribute 2.

    Each entry: the UTC instant of the recovery (seconds since 2000) and the amount of debt
    recovered as part of the credit added (10^-5 currency units).
    """
    tx = ctx.tx
    rows = ops.repayment_log(metering.table_words(tx), state_words(tx), metering.logs(tx) or None)
    return _buffer(rows)


#: The payment logs as COSEM objects, for the ESME's object table (Profile Generic, IC 7).
LOG_OBJECTS: Final = {
    (7, REPAYMENT_LOG): CosemObject(get={2: repayment_log_buffer}),
    (7, CREDIT_LOG): CosemObject(get={2: credit_log_buffer}),
}


__all__ = [
    "CREDIT_LOG",
    "LOG_OBJECTS",
    "MAX_FAILURES",
    "RECENT",
    "REPAYMENT_LOG",
    "UtrnOutcome",
    "UtrnResult",
    "activate_emergency_credit",
    "add_debt",
    "adjust_balance",
    "check_utrn",
    "compile_active",
    "credit_log_buffer",
    "enter_utrn",
    "full_counter",
    "locked_out",
    "payment_mode",
    "prepayment_from_active",
    "repayment_log_buffer",
    "set_register",
    "top_up",
    "utrn_secret",
]
