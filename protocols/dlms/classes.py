"""Typed values of the COSEM classes GBCS prepayment, load limiting and switching use.

Layer: protocols (sans-IO). Limiter (IC 71), Account (IC 111), Credit (IC 112), Token
gateway (IC 115), Disconnect control (IC 70), Script table (IC 9) and Single action schedule
(IC 22) values, each with ``from_data`` / ``to_data`` / ``to_json`` (Blue Book attribute and
method numbering; GBCS types from the Use Case volume).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from smemu.protocols.dlms.cosem import _int, _items, _octets, format_date, format_date_time
from smemu.protocols.dlms.data import (
    Data,
    DoubleLongUnsigned,
    Enum,
    LongUnsigned,
    OctetString,
    Structure,
)

__all__ = ["AccountMode", "EmergencyProfile", "ExecutionTime"]

_MODES: Final = {1: "credit", 2: "prepayment"}
_STATUSES: Final = {1: "new (inactive)", 2: "active", 3: "closed"}


@dataclass(frozen=True, slots=True)
class AccountMode:
    """Account (IC 111) attribute 2, account_mode_and_status:
    ``structure { enum payment_mode, enum account_status }`` (1 credit / 2 prepayment)."""

    payment_mode: int
    account_status: int

    @classmethod
    def from_data(cls, value: Data) -> AccountMode:
        mode, status = _items(value, 2, "account_mode_and_status")
        return cls(_int(mode, Enum, "payment_mode"), _int(status, Enum, "account_status"))

    def to_data(self) -> Data:
        return Structure((Enum(self.payment_mode), Enum(self.account_status)))

    def to_json(self) -> Any:
        return {
            "payment_mode": _MODES.get(self.payment_mode, f"mode {self.payment_mode}"),
            "account_status": _STATUSES.get(self.account_status, f"status {self.account_status}"),
        }


@dataclass(frozen=True, slots=True)
class EmergencyProfile:
    """Limiter (IC 71) attribute 8, emergency_profile: ``structure { long-unsigned id,
    octet-string(12) activation_time, double-long-unsigned duration (s) }``."""

    profile_id: int
    activation_time: bytes
    duration: int

    @classmethod
    def from_data(cls, value: Data) -> EmergencyProfile:
        pid, start, duration = _items(value, 3, "emergency_profile")
        return cls(
            _int(pid, LongUnsigned, "emergency_profile_id"),
            _octets(start, "emergency_activation_time", 12),
            _int(duration, DoubleLongUnsigned, "emergency_duration"),
        )

    def to_data(self) -> Data:
        return Structure(
            (
                LongUnsigned(self.profile_id),
                OctetString(self.activation_time),
                DoubleLongUnsigned(self.duration),
            )
        )

    def to_json(self) -> Any:
        return {
            "id": self.profile_id,
            "activation_time": format_date_time(self.activation_time),
            "duration_s": self.duration,
        }


@dataclass(frozen=True, slots=True)
class ExecutionTime:
    """Single action schedule (IC 22) attribute 4 entry: ``structure { octet-string(4) time,
    octet-string(5) date }`` (``*`` fields repeat, e.g. every month)."""

    time: bytes
    date: bytes

    @classmethod
    def from_data(cls, value: Data) -> ExecutionTime:
        time, date = _items(value, 2, "execution_time")
        return cls(_octets(time, "time", 4), _octets(date, "date", 5))

    def to_data(self) -> Data:
        return Structure((OctetString(self.time), OctetString(self.date)))

    def to_json(self) -> Any:
        clock = ":".join("**" if b == 0xFF else f"{b:02d}" for b in self.time[:3])
        return {"date": format_date(self.date), "time": clock}
