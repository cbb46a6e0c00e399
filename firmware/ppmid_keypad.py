"""The PPMID's keypad: what the consumer enters, as typed frames on the ``keypad`` port.

Layer: firmware. ``action(1) | fuel(1) | [UTRN: 20 ASCII digits]``; actions: 1 top up
(PECS01 / PCS01), 2 activate emergency credit (PECS02 / PCS02), 3 enable supply (PECS03,
electricity only); fuel 0 electricity (ESME), 1 gas (GSME).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from smemu.errors import DecodeError

UTRN_DIGITS: Final = 20


class Action(enum.IntEnum):
    TOP_UP = 1
    EMERGENCY_CREDIT = 2
    SUPPLY_ENABLE = 3


class Fuel(enum.IntEnum):
    ELECTRICITY = 0
    GAS = 1


@dataclass(frozen=True, slots=True)
class KeypadEntry:
    """One consumer action."""

    action: Action
    fuel: Fuel = Fuel.ELECTRICITY
    utrn: str = ""  #: top up only: the 20-digit UTRN as typed

    def encode(self) -> bytes:
        return bytes((self.action, self.fuel)) + self.utrn.encode("ascii")


def decode_exact(data: bytes) -> KeypadEntry:
    """Decode one keypad frame.

    :raises DecodeError: short, unknown action / fuel, a UTRN that is not 20 digits, a UTRN
        on another action, supply enable for gas.
    """
    if len(data) < 2:
        raise DecodeError("keypad frame shorter than 2 bytes", path="keypad", offset=len(data))
    try:
        action = Action(data[0])
    except ValueError:
        raise DecodeError(f"unknown action {data[0]}", path="keypad.action", offset=0) from None
    try:
        fuel = Fuel(data[1])
    except ValueError:
        raise DecodeError(f"unknown fuel {data[1]}", path="keypad.fuel", offset=1) from None
    utrn = data[2:]
    if action is Action.TOP_UP:
        if len(utrn) != UTRN_DIGITS or not utrn.isdigit():
            raise DecodeError("a UTRN is 20 decimal digits", path="keypad.utrn", offset=2)
    elif utrn:
        raise DecodeError(f"{action.name} carries no UTRN", path="keypad.utrn", offset=2)
    if action is Action.SUPPLY_ENABLE and fuel is Fuel.GAS:
        raise DecodeError(
            "supply enable is electricity only (PECS03)", path="keypad.fuel", offset=1
        )
    return KeypadEntry(action, fuel, utrn.decode("ascii"))
