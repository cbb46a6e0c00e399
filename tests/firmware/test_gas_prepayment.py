"""Gas meter prepayment commands (gas_prepayment): GCS02-06, GCS40a-d, CS01b / PCS01 / PCS02."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.firmware import gas_metering, gas_prepayment, prepayment
from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_handlers import HANDLERS, STORE
from smemu.firmware.gas_tariff import activate_due, pending
from smemu.firmware.gas_zcl import ZclRefusedError
from smemu.protocols.utrn import encode_utrn
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.prepayment import (
    ChangeDebt,
    ChangePaymentMode,
    ChangePaymentModeResponse,
    ConsumerTopUp,
    ConsumerTopUpResponse,
    CreditAdjustment,
    EmergencyCreditSetup,
    SelectAvailableEmergencyCredit,
    TopUpResult,
)
from smemu.protocols.zigbee.zcl import ZclStatus

from ._support import T0

PREPAY = 0b0000010010010111
CREDIT = 0b0000110010010100
SUPPLIER = bytes.fromhex("90B3D51F30010000")
METER = bytes.fromhex("00DB1234567890A1")
SECRET = bytes(range(32))


def _tx() -> Tx:
    return Tx(T0, {})


def _comp(command: object, *, fc: int = 0x01) -> gbz.GbzComponent:
    cid = type(command).COMMAND_ID  # type: ignore[attr-defined]
    return gbz.GbzComponent(gbz.CONTROL_LAST, 0x0705, fc, 0, cid, command.encode())  # type: ignore[attr-defined]


def _mode(configuration: int, at: int = 0, cut_off: int = -1) -> gbz.GbzComponent:
    return _comp(ChangePaymentMode(0, 1, at, configuration, cut_off))


def _seconds(delta: timedelta) -> int:
    from smemu.protocols.zigbee._fields import EPOCH_2000

    return int((T0 + delta - EPOCH_2000).total_seconds())


def test_change_payment_mode_reports_emergency_credit_and_friendly_calendar() -> None:
    tx = _tx()
    HANDLERS[(0x0705, 0x03)](tx, _comp(EmergencyCreditSetup(1, 0, 1_000_000, 200_000)))
    reply = HANDLERS[(0x0705, 0x06)](tx, _mode(PREPAY, cut_off=-500))
    assert reply is not None and reply.command_id == 0x02
    decoded = ChangePaymentModeResponse.decode_exact(reply.payload)
    assert decoded == ChangePaymentModeResponse(0, 2, 1_000_000, 200_000)
    assert STORE.read(tx, 0x0705, 0x0000) == b"\x19" + PREPAY.to_bytes(2, "little")
    assert gas_prepayment.attribute(tx, gas_prepayment.CUT_OFF_VALUE) == -500
    assert gas_metering.registers(tx).prepayment
    HANDLERS[(0x0705, 0x06)](tx, _mode(CREDIT))
    assert not gas_metering.registers(tx).prepayment
    assert gas_prepayment.attribute(tx, gas_prepayment.CUT_OFF_VALUE) == -500  # kept


def test_engine_settings_follow_the_debt_suspension_bits() -> None:
    tx = _tx()
    for value, emergency, disabled in (
        (0b0000010010010111, True, True),
        (0b0000000010010111, True, False),
        (0b0000110010010111, False, True),
        (0b0000100010010111, False, False),
    ):
        HANDLERS[(0x0705, 0x06)](tx, _mode(value))
        settings = gas_prepayment.engine_settings(tx)
        assert (settings.suspend_debt_emergency, settings.suspend_debt_disabled) == (
            emergency,
            disabled,
        )


def test_unlisted_payment_control_is_refused() -> None:
    with pytest.raises(ZclRefusedError) as info:
        gas_prepayment.change_payment_mode(_tx(), _mode(0x0003))
    assert info.value.status is ZclStatus.INVALID_FIELD


def test_future_dated_payment_mode_waits_then_activates_and_cancels() -> None:
    tx = _tx()
    at = _seconds(timedelta(days=1))
    gas_prepayment.change_payment_mode(tx, _mode(PREPAY, at))
    assert pending(tx) == {"payment_mode": at}
    assert not gas_metering.registers(tx).prepayment
    assert activate_due(tx) == []
    later = Tx(T0 + timedelta(days=1), dict(tx.writes))  # type: ignore[arg-type]
    assert activate_due(later) == ["payment_mode"]
    assert later.get_int(gas_prepayment.PAYMENT_MODE) == 1 and pending(later) == {}
    # cancel
    gas_prepayment.change_payment_mode(tx, _mode(CREDIT, 0xFFFFFFFF))
    assert pending(tx) == {}
    reply = gas_prepayment.change_payment_mode(tx, _mode(CREDIT, 0xFFFFFFFF))  # none pending
    assert reply.command_id == 0x02 and pending(tx) == {}


def test_change_debt_sets_and_adds_and_checks_frequency() -> None:
    tx = _tx()
    gas_prepayment.change_debt(tx, _comp(ChangeDebt(1, b"", 1000, 0, 1, 0, 0, 1, 50, 0)))
    gas_prepayment.change_debt(tx, _comp(ChangeDebt(1, b"", 500, 0, 1, 0, 0, 1, 50, 0)))
    assert gas_prepayment.debt(tx, 1).amount == 1500
    gas_prepayment.change_debt(tx, _comp(ChangeDebt(1, b"", 7, 1, 4, 0, 0, 1, 0, 100)))
    assert gas_prepayment.debt(tx, 3).amount == 7
    assert gas_prepayment.debt(tx, 3).top_up_percentage == 100
    assert gas_prepayment.engine_settings(tx).debt_rates[0] == (50, "daily")
    with pytest.raises(ZclRefusedError) as info:
        gas_prepayment.change_debt(tx, _comp(ChangeDebt(1, b"", 1, 0, 1, 0, 0, 2, 0, 0)))
    assert info.value.status is ZclStatus.INVALID_FIELD


def test_credit_adjustment_adds_and_resets() -> None:
    tx = _tx()
    gas_prepayment.credit_adjustment(tx, _comp(CreditAdjustment(1, 0, 0, 2_313_000)))
    assert gas_metering.registers(tx).balance_pence == 2313
    gas_prepayment.credit_adjustment(tx, _comp(CreditAdjustment(1, 0, 1, 0)))
    assert gas_metering.registers(tx).balance_pence == 0
    gas_prepayment.credit_adjustment(tx, _comp(CreditAdjustment(1, 0, 3, 5_000)))
    gas_prepayment.credit_adjustment(tx, _comp(CreditAdjustment(1, 0, 3, 5_000)))
    assert gas_prepayment.read_int(tx, 0x0702, gas_prepayment.BILL_TO_DATE) == 10_000
    gas_prepayment.credit_adjustment(tx, _comp(CreditAdjustment(1, 0, 2, 0)))
    assert gas_prepayment.read_int(tx, 0x0702, gas_prepayment.BILL_TO_DATE) == 0
    with pytest.raises(ZclRefusedError):
        gas_prepayment.credit_adjustment(tx, _comp(CreditAdjustment(1, 0, 1, 5)))
    with pytest.raises(ZclRefusedError):
        gas_prepayment.credit_adjustment(tx, _comp(CreditAdjustment(1, 0, 9, 0)))


def test_emergency_credit_only_in_prepayment_below_threshold() -> None:
    tx = _tx()
    select = _comp(SelectAvailableEmergencyCredit(0, 2))
    HANDLERS[(0x0705, 0x03)](tx, _comp(EmergencyCreditSetup(1, 0, 1_000_000, 200_000)))
    gas_prepayment.select_emergency_credit(tx, select)  # credit mode: no effect
    assert not gas_metering.registers(tx).emergency_credit_active
    gas_prepayment.change_payment_mode(tx, _mode(PREPAY))
    gas_prepayment.credit_adjustment(tx, _comp(CreditAdjustment(1, 0, 0, 500_000)))
    with pytest.raises(ZclRefusedError):  # balance above the threshold
        gas_prepayment.select_emergency_credit(tx, select)
    gas_prepayment.credit_adjustment(tx, _comp(CreditAdjustment(1, 0, 0, -400_000)))
    gas_prepayment.select_emergency_credit(tx, select)
    assert gas_metering.registers(tx).emergency_credit_active
    with pytest.raises(ZclRefusedError):  # already in use
        gas_prepayment.select_emergency_credit(tx, select)


def _utrn(secret: bytes, value: int) -> str:
    return encode_utrn(
        prepayment_secret=secret, originator=SUPPLIER, target=METER, counter=1 << 32, value=value
    )


def _keys(tx: Tx) -> gas_prepayment.UtrnKeys:
    return gas_prepayment.UtrnKeys(SECRET, SUPPLIER, METER)


def _top_up(tx: Tx, utrn: str) -> ConsumerTopUpResponse:
    handler = gas_prepayment.consumer_top_up_handler(_keys)
    reply = handler(tx, _comp(ConsumerTopUp(2, utrn.encode())))
    return ConsumerTopUpResponse.decode_exact(reply.payload)


def test_utrn_top_up_credits_once_and_refuses_a_replay() -> None:
    tx = _tx()
    utrn = _utrn(SECRET, 2025)
    first = _top_up(tx, utrn)
    assert (first.result_type, first.top_up_value) == (TopUpResult.ACCEPTED, 2_025_000)
    assert first.credit_remaining == 2_025_000
    again = _top_up(tx, utrn)
    assert again.result_type == TopUpResult.REJECTED_DUPLICATE_TOP_UP
    assert gas_metering.registers(tx).balance_pence == 2025


def test_utrn_lock_out_after_repeated_failures() -> None:
    tx = _tx()
    forged = _utrn(bytes(32), 10)
    results = [_top_up(tx, forged).result_type for _ in range(prepayment.MAX_FAILURES + 1)]
    assert results[0] == TopUpResult.REJECTED_INVALID_TOP_UP
    assert results[-1] == TopUpResult.REJECTED_KEYPAD_LOCK
    good = _utrn(SECRET, 10)
    assert _top_up(tx, good).result_type == TopUpResult.REJECTED_KEYPAD_LOCK


def test_utrn_above_maximum_per_top_up_is_refused() -> None:
    tx = _tx()
    from smemu.protocols.zigbee.prepayment import SetMaximumCreditLimit

    gas_prepayment.set_maximum_credit_limit(
        tx, _comp(SetMaximumCreditLimit(0, 1, 0, 10_000_000, 1_000_000))
    )
    big = _utrn(SECRET, 2000)
    assert _top_up(tx, big).result_type == TopUpResult.REJECTED_MAX_CREDIT_REACHED
    assert gas_metering.registers(tx).balance_pence == 0


@given(st.binary(max_size=40))
def test_random_prepayment_payloads_refuse_with_a_status(payload: bytes) -> None:
    for command_id in (0x00, 0x02, 0x03, 0x05, 0x06, 0x09, 0x0B, 0x0C):
        comp = gbz.GbzComponent(gbz.CONTROL_LAST, 0x0705, 0x01, 0, command_id, payload)
        try:
            HANDLERS[(0x0705, command_id)](_tx(), comp)
        except ZclRefusedError as exc:
            assert exc.status in set(ZclStatus)


def test_emergency_credit_the_engine_refuses_is_answered_failure() -> None:
    """A deficit that would take the whole limit leaves no emergency credit to use: the
    engine refuses, GCS06 / PCS02 answer FAILURE and nothing changes (gas_metering:
    activate_emergency_credit's result is not ignored)."""
    tx = _tx()
    select = _comp(SelectAvailableEmergencyCredit(0, 2))
    HANDLERS[(0x0705, 0x03)](tx, _comp(EmergencyCreditSetup(1, 0, 1_000_000, 200_000)))
    gas_prepayment.change_payment_mode(tx, _mode(PREPAY))
    gas_prepayment.credit_adjustment(tx, _comp(CreditAdjustment(1, 0, 0, -1_200_000)))
    assert gas_prepayment.emergency_credit_available(tx)  # by the threshold it would be
    before = gas_metering.registers(tx)
    with pytest.raises(ZclRefusedError) as refused:
        gas_prepayment.select_emergency_credit(tx, select)
    assert refused.value.status is ZclStatus.FAILURE
    after = gas_metering.registers(tx)
    assert not after.emergency_credit_active
    assert (after.balance, after.emergency_credit) == (before.balance, before.emergency_credit)
    assert gas_metering.activate_emergency_credit(tx) is False
