"""PpmidMachine: the prepayment interface device (minimal until issue 6).

Layer: firmware.

Theory of operation
-------------------
A mains-powered HAN device that stays ``RUNNING``. It accepts commands through the shared
checks of :class:`~smemu.firmware.common.commands.CommandMachine`; no PPMID use case is
implemented yet (CS08 firmware version is an ASN.1 use case, to come), so every
authenticated command is answered with the ECS100 "not supported" alert.
"""

from __future__ import annotations

from typing import ClassVar, Final

from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.machine import DeviceType, Tx

FIRMWARE_VERSION: Final = "fw/version"


class PpmidMachine(CommandMachine):
    """Prepayment interface device (in-home display)."""

    device_type = DeviceType.PPMID
    HANDLERS: ClassVar = {}
    UPLINK: ClassVar = "han"

    def on_boot(self, tx: Tx) -> None:
        if tx.get(FIRMWARE_VERSION) is None:
            tx.put(FIRMWARE_VERSION, bytes.fromhex("03000000"))
