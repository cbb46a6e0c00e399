"""The PPMID's display: a typed, first-class output tests read, with its history.

Layer: firmware. The display is NVM (``ppmid/display`` the current screen, ``ppmid/history``
the last :data:`HISTORY` screens, oldest first) so that a test -- or a lab reading a real
device's screen -- compares typed fields, not pixels. Amounts are in the currency's minor
unit (pence), as the Prepayment cluster carries them.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from smemu.firmware.common.machine import Tx

DISPLAY: Final = "ppmid/display"
HISTORY_KEY: Final = "ppmid/history"
#: screens kept in the history
HISTORY: Final = 64


@dataclass(frozen=True, slots=True)
class Display:
    """What the PPMID shows."""

    at: datetime | None = None  #: when this screen was drawn
    credit: int | None = None  #: credit remaining (pence)
    emergency_credit: int | None = None  #: emergency credit remaining (pence)
    debt: int | None = None  #: accumulated debt (pence)
    message: str = ""  #: the supplier's message (Messaging cluster), "" when none
    status: str = ""  #: the outcome of the consumer's last action

    @property
    def lines(self) -> tuple[str, ...]:
        """The screen as text lines (what a person sees)."""

        def money(v: int | None) -> str:
            if v is None:
                return "--"
            sign = "-" if v < 0 else ""
            return f"{sign}£{abs(v) // 100}.{abs(v) % 100:02d}"

        out = [
            f"Credit {money(self.credit)}",
            f"Emergency {money(self.emergency_credit)}",
            f"Debt {money(self.debt)}",
        ]
        if self.message:
            out.append(self.message)
        if self.status:
            out.append(self.status)
        return tuple(out)

    def to_json(self) -> dict[str, object]:
        d = dataclasses.asdict(self)
        d["at"] = None if self.at is None else self.at.isoformat()
        return d

    @classmethod
    def from_json(cls, raw: Mapping[str, object]) -> Display:
        at = raw.get("at")

        def amount(name: str) -> int | None:
            v = raw.get(name)
            return v if isinstance(v, int) else None

        return cls(
            datetime.fromisoformat(at) if isinstance(at, str) else None,
            amount("credit"),
            amount("emergency_credit"),
            amount("debt"),
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


def show(tx: Tx, **changes: object) -> Display:
    """Redraw the screen with ``changes`` applied; record it in the history."""
    raw = tx.get_json(DISPLAY)
    old = Display.from_json(raw) if isinstance(raw, dict) else Display()
    new = dataclasses.replace(old, at=tx.now, **changes)  # type: ignore[arg-type]
    tx.put_json(DISPLAY, new.to_json())
    past = tx.get_json(HISTORY_KEY, [])
    assert isinstance(past, list)
    past.append(new.to_json())
    tx.put_json(HISTORY_KEY, past[-HISTORY:])
    return new
