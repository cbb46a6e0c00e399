# ruff: noqa: E501 - a data table: one row per line reads best
"""The COSEM objects of the CHF, Sub GHz, HAN-only and alert
use cases (Use Case volume, sections 8-9, alerts).

Layer: protocols (sans-IO). Part of :data:`smemu.protocols.dlms.objects.USE_CASE_OBJECTS`;
rows follow each use case's "DLMS COSEM specific content" table in
../shared/docs/spec/gbcs-use-cases.html (order per GBCS 19.2.1), one :class:`CosemObject`
per attribute or method, with the fields the volume lists for structured values.
"""

from __future__ import annotations

from typing import Final

from smemu.protocols.dlms.object_types import CosemObject, F, o

OBJECTS: Final[dict[str, tuple[CosemObject, ...]]] = {
    "CCS01": (
        o(104, "0-0:30.3.0.255", "M", 1, "register_device", "DeviceLog(CHF)",
            F("register_device.ieee_address", "octet-string(8)", label="methodInput: entryToBeAdded.entityIdentifier"),
            F("register_device.key_type", "enum", constant="1", label="methodInput: entryToBeAdded.credentialsType"),
            F("register_device.key", "octet-string(16)", label="methodInput: entryToBeAdded.installationCredentials"),
            F("register_device.device_type", "enum", label="methodInput: entryToBeAdded.deviceType"),
        ),
        o(104, "0-0:30.3.0.255", "A", 3, "join_timeout", "DeviceLog(CHF)", type="long-unsigned"),
        o(104, "0-0:30.3.0.255", "A", 2, "enable_disable_joining", "DeviceLog(CHF)", type="boolean"),
    ),
    "CCS02": (
        o(104, "0-0:30.3.0.255", "M", 2, "unregister_device", "DeviceLog(CHF)", type="octet-string(8)"),
    ),
    "CCS03": (
        o(104, "0-0:30.3.0.255", "M", 5, "restore_PAN", "DeviceLog(CHF)",
            F("restore_PAN", "", label="restoreCHFDeviceLog"),
            F("restore_PAN.extended_PAN_ID", "octet-string(8)", label="methodInput: logDetails.hanIdentifier"),
            F("restore_PAN.devices_to_restore[1..16].device_to_restore.MAC_address", "octet-string(8)", label="methodInput: logDetails.device[1..16].deviceidentifier"),
            F("restore_PAN.devices_to_restore[1..16].device_to_restore.hashed_TC_link_key", "octet-string(16)", label="methodInput: logDetails.device[1..16].securityDetails"),
        ),
    ),
    "CS14": (
        o(104, "0-0:30.3.0.255", "M", 4, "backup_PAN", "DeviceLog(CHF)",
            F("backup_PAN.date-time", "octet-string(12)", label="alertOutput: backupDateTime"),
            F("backup_PAN.extended_PAN_ID", "octet-string(8)", label="alertOutput: hanIdentifier"),
            F("backup_PAN.devices_to_backup[0..16].device_to_backup.MAC_address", "octet-string(8)", label="alertOutput: devices[0..16].device.deviceidentifier"),
            F("backup_PAN.devices_to_backup[0..16].device_to_backup.hashed_TC_link_key", "octet-string(16)", label="alertOutput: devices[0..16].device.securityDetails"),
        ),
    ),
    "ECS68": (
        o(7, "0-0:98.1.0.255", "A", 2, "buffer", "BillingDataLog(BillingCalendarTriggeredExcExport)",
            F("buffer[1..12].entry_registerReadLogEntry.timestamp", "double-long-unsigned", label="logEntries[1..12].logEntry.timestamp"),
            F("buffer[1..12].entry_registerReadLogEntry.activeImportRegisterValue", "double-long-unsigned", label="logEntries[1..12].logEntry.activeImportRegisterValue/consumption"),
            F("buffer[1..12].entry_registerReadLogEntry.secondaryActiveImportRegisterValue", "double-long-unsigned", condition="TWIN_ELEMENT_ESME_ONLY", label="logEntries[1..12].logEntry.secondaryActiveImportRegisterValue/consumption"),
            F("buffer[1..12].entry_registerReadLogEntry.tariffTOURegisterValues[1..48].value", "double-long-unsigned", label="logEntries[1..12].logEntry.tariffTOU[1..48].RegisterMatrixValue"),
            F("buffer[1..12].entry_registerReadLogEntry.secondaryTariffTOURegisterValues[1..4].value", "double-long-unsigned", condition="TWIN_ELEMENT_ESME_ONLY", label="logEntries[1..12].logEntry.secondaryTariffTOU[1..4].RegisterMatrixValue"),
            F("buffer[1..12].entry_registerReadLogEntry.tariffTOUBlock1RegisterValues[1..8].value", "double-long-unsigned", label="logEntries[1..12].logEntry.tariffTOU[1..8].Block1.RegisterMatrixValue"),
            F("buffer[1..12].entry_registerReadLogEntry.tariffTOUBlock2RegisterValues[1..8].value", "double-long-unsigned", label="logEntries[1..12].logEntry.tariffTOU[1..8].Block2.RegisterMatrixValue"),
            F("buffer[1..12].entry_registerReadLogEntry.tariffTOUBlock3RegisterValues[1..8].value", "double-long-unsigned", label="logEntries[1..12].logEntry.tariffTOU[1..8].Block3.RegisterMatrixValue"),
            F("buffer[1..12].entry_registerReadLogEntry.tariffTOUBlock4RegisterValues[1..8].value", "double-long-unsigned", label="logEntries[1..12].logEntry.tariffTOU[1..8].Block4.RegisterMatrixValue"),
        rows=12, protected=True),
        o(30, "0-0:43.2.11.255", "M", 1, "", "BillingDataLog(SetPaymentModeOrTariffTriggeredFinancialExcExport)", type="structure"),
    ),
    "ECS80": (
        o(0, "0-0:0.0.0.0", "A", 0, "body", "SupplyOutageRestore",
            F("alert.interuption_value", "octet-string(12)", label="interruptionValue"),
            F("alert.restoration_value", "octet-string(12)", label="restorationValue"),
        ),
    ),
    "CCS07": (
        o(104, "0-0:30.3.0.255", "M", 4, "backup_PAN", "DeviceLog(CHF)",
            F("backup_PAN", "null (contrary to COSEM)", label="readCHFDeviceLog"),
            F("backup_PAN.date-time", "octet-string(12)", label="methodOutput: readDateTime"),
            F("backup_PAN.extended_PAN_ID", "octet-string(8)", label="methodOutput: hanIdentifier"),
            F("backup_PAN.devices_to_backup[0..16].device_to_backup.MAC_address", "octet-string(8)", label="methodOutput: devices[0..16].device.deviceIdentifier"),
            F("backup_PAN.devices_to_backup[0..16].device_to_backup.hashed_TC_link_key", "octet-string(16)", label="methodOutput: devices[0..16].device.securityDetails"),
        ),
        o(104, "0-0:30.3.1.255", "M", 4, "backup_PAN", "HistoricDeviceLog(CHF)",
            F("backup_PAN", "null (contrary to COSEM)", label="readHistoricCHFDeviceLog"),
            F("backup_PAN.date-time", "octet-string(12)", label="methodOutput: readDateTime"),
            F("backup_PAN.extended_PAN_ID", "octet-string(8)", label="methodOutput: hanIdentifier"),
            F("backup_PAN.devices_to_backup[0..16].device_to_backup.MAC_address", "octet-string(8)", label="methodOutput: devices[0..16].device.deviceIdentifier"),
            F("backup_PAN.devices_to_backup[0..16].device_to_backup.hashed_TC_link_key", "octet-string(16)", label="methodOutput: devices[0..16].device.securityDetails"),
        ),
    ),
    "DBCH01": (
        o(1, "0-0:94.44.10.2", "A", 2, "value", "OperatingSubGHzChannel", type="bit-string(32)"),
    ),
    "DBCH02": (
        o(7, "0-0:94.44.10.3", "A", 2, "buffer", "SubGHzChannelLog",
            F("buffer[0..100].entry_eventLogEntry8.timestamp", "double-long-unsigned", label="logEntries[0..100].logEntry.timestamp"),
            F("buffer[0..100].entry_eventLogEntry8.logCode", "long-unsigned", label="logEntries[0..100].logEntry.logCode"),
            F("buffer[0..100].entry_eventLogEntry8.otherInformation", "octet-string(8)", label="logEntries[0..100].logEntry.otherInformation"),
        rows=100, selective=True),
    ),
    "DBCH03": (
        o(1, "0-0:94.44.10.0", "A", 2, "value", "SubGHzConfigurationSettings",
            F("subGhzConfig.page28Mask", "bit-string(32)", label="page28Mask"),
            F("subGhzConfig.page29Mask", "bit-string(32)", label="page29Mask"),
            F("subGhzConfig.page30Mask", "bit-string(32)", label="page30Mask"),
            F("subGhzConfig.page31Mask", "bit-string(32)", label="page31Mask"),
            F("subGhzConfig.normalLimitedDutyCycleThreshold", "long-unsigned", label="normal-LimitedDutyCycleThreshold"),
            F("subGhzConfig.limitedCriticalDutyCycleThreshold", "long-unsigned", label="limited-CriticalDutyCycleThreshold"),
            F("subGhzConfig.channelChangesPerWeek", "unsigned", label="maximumSubGHzChannelChangesPerWeek"),
            F("subGhzConfig.gsmeCurfew", "long-unsigned", label="gSMECurfew"),
            F("subGhzConfig.quieterDecibelsLimit", "unsigned", label="channelQuieterThreshold"),
            F("subGhzConfig.noisierDecibelsLimit", "unsigned", label="channelNoisierTheshold"),
            F("subGhzConfig.nonGsmePoorCommsPercentage", "long-unsigned", label="nonGSMEPoorCommunicationsPercentageThreshold"),
            F("subGhzConfig.nonGsmeMeasurementPeriods", "unsigned", label="nonGSMEPoorCommunicationsThirtyMinutePeriodsMeasurementPeriod"),
            F("subGhzConfig.localChNoiseMeasurementPeriod", "long-unsigned", label="localCHNoiseMeasurementPeriod"),
            F("subGhzConfig.localChFailurePercentage", "long-unsigned", label="localCHFailurePercentage"),
            F("subGhzConfig.localChRetryPercentage", "long-unsigned", label="localCHRetryPercentage"),
        ),
    ),
    "DBCH04": (
        o(1, "0-0:94.44.10.0", "A", 2, "value", "SubGHzConfigurationSettings",
            F("subGhzConfig.page28Mask", "bit-string(32)", label="page28Mask"),
            F("subGhzConfig.page29Mask", "bit-string(32)", label="page29Mask"),
            F("subGhzConfig.page30Mask", "bit-string(32)", label="page30Mask"),
            F("subGhzConfig.page31Mask", "bit-string(32)", label="page31Mask"),
            F("subGhzConfig.normalLimitedDutyCycleThreshold", "long-unsigned", label="normal-LimitedDutyCycleThreshold"),
            F("subGhzConfig.limitedCriticalDutyCycleThreshold", "long-unsigned", label="limited-CriticalDutyCycleThreshold"),
            F("subGhzConfig.channelChangesPerWeek", "unsigned", label="maximumSubGHzChannelChangesPerWeek"),
            F("subGhzConfig.gsmeCurfew", "long-unsigned", label="gSMECurfew"),
            F("subGhzConfig.quieterDecibelsLimit", "unsigned", label="channelQuieterThreshold"),
            F("subGhzConfig.noisierDecibelsLimit", "unsigned", label="channelNoisierTheshold"),
            F("subGhzConfig.nonGsmePoorCommsPercentage", "long-unsigned", label="nonGSMEPoorCommunicationsPercentageThreshold"),
            F("subGhzConfig.nonGsmeMeasurementPeriods", "unsigned", label="nonGSMEPoorCommunicationsThirtyMinutePeriodsMeasurementPeriod"),
            F("subGhzConfig.localChNoiseMeasurementPeriod", "long-unsigned", label="localCHNoiseMeasurementPeriod"),
            F("subGhzConfig.localChFailurePercentage", "long-unsigned", label="localCHFailurePercentage"),
            F("subGhzConfig.localChRetryPercentage", "long-unsigned", label="localCHRetryPercentage"),
        ),
    ),
    "DBCH05": (
        o(1, "0-0:94.44.10.1", "A", 2, "value", "CHFSubGHzChannelScan", type="unsigned"),
    ),
    "CCS06": (
        o(104, "0-0:30.3.0.255", "A", 4, "active_devices", "DeviceLog(CHF)",
            F("active_devices[0..16].active_device.mac_address", "octet-string(8)", label="logEntries[0..16].logentry.entityIdentifier"),
            F("active_devices[0..16].active_device.status", "bit-string(8)", label="logEntries[0..16].logentry.extradetails1"),
            F("active_devices[0..16].active_device.maxRSSI", "integer", label="logEntries[0..16].logentry.extradetails2"),
            F("active_devices[0..16].active_device.averageRSSI", "integer", label="logEntries[0..16].logentry.subGHzLinkQuality"),
            F("active_devices[0..16].active_device.minRSSI", "integer", label="logEntries[0..16].logentry.extradetails4"),
            F("active_devices[0..16].active_device.maxLQI", "unsigned", label="logEntries[0..16].logentry.extradetails5"),
            F("active_devices[0..16].active_device.averageLQI", "unsigned", label="logEntries[0..16].logentry.extradetails6"),
            F("active_devices[0..16].active_device.minLQI", "unsigned", label="logEntries[0..16].logentry.extradetails7"),
            F("active_devices[0..16].active_device.last_communication_date-time", "octet-string(12)", label="logEntries[0..16].logentry.lastCommsTimestamp"),
            F("active_devices[0..16].active_device.number_of_hops", "unsigned", label="logEntries[0..16].logentry.extradetails8"),
            F("active_devices[0..16].active_device.transmission_failures", "unsigned", label="logEntries[0..16].logentry.extradetails9"),
            F("active_devices[0..16].active_device.transmission_successes", "unsigned", label="logEntries[0..16].logentry.extradetails10"),
            F("active_devices[0..16].active_device.application_version", "unsigned", label="logEntries[0..16].logentry.extradetails11"),
            F("active_devices[0..16].active_device.stack_version", "unsigned", label="logEntries[0..16].logentry.extradetails12"),
        ),
    ),
    "DBCH09": (
        o(1, "0-0:94.44.10.0", "A", 2, "value", "SubGHzConfigurationSettings",
            F("subGhzConfig.page28Mask", "bit-string(32)", label="page28Mask"),
            F("subGhzConfig.page29Mask", "bit-string(32)", label="page29Mask"),
            F("subGhzConfig.page30Mask", "bit-string(32)", label="page30Mask"),
            F("subGhzConfig.page31Mask", "bit-string(32)", label="page31Mask"),
            F("subGhzConfig.normalLimitedDutyCycleThreshold", "long-unsigned", label="normal-LimitedDutyCycleThreshold"),
            F("subGhzConfig.limitedCriticalDutyCycleThreshold", "long-unsigned", label="limited-CriticalDutyCycleThreshold"),
            F("subGhzConfig.channelChangesPerWeek", "unsigned", label="maximumSubGHzChannelChangesPerWeek"),
            F("subGhzConfig.gsmeCurfew", "long-unsigned", label="gSMECurfew"),
            F("subGhzConfig.quieterDecibelsLimit", "unsigned", label="channelQuieterThreshold"),
            F("subGhzConfig.noisierDecibelsLimit", "unsigned", label="channelNoisierTheshold"),
            F("subGhzConfig.nonGsmePoorCommsPercentage", "long-unsigned", label="nonGSMEPoorCommunicationsPercentageThreshold"),
            F("subGhzConfig.nonGsmeMeasurementPeriods", "unsigned", label="nonGSMEPoorCommunicationsThirtyMinutePeriodsMeasurementPeriod"),
            F("subGhzConfig.localChNoiseMeasurementPeriod", "long-unsigned", label="localCHNoiseMeasurementPeriod"),
            F("subGhzConfig.localChFailurePercentage", "long-unsigned", label="localCHFailurePercentage"),
            F("subGhzConfig.localChRetryPercentage", "long-unsigned", label="localCHRetryPercentage"),
        ),
    ),
    "PECS01": (
    ),
    "PECS02": (
    ),
    "PECS03": (
    ),
    "HECS01": (
    ),
    "ECS101": (
        o(0, "0-0:0.0.0.0", "A", 0, "body", "LimitAPC[n]LevelCommandProcessed",
            F("alert.apc_direction_and_number", "unsigned", label="apcDirectionAndNumber"),
            F("alert.apc_limit_period_start", "octet-string(12)", label="apcLimitPeriodStart"),
            F("alert.apc_limit_period_end", "octet-string(12)", label="apcLimitPeriodEnd"),
            F("alert.resulting_level", "unsigned", label="resultingLevel"),
        ),
    ),
    "ECS102": (
        o(0, "0-0:0.0.0.0", "A", 0, "body", "LimitAPC[n]LevelEndedOrCancelled",
            F("alert.apc_direction_and_number", "unsigned", label="apcDirectionAndNumber"),
            F("alert.resulting_level", "unsigned", label="resultingLevel"),
        ),
    ),
}  # fmt: skip
