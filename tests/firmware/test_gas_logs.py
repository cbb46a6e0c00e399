"""gas_logs and the daily read log of gas_metering: GCS15b/c/d, GCS16a/b after clock jumps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from smemu.firmware import gas_logs as gl
from smemu.firmware import gas_metering as gm
from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_zcl import AttributeStore, serve
from smemu.firmware.registers.calendar import local_day, local_midnight
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.metering import BlockTierNoBilling, GetSnapshot, PublishSnapshot
from smemu.protocols.zigbee.prepayment import (
    DebtCreditStatus,
    GetDebtRepaymentLog,
    GetPrepaySnapshot,
    PublishDebtLog,
    PublishPrepaySnapshot,
)
from smemu.protocols.zigbee.zcl import ZclStatus

T0 = datetime(2024, 3, 10, 9, tzinfo=UTC)  # a Sunday morning, before the BST change
Y2K = 946_684_800
HANDLERS = {
    (0x0702, 0x06): gl.get_snapshot,
    (0x0705, 0x07): gl.get_prepay_snapshot,
    (0x0705, 0x0A): gl.get_debt_repayment_log,
}
ALL = (0, 0xFFFF_FFFF)


def _boot(flow: object = None) -> Tx:
    tx = Tx(T0, {})
    tx.put_json(gm.FLOW, flow if flow is not None else {"litres_per_hour": 100})
    gm.catch_up(tx)
    return tx


def _later(tx: Tx, delta: timedelta) -> Tx:
    """The next step's view of NVM: what the step read, with what it wrote."""
    merged = {**tx.base, **tx.writes}
    return Tx(tx.now + delta, {k: v for k, v in merged.items() if v is not None})


def _ask(tx: Tx, cluster: int, command: int, payload: bytes) -> gbz.GbzComponent:
    comp = gbz.GbzComponent(gbz.CONTROL_LAST, cluster, 0x01, 7, command, payload)
    (out,) = serve(tx, gbz.GbzMessage((comp,)), AttributeStore({}), HANDLERS).components
    return out


def _snapshot(tx: Tx, offset: int, cause: int) -> gbz.GbzComponent:
    return _ask(tx, 0x0702, 0x06, GetSnapshot(*ALL, offset, cause).encode())


def _midnights(start: datetime, end: datetime) -> list[int]:
    t0, t1 = int(start.timestamp()), int(end.timestamp())
    days = range(local_day(t0) + 1, local_day(t1) + 1)
    return [m for m in (local_midnight(d) for d in days) if t0 < m <= t1]


@settings(max_examples=25, deadline=None)
@given(days=st.integers(1, 60), rate=st.integers(0, 400), hours=st.integers(0, 23))
def test_a_clock_jump_fills_one_daily_entry_per_local_midnight(
    days: int, rate: int, hours: int
) -> None:
    tx = _later(_boot({"litres_per_hour": rate}), timedelta(days=days, hours=hours))
    gm.catch_up(tx)
    log = gl.daily_log(tx)
    assert [e.t for e in log] == _midnights(T0, tx.now)
    start = gm.registers(Tx(T0, {}))  # zero registers at boot
    for entry in log:
        elapsed = (entry.t - int(T0.timestamp())) // 1800 * 1800
        assert entry.volume == start.volume_litres + rate // 2 * (elapsed // 1800)
        assert entry.cause == gl.CAUSE_GENERAL


@settings(max_examples=10, deadline=None)
@given(steps=st.lists(st.integers(1, 5 * 48), min_size=1, max_size=6))
def test_the_daily_log_is_the_same_whether_the_clock_jumps_or_steps(steps: list[int]) -> None:
    """Differential: one catch-up over the whole span vs one per step."""
    jumped = _boot({"series": [10, 0, 35, 7, 80]})
    stepped = _boot({"series": [10, 0, 35, 7, 80]})
    for half_hours in steps:
        stepped = _later(stepped, timedelta(minutes=30 * half_hours))
        gm.catch_up(stepped)
    jumped = _later(jumped, stepped.now - jumped.now)
    gm.catch_up(jumped)
    assert gl.daily_log(jumped) == gl.daily_log(stepped)
    assert jumped.get(gm.STATE) == stepped.get(gm.STATE)


def test_a_jump_of_years_keeps_the_last_731_days() -> None:
    tx = _later(_boot(), timedelta(days=900))
    gm.catch_up(tx)
    log = gl.daily_log(tx)
    assert len(log) == gm.DAILY_SLOTS
    assert [e.t for e in log] == _midnights(T0, tx.now)[-gm.DAILY_SLOTS :]
    now = gm.registers(tx)
    assert log[-1].volume == now.volume_litres - 50 * ((now.t - log[-1].t) // 1800)


def test_get_snapshot_answers_the_daily_reads_oldest_first() -> None:
    # ZCL SE: Snapshot Offset 0 is the first snapshot meeting the criteria from the
    # Earliest Start Time on; the use cases walk the window by offsets 0..30
    tx = _later(_boot(), timedelta(days=5))
    gm.catch_up(tx)
    times = []
    for offset in range(5):
        out = _snapshot(tx, offset, gl.CAUSE_GENERAL)
        assert out.command_id == PublishSnapshot.COMMAND_ID
        reply = PublishSnapshot.decode_exact(out.payload)
        assert reply.total_snapshots_found == 5
        assert reply.snapshot_cause == gl.CAUSE_GENERAL
        assert reply.snapshot_payload_type == 6
        body = reply.snapshot_payload
        assert isinstance(body, BlockTierNoBilling)
        assert body.tiers_and_blocks == 0x14
        assert len(body.tier_summations) == len(body.tier_block_summations) == 4
        times.append(reply.snapshot_time)
    assert times == sorted(times) and len(set(times)) == 5
    assert times[0] == _midnights(T0, tx.now)[0] - Y2K
    missing = _snapshot(tx, 5, gl.CAUSE_GENERAL)
    assert missing.command_id == 0x0B
    assert missing.payload == bytes((0x06, ZclStatus.NOT_FOUND))


def test_the_time_window_selects_snapshots() -> None:
    tx = _later(_boot(), timedelta(days=5))
    gm.catch_up(tx)
    midnights = _midnights(T0, tx.now)
    # earliest inclusive, latest exclusive: exactly the 2nd and 3rd midnights
    window = (midnights[1] - Y2K, midnights[3] - Y2K)
    payload = GetSnapshot(*window, 0, gl.CAUSE_GENERAL).encode()
    reply = PublishSnapshot.decode_exact(_ask(tx, 0x0702, 0x06, payload).payload)
    assert (reply.snapshot_time, reply.total_snapshots_found) == (midnights[1] - Y2K, 2)


def test_billing_calendar_and_change_snapshots_are_told_apart_by_cause() -> None:
    tx = _later(_boot(), timedelta(days=30))  # passes 1 April 00:00 local: billing day 1
    gm.catch_up(tx)
    billing = _snapshot(tx, 0, gm.CAUSE_BILLING_PERIOD)
    assert PublishSnapshot.decode_exact(billing.payload).snapshot_cause == 0x2
    changes = 0x0000_6008  # GCS15b: mode | supplier | tariff
    assert _snapshot(tx, 0, changes).payload == bytes((0x06, ZclStatus.NOT_FOUND))
    gm.snapshot(tx, gm.CAUSE_TARIFF)
    reply = PublishSnapshot.decode_exact(_snapshot(tx, 0, changes).payload)
    assert (reply.snapshot_cause, reply.total_snapshots_found) == (gm.CAUSE_TARIFF, 1)
    assert reply.snapshot_time == int(tx.now.timestamp()) // 1800 * 1800 - Y2K


def test_prepay_snapshots_carry_the_balance_and_debts() -> None:
    tx = _boot({"litres_per_hour": 0})
    gm.set_payment_mode(tx, prepay=True)
    gm.credit(tx, 1_000_000, gm.CreditKind.TOP_UP)  # GBP 10
    gm.set_debts(tx, time_debts=(300, 0), payment_debt=7_000)
    tx = _later(tx, timedelta(days=2))
    gm.catch_up(tx)
    payload = GetPrepaySnapshot(*ALL, 0, gl.CAUSE_GENERAL).encode()
    out = _ask(tx, 0x0705, 0x07, payload)
    reply = PublishPrepaySnapshot.decode_exact(out.payload)
    assert reply.total_snapshots_found == 2
    assert reply.snapshot_payload == DebtCreditStatus(0, 300, 0, 7_000, 0, 1_000_000)
    mode = _ask(tx, 0x0705, 0x07, GetPrepaySnapshot(*ALL, 0, 0x6008).encode())
    assert PublishPrepaySnapshot.decode_exact(mode.payload).snapshot_cause == gm.CAUSE_MODE


def test_debt_repayments_are_logged_from_top_ups() -> None:
    tx = _boot({"litres_per_hour": 0})
    gm.set_payment_mode(tx, prepay=True)
    ask = GetDebtRepaymentLog(0xFFFF_FFFE, 10, 2).encode()
    assert _ask(tx, 0x0705, 0x0A, ask).payload == bytes((0x0A, ZclStatus.NOT_FOUND))
    gm.set_debts(tx, time_debts=(0, 0), payment_debt=500_000)
    tx.put("gsme/attr/0705/0239", b"\x21" + (2_500).to_bytes(2, "little"))  # 25 %
    gm.credit(tx, 1_000_000, gm.CreditKind.TOP_UP)  # 250,000 recovered
    tx = _later(tx, timedelta(hours=3))
    gm.credit(tx, 400_000, gm.CreditKind.TOP_UP)  # 100,000 recovered
    log = PublishDebtLog.decode_exact(_ask(tx, 0x0705, 0x0A, ask).payload)
    amounts = [(e.amount_collected, e.outstanding_debt, e.debt_type) for e in log.entries]
    assert amounts == [(100_000, 150_000, 2), (250_000, 250_000, 2)]
    assert gm.registers(tx).balance == 750_000 + 300_000
    # the Overall Debt Cap limits what a week's top-ups recover
    tx.put("gsme/attr/0705/0006", b"\x2b" + (360_000).to_bytes(4, "little"))
    gm.credit(tx, 1_000_000, gm.CreditKind.TOP_UP)  # 250,000 asked, 10,000 left
    assert gm.registers(tx).payment_debt == 140_000
    time_based = GetDebtRepaymentLog(0xFFFF_FFFE, 10, 0).encode()
    assert _ask(tx, 0x0705, 0x0A, time_based).payload == bytes((0x0A, ZclStatus.NOT_FOUND))


@given(st.binary(max_size=20))
def test_malformed_requests_are_refused_not_raised(data: bytes) -> None:
    tx = _boot()
    for cluster, command in HANDLERS:
        out = _ask(tx, cluster, command, data)
        assert out.command_id in (0x0B, 0x01, 0x06)


def test_change_snapshots_are_offered_in_the_order_they_were_taken() -> None:
    # GCS15b walks the change-triggered entries by offset: the tariff change taken first is
    # at offset 0, the later mode change at offset 1, whatever their causes
    tx = _boot({"litres_per_hour": 0})
    gm.snapshot(tx, gm.CAUSE_TARIFF)
    tx = _later(tx, timedelta(days=3))
    gm.set_payment_mode(tx, prepay=True)
    changes = 0x0000_6008
    causes = []
    for offset in range(2):
        reply = PublishSnapshot.decode_exact(_snapshot(tx, offset, changes).payload)
        assert reply.total_snapshots_found == 2
        causes.append(reply.snapshot_cause)
    assert causes == [gm.CAUSE_TARIFF, gm.CAUSE_MODE]
    prepay = _ask(tx, 0x0705, 0x07, GetPrepaySnapshot(*ALL, 1, changes).encode())
    assert PublishPrepaySnapshot.decode_exact(prepay.payload).snapshot_cause == gm.CAUSE_MODE
