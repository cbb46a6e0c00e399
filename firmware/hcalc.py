"""HcalcMachine: the HAN-connected auxiliary load control switch (minimal until issue 6).

Layer: firmware.

Theory of operation
-------------------
A mains-powered HAN device that stays ``RUNNING``, holding one switch state in NVM
(``hcalc/switch``: 0 off, 1 on). The ESME's calendar will drive it (issue 6); until then
it accepts commands through the shared checks and answers every authenticated command
with the ECS100 "not supported" alert.
"""

from __future__ import annotations

from typing import ClassVar, Final

from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.machine import DeviceType, Tx

SWITCH: Final = "hcalc/switch"


class HcalcMachine(CommandMachine):
    """HAN-connected auxiliary load control switch."""

    device_type = DeviceType.HCALC
    HANDLERS: ClassVar = {}
    UPLINK: ClassVar = "han"

    def on_boot(self, tx: Tx) -> None:
        if tx.get(SWITCH) is None:
            tx.put_int(SWITCH, 0)
