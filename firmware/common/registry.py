"""The machine class of each device type: one literal table (style rule C15).

Layer: firmware.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from smemu.firmware.chf import ChfMachine
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.machine import DeviceType
from smemu.firmware.esme import EsmeMachine
from smemu.firmware.gpf import GpfMachine
from smemu.firmware.gsme import GsmeMachine
from smemu.firmware.hcalc import HcalcMachine
from smemu.firmware.ppmid import PpmidMachine

MACHINES: Final[Mapping[DeviceType, type[CommandMachine]]] = {
    DeviceType.ESME: EsmeMachine,
    DeviceType.GSME: GsmeMachine,
    DeviceType.CHF: ChfMachine,
    DeviceType.GPF: GpfMachine,
    DeviceType.PPMID: PpmidMachine,
    DeviceType.HCALC: HcalcMachine,
}
