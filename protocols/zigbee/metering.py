"""Metering cluster (0x0702) commands: profiles, snapshots, sampling, supply control.

Protocol layer (sans-IO); ZigBee SE 1.4 Metering cluster, as GBCS GCS15b/c, GCS16a, GCS17,
GCS18, GCS24, GCS31, GCS32, GCS39, GCS53, GCS61 use it (GBCS ref. §7.7). Little-endian ZCL.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated, ClassVar, Final

from smemu.protocols.zigbee._fields import (
    BITMAP8,
    BITMAP32,
    U8,
    U16,
    U32,
    U48,
    UTC,
    Counted,
    EnumField,
    NibblePair,
    Repeat,
    SizedBy,
    Switch,
    UInt,
    ZclRecord,
)
from smemu.protocols.zigbee.common import TRAILING_DIGIT, UNIT_OF_MEASURE
from smemu.protocols.zigbee.zcl import CLIENT_TO_SERVER, SERVER_TO_CLIENT, ZclCommand

__all__ = [
    "METERING_CLUSTER",
    "SNAPSHOT_PAYLOADS",
    "BlockTierBilling",
    "BlockTierNoBilling",
    "ChangeSupply",
    "DataUnavailable",
    "GetProfile",
    "GetProfileResponse",
    "GetSampledData",
    "GetSampledDataResponse",
    "GetSnapshot",
    "LocalChangeSupply",
    "PublishSnapshot",
    "RemoveMirror",
    "RequestFastPollMode",
    "RequestFastPollModeResponse",
    "RequestMirror",
    "ResetLoadLimitCounter",
    "SampleType",
    "ScheduleSnapshotResponse",
    "SetSupplyStatus",
    "SetUncontrolledFlowThreshold",
    "SnapshotPayloadType",
    "StartSampling",
    "StartSamplingResponse",
    "SupplyStatus",
    "SupplyStatusResponse",
    "TakeSnapshot",
    "TakeSnapshotResponse",
    "TouBilling",
    "TouNoBilling",
]

METERING_CLUSTER: Final = 0x0702


class SupplyStatus(enum.IntEnum):
    """Proposed / current supply status (valve state for gas)."""

    OFF = 0x00
    ARMED = 0x01
    ON = 0x02


class SampleType(enum.IntEnum):
    """Get Sampled Data / Start Sampling sample type."""

    CONSUMPTION_DELIVERED = 0x00
    CONSUMPTION_RECEIVED = 0x01
    REACTIVE_CONSUMPTION_DELIVERED = 0x02
    REACTIVE_CONSUMPTION_RECEIVED = 0x03
    INSTANTANEOUS_DEMAND = 0x04


class SnapshotPayloadType(enum.IntEnum):
    """Publish Snapshot sub-payload type."""

    TOU_DELIVERED = 0
    TOU_RECEIVED = 1
    BLOCK_TIER_DELIVERED = 2
    BLOCK_TIER_RECEIVED = 3
    TOU_DELIVERED_NO_BILLING = 4
    TOU_RECEIVED_NO_BILLING = 5
    BLOCK_TIER_DELIVERED_NO_BILLING = 6
    BLOCK_TIER_RECEIVED_NO_BILLING = 7
    DATA_UNAVAILABLE = 128


class _ToServer(ZclCommand):
    __slots__ = ()
    CLUSTER_ID: ClassVar[int | None] = METERING_CLUSTER
    DIRECTION: ClassVar[int | None] = CLIENT_TO_SERVER


class _ToClient(ZclCommand):
    __slots__ = ()
    CLUSTER_ID: ClassVar[int | None] = METERING_CLUSTER
    DIRECTION: ClassVar[int | None] = SERVER_TO_CLIENT


_SUPPLY = Annotated[int, EnumField(SupplyStatus)]
_SAMPLE = Annotated[int, EnumField(SampleType)]
_U48S = Annotated[tuple[int, ...], Counted(UInt(6))]
_TIERS_AND_BLOCKS = Annotated[int, NibblePair("number_of_tiers", "number_of_blocks")]

# ------------------------------------------------------------------ client -> server


@dataclass(frozen=True, slots=True)
class GetProfile(_ToServer):
    """Get Profile (0x00)."""

    COMMAND_ID: ClassVar[int] = 0x00

    interval_channel: U8
    end_time: UTC
    number_of_periods: U8


@dataclass(frozen=True, slots=True)
class RequestFastPollMode(_ToServer):
    """Request Fast Poll Mode (0x03)."""

    COMMAND_ID: ClassVar[int] = 0x03

    fast_poll_update_period: U8
    duration: U8


@dataclass(frozen=True, slots=True)
class TakeSnapshot(_ToServer):
    """Take Snapshot (0x05)."""

    COMMAND_ID: ClassVar[int] = 0x05

    snapshot_cause: BITMAP32


@dataclass(frozen=True, slots=True)
class GetSnapshot(_ToServer):
    """Get Snapshot (0x06); GCS15b/c, GCS16a read billing and daily logs with it."""

    COMMAND_ID: ClassVar[int] = 0x06

    earliest_start_time: UTC
    latest_end_time: UTC
    snapshot_offset: U8
    snapshot_cause: BITMAP32


@dataclass(frozen=True, slots=True)
class StartSampling(_ToServer):
    """Start Sampling (0x07); GCS31."""

    COMMAND_ID: ClassVar[int] = 0x07

    issuer_event_id: U32
    start_sampling_time: UTC
    sample_type: _SAMPLE
    sample_request_interval: U16
    max_number_of_samples: U16


@dataclass(frozen=True, slots=True)
class GetSampledData(_ToServer):
    """Get Sampled Data (0x08); GCS17, GCS18, GCS61."""

    COMMAND_ID: ClassVar[int] = 0x08

    sample_id: U16
    earliest_sample_time: UTC
    sample_type: _SAMPLE
    number_of_samples: U16


@dataclass(frozen=True, slots=True)
class ResetLoadLimitCounter(_ToServer):
    """Reset Load Limit Counter (0x0A)."""

    COMMAND_ID: ClassVar[int] = 0x0A

    provider_id: U32
    issuer_event_id: U32


@dataclass(frozen=True, slots=True)
class ChangeSupply(_ToServer):
    """Change Supply (0x0B); GCS32 (arm / close valve), GCS39."""

    COMMAND_ID: ClassVar[int] = 0x0B

    provider_id: U32
    issuer_event_id: U32
    request_date_time: UTC
    implementation_date_time: UTC
    proposed_supply_status: _SUPPLY
    #: Bit 0: acknowledge required (a Supply Status Response follows).
    supply_control_bits: BITMAP8


@dataclass(frozen=True, slots=True)
class LocalChangeSupply(_ToServer):
    """Local Change Supply (0x0C)."""

    COMMAND_ID: ClassVar[int] = 0x0C

    proposed_supply_status: _SUPPLY


@dataclass(frozen=True, slots=True)
class SetSupplyStatus(_ToServer):
    """Set Supply Status (0x0D); GCS24."""

    COMMAND_ID: ClassVar[int] = 0x0D

    issuer_event_id: U32
    supply_tamper_state: U8
    supply_depletion_state: U8
    supply_uncontrolled_flow_state: U8
    load_limit_supply_state: U8


@dataclass(frozen=True, slots=True)
class SetUncontrolledFlowThreshold(_ToServer):
    """Set Uncontrolled Flow Threshold (0x0E); GCS24."""

    COMMAND_ID: ClassVar[int] = 0x0E

    provider_id: U32
    issuer_event_id: U32
    uncontrolled_flow_threshold: U16
    unit_of_measure: UNIT_OF_MEASURE
    multiplier: U16
    divisor: U16
    stabilisation_period: U8
    measurement_period: U16


# ------------------------------------------------------------------ snapshot payloads


@dataclass(frozen=True, slots=True)
class TouBilling(ZclRecord):
    """Snapshot payload types 0/1: TOU information set with billing."""

    current_summation: U48
    bill_to_date: U32
    bill_to_date_time_stamp: UTC
    projected_bill: U32
    projected_bill_time_stamp: UTC
    bill_trailing_digit: TRAILING_DIGIT
    #: Preceded by Number of Tiers in Use.
    tier_summations: _U48S


@dataclass(frozen=True, slots=True)
class BlockTierBilling(ZclRecord):
    """Snapshot payload types 2/3: block tier information set with billing."""

    current_summation: U48
    bill_to_date: U32
    bill_to_date_time_stamp: UTC
    projected_bill: U32
    projected_bill_time_stamp: UTC
    bill_trailing_digit: TRAILING_DIGIT
    tier_summations: _U48S
    #: Number of tiers (high nibble) and of blocks (low nibble) in use.
    tiers_and_blocks: _TIERS_AND_BLOCKS
    #: tiers x blocks uint48 block summations (GSME: 1 x 4 block counters, observed).
    tier_block_summations: Annotated[
        tuple[int, ...], SizedBy(UInt(6), "tiers_and_blocks", lambda v: (v >> 4) * (v & 0x0F))
    ]


@dataclass(frozen=True, slots=True)
class TouNoBilling(ZclRecord):
    """Snapshot payload types 4/5: TOU information set without billing."""

    current_summation: U48
    tier_summations: _U48S


@dataclass(frozen=True, slots=True)
class BlockTierNoBilling(ZclRecord):
    """Snapshot payload types 6/7: block tier information set without billing (GSME)."""

    current_summation: U48
    #: Preceded by Number of Tiers in Use (GSME: the 4 TOU registers).
    tier_summations: _U48S
    tiers_and_blocks: _TIERS_AND_BLOCKS
    tier_block_summations: Annotated[
        tuple[int, ...], SizedBy(UInt(6), "tiers_and_blocks", lambda v: (v >> 4) * (v & 0x0F))
    ]


@dataclass(frozen=True, slots=True)
class DataUnavailable(ZclRecord):
    """Snapshot payload type 128: no payload."""


#: Snapshot payload type -> sub-payload record.
SNAPSHOT_PAYLOADS: Final[dict[int, type[ZclRecord]]] = {
    0: TouBilling,
    1: TouBilling,
    2: BlockTierBilling,
    3: BlockTierBilling,
    4: TouNoBilling,
    5: TouNoBilling,
    6: BlockTierNoBilling,
    7: BlockTierNoBilling,
    128: DataUnavailable,
}


# ------------------------------------------------------------------ server -> client


@dataclass(frozen=True, slots=True)
class GetProfileResponse(_ToClient):
    """Get Profile Response (0x00)."""

    COMMAND_ID: ClassVar[int] = 0x00

    end_time: UTC
    status: U8
    profile_interval_period: U8
    #: Preceded by Number of Periods Delivered; uint24 each, most recent first.
    intervals: Annotated[tuple[int, ...], Counted(UInt(3))]


@dataclass(frozen=True, slots=True)
class RequestMirror(_ToClient):
    """Request Mirror (0x01): no payload."""

    COMMAND_ID: ClassVar[int] = 0x01


@dataclass(frozen=True, slots=True)
class RemoveMirror(_ToClient):
    """Remove Mirror (0x02): no payload."""

    COMMAND_ID: ClassVar[int] = 0x02


@dataclass(frozen=True, slots=True)
class RequestFastPollModeResponse(_ToClient):
    """Request Fast Poll Mode Response (0x03)."""

    COMMAND_ID: ClassVar[int] = 0x03

    applied_update_period: U8
    fast_poll_mode_end_time: UTC


@dataclass(frozen=True, slots=True)
class SnapshotScheduleConfirmation(ZclRecord):
    """Schedule id + confirmation."""

    snapshot_schedule_id: U8
    snapshot_schedule_confirmation: U8


@dataclass(frozen=True, slots=True)
class ScheduleSnapshotResponse(_ToClient):
    """Schedule Snapshot Response (0x04)."""

    COMMAND_ID: ClassVar[int] = 0x04

    issuer_event_id: U32
    confirmations: Annotated[
        tuple[SnapshotScheduleConfirmation, ...], Repeat(SnapshotScheduleConfirmation)
    ]


@dataclass(frozen=True, slots=True)
class TakeSnapshotResponse(_ToClient):
    """Take Snapshot Response (0x05)."""

    COMMAND_ID: ClassVar[int] = 0x05

    snapshot_id: U32
    snapshot_confirmation: U8


@dataclass(frozen=True, slots=True)
class PublishSnapshot(_ToClient):
    """Publish Snapshot (0x06); always an encrypted component in GBCS (GCS15b/c, GCS16a, GCS53).

    ``snapshot_payload`` is the record :data:`SNAPSHOT_PAYLOADS` names for
    ``snapshot_payload_type`` (raw bytes for an unknown type).
    """

    COMMAND_ID: ClassVar[int] = 0x06

    snapshot_id: U32
    snapshot_time: UTC
    total_snapshots_found: U8
    command_index: U8
    total_number_of_commands: U8
    snapshot_cause: BITMAP32
    snapshot_payload_type: Annotated[int, EnumField(SnapshotPayloadType)]
    snapshot_payload: Annotated[
        ZclRecord | bytes, Switch("snapshot_payload_type", SNAPSHOT_PAYLOADS)
    ]


@dataclass(frozen=True, slots=True)
class GetSampledDataResponse(_ToClient):
    """Get Sampled Data Response (0x07); encrypted in GBCS (GCS17, GCS18, GCS61)."""

    COMMAND_ID: ClassVar[int] = 0x07

    sample_id: U16
    sample_start_time: UTC
    sample_type: _SAMPLE
    sample_request_interval: U16
    #: Preceded by Number of Samples (uint16); uint24 each.
    samples: Annotated[tuple[int, ...], Counted(UInt(3), 2)]


@dataclass(frozen=True, slots=True)
class SupplyStatusResponse(_ToClient):
    """Supply Status Response (0x0C); GCS32."""

    COMMAND_ID: ClassVar[int] = 0x0C

    provider_id: U32
    issuer_event_id: U32
    implementation_date_time: UTC
    supply_status: _SUPPLY


@dataclass(frozen=True, slots=True)
class StartSamplingResponse(_ToClient):
    """Start Sampling Response (0x0D); 0xFFFF = could not start."""

    COMMAND_ID: ClassVar[int] = 0x0D

    sample_id: U16
