"""The ESME's tariff: passive/active COSEM tariff objects and their compilation to the engine.

Layer: firmware. ECS01a/b/c/d write the *passive* tariff objects (gbcs-reference.md 10.1):
the Tariff Switching Table (activity calendar IC 20, attributes 7-9), the passive special
days (0-1:11.0.0.255), the passive block thresholds (register monitors 0-0:16.1.11..18), the
price matrix and standing charge (IC 113 attribute 6), each with an activation date-time.
At that instant (immediately for the all-zero "now" value, never for the all-0xFF
"cancel" value) the passive values are copied to their active attributes and the active
tariff is compiled into the register engine's table (:func:`tariff_from_active`).

A twin-element ESME's secondary element has a tariff of its own (ECS01c / ECS01d): the
calendar 0-0:13.0.1.255 whose day profiles select the secondary TOU rates 1..4 with script
selectors 201..204 (a rate of the secondary price matrix 0-0:19.20.5.255, charge table
indexes 1..4), its special days 0-0:11.0.1.255, and no block tariff, thresholds or standing
charge (those are the meter's, kept on the primary element). :class:`TariffObjects` names
the objects of each element's tariff (:data:`PRIMARY_TARIFF`, :data:`SECONDARY_TARIFF`).

This module only reads and writes NVM through the step's ``Tx``; the device decides when
to call :func:`activate` (at once, or from its ``tariff`` timer) and re-compiles its table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from smemu.firmware.common.machine import Tx
from smemu.firmware.cosem_model import attribute_key, stored_value
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers.tables import DayProfile, Season, SpecialDay, Tariff
from smemu.protocols.dlms.apdu import parse_obis
from smemu.protocols.dlms.axdr import Data
from smemu.protocols.dlms.cosem import (
    DayProfile as CosemDayProfile,
)
from smemu.protocols.dlms.cosem import (
    SeasonProfile,
    UnitCharge,
    ViewMismatchError,
    WeekProfile,
)
from smemu.protocols.dlms.cosem import (
    SpecialDay as CosemSpecialDay,
)
from smemu.protocols.dlms.data import Array, DoubleLongUnsigned
from smemu.protocols.dlms.dates import utc_instant

PENDING: Final = "tariff/pending"  #: JSON {activation key: UTC ISO instant}
TIMER: Final = "tariff"

CALENDAR: Final = parse_obis("0-0:13.0.0.255")
CALENDAR_2: Final = parse_obis("0-0:13.0.1.255")
SPECIAL_ACTIVE: Final = parse_obis("0-0:11.0.0.255")
SPECIAL_PASSIVE: Final = parse_obis("0-1:11.0.0.255")
SPECIAL_ACTIVE_2: Final = parse_obis("0-0:11.0.1.255")  #: secondary element special days
SPECIAL_PASSIVE_2: Final = parse_obis("0-1:11.0.1.255")
PRICE_MATRIX: Final = parse_obis("0-0:19.20.0.255")
STANDING_CHARGE: Final = parse_obis("0-0:19.20.4.255")
SECONDARY_PRICES: Final = parse_obis("0-0:19.20.5.255")
THRESHOLDS_ACTIVE: Final = tuple(parse_obis(f"0-0:16.0.{11 + i}.255") for i in range(8))
THRESHOLDS_PASSIVE: Final = tuple(parse_obis(f"0-0:16.1.{11 + i}.255") for i in range(8))
ACTIVE_PRICE: Final = parse_obis("0-0:94.44.1.7")  #: (primary) active tariff price, IC 3
SECONDARY_ACTIVE_PRICE: Final = parse_obis("0-0:94.44.1.8")  #: secondary element's, IC 3
#: the secondary element's TOU rates: script selectors 201..204 (GBCS 7.3.7)
SECONDARY_SELECTOR_BASE: Final = 200
SECONDARY_RATES: Final = 4


@dataclass(frozen=True, slots=True)
class TariffObjects:
    """The active COSEM objects one measuring element's tariff is compiled from."""

    calendar: bytes  #: activity calendar (IC 20), active attributes 3-5
    special_days: bytes  #: special days table (IC 11), attribute 2
    prices: bytes  #: TOU (and block) price matrix (IC 113), unit_charge_active
    standing_charge: bytes | None  #: IC 113 standing charge (None: not this element's)
    blocks: bool  #: block tariff, thresholds and block prices apply
    selector_base: int  #: day-profile script selector of TOU rate n is base + n
    rates: int  #: the number of TOU rates


PRIMARY_TARIFF: Final = TariffObjects(
    CALENDAR, SPECIAL_ACTIVE, PRICE_MATRIX, STANDING_CHARGE, True, 0, lay.N_TOU
)
SECONDARY_TARIFF: Final = TariffObjects(
    CALENDAR_2, SPECIAL_ACTIVE_2, SECONDARY_PRICES, None, False, SECONDARY_SELECTOR_BASE,
    SECONDARY_RATES,
)  # fmt: skip

#: "now" and "cancel" activation date-times (gbcs-reference.md 7.4)
_NOW_PREFIX: Final = bytes(9)
_CANCEL_PREFIX: Final = b"\xff" * 9

Copy = tuple[int, bytes, int, bytes, int]  #: class, passive obis, attr, active obis, attr


def _calendar(obis: bytes) -> tuple[Copy, ...]:
    return tuple((20, obis, passive, obis, passive - 4) for passive in (7, 8, 9))


def _obis(text: str) -> bytes:
    return parse_obis(text)


#: activation-time attribute (class, obis, attribute) -> the passive->active copies it makes
ACTIVATIONS: Final[dict[tuple[int, bytes, int], tuple[Copy, ...]]] = {
    (20, CALENDAR, 10): _calendar(CALENDAR),
    (20, CALENDAR_2, 10): _calendar(CALENDAR_2),
    (9000, _obis("0-0:94.44.128.29"), 6): ((11, SPECIAL_PASSIVE, 2, SPECIAL_ACTIVE, 2),),
    (9000, _obis("0-0:94.44.128.30"), 6): ((11, SPECIAL_PASSIVE_2, 2, SPECIAL_ACTIVE_2, 2),),
    (9000, _obis("0-0:94.44.128.31"), 6): (
        (11, _obis("0-1:11.0.2.255"), 2, _obis("0-0:11.0.2.255"), 2),
        (10, _obis("0-1:12.0.1.255"), 2, _obis("0-0:12.0.1.255"), 2),
    ),
    (9000, _obis("0-0:63.1.1.255"), 6): tuple(
        (21, p, 2, a, 2) for p, a in zip(THRESHOLDS_PASSIVE, THRESHOLDS_ACTIVE, strict=True)
    ),
    (113, PRICE_MATRIX, 7): ((113, PRICE_MATRIX, 6, PRICE_MATRIX, 5),),
    (113, STANDING_CHARGE, 7): ((113, STANDING_CHARGE, 6, STANDING_CHARGE, 5),),
    (113, SECONDARY_PRICES, 7): ((113, SECONDARY_PRICES, 6, SECONDARY_PRICES, 5),),
}


def activation_copies(class_id: int, obis: bytes, index: int) -> tuple[Copy, ...] | None:
    """The copies an activation-time attribute triggers (class 9000: its own value 4 -> 2)."""
    copies = ACTIVATIONS.get((class_id, obis, index))
    if copies is None and class_id == 9000 and index == 6:
        return ((9000, obis, 4, obis, 2),)
    return copies


def activation_instant(raw: bytes, now: datetime) -> datetime | None:
    """When a COSEM activation date-time takes effect: ``now`` for the all-zero value,
    ``None`` for "cancel" (all 0xFF) or any value not fully specified, else the instant."""
    if len(raw) != 12 or raw.startswith(_CANCEL_PREFIX):
        return None
    if raw.startswith(_NOW_PREFIX):
        return now
    return utc_instant(raw)


def _key(class_id: int, obis: bytes, index: int) -> str:
    return f"{class_id}/{obis.hex()}/{index}"


def _parse_key(key: str) -> tuple[int, bytes, int]:
    class_id, obis, index = key.split("/")
    return int(class_id), bytes.fromhex(obis), int(index)


def pending(tx: Tx) -> dict[str, str]:
    """Activations waiting for their instant: activation key -> UTC ISO instant."""
    raw = tx.get_json(PENDING, {})
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def schedule(tx: Tx, class_id: int, obis: bytes, index: int, at: datetime | None) -> None:
    """Record (``at`` set) or cancel (``None``) a pending activation; re-arm the timer."""
    table = pending(tx)
    key = _key(class_id, obis, index)
    if at is None:
        table.pop(key, None)
    else:
        table[key] = at.isoformat()
    tx.put_json(PENDING, table)
    rearm(tx)


def rearm(tx: Tx) -> None:
    """Set the ``tariff`` timer to the earliest pending activation (or cancel it)."""
    instants = [datetime.fromisoformat(v) for v in pending(tx).values()]
    tx.timer(TIMER, min(instants) if instants else None)


def take_due(tx: Tx) -> list[tuple[int, bytes, int]]:
    """Remove and return the activations due at ``tx.now``, earliest first."""
    table = pending(tx)
    instants = {k: datetime.fromisoformat(v) for k, v in table.items()}
    due = sorted((at, k) for k, at in instants.items() if at <= tx.now)
    for _, key in due:
        del table[key]
    tx.put_json(PENDING, table)
    rearm(tx)
    return [_parse_key(k) for _, k in due]


def activate(tx: Tx, copies: Iterable[Copy]) -> bool:
    """Copy passive values to active ones; return whether any value was copied."""
    changed = False
    for class_id, passive, p_index, active, a_index in copies:
        raw = tx.get(attribute_key(class_id, passive, p_index))
        if raw is not None:
            tx.put(attribute_key(class_id, active, a_index), raw)
            changed = True
    return changed


# -------------------------------------------------------------------------- compilation



def _items(value: Data | None, parse: Callable[[Data], object]) -> list[object]:
    if not isinstance(value, Array):
        return []
    out = []
    for item in value.items:
        try:
            out.append(parse(item))
        except ViewMismatchError:
            continue
    return out


def _minute(start: bytes) -> int:
    hour = 0 if start[0] == 0xFF else start[0]
    minute = 0 if start[1] == 0xFF else start[1]
    return (hour * 60 + minute) // 30 * 30


def _date_fields(raw: bytes) -> tuple[int, int, int]:
    year = int.from_bytes(raw[0:2], "big")
    return (0 if year == 0xFFFF else year), raw[2], raw[3]


def default_tariff() -> Tariff:
    """A freshly commissioned meter's tariff: one TOU rate all day, price 0."""
    return Tariff(day_profiles=(DayProfile(((0, 1),)),))


def _engine_selector(selector: int, objects: TariffObjects) -> int | None:
    """The engine selector (1..48 TOU rate, 101..108 block set) of a day-profile script
    selector of ``objects``' calendar; None for a selector this element does not use."""
    rate = selector - objects.selector_base
    if 1 <= rate <= objects.rates:
        return rate
    if objects.blocks and 101 <= selector <= 100 + lay.N_SETS:
        return selector
    return None


def _profiles(
    days: list[CosemDayProfile], weeks: list[WeekProfile], objects: TariffObjects
) -> tuple[tuple[DayProfile, ...], dict[int, int], tuple[tuple[int, ...], ...]]:
    index: dict[int, int] = {}
    profiles: list[DayProfile] = []
    for day in days[: lay.N_PROFILES]:
        selected = ((a.start_time, _engine_selector(a.selector, objects)) for a in day.actions)
        switches = tuple(
            (_minute(start), selector) for start, selector in selected if selector is not None
        )
        if switches:
            index[day.day_id] = len(profiles)
            profiles.append(DayProfile(switches))
    week_rows = tuple(
        tuple(index.get(d, 0) for d in week.day_ids) for week in weeks[: lay.N_WEEKS]
    )
    return tuple(profiles), index, week_rows


def _prices(charge: Data | None) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]:
    """TOU prices and per-set block prices of a price matrix unit_charge."""
    tou = [0] * lay.N_TOU
    blocks = [[0] * lay.N_BLOCKS for _ in range(lay.N_SETS)]
    if charge is not None:
        try:
            matrix = UnitCharge.from_data(charge)
        except ViewMismatchError:
            matrix = None
        for entry in matrix.entries if matrix is not None else ():
            if len(entry.index) != 1 or entry.charge < 0:
                continue
            i = entry.index[0]
            if 1 <= i <= lay.N_TOU:
                tou[i - 1] = entry.charge
            elif 0xA1 <= i <= 0xD8 and 1 <= (i & 0x0F) <= lay.N_SETS:
                blocks[(i & 0x0F) - 1][(i >> 4) - 0xA] = entry.charge
    return tuple(tou), tuple(tuple(b) for b in blocks)


def _standing(charge: Data | None) -> int:
    if charge is None:
        return 0
    try:
        entries = UnitCharge.from_data(charge).entries
    except ViewMismatchError:
        return 0
    return max(0, entries[0].charge) if entries else 0


def _thresholds(tx: Tx) -> tuple[tuple[int, ...], ...]:
    out = []
    for obis in THRESHOLDS_ACTIVE:
        value = stored_value(tx, 21, obis, 2)
        given = (
            [i.value for i in value.items if isinstance(i, DoubleLongUnsigned)]
            if isinstance(value, Array)
            else []
        )
        used = sorted(t for t in given if 0 < t < 0xFFFFFFFF)
        out.append(tuple(used[: lay.N_THRESHOLDS]))
    return tuple(out)


def tariff_from_active(tx: Tx, objects: TariffObjects = PRIMARY_TARIFF) -> Tariff:
    """The engine :class:`Tariff` of an element's *active* tariff objects in NVM (default:
    the primary element's, which carries the meter's block tariff and standing charge)."""
    calendar = objects.calendar
    days = [d for d in _items(stored_value(tx, 20, calendar, 5), CosemDayProfile.from_data)
            if isinstance(d, CosemDayProfile)]  # fmt: skip
    weeks = [w for w in _items(stored_value(tx, 20, calendar, 4), WeekProfile.from_data)
             if isinstance(w, WeekProfile)]  # fmt: skip
    profiles, day_index, week_rows = _profiles(days, weeks, objects)
    tou, blocks = _prices(stored_value(tx, 113, objects.prices, 5))
    if not objects.blocks:
        blocks = tuple((0,) * lay.N_BLOCKS for _ in range(lay.N_SETS))
    charge = objects.standing_charge
    standing = 0 if charge is None else _standing(stored_value(tx, 113, charge, 5))
    thresholds = _thresholds(tx) if objects.blocks else ()
    if not profiles:
        base = default_tariff()
        return Tariff(
            day_profiles=base.day_profiles,
            tou_prices=tou,
            block_prices=blocks,
            block_thresholds=thresholds,
            standing_charge=standing,
        )
    week_names = {w.name: i for i, w in enumerate(weeks[: lay.N_WEEKS])}
    seasons: list[Season] = []
    for s in _items(stored_value(tx, 20, calendar, 3), SeasonProfile.from_data)[: lay.N_SEASONS]:
        if not isinstance(s, SeasonProfile):
            continue
        year, month, day = _date_fields(s.start)
        if 1 <= month <= 12 and 1 <= day <= 31:
            seasons.append(Season(month, day, week_names.get(s.week_name, 0), year))
    specials: list[SpecialDay] = []
    for d in _items(stored_value(tx, 11, objects.special_days, 2), CosemSpecialDay.from_data):
        if not isinstance(d, CosemSpecialDay) or d.day_id not in day_index:
            continue
        year, month, day = _date_fields(d.date)
        if 1 <= month <= 12 and 1 <= day <= 31 and len(specials) < lay.N_SPECIAL:
            specials.append(SpecialDay(month, day, day_index[d.day_id], year))
    return Tariff(
        day_profiles=profiles,
        week_profiles=week_rows or ((0,) * 7,),
        seasons=tuple(seasons),
        special_days=tuple(specials),
        tou_prices=tou,
        block_prices=blocks,
        block_thresholds=thresholds,
        standing_charge=standing,
    )


__all__ = [
    "ACTIVATIONS",
    "PRIMARY_TARIFF",
    "SECONDARY_TARIFF",
    "TariffObjects",
    "activate",
    "activation_copies",
    "activation_instant",
    "default_tariff",
    "pending",
    "rearm",
    "schedule",
    "take_due",
    "tariff_from_active",
]
