"""Cluster-specific command handlers of the gas meter (GCS use cases) and its attributes.

Layer: firmware. Use Case volume, services 22-32; ZCL clusters as GBCS reference 10.2 uses
them. Each handler applies the command's effect to NVM and returns the cluster-specific reply
the use case defines, or ``None`` for a Default Response (SUCCESS).

NVM keys (besides the attribute values of :mod:`smemu.firmware.gas_zcl`):
``gsme/payment_mode`` (0 credit, 1 prepayment), ``gsme/valve`` (0 closed, 1 open,
2 armed), ``gsme/supply_status``, ``gsme/billing_period`` / ``gsme/block_period`` (GCS25
payloads). Tariff, prices, calendars, CV and conversion factor (GCS01a/b, GCS05 calendar,
GCS23), the pending future-dated instructions ``gsme/next/<kind>`` and the
``gsme/tariff_generation`` counter: :mod:`smemu.firmware.gas_tariff`. The prepayment
configuration attributes (GCS02-06, GCS40a-d, CS01b / PCS01 / PCS02):
:mod:`smemu.firmware.gas_prepayment`. The meter balance, emergency credit and debts the
engine advances: :mod:`smemu.firmware.gas_metering`.

``READS`` maps client-to-server commands that share a (cluster, command id) with a Publish
instruction (Get Day Profiles vs Publish Day Profile ...) to their read handlers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from smemu.firmware import (
    firmware_image,
    gas_device_mgmt,
    gas_logs,
    gas_messaging,
    gas_reads,
    gas_valve,
)
from smemu.firmware import gas_prepayment as prepay
from smemu.firmware import gas_tariff as tariff
from smemu.firmware import gas_tariff_engine as tariff_engine
from smemu.firmware import gas_tariff_reads as tariff_reads
from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_zcl import (
    AttributeStore,
    CommandHandler,
    ZclRefusedError,
    ZclReply,
    decode_request,
)
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.events import ClearEventLogResponse
from smemu.protocols.zigbee.metering import ChangeSupply, SupplyStatusResponse
from smemu.protocols.zigbee.price import PublishBlockPeriod
from smemu.protocols.zigbee.zcl import ZclStatus

BASIC: Final = 0x0000
PRICE: Final = 0x0700
METERING: Final = 0x0702
PREPAYMENT: Final = 0x0705
CALENDAR: Final = 0x0707
DEVICE_MANAGEMENT: Final = 0x0708
EVENTS: Final = 0x0709

PAYMENT_MODE: Final = "gsme/payment_mode"
VALVE: Final = "gsme/valve"
BALANCE: Final = "gsme/balance"
SUPPLY_STATUS: Final = "gsme/supply_status"
FRIENDLY_CALENDAR: Final = "gsme/friendly_calendar"
EC_LIMIT: Final = "gsme/ec_limit"
EC_THRESHOLD: Final = "gsme/ec_threshold"

#: Metering cluster Set Supply Status (0x0D) supply tamper / depletion / uncontrolled flow /
#: load-limit supply states; Change Supply (prepayment 0x01) proposed supply status values.
VALVE_CLOSED: Final = 0
VALVE_OPEN: Final = 1
VALVE_ARMED: Final = 2

_U8: Final = 0x20
_U16: Final = 0x21
_U24: Final = 0x22
_U32: Final = 0x23
_U48: Final = 0x25
_BITMAP8: Final = 0x18
_BITMAP16: Final = 0x19
_ENUM8: Final = 0x30
_OCTETS: Final = 0x41

#: Attribute defaults of a freshly installed gas meter: (cluster, attribute) -> (type, LE value).
DEFAULTS: Final[Mapping[tuple[int, int], tuple[int, bytes]]] = {
    (BASIC, 0x0000): (_U8, b"\x02"),  # ZCL version
    (BASIC, 0x0007): (_ENUM8, b"\x03"),  # power source: battery
    (METERING, 0x0000): (_U48, bytes(6)),  # current summation delivered
    (METERING, 0x0200): (_BITMAP8, b"\x00"),  # status
    (METERING, 0x0300): (_ENUM8, b"\x01"),  # unit of measure: m3
    (METERING, 0x0301): (_U24, b"\x01\x00\x00"),  # multiplier
    (METERING, 0x0302): (_U24, b"\xe8\x03\x00"),  # divisor
    (METERING, 0x0306): (_BITMAP8, b"\x80"),  # metering device type: gas
    (METERING, 0x0307): (_OCTETS, b"\x00"),  # site id (MPRN)
    # GCS60a: BillToDateDelivered, the credit-mode balance GCS40c / GCS40d reset and adjust
    (METERING, prepay.BILL_TO_DATE): (_U32, bytes(4)),
    (PRICE, 0x0615): (_ENUM8, b"\x00"),  # tariff unit of measure: kWh (GCS21f)
    # payment control configuration: a new meter is in credit mode (the engine's start), so
    # GCS21j reads the volume's one credit-mode value 0b0000110010010100 until GCS02 / GCS03
    (PREPAYMENT, 0x0000): (_BITMAP16, prepay.DEFAULT_PAYMENT_CONTROL.to_bytes(2, "little")),
    **{  # prepayment configuration (GCS05, GCS02/03 cut-off): zero until configured
        (PREPAYMENT, attribute): (type_code, bytes(size))
        for attribute, type_code, size in (
            (prepay.OVERALL_DEBT_CAP, prepay.T_INT32, 4),
            (prepay.EC_LIMIT, prepay.T_UINT32, 4),
            (prepay.EC_THRESHOLD, prepay.T_UINT32, 4),
            (prepay.MAX_CREDIT_LIMIT, prepay.T_UINT32, 4),
            (prepay.MAX_CREDIT_PER_TOP_UP, prepay.T_UINT32, 4),
            (prepay.LOW_CREDIT_WARNING, prepay.T_UINT32, 4),
            (prepay.CUT_OFF_VALUE, prepay.T_INT32, 4),
        )
    },
    # GCS21m: identity (the emulator's) and the supply tamper / depletion states (unchanged)
    (BASIC, 0x0004): (0x42, b"\x05smemu"),  # manufacturer name
    (BASIC, 0x0005): (0x42, b"\x0asmemu-gsme"),  # model identifier
    (METERING, 0x0607): (_ENUM8, b"\x00"),  # supply tamper state
    (METERING, 0x0608): (_ENUM8, b"\x00"),  # supply depletion state
    # GCS21a: CV 39.5 MJ/m3 and conversion factor 1.02264 until GCS23 (gas_metering's)
    (PRICE, 0x0302): (_U32, (1_022_640).to_bytes(4, "little")),  # conversion factor
    (PRICE, 0x0303): (_BITMAP8, b"\x60"),  # its trailing digit: 6 decimals
    (PRICE, 0x0304): (_U32, (39_500).to_bytes(4, "little")),  # calorific value
    (PRICE, 0x0305): (_ENUM8, b"\x01"),  # calorific value unit: MJ/m3
    (PRICE, 0x0306): (_BITMAP8, b"\x30"),  # its trailing digit: 3 decimals
    # GCS21a: uncontrolled gas flow rate settings (GCS24a writes them)
    (METERING, 0x0B10): (_U16, bytes(2)),  # threshold
    (METERING, 0x0B11): (_ENUM8, b"\x01"),  # unit: m3/h
    (METERING, 0x0B12): (_U16, b"\x01\x00"),  # multiplier
    (METERING, 0x0B13): (_U16, b"\x01\x00"),  # divisor
    (METERING, 0x0B14): (_U8, b"\x00"),  # flow stabilisation period
    (METERING, 0x0B15): (_U16, bytes(2)),  # flow measurement period
    # GCS21f / GCS21b: the tariff (GCS01a/b write it): zero prices, GBP, millipence
    (PRICE, 0x0202): (_U24, b"\x01\x00\x00"),  # block threshold multiplier
    (PRICE, 0x0203): (_U24, b"\xe8\x03\x00"),  # block threshold divisor (litres -> m3)
    **{(PRICE, 0x0100 + i): (_U48, bytes(6)) for i in range(3)},  # block thresholds 1-3
    **{(PRICE, 0x0400 + i): (_U32, bytes(4)) for i in range(4)},  # no-tier block 1-4 prices
    **{(PRICE, 0x0400 + 0x10 * i): (_U32, bytes(4)) for i in range(1, 5)},  # tier 1-4 prices
    (PRICE, 0x0301): (_U32, bytes(4)),  # standing charge
    (PRICE, 0x0616): (_U16, (826).to_bytes(2, "little")),  # currency: GBP
    (PRICE, 0x0617): (_BITMAP8, b"\x50"),  # price trailing digit: 5 decimals (millipence)
    # GCS21b: debt recovery settings (GCS04 writes them)
    (PREPAYMENT, 0x0216): (_ENUM8, b"\x01"),  # debt recovery frequency #1: daily
    (PREPAYMENT, 0x0226): (_ENUM8, b"\x01"),  # debt recovery frequency #2: daily
    (PREPAYMENT, 0x0217): (_U32, bytes(4)),  # debt recovery amount #1
    (PREPAYMENT, 0x0227): (_U32, bytes(4)),  # debt recovery amount #2
    (PREPAYMENT, 0x0239): (_U16, bytes(2)),  # debt recovery top-up percentage #3
}
#: Tier summations delivered (metering 0x0100, 0x0102 ... 0x011E) and the block
#: summations (0x0700 ...): uint48 registers, zero on a new meter.
_REGISTERS: Final = {
    (METERING, attribute): (_U48, bytes(6))
    for attribute in (*range(0x0100, 0x0120, 2), *range(0x0700, 0x0710))
}
#: Metering Meter Status CurrentMeterID: the GSME's firmware version (GCS38, mapping row 85)
CURRENT_METER_ID: Final = 0x0206


def firmware_version(tx: Tx) -> bytes:
    """GCS38: the running firmware version as a ZCL octet string (the CS06 image's)."""
    version = firmware_image.running_version(tx)[:254]
    return bytes((_OCTETS, len(version))) + version


#: Metering Change Supply proposed supply status values (off, armed, on).
SUPPLY_OFF: Final = 0
SUPPLY_ARMED: Final = 1
SUPPLY_ON: Final = 2
#: Metering Reading Information SupplyStatus (GCS33, mapping row 943): the valve's state
SUPPLY_STATUS_ATTRIBUTE: Final = 0x0014


def supply_status(tx: Tx) -> bytes:
    """GCS33: the valve as Metering SupplyStatus (0 off, 1 armed, 2 on; ENUM8)."""
    valve = tx.get_int(VALVE, VALVE_OPEN)
    status = {VALVE_CLOSED: SUPPLY_OFF, VALVE_ARMED: SUPPLY_ARMED}.get(valve, SUPPLY_ON)
    return bytes((_ENUM8, status))


#: Metering Meter Status RemainingBatteryLifeInDays (GCS33, mapping row 1751)
BATTERY_LIFE_ATTRIBUTE: Final = 0x0205


def remaining_battery_life(tx: Tx) -> bytes:
    """GCS33: the battery's remaining days (UINT16) when no refresh has published them yet
    (:func:`smemu.firmware.gas_reads.battery_days`)."""
    return b"\x21" + gas_reads.battery_days(tx).to_bytes(2, "little")


STORE: Final = AttributeStore(
    {**_REGISTERS, **DEFAULTS},
    {
        (METERING, CURRENT_METER_ID): firmware_version,
        (METERING, SUPPLY_STATUS_ATTRIBUTE): supply_status,
        (METERING, BATTERY_LIFE_ATTRIBUTE): remaining_battery_life,
        **gas_device_mgmt.COMPUTED,  # GCS44 / GCS09 supplier and tenancy attributes
    },
)


def _u32(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos : pos + 4], "little")


def set_supply_status(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS24 / GCS24a (metering 0x0D): supply tamper, depletion, uncontrolled-flow states."""
    if len(comp.payload) < 8:
        raise ZclRefusedError(ZclStatus.MALFORMED_COMMAND, "short Set Supply Status")
    tx.put(SUPPLY_STATUS, comp.payload[4:8])


def set_uncontrolled_flow(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS24a (metering 0x0E): the uncontrolled gas flow rate threshold and its periods."""
    tx.put("gsme/uncontrolled_flow", comp.payload)


BILLING_PERIOD: Final = tariff_engine.BILLING_PERIOD
EVENT_LOG_PREFIX: Final = "gsme/log/"


def change_supply(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
    """GCS32 / GCS39 (metering 0x0B Change Supply): close or arm the gas valve.

    Valve safety rule: the valve is never opened remotely. "off" closes it; "armed" arms it
    (the consumer opens it at the meter); "on" is refused unless the valve is already open.
    """
    request = decode_request(ChangeSupply, comp)
    proposed = int(request.proposed_supply_status)
    wanted = {SUPPLY_OFF: gas_valve.Valve.CLOSED, SUPPLY_ARMED: gas_valve.Valve.ARMED}
    try:  # through gas_valve: a command clears the valve's "closed for credit" mark
        valve = gas_valve.command(tx, wanted.get(proposed, gas_valve.Valve.OPEN))
    except ValueError as exc:
        raise ZclRefusedError(ZclStatus.NOT_AUTHORIZED, str(exc)) from exc
    status = {VALVE_CLOSED: SUPPLY_OFF, VALVE_ARMED: SUPPLY_ARMED}.get(valve, SUPPLY_ON)
    reply = SupplyStatusResponse(
        request.provider_id,
        request.issuer_event_id,
        request.implementation_date_time,
        type(request.proposed_supply_status)(status),
    )
    return ZclReply(reply.COMMAND_ID, reply.encode(), False)


def clear_event_log(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
    """CS11 (events 0x01 Clear Event Log Request): clear one log (0: all); bit n = log n."""
    if len(comp.payload) != 1:
        raise ZclRefusedError(ZclStatus.MALFORMED_COMMAND, "Clear Event Log takes one byte")
    log_id = comp.payload[0] & 0x0F
    for key in tx.keys(EVENT_LOG_PREFIX if log_id == 0 else f"{EVENT_LOG_PREFIX}{log_id}/"):
        tx.delete(key)
    reply = ClearEventLogResponse(1 << log_id)
    return ZclReply(reply.COMMAND_ID, reply.encode(), False)


SAMPLES_PREFIX: Final = "gsme/samples/"
DEBT_LOG_PREFIX: Final = "gsme/debt_log/"


def get_sampled_data(tx: Tx, comp: gbz.GbzComponent) -> ZclReply | None:
    """GCS17 / GCS18 / GCS61 (metering 0x08 Get Sampled Data): NOT_FOUND without samples."""
    if not tx.keys(SAMPLES_PREFIX):
        raise ZclRefusedError(ZclStatus.NOT_FOUND, "no sampled data")
    return None


def get_debt_log(tx: Tx, comp: gbz.GbzComponent) -> ZclReply | None:
    """GCS15d (prepayment 0x0A Get Debt Repayment Log): NOT_FOUND while the log is empty."""
    if not tx.keys(DEBT_LOG_PREFIX):
        raise ZclRefusedError(ZclStatus.NOT_FOUND, "debt repayment log empty")
    return None


BLOCK_PERIOD: Final = "gsme/block_period"


def publish_block_period(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS25 (price 0x01 Publish Block Period): the block period the block counters reset on."""
    decode_request(PublishBlockPeriod, comp)
    tx.put(BLOCK_PERIOD, comp.payload)
    tariff.bump_generation(tx)


#: Client-to-server reads whose (cluster, command id) a Publish instruction also uses; the
#: Publish handlers hand frames of that direction here (see ``tariff.publish_direction``).
READS: Final[dict[tuple[int, int], CommandHandler]] = {
    # GCS21b / GCS21f (gas_tariff_reads): the calendars in force
    (CALENDAR, 0x01): tariff_reads.get_day_profiles,
    (CALENDAR, 0x02): tariff_reads.get_week_profiles,
    (CALENDAR, 0x03): tariff_reads.get_seasons,
    (CALENDAR, 0x04): tariff_reads.get_special_days,
}

HANDLERS: Final[Mapping[tuple[int, int], CommandHandler]] = {
    # GCS02 / GCS03, GCS04, GCS05, GCS06 / PCS02, GCS40a-d (gas_prepayment)
    (PREPAYMENT, 0x06): prepay.change_payment_mode,
    (PREPAYMENT, 0x02): prepay.change_debt,
    (PREPAYMENT, 0x03): prepay.emergency_credit_setup,
    (PREPAYMENT, 0x09): prepay.set_low_credit_warning_level,
    (PREPAYMENT, 0x0B): prepay.set_maximum_credit_limit,
    (PREPAYMENT, 0x0C): prepay.set_overall_debt_cap,
    (PREPAYMENT, 0x00): prepay.select_emergency_credit,
    (PREPAYMENT, 0x05): prepay.credit_adjustment,
    (PREPAYMENT, 0x04): prepay.consumer_top_up_handler(prepay.no_keys),
    # GCS01a / GCS01b, GCS23, GCS25 (gas_tariff): server-to-client Publish instructions
    (PRICE, 0x01): tariff.publish_direction(publish_block_period),
    (PRICE, 0x02): tariff.publish_direction(tariff.publish_conversion_factor),
    (PRICE, 0x03): tariff.publish_direction(tariff.publish_calorific_value),
    (PRICE, 0x04): tariff.publish_direction(tariff.publish_tariff_information),
    (PRICE, 0x05): tariff.publish_direction(tariff.publish_price_matrix),
    (PRICE, 0x06): tariff.publish_direction(tariff.publish_block_thresholds),
    (CALENDAR, 0x00): tariff.publish_direction(tariff.publish_calendar),
    (CALENDAR, 0x01): tariff.publish_direction(tariff.publish_day_profile),
    (CALENDAR, 0x02): tariff.publish_direction(tariff.publish_week_profile),
    (CALENDAR, 0x03): tariff.publish_direction(tariff.publish_seasons),
    (CALENDAR, 0x04): tariff.publish_direction(tariff.publish_special_days),
    (METERING, 0x0D): set_supply_status,
    (METERING, 0x0E): set_uncontrolled_flow,
    (METERING, 0x0B): change_supply,
    (EVENTS, 0x01): clear_event_log,
    (METERING, 0x08): gas_reads.get_sampled_data,
    (METERING, 0x07): gas_reads.start_sampling,
    (PREPAYMENT, 0x0A): gas_logs.get_debt_repayment_log,
    # GCS25 / GCS21d (gas_tariff_engine): the billing calendar the register engine runs
    (PRICE, 0x09): tariff_engine.publish_billing_period,
    (PRICE, 0x0B): tariff_engine.get_billing_period,
    # GCS15b/c, GCS16a/b (gas_logs), GCS21f (gas_tariff_reads)
    (METERING, 0x06): gas_logs.get_snapshot,
    (PREPAYMENT, 0x07): gas_logs.get_prepay_snapshot,
    (PRICE, 0x00): tariff_reads.get_current_price,
    # GCS09, GCS11, GCS20 / GCS20r, GCS36, GCS41, GCS44 (gas_device_mgmt); GCS07 (gas_messaging)
    **gas_device_mgmt.HANDLERS,
    **gas_messaging.HANDLERS,
}
