"""The snapshot reads' compare rules: a daily log's count is the meter's own, a cause never.

hil/compare_rules.py: GCS16a / GCS16b (message codes 0x0077, 0x0096) let Publish (Prepay)
Snapshot's TotalSnapshotsFound differ (how many midnights the meter has logged in the window);
the billing log reads GCS15b / GCS15c (0x00C3, 0x0076) keep it strict, and no snapshot read
lets the cause differ.
"""

from __future__ import annotations

from dataclasses import replace

from smemu.hil.compare import Substitutions, _Walk
from smemu.hil.compare_zcl import compare_gbz_plaintexts
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.metering import (
    BlockTierNoBilling,
    PublishSnapshot,
    SnapshotPayloadType,
)
from smemu.protocols.zigbee.prepayment import DebtCreditStatus, PublishPrepaySnapshot

GCS16A, GCS16B, GCS15B, GCS15C = 0x0077, 0x0096, 0x00C3, 0x0076
_DAY = 86_400

METERING_SNAPSHOT = PublishSnapshot(
    snapshot_id=1,
    snapshot_time=15 * 365 * _DAY,
    total_snapshots_found=31,
    command_index=0,
    total_number_of_commands=1,
    snapshot_cause=0x0000_0001,
    snapshot_payload_type=SnapshotPayloadType.BLOCK_TIER_DELIVERED_NO_BILLING,
    snapshot_payload=BlockTierNoBilling(32, (1, 2, 3, 4), 0x14, (5, 6, 7, 8)),
)
PREPAY_SNAPSHOT = PublishPrepaySnapshot(
    snapshot_id=1,
    snapshot_time=15 * 365 * _DAY,
    total_snapshots_found=31,
    command_index=0,
    total_number_of_commands=1,
    snapshot_cause=0x0000_0001,
    snapshot_payload_type=0,
    snapshot_payload=DebtCreditStatus(130, 121, 223, 202, 50, 66),
)


def _walk(
    code: int, expected: PublishSnapshot | PublishPrepaySnapshot, actual: object
) -> _Walk:
    cluster = 0x0702 if isinstance(expected, PublishSnapshot) else 0x0705
    header = gbz.GbzComponent(gbz.CONTROL_LAST, cluster, 0x19, 0, expected.COMMAND_ID, b"")
    walk = _Walk(code, Substitutions())
    assert isinstance(actual, (PublishSnapshot, PublishPrepaySnapshot))
    compare_gbz_plaintexts(walk, (header,), (expected.encode(),), (actual.encode(),))
    return walk


def test_a_daily_log_count_is_the_meters_own() -> None:
    for code, reference in ((GCS16A, METERING_SNAPSHOT), (GCS16B, PREPAY_SNAPSHOT)):
        device = replace(reference, total_snapshots_found=2, snapshot_time=0, snapshot_id=9)
        walk = _walk(code, reference, device)
        assert walk.differences == []
        assert any(d.path.endswith(".total_snapshots_found") for d in walk.tolerated)


def test_a_daily_log_entry_of_another_cause_still_fails() -> None:
    for code, reference in ((GCS16A, METERING_SNAPSHOT), (GCS16B, PREPAY_SNAPSHOT)):
        device = replace(reference, total_snapshots_found=2, snapshot_cause=0x0000_0002)
        walk = _walk(code, reference, device)
        assert [d.path.rsplit(".", 1)[-1] for d in walk.differences] == ["snapshot_cause"]


def test_the_billing_log_reads_keep_their_count_strict() -> None:
    for code in (GCS15B, GCS15C):
        for reference in (METERING_SNAPSHOT, PREPAY_SNAPSHOT):
            device = replace(reference, total_snapshots_found=2)
            walk = _walk(code, reference, device)
            assert [d.path.rsplit(".", 1)[-1] for d in walk.differences] == [
                "total_snapshots_found"
            ]
