"""Premises description files (TOML) and the embedded default premises.

Layer: devices. A premises file names the comms hub's WAN port, the simulated clock, the
PKI seed, and the devices with their EUI-64 and optional settings::

    [premises]
    name = "default"
    wan = "tcp://127.0.0.1:8716"
    start = "2025-01-06T00:00:00Z"   # simulated time at first start
    speed = 1.0                      # simulated seconds per real second; "wall" for real time
    pki_seed = "smemu default premises"   # omit for random keys
    manufacturer_id = 0x0102         # optional: the only image manufacturer id accepted
    manufacturer_point = "04ab..."   # optional: the image verification key (hex, X||Y or
                                     # 04||X||Y); default: the PKI's manufacturer key

    [[device]]
    type = "chf"
    eui = "00-DB-12-34-56-78-90-A2"

    [[device]]
    type = "gsme"
    eui = "00-DB-12-34-56-78-90-A1"
    wake_s = 1800

An HCALC's switch calendars (what the installer sets at commissioning) are tables of
the device, one per load switch (1..8), in switch order::

    [[device]]
    type = "hcalc"
    eui = "00-DB-12-34-56-78-90-A5"
    seed = 42                        # random-offset seed; default: from the EUI

    [[device.switch]]                # switch 1
    calendar = "00:30=on,04:30=off"  # every day: HH:MM (local time) = on (closed) / off
    saturday = "08:00=on,12:00=off"  # optional: a weekday of its own
    random_offset_s = 600            # each switching instant moves by up to this (0..3600)
    delay_minutes = 0                # delay timer after a supply restore: 0 or 1..1440

An HCALC without switch tables gets the built-in calendars
(:func:`smemu.devices.commissioning.default_hcalc_config`).

Exactly one CHF and at most one GPF and one GSME; any number of ESME, PPMID and HCALC.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from smemu.devices.device import DeviceSpec
from smemu.errors import ConfigError, SecurityError
from smemu.firmware.common.machine import DeviceType
from smemu.firmware.hcalc import HcalcConfig
from smemu.firmware.registers.loadcontrol import SwitchCalendar
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.keys import public_key_from_point, public_point

DEFAULT_WAN: Final = "tcp://127.0.0.1:8716"

DEFAULT_PREMISES: Final = """\
[premises]
name = "default"
wan = "tcp://127.0.0.1:8716"
start = "2025-01-06T00:00:00Z"
speed = 1.0
pki_seed = "smemu default premises"

[[device]]
type = "chf"
eui = "00-DB-12-34-56-78-90-A2"

[[device]]
type = "gpf"
eui = "00-DB-12-34-56-78-90-A3"

[[device]]
type = "esme"
eui = "00-DB-12-34-56-78-90-A0"

[[device]]
type = "gsme"
eui = "00-DB-12-34-56-78-90-A1"
wake_s = 1800

[[device]]
type = "ppmid"
eui = "00-DB-12-34-56-78-90-A4"

[[device]]
type = "hcalc"
eui = "00-DB-12-34-56-78-90-A5"

# switch 1: off-peak water heating
[[device.switch]]
calendar = "00:30=on,04:30=off,13:00=on,16:00=off"
random_offset_s = 600

# switch 2: storage heaters, on overnight
[[device.switch]]
calendar = "00:00=on,06:00=off,22:00=on"
random_offset_s = 600
"""

#: keys of an HCALC's table that configure its calendars (:func:`_hcalc`)
_HCALC_KEYS: Final = frozenset({"switch", "seed"})

#: device settings a premises file may give -> (NVM key, lowest, highest)
_SETTINGS: Final = {
    "wake_s": ("gsme/wake_s", 10, 86_400),
    "import_w": ("esme/import_w", 0, 100_000),
}


@dataclass(frozen=True, slots=True)
class PremisesConfig:
    """A parsed premises description."""

    name: str
    wan: str
    start: datetime
    speed: float | None  #: ``None``: wall-clock time
    pki_seed: bytes | None
    devices: tuple[DeviceSpec, ...]
    #: the HCALCs whose file gives switch calendars: (EUI, configuration)
    hcalc: tuple[tuple[Eui64, HcalcConfig], ...] = ()
    #: the image verification key (P-256 X||Y) the meters and PPMIDs trust (None: the PKI's)
    manufacturer_point: bytes | None = None
    #: the only manufacturer identifier of images they accept (None: any)
    manufacturer_id: int | None = None

    def of_type(self, kind: DeviceType) -> list[DeviceSpec]:
        return [d for d in self.devices if d.type is kind]

    def hcalc_config(self, eui: Eui64) -> HcalcConfig | None:
        """The switch calendars the file gives the HCALC ``eui`` (``None``: none given)."""
        return next((config for known, config in self.hcalc if known == eui), None)


#: weekday keys of a switch table, Monday first (SwitchCalendar order)
WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SWITCH_KEYS: Final = frozenset({"calendar", "random_offset_s", "delay_minutes", *WEEKDAYS})
_MAX_OFFSET_S: Final = 3600


def hcalc_seed(eui: Eui64) -> int:
    """The default random-offset seed of an HCALC: the last four octets of its EUI-64, so
    two HCALCs on one feeder do not switch at the same second."""
    return int.from_bytes(bytes(eui)[-4:], "big")


def parse_calendar(text: str, *, where: str = "calendar") -> tuple[tuple[int, bool], ...]:
    """``"00:30=on,04:30=off"`` -> ((30, True), (270, False)): one day's switching.

    :raises ConfigError: an entry that is not ``HH:MM=on|off``, a time outside the day, or
        two entries at one time.
    """
    entries: list[tuple[int, bool]] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        when, _, state = part.partition("=")
        hours, _, minutes = when.strip().partition(":")
        word = state.strip().lower()
        try:
            minute = int(hours) * 60 + int(minutes)
        except ValueError:
            minute = -1
        if word not in ("on", "off") or not 0 <= minute < 1440 or len(minutes) != 2:
            raise ConfigError(f"{where}: {part!r} is not HH:MM=on or HH:MM=off")
        entries.append((minute, word == "on"))
    entries.sort()
    if len({m for m, _ in entries}) != len(entries):
        raise ConfigError(f"{where}: two entries at the same time")
    return tuple(entries)


def _switch(where: str, raw: object) -> tuple[SwitchCalendar, int]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table")
    unknown = sorted(set(raw) - _SWITCH_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {sorted(_SWITCH_KEYS)})")
    every = raw.get("calendar")
    days = []
    for day in WEEKDAYS:
        text = raw.get(day, every)
        if text is None:
            raise ConfigError(f"{where}: no calendar for {day} (give calendar = \"HH:MM=on,...\")")
        if not isinstance(text, str):
            raise ConfigError(f"{where}: {day if day in raw else 'calendar'} must be a string")
        days.append(parse_calendar(text, where=f"{where} {day}"))
    offset = raw.get("random_offset_s", 0)
    if not isinstance(offset, int) or not 0 <= offset <= _MAX_OFFSET_S:
        raise ConfigError(f"{where}: random_offset_s must be an integer 0..{_MAX_OFFSET_S}")
    delay = raw.get("delay_minutes", 0)
    if not isinstance(delay, int) or not (delay == 0 or 1 <= delay <= 1440):
        raise ConfigError(f"{where}: delay_minutes must be 0 or 1..1440")
    return SwitchCalendar(tuple(days), offset), delay


def _hcalc(where: str, eui: Eui64, raw: dict[str, object]) -> HcalcConfig | None:
    switches = raw.get("switch")
    seed = raw.get("seed", hcalc_seed(eui))
    if not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"{where}: seed must be an integer >= 0")
    if switches is None:
        if "seed" in raw:
            raise ConfigError(f"{where}: seed needs the [[device.switch]] calendars it offsets")
        return None
    if not isinstance(switches, list) or not 1 <= len(switches) <= 8:
        raise ConfigError(f"{where}: an HCALC has 1..8 [[device.switch]] tables")
    parsed = [_switch(f"{where} switch {n}", s) for n, s in enumerate(switches, start=1)]
    return HcalcConfig(
        switches=len(parsed),
        delay_minutes=tuple(delay for _, delay in parsed),
        calendars=tuple(calendar for calendar, _ in parsed),
        seed=seed,
    )


def _manufacturer(source: str, head: dict[str, object]) -> tuple[bytes | None, int | None]:
    """The ``manufacturer_point`` / ``manufacturer_id`` of the [premises] table, checked."""
    raw_id = head.get("manufacturer_id")
    ident: int | None = None
    if raw_id is not None:
        if isinstance(raw_id, bool) or not isinstance(raw_id, int) or not 0 <= raw_id <= 0xFFFF:
            raise ConfigError(f"{source}: manufacturer_id must be an integer 0..0xFFFF")
        ident = raw_id
    text = head.get("manufacturer_point")
    if text is None:
        return None, ident
    try:
        point = bytes.fromhex(str(text))
    except ValueError:
        point = b""
    try:
        return public_point(public_key_from_point(point)), ident
    except (SecurityError, ValueError):
        raise ConfigError(
            f"{source}: manufacturer_point must be a P-256 public point in hex (X||Y)"
        ) from None


def _device(index: int, raw: object) -> DeviceSpec:
    where = f"device #{index + 1}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table")
    try:
        kind = DeviceType(str(raw.get("type", "")).lower())
    except ValueError:
        names = ", ".join(t.value for t in DeviceType)
        raise ConfigError(f"{where}: type must be one of {names}") from None
    try:
        eui = Eui64.parse(str(raw.get("eui", "")))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    settings = []
    for key, value in raw.items():
        if key in ("type", "eui", "name"):
            continue
        if kind is DeviceType.HCALC and key in _HCALC_KEYS:
            continue
        if key not in _SETTINGS:
            known = sorted({*_SETTINGS, *(_HCALC_KEYS if kind is DeviceType.HCALC else ())})
            raise ConfigError(f"{where}: unknown setting {key!r} (known: {known})")
        nvm_key, low, high = _SETTINGS[key]
        if not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(f"{where}: {key} must be an integer {low}..{high}")
        settings.append((nvm_key, value))
    name = str(raw.get("name", kind.value))
    return DeviceSpec(kind, eui, name, tuple(settings))


def parse_config(text: str, *, source: str = "premises") -> PremisesConfig:
    """Parse a premises TOML document.

    :raises ConfigError: naming the source and the problem.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    head = doc.get("premises", {})
    if not isinstance(head, dict):
        raise ConfigError(f"{source}: [premises] must be a table")
    try:
        start = datetime.fromisoformat(str(head.get("start", "2025-01-06T00:00:00Z")))
    except ValueError as exc:
        raise ConfigError(f"{source}: start: {exc}") from exc
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    speed_raw = head.get("speed", 1.0)
    speed: float | None
    if speed_raw == "wall":
        speed = None
    elif isinstance(speed_raw, int | float) and speed_raw >= 0:
        speed = float(speed_raw)
    else:
        raise ConfigError(f"{source}: speed must be a number >= 0 or \"wall\"")
    seed = head.get("pki_seed")
    raw_devices = doc.get("device", [])
    if not isinstance(raw_devices, list):
        raise ConfigError(f"{source}: device must be an array of tables ([[device]])")
    devices = tuple(_device(i, d) for i, d in enumerate(raw_devices))
    point, ident = _manufacturer(source, head)
    hcalcs = []
    for i, (spec, raw) in enumerate(zip(devices, raw_devices, strict=True)):
        if spec.type is DeviceType.HCALC:
            found = _hcalc(f"{source}: device #{i + 1}", spec.eui, raw)
            if found is not None:
                hcalcs.append((spec.eui, found))
    config = PremisesConfig(
        str(head.get("name", "premises")),
        str(head.get("wan", DEFAULT_WAN)),
        start,
        speed,
        None if seed is None else str(seed).encode(),
        devices,
        tuple(hcalcs),
        point,
        ident,
    )
    _check(config, source)
    return config


def _check(config: PremisesConfig, source: str) -> None:
    euis = [d.eui for d in config.devices]
    if len(set(euis)) != len(euis):
        raise ConfigError(f"{source}: two devices share an EUI")
    counts = {t: len(config.of_type(t)) for t in DeviceType}
    if counts[DeviceType.CHF] != 1:
        raise ConfigError(f"{source}: a premises has exactly one chf")
    for kind in (DeviceType.GPF, DeviceType.GSME):
        if counts[kind] > 1:
            raise ConfigError(f"{source}: at most one {kind.value}")
    if counts[DeviceType.GSME] and not counts[DeviceType.GPF]:
        raise ConfigError(f"{source}: a gsme needs a gpf to proxy it")


def load_config(path: Path | None) -> PremisesConfig:
    """Read a premises file, or the embedded default when ``path`` is None."""
    if path is None:
        return parse_config(DEFAULT_PREMISES, source="default premises")
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read premises file {path}: {exc}") from exc
    return parse_config(text, source=str(path))
