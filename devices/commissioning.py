"""Commissioning of the HAN devices beyond their keys: device logs, image trust, HCALC calendars.

Layer: devices. At a device's first start the premises writes, in the same transaction as
its keys (:meth:`~smemu.devices.device.Device.open`), what an installer's joins and set-up
leave behind:

* device logs as the joins of a real installation leave them: the PPMID's holds its ESME
  and its GPF (method A, the PPMID responding; the GPF's holds every PPMID, the GPF
  initiating) and its GSME (method C, with the GSME's key agreement
  certificate, whose key MACs the PPMID's PCS01 / PCS02) and serves both
  (:func:`~smemu.firmware.ppmid_joins.serve`); the GSME's holds every PPMID by method C
  with the PPMID's key agreement certificate (:func:`~smemu.firmware.gas_joins.record`), which
  makes the PPMID a HAN party whose PCS01 / PCS02 it accepts; the ESME's holds every PPMID
  and HCALC and makes the HCALCs' switches its auxiliary controllers 1, 2, ... in file
  order (:func:`~smemu.firmware.esme_han.commission`);
* the manufacturer's image verification key in the ESME, GSME and PPMID
  (:func:`~smemu.firmware.firmware_image.manufacturer_writes`): the premises file's
  ``manufacturer_point`` / ``manufacturer_id`` when it gives them, else the PKI's
  manufacturer key (:meth:`~smemu.devices.keys.Pki.manufacturer_point`);
* the HCALC's switch calendars: those of the premises file
  (:meth:`~smemu.devices.config.PremisesConfig.hcalc_config`), else the built-in ones of
  :func:`default_hcalc_config`.

Everything goes through the firmware's own record functions on a scratch
:class:`~smemu.firmware.common.machine.Tx`, so the NVM layout stays the firmware's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from smemu.devices.config import PremisesConfig, hcalc_seed
from smemu.devices.device import DeviceSpec
from smemu.devices.keys import Pki
from smemu.errors import ConfigError
from smemu.firmware import esme_han, firmware_image, gas_joins, joins, ppmid_joins
from smemu.firmware.common.machine import DeviceType, Tx
from smemu.firmware.hcalc import HcalcConfig, HcalcMachine
from smemu.firmware.ppmid import PpmidMachine
from smemu.firmware.registers.loadcontrol import SwitchCalendar
from smemu.protocols.asn1.devices import JoinMethodAndRole
from smemu.protocols.asn1.values import DeviceType as LogType
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.keys import public_point
from smemu.protocols.security.keystore import KeyKind

#: switch 1: off-peak water heating, closed 00:30-04:30 and 13:00-16:00 every day
HEATING_DAY: Final = ((30, True), (270, False), (780, True), (960, False))
#: switch 2: storage heaters, closed 22:00-06:00 (entries of one local day)
STORAGE_DAY: Final = ((0, True), (360, False), (1320, True))
#: random offset added to each calendar switching instant, up to this many seconds
RANDOM_OFFSET_S: Final = 600
#: the devices that verify firmware images with the manufacturer's key
IMAGE_VERIFIERS: Final = frozenset({DeviceType.ESME, DeviceType.GSME, DeviceType.PPMID})


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


def image_trust(config: PremisesConfig, pki: Pki) -> dict[str, bytes]:
    """NVM entries making a device trust the manufacturer's images (empty: no key known)."""
    point = config.manufacturer_point or pki.manufacturer_point()
    if point is None:
        return {}
    return firmware_image.manufacturer_writes(point, config.manufacturer_id)


def _ppmid_joins(tx: Tx, config: PremisesConfig, pki: Pki) -> None:
    """The PPMID's device log after its installation: the ESME (method A, the PPMID
    responding) and the GSME (method C, with the GSME's KA certificate), both served."""
    esme = _first(config, DeviceType.ESME)
    if esme is not None:
        joins.record(tx, esme, LogType.ESME, JoinMethodAndRole.METHOD_A_RESPONDER)
        ppmid_joins.serve(tx, esme, LogType.ESME)
    gpf = _first(config, DeviceType.GPF)
    if gpf is not None:  # the GPF publishes the gas figures and messages to the PPMID
        joins.record(tx, gpf, LogType.GPF, JoinMethodAndRole.METHOD_A_RESPONDER)
    gsme = _first(config, DeviceType.GSME)
    if gsme is None:
        return
    cert = pki.certificate(gsme, KeyKind.KA)
    gas_joins.record(tx, gsme, LogType.GSME, JoinMethodAndRole.METHOD_C, cert)
    ppmid_joins.serve(tx, gsme, LogType.GSME, cert)
    if cert is None:  # a bare key in the keystore: the PPMID still needs it for its MACs
        key = pki.keystore.ka_public(bytes(gsme))
        if key is not None:
            PpmidMachine.pair(tx, gsme=gsme, gsme_ka_point=public_point(key))


def _gsme_joins(tx: Tx, config: PremisesConfig, pki: Pki) -> None:
    """The GSME's device log after its installation: every PPMID by method C, with the
    PPMID's KA certificate (so its PCS01 / PCS02 are accepted)."""
    for spec in config.of_type(DeviceType.PPMID):
        cert = pki.certificate(spec.eui, KeyKind.KA)
        gas_joins.record(tx, spec.eui, LogType.PPMID, JoinMethodAndRole.METHOD_C, cert)


def _gpf_joins(tx: Tx, config: PremisesConfig) -> None:
    """The GPF's device log after its installation: every PPMID by method A, the GPF
    initiating (it then sends them the gas figures and the supplier's messages)."""
    for spec in config.of_type(DeviceType.PPMID):
        joins.record(tx, spec.eui, LogType.PPMID, JoinMethodAndRole.METHOD_A_INITIATOR)


def commissioning_writes(
    spec: DeviceSpec, config: PremisesConfig, pki: Pki, now: datetime
) -> dict[str, bytes]:
    """NVM entries commissioning ``spec`` into the premises (empty for a CHF)."""
    tx = Tx(now, {})
    if spec.type in IMAGE_VERIFIERS:
        for key, value in image_trust(config, pki).items():
            tx.put(key, value)
    if spec.type is DeviceType.PPMID:
        _ppmid_joins(tx, config, pki)
    elif spec.type is DeviceType.GSME:
        _gsme_joins(tx, config, pki)
    elif spec.type is DeviceType.GPF:
        _gpf_joins(tx, config)
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
