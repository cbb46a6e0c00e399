"""Readable names of the ZCL / Smart Energy attributes GBCS reads and writes.

Protocol layer (sans-IO); ZCL r8 Basic (0x0000), Identify (0x0003), Time (0x000A) and SE 1.4
Price, Metering, Prepayment attribute sets, as GBCS use cases read them (GBCS ref. §7.7).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = ["ATTRIBUTE_NAMES", "attribute_name"]


def _range(base: int, template: str, count: int, start: int = 1, step: int = 1) -> dict[int, str]:
    return {base + i * step: template.format(n=start + i) for i in range(count)}


_BASIC: Final = {
    0x0000: "zcl_version",
    0x0001: "application_version",
    0x0002: "stack_version",
    0x0003: "hw_version",
    0x0004: "manufacturer_name",
    0x0005: "model_identifier",
    0x0006: "date_code",
    0x0007: "power_source",
    0x4000: "sw_build_id",
}
_IDENTIFY: Final = {0x0000: "identify_time"}
_TIME: Final = {
    0x0000: "time",
    0x0001: "time_status",
    0x0002: "time_zone",
    0x0003: "dst_start",
    0x0004: "dst_end",
    0x0005: "dst_shift",
    0x0006: "standard_time",
    0x0007: "local_time",
    0x0008: "last_set_time",
    0x0009: "valid_until_time",
}
_PRICE: Final = {
    **_range(0x0000, "tier_{n}_price_label", 48),
    **_range(0x0100, "block_{n}_threshold", 15),
    0x0200: "start_of_block_period",
    0x0201: "block_period_duration",
    0x0202: "threshold_multiplier",
    0x0203: "threshold_divisor",
    0x0204: "block_period_duration_type",
    0x0300: "commodity_type",
    0x0301: "standing_charge",
    0x0302: "conversion_factor",
    0x0303: "conversion_factor_trailing_digit",
    0x0304: "calorific_value",
    0x0305: "calorific_value_unit",
    0x0306: "calorific_value_trailing_digit",
    **_range(0x0400, "no_tier_block_{n}_price", 16),
    **{
        0x0410 + 0x10 * t + b: f"tier_{t + 1}_block_{b + 1}_price"
        for t in range(15)
        for b in range(16)
    },
    0x0610: "price_tier",
    0x0611: "price_tier_count",
    0x0612: "active_register_tier_delivered",
    0x0615: "unit_of_measure",
    0x0616: "currency",
    0x0617: "price_trailing_digit",
    0x0619: "tariff_resolution_period",
    0x0700: "current_billing_period_start",
    0x0701: "current_billing_period_duration",
    0x0702: "last_billing_period_start",
    0x0703: "last_billing_period_duration",
    0x0704: "last_billing_period_consolidated_bill",
}
_METERING: Final = {
    0x0000: "current_summation_delivered",
    0x0001: "current_summation_received",
    0x0002: "current_max_demand_delivered",
    0x0007: "reading_snapshot_time",
    0x000A: "default_update_period",
    0x0014: "supply_status",
    **{
        0x0100 + 2 * i: f"current_tier_{i + 1}_summation_delivered" for i in range(48)
    },
    0x0200: "status",
    0x0205: "remaining_battery_life_in_days",
    0x0206: "current_meter_id",
    0x0207: "ambient_consumption_indicator",
    0x0300: "unit_of_measure",
    0x0301: "multiplier",
    0x0302: "divisor",
    0x0303: "summation_formatting",
    0x0306: "metering_device_type",
    0x0307: "site_id",
    0x0308: "meter_serial_number",
    0x030C: "module_serial_number",
    0x0311: "customer_id_number",
    0x0400: "instantaneous_demand",
    0x0401: "current_day_consumption_delivered",
    0x0403: "previous_day_consumption_delivered",
    0x0600: "current_day_alternative_consumption_delivered",
    0x0607: "supply_tamper_state",
    0x0608: "supply_depletion_state",
    0x0609: "supply_uncontrolled_flow_state",
    **_range(0x0700, "current_no_tier_block_{n}_summation_delivered", 16),
    0x0A00: "bill_to_date_delivered",
    0x0A01: "bill_to_date_time_stamp_delivered",
    0x0A02: "projected_bill_delivered",
    0x0A03: "projected_bill_time_stamp_delivered",
    0x0A04: "bill_delivered_trailing_digit",
    0x0B10: "uncontrolled_flow_threshold",
    0x0B11: "uncontrolled_flow_threshold_unit_of_measure",
    0x0B12: "uncontrolled_flow_multiplier",
    0x0B13: "uncontrolled_flow_divisor",
    0x0B14: "flow_stabilisation_period",
    0x0B15: "flow_measurement_period",
}
_PREPAYMENT: Final = {
    0x0000: "payment_control_configuration",
    0x0001: "credit_remaining",
    0x0002: "emergency_credit_remaining",
    0x0003: "credit_status",
    0x0004: "credit_remaining_time_stamp",
    0x0005: "accumulated_debt",
    0x0006: "overall_debt_cap",
    0x0010: "emergency_credit_limit_allowance",
    0x0011: "emergency_credit_threshold",
    0x0020: "total_credit_added",
    0x0021: "max_credit_limit",
    0x0022: "max_credit_per_top_up",
    0x0030: "friendly_credit_warning",
    0x0031: "low_credit_warning_level",
    0x0032: "ihd_low_credit_warning_level",
    0x0033: "interrupt_suspend_time",
    0x0034: "remaining_friendly_credit_time",
    0x0035: "next_friendly_credit_period",
    0x0040: "cut_off_value",
    0x0080: "token_carrier_id",
    **{
        0x0100 + 0x10 * i + k: f"top_up_{name}_{i + 1}"
        for i in range(5)
        for k, name in ((0, "date_time"), (1, "amount"), (2, "originating_device"), (3, "code"))
    },
    **{
        0x0210 + 0x10 * d + k: f"{name}_{d + 1}"
        for d in range(3)
        for k, name in (
            (0, "debt_label"),
            (1, "debt_amount"),
            (2, "debt_recovery_method"),
            (3, "debt_recovery_start_time"),
            (4, "debt_recovery_collection_time"),
            (6, "debt_recovery_frequency"),
            (7, "debt_recovery_amount"),
            (9, "debt_recovery_top_up_percentage"),
        )
    },
}

#: (cluster id, attribute id) -> snake_case name.
ATTRIBUTE_NAMES: Final[Mapping[tuple[int, int], str]] = {
    **{(0x0000, k): v for k, v in _BASIC.items()},
    **{(0x0003, k): v for k, v in _IDENTIFY.items()},
    **{(0x000A, k): v for k, v in _TIME.items()},
    **{(0x0700, k): v for k, v in _PRICE.items()},
    **{(0x0702, k): v for k, v in _METERING.items()},
    **{(0x0705, k): v for k, v in _PREPAYMENT.items()},
}


def attribute_name(cluster_id: int, attribute_id: int) -> str | None:
    """The attribute's snake_case name, or ``None`` when not in the table."""
    return ATTRIBUTE_NAMES.get((cluster_id, attribute_id))
