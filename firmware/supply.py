"""ESME supply state: the load switch as commands, credit and the consumer move it.

Layer: firmware. Three states (IC 70 control_state): 0 disconnected (open), 1 connected
(closed), 2 ready for reconnection (armed). ECS42 closes, ECS43 opens, ECS44 arms (the
disconnect-control script table, selectors 51 / 52 / 54). Credit moves it too: the
register engine disables the supply when the available credit falls to the disablement
threshold (the state opens), a top-up or emergency credit that brings credit back above it
*arms* the supply, and the consumer's button closes an armed supply (SMETS: enabling after a
credit disablement is a local act). :func:`transition` is the one table of these moves.
"""

from __future__ import annotations

import enum
from typing import Final

from smemu.firmware.common.machine import Tx

SUPPLY: Final = "esme/supply"  #: NVM: the state's number
CREDIT_DISABLED: Final = "esme/credit_disabled"  #: 1 while open for lack of credit


class Supply(enum.IntEnum):
    OPEN = 0
    CLOSED = 1
    ARMED = 2


class Cause(enum.Enum):
    """What moves the switch."""

    CLOSE = "close"  #: ECS42
    OPEN = "open"  #: ECS43
    ARM = "arm"  #: ECS44
    CREDIT_EXHAUSTED = "credit_exhausted"  #: the engine disabled the supply
    CREDIT_RESTORED = "credit_restored"  #: a top-up / emergency credit above the threshold
    BUTTON = "button"  #: the consumer's enable button


#: (state, cause) -> new state; pairs not listed leave the state unchanged
TRANSITIONS: Final[dict[tuple[Supply, Cause], Supply]] = {
    **{(s, Cause.CLOSE): Supply.CLOSED for s in Supply},
    **{(s, Cause.OPEN): Supply.OPEN for s in Supply},
    **{(s, Cause.ARM): Supply.ARMED for s in Supply},
    (Supply.CLOSED, Cause.CREDIT_EXHAUSTED): Supply.OPEN,
    (Supply.ARMED, Cause.CREDIT_EXHAUSTED): Supply.OPEN,
    (Supply.OPEN, Cause.CREDIT_RESTORED): Supply.ARMED,
    (Supply.ARMED, Cause.BUTTON): Supply.CLOSED,
}

#: alert codes for the credit-driven moves (GBCS alert code table)
ALERT_SUPPLY_ARMED: Final = 0x8F32
ALERT_DISABLED_THEN_ARMED_EC: Final = 0x8168


def state(tx: Tx) -> Supply:
    value = tx.get_int(SUPPLY, Supply.CLOSED)
    return Supply(value) if value in (0, 1, 2) else Supply.CLOSED


def transition(tx: Tx, cause: Cause) -> tuple[Supply, Supply]:
    """Apply ``cause``; return (before, after). Records the credit-disabled flag."""
    before = state(tx)
    if cause is Cause.CREDIT_RESTORED and not tx.get_int(CREDIT_DISABLED):
        return before, before  # open by command: credit does not re-arm it
    after = TRANSITIONS.get((before, cause), before)
    if cause is Cause.CREDIT_EXHAUSTED:
        tx.put_int(CREDIT_DISABLED, 1)
    elif cause in (Cause.CLOSE, Cause.OPEN, Cause.ARM, Cause.CREDIT_RESTORED):
        tx.put_int(CREDIT_DISABLED, 0)
    if after is not before:
        tx.put_int(SUPPLY, after)
        tx.log("event", f"supply {before.name.lower()} -> {after.name.lower()} ({cause.value})")
    return before, after


def closed(tx: Tx) -> bool:
    return state(tx) is Supply.CLOSED


__all__ = ["CREDIT_DISABLED", "SUPPLY", "TRANSITIONS", "Cause", "Supply", "closed", "state",
           "transition"]  # fmt: skip
