"""The GSME's Change Debt (gas_prepayment.change_debt) sets the debt registers it recovers.

A payment-based debt configured by GCS04 is collected from the next top-up and logged in the
repayment log GCS15d reads (gas_logs.repayments).
"""

from __future__ import annotations

from smemu.firmware import gas_logs, gas_metering, gas_prepayment, gsme
from smemu.firmware.common.machine import Tx
from smemu.protocols.utrn import encode_utrn
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.prepayment import ChangeDebt, ConsumerTopUp

from ._support import T0

SUPPLIER = bytes.fromhex("90B3D51F30010000")
METER = bytes.fromhex("00DB1234567890A1")
SECRET = bytes(range(32))
#: Debt Amount Type: debt 1 absolute / incremental, debt 3 absolute / incremental
DEBT_1, DEBT_1_ADD, DEBT_3, DEBT_3_ADD = 0, 1, 4, 5


def _comp(command: object) -> gbz.GbzComponent:
    cid = type(command).COMMAND_ID  # type: ignore[attr-defined]
    return gbz.GbzComponent(gbz.CONTROL_LAST, 0x0705, 0x01, 0, cid, command.encode())  # type: ignore[attr-defined]


def _debt(kind: int, amount: int, *, percent: int = 0) -> gbz.GbzComponent:
    method = 1 if kind >= DEBT_3 else 0
    return _comp(ChangeDebt(1, b"", amount, method, kind, 0, 0, 1, 0, percent))


def _top_up(tx: Tx, pence: int) -> None:
    utrn = encode_utrn(
        prepayment_secret=SECRET, originator=SUPPLIER, target=METER, counter=1 << 32, value=pence
    )
    keys = gas_prepayment.UtrnKeys(SECRET, SUPPLIER, METER)
    handler = gas_prepayment.consumer_top_up_handler(lambda tx: keys)
    handler(tx, _comp(ConsumerTopUp(0, utrn.encode())))


def test_change_debt_sets_and_adds_to_the_debt_registers() -> None:
    tx = Tx(T0, {})
    gas_prepayment.change_debt(tx, _debt(DEBT_1, 100_000))
    gas_prepayment.change_debt(tx, _debt(DEBT_3, 300_000, percent=100))
    gas_prepayment.change_debt(tx, _debt(DEBT_3_ADD, 50_000, percent=100))
    held = gas_metering.registers(tx)
    assert held.time_debts[0] == 100_000
    assert held.payment_debt == 350_000
    gas_prepayment.change_debt(tx, _debt(DEBT_1, 20_000))  # absolute: replaces
    assert gas_metering.registers(tx).time_debts[0] == 20_000


def test_a_top_up_repays_the_configured_payment_based_debt_and_logs_it() -> None:
    tx = Tx(T0, {})
    assert gas_logs.repayments(tx) == []
    gas_prepayment.change_debt(tx, _debt(DEBT_3, 1_000_000, percent=1_000))  # 10 % of each top-up
    _top_up(tx, 5000)  # 50 pounds: 5,000,000 x 10^-5
    entries = gas_logs.repayments(tx)
    assert [e.amount_collected for e in entries] == [500_000]
    assert entries[0].outstanding_debt == 500_000
    assert gas_metering.registers(tx).payment_debt == 500_000


def test_the_server_table_routes_change_debt_to_the_register_update() -> None:
    assert gsme.ZCL_SERVER[(0x0705, 0x02)] is gas_prepayment.change_debt
