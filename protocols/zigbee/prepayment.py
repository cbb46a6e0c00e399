"""Prepayment cluster (0x0705) commands: credit, debt, top-ups, payment mode, snapshots.

Protocol layer (sans-IO); ZigBee SE 1.4 Prepayment cluster, as GBCS GCS02-06, GCS15b-e,
GCS16b, GCS40a-d, CS01b, PCS01/02 use it (GBCS ref. §7.7). Little-endian ZCL.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated, ClassVar, Final

from smemu.protocols.zigbee._fields import (
    BITMAP8,
    BITMAP16,
    BITMAP32,
    I32,
    OCTETS,
    U8,
    U16,
    U32,
    UTC,
    EnumField,
    Repeat,
    Switch,
    ZclRecord,
)
from smemu.protocols.zigbee.zcl import CLIENT_TO_SERVER, SERVER_TO_CLIENT, ZclCommand

__all__ = [
    "PREPAYMENT_CLUSTER",
    "PREPAY_SNAPSHOT_PAYLOADS",
    "ChangeDebt",
    "ChangePaymentMode",
    "ChangePaymentModeResponse",
    "ConsumerTopUp",
    "ConsumerTopUpResponse",
    "CreditAdjustment",
    "DebtCreditStatus",
    "DebtLogEntry",
    "DebtType",
    "EmergencyCreditSetup",
    "GetDebtRepaymentLog",
    "GetPrepaySnapshot",
    "GetTopUpLog",
    "OriginatingDevice",
    "PublishDebtLog",
    "PublishPrepaySnapshot",
    "PublishTopUpLog",
    "SelectAvailableEmergencyCredit",
    "SetLowCreditWarningLevel",
    "SetMaximumCreditLimit",
    "SetOverallDebtCap",
    "TopUpLogEntry",
    "TopUpResult",
]

PREPAYMENT_CLUSTER: Final = 0x0705


class OriginatingDevice(enum.IntEnum):
    """Who sent a top-up / emergency credit request."""

    ENERGY_SERVICE_INTERFACE = 0x00
    METER = 0x01
    IN_HOME_DISPLAY = 0x02


class DebtType(enum.IntEnum):
    """Debt Amount Type / Debt Type."""

    TYPE_1_ABSOLUTE = 0x00
    TYPE_1_INCREMENTAL = 0x01
    TYPE_2_ABSOLUTE = 0x02
    TYPE_2_INCREMENTAL = 0x03
    TYPE_3_ABSOLUTE = 0x04
    TYPE_3_INCREMENTAL = 0x05


class TopUpResult(enum.IntEnum):
    """Consumer Top Up Response result type."""

    ACCEPTED = 0x00
    REJECTED_INVALID_TOP_UP = 0x01
    REJECTED_DUPLICATE_TOP_UP = 0x02
    REJECTED_ERROR = 0x03
    REJECTED_MAX_CREDIT_REACHED = 0x04
    REJECTED_KEYPAD_LOCK = 0x05
    REJECTED_TOP_UP_VALUE_TOO_LARGE = 0x06
    ACCEPTED_SUPPLY_ENABLED = 0x10
    ACCEPTED_SUPPLY_DISABLED = 0x11
    ACCEPTED_SUPPLY_ARMED = 0x12


class _ToServer(ZclCommand):
    __slots__ = ()
    CLUSTER_ID: ClassVar[int | None] = PREPAYMENT_CLUSTER
    DIRECTION: ClassVar[int | None] = CLIENT_TO_SERVER


class _ToClient(ZclCommand):
    __slots__ = ()
    CLUSTER_ID: ClassVar[int | None] = PREPAYMENT_CLUSTER
    DIRECTION: ClassVar[int | None] = SERVER_TO_CLIENT


_ORIGIN = Annotated[int, EnumField(OriginatingDevice)]
_DEBT_TYPE = Annotated[int, EnumField(DebtType)]

# ------------------------------------------------------------------ client -> server


@dataclass(frozen=True, slots=True)
class SelectAvailableEmergencyCredit(_ToServer):
    """Select Available Emergency Credit (0x00); GCS06, PCS02."""

    COMMAND_ID: ClassVar[int] = 0x00

    command_issue_date_time: UTC
    originating_device: _ORIGIN


@dataclass(frozen=True, slots=True)
class ChangeDebt(_ToServer):
    """Change Debt (0x02); GCS04."""

    COMMAND_ID: ClassVar[int] = 0x02

    issuer_event_id: U32
    debt_label: OCTETS
    debt_amount: U32
    #: 0 time-based, 1 percentage-based, 2 catch-up.
    debt_recovery_method: U8
    debt_amount_type: _DEBT_TYPE
    debt_recovery_start_time: UTC
    #: Minutes after midnight.
    debt_recovery_collection_time: U16
    #: 0 per hour, 1 per day, 2 per week, 3 per month, 4 per quarter.
    debt_recovery_frequency: U8
    debt_recovery_amount: U32
    #: Percentage of each top-up, in 0.01 % steps.
    debt_recovery_balance_percentage: U16


@dataclass(frozen=True, slots=True)
class EmergencyCreditSetup(_ToServer):
    """Emergency Credit Setup (0x03); GCS05."""

    COMMAND_ID: ClassVar[int] = 0x03

    issuer_event_id: U32
    start_time: UTC
    emergency_credit_limit: U32
    emergency_credit_threshold: U32


@dataclass(frozen=True, slots=True)
class ConsumerTopUp(_ToServer):
    """Consumer Top Up (0x04); CS01b, PCS01: the top-up code is the 20-digit UTRN."""

    COMMAND_ID: ClassVar[int] = 0x04

    originating_device: _ORIGIN
    top_up_code: OCTETS


@dataclass(frozen=True, slots=True)
class CreditAdjustment(_ToServer):
    """Credit Adjustment (0x05); GCS40a-d."""

    COMMAND_ID: ClassVar[int] = 0x05

    issuer_event_id: U32
    start_time: UTC
    #: 0 incremental, 1 absolute.
    credit_adjustment_type: U8
    credit_adjustment_value: I32


@dataclass(frozen=True, slots=True)
class ChangePaymentMode(_ToServer):
    """Change Payment Mode (0x06); GCS02 (credit), GCS03 (prepayment)."""

    COMMAND_ID: ClassVar[int] = 0x06

    provider_id: U32
    issuer_event_id: U32
    implementation_date_time: UTC
    proposed_payment_control_configuration: BITMAP16
    cut_off_value: I32


@dataclass(frozen=True, slots=True)
class GetPrepaySnapshot(_ToServer):
    """Get Prepay Snapshot (0x07); GCS15b/c, GCS16b."""

    COMMAND_ID: ClassVar[int] = 0x07

    earliest_start_time: UTC
    latest_end_time: UTC
    snapshot_offset: U8
    snapshot_cause: BITMAP32


@dataclass(frozen=True, slots=True)
class GetTopUpLog(_ToServer):
    """Get Top Up Log (0x08); GCS15e."""

    COMMAND_ID: ClassVar[int] = 0x08

    latest_end_time: UTC
    number_of_records: U8


@dataclass(frozen=True, slots=True)
class SetLowCreditWarningLevel(_ToServer):
    """Set Low Credit Warning Level (0x09); GCS05 (activation in the From Date Time)."""

    COMMAND_ID: ClassVar[int] = 0x09

    low_credit_warning_level: U32


@dataclass(frozen=True, slots=True)
class GetDebtRepaymentLog(_ToServer):
    """Get Debt Repayment Log (0x0A); GCS15d."""

    COMMAND_ID: ClassVar[int] = 0x0A

    latest_end_time: UTC
    number_of_debts: U8
    debt_type: _DEBT_TYPE


@dataclass(frozen=True, slots=True)
class SetMaximumCreditLimit(_ToServer):
    """Set Maximum Credit Limit (0x0B); GCS05."""

    COMMAND_ID: ClassVar[int] = 0x0B

    provider_id: U32
    issuer_event_id: U32
    implementation_date_time: UTC
    maximum_credit_level: U32
    maximum_credit_per_top_up: U32


@dataclass(frozen=True, slots=True)
class SetOverallDebtCap(_ToServer):
    """Set Overall Debt Cap (0x0C); GCS05."""

    COMMAND_ID: ClassVar[int] = 0x0C

    provider_id: U32
    issuer_event_id: U32
    implementation_date_time: UTC
    overall_debt_cap: I32


# ------------------------------------------------------------------ server -> client


@dataclass(frozen=True, slots=True)
class DebtCreditStatus(ZclRecord):
    """Prepay snapshot payload type 0: debt / credit status."""

    accumulated_debt: I32
    type_1_debt_remaining: U32
    type_2_debt_remaining: U32
    type_3_debt_remaining: U32
    emergency_credit_remaining: I32
    credit_remaining: I32


#: Prepay snapshot payload type -> record.
PREPAY_SNAPSHOT_PAYLOADS: Final[dict[int, type[ZclRecord]]] = {0: DebtCreditStatus}


@dataclass(frozen=True, slots=True)
class PublishPrepaySnapshot(_ToClient):
    """Publish Prepay Snapshot (0x01); always encrypted in GBCS (GCS15b/c, GCS16b)."""

    COMMAND_ID: ClassVar[int] = 0x01

    snapshot_id: U32
    snapshot_time: UTC
    total_snapshots_found: U8
    command_index: U8
    total_number_of_commands: U8
    snapshot_cause: BITMAP32
    snapshot_payload_type: U8
    snapshot_payload: Annotated[
        ZclRecord | bytes, Switch("snapshot_payload_type", PREPAY_SNAPSHOT_PAYLOADS)
    ]


@dataclass(frozen=True, slots=True)
class ChangePaymentModeResponse(_ToClient):
    """Change Payment Mode Response (0x02); GCS02/03."""

    COMMAND_ID: ClassVar[int] = 0x02

    friendly_credit: BITMAP8
    friendly_credit_calendar_id: U32
    emergency_credit_limit: U32
    emergency_credit_threshold: U32


@dataclass(frozen=True, slots=True)
class ConsumerTopUpResponse(_ToClient):
    """Consumer Top Up Response (0x03); CS01b, PCS01."""

    COMMAND_ID: ClassVar[int] = 0x03

    result_type: Annotated[int, EnumField(TopUpResult)]
    top_up_value: I32
    source_of_top_up: _ORIGIN
    credit_remaining: I32


@dataclass(frozen=True, slots=True)
class TopUpLogEntry(ZclRecord):
    """Top-up log entry."""

    top_up_code: OCTETS
    top_up_amount: I32
    top_up_time: UTC


@dataclass(frozen=True, slots=True)
class PublishTopUpLog(_ToClient):
    """Publish Top Up Log (0x05); GCS15e."""

    COMMAND_ID: ClassVar[int] = 0x05

    command_index: U8
    total_number_of_commands: U8
    entries: Annotated[tuple[TopUpLogEntry, ...], Repeat(TopUpLogEntry)]


@dataclass(frozen=True, slots=True)
class DebtLogEntry(ZclRecord):
    """Debt repayment log entry."""

    collection_time: UTC
    amount_collected: U32
    debt_type: _DEBT_TYPE
    outstanding_debt: U32


@dataclass(frozen=True, slots=True)
class PublishDebtLog(_ToClient):
    """Publish Debt Log (0x06); always encrypted in GBCS (GCS15d)."""

    COMMAND_ID: ClassVar[int] = 0x06

    command_index: U8
    total_number_of_commands: U8
    entries: Annotated[tuple[DebtLogEntry, ...], Repeat(DebtLogEntry)]
