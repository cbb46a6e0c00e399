"""The PPMID's display: a typed, first-class output tests read, with its history.

Layer: firmware. The display is NVM (``ppmid/display`` the current screen, ``ppmid/history``
the last :data:`HISTORY` screens, oldest first) so that a test -- or a lab reading a real
device's screen -- compares typed fields, not pixels. Amounts are in the currency's minor
unit (pence), as the Prepayment cluster's ZSE frames carry them.

A PPMID serves both fuels (product.md features 15 / 16: credit, debt and emergency credit on
the PPMID), so the screen keeps one :class:`Balance` per fuel: electricity from the ESME,
gas from the GPF (which publishes what the GSME mirrored to it) or the GSME itself; the
sender picks the set (:func:`show` ``fuel=``). The supplier's message and the outcome of the
consumer's last action are shared. ``credit`` / ``emergency_credit`` / ``debt`` on
:class:`Display` are the electricity set's (the screen's first lines).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from smemu.firmware.common.machine import Tx
from smemu.firmware.ppmid_keypad import Fuel

DISPLAY: Final = "ppmid/display"
HISTORY_KEY: Final = "ppmid/history"
#: screens kept in the history
HISTORY: Final = 64
#: the :class:`Balance` fields :func:`show` accepts as changes of one fuel's set
BALANCE_FIELDS: Final = frozenset({"credit", "emergency_credit", "debt"})


def _money(v: int | None) -> str:
    if v is None:
        return "--"
    sign = "-" if v < 0 else ""
    return f"{sign}£{abs(v) // 100}.{abs(v) % 100:02d}"


@dataclass(frozen=True, slots=True)
class Balance:
    """One fuel's prepayment figures (pence; None until the meter has told the PPMID)."""

    credit: int | None = None  #: credit remaining
    emergency_credit: int | None = None  #: emergency credit remaining
    debt: int | None = None  #: accumulated debt

    @property
    def known(self) -> bool:
        return (self.credit, self.emergency_credit, self.debt) != (None, None, None)

    def to_json(self) -> dict[str, int | None]:
        return {"credit": self.credit, "emergency_credit": self.emergency_credit,
                "debt": self.debt}  # fmt: skip

    @classmethod
    def from_json(cls, raw: object) -> Balance:
        if not isinstance(raw, Mapping):
            return cls()

        def amount(name: str) -> int | None:
            v = raw.get(name)
            return v if isinstance(v, int) else None

        return cls(amount("credit"), amount("emergency_credit"), amount("debt"))


@dataclass(frozen=True, slots=True)
class Display:
    """What the PPMID shows."""

    at: datetime | None = None  #: when this screen was drawn
    electricity: Balance = field(default_factory=Balance)  #: the ESME's figures
    gas: Balance = field(default_factory=Balance)  #: the gas meter's figures (via the GPF)
    message: str = ""  #: the supplier's message (Messaging cluster), "" when none
    status: str = ""  #: the outcome of the consumer's last action

    @property
    def credit(self) -> int | None:
        """Electricity credit remaining (pence)."""
        return self.electricity.credit

    @property
    def emergency_credit(self) -> int | None:
        """Electricity emergency credit remaining (pence)."""
        return self.electricity.emergency_credit

    @property
    def debt(self) -> int | None:
        """Electricity accumulated debt (pence)."""
        return self.electricity.debt

    def balance(self, fuel: Fuel) -> Balance:
        """The figures of ``fuel``."""
        return self.gas if fuel is Fuel.GAS else self.electricity

    @property
    def lines(self) -> tuple[str, ...]:
        """The screen as text lines (what a person sees): electricity's three figures, then
        gas's once a gas meter has published any, the message, the status."""
        e = self.electricity
        out = [
            f"Credit {_money(e.credit)}",
            f"Emergency {_money(e.emergency_credit)}",
            f"Debt {_money(e.debt)}",
        ]
        if self.gas.known:
            g = self.gas
            out += [
                f"Gas credit {_money(g.credit)}",
                f"Gas emergency {_money(g.emergency_credit)}",
                f"Gas debt {_money(g.debt)}",
            ]
        if self.message:
            out.append(self.message)
        if self.status:
            out.append(self.status)
        return tuple(out)

    def to_json(self) -> dict[str, object]:
        return {
            "at": None if self.at is None else self.at.isoformat(),
            "electricity": self.electricity.to_json(),
            "gas": self.gas.to_json(),
            "message": self.message,
            "status": self.status,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, object]) -> Display:
        """Read a stored screen; one stored before the per-fuel sets (flat ``credit`` ...)
        is electricity's."""
        at = raw.get("at")
        electricity = raw.get("electricity", raw)
        return cls(
            datetime.fromisoformat(at) if isinstance(at, str) else None,
            Balance.from_json(electricity),
            Balance.from_json(raw.get("gas")),
            str(raw.get("message", "")),
            str(raw.get("status", "")),
        )


def current(nvm: Mapping[str, bytes]) -> Display:
    """The screen shown now (blank before the first update)."""
    raw = nvm.get(DISPLAY)
    return Display() if raw is None else Display.from_json(json.loads(raw))


def history(nvm: Mapping[str, bytes]) -> tuple[Display, ...]:
    """The screens shown, oldest first (the current one last)."""
    raw = nvm.get(HISTORY_KEY)
    if raw is None:
        return ()
    return tuple(Display.from_json(d) for d in json.loads(raw))


def show(tx: Tx, fuel: Fuel = Fuel.ELECTRICITY, **changes: object) -> Display:
    """Redraw the screen with ``changes`` applied; record it in the history.

    ``credit`` / ``emergency_credit`` / ``debt`` change the figures of ``fuel``; ``message``
    and ``status`` are the screen's.
    """
    raw = tx.get_json(DISPLAY)
    old = Display.from_json(raw) if isinstance(raw, dict) else Display()
    figures = {k: v for k, v in changes.items() if k in BALANCE_FIELDS}
    rest = {k: v for k, v in changes.items() if k not in BALANCE_FIELDS}
    if figures:
        name = "gas" if fuel is Fuel.GAS else "electricity"
        rest[name] = dataclasses.replace(old.balance(fuel), **figures)  # type: ignore[arg-type]
    new = dataclasses.replace(old, at=tx.now, **rest)  # type: ignore[arg-type]
    tx.put_json(DISPLAY, new.to_json())
    past = tx.get_json(HISTORY_KEY, [])
    assert isinstance(past, list)
    past.append(new.to_json())
    tx.put_json(HISTORY_KEY, past[-HISTORY:])
    return new
