# ruff: noqa: E501 - a data table: one row per line reads best
"""The COSEM objects of the ESME configuration and control
use cases (Use Case volume, sections 3, 6-9).

Layer: protocols (sans-IO). Part of :data:`smemu.protocols.dlms.objects.USE_CASE_OBJECTS`;
rows follow each use case's "DLMS COSEM specific content" table in
../shared/docs/spec/gbcs-use-cases.html (order per GBCS 19.2.1), one :class:`CosemObject`
per attribute or method, with the fields the volume lists for structured values.
"""

from __future__ import annotations

from typing import Final

from smemu.protocols.dlms.object_types import CosemObject, F, o

OBJECTS: Final[dict[str, tuple[CosemObject, ...]]] = {
    "ECS10": (
        o(1, "0-2:96.13.1.255", "A", 2, "value", "SupplierMessage", type="octet-string(116)"),
    ),
    "ECS12": (
        o(1, "0-0:94.44.3.2", "A", 2, "value", "restrictDataDateTime", type="octet-string(12)"),
    ),
    "ECS14": (
        o(1, "0-0:94.44.3.1", "A", 2, "value", "DisablePrivacyPinProtection", type="octet-string(0)"),
    ),
    "ECS15a": (
        o(7, "0-0:99.98.0.255", "M", 1, "reset", "EventLog(incGPF)", type="integer"),
    ),
    "ECS16": (
        o(9000, "0-0:96.13.0.255", "A", 2, "value_active", "ContactDetails", type="octet-string(18)"),
        o(9000, "0-0:96.13.1.255", "A", 2, "value_active", "ContactDetails", type="octet-string(15)"),
    ),
    "ECS28a": (
        o(9000, "0-0:94.44.0.3", "A", 4, "value_passive", "LoadLimitSupplyState", type="boolean"),
        o(9000, "0-0:94.44.128.7", "A", 4, "value_passive", "LoadLimitPowerThreshold", type="double-long-unsigned"),
        o(9000, "0-0:94.44.128.6", "A", 4, "value_passive", "LoadLimitPeriod(Timer)", type="double-long-unsigned"),
        o(9000, "0-0:94.44.128.8", "A", 4, "value_passive", "LoadLimitRestorationPeriod(Timer)", type="double-long-unsigned"),
        o(9000, "0-0:94.44.0.3", "A", 6, "activate_passive_value_time", "LoadLimitSupplyState", type="octet-string(12)"),
        o(9000, "0-0:94.44.128.7", "A", 6, "activate_passive_value_time", "LoadLimitPowerThreshold", type="octet-string(12)"),
        o(9000, "0-0:94.44.128.6", "A", 6, "activate_passive_value_time", "LoadLimitPeriod(Timer)", type="octet-string(12)"),
        o(9000, "0-0:94.44.128.8", "A", 6, "activate_passive_value_time", "LoadLimitRestorationPeriod(Timer)", type="octet-string(12)"),
    ),
    "ECS28b": (
        o(3, "0-0:94.44.42.255", "M", 1, "reset", "LoadLimitCounter", type="integer"),
    ),
    "ECS29a": (
        o(7, "1-0:32.24.0.255", "A", 4, "capture_period", "(Phase[1])AverageRMSVoltageProfileDataLog", type="double-long-unsigned"),
        o(71, "0-0:17.0.1.255", "A", 4, "threshold_normal", "RMSExtremeOverVoltageThreshold", type="double-long-unsigned"),
        o(71, "0-0:17.0.1.255", "A", 6, "min_over_threshold_duration", "RMSExtremeOverVoltageMeasurementPeriod", type="double-long-unsigned"),
        o(71, "0-0:17.0.2.255", "A", 4, "threshold_normal", "RMSExtremeUnderVoltageThreshold", type="double-long-unsigned"),
        o(71, "0-0:17.0.2.255", "A", 6, "min_over_threshold_duration", "RMSExtremeUnderVoltageMeasurementPeriod", type="double-long-unsigned"),
        o(71, "0-0:17.0.3.255", "A", 4, "threshold_normal", "RMSVoltageSagThreshold", type="double-long-unsigned"),
        o(71, "0-0:17.0.3.255", "A", 6, "min_over_threshold_duration", "RMSVoltageSagMeasurementPeriod", type="double-long-unsigned"),
        o(71, "0-0:17.0.4.255", "A", 4, "threshold_normal", "RMSVoltageSwellThreshold", type="double-long-unsigned"),
        o(71, "0-0:17.0.4.255", "A", 6, "min_over_threshold_duration", "RMSVoltageSwellMeasurementPeriod", type="double-long-unsigned"),
        o(1, "1-0:32.35.0.4", "A", 2, "value", "(Phase[1])AverageRMSOverVoltageThreshold", type="double-long-unsigned"),
        o(1, "1-0:32.31.0.4", "A", 2, "value", "(Phase[1])AverageRMSUnderVoltageThreshold", type="double-long-unsigned"),
        o(3, "1-0:32.32.0.4", "M", 1, "reset", "(Phase[1])AverageRMSUnderVoltageCounter", type="integer"),
        o(3, "1-0:32.36.0.4", "M", 1, "reset", "(Phase[1])AverageRMSOverVoltageCounter", type="integer"),
    ),
    "ECS34": (
        o(21, "0-0:16.0.0.255", "A", 2, "thresholds", "LowMediumPowerThreshold",
            F("thresholds[1of2..2].threshold", "double-long-unsigned", label="threshold"),
            F("thresholds[2of2..2].threshold", "double-long-unsigned", label="threshold"),
        ),
    ),
    "ECS37": (
        o(10, "0-0:12.0.0.255", "A", 2, "entries", "MaximumDemandConfigurableTimePeriod",
            F("entries[1..2].schedule_table_entry.index", "long-unsigned", label="currentEntries[1..2].index"),
            F("entries[1..2].schedule_table_entry.enable", "boolean", constant="||0x01", label="currentEntries[1..2].enable"),
            F("entries[1..2].schedule_table_entry.script_logical_name", "octet-string(6)", constant="||0x00000A8064FF", label="currentEntries[1..2].scriptLN"),
            F("entries[1..2].schedule_table_entry.script_selector", "long-unsigned", label="currentEntries[1..2].scriptSelector"),
            F("entries[1..2].schedule_table_entry.switch_time", "octet-string(4)", label="currentEntries[1..2].switchTime"),
            F("entries[1..2].schedule_table_entry.validity_window", "long-unsigned", constant="||0xFFFF", label="currentEntries[1..2].validityWindow"),
            F("entries[1..2].schedule_table_entry.exec_weekdays", "bit-string(7)", constant="||0b11111110 (bit padding is on the least significant bit)", label="currentEntries[1..2].execWeekdays[1..7]"),
            F("entries[1..2].schedule_table_entry.exec_specdays", "bit-string(0)", constant="||0x", label="currentEntries[1..2].execSpecdays[0..0]"),
            F("entries[1..2].schedule_table_entry.begin_date", "octet-string(5)", constant="||0x000001FFFF", label="currentEntries[1..2].beginDate"),
            F("entries[1..2].schedule_table_entry.end_date", "octet-string(5)", constant="||0xFFFFFFFFFF", label="currentEntries[1..2].endDate"),
        ),
    ),
    "ECS38": (
        o(1, "0-0:94.44.0.1", "A", 2, "value", "RandomisedOffsetLimit", type="long-unsigned"),
    ),
    "ECS39a": (
        o(1, "0-0:94.44.34.11", "A", 2, "value", "MeterPointAdministrationNumber(combinedMPANS)", type="octet-string(26)"),
    ),
    "ECS39b": (
        o(1, "1-0:0.0.2.255", "A", 2, "value", "MeterPointAdministrationNumber(ExportMPAN)", type="octet-string(13)"),
    ),
    "ECS42": (
        o(9, "0-0:10.0.106.255", "M", 1, "execute", "SupplyState",
            F("data", "long-unsigned", constant="||0x0033", label="enable"),
        ),
    ),
    "ECS43": (
        o(9, "0-0:10.0.106.255", "M", 1, "execute", "SupplyState",
            F("data", "long-unsigned", constant="||0x0034", label="disable"),
        ),
    ),
    "ECS44": (
        o(9, "0-0:10.0.106.255", "M", 1, "execute", "SupplyState",
            F("data", "long-unsigned", constant="||0x0036", label="arm"),
        ),
    ),
    "ECS46a": (
        o(1, "0-0:94.44.0.11", "A", 2, "value", "AuxiliaryController[1]", condition="OPTIONAL", type="visible-string(22)"),
        o(1, "0-0:94.44.0.12", "A", 2, "value", "AuxiliaryController[2]", condition="OPTIONAL", type="visible-string(22)"),
        o(1, "0-0:94.44.0.13", "A", 2, "value", "AuxiliaryController[3]", condition="OPTIONAL", type="visible-string(22)"),
        o(1, "0-0:94.44.0.14", "A", 2, "value", "AuxiliaryController[4]", condition="OPTIONAL", type="visible-string(22)"),
        o(1, "0-0:94.44.0.15", "A", 2, "value", "AuxiliaryController[5]", condition="OPTIONAL", type="visible-string(22)"),
    ),
    "ECS50": (
        o(1, "0-3:96.13.1.255", "A", 2, "value", "CustomerIdentificationNumber", type="octet-string(4)"),
    ),
    "ECS57": (
        o(4, "1-0:1.6.0.255", "M", 1, "reset", "MaximumDemandActiveEnergyImportValue", condition="OPTIONAL", type="integer"),
        o(4, "1-0:1.6.1.255", "M", 1, "reset", "MaximumDemand(ConfigurableTime)ActiveEnergyImportValue", condition="OPTIONAL", type="integer"),
        o(4, "1-0:2.6.0.255", "M", 1, "reset", "MaximumDemandActiveEnergyExportValue", condition="OPTIONAL", type="integer"),
    ),
    "ECS62": (
        o(1, "0-0:94.44.6.1", "A", 2, "value", "BoostFunctionControl[1]", type="boolean"),
        o(1, "0-0:94.44.6.2", "A", 2, "value", "BoostFunctionControl[2]", type="boolean"),
        o(1, "0-0:94.44.6.3", "A", 2, "value", "BoostFunctionControl[3]", type="boolean"),
        o(1, "0-0:94.44.6.4", "A", 2, "value", "BoostFunctionControl[4]", type="boolean"),
        o(1, "0-0:94.44.6.5", "A", 2, "value", "BoostFunctionControl[5]", type="boolean"),
    ),
    "ECS70": (
        o(8, "0-0:1.0.0.255", "A", 9, "clock_base", "Time", type="enum"),
        o(8, "0-0:1.0.0.255", "M", 5, "preset_adjusting_time", "Time",
            F("preset_adjusting_time.preset_time", "octet-string(12)", constant="||0xFFFFFFFFFFFFFFFFFF8000FF", label="methodInput: presetTime"),
            F("preset_adjusting_time.validity_interval_end", "octet-string(12)", label="methodInput: timeRangeEnd"),
            F("preset_adjusting_time.validity_interval_start", "octet-string(12)", label="methodInput: timeRangeStart"),
        ),
        o(8, "0-0:1.0.0.255", "M", 4, "adjust_to_preset_time", "Time", type="integer"),
        o(8, "0-0:1.0.0.255", "A", 2, "time", "Time", type="octet-string(12)"),
        o(8, "0-0:1.0.0.255", "A", 4, "status", "Time", type="unsigned"),
    ),
    "ECS81": (
        o(1, "0-0:94.44.0.4", "A", 2, "value", "SupplyTamperState", type="boolean"),
    ),
    "ECS25a": (
        o(1, "0-30:97.98.11.255", "A", 2, "value", "Alerts Configuration Settings - Supplier", type="bit-string(512)"),
    ),
    "ECS29b": (
        o(7, "1-0:32.24.0.255", "A", 4, "capture_period", "(Phase[1])AverageRMSVoltageProfileDataLog", type="double-long-unsigned"),
        o(7, "1-0:52.24.0.255", "A", 4, "capture_period", "(Phase[2])AverageRMSVoltageProfileDataLog", type="double-long-unsigned"),
        o(7, "1-0:72.24.0.255", "A", 4, "capture_period", "(Phase[3])AverageRMSVoltageProfileDataLog", type="double-long-unsigned"),
        o(71, "0-0:17.0.1.255", "A", 4, "threshold_normal", "RMSExtremeOverVoltageThreshold", type="double-long-unsigned"),
        o(71, "0-0:17.0.1.255", "A", 6, "min_over_threshold_duration", "RMSExtremeOverVoltageMeasurementPeriod", type="double-long-unsigned"),
        o(71, "0-0:17.0.2.255", "A", 4, "threshold_normal", "RMSExtremeUnderVoltageThreshold", type="double-long-unsigned"),
        o(71, "0-0:17.0.2.255", "A", 6, "min_over_threshold_duration", "RMSExtremeUnderVoltageMeasurementPeriod", type="double-long-unsigned"),
        o(71, "0-0:17.0.3.255", "A", 4, "threshold_normal", "RMSVoltageSagThreshold", type="double-long-unsigned"),
        o(71, "0-0:17.0.3.255", "A", 6, "min_over_threshold_duration", "RMSVoltageSagMeasurementPeriod", type="double-long-unsigned"),
        o(71, "0-0:17.0.4.255", "A", 4, "threshold_normal", "RMSVoltageSwellThreshold", type="double-long-unsigned"),
        o(71, "0-0:17.0.4.255", "A", 6, "min_over_threshold_duration", "RMSVoltageSwellMeasurementPeriod", type="double-long-unsigned"),
        o(1, "1-0:32.35.0.4", "A", 2, "value", "(Phase[1])AverageRMSOverVoltageThreshold", type="double-long-unsigned"),
        o(1, "1-0:32.31.0.4", "A", 2, "value", "(Phase[1])AverageRMSUnderVoltageThreshold", type="double-long-unsigned"),
        o(1, "1-0:52.31.0.4", "A", 2, "value", "(Phase[2])AverageRMSUnderVoltageThreshold", type="double-long-unsigned"),
        o(1, "1-0:52.35.0.4", "A", 2, "value", "(Phase[2])AverageRMSOverVoltageThreshold", type="double-long-unsigned"),
        o(1, "1-0:72.31.0.4", "A", 2, "value", "(Phase[3])AverageRMSUnderVoltageThreshold", type="double-long-unsigned"),
        o(1, "1-0:72.35.0.4", "A", 2, "value", "(Phase[3])AverageRMSOverVoltageThreshold", type="double-long-unsigned"),
        o(3, "1-0:32.32.0.4", "M", 1, "reset", "(Phase[1])AverageRMSUnderVoltageCounter", type="integer"),
        o(3, "1-0:32.36.0.4", "M", 1, "reset", "(Phase[1])AverageRMSOverVoltageCounter", type="integer"),
        o(3, "1-0:52.32.0.4", "M", 1, "reset", "(Phase[2])AverageRMSUnderVoltageCounter", type="integer"),
        o(3, "1-0:52.36.0.4", "M", 1, "reset", "(Phase[2])AverageRMSOverVoltageCounter", type="integer"),
        o(3, "1-0:72.32.0.4", "M", 1, "reset", "(Phase[3])AverageRMSUnderVoltageCounter", type="integer"),
        o(3, "1-0:72.36.0.4", "M", 1, "reset", "(Phase[3])AverageRMSOverVoltageCounter", type="integer"),
    ),
    "ECS25b": (
        o(1, "0-33:97.98.11.255", "A", 2, "value", "Alerts Configuration Settings - DNO", type="bit-string(512)"),
    ),
    "ECS15c": (
        o(7, "0-17:99.98.2.255", "M", 1, "reset", "AuxiliaryControllerEventLog", type="integer"),
    ),
    "ECS29c": (
        o(1, "1-0:32.31.0.4", "A", 2, "value", "(Phase[1])AverageRMSUnderVoltageThreshold", type="double-long-unsigned"),
        o(1, "1-0:32.35.0.4", "A", 2, "value", "(Phase[1])AverageRMSOverVoltageThreshold", type="double-long-unsigned"),
        o(7, "1-0:32.24.0.255", "A", 4, "capture_period", "(Phase[1])AverageRMSVoltageMeasurementPeriod", type="double-long-unsigned"),
        o(71, "0-0:17.0.1.255", "A", 4, "threshold_normal", "RMSExtremeOverVoltageThreshold", type="double-long-unsigned"),
        o(71, "0-0:17.0.1.255", "A", 6, "min_over_threshold_duration", "RMSExtremeOverVoltageMeasurementPeriod", type="double-long-unsigned"),
        o(71, "0-0:17.0.2.255", "A", 4, "threshold_normal", "RMSExtremeUnderVoltageThreshold", type="double-long-unsigned"),
        o(71, "0-0:17.0.2.255", "A", 6, "min_over_threshold_duration", "RMSExtremeUnderVoltageMeasurementPeriod", type="double-long-unsigned"),
        o(71, "0-0:17.0.3.255", "A", 4, "threshold_normal", "RMSVoltageSagThreshold", type="double-long-unsigned"),
        o(71, "0-0:17.0.3.255", "A", 6, "min_over_threshold_duration", "RMSVoltageSagMeasurementPeriod", type="double-long-unsigned"),
        o(71, "0-0:17.0.4.255", "A", 4, "threshold_normal", "RMSVoltageSwellThreshold", type="double-long-unsigned"),
        o(71, "0-0:17.0.4.255", "A", 6, "min_over_threshold_duration", "RMSVoltageSwellMeasurementPeriod", type="double-long-unsigned"),
    ),
    "ECS29d": (
        o(1, "1-0:32.31.0.4", "A", 2, "value", "(Phase[1])AverageRMSUnderVoltageThreshold", type="double-long-unsigned"),
        o(1, "1-0:32.35.0.4", "A", 2, "value", "(Phase[1])AverageRMSOverVoltageThreshold", type="double-long-unsigned"),
        o(1, "1-0:52.31.0.4", "A", 2, "value", "(Phase[2])AverageRMSUnderVoltageThreshold", type="double-long-unsigned"),
        o(1, "1-0:52.35.0.4", "A", 2, "value", "(Phase[2])AverageRMSOverVoltageThreshold", type="double-long-unsigned"),
        o(1, "1-0:72.31.0.4", "A", 2, "value", "(Phase[3])AverageRMSUnderVoltageThreshold", type="double-long-unsigned"),
        o(1, "1-0:72.35.0.4", "A", 2, "value", "(Phase[3])AverageRMSOverVoltageThreshold", type="double-long-unsigned"),
        o(7, "1-0:32.24.0.255", "A", 4, "capture_period", "(Phase[1])AverageRMSVoltageMeasurementPeriod", type="double-long-unsigned"),
        o(7, "1-0:52.24.0.255", "A", 4, "capture_period", "(Phase[2])AverageRMSVoltageMeasurementPeriod", type="double-long-unsigned"),
        o(7, "1-0:72.24.0.255", "A", 4, "capture_period", "(Phase[3])AverageRMSVoltageMeasurementPeriod", type="double-long-unsigned"),
        o(71, "0-0:17.0.1.255", "A", 4, "threshold_normal", "RMSExtremeOverVoltageThreshold", type="double-long-unsigned"),
        o(71, "0-0:17.0.1.255", "A", 6, "min_over_threshold_duration", "RMSExtremeOverVoltageMeasurementPeriod", type="double-long-unsigned"),
        o(71, "0-0:17.0.2.255", "A", 4, "threshold_normal", "RMSExtremeUnderVoltageThreshold", type="double-long-unsigned"),
        o(71, "0-0:17.0.2.255", "A", 6, "min_over_threshold_duration", "RMSExtremeUnderVoltageMeasurementPeriod", type="double-long-unsigned"),
        o(71, "0-0:17.0.3.255", "A", 4, "threshold_normal", "RMSVoltageSagThreshold", type="double-long-unsigned"),
        o(71, "0-0:17.0.3.255", "A", 6, "min_over_threshold_duration", "RMSVoltageSagMeasurementPeriod", type="double-long-unsigned"),
        o(71, "0-0:17.0.4.255", "A", 4, "threshold_normal", "RMSVoltageSwellThreshold", type="double-long-unsigned"),
        o(71, "0-0:17.0.4.255", "A", 6, "min_over_threshold_duration", "RMSVoltageSwellMeasurementPeriod", type="double-long-unsigned"),
    ),
    "ECS29e": (
        o(3, "1-0:32.32.0.4", "M", 1, "reset", "(Phase[1])AverageRMSUnderVoltageCounter", type="integer"),
        o(3, "1-0:32.36.0.4", "M", 1, "reset", "(Phase[1])AverageRMSOverVoltageCounter", type="integer"),
    ),
    "ECS29f": (
        o(3, "1-0:32.32.0.4", "M", 1, "reset", "(Phase[1])AverageRMSUnderVoltageCounter", type="integer"),
        o(3, "1-0:32.36.0.4", "M", 1, "reset", "(Phase[1])AverageRMSOverVoltageCounter", type="integer"),
        o(3, "1-0:52.32.0.4", "M", 1, "reset", "(Phase[2])AverageRMSUnderVoltageCounter", type="integer"),
        o(3, "1-0:52.36.0.4", "M", 1, "reset", "(Phase[2])AverageRMSOverVoltageCounter", type="integer"),
        o(3, "1-0:72.32.0.4", "M", 1, "reset", "(Phase[3])AverageRMSUnderVoltageCounter", type="integer"),
        o(3, "1-0:72.36.0.4", "M", 1, "reset", "(Phase[3])AverageRMSOverVoltageCounter", type="integer"),
    ),
    "ECS30a": (
        o(22, "0-0:15.0.0.255", "A", 4, "execution_time", "BillingCalendar",
            F("execution_time[1..4].execution_time_date", "EXCEPTIONAL", label="startDateTimeAndLongerPeriodicity"),
        ),
    ),
    "ECS25a1": (
        o(1, "0-30:97.98.12.255", "A", 2, "value", "Alerts Configuration Settings - Supplier", type="bit-string(512)"),
    ),
    "ECS25a2": (
        o(1, "0-30:97.98.13.255", "A", 2, "value", "Events Configuration Settings - Supplier", type="bit-string(512)"),
    ),
    "ECS25a3": (
        o(1, "0-30:97.98.14.255", "A", 2, "value", "Events Configuration Settings - Supplier", type="bit-string(512)"),
    ),
    "ECS25b3": (
        o(1, "0-33:97.98.14.255", "A", 2, "value", "Events Configuration Settings - Network Operator", type="bit-string(512)"),
    ),
    "ECS25r1": (
        o(1, "0-30:97.98.15.255", "A", 2, "value", "Alerts Configuration Settings - Supplier", type="bit-string(256)"),
        o(1, "0-30:97.98.16.255", "A", 2, "value", "Alerts Configuration Settings - Supplier", type="bit-string(256)"),
        o(1, "0-30:97.98.17.255", "A", 2, "value", "Events Configuration Settings - Supplier", type="bit-string(256)"),
        o(1, "0-30:97.98.18.255", "A", 2, "value", "Events Configuration Settings - Supplier", type="bit-string(256)"),
    ),
    "ECS25r2": (
        o(1, "0-33:97.98.15.255", "A", 2, "value", "Alerts Configuration Settings - Network Operator", type="bit-string(256)"),
        o(1, "0-33:97.98.18.255", "A", 2, "value", "Events Configuration Settings - Network Operator", type="bit-string(256)"),
    ),
    "ECS46d": (
        o(11, "0-1:11.0.3.255", "A", 2, "entries", "AuxiliaryControllerCalendar(SpecialDays)",
            F("entries[0..20].spec_day_entry.index", "long-unsigned", label="index[0..20].next"),
            F("entries[0..20].spec_day_entry.specialday_date", "octet-string(5)", label="date[0..20].next"),
            F("entries[0..20].spec_day_entry.day_id", "unsigned", label="dayIdentifier[0..20].next"),
        ),
        o(10, "0-1:12.0.2.255", "A", 2, "entries", "AuxiliaryControllerCalendar",
            F("entries[0..120].schedule_table_entry.index", "long-unsigned", label="nextEntries[0..120].index"),
            F("entries[0..120].schedule_table_entry.enable", "boolean", constant="||0x01", label="nextEntries[0..120].enable"),
            F("entries[0..120].schedule_table_entry.script_logical_name", "octet-string(6)", constant="||0x00000A0067FF", label="nextEntries[0..120].scriptLN"),
            F("entries[0..120].schedule_table_entry.script_selector", "long-unsigned", label="nextEntries[0..120].scriptSelector"),
            F("entries[0..120].schedule_table_entry.switch_time", "octet-string(4)", label="nextEntries[0..120].switchTime"),
            F("entries[0..120].schedule_table_entry.validity_window", "long-unsigned", constant="||0xFFFF", label="nextEntries[0..120].validityWindow"),
            F("entries[0..120].schedule_table_entry.exec_weekdays", "bit-string(7)", label="nextEntries[0..120].execWeekdays[0..7]"),
            F("entries[0..120].schedule_table_entry.exec_specdays", "bit-string(20)", label="nextEntries[0..120].execSpecdays[0..20]"),
            F("entries[0..120].schedule_table_entry.begin_date", "octet-string(5)", label="nextEntries[0..120].beginDate"),
            F("entries[0..120].schedule_table_entry.end_date", "octet-string(5)", label="nextEntries[0..120].endDate"),
        ),
        o(9000, "0-0:94.44.128.26", "A", 6, "activate_passive_value_time", "AuxiliaryControllerCalendar", type="octet-string(12)"),
        o(9000, "0-0:94.44.128.35", "A", 6, "activate_passive_value_time", "AuxiliaryControllerCalendar(SpecialDays)", type="octet-string(12)"),
    ),
    "ECS47a": (
        o(1, "0-0:94.44.117.1", "A", 2, "value", "AuxiliaryController[1]", condition="OPTIONAL", type="octet-string(12)"),
        o(1, "0-0:94.44.117.2", "A", 2, "value", "AuxiliaryController[1]", condition="OPTIONAL", type="octet-string(12)"),
        o(1, "0-0:94.44.118.1", "A", 2, "value", "AuxiliaryController[2]", condition="OPTIONAL", type="octet-string(12)"),
        o(1, "0-0:94.44.118.2", "A", 2, "value", "AuxiliaryController[2]", condition="OPTIONAL", type="octet-string(12)"),
        o(1, "0-0:94.44.119.1", "A", 2, "value", "AuxiliaryController[3]", condition="OPTIONAL", type="octet-string(12)"),
        o(1, "0-0:94.44.119.2", "A", 2, "value", "AuxiliaryController[3]", condition="OPTIONAL", type="octet-string(12)"),
        o(1, "0-0:94.44.120.1", "A", 2, "value", "AuxiliaryController[4]", condition="OPTIONAL", type="octet-string(12)"),
        o(1, "0-0:94.44.120.2", "A", 2, "value", "AuxiliaryController[4]", condition="OPTIONAL", type="octet-string(12)"),
        o(1, "0-0:94.44.121.1", "A", 2, "value", "AuxiliaryController[5]", condition="OPTIONAL", type="octet-string(12)"),
        o(1, "0-0:94.44.121.2", "A", 2, "value", "AuxiliaryController[5]", condition="OPTIONAL", type="octet-string(12)"),
        o(9, "0-0:10.0.103.255", "M", 1, "data", "AuxiliaryController[n]", type="long-unsigned"),
    ),
    "ECS47e": (
        o(1, "0-0:94.44.117.3", "A", 2, "value", "AuxiliaryProportionalController[1]", condition="OPTIONAL", type="octet-string(12)"),
        o(1, "0-0:94.44.117.4", "A", 2, "value", "AuxiliaryProportionalController[1]", condition="OPTIONAL", type="octet-string(12)"),
        o(1, "0-0:94.44.118.3", "A", 2, "value", "AuxiliaryProportionalController[2]", condition="OPTIONAL", type="octet-string(12)"),
        o(1, "0-0:94.44.118.4", "A", 2, "value", "AuxiliaryProportionalController[2]", condition="OPTIONAL", type="octet-string(12)"),
        o(1, "0-0:94.44.119.3", "A", 2, "value", "AuxiliaryProportionalController[3]", condition="OPTIONAL", type="octet-string(12)"),
        o(1, "0-0:94.44.119.4", "A", 2, "value", "AuxiliaryProportionalController[3]", condition="OPTIONAL", type="octet-string(12)"),
        o(1, "0-0:94.44.120.3", "A", 2, "value", "AuxiliaryProportionalController[4]", condition="OPTIONAL", type="octet-string(12)"),
        o(1, "0-0:94.44.120.4", "A", 2, "value", "AuxiliaryProportionalController[4]", condition="OPTIONAL", type="octet-string(12)"),
        o(1, "0-0:94.44.121.3", "A", 2, "value", "AuxiliaryProportionalController[5]", condition="OPTIONAL", type="octet-string(12)"),
        o(1, "0-0:94.44.121.4", "A", 2, "value", "AuxiliaryProportionalController[5]", condition="OPTIONAL", type="octet-string(12)"),
        o(9, "0-0:10.0.107.255", "M", 1, "data", "AuxiliaryProportionalController[n]", type="long-unsigned"),
    ),
}  # fmt: skip
