"""Premises description files (TOML) and the embedded default premises.

Layer: devices. A premises file names the comms hub's WAN port, the simulated clock, the
PKI seed, and the devices with their EUI-64 and optional settings::

    [premises]
    name = "default"
    wan = "tcp://127.0.0.1:8716"
    start = "2025-01-06T00:00:00Z"   # simulated time at first start
    speed = 1.0                      # simulated seconds per real second; "wall" for real time
    pki_seed = "smemu default premises"   # omit for random keys

    [[device]]
    type = "chf"
    eui = "00-DB-12-34-56-78-90-A2"

    [[device]]
    type = "gsme"
    eui = "00-DB-12-34-56-78-90-A1"
    wake_s = 1800

Exactly one CHF and at most one GPF and one GSME; any number of ESME, PPMID and HCALC.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from smemu.devices.device import DeviceSpec
from smemu.errors import ConfigError
from smemu.firmware.common.machine import DeviceType
from smemu.protocols.gbcs.types import Eui64

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
"""

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

    def of_type(self, kind: DeviceType) -> list[DeviceSpec]:
        return [d for d in self.devices if d.type is kind]


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
        if key not in _SETTINGS:
            raise ConfigError(f"{where}: unknown setting {key!r} (known: {sorted(_SETTINGS)})")
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
    devices = tuple(_device(i, d) for i, d in enumerate(doc.get("device", [])))
    config = PremisesConfig(
        str(head.get("name", "premises")),
        str(head.get("wan", DEFAULT_WAN)),
        start,
        speed,
        None if seed is None else str(seed).encode(),
        devices,
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
