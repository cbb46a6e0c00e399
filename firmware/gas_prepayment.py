"""The gas meter's prepayment commands: payment mode, credit settings, debts, credit, top-ups.

Layer: firmware. Use Case volume GCS02 / GCS03 (Change Payment Mode), GCS04 (Change Debt),
GCS05 (Emergency Credit Setup, Set Overall Debt Cap, Set Low Credit Warning Level, Set
Maximum Credit Limit), GCS06 / PCS02 (Select Available Emergency Credit), GCS40a-d (Credit
Adjustment), CS01b / PCS01 (Consumer Top Up with a UTRN); ZCL Prepayment cluster 0x0705.

Theory of operation
-------------------
Configuration lives in the Prepayment cluster's attributes (``gsme/attr/0705/<id>``, the
values a Read Attributes such as GCS21b / GCS21j answers) -- every money value in 10^-5
currency units, as the ZCL commands carry it:

* 0x0000 Payment Control Configuration (BITMAP16; bit 1 = prepayment mode; bits 10 / 11
  the GBCS 18.2.1 debt suspension flags), also mirrored as ``gsme/payment_mode`` (0 / 1);
* 0x0006 Overall Debt Cap, 0x0010 / 0x0011 Emergency Credit Limit / Threshold, 0x0021 /
  0x0022 Maximum Credit Limit / Maximum Credit Per Top Up, 0x0031 Low Credit Warning
  Level, 0x0040 Cut Off Value (the disablement threshold);
* the debt attribute sets 0x0210 / 0x0220 / 0x0230 (debt 1 / 2 / 3): amount (+1), recovery
  method (+2), start time (+3), collection time (+4), frequency (+6), amount (+7) and top-up
  percentage (+9).

Each change bumps ``gsme/tariff_generation`` (the engine recompiles its tables when it
moves, see :mod:`smemu.firmware.gas_tariff`).

An instruction with an activation time in the future (Change Payment Mode, Emergency Credit
Setup, the GCS05 commands) is kept as the *next* value (:mod:`smemu.firmware.gas_tariff`
``store_next`` / ``activate_due``), as SMETS' valueNext / activateNextDateTime pairs are;
the cancel time (0xFFFFFFFF / 0xFFFFFFFE) removes a pending one.

Credit reaches the meter balance through :func:`smemu.firmware.gas_metering.credit` (the
engine's registers, h36). UTRN entry applies the same replay, lock-out and authenticity rules
as the electricity meter: the checks are :mod:`smemu.firmware.prepayment`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from smemu.firmware import gas_metering, gas_valve, prepayment
from smemu.firmware.common.credentials import Credentials
from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_tariff import (
    APPLIERS,
    FRIENDLY_CREDIT,
    apply_or_schedule,
    bump_generation,
    has_calendar,
    read_int,
    write_int,
)
from smemu.firmware.gas_zcl import ZclRefusedError, ZclReply, decode_request
from smemu.firmware.registers.tables import Prepayment
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.prepayment import (
    ChangeDebt,
    ChangePaymentMode,
    ChangePaymentModeResponse,
    ConsumerTopUp,
    ConsumerTopUpResponse,
    CreditAdjustment,
    EmergencyCreditSetup,
    OriginatingDevice,
    SelectAvailableEmergencyCredit,
    SetLowCreditWarningLevel,
    SetMaximumCreditLimit,
    SetOverallDebtCap,
    TopUpResult,
)
from smemu.protocols.zigbee.zcl import ZclStatus

PREPAYMENT: Final = 0x0705
METERING: Final = 0x0702

# Prepayment cluster attributes (ZCL types: bitmap16 0x19, int32 0x2B, uint16 0x21,
# uint32 0x23, enum8 0x30, uint8 0x20, UTCTime 0xE2).
PAYMENT_CONTROL: Final = 0x0000
OVERALL_DEBT_CAP: Final = 0x0006
EC_LIMIT: Final = 0x0010
EC_THRESHOLD: Final = 0x0011
MAX_CREDIT_LIMIT: Final = 0x0021
MAX_CREDIT_PER_TOP_UP: Final = 0x0022
LOW_CREDIT_WARNING: Final = 0x0031
CUT_OFF_VALUE: Final = 0x0040
#: Debt n attribute set base: 0x0210 + 0x10 * (n - 1).
DEBT_SETS: Final = (0x0210, 0x0220, 0x0230)
#: Metering cluster BillToDateDelivered (the credit-mode meter balance, GCS40c / GCS40d).
BILL_TO_DATE: Final = 0x0A00

T_BITMAP16: Final = 0x19
T_UINT8: Final = 0x20
T_UINT16: Final = 0x21
T_UINT32: Final = 0x23
T_INT32: Final = 0x2B
T_ENUM8: Final = 0x30
T_UTC: Final = 0xE2

#: NVM: 0 credit, 1 prepayment (the payment control configuration's bit 1).
PAYMENT_MODE: Final = "gsme/payment_mode"

PREPAYMENT_BIT: Final = 0x0002
SUSPEND_DEBT_DISABLED: Final = 0x0400
SUSPEND_DEBT_EMERGENCY_OFF: Final = 0x0800
#: The five Proposed Payment Control Configuration values GCS02 / GCS03 may carry.
CREDIT_CONFIGURATIONS: Final = frozenset({0b0000110010010100})
#: Payment Control Configuration of a meter none was ever set on: the credit-mode value
#: (0x0C94; what a Read Attributes answers then, and what the engine settings assume)
DEFAULT_PAYMENT_CONTROL: Final = 0b0000110010010100
PREPAYMENT_CONFIGURATIONS: Final = frozenset(
    {0b0000010010010111, 0b0000000010010111, 0b0000110010010111, 0b0000100010010111}
)
#: Change Payment Mode Response: the friendly credit calendar is the non-disablement one.
NON_DISABLEMENT_CALENDAR_ID: Final = 2
#: Cut Off Value meaning "leave the disablement threshold unchanged".
KEEP_CUT_OFF: Final = -1
#: Debt Recovery Frequency values GCS04 accepts (hourly, daily, unused).
DEBT_FREQUENCIES: Final = frozenset({0x00, 0x01, 0xFF})
#: Credit Adjustment Type (GBZ interpretation, GCS40a-d).
ADJUST_PREPAYMENT: Final = 0
RESET_PREPAYMENT: Final = 1
RESET_CREDIT_MODE: Final = 2
ADJUST_CREDIT_MODE: Final = 3
#: Money in ZCL: 10^-5 currency units; a penny is 1000 of them.
UNITS_PER_PENNY: Final = 1000



def attribute(tx: Tx, attribute_id: int, default: int = 0) -> int:
    """A Prepayment cluster attribute's integer value."""
    return read_int(tx, PREPAYMENT, attribute_id, default)


def _set(tx: Tx, attribute_id: int, type_code: int, value: int) -> None:
    write_int(tx, PREPAYMENT, attribute_id, type_code, value)


def engine_settings(tx: Tx) -> Prepayment:
    """The register engine's prepayment settings from the Prepayment cluster attributes.

    Payment control bit 10 is "suspend debt while disabled"; bit 11 clear means "suspend
    debt during emergency credit" (the GBCS 18.2.1 reading of the GCS03 values). Debts 1 and
    2 are the time-based debts, recovered hourly (frequency 0) or daily. Nothing stored
    reads as :data:`DEFAULT_PAYMENT_CONTROL` (credit mode), as a Read Attributes answers it.
    """
    control = attribute(tx, PAYMENT_CONTROL, DEFAULT_PAYMENT_CONTROL)
    rates = tuple(
        (d.recovery_amount, "hourly" if d.frequency == 0 else "daily")
        for d in (debt(tx, 1), debt(tx, 2))
    )
    return Prepayment(
        low_credit_threshold=attribute(tx, LOW_CREDIT_WARNING),
        emergency_credit_threshold=attribute(tx, EC_THRESHOLD),
        emergency_credit_limit=attribute(tx, EC_LIMIT),
        disablement_threshold=attribute(tx, CUT_OFF_VALUE),
        debt_rates=(rates[0], rates[1]),
        suspend_debt_emergency=not control & SUSPEND_DEBT_EMERGENCY_OFF,
        suspend_debt_disabled=bool(control & SUSPEND_DEBT_DISABLED),
    )


def _changed(tx: Tx) -> None:
    """Configuration changed: recompile the engine's table from the attributes."""
    bump_generation(tx)
    gas_metering.set_prepayment(tx, engine_settings(tx))


# ------------------------------------------------------------------ GCS02 / GCS03


def _apply_payment_mode(tx: Tx, payload: bytes) -> None:
    request = ChangePaymentMode.decode_exact(payload)
    proposed = request.proposed_payment_control_configuration
    _set(tx, PAYMENT_CONTROL, T_BITMAP16, proposed)
    tx.put_int(PAYMENT_MODE, 1 if proposed & PREPAYMENT_BIT else 0)
    if request.cut_off_value != KEEP_CUT_OFF:
        _set(tx, CUT_OFF_VALUE, T_INT32, request.cut_off_value)
    _changed(tx)
    gas_metering.set_payment_mode(tx, prepay=bool(proposed & PREPAYMENT_BIT))
    tx.log("event", f"payment mode {'prepayment' if proposed & PREPAYMENT_BIT else 'credit'}")


def change_payment_mode(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
    """GCS02 / GCS03 (0x06): set the payment mode now, at a future time, or cancel that.

    Only the five configurations the Use Case volume lists are accepted (INVALID_FIELD
    otherwise). The response reports the meter's friendly credit: whether a non-disablement
    calendar is held, that calendar's id (always 2) and the emergency credit settings.
    """
    request = decode_request(ChangePaymentMode, comp)
    proposed = request.proposed_payment_control_configuration
    if proposed not in CREDIT_CONFIGURATIONS | PREPAYMENT_CONFIGURATIONS:
        raise ZclRefusedError(ZclStatus.INVALID_FIELD, f"payment control 0x{proposed:04X}")
    apply_or_schedule(
        tx, "payment_mode", request.implementation_date_time, comp.payload, _apply_payment_mode
    )
    return ZclReply(ChangePaymentModeResponse.COMMAND_ID, payment_mode_response(tx).encode())


def payment_mode_response(tx: Tx) -> ChangePaymentModeResponse:
    """The Change Payment Mode Response: the meter's friendly credit and emergency credit."""
    return ChangePaymentModeResponse(
        1 if has_calendar(tx, FRIENDLY_CREDIT) else 0,
        NON_DISABLEMENT_CALENDAR_ID,
        attribute(tx, EC_LIMIT),
        attribute(tx, EC_THRESHOLD),
    )


# --------------------------------------------------------------------------- GCS05


def _apply_ec_setup(tx: Tx, payload: bytes) -> None:
    request = EmergencyCreditSetup.decode_exact(payload)
    _set(tx, EC_LIMIT, T_UINT32, request.emergency_credit_limit)
    _set(tx, EC_THRESHOLD, T_UINT32, request.emergency_credit_threshold)
    _changed(tx)


def emergency_credit_setup(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS05 (0x03): the emergency credit limit and threshold (now or at the start time)."""
    request = decode_request(EmergencyCreditSetup, comp)
    apply_or_schedule(tx, "ec_setup", request.start_time, comp.payload, _apply_ec_setup)


def _apply_debt_cap(tx: Tx, payload: bytes) -> None:
    request = SetOverallDebtCap.decode_exact(payload)
    _set(tx, OVERALL_DEBT_CAP, T_INT32, request.overall_debt_cap)
    _changed(tx)


def set_overall_debt_cap(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS05 (0x0C): the most that debt recovery may take from top-ups."""
    request = decode_request(SetOverallDebtCap, comp)
    apply_or_schedule(
        tx, "debt_cap", request.implementation_date_time, comp.payload, _apply_debt_cap
    )


def _apply_low_credit(tx: Tx, payload: bytes) -> None:
    request = SetLowCreditWarningLevel.decode_exact(payload)
    _set(tx, LOW_CREDIT_WARNING, T_UINT32, request.low_credit_warning_level)
    _changed(tx)


def set_low_credit_warning_level(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS05 (0x09): the low credit alert level; activation time in the From Date Time."""
    decode_request(SetLowCreditWarningLevel, comp)
    at = comp.from_date_time or 0
    apply_or_schedule(tx, "low_credit", at, comp.payload, _apply_low_credit)


def _apply_max_credit(tx: Tx, payload: bytes) -> None:
    request = SetMaximumCreditLimit.decode_exact(payload)
    _set(tx, MAX_CREDIT_LIMIT, T_UINT32, request.maximum_credit_level)
    _set(tx, MAX_CREDIT_PER_TOP_UP, T_UINT32, request.maximum_credit_per_top_up)


def set_maximum_credit_limit(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS05 (0x0B): the maximum meter balance and the largest single top-up."""
    request = decode_request(SetMaximumCreditLimit, comp)
    apply_or_schedule(
        tx, "max_credit", request.implementation_date_time, comp.payload, _apply_max_credit
    )


# --------------------------------------------------------------------------- GCS04


@dataclass(frozen=True, slots=True)
class Debt:
    """One of the three debt registers' configuration (amounts in 10^-5 units)."""

    amount: int
    recovery_method: int
    start_time: int
    collection_time: int
    frequency: int
    recovery_amount: int
    top_up_percentage: int  #: 0.01 % steps


def debt(tx: Tx, index: int) -> Debt:
    """Debt ``index`` (1..3) as configured by GCS04 and reduced by recovery."""
    base = DEBT_SETS[index - 1]
    return Debt(
        attribute(tx, base + 1),
        attribute(tx, base + 2),
        attribute(tx, base + 3),
        attribute(tx, base + 4),
        attribute(tx, base + 6),
        attribute(tx, base + 7),
        attribute(tx, base + 9),
    )


def change_debt(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS04 (0x02): set or add to one debt and its recovery plan.

    Debt Amount Type picks the debt (0/1 debt 1, 2/3 debt 2, 4/5 debt 3; even absolute,
    odd incremental); both its attributes and the register engine's debt register the meter
    recovers from (debts 1 / 2 time-based, debt 3 payment-based, collected from top-ups and
    logged for GCS15d) are set or added to. A recovery frequency other than hourly, daily or
    0xFF is refused with INVALID_FIELD (0x85, the status the volume names).
    """
    request = decode_request(ChangeDebt, comp)
    if request.debt_recovery_frequency not in DEBT_FREQUENCIES:
        raise ZclRefusedError(
            ZclStatus.INVALID_FIELD, f"debt frequency {request.debt_recovery_frequency}"
        )
    kind = int(request.debt_amount_type)
    if kind > 5:
        raise ZclRefusedError(ZclStatus.INVALID_FIELD, f"debt amount type {kind}")
    base = DEBT_SETS[kind // 2]
    amount = request.debt_amount + (attribute(tx, base + 1) if kind % 2 else 0)
    _set(tx, base + 1, T_UINT32, max(0, min(amount, 0xFFFFFFFF)))
    _set(tx, base + 2, T_ENUM8, request.debt_recovery_method)
    _set(tx, base + 3, T_UTC, request.debt_recovery_start_time)
    _set(tx, base + 4, T_UINT16, request.debt_recovery_collection_time)
    _set(tx, base + 6, T_ENUM8, request.debt_recovery_frequency)
    _set(tx, base + 7, T_UINT32, request.debt_recovery_amount)
    _set(tx, base + 9, T_UINT16, request.debt_recovery_balance_percentage)
    _changed(tx)
    held = gas_metering.registers(tx)
    debts = [*held.time_debts, held.payment_debt]
    debts[kind // 2] = request.debt_amount + (debts[kind // 2] if kind % 2 else 0)
    gas_metering.set_debts(tx, time_debts=(debts[0], debts[1]), payment_debt=debts[2])
    tx.log("event", f"debt {kind // 2 + 1} set to {amount} x 10^-5")


# ---------------------------------------------------------------- GCS40a-d


def credit_adjustment(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS40a-d (0x05): adjust or reset the prepayment / credit-mode meter balance.

    Type 0 adds to the meter balance, 1 resets the meter balance, emergency credit and
    accumulated debt to zero (GCS40b), 2 resets and 3 adjusts the credit-mode balance
    (Metering BillToDateDelivered; a GBZ-specific reading of the command).
    """
    request = decode_request(CreditAdjustment, comp)
    value = request.credit_adjustment_value
    kind = request.credit_adjustment_type
    if kind == ADJUST_PREPAYMENT:
        gas_metering.credit(tx, value, gas_metering.CreditKind.ADJUSTMENT)
    elif kind == RESET_PREPAYMENT:
        if value != 0:
            raise ZclRefusedError(ZclStatus.INVALID_VALUE, "a reset sets zero")
        gas_metering.reset_credit(tx)
    elif kind in (RESET_CREDIT_MODE, ADJUST_CREDIT_MODE):
        if kind == RESET_CREDIT_MODE and value != 0:
            raise ZclRefusedError(ZclStatus.INVALID_VALUE, "a reset sets zero")
        current = read_int(tx, METERING, BILL_TO_DATE)
        total = value if kind == RESET_CREDIT_MODE else current + value
        write_int(tx, METERING, BILL_TO_DATE, T_UINT32, max(0, min(total, 0xFFFFFFFF)))
    else:
        raise ZclRefusedError(ZclStatus.INVALID_FIELD, f"credit adjustment type {kind}")
    tx.log("event", f"credit adjustment type {kind}: {value} x 10^-5")


# ------------------------------------------------------------------- GCS06 / PCS02


def emergency_credit_available(tx: Tx) -> bool:
    """Emergency credit may be taken: prepayment mode, a limit set, not already in use, and
    the meter balance at or below the emergency credit threshold."""
    now = gas_metering.registers(tx)
    if not now.prepayment or now.emergency_credit_active:
        return False
    limit = attribute(tx, EC_LIMIT)
    threshold = attribute(tx, EC_THRESHOLD)
    return limit > 0 and now.balance <= threshold


def select_emergency_credit(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS06 (remote) / PCS02 (the PPMID's button, over the HAN): take emergency credit.

    In credit mode it succeeds with no effect (as ECS09 on the electricity meter); in
    prepayment mode it is refused with FAILURE when it is not available (see
    :func:`emergency_credit_available`) or the engine does not activate it.
    """
    request = decode_request(SelectAvailableEmergencyCredit, comp)
    if not gas_metering.registers(tx).prepayment:
        # as the electricity meter: in credit mode the request succeeds with no effect
        tx.log("event", "emergency credit selected in credit mode: no effect")
        return
    if not emergency_credit_available(tx):
        raise ZclRefusedError(ZclStatus.FAILURE, "emergency credit not available")
    if not gas_metering.activate_emergency_credit(tx):
        # the engine refused it (SMETS: only while it can be activated): not processed
        raise ZclRefusedError(ZclStatus.FAILURE, "emergency credit not activated")
    origin = OriginatingDevice(request.originating_device).name.lower()
    tx.log("event", f"emergency credit activated ({origin})")


# ------------------------------------------------------------------- CS01b / PCS01

#: UTRN rejection -> Consumer Top Up Response result.
_TOP_UP_RESULTS: Final = {
    prepayment.UtrnOutcome.ACCEPTED: TopUpResult.ACCEPTED,
    prepayment.UtrnOutcome.NOT_AUTHENTIC: TopUpResult.REJECTED_INVALID_TOP_UP,
    prepayment.UtrnOutcome.DUPLICATE: TopUpResult.REJECTED_DUPLICATE_TOP_UP,
    prepayment.UtrnOutcome.LOCKED_OUT: TopUpResult.REJECTED_KEYPAD_LOCK,
    prepayment.UtrnOutcome.EXCEEDS_MAXIMUM: TopUpResult.REJECTED_MAX_CREDIT_REACHED,
}


@dataclass(frozen=True, slots=True)
class UtrnKeys:
    """What UTRN authentication needs: the (supplier, meter) prepayment ECDH secret."""

    secret: bytes | None  #: None when the supplier's prepayment key is unknown
    supplier: bytes  #: the supplier's EUI-64
    device: bytes  #: this meter's EUI-64


def check_utrn(tx: Tx, text: str, keys: UtrnKeys) -> prepayment.UtrnResult:
    """The meters' shared UTRN checks (:func:`smemu.firmware.prepayment.check_utrn`: lock-out,
    counter recovery, replay, authenticity) with the GSME's maximum credit rule: Maximum
    Credit Per Top Up (0x0022) and Maximum Credit Limit (0x0021, the most the meter balance
    may reach), each when set. Nothing is credited here (:func:`enter_utrn` does that).
    """

    def exceeds(amount: int) -> bool:
        per_top_up = attribute(tx, MAX_CREDIT_PER_TOP_UP)
        max_balance = attribute(tx, MAX_CREDIT_LIMIT)
        balance = gas_metering.registers(tx).balance
        return (per_top_up > 0 and amount > per_top_up) or (
            max_balance > 0 and balance + amount > max_balance
        )

    return prepayment.check_utrn(tx, text, keys.secret, keys.supplier, keys.device, exceeds)


def enter_utrn(tx: Tx, text: str, keys: UtrnKeys) -> prepayment.UtrnResult:
    """Check a UTRN and credit the meter balance with it when it is good."""
    result = check_utrn(tx, text, keys)
    if result.outcome is prepayment.UtrnOutcome.ACCEPTED:
        gas_metering.credit(tx, result.amount, gas_metering.CreditKind.TOP_UP)
        tx.log("event", f"UTRN accepted: {result.amount} x 10^-5 (counter {result.counter:#x})")
    return result


def consumer_top_up_handler(
    keys_of: Callable[[Tx], UtrnKeys],
) -> Callable[[Tx, gbz.GbzComponent], ZclReply]:
    """The CS01b / PCS01 (0x04) handler of a meter whose UTRN keys ``keys_of`` gives.

    An accepted top-up that arms a valve closed for lack of credit answers 0x12 "Accepted -
    Supply Armed" (the volume's Result Type list for CS01b / PCS01): the consumer must now
    open the valve at the meter. Otherwise the UTRN outcome's result.
    """

    def consumer_top_up(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
        request = decode_request(ConsumerTopUp, comp)
        text = request.top_up_code.decode("ascii", errors="replace")
        before = gas_valve.state(tx)
        result = enter_utrn(tx, text, keys_of(tx))
        outcome = _TOP_UP_RESULTS[result.outcome]
        armed = gas_valve.state(tx) is gas_valve.Valve.ARMED
        if outcome is TopUpResult.ACCEPTED and armed and before is not gas_valve.Valve.ARMED:
            outcome = TopUpResult.ACCEPTED_SUPPLY_ARMED
        balance = gas_metering.registers(tx).balance
        reply = ConsumerTopUpResponse(
            outcome,
            result.amount,
            request.originating_device,
            max(-(2**31), min(balance, 2**31 - 1)),
        )
        return ZclReply(ConsumerTopUpResponse.COMMAND_ID, reply.encode(), False)

    return consumer_top_up


APPLIERS.update(
    {
        "payment_mode": _apply_payment_mode,
        "ec_setup": _apply_ec_setup,
        "debt_cap": _apply_debt_cap,
        "low_credit": _apply_low_credit,
        "max_credit": _apply_max_credit,
    }
)


def no_keys(tx: Tx) -> UtrnKeys:
    """UTRN keys of a meter that has none (every UTRN is then not authentic)."""
    return UtrnKeys(None, bytes(8), bytes(8))


def utrn_keys(tx: Tx, credentials: Credentials) -> UtrnKeys:
    """The meter's UTRN keys from its credentials: the supplier anchor's prepayment key
    with the meter's own key agreement key (:func:`smemu.firmware.prepayment.utrn_secret`)."""
    secret, supplier = prepayment.utrn_secret(tx, credentials)
    return UtrnKeys(secret, supplier, bytes(credentials.eui))


__all__ = [
    "Debt",
    "UtrnKeys",
    "change_debt",
    "change_payment_mode",
    "check_utrn",
    "consumer_top_up_handler",
    "credit_adjustment",
    "debt",
    "emergency_credit_available",
    "emergency_credit_setup",
    "enter_utrn",
    "no_keys",
    "payment_mode_response",
    "select_emergency_credit",
    "set_low_credit_warning_level",
    "set_maximum_credit_limit",
    "set_overall_debt_cap",
    "utrn_keys",
]
