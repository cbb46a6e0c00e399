"""The gas meter's logs read by snapshot: billing data, daily reads, debt repayments.

Layer: firmware. Use Case volume GCS15b (Billing Data Log, change of mode / tariff / supplier
triggered), GCS15c (billing calendar triggered), GCS15d (payment-based debt repayments),
GCS16a (Daily Read Log), GCS16b (Prepayment Daily Read Log); ZCL Metering Get Snapshot
(0x06) -> Publish Snapshot, Prepayment Get Prepay Snapshot (0x07) -> Publish Prepay
Snapshot and Get Debt Repayment Log (0x0A) -> Publish Debt Log.

Theory of operation
-------------------
Every snapshot the meter holds is a :class:`Snapshot`: the registers at an instant and the
cause it was taken for (ZCL Snapshot Cause bits). Two logs hold them, both written by the
register engine of :mod:`smemu.firmware.gas_metering`:

* the Billing Data Log -- the engine's billing section (13 entries): taken by the billing
  calendar (cause End of Billing Period 0x00000002) or by a tariff, payment mode or supplier
  change (the cause kept in ``gsme/engine/causes`` for the entry's serial number);
* the Daily Read Log -- ``gsme/engine/daily``, the registers at each local midnight
  (731 entries), cause General (0x00000001). The Prepayment Daily Read Log is the money part
  of the same entries.

A Get Snapshot / Get Prepay Snapshot selects the snapshots taken at or after its Earliest
Start Time and before its Latest End Time whose cause shares a bit with the requested cause
(0xFFFFFFFF: any), in the order they were taken from the Earliest Start Time on, and
answers the one at Snapshot Offset, with the number found; none there: NOT_FOUND. (ZCL SE
Metering / Prepayment: offset 0 is the *first* snapshot satisfying the selection criteria,
0x01 the second; a window searched from its earliest start is met oldest first. The use
cases walk it by offsets 0..11 / 0..30.) The metering answer is payload type 6 (block tier
information without billing: the volume, the four TOU registers, tiers-and-blocks 0x14 and
the four block counters, as the use case fixes it); the prepayment answer payload type 0
(debt / credit status).

Money is in 10^-5 currency units (millipence with price trailing digit 0x50), volumes in
litres (the Metering cluster's divisor 1000).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Final

from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_metering import (
    CAUSE_BILLING_PERIOD,
    CAUSES,
    D_ACC_DEBT,
    D_BALANCE,
    D_BLOCK,
    D_DEBT,
    D_EC,
    D_PAY_DEBT,
    D_TOU,
    D_VOLUME,
    DAILY,
    DAILY_SLOTS,
    DAILY_WORDS,
    LOGS,
    STATE,
    TABLE,
)
from smemu.firmware.gas_zcl import ZclRefusedError, ZclReply, decode_request
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers import ops
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.metering import (
    BlockTierNoBilling,
    GetSnapshot,
    PublishSnapshot,
    SnapshotPayloadType,
)
from smemu.protocols.zigbee.prepayment import (
    DebtCreditStatus,
    DebtLogEntry,
    GetDebtRepaymentLog,
    GetPrepaySnapshot,
    PublishDebtLog,
    PublishPrepaySnapshot,
)
from smemu.protocols.zigbee.zcl import ZclStatus

#: ZCL Snapshot Cause: General (the daily read log)
CAUSE_GENERAL: Final = 0x0000_0001
ANY_CAUSE: Final = 0xFFFF_FFFF
#: Snapshot ids of daily entries start here (billing entries: serial number + 1)
DAILY_ID_BASE: Final = 0x0100_0000
_Y2K: Final = 946_684_800  #: UTC seconds of 2000-01-01 (ZCL UTCTime epoch)
#: the use cases' Publish Snapshot sub-payload: 1 tier (the block set) x 4 blocks
TIERS_AND_BLOCKS: Final = 0x14
_REGISTERS: Final = 4  #: TOU registers and block counters in a snapshot (the use cases)
_MAX_DEBT_ENTRIES: Final = lay.REPAYMENT_LOG_SLOTS
#: Get Debt Repayment Log / Publish Debt Log debt type: debt #3 (payment-based), all debts
PAYMENT_BASED_DEBT: Final = 0x02
ALL_DEBTS: Final = 0xFF


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One log entry: the registers at UTC ``t`` (litres; money in 10^-5 currency units)."""

    snapshot_id: int
    t: int
    cause: int
    volume: int
    tou: tuple[int, ...]  #: TariffTOURegisterMatrix[1..4]
    blocks: tuple[int, ...]  #: TariffBlockCounterMatrix[1..4]
    accumulated_debt: int
    time_debts: tuple[int, int]
    payment_debt: int
    emergency_credit: int
    balance: int


def _words(raw: bytes | None) -> array[int]:
    words = array("q")
    words.frombytes(raw or b"")
    return words


def _causes(tx: Tx) -> dict[int, int]:
    raw = tx.get_json(CAUSES, {})
    return {int(k): int(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def billing_log(tx: Tx) -> list[Snapshot]:
    """The Billing Data Log snapshots, oldest first."""
    state, table, raw = _words(tx.get(STATE)), _words(tx.get(TABLE)), tx.get(LOGS)
    if not state or not table or not raw or not table[lay.T_FLAGS] & lay.F_LOG_BILLING:
        return []
    section = lay.log_sections(table[lay.T_FLAGS])[3]
    view = memoryview(raw)[section : section + lay.BILLING_SLOTS * lay.BILLING_WORDS * 8]
    words = view.cast("q")
    causes = _causes(tx)
    head = state[lay.S_BILLING_HEAD]
    out: list[Snapshot] = []
    for serial in range(max(0, head - lay.BILLING_SLOTS), head):
        base = serial % lay.BILLING_SLOTS * lay.BILLING_WORDS
        e = words[base : base + lay.BILLING_WORDS]
        out.append(
            Snapshot(
                snapshot_id=serial + 1,
                t=e[lay.B_T],
                cause=causes.get(serial, CAUSE_BILLING_PERIOD),
                volume=e[lay.B_IMPORT],
                tou=tuple(e[lay.B_TOU : lay.B_TOU + _REGISTERS]),
                blocks=tuple(e[lay.B_BLOCK : lay.B_BLOCK + _REGISTERS]),
                accumulated_debt=e[lay.B_ACC_DEBT] // lay.FINE,
                time_debts=(e[lay.B_DEBT] // lay.FINE, e[lay.B_DEBT + 1] // lay.FINE),
                payment_debt=e[lay.B_PAY_DEBT] // lay.FINE,
                emergency_credit=e[lay.B_EC] // lay.FINE,
                balance=e[lay.B_BALANCE] // lay.FINE,
            )
        )
    return out


def daily_log(tx: Tx) -> list[Snapshot]:
    """The Daily Read Log (and Prepayment Daily Read Log) snapshots, oldest first."""
    state, words = _words(tx.get(STATE)), _words(tx.get(DAILY))
    if not state or len(words) != DAILY_SLOTS * DAILY_WORDS:
        return []
    head = state[lay.S_DAILY_HEAD]
    out: list[Snapshot] = []
    for serial in range(max(0, head - DAILY_SLOTS), head):
        base = serial % DAILY_SLOTS * DAILY_WORDS
        e = words[base : base + DAILY_WORDS]
        if e[0] == 0:  # a midnight the engine passed before this log existed
            continue
        out.append(
            Snapshot(
                snapshot_id=DAILY_ID_BASE + serial + 1,
                t=e[0],
                cause=CAUSE_GENERAL,
                volume=e[D_VOLUME],
                tou=tuple(e[D_TOU : D_TOU + _REGISTERS]),
                blocks=tuple(e[D_BLOCK : D_BLOCK + _REGISTERS]),
                accumulated_debt=e[D_ACC_DEBT] // lay.FINE,
                time_debts=(e[D_DEBT] // lay.FINE, e[D_DEBT + 1] // lay.FINE),
                payment_debt=e[D_PAY_DEBT] // lay.FINE,
                emergency_credit=e[D_EC] // lay.FINE,
                balance=e[D_BALANCE] // lay.FINE,
            )
        )
    return out


def select(tx: Tx, earliest: int, latest: int, cause: int) -> list[Snapshot]:
    """Snapshots with ``earliest`` <= time < ``latest`` (ZCL UTCTime) sharing a bit of
    ``cause`` (:data:`ANY_CAUSE`: every one), oldest first (Snapshot Offset 0: the first
    taken in the window)."""
    found = [
        s
        for s in (*billing_log(tx), *daily_log(tx))
        if earliest <= s.t - _Y2K < latest and (cause == ANY_CAUSE or s.cause & cause)
    ]
    found.sort(key=lambda s: (s.t, s.snapshot_id))
    return found


def _pick(tx: Tx, earliest: int, latest: int, offset: int, cause: int) -> tuple[Snapshot, int]:
    found = select(tx, earliest, latest, cause)
    if offset >= len(found):
        raise ZclRefusedError(ZclStatus.NOT_FOUND, "no snapshot at that offset")
    return found[offset], min(0xFF, len(found))


def _u32(value: int) -> int:
    return max(0, min(0xFFFF_FFFF, value))


def _i32(value: int) -> int:
    return max(-(2**31), min(2**31 - 1, value))


def _u48(value: int) -> int:
    return max(0, min(2**48 - 1, value))


def publish_snapshot(snap: Snapshot, found: int = 1) -> PublishSnapshot:
    """The Publish Snapshot of ``snap`` (payload type 6: block tier delivered, no billing) --
    a Get Snapshot's answer (``found`` matching entries) and the GCS53 alert's content."""
    return PublishSnapshot(
        snapshot_id=snap.snapshot_id,
        snapshot_time=max(0, snap.t - _Y2K),
        total_snapshots_found=found,
        command_index=0,
        total_number_of_commands=1,
        snapshot_cause=snap.cause,
        snapshot_payload_type=SnapshotPayloadType.BLOCK_TIER_DELIVERED_NO_BILLING,
        snapshot_payload=BlockTierNoBilling(
            current_summation=_u48(snap.volume),
            tier_summations=tuple(_u48(v) for v in snap.tou),
            tiers_and_blocks=TIERS_AND_BLOCKS,
            tier_block_summations=tuple(_u48(v) for v in snap.blocks),
        ),
    )


def get_snapshot(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
    """GCS15b / GCS15c / GCS16a (metering 0x06 Get Snapshot): one Publish Snapshot."""
    request = decode_request(GetSnapshot, comp)
    snap, total = _pick(
        tx,
        request.earliest_start_time,
        request.latest_end_time,
        request.snapshot_offset,
        request.snapshot_cause,
    )
    reply = publish_snapshot(snap, total)
    return ZclReply(reply.COMMAND_ID, reply.encode())


def get_prepay_snapshot(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
    """GCS15b / GCS15c / GCS16b (prepayment 0x07 Get Prepay Snapshot): debt / credit status."""
    request = decode_request(GetPrepaySnapshot, comp)
    snap, total = _pick(
        tx,
        request.earliest_start_time,
        request.latest_end_time,
        request.snapshot_offset,
        request.snapshot_cause,
    )
    reply = PublishPrepaySnapshot(
        snapshot_id=snap.snapshot_id,
        snapshot_time=snap.t - _Y2K,
        total_snapshots_found=total,
        command_index=0,
        total_number_of_commands=1,
        snapshot_cause=snap.cause,
        snapshot_payload_type=0,
        snapshot_payload=DebtCreditStatus(
            accumulated_debt=_i32(snap.accumulated_debt),
            type_1_debt_remaining=_u32(snap.time_debts[0]),
            type_2_debt_remaining=_u32(snap.time_debts[1]),
            type_3_debt_remaining=_u32(snap.payment_debt),
            emergency_credit_remaining=_i32(snap.emergency_credit),
            credit_remaining=_i32(snap.balance),
        ),
    )
    return ZclReply(reply.COMMAND_ID, reply.encode())


def repayments(tx: Tx) -> list[DebtLogEntry]:
    """The payment-based debt repayment log (BillingDataLog mostrecentPaymentBasedDebt
    Repayment), most recent first; the debt outstanding after each collection counts
    back from the payment debt register (later collections added back)."""
    state, table, raw = _words(tx.get(STATE)), _words(tx.get(TABLE)), tx.get(LOGS)
    if not state or not table or not raw:
        return []
    rows = ops.repayment_log(table, state, raw)
    outstanding = state[lay.S_PAY_DEBT] // lay.FINE
    out: list[DebtLogEntry] = []
    for row in reversed(rows):
        out.append(
            DebtLogEntry(row.t - _Y2K, _u32(row.amount), PAYMENT_BASED_DEBT, _u32(outstanding))
        )
        outstanding += row.amount
    return out


def get_debt_repayment_log(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
    """GCS15d (prepayment 0x0A Get Debt Repayment Log): the payment-based repayments before
    the Latest End Time (0xFFFFFFFE: all), at most Number of Debts, most recent first."""
    request = decode_request(GetDebtRepaymentLog, comp)
    entries: list[DebtLogEntry] = []
    if int(request.debt_type) in (PAYMENT_BASED_DEBT, ALL_DEBTS):
        latest = request.latest_end_time
        entries = [e for e in repayments(tx) if latest >= 0xFFFF_FFFE or e.collection_time < latest]
    limit = min(request.number_of_debts or _MAX_DEBT_ENTRIES, _MAX_DEBT_ENTRIES)
    if not entries:
        raise ZclRefusedError(ZclStatus.NOT_FOUND, "no debt repayments logged")
    reply = PublishDebtLog(0, 1, tuple(entries[:limit]))
    return ZclReply(reply.COMMAND_ID, reply.encode())


__all__ = [
    "ANY_CAUSE",
    "CAUSE_GENERAL",
    "Snapshot",
    "billing_log",
    "daily_log",
    "get_debt_repayment_log",
    "get_prepay_snapshot",
    "get_snapshot",
    "repayments",
    "select",
]
