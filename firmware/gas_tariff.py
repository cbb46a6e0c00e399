"""The gas meter's tariff, prices, calendars, CV / conversion factor and future activation.

Layer: firmware. Use Case volume GCS01a (Set Tariff and Price), GCS01b (Set Price), GCS05's
friendly credit (non-disablement) calendar, GCS23 (CV and conversion factor); ZCL Price
cluster 0x0700 and Calendar cluster 0x0707 as GBCS reference 10.2 uses them.

Theory of operation
-------------------
The supplier's Publish... instructions are stored as the meter holds them (NVM keys, the
interface to the register engine of :mod:`smemu.firmware.gas_metering` and to the reads):

* ``gsme/tariff/info`` -- the Publish Tariff Information payload in force (standing charge,
  trailing digit, block threshold multiplier / divisor, tiers and thresholds in use);
  ``gsme/tariff/prices`` -- JSON ``{"<tier_block_id>": price}`` from Publish Price Matrix;
  ``gsme/tariff/thresholds`` -- JSON ``{"<tier>": [threshold, ...]}`` from Publish Block
  Thresholds. Price attributes the reads answer are kept alongside (standing charge 0x0301,
  block thresholds 0x0100.., block prices 0x0400.., multiplier / divisor 0x0202 / 0x0203,
  trailing digit 0x0617, currency 0x0616, unit 0x0615).
* ``gsme/calendar/<issuer calendar id>/{calendar,day/<n>,week/<n>,seasons,special_days}``
  -- the calendar commands' payloads, and ``gsme/calendar_of/<calendar type>`` -> the
  issuer calendar id in force for that type (0 TOU delivered, 3 friendly credit).
* GCS23: the price cluster's Conversion Factor (0x0302, trailing digit 0x0303) and
  Calorific Value (0x0304, unit 0x0305, trailing digit 0x0306).
* ``gsme/tariff_generation`` -- bumped by every change the engine compiles from; each bump
  compiles the stored tariff and billing calendar into the register engine when they
  changed (:mod:`smemu.firmware.gas_tariff_engine`).

Instructions with a start time in the future are *next* values (SMETS valueNext /
activateNextDateTime): :func:`apply_or_schedule` stores them under ``gsme/next/<what>``
(the command payload and the instant) and :func:`activate_due` applies every one whose
instant has come (the machine calls it on each wake / timer, before serving). A start time of
0xFFFFFFFF or 0xFFFFFFFE cancels the pending instruction of the same kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Final

from smemu.firmware import gas_metering
from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_zcl import ZclRefusedError, ZclReply, attr_key, decode_request
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee._fields import EPOCH_2000
from smemu.protocols.zigbee.calendar import (
    CalendarType,
    PublishCalendar,
    PublishDayProfile,
    PublishSeasons,
    PublishSpecialDays,
    PublishWeekProfile,
)
from smemu.protocols.zigbee.price import (
    PublishBlockThresholds,
    PublishCalorificValue,
    PublishConversionFactor,
    PublishPriceMatrix,
    PublishTariffInformation,
)
from smemu.protocols.zigbee.zcl import FRAME_DIRECTION, ZclStatus

PRICE: Final = 0x0700
CALENDAR: Final = 0x0707

GENERATION: Final = "gsme/tariff_generation"
NEXT_PREFIX: Final = "gsme/next/"
TARIFF_INFO: Final = "gsme/tariff/info"
PRICES: Final = "gsme/tariff/prices"
THRESHOLDS: Final = "gsme/tariff/thresholds"
CALENDAR_PREFIX: Final = "gsme/calendar/"
CALENDAR_OF: Final = "gsme/calendar_of/"

TOU_DELIVERED: Final = int(CalendarType.DELIVERED)
FRIENDLY_CREDIT: Final = int(CalendarType.FRIENDLY_CREDIT)
#: UTCTime values meaning "cancel the pending instruction".
CANCEL_TIMES: Final = frozenset({0xFFFFFFFF, 0xFFFFFFFE})

# Price cluster attributes.
BLOCK_THRESHOLD_1: Final = 0x0100
THRESHOLD_MULTIPLIER: Final = 0x0202
THRESHOLD_DIVISOR: Final = 0x0203
STANDING_CHARGE: Final = 0x0301
CONVERSION_FACTOR: Final = 0x0302
CONVERSION_FACTOR_DIGIT: Final = 0x0303
CALORIFIC_VALUE: Final = 0x0304
CALORIFIC_VALUE_UNIT: Final = 0x0305
CALORIFIC_VALUE_DIGIT: Final = 0x0306
NO_TIER_BLOCK_1_PRICE: Final = 0x0400
UNIT_OF_MEASURE: Final = 0x0615
CURRENCY: Final = 0x0616
PRICE_TRAILING_DIGIT: Final = 0x0617

_T_BITMAP8: Final = 0x18
_T_UINT24: Final = 0x22
_T_UINT32: Final = 0x23
_T_UINT48: Final = 0x25
_T_ENUM8: Final = 0x30
_T_UINT16: Final = 0x21
#: ZCL integer types: code -> (bytes, signed).
_INT_TYPES: Final[Mapping[int, tuple[int, bool]]] = {
    0x18: (1, False), 0x19: (2, False), 0x1A: (3, False), 0x1B: (4, False),
    0x20: (1, False), 0x21: (2, False), 0x22: (3, False), 0x23: (4, False),
    0x24: (5, False), 0x25: (6, False), 0x28: (1, True), 0x29: (2, True),
    0x2A: (3, True), 0x2B: (4, True), 0x30: (1, False), 0x31: (2, False),
    0xE2: (4, False),
}  # fmt: skip



# ----------------------------------------------------------------------- attributes


def read_int(tx: Tx, cluster_id: int, attribute_id: int, default: int = 0) -> int:
    """An integer attribute's value from NVM (``default`` when unset or not an integer)."""
    raw = tx.get(attr_key(cluster_id, attribute_id))
    if not raw or raw[0] not in _INT_TYPES:
        return default
    size, signed = _INT_TYPES[raw[0]]
    return int.from_bytes(raw[1 : 1 + size], "little", signed=signed)


def write_int(tx: Tx, cluster_id: int, attribute_id: int, type_code: int, value: int) -> None:
    """Store an integer attribute as ``type || little-endian value``."""
    size, signed = _INT_TYPES[type_code]
    raw = int(value).to_bytes(size, "little", signed=signed)
    tx.put(attr_key(cluster_id, attribute_id), bytes((type_code,)) + raw)


def bump_generation(tx: Tx) -> int:
    """Mark the tariff / prepayment configuration changed and compile what changed into the
    register engine (:func:`smemu.firmware.gas_tariff_engine.sync`); the new generation."""
    from smemu.firmware import gas_tariff_engine  # it reads this module's accessors

    generation = tx.get_int(GENERATION) + 1
    tx.put_int(GENERATION, generation)
    gas_tariff_engine.sync(tx)
    return generation




# ------------------------------------------------------------------ future activation

#: A stored instruction's effect: (tx, the command payload) -> None.
Apply = Callable[[Tx, bytes], None]
#: what -> its effect: this module's kinds (end of the module) and those of
#: :mod:`smemu.firmware.gas_prepayment`, registered when it is imported.
APPLIERS: dict[str, Apply] = {}


def utc_instant(value: int) -> datetime:
    """A ZCL UTCTime as an aware datetime."""
    return EPOCH_2000 + timedelta(seconds=value)


def apply_or_schedule(tx: Tx, what: str, start: int, payload: bytes, apply: Apply) -> None:
    """Apply ``payload`` now (start 0 or passed), keep it as the next ``what`` (a future
    start), or cancel the pending ``what`` (start 0xFFFFFFFF / 0xFFFFFFFE; a success also
    when none is pending)."""
    key = NEXT_PREFIX + what
    if start in CANCEL_TIMES:
        if tx.get(key) is not None:  # nothing pending: nothing to do, still a success
            tx.delete(key)
            tx.log("event", f"pending {what} cancelled")
        return
    if start == 0 or utc_instant(start) <= tx.now:
        tx.delete(key)
        apply(tx, payload)
        return
    tx.put_json(key, {"at": start, "payload": payload.hex()})
    tx.log("event", f"{what} stored for {utc_instant(start).isoformat()}")


def pending(tx: Tx) -> dict[str, int]:
    """Pending next instructions: what -> activation time (UTCTime)."""
    out: dict[str, int] = {}
    for key in tx.keys(NEXT_PREFIX):
        raw = tx.get_json(key, {})
        if isinstance(raw, dict) and isinstance(raw.get("at"), int):
            out[key[len(NEXT_PREFIX) :]] = raw["at"]
    return out


def activate_due(tx: Tx) -> list[str]:
    """Apply every stored next instruction whose time has come; the kinds applied, in time
    order. An instruction whose kind is unknown (its module was not imported) stays."""
    done: list[str] = []
    for what, at in sorted(pending(tx).items(), key=lambda item: (item[1], item[0])):
        apply = APPLIERS.get(what)
        if apply is None or utc_instant(at) > tx.now:
            continue
        raw = tx.get_json(NEXT_PREFIX + what, {})
        tx.delete(NEXT_PREFIX + what)
        if isinstance(raw, dict) and isinstance(raw.get("payload"), str):
            apply(tx, bytes.fromhex(raw["payload"]))
            tx.log("event", f"pending {what} activated")
            done.append(what)
    return done


# ------------------------------------------------------------------------ GCS01a/b


def _apply_tariff_information(tx: Tx, payload: bytes) -> None:
    info = PublishTariffInformation.decode_exact(payload)
    tx.put(TARIFF_INFO, payload)
    write_int(tx, PRICE, STANDING_CHARGE, _T_UINT32, info.standing_charge)
    write_int(tx, PRICE, THRESHOLD_MULTIPLIER, _T_UINT24, info.block_threshold_multiplier)
    write_int(tx, PRICE, THRESHOLD_DIVISOR, _T_UINT24, info.block_threshold_divisor)
    write_int(tx, PRICE, UNIT_OF_MEASURE, _T_ENUM8, int(info.unit_of_measure))
    write_int(tx, PRICE, CURRENCY, _T_UINT16, int(info.currency))
    write_int(tx, PRICE, PRICE_TRAILING_DIGIT, _T_BITMAP8, _digit_raw(info.price_trailing_digit))
    bump_generation(tx)


def _digit_raw(value: object) -> int:
    """A trailing-digit field's raw byte (the codec may type it)."""
    raw = getattr(value, "raw", value)
    return int(raw) if isinstance(raw, int) else 0


def publish_tariff_information(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS01a / GCS01b (price 0x04): the tariff's standing charge and scales."""
    info = decode_request(PublishTariffInformation, comp)
    apply_or_schedule(tx, "tariff_information", info.start_time, comp.payload,
                      _apply_tariff_information)  # fmt: skip


def _price_attribute(tier_block_id: int, tou: bool) -> int:
    """Price attribute of a price matrix entry: tier n block 1 (TOU) 0x0400 + 0x10 * n,
    or block b of tier t (block / block-TOU, id t<<4 | b with zero-based b)."""
    if tou:
        return NO_TIER_BLOCK_1_PRICE + 0x10 * tier_block_id
    tier, block = tier_block_id >> 4, tier_block_id & 0x0F
    return NO_TIER_BLOCK_1_PRICE + 0x10 * tier + block


def _apply_price_matrix(tx: Tx, payload: bytes) -> None:
    matrix = PublishPriceMatrix.decode_exact(payload)
    tou = bool(matrix.sub_payload_control & 0x01)
    prices = {} if matrix.command_index == 0 else _json_dict(tx, PRICES)
    for entry in matrix.entries:
        prices[str(entry.tier_block_id)] = entry.price
        write_int(tx, PRICE, _price_attribute(entry.tier_block_id, tou), _T_UINT32, entry.price)
    tx.put_json(PRICES, prices)
    tx.put_int("gsme/tariff/tou", int(tou))
    bump_generation(tx)


def publish_price_matrix(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS01a / GCS01b (price 0x05): TOU tier or block prices (10^-trailing-digit units)."""
    matrix = decode_request(PublishPriceMatrix, comp)
    apply_or_schedule(tx, "price_matrix", matrix.start_time, comp.payload, _apply_price_matrix)


def _apply_block_thresholds(tx: Tx, payload: bytes) -> None:
    message = PublishBlockThresholds.decode_exact(payload)
    thresholds = {} if message.command_index == 0 else _json_dict(tx, THRESHOLDS)
    for group in message.threshold_sets:
        tier = group.tier_and_count >> 4
        thresholds[str(tier)] = list(group.thresholds)
        if tier == 0:
            for i, value in enumerate(group.thresholds):
                write_int(tx, PRICE, BLOCK_THRESHOLD_1 + i, _T_UINT48, value)
    tx.put_json(THRESHOLDS, thresholds)
    bump_generation(tx)


def publish_block_thresholds(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS01a (price 0x06): the block thresholds (per tier, or one set for all)."""
    message = decode_request(PublishBlockThresholds, comp)
    apply_or_schedule(tx, "block_thresholds", message.start_time, comp.payload,
                      _apply_block_thresholds)  # fmt: skip


def _json_dict(tx: Tx, key: str) -> dict[str, object]:
    raw = tx.get_json(key, {})
    return dict(raw) if isinstance(raw, dict) else {}


def prices(tx: Tx) -> dict[int, int]:
    """The price matrix in force: tier / block id -> price (10^-trailing-digit units)."""
    return {int(k): v for k, v in _json_dict(tx, PRICES).items() if isinstance(v, int)}


def thresholds(tx: Tx) -> dict[int, tuple[int, ...]]:
    """The block thresholds in force: tier (0 = all) -> thresholds."""
    out: dict[int, tuple[int, ...]] = {}
    for k, v in _json_dict(tx, THRESHOLDS).items():
        if isinstance(v, list):
            out[int(k)] = tuple(int(x) for x in v)
    return out


def tariff_information(tx: Tx) -> PublishTariffInformation | None:
    """The Publish Tariff Information in force, if any."""
    raw = tx.get(TARIFF_INFO)
    return None if raw is None else PublishTariffInformation.decode_exact(raw)


# ------------------------------------------------------------------------ calendars


def _calendar_key(calendar_id: int, part: str) -> str:
    return f"{CALENDAR_PREFIX}{calendar_id:08x}/{part}"


def _apply_calendar(tx: Tx, payload: bytes) -> None:
    message = PublishCalendar.decode_exact(payload)
    calendar_id = message.issuer_calendar_id
    for key in tx.keys(f"{CALENDAR_PREFIX}{calendar_id:08x}/"):
        tx.delete(key)
    tx.put(_calendar_key(calendar_id, "calendar"), payload)
    tx.put_int(f"{CALENDAR_OF}{int(message.calendar_type)}", calendar_id)
    bump_generation(tx)


def publish_calendar(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS01a / GCS05 (calendar 0x00): start a TOU or friendly credit calendar."""
    message = decode_request(PublishCalendar, comp)
    what = f"calendar_{int(message.calendar_type)}"
    apply_or_schedule(tx, what, message.start_time, comp.payload, _apply_calendar)


def _store_part(tx: Tx, calendar_id: int, part: str, payload: bytes) -> None:
    tx.put(_calendar_key(calendar_id, part), payload)
    bump_generation(tx)


def publish_day_profile(tx: Tx, comp: gbz.GbzComponent) -> None:
    """Calendar 0x01: one day profile (switch times and tier / friendly-credit actions)."""
    message = decode_request(PublishDayProfile, comp)
    _store_part(tx, message.issuer_calendar_id, f"day/{message.day_id}", comp.payload)


def publish_week_profile(tx: Tx, comp: gbz.GbzComponent) -> None:
    """Calendar 0x02: one week profile (a day profile per weekday)."""
    message = decode_request(PublishWeekProfile, comp)
    _store_part(tx, message.issuer_calendar_id, f"week/{message.week_id}", comp.payload)


def publish_seasons(tx: Tx, comp: gbz.GbzComponent) -> None:
    """Calendar 0x03: the seasons (start dates and their week profiles)."""
    message = decode_request(PublishSeasons, comp)
    _store_part(tx, message.issuer_calendar_id, "seasons", comp.payload)


def _apply_special_days(tx: Tx, payload: bytes) -> None:
    message = PublishSpecialDays.decode_exact(payload)
    _store_part(tx, message.issuer_calendar_id, "special_days", payload)


def publish_special_days(tx: Tx, comp: gbz.GbzComponent) -> None:
    """Calendar 0x04: the special days (dates and their day profiles), from their start
    time: a future start keeps them as the next ``special_days`` (queued and alerted like
    the other future-dated kinds), a cancel start time drops the pending ones."""
    message = decode_request(PublishSpecialDays, comp)
    apply_or_schedule(tx, "special_days", message.start_time, comp.payload, _apply_special_days)


def calendar_id(tx: Tx, calendar_type: int) -> int | None:
    """The issuer calendar id in force for ``calendar_type``, if one was published."""
    raw = tx.get(f"{CALENDAR_OF}{calendar_type}")
    return None if raw is None else tx.get_int(f"{CALENDAR_OF}{calendar_type}")


def has_calendar(tx: Tx, calendar_type: int) -> bool:
    return calendar_id(tx, calendar_type) is not None


def calendar_part(tx: Tx, calendar_type: int, part: str) -> bytes | None:
    """A stored calendar command payload (``calendar``, ``day/<n>``, ``week/<n>``,
    ``seasons``, ``special_days``) of the calendar in force for ``calendar_type``."""
    ident = calendar_id(tx, calendar_type)
    return None if ident is None else tx.get(_calendar_key(ident, part))


# --------------------------------------------------------------------------- GCS23


def _apply_conversion_factor(tx: Tx, payload: bytes) -> None:
    message = PublishConversionFactor.decode_exact(payload)
    write_int(tx, PRICE, CONVERSION_FACTOR, _T_UINT32, message.conversion_factor)
    digit = _digit_raw(message.conversion_factor_trailing_digit)
    write_int(tx, PRICE, CONVERSION_FACTOR_DIGIT, _T_BITMAP8, digit)
    bump_generation(tx)
    gas_metering.set_conversion(tx, cf_micro=rescale(message.conversion_factor, digit, 6))


def publish_conversion_factor(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS23 (price 0x02): the volume conversion factor (temperature / pressure)."""
    message = decode_request(PublishConversionFactor, comp)
    apply_or_schedule(tx, "conversion_factor", message.start_time, comp.payload,
                      _apply_conversion_factor)  # fmt: skip


def _apply_calorific_value(tx: Tx, payload: bytes) -> None:
    message = PublishCalorificValue.decode_exact(payload)
    write_int(tx, PRICE, CALORIFIC_VALUE, _T_UINT32, message.calorific_value)
    write_int(tx, PRICE, CALORIFIC_VALUE_UNIT, _T_ENUM8, message.calorific_value_unit)
    digit = _digit_raw(message.calorific_value_trailing_digit)
    write_int(tx, PRICE, CALORIFIC_VALUE_DIGIT, _T_BITMAP8, digit)
    bump_generation(tx)
    gas_metering.set_conversion(tx, cv_milli=rescale(message.calorific_value, digit, 3))


def publish_calorific_value(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS23 (price 0x03): the calorific value (MJ/m3, 1 or 2 per the unit)."""
    message = decode_request(PublishCalorificValue, comp)
    if message.calorific_value_unit not in (1, 2):
        raise ZclRefusedError(ZclStatus.INVALID_FIELD, "calorific value unit")
    apply_or_schedule(tx, "calorific_value", message.start_time, comp.payload,
                      _apply_calorific_value)  # fmt: skip


def rescale(value: int, digit_byte: int, places: int) -> int:
    """A trailing-digit scaled value in units of 10^-``places`` (truncated)."""
    have = digit_byte >> 4
    if have <= places:
        return value * int(10 ** (places - have))
    return value // int(10 ** (have - places))


def scaled(value: int, digit_byte: int) -> tuple[int, int]:
    """(value, decimal places) of a trailing-digit scaled value (upper nibble = places)."""
    return value, digit_byte >> 4


def calorific_value(tx: Tx) -> tuple[int, int]:
    """The CV in force: (value, decimal places); (0, 0) before GCS23."""
    return scaled(read_int(tx, PRICE, CALORIFIC_VALUE), read_int(tx, PRICE, CALORIFIC_VALUE_DIGIT))


def conversion_factor(tx: Tx) -> tuple[int, int]:
    """The conversion factor in force: (value, decimal places); (0, 0) before GCS23."""
    return scaled(
        read_int(tx, PRICE, CONVERSION_FACTOR), read_int(tx, PRICE, CONVERSION_FACTOR_DIGIT)
    )


def publish_direction(
    publish: Callable[[Tx, gbz.GbzComponent], None],
) -> Callable[[Tx, gbz.GbzComponent], ZclReply | None]:
    """Serve ``publish`` only for server-to-client frames (an instruction); a client-to-
    server frame with the same command id (a Get... read) is left to the reads' handler
    table ``READS`` of :mod:`smemu.firmware.gas_handlers`."""

    def handler(tx: Tx, comp: gbz.GbzComponent) -> ZclReply | None:
        if comp.frame_control & FRAME_DIRECTION:
            publish(tx, comp)
            return None
        from smemu.firmware.gas_handlers import READS

        read = READS.get((comp.cluster_id, comp.command_id))
        if read is None:
            raise ZclRefusedError(ZclStatus.UNSUP_CLUSTER_COMMAND, "no such read")
        return read(tx, comp)

    handler.__doc__ = publish.__doc__
    return handler


APPLIERS.update(
    {
        "tariff_information": _apply_tariff_information,
        "price_matrix": _apply_price_matrix,
        "block_thresholds": _apply_block_thresholds,
        "conversion_factor": _apply_conversion_factor,
        "calorific_value": _apply_calorific_value,
        "special_days": _apply_special_days,
        **{f"calendar_{int(kind)}": _apply_calendar for kind in CalendarType},
    }
)

__all__ = [
    "APPLIERS",
    "FRIENDLY_CREDIT",
    "GENERATION",
    "TOU_DELIVERED",
    "activate_due",
    "apply_or_schedule",
    "bump_generation",
    "calendar_id",
    "calendar_part",
    "calorific_value",
    "conversion_factor",
    "has_calendar",
    "pending",
    "prices",
    "publish_block_thresholds",
    "publish_calendar",
    "publish_calorific_value",
    "publish_conversion_factor",
    "publish_day_profile",
    "publish_direction",
    "publish_price_matrix",
    "publish_seasons",
    "publish_special_days",
    "publish_tariff_information",
    "read_int",
    "tariff_information",
    "thresholds",
    "utc_instant",
    "write_int",
]
