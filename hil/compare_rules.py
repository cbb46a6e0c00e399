"""The reviewed table of what may differ between a device's RESPONSE and the reference RESPONSE.

Layer: hil. Everything not named here must be equal: message code, CRA, frame and signature
element form, result codes, structure, data types and values. A rule only ever lets a
*value* (or, for logs, an array's length) differ; a type never may. Each rule says why, citing
the Use Case volume or gbcs-reference.md. Review changes to this table like spec changes.

Paths are matched with :func:`fnmatch.fnmatchcase`. They read like the decoded message:
``header.counter``, ``dlms.access_response.list_of_data[0].structure[1]``,
``dlms.…protection_parameters.transaction_id``, ``dlms.…ciphered_block``,
``dlms.plaintext[0]…``, ``gbz.components[0].zcl_payload``, ``asn1[0][1]``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final


class Allow(enum.StrEnum):
    """What a rule lets differ."""

    #: the value may differ; the type (and, for strings, nothing else) is still checked
    VALUE = "value"
    #: an array may hold a different number of entries (entries present are still compared)
    LENGTH = "length"
    #: the value names a party or counter: equal after mapping reference -> replay identities
    IDENTITY = "identity"


@dataclass(frozen=True, slots=True)
class Rule:
    """One permitted difference."""

    family: str  #: ``header``, ``dlms``, ``gbz`` or ``asn1``
    path: str  #: fnmatch pattern on the comparison path
    allow: Allow
    reason: str
    #: message codes the rule is limited to (empty: every use case)
    message_codes: frozenset[int] = frozenset()
    #: data type names the rule is limited to (DLMS ``double-long-unsigned``, ASN.1
    #: ``GeneralizedTime``; empty: any type)
    types: frozenset[str] = frozenset()


def _codes(*codes: int) -> frozenset[int]:
    return frozenset(codes)


_READING_TYPES: Final = frozenset(
    {
        "double-long-unsigned",
        "double-long",
        "long64",
        "long64-unsigned",
        "long-unsigned",
        "long",
        "octet-string",
        "compact-array",
        "bit-string",
    }
)

#: Register, log and status reads whose values are the meter's own measurements and state
#: (Use Case volume: ECS17a-e, ECS18a/b, ECS19, ECS20a-d, ECS21a-c, ECS22a-c, ECS23, ECS23b,
#: ECS35a-g, ECS45, ECS52, ECS61c, ECS66, ECS82, CCS05/06/07 device logs).
READ_CODES: Final = _codes(
    0x0026, 0x0027, 0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F,
    0x0030, 0x00C9, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037, 0x0038, 0x0039, 0x00C0,
    0x0048, 0x0049, 0x0093, 0x0094, 0x00B9, 0x00BA, 0x00FD, 0x0052, 0x0059, 0x005E,
    0x0060, 0x0069, 0x0004, 0x010F, 0x00FE, 0x00BC,
)  # fmt: skip
#: Reads of configuration whose reference values the set's own commands cannot establish
#: (ECS24/24b tariff in force, ECS26b/c/d/f/j/m device configuration, ECS25r2 alert
#: behaviours, ECS27 load limit, ECS40 MPAN, ECS61a/c/d/e auxiliary controllers).
CONFIG_READ_CODES: Final = _codes(
    0x003A, 0x00BD, 0x003C, 0x003D, 0x003E, 0x0040, 0x00BE, 0x00F9, 0x00EF, 0x0042,
    0x004E, 0x00BB, 0x005E, 0x011C, 0x011D,
)  # fmt: skip
#: Scalar DLMS types a configuration value may have (structures and arrays excluded: their
#: shape is still compared element by element).
_CONFIG_TYPES: Final = _READING_TYPES - {"compact-array"} | {
    "enum",
    "unsigned",
    "integer",
    "boolean",
    "visible-string",
    "utf8-string",
}
#: Logs: the number of entries depends on the device's history. The ESME Billing Data Logs
#: (ECS20a-d: 0x002E, 0x002F, 0x0030, 0x00C9), the Daily Read Logs (ECS21a-c: 0x0033,
#: 0x0034, 0x0035) and the Boost Function event log read by ECS61c (0x005E, 7/0-0:99.98.20
#: .255) are profile buffers like the others here.
LOG_CODES: Final = _codes(
    0x002E, 0x002F, 0x0030, 0x00C9, 0x0033, 0x0034, 0x0035, 0x0036, 0x0038, 0x0039,
    0x00C0, 0x0048, 0x0049, 0x0093, 0x0094, 0x00B9, 0x00BA, 0x00FD, 0x0004, 0x010F,
    0x00FE, 0x0013, 0x00BC, 0x005E,
)  # fmt: skip
#: The CHF's Sub GHz radio (Use Case volume DBCH02 / DBCH03), field by field:
#:
#: * DBCH02 Read CHF Sub GHz Channel Log (0x010B): the hub's own operational history -- one
#:   entry (log code 0x8F26) per channel change it made; how many the window holds is the
#:   hub's history, the entries present are still compared;
#: * DBCH03 Read CHF Sub GHz Configuration (0x010C): every field is "Configuration data"
#:   (the volume's notes on rows 1905-1919, GBCS 10.6.2.3), answered by the firmware as
#:   configured. The runner replays the set's DBCH04 before it (hil.preconditions
#:   .WriteIndex) and the emulated hub answers those values; the reference hub held another
#:   configuration when DBCH03 was recorded (page masks 0x...03 where DBCH04 writes 0x...06,
#:   thresholds 125 / 200 where it writes 130 / 220), set outside the set;
#: * DBCH01 (the current channel) and DBCH05 (scan) are compared as they are.
CHF_CHANNEL_LOG_CODES: Final = _codes(0x010B)
CHF_CONFIG_READ_CODES: Final = _codes(0x010C)
#: the DLMS types of the DBCH03 configuration fields (CHTS 4.6.2.5 SubGHzConfigurationSettings)
_CHF_CONFIG_TYPES: Final = frozenset({"bit-string", "long-unsigned", "unsigned"})
#: Configured calendars read back: the number of seasons, week profiles, day profiles (and
#: switch times per day), special days and schedule entries is the calendar the reference
#: meter was configured with outside the set. (message code, an fnmatch pattern of the
#: ``list_of_data`` indexes of those attributes in the use case's object list order, what
#: they are.)
_CALENDARS: Final = (
    (0x003A, "[2-5]", "ECS24: TariffSwitchingTable seasons / weeks / days and SpecialDays"),
    (0x00BD, "[3-6]", "ECS24b: SpecialDays and the second element's TariffSwitchingTable"),
    (0x00BB, "1[01]", "ECS61a: auxiliary controller special days and schedule"),
    (0x011C, "[56]", "ECS61d: auxiliary controller special days and schedule"),
)
#: ECS70 Set Clock: the response reads the clock's time and status (rows 675, 676).
CLOCK_CODES: Final = _codes(0x0062)
#: Firmware version reads and activation outcomes: the device's own version (CS06, CS08).
FIRMWARE_CODES: Final = _codes(0x0012, 0x00CA, 0x0129, 0x012B)
#: The device's own credentials: certificates, certificate requests, trust anchor details
#: (CS02a, CS02c, CS02e, CS02f).
CREDENTIAL_CODES: Final = _codes(0x0008, 0x000A, 0x000C, 0x011B)
#: Trust anchor replacement (CS02b modes 0x0100-0x0109, CS02g 0x0125 / 0x0126) and their
#: outcome alerts (0x00CB, 0x0124).
ANCHOR_UPDATE_CODES: Final = _codes(*range(0x0100, 0x010A), 0x0125, 0x0126, 0x00CB, 0x0124)
#: GSME clock (GCS28): the response carries the device time.
GSME_CLOCK_CODES: Final = _codes(0x007F)
#: ECS26i Read Configuration Data Device Information (CHF identity), legacy (0x0092): reads
#: DeviceIdentity, ModelType(CommsHub) and CHManufacturerIdentifier, in that order.
CHF_IDENTITY_CODES: Final = _codes(0x0092)
#: The CH's constants of manufacture read back: (message code, an fnmatch pattern of the
#: ``list_of_data`` indexes of ModelType(CommsHub) 0-0:96.1.4.255 and
#: CHManufacturerIdentifier 0-0:96.1.6.255 in the use case's object order, the use case).
_CHF_INVENTORY: Final = (
    (0x0092, "[12]", "ECS26i"),
    (0x00FA, "[01]", "ECS26n"),
)

#: GBZ reads: (message codes, the fields the device answers from its own operation or
#: manufacture, what may differ, why). The fields are named as :mod:`smemu.hil.compare_zcl`
#: paths them (``<command>.<attribute or field>``); everything else of these responses -- the
#: components, commands, attribute ids, statuses, data types, counts -- is still compared,
#: and so are the fields the volume classes as *Configuration data*, which the runner
#: configures by replaying the set's own configuring commands first
#: (:mod:`smemu.hil.preconditions_state`). The classes are the Use Case volume's ("SMETS/CHTS
#: objects applicable to Use Case" tables: Operational data, Constant data).
_GBZ_OWN: Final[tuple[tuple[frozenset[int], tuple[str, ...], Allow, str], ...]] = (
    (
        _codes(0x0074, 0x00B6, 0x00B8),
        (
            "read_attributes_response.current_summation_delivered",
            "read_attributes_response.current_tier_*_summation_delivered",
            "read_attributes_response.current_no_tier_block_*_summation_delivered",
        ),
        Allow.VALUE,
        "GCS13a/b/c: the consumption, TOU and block registers (TariffTOURegisterCollection, "
        "TariffBlockCounter: Operational data) are the meter's own measurements",
    ),
    (
        _codes(0x0075, 0x008D, 0x012A),
        (
            "read_attributes_response.credit_remaining",
            "read_attributes_response.emergency_credit_remaining",
            "read_attributes_response.accumulated_debt",
            "read_attributes_response.debt_amount_[123]",
            "read_attributes_response.bill_to_date_delivered",
            "read_attributes_response.bill_to_date_time_stamp_delivered",
        ),
        Allow.VALUE,
        "GCS14 / GCS60 / GCS60a: meter balance, emergency credit balance, debt registers "
        "and bill to date (Operational data) are the meter's own running totals",
    ),
    (
        _codes(0x0084),
        ("read_attributes_response.current_meter_id",),
        Allow.VALUE,
        "GCS38: FirmwareVersion (row 85, Operational data) is the device's own running "
        "firmware version (the OTA header's File Version), not the reference meter's",
    ),
    (
        _codes(0x009B),
        ("consumer_top_up_response.credit_remaining",),
        Allow.VALUE,
        "PCS01: Credit Remaining is the meter balance after the top-up (the volume's ZSE "
        "mapping: Credit Remaining = SMETS Meter Balance; MeterBalance valuePrepaymentMode, "
        "row 1041, is Operational data): the reference meter's came from its earlier "
        "top-ups. The result, top-up value and source are still compared",
    ),
    (
        _codes(0x0082),
        ("read_attributes_response.remaining_battery_life_in_days",),
        Allow.VALUE,
        "GCS33: RemainingBatteryCapacity (row 1751, Operational data) is the remaining life "
        "of the device's own battery; SupplyState (row 943) is still compared",
    ),
    (
        _codes(0x007B),
        (
            "read_attributes_response.calorific_value",
            "read_attributes_response.calorific_value_trailing_digit",
            "read_attributes_response.conversion_factor",
            "read_attributes_response.conversion_factor_trailing_digit",
            "read_attributes_response.uncontrolled_flow_threshold",
            "read_attributes_response.uncontrolled_flow_multiplier",
            "read_attributes_response.uncontrolled_flow_divisor",
        ),
        Allow.VALUE,
        "GCS21a: CalorificValue, ConversionFactor (rows 1740, 1741) and the uncontrolled "
        "gas flow threshold (row 1754) are Operational data, with their scales (rows 1558, "
        "1559; the threshold's scaleMultiplier / scaleDivisor, rows 1666, 1665); the flow "
        "stabilisation and measurement periods (Configuration data, rows 1869, 1870) and "
        "the units are still compared",
    ),
    (
        _codes(0x009D, 0x00DA),
        (
            "publish_billing_period.billing_period_start_time",
            "publish_billing_period.billing_period_duration",
            "publish_billing_period.billing_period_duration_type",
        ),
        Allow.VALUE,
        "GCS21d (legacy) / GCS21k: the GSME's BillingCalendar startDateTimeAndAnyPeriodicity "
        "(row 1965, read by Get Billing Period) is Operational data -- the first billing "
        "snapshot's date-time and the periodicity the meter runs; the tariff type and the "
        "response's form are still compared",
    ),
    (
        _codes(0x00FB),
        (
            "read_attributes_response.manufacturer_name",
            "read_attributes_response.model_identifier",
            "read_attributes_response.supply_depletion_state",
        ),
        Allow.VALUE,
        "GCS21m: ManufacturerIdentifier and ModelType (Constant data: fixed at manufacture, "
        "the device under test's own) and SupplyDepletionState (Operational data); "
        "SupplyTamperState is Configuration data and still compared",
    ),
    (
        _codes(0x0076, 0x0077, 0x0096, 0x00C3),
        (
            "publish_snapshot.snapshot_id",
            "publish_snapshot.snapshot_time",
            "publish_snapshot.snapshot_payload.*",
            "publish_prepay_snapshot.snapshot_id",
            "publish_prepay_snapshot.snapshot_time",
            "publish_prepay_snapshot.snapshot_payload.*",
        ),
        Allow.VALUE,
        "GCS15b/c, GCS16a/b: every logEntry field of the billing and daily read logs "
        "(register values, balances, debts, timestamps) is Operational data the meter "
        "recorded; snapshot cause and payload type are still compared",
    ),
    (
        _codes(0x0077, 0x0096),
        (
            "publish_snapshot.total_snapshots_found",
            "publish_prepay_snapshot.total_snapshots_found",
        ),
        Allow.VALUE,
        "GCS16a / GCS16b: how many Daily Read Log entries fall in the requested 31-day "
        "window depends on how many local midnights the meter has logged (its own history, "
        "Operational data); the reference meter reports 31 while publishing 2 or 3. Which "
        "offsets are published and which answer NOT_FOUND, and each entry's cause, are still "
        "compared; the billing log reads (GCS15b/c) keep their count strict",
    ),
    (
        _codes(0x00C4),
        ("publish_debt_log.entries[[]*[]].*",),
        Allow.VALUE,
        "GCS15d: the payment-based debt repayment log's amounts and timestamps "
        "(Operational data) are what the meter recorded",
    ),
    (
        _codes(0x00C4),
        ("publish_debt_log.entries",),
        Allow.LENGTH,
        "GCS15d: the log holds the repayments the meter recorded",
    ),
    (
        _codes(0x006C, 0x006D),
        (
            "change_payment_mode_response.friendly_credit",
            "change_payment_mode_response.friendly_credit_calendar_id",
            "change_payment_mode_response.emergency_credit_limit",
            "change_payment_mode_response.emergency_credit_threshold",
        ),
        Allow.VALUE,
        "GCS02 / GCS03: the response reports the meter's emergency and friendly credit "
        "configuration. The runner replays the set's GCS05 first, but the reference values "
        "(limit 1,000,000, threshold 200,000, as GCS21b also reads) differ from every "
        "GCS05 of the set (10,000,000 / 100,000): the reference meter was configured "
        "outside the set, as the DLMS configuration reads above. The payment mode outcome "
        "and the response's shape are still compared",
    ),
    (
        _codes(0x0078, 0x0079),
        ("get_profile_response.end_time", "get_profile_response.intervals[[]*[]]"),
        Allow.VALUE,
        "GCS17 / GCS18: profile data log entries (Operational data) are the meter's own "
        "half-hourly consumption and their end time the meter's clock",
    ),
    (
        _codes(0x0078, 0x00A0),
        ("get_sampled_data_response.samples[[]*[]]",),
        Allow.VALUE,
        "GCS17 / GCS61: the Profile Data Log's and the Daily Consumption Log's entries "
        "(logEntry.value, Operational data, rows 537, 559) are the meter's own consumption; "
        "sample id, start time, interval and the number of samples are still compared",
    ),
    (
        _codes(0x0078, 0x0079),
        ("get_profile_response.intervals",),
        Allow.LENGTH,
        "GCS17 / GCS18: the profile log holds the periods the meter recorded",
    ),
    (
        _codes(0x0079),
        (
            "get_sampled_data_response.sample_start_time",
            "get_sampled_data_response.samples[[]*[]]",
        ),
        Allow.VALUE,
        "GCS18: the Network Data Log starts when the meter executed the GCS31 that began it "
        "(StartSamplingTime 'now': its own clock then, which the runner's replay of the set's "
        "GCS31 sets, not the reference meter's) and its samples are the meter's own gas "
        "consumption (Operational data); the sample id, type, interval and the number of "
        "samples are still compared",
    ),
    (
        _codes(0x0014, 0x00A1),
        (
            "publish_event_log.total_number_of_matching_events",
            "publish_event_log.entries[[]*[]].event_id",
            "publish_event_log.entries[[]*[]].event_time",
            "publish_event_log.entries[[]*[]].event_data",
        ),
        Allow.VALUE,
        "CS10a / CS10b: the event and security logs hold what happened to the device (the "
        "events it raised, the commands it rejected, at its clock): the device's own history, "
        "as the DLMS logs of ECS35a-g; each entry's log id, the command, the paging fields "
        "and the response's shape are still compared",
    ),
    (
        _codes(0x0014, 0x00A1),
        ("publish_event_log.entries",),
        Allow.LENGTH,
        "CS10a / CS10b: the log holds as many entries in the window as the device recorded",
    ),
)

RULES: Final[tuple[Rule, ...]] = (
    # ---------------------------------------------------------------- grouping header
    Rule("header", "header.originator", Allow.IDENTITY, "the device's own EUI-64 (GBCS 7.2.5)"),
    Rule("header", "header.recipient", Allow.IDENTITY, "the remote party that sent the command"),
    Rule(
        "header",
        "header.counter",
        Allow.VALUE,
        "a response repeats its command's originator counter (ref. 9.2); the head-end's "
        "correlation checks it against the command actually sent",
    ),
    Rule("header", "header.date_time", Allow.VALUE, "the device's clock at response time"),
    Rule(
        "header",
        "header.other_information.supplementary_remote_party_id",
        Allow.IDENTITY,
        "the remote party a DCC-originated command acted for (echoed)",
    ),
    Rule(
        "header",
        "header.other_information.supplementary_remote_party_counter",
        Allow.IDENTITY,
        "that remote party's counter, echoed from the command",
    ),
    Rule(
        "header",
        "header.other_information.supplementary_originator_counter",
        Allow.VALUE,
        "chosen by the device to derive the URP encryption key (ref. 3.2, 4.5)",
    ),
    Rule("header", "header.signature", Allow.VALUE, "made with the device's own DS key"),
    Rule("header", "header.mac", Allow.VALUE, "made with a per-message key (GBCS 4.3.3)"),
    # ------------------------------------------------------------------------- DLMS
    Rule(
        "dlms",
        "dlms.*.invoke_id",
        Allow.VALUE,
        "low 24 bits of the originator counter (ref. 7.2); correlation checks it",
    ),
    Rule(
        "dlms",
        "dlms.*protection_parameters.transaction_id",
        Allow.VALUE,
        "04 and the command's counter (ref. 4.5)",
    ),
    Rule(
        "dlms",
        "dlms.*protection_parameters.originator",
        Allow.IDENTITY,
        "the device's EUI-64 as encrypting party (ref. 7.6)",
    ),
    Rule(
        "dlms",
        "dlms.*protection_parameters.recipient",
        Allow.IDENTITY,
        "the remote party the data is encrypted for (ref. 7.6)",
    ),
    Rule(
        "dlms",
        "dlms.*ciphered_block",
        Allow.VALUE,
        "ciphertext under a per-message key; the plaintexts are compared when both decrypt",
    ),
    Rule(
        "dlms",
        "dlms.data_notification.body.structure[[]1[]]",
        Allow.VALUE,
        "the alert's timestamp: the device's clock (ref. 7.2)",
    ),
    Rule(
        "dlms",
        "dlms.*",
        Allow.VALUE,
        "register values, log entries and states are the meter's own measurements",
        READ_CODES,
        _READING_TYPES | {"enum", "unsigned"},
    ),
    Rule("dlms", "dlms.*", Allow.LENGTH, "a log holds what the device recorded", LOG_CODES),
    Rule(
        "dlms",
        "dlms.access_response.list_of_data[[]0[]]",
        Allow.LENGTH,
        "DBCH02 Sub GHz Channel Log: the hub's own record of the channel changes it made "
        "(Use Case volume DBCH02, log code 0x8F26); how many fall in the window is the hub's "
        "history. The entries present, the result, the type and the structure are compared",
        CHF_CHANNEL_LOG_CODES,
    ),
    Rule(
        "dlms",
        "dlms.access_response.list_of_data[[]0[]].structure[[]*[]]",
        Allow.VALUE,
        "DBCH03 Sub GHz Configuration: configuration data (Use Case volume DBCH03 notes, "
        "GBCS 10.6.2.3) the reference hub held from outside the set when the read was "
        "recorded; the emulated hub answers what the set's DBCH04 wrote. Values of the "
        "15 fields may differ; the structure, its length and each field's type are compared",
        CHF_CONFIG_READ_CODES,
        _CHF_CONFIG_TYPES,
    ),
    Rule(
        "dlms",
        "dlms.*",
        Allow.VALUE,
        "configuration values the reference meter held before the set was recorded: the "
        "runner first replays the set's own writes of the attributes read (hil.preconditions"
        ".WriteIndex), but the reference values come from configuration outside the set "
        "(ECS40 reads MPAN ...111 where the set's ECS39a writes ...333; tariffs are read "
        "from the active calendar that ECS01 only fills passively; most of these attributes "
        "have no write use case in the set). Values may differ; structure, array lengths "
        "and data types are still compared",
        CONFIG_READ_CODES,
        _CONFIG_TYPES,
    ),
    *(
        Rule(
            "dlms",
            f"dlms.access_response.list_of_data[[]{indexes}[]]*",
            Allow.LENGTH,
            f"{what}: how many entries the configured calendar holds (set outside the "
            "recorded set, as the values above); the entries present are still compared",
            _codes(code),
            frozenset({"array"}),
        )
        for code, indexes, what in _CALENDARS
    ),
    Rule(
        "dlms",
        "dlms.access_response.list_of_data[[]3[]]",
        Allow.VALUE,
        "Clock time read back after setting (row 675)",
        CLOCK_CODES,
        frozenset({"octet-string"}),
    ),
    Rule(
        "dlms",
        "dlms.access_response.list_of_data[[]4[]]",
        Allow.VALUE,
        "Clock status read back (row 676)",
        CLOCK_CODES,
        frozenset({"unsigned"}),
    ),
    Rule(
        "dlms",
        "dlms.access_response.list_of_data[[]0[]]",
        Allow.IDENTITY,
        "ECS26i reads the CHF's own entity identifier (DeviceIdentity 0-0:96.1.1.255, the "
        "identity the grouping header also carries): the reference CHF's EUI-64 there is "
        "the device under test's in the replay, so it is compared after mapping identities",
        CHF_IDENTITY_CODES,
        frozenset({"octet-string"}),
    ),
    *(
        Rule(
            "dlms",
            f"dlms.access_response.list_of_data[[]{indexes}[]]",
            Allow.VALUE,
            f"{use_case}: ModelType(CommsHub) and CHManufacturerIdentifier (mapping table "
            "rows 1962, 1961) are 'fixed at manufacture' to the maker's ZigBee Alliance "
            "manufacturer id and its OTA image type || hardware version: constants of the "
            "device under test, not of the use case. Their type is still compared",
            _codes(code),
            frozenset({"octet-string"}),
        )
        for code, indexes, use_case in _CHF_INVENTORY
    ),
    # -------------------------------------------------------------------------- GBZ
    Rule("gbz", "gbz.alert.timestamp", Allow.VALUE, "the alert's timestamp (ref. 7.7)"),
    Rule("gbz", "gbz.components[[]*[]].from_date_time", Allow.VALUE, "device clock (ref. 7.7)"),
    Rule(
        "gbz",
        "gbz.components[[]*[]].ciphertext",
        Allow.VALUE,
        "ciphertext under a per-message key; the plaintexts are compared when both decrypt",
    ),
    *(
        Rule("gbz", f"gbz.*.{field}", allow, reason, codes)
        for codes, fields, allow, reason in _GBZ_OWN
        for field in fields
    ),
    # ------------------------------------------------------------------------ ASN.1
    Rule(
        "asn1",
        "asn1*",
        Allow.VALUE,
        "the device's firmware version",
        FIRMWARE_CODES,
        frozenset({"OCTET STRING"}),
    ),
    Rule(
        "asn1",
        "asn1*",
        Allow.VALUE,
        "the device's own certificates, keys and trust-anchor identifiers",
        CREDENTIAL_CODES,
    ),
    Rule(
        "asn1",
        "asn1*",
        Allow.VALUE,
        "the device's clock",
        GSME_CLOCK_CODES | FIRMWARE_CODES,
        frozenset({"GeneralizedTime"}),
    ),
    Rule(
        "asn1",
        "asn1[[]0[]][[]1[]][[]3[]][[]*[]][[]3[]]",
        Allow.VALUE,
        "existingSubjectKeyID of a replacement outcome (gbcs-reference.md 7.8, CS02b "
        "executionOutcome.replacementOutcomes): the key identifier of the anchor the device "
        "held before, i.e. of the PKI the device under test was provisioned with, not the "
        "reference one; the replacing key identifier, status and EUIs are still compared",
        ANCHOR_UPDATE_CODES,
        frozenset({"OCTET STRING"}),
    ),
    Rule(
        "asn1",
        "asn1[[]0[]][[]1[]][[]3[]][[]*[]][[]2[]]",
        Allow.VALUE,
        "existingSubjectUniqueID of a replacement outcome (gbcs-reference.md 7.8): the "
        "entity named by the anchor the device held before, like existingSubjectKeyID set "
        "by the PKI the device was provisioned with. The reference GPF's Supplier and "
        "Network Operator cells held certificates of entity ...30000002 before the handover "
        "vectors (CS02b 6.21, sent by that entity as Access Control Broker); the device under "
        "test holds its own PKI's party of the cell's role. Compared after mapping identities "
        "first; the replacing entity and key identifier and the status are still compared",
        ANCHOR_UPDATE_CODES,
        frozenset({"OCTET STRING"}),
    ),
    Rule("asn1", "asn1*", Allow.LENGTH, "a device log holds what the device recorded", LOG_CODES),
    Rule(
        "asn1",
        "asn1*",
        Allow.IDENTITY,
        "entity identifiers of the device or remote parties (mapped for a replay)",
        frozenset(),
        frozenset({"OCTET STRING"}),
    ),
)


def find_rule(
    family: str, path: str, allow: Allow, message_code: int, type_name: str
) -> Rule | None:
    """The first rule letting ``allow`` differ at ``path`` for this use case and type."""
    from fnmatch import fnmatchcase

    for rule in RULES:
        if rule.family != family or rule.allow is not allow:
            continue
        if rule.message_codes and message_code not in rule.message_codes:
            continue
        if rule.types and type_name not in rule.types:
            continue
        if fnmatchcase(path, rule.path):
            return rule
    return None
