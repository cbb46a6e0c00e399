"""Cluster-specific command handlers of the gas meter (GCS use cases) and its attributes.

Layer: firmware. Use Case volume, services 22-32; ZCL clusters as GBCS reference 10.2 uses
them. Each handler applies the command's effect to NVM and returns the cluster-specific reply
the use case defines, or ``None`` for a Default Response (SUCCESS).

NVM keys (besides the attribute values of :mod:`smemu.firmware.gas_zcl`):
``gsme/payment_mode`` (0 credit, 1 prepayment), ``gsme/valve`` (0 closed, 1 open, 2 armed),
``gsme/cv`` / ``gsme/conversion`` (GCS23, the price cluster's calorific value and
conversion factor), ``gsme/balance`` (meter balance, pence), ``gsme/supply_status``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from smemu.errors import DecodeError
from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_zcl import AttributeStore, CommandHandler, ZclRefusedError, ZclReply
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.events import ClearEventLogResponse
from smemu.protocols.zigbee.metering import ChangeSupply, SupplyStatusResponse
from smemu.protocols.zigbee.prepayment import ChangePaymentModeResponse
from smemu.protocols.zigbee.price import PublishBillingPeriod
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
    (PRICE, 0x0615): (_U8, b"\x00"),
    (PREPAYMENT, 0x0000): (_BITMAP16, b"\x00\x00"),  # payment control configuration
}
#: Tier summations delivered (metering 0x0100, 0x0102 ... 0x011E) and the block
#: summations (0x0700 ...): uint48 registers, zero on a new meter.
_REGISTERS: Final = {
    (METERING, attribute): (_U48, bytes(6))
    for attribute in (*range(0x0100, 0x0120, 2), *range(0x0700, 0x0710))
}
STORE: Final = AttributeStore({**_REGISTERS, **DEFAULTS})


def _u32(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos : pos + 4], "little")


def change_payment_mode(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
    """GCS02 / GCS03 (prepayment 0x06): switch credit <-> prepayment mode."""
    p = comp.payload
    if len(p) < 14:
        raise ZclRefusedError(ZclStatus.MALFORMED_COMMAND, "short Change Payment Mode")
    # provider(4) issuer event(4) implementation date/time(4) proposed payment control(2) ...
    proposed = int.from_bytes(p[12:14], "little")
    if comp.from_date_time in (None, 0):
        tx.put_int(PAYMENT_MODE, 1 if proposed & 0x0002 else 0)
    reply = ChangePaymentModeResponse(
        tx.get_int(FRIENDLY_CALENDAR) & 0xFF,
        tx.get_int(FRIENDLY_CALENDAR) >> 8,
        tx.get_int(EC_LIMIT),
        tx.get_int(EC_THRESHOLD),
    )
    return ZclReply(reply.COMMAND_ID, reply.encode())


def set_supply_status(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS24 / GCS24a (metering 0x0D): supply tamper, depletion, uncontrolled-flow states."""
    if len(comp.payload) < 8:
        raise ZclRefusedError(ZclStatus.MALFORMED_COMMAND, "short Set Supply Status")
    tx.put(SUPPLY_STATUS, comp.payload[4:8])


def set_uncontrolled_flow(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS24a (metering 0x0E): the uncontrolled gas flow rate threshold and its periods."""
    tx.put("gsme/uncontrolled_flow", comp.payload)


#: Metering Change Supply proposed supply status values (off, armed, on).
SUPPLY_OFF: Final = 0
SUPPLY_ARMED: Final = 1
SUPPLY_ON: Final = 2
BILLING_PERIOD: Final = "gsme/billing_period"
EVENT_LOG_PREFIX: Final = "gsme/log/"


def change_supply(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
    """GCS32 / GCS39 (metering 0x0B Change Supply): close or arm the gas valve.

    Valve safety rule: the valve is never opened remotely. "off" closes it; "armed" arms it
    (the consumer opens it at the meter); "on" is refused unless the valve is already open.
    """
    try:
        request = ChangeSupply.decode_exact(comp.payload)
    except DecodeError as exc:
        raise ZclRefusedError(ZclStatus.MALFORMED_COMMAND, str(exc)) from exc
    proposed = int(request.proposed_supply_status)
    valve = tx.get_int(VALVE, VALVE_OPEN)
    if proposed == SUPPLY_OFF:
        valve = VALVE_CLOSED
    elif proposed == SUPPLY_ARMED:
        valve = VALVE_ARMED
    elif valve != VALVE_OPEN:
        raise ZclRefusedError(ZclStatus.NOT_AUTHORIZED, "a gas valve is not opened remotely")
    tx.put_int(VALVE, valve)
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


def publish_billing_period(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS25 (price 0x09 Publish Billing Period): store the billing calendar."""
    try:
        PublishBillingPeriod.decode_exact(comp.payload)
    except DecodeError as exc:
        raise ZclRefusedError(ZclStatus.MALFORMED_COMMAND, str(exc)) from exc
    tx.put(BILLING_PERIOD, comp.payload)


def get_billing_period(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
    """GCS21d (price 0x0B Get Billing Period): the billing calendar in force."""
    stored = tx.get(BILLING_PERIOD)
    if stored is None:
        raise ZclRefusedError(ZclStatus.NOT_FOUND, "no billing calendar set")
    return ZclReply(PublishBillingPeriod.COMMAND_ID, stored, False)


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


HANDLERS: Final[Mapping[tuple[int, int], CommandHandler]] = {
    (PREPAYMENT, 0x06): change_payment_mode,
    (METERING, 0x0D): set_supply_status,
    (METERING, 0x0E): set_uncontrolled_flow,
    (METERING, 0x0B): change_supply,
    (EVENTS, 0x01): clear_event_log,
    (METERING, 0x08): get_sampled_data,
    (PREPAYMENT, 0x0A): get_debt_log,
    (PRICE, 0x09): publish_billing_period,
    (PRICE, 0x0B): get_billing_period,
}
