"""Price cluster (0x0700) commands: tariffs, price matrix, block thresholds, CV, billing.

Protocol layer (sans-IO); ZigBee SE 1.4 Price cluster, as GBCS GCS01a/b, GCS21d/f, GCS23,
GCS25 use it (GBCS ref. §7.7, §10.2). Fields are little-endian ZCL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Final

from smemu.protocols.zigbee._fields import (
    BITMAP8,
    BITMAP32,
    OCTETS,
    U8,
    U16,
    U24,
    U32,
    UTC,
    Counted,
    NibblePair,
    Repeat,
    SizedBy,
    Tail,
    UInt,
    ZclRecord,
)
from smemu.protocols.zigbee.common import (
    CURRENCY,
    TRAILING_DIGIT,
    UNIT_OF_MEASURE,
    TrailingDigit,
    scaled,
)
from smemu.protocols.zigbee.zcl import CLIENT_TO_SERVER, SERVER_TO_CLIENT, ZclCommand

__all__ = [
    "PRICE_CLUSTER",
    "BlockThresholdSet",
    "CancelTariff",
    "GetBillingPeriod",
    "GetBlockPeriods",
    "GetBlockThresholds",
    "GetCalorificValue",
    "GetCo2Value",
    "GetConversionFactor",
    "GetCurrencyConversion",
    "GetCurrentPrice",
    "GetPriceMatrix",
    "GetScheduledPrices",
    "GetTariffCancellation",
    "GetTariffInformation",
    "GetTierLabels",
    "PriceAcknowledgement",
    "PriceMatrixEntry",
    "PublishBillingPeriod",
    "PublishBlockPeriod",
    "PublishBlockThresholds",
    "PublishCalorificValue",
    "PublishCo2Value",
    "PublishConversionFactor",
    "PublishCurrencyConversion",
    "PublishPrice",
    "PublishPriceMatrix",
    "PublishTariffInformation",
    "PublishTierLabels",
    "TierLabel",
]

PRICE_CLUSTER: Final = 0x0700

_TAIL_U8 = Annotated[int | None, Tail(UInt(1))]
_TAIL_U32 = Annotated[int | None, Tail(UInt(4))]


class _ToServer(ZclCommand):
    __slots__ = ()
    CLUSTER_ID: ClassVar[int | None] = PRICE_CLUSTER
    DIRECTION: ClassVar[int | None] = CLIENT_TO_SERVER


class _ToClient(ZclCommand):
    __slots__ = ()
    CLUSTER_ID: ClassVar[int | None] = PRICE_CLUSTER
    DIRECTION: ClassVar[int | None] = SERVER_TO_CLIENT


# ------------------------------------------------------------------ client -> server


@dataclass(frozen=True, slots=True)
class GetCurrentPrice(_ToServer):
    """Get Current Price (0x00); GCS21f asks with options 0."""

    COMMAND_ID: ClassVar[int] = 0x00

    #: Bit 0: requestor rx on when idle.
    command_options: BITMAP8


@dataclass(frozen=True, slots=True)
class GetScheduledPrices(_ToServer):
    """Get Scheduled Prices (0x01)."""

    COMMAND_ID: ClassVar[int] = 0x01

    start_time: UTC
    number_of_events: U8


@dataclass(frozen=True, slots=True)
class PriceAcknowledgement(_ToServer):
    """Price Acknowledgement (0x02)."""

    COMMAND_ID: ClassVar[int] = 0x02

    provider_id: U32
    issuer_event_id: U32
    price_ack_time: UTC
    control: BITMAP8


@dataclass(frozen=True, slots=True)
class GetBlockPeriods(_ToServer):
    """Get Block Period(s) (0x03)."""

    COMMAND_ID: ClassVar[int] = 0x03

    start_time: UTC
    number_of_events: U8
    tariff_type: BITMAP8


@dataclass(frozen=True, slots=True)
class GetConversionFactor(_ToServer):
    """Get Conversion Factor (0x04)."""

    COMMAND_ID: ClassVar[int] = 0x04

    earliest_start_time: UTC
    min_issuer_event_id: U32
    number_of_commands: U8


@dataclass(frozen=True, slots=True)
class GetCalorificValue(_ToServer):
    """Get Calorific Value (0x05)."""

    COMMAND_ID: ClassVar[int] = 0x05

    earliest_start_time: UTC
    min_issuer_event_id: U32
    number_of_commands: U8


@dataclass(frozen=True, slots=True)
class GetTariffInformation(_ToServer):
    """Get Tariff Information (0x06)."""

    COMMAND_ID: ClassVar[int] = 0x06

    earliest_start_time: UTC
    min_issuer_event_id: U32
    number_of_commands: U8
    tariff_type: BITMAP8


@dataclass(frozen=True, slots=True)
class GetPriceMatrix(_ToServer):
    """Get Price Matrix (0x07)."""

    COMMAND_ID: ClassVar[int] = 0x07

    issuer_tariff_id: U32


@dataclass(frozen=True, slots=True)
class GetBlockThresholds(_ToServer):
    """Get Block Thresholds (0x08)."""

    COMMAND_ID: ClassVar[int] = 0x08

    issuer_tariff_id: U32


@dataclass(frozen=True, slots=True)
class GetCo2Value(_ToServer):
    """Get CO2 Value (0x09)."""

    COMMAND_ID: ClassVar[int] = 0x09

    earliest_start_time: UTC
    min_issuer_event_id: U32
    number_of_commands: U8
    tariff_type: BITMAP8


@dataclass(frozen=True, slots=True)
class GetTierLabels(_ToServer):
    """Get Tier Labels (0x0A)."""

    COMMAND_ID: ClassVar[int] = 0x0A

    issuer_tariff_id: U32


@dataclass(frozen=True, slots=True)
class GetBillingPeriod(_ToServer):
    """Get Billing Period (0x0B); GCS21d/k."""

    COMMAND_ID: ClassVar[int] = 0x0B

    earliest_start_time: UTC
    #: 0xFFFFFFFF = the current billing period.
    min_issuer_event_id: U32
    number_of_commands: U8
    tariff_type: BITMAP8


@dataclass(frozen=True, slots=True)
class GetCurrencyConversion(_ToServer):
    """Get Currency Conversion (0x0F): no payload."""

    COMMAND_ID: ClassVar[int] = 0x0F


@dataclass(frozen=True, slots=True)
class GetTariffCancellation(_ToServer):
    """Get Tariff Cancellation (0x10): no payload."""

    COMMAND_ID: ClassVar[int] = 0x10


# ------------------------------------------------------------------ server -> client


@dataclass(frozen=True, slots=True)
class PublishPrice(_ToClient):
    """Publish Price (0x00); the GSME's answer to Get Current Price (GCS21f).

    The fields from ``price_ratio`` on are optional trailing fields (GBCS devices may send
    none of them, or all 19 octets).
    """

    COMMAND_ID: ClassVar[int] = 0x00

    provider_id: U32
    rate_label: OCTETS
    issuer_event_id: U32
    current_time: UTC
    unit_of_measure: UNIT_OF_MEASURE
    currency: CURRENCY
    price_trailing_digit_and_tier: Annotated[int, NibblePair("trailing_digits", "price_tier")]
    number_of_price_tiers_and_register_tier: Annotated[
        int, NibblePair("number_of_price_tiers", "register_tier")
    ]
    start_time: UTC
    duration_in_minutes: U16
    price: U32
    price_ratio: _TAIL_U8 = None
    generation_price: _TAIL_U32 = None
    generation_price_ratio: _TAIL_U8 = None
    alternate_cost_delivered: _TAIL_U32 = None
    alternate_cost_unit: _TAIL_U8 = None
    alternate_cost_trailing_digit: _TAIL_U8 = None
    number_of_block_thresholds: _TAIL_U8 = None
    price_control: _TAIL_U8 = None
    number_of_generation_tiers: _TAIL_U8 = None
    generation_tier: _TAIL_U8 = None
    extended_number_of_price_tiers: _TAIL_U8 = None
    extended_price_tier: _TAIL_U8 = None
    extended_register_tier: _TAIL_U8 = None

    def to_json(self) -> dict[str, Any]:
        out = super(PublishPrice, self).to_json()
        out["price_readable"] = scaled(self.price, self.price_trailing_digit_and_tier)
        return out


@dataclass(frozen=True, slots=True)
class PublishBlockPeriod(_ToClient):
    """Publish Block Period (0x01); GCS25."""

    COMMAND_ID: ClassVar[int] = 0x01

    provider_id: U32
    issuer_event_id: U32
    block_period_start_time: UTC
    block_period_duration: U24
    block_period_control: BITMAP8
    #: Low nibble: duration timebase (0 minutes, 1 days, 2 weeks, 3 months); high nibble:
    #: duration control.
    block_period_duration_type: BITMAP8
    tariff_type: BITMAP8
    tariff_resolution_period: U8


@dataclass(frozen=True, slots=True)
class PublishConversionFactor(_ToClient):
    """Publish Conversion Factor (0x02); GCS23."""

    COMMAND_ID: ClassVar[int] = 0x02

    issuer_event_id: U32
    start_time: UTC
    conversion_factor: U32
    conversion_factor_trailing_digit: TRAILING_DIGIT

    def to_json(self) -> dict[str, Any]:
        out = super(PublishConversionFactor, self).to_json()
        out["conversion_factor_readable"] = scaled(
            self.conversion_factor, self.conversion_factor_trailing_digit
        )
        return out


@dataclass(frozen=True, slots=True)
class PublishCalorificValue(_ToClient):
    """Publish Calorific Value (0x03); GCS23."""

    COMMAND_ID: ClassVar[int] = 0x03

    issuer_event_id: U32
    start_time: UTC
    calorific_value: U32
    #: 1 MJ/m3, 2 MJ/kg.
    calorific_value_unit: U8
    calorific_value_trailing_digit: TRAILING_DIGIT

    def to_json(self) -> dict[str, Any]:
        out = super(PublishCalorificValue, self).to_json()
        out["calorific_value_readable"] = scaled(
            self.calorific_value, self.calorific_value_trailing_digit
        )
        return out


@dataclass(frozen=True, slots=True)
class PublishTariffInformation(_ToClient):
    """Publish Tariff Information (0x04); GCS01a/b."""

    COMMAND_ID: ClassVar[int] = 0x04

    provider_id: U32
    issuer_event_id: U32
    issuer_tariff_id: U32
    start_time: UTC
    #: Low nibble: tariff type (0 delivered); high nibble: charging scheme (0 TOU, 1 block).
    tariff_type_charging_scheme: BITMAP8
    tariff_label: OCTETS
    number_of_price_tiers_in_use: U8
    number_of_block_thresholds_in_use: U8
    unit_of_measure: UNIT_OF_MEASURE
    currency: CURRENCY
    price_trailing_digit: TRAILING_DIGIT
    standing_charge: U32
    tier_block_mode: U8
    block_threshold_multiplier: U24
    block_threshold_divisor: U24

    def to_json(self) -> dict[str, Any]:
        out = super(PublishTariffInformation, self).to_json()
        out["standing_charge_readable"] = scaled(self.standing_charge, self.price_trailing_digit)
        return out


@dataclass(frozen=True, slots=True)
class PriceMatrixEntry(ZclRecord):
    """Price matrix sub-payload entry: tier (TOU) or tier<<4 | block (block) id, price."""

    tier_block_id: U8
    price: U32


@dataclass(frozen=True, slots=True)
class PublishPriceMatrix(_ToClient):
    """Publish Price Matrix (0x05); GCS01a/b. Prices scale by the tariff's trailing digit."""

    COMMAND_ID: ClassVar[int] = 0x05

    provider_id: U32
    issuer_event_id: U32
    start_time: UTC
    issuer_tariff_id: U32
    command_index: U8
    total_number_of_commands: U8
    #: Bit 0: 1 = TOU-based entries (tier ids), 0 = block / block-TOU (tier<<4 | block).
    sub_payload_control: BITMAP8
    entries: Annotated[tuple[PriceMatrixEntry, ...], Repeat(PriceMatrixEntry)]


@dataclass(frozen=True, slots=True)
class BlockThresholdSet(ZclRecord):
    """Block threshold sub-payload: tier<<4 | count, then ``count`` uint48 thresholds."""

    tier_and_count: Annotated[int, NibblePair("tier", "number_of_thresholds")]
    thresholds: Annotated[
        tuple[int, ...], SizedBy(UInt(6), "tier_and_count", lambda v: v & 0x0F)
    ]


@dataclass(frozen=True, slots=True)
class PublishBlockThresholds(_ToClient):
    """Publish Block Thresholds (0x06); GCS01a."""

    COMMAND_ID: ClassVar[int] = 0x06

    provider_id: U32
    issuer_event_id: U32
    start_time: UTC
    issuer_tariff_id: U32
    command_index: U8
    total_number_of_commands: U8
    #: Bit 0: 1 = the thresholds apply to all TOU tiers / block-only charging.
    sub_payload_control: BITMAP8
    threshold_sets: Annotated[tuple[BlockThresholdSet, ...], Repeat(BlockThresholdSet)]


@dataclass(frozen=True, slots=True)
class PublishCo2Value(_ToClient):
    """Publish CO2 Value (0x07)."""

    COMMAND_ID: ClassVar[int] = 0x07

    provider_id: U32
    issuer_event_id: U32
    start_time: UTC
    tariff_type: U8
    co2_value: U32
    co2_value_unit: U8
    co2_value_trailing_digit: TRAILING_DIGIT


@dataclass(frozen=True, slots=True)
class TierLabel(ZclRecord):
    """Tier id + label."""

    tier_id: U8
    tier_label: OCTETS


@dataclass(frozen=True, slots=True)
class PublishTierLabels(_ToClient):
    """Publish Tier Labels (0x08)."""

    COMMAND_ID: ClassVar[int] = 0x08

    provider_id: U32
    issuer_event_id: U32
    issuer_tariff_id: U32
    command_index: U8
    total_number_of_commands: U8
    #: Preceded on the wire by their count (Number of Labels).
    labels: Annotated[tuple[TierLabel, ...], Counted(TierLabel)]


@dataclass(frozen=True, slots=True)
class PublishBillingPeriod(_ToClient):
    """Publish Billing Period (0x09); GCS25 sets it, GCS21d reads it back."""

    COMMAND_ID: ClassVar[int] = 0x09

    provider_id: U32
    issuer_event_id: U32
    billing_period_start_time: UTC
    billing_period_duration: U24
    billing_period_duration_type: BITMAP8
    tariff_type: BITMAP8


@dataclass(frozen=True, slots=True)
class PublishCurrencyConversion(_ToClient):
    """Publish Currency Conversion (0x0C)."""

    COMMAND_ID: ClassVar[int] = 0x0C

    provider_id: U32
    issuer_event_id: U32
    start_time: UTC
    old_currency: CURRENCY
    new_currency: CURRENCY
    conversion_factor: U32
    conversion_factor_trailing_digit: Annotated[int, TrailingDigit()]
    currency_change_control_flags: BITMAP32


@dataclass(frozen=True, slots=True)
class CancelTariff(_ToClient):
    """Cancel Tariff (0x0D)."""

    COMMAND_ID: ClassVar[int] = 0x0D

    provider_id: U32
    issuer_tariff_id: U32
    tariff_type: BITMAP8

