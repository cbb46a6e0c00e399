"""Options, configuration and markers of the smemu pytest plugin (style rule I37).

Layer: hil. Every option is prefixed ``--smemu-`` and lives in its own group, with an ini
key and an environment variable as fallbacks; the parsed :class:`SmemuConfig` is kept in
``config.stash`` under :data:`SMEMU_CONFIG`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import pytest

from smemu.hil.dut import DEFAULT_START

EMULATED: Final = "emulated"

#: (option suffix, ini/env name, help, default)
_OPTIONS: Final = (
    (
        "device",
        "SMEMU_DEVICE",
        "'emulated' (default): fresh emulated devices; or the hal URL of a real rig "
        "(tcp://HOST:PORT, serial:///dev/ttyUSB0, ichi://...).",
        EMULATED,
    ),
    ("pki", "SMEMU_PKI", "PKI folder of the rig's devices (pki.json and keys).", None),
    ("rig-name", "SMEMU_RIG_NAME", "Name of the rig, recorded in the JUnit properties.", None),
    (
        "firmware",
        "SMEMU_FIRMWARE",
        "Firmware identity of the rig's devices, recorded in the JUnit properties.",
        None,
    ),
    ("timeout", "SMEMU_TIMEOUT", "Seconds to wait for each answer (default 10).", "10"),
    ("start", "SMEMU_START", "ISO 8601 start of emulated clocks (default 2020-01-01Z).", None),
    ("capture", "SMEMU_CAPTURE", "Folder for the smemu_capture pcaps (default tmp_path).", None),
)

#: markers: name -> description
MARKERS: Final = {
    "smemu_device_type": "smemu_device_type(name): the device type the smemu_device fixture "
    "gives (esme, gsme, chf, gpf, ppmid, hcalc; default esme)",
    "smemu_rig": "smemu_rig: needs a real rig (skipped when --smemu-device is emulated)",
    "smemu_emulated": "smemu_emulated: needs emulated devices (skipped on a real rig)",
}


@dataclass(frozen=True, slots=True)
class SmemuConfig:
    """The plugin's configuration, resolved from options, ini keys and environment."""

    device: str  #: ``emulated`` or a hal URL
    pki: Path | None
    rig_name: str | None
    firmware: str | None
    timeout: float
    start: datetime
    capture: Path | None

    @property
    def emulated(self) -> bool:
        return self.device == EMULATED


SMEMU_CONFIG: Final = pytest.StashKey[SmemuConfig]()


def _ini_name(suffix: str) -> str:
    return "smemu_" + suffix.replace("-", "_")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("smemu", "smemu: emulated GB smart metering devices or a real rig")
    for suffix, env, text, _ in _OPTIONS:
        group.addoption(
            f"--smemu-{suffix}",
            dest=_ini_name(suffix),
            default=None,
            help=f"{text} [env {env}; ini {_ini_name(suffix)}]",
        )
        parser.addini(_ini_name(suffix), help=text, default=None)


def _value(config: pytest.Config, suffix: str, env: str, default: str | None) -> str | None:
    name = _ini_name(suffix)
    given = config.getoption(name)
    if given is not None:
        return str(given)
    if os.environ.get(env):
        return os.environ[env]
    ini = config.getini(name)
    if ini:
        return str(ini)
    return default


def _parse_start(text: str | None) -> datetime:
    if text is None:
        return DEFAULT_START
    try:
        instant = datetime.fromisoformat(text)
    except ValueError as exc:
        raise pytest.UsageError(f"--smemu-start: expected ISO 8601, got {text!r}") from exc
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def read_config(config: pytest.Config) -> SmemuConfig:
    """Resolve the plugin options (command line, then environment, then ini file)."""
    values = {suffix: _value(config, suffix, env, default) for suffix, env, _, default in _OPTIONS}
    try:
        timeout = float(values["timeout"] or "10")
    except ValueError as exc:
        raise pytest.UsageError(
            f"--smemu-timeout: expected seconds, got {values['timeout']!r}"
        ) from exc
    pki = values["pki"]
    capture = values["capture"]
    return SmemuConfig(
        device=values["device"] or EMULATED,
        pki=None if pki is None else Path(pki),
        rig_name=values["rig-name"],
        firmware=values["firmware"],
        timeout=timeout,
        start=_parse_start(values["start"]),
        capture=None if capture is None else Path(capture),
    )


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}" if not text.startswith(name) else text)
    config.stash[SMEMU_CONFIG] = read_config(config)


def pytest_report_header(config: pytest.Config) -> str | None:
    smemu = config.stash.get(SMEMU_CONFIG, None)
    if smemu is None:
        return None
    rig = smemu.device if smemu.rig_name is None else f"{smemu.rig_name} ({smemu.device})"
    return f"smemu: devices {rig}"


def pytest_runtest_setup(item: pytest.Item) -> None:
    smemu = item.config.stash.get(SMEMU_CONFIG, None)
    if smemu is None:
        return
    if item.get_closest_marker("smemu_rig") is not None and smemu.emulated:
        pytest.skip("needs a real rig: set --smemu-device to its hal URL")
    if item.get_closest_marker("smemu_emulated") is not None and not smemu.emulated:
        pytest.skip(f"needs emulated devices; the rig {smemu.device} is configured")
