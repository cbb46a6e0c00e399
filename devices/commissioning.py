"""Commissioning of the HAN devices beyond their keys: PPMID pairing, HCALC configuration.

Layer: devices. At a device's first start the premises writes, in the same transaction as
its keys (:meth:`~smemu.devices.device.Device.open`), what an installer would set up: the
PPMID learns the ESME and GSME it serves (and the GSME's key agreement key, which MACs its
PCS01 / PCS02 commands), the HCALC gets its switch calendars: those of the premises file
(:meth:`~smemu.devices.config.PremisesConfig.hcalc_config`), else the built-in ones of
:func:`default_hcalc_config`; the ESME joins every PPMID and HCALC to its device log and
makes the HCALCs' switches its auxiliary controllers 1, 2, ... in file order
(:func:`~smemu.firmware.esme_han.commission`). The machines' own
commissioning steps (:meth:`~smemu.firmware.ppmid.PpmidMachine.pair`,
:meth:`~smemu.firmware.hcalc.HcalcMachine.configure`) write through a scratch
:class:`~smemu.firmware.common.machine.Tx`, so the NVM layout stays theirs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from smemu.devices.config import PremisesConfig, hcalc_seed
from smemu.devices.device import DeviceSpec
from smemu.devices.keys import Pki
from smemu.errors import ConfigError
from smemu.firmware import esme_han
from smemu.firmware.common.machine import DeviceType, Tx
from smemu.firmware.hcalc import HcalcConfig, HcalcMachine
from smemu.firmware.ppmid import PpmidMachine
from smemu.firmware.registers.loadcontrol import SwitchCalendar
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.keys import public_point

#: switch 1: off-peak water heating, closed 00:30-04:30 and 13:00-16:00 every day
HEATING_DAY: Final = ((30, True), (270, False), (780, True), (960, False))
#: switch 2: storage heaters, closed 22:00-06:00 (entries of one local day)
STORAGE_DAY: Final = ((0, True), (360, False), (1320, True))
#: random offset added to each calendar switching instant, up to this many seconds
RANDOM_OFFSET_S: Final = 600


def default_hcalc_config(eui: Eui64) -> HcalcConfig:
    """The HCALC's calendars at commissioning: two switches, random offsets up to 10 minutes.

    The random seed derives from the EUI, so two HCALCs on one feeder do not switch at the
    same second, and one HCALC switches the same way on every run.
    """
    return HcalcConfig(
        switches=2,
        delay_minutes=(0, 0),
        calendars=(
            SwitchCalendar((HEATING_DAY,) * 7, RANDOM_OFFSET_S),
            SwitchCalendar((STORAGE_DAY,) * 7, RANDOM_OFFSET_S),
        ),
        seed=hcalc_seed(eui),
    )


def hcalc_config_of(config: PremisesConfig, spec: DeviceSpec) -> HcalcConfig:
    """The configuration the HCALC ``spec`` is commissioned with (file, else built-in)."""
    return config.hcalc_config(spec.eui) or default_hcalc_config(spec.eui)


def _first(config: PremisesConfig, kind: DeviceType) -> Eui64 | None:
    found = config.of_type(kind)
    return found[0].eui if found else None


def commissioning_writes(
    spec: DeviceSpec, config: PremisesConfig, pki: Pki, now: datetime
) -> dict[str, bytes]:
    """NVM entries commissioning ``spec`` into the premises (empty for other device types)."""
    tx = Tx(now, {})
    if spec.type is DeviceType.PPMID:
        gsme = _first(config, DeviceType.GSME)
        key = None if gsme is None else pki.keystore.ka_public(bytes(gsme))
        PpmidMachine.pair(
            tx,
            esme=_first(config, DeviceType.ESME),
            gsme=gsme,
            gsme_ka_point=None if key is None else public_point(key),
        )
    elif spec.type is DeviceType.HCALC:
        HcalcMachine.configure(tx, hcalc_config_of(config, spec))
    elif spec.type is DeviceType.ESME:
        hcalcs = [
            (d.eui, hcalc_config_of(config, d).switches) for d in config.of_type(DeviceType.HCALC)
        ]
        try:
            esme_han.commission(
                tx, ppmids=[d.eui for d in config.of_type(DeviceType.PPMID)], hcalcs=hcalcs
            )
        except ValueError as exc:  # more HCALC switches than auxiliary controllers
            raise ConfigError(f"{spec.name}: {exc}") from exc
    return {key: value for key, value in tx.writes.items() if value is not None}
