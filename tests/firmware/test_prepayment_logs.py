"""The ESME's payment logs served as the Use Case volume reads them: ECS20a and ECS20d.

UTRN top-ups (CS01a's path, :func:`smemu.firmware.prepayment.enter_utrn`) with
payment-based debt recovery fill the Billing Data Log's rings in the register engine; the
reads are Profile Generic buffer reads with a range_descriptor (selective access 1), answered
as compact-arrays of structure{timestamp, dlValue} (double-long-unsigned seconds since 2000,
amount), oldest first.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from smemu.firmware import metering, prepayment
from smemu.firmware.common.cosem import CosemContext, serve
from smemu.firmware.common.machine import Tx
from smemu.firmware.cosem_model import attribute_key
from smemu.firmware.registers import layout as lay
from smemu.protocols.dlms import apdu, axdr
from smemu.protocols.dlms.data import (
    Array,
    CompactArray,
    DoubleLongUnsigned,
    Integer,
    LongUnsigned,
    OctetString,
    Structure,
)
from smemu.protocols.utrn import ValueClass, encode_utrn
from tests.firmware._support import ESME, T0

SUPPLIER = bytes.fromhex("90B3D51F30010000")
SECRET = bytes(range(32))
EPOCH_2000 = 946_684_800
#: the restricting object of the RTDS ECS20a / ECS20d range reads: 1/0-0:94.44.100.255/2
RESTRICTING = Structure((LongUnsigned(1), OctetString(bytes.fromhex("00005E2C64FF")),
                         Integer(2), LongUnsigned(0)))  # fmt: skip


def _utrn(counter_high: int, pounds: int) -> str:
    return encode_utrn(prepayment_secret=SECRET, originator=SUPPLIER, target=bytes(ESME),
                       counter=counter_high << 32, value=pounds,
                       value_class=ValueClass.POUNDS)  # fmt: skip


def _paid_meter() -> tuple[Tx, list[int]]:
    """A prepayment ESME owing GBP 40 at 25 % per payment; 7 top-ups a day apart."""
    tx = Tx(T0, {})
    metering.initialise(tx, prepayment.compile_active(tx), prepay=True)
    tx.put(attribute_key(113, prepayment.PAYMENT_DEBT, 13), axdr.encode(LongUnsigned(2_500)))
    prepayment.add_debt(tx, 2, 4_000_000)
    instants = []
    for k in range(7):
        at = replace(tx, now=T0 + timedelta(days=k, minutes=7))
        result = prepayment.enter_utrn(at, _utrn(k + 1, 4 * (k + 1)), SECRET, SUPPLIER, bytes(ESME))
        assert result.outcome is prepayment.UtrnOutcome.ACCEPTED
        instants.append(metering.epoch(at.now) - EPOCH_2000)
    return tx, instants


def _read(tx: Tx, obis: bytes, low: int, high: int) -> CompactArray:
    spec = apdu.AccessRequestGetWithSelection(
        7, obis, 2, 1,
        Structure((RESTRICTING, DoubleLongUnsigned(low), DoubleLongUnsigned(high), Array(()))),
    )  # fmt: skip
    request = apdu.AccessRequestMessage(0x20000001, b"", (spec,), ())
    ctx = CosemContext(tx, None, None)  # type: ignore[arg-type] - the logs need neither
    response = serve(prepayment.LOG_OBJECTS, ctx, request)
    assert response.specifications[0].result == apdu.DataAccessResult.SUCCESS
    # what goes on the wire decodes back to the same buffer
    decoded = apdu.decode_exact(apdu.encode(response))
    assert isinstance(decoded, apdu.AccessResponseMessage)
    [buffer] = decoded.list_of_data
    assert isinstance(buffer, CompactArray) and buffer == response.list_of_data[0]
    return buffer


def _rows(buffer: CompactArray) -> list[tuple[int, int]]:
    out = []
    for entry in buffer.values:
        assert isinstance(entry, Structure)
        t, amount = entry.items
        assert isinstance(t, DoubleLongUnsigned) and isinstance(amount, DoubleLongUnsigned)
        out.append((t.value, amount.value))
    return out


def test_ecs20d_reads_the_last_five_credits_oldest_first() -> None:
    tx, instants = _paid_meter()
    buffer = _read(tx, prepayment.CREDIT_LOG, 0, 0xFFFF_FFFF)
    assert _rows(buffer) == [(instants[k], 400_000 * (k + 1)) for k in range(2, 7)]


def test_ecs20a_reads_the_recoveries_taken_from_each_payment() -> None:
    tx, instants = _paid_meter()
    buffer = _read(tx, prepayment.REPAYMENT_LOG, 0, 0xFFFF_FFFF)
    # 25 % of GBP 4, 8, ..., 28 = GBP 1 + 2 + ... + 7 = 28 of the 40 owed
    assert _rows(buffer) == [(instants[k], 100_000 * (k + 1)) for k in range(7)]
    assert metering.registers(tx).payment_debt == 4_000_000 - 2_800_000


def test_range_bounds_are_inclusive() -> None:
    tx, instants = _paid_meter()
    rows = _rows(_read(tx, prepayment.REPAYMENT_LOG, instants[2], instants[4]))
    assert [t for t, _ in rows] == instants[2:5]
    assert _rows(_read(tx, prepayment.CREDIT_LOG, instants[6] + 1, 0xFFFF_FFFF)) == []


def test_a_meter_without_payments_answers_an_empty_buffer() -> None:
    tx = Tx(T0, {})
    metering.initialise(tx, prepayment.compile_active(tx), prepay=True)
    assert _read(tx, prepayment.CREDIT_LOG, 0, 0xFFFF_FFFF).values == ()
    assert _read(tx, prepayment.REPAYMENT_LOG, 0, 0xFFFF_FFFF).values == ()


def test_a_refused_top_up_is_not_logged() -> None:
    tx, _ = _paid_meter()
    state_before = metering.state_words(tx)
    replay = prepayment.enter_utrn(tx, _utrn(7, 28), SECRET, SUPPLIER, bytes(ESME))
    assert replay.outcome is prepayment.UtrnOutcome.DUPLICATE
    after = metering.state_words(tx)
    assert after[lay.S_CREDIT_LOG_HEAD] == state_before[lay.S_CREDIT_LOG_HEAD] == 7


def test_a_meter_stored_under_layout_3_is_upgraded_before_it_advances() -> None:
    """NVM written before the payment rings existed (layout 3: state 16 bytes shorter, no
    rings) keeps its registers and gains empty rings at the next advance."""
    tx, _ = _paid_meter()
    current = metering.registers(tx)
    table = bytearray(tx.get(metering.PRIMARY.table) or b"")
    table[lay.T_VERSION * 8 : lay.T_VERSION * 8 + 8] = (3).to_bytes(8, "little")
    state = tx.get(metering.PRIMARY.state) or b""
    logs = tx.get(metering.PRIMARY.logs) or b""
    old = Tx(tx.now, dict(tx.writes))
    old.put(metering.PRIMARY.table, bytes(table))
    old.put(metering.PRIMARY.state, state[: lay.STATE_BYTES - 16])
    old.put(metering.PRIMARY.logs, logs[: len(logs) - lay.PREPAYMENT_LOG_BYTES])
    metering.migrate(old)
    assert len(old.get(metering.PRIMARY.state) or b"") == lay.STATE_BYTES
    assert len(old.get(metering.PRIMARY.logs) or b"") == len(logs)
    assert metering.registers(old) == current
    metering.migrate(old)  # idempotent once current
    assert len(old.get(metering.PRIMARY.state) or b"") == lay.STATE_BYTES
