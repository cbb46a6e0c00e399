"""Helpers for firmware tests: a seeded PKI and commands as a head-end builds them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from smemu.devices.keys import Pki, init_pki
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.machine import BootEvent, DeviceType
from smemu.firmware.common.registry import MACHINES
from smemu.hil.demo import build_command
from smemu.protocols.gbcs.types import Eui64

ESME = Eui64.parse("00-DB-12-34-56-78-90-A0")
GSME = Eui64.parse("00-DB-12-34-56-78-90-A1")
T0 = datetime(2025, 1, 6, tzinfo=UTC)


def make_pki(folder: Path, devices: dict[Eui64, DeviceType] | None = None) -> Pki:
    return init_pki(folder, devices or {ESME: DeviceType.ESME}, seed=b"firmware tests")


def booted(pki: Pki, eui: Eui64, kind: DeviceType) -> CommandMachine:
    machine = MACHINES[kind](eui, pki.provisioning(eui))
    machine.step(BootEvent(), T0)
    return machine


def command(
    pki: Pki,
    recipient: Eui64,
    code: int,
    counter: int,
    payload: bytes,
    *,
    sign: bool = False,
    role: Role = Role.SUPPLIER,
) -> bytes:
    return build_command(
        pki.keystore,
        originator=pki.remote_parties[role],
        recipient=recipient,
        code=code,
        counter=counter,
        payload=payload,
        sign=sign,
        acb=pki.remote_parties[Role.ACCESS_CONTROL_BROKER],
    )
