"""The gas valve as credit, commands and the consumer move it.

Layer: firmware. SMETS GSME supply states (Metering SupplyStatus, read by GCS33): the valve
*closed* (supply off), *armed* (still closed, ready for the consumer to open it at the
meter) and *open* (supply on). They are the ESME load switch's three states with the
electrical words swapped -- a closed valve is an open (disconnected) switch -- and the
NVM numbers coincide (0 off, 1 on, 2 armed), so the moves are the ESME's table
:data:`smemu.firmware.supply.TRANSITIONS` applied to the valve's own NVM.

Theory of operation
-------------------
* GCS32 closes, GCS39 arms (:func:`command`); nothing opens the valve remotely.
* Prepayment: when the register engine disables the supply (available credit at or below
  the disablement threshold, outside a non-disablement period; engine event
  ``supply_disabled``) the valve closes and is marked closed *for credit*
  (:data:`CREDIT_DISABLED`). Credit brought back above the threshold (a top-up, an
  adjustment, emergency credit) arms a valve closed for credit (:func:`credit_changed`); a
  valve closed by command stays closed.
* The consumer opens an armed valve at the meter (:func:`local_open`): the button on the
  GSME. It opens only if the engine re-enables the supply (credit above the threshold, or
  credit mode).

:func:`engine_events` is called by every register catch-up of the GSME
(:func:`smemu.firmware.gas_metering.catch_up`), so no engine event is lost whichever
command or wake advanced the registers. The alerts these moves raise (GBCS alert codes:
0x810D low credit, 0x8119 emergency credit available, 0x81AA emergency credit exhausted,
0x8F0F credit below disablement threshold, 0x8F83 disablement suspended in a
non-disablement period, 0x8F32 supply armed, 0x8168 supply disabled then armed by
emergency credit) wait in :data:`ALERTS` until the GSME's radio is on; the machine takes
them with :func:`take_alerts`, records each in its event log and sends it to the supplier
(:func:`alert_message`).

NVM: ``gsme/valve`` (the state; mirrored to the GPF, which answers GCS33 from it),
:data:`CREDIT_DISABLED`, :data:`ALERTS` (device-private, not mirrored).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import Final

from smemu.firmware import supply
from smemu.firmware.common import respond
from smemu.firmware.common.credentials import Credentials, Role
from smemu.firmware.common.machine import Tx
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers.ops import Event
from smemu.protocols.zigbee import gbz

VALVE: Final = "gsme/valve"  #: the same key as :data:`smemu.firmware.gas_handlers.VALVE`
CREDIT_DISABLED: Final = "valve/credit_disabled"  #: 1 while closed for lack of credit
ALERTS: Final = "valve/alerts"  #: JSON list of [alert code, epoch seconds] not sent yet
#: alerts kept while the radio is off (the oldest are dropped beyond)
ALERT_QUEUE_LIMIT: Final = 32


class Valve(enum.IntEnum):
    """GSME valve states as NVM ``gsme/valve`` numbers them (0 closed, 1 open, 2 armed:
    :class:`smemu.firmware.supply.Supply`'s numbers; SupplyStatus is 0 off, 1 armed, 2 on)."""

    CLOSED = 0
    OPEN = 1
    ARMED = 2


ALERT_LOW_CREDIT: Final = 0x810D
ALERT_EC_AVAILABLE: Final = 0x8119
ALERT_EC_EXHAUSTED: Final = 0x81AA
ALERT_CREDIT_BELOW_DISABLEMENT: Final = 0x8F0F
ALERT_DISABLEMENT_SUSPENDED: Final = 0x8F83
ALERT_SUPPLY_ARMED: Final = supply.ALERT_SUPPLY_ARMED  # 0x8F32
ALERT_ARMED_BY_EMERGENCY_CREDIT: Final = supply.ALERT_DISABLED_THEN_ARMED_EC  # 0x8168

#: engine event -> alert code (the same credit events the ESME reports)
_EVENT_ALERTS: Final = {
    lay.E_LOW_CREDIT: ALERT_LOW_CREDIT,
    lay.E_EC_AVAILABLE: ALERT_EC_AVAILABLE,
    lay.E_EC_EXHAUSTED: ALERT_EC_EXHAUSTED,
    lay.E_CREDIT_EXHAUSTED: ALERT_CREDIT_BELOW_DISABLEMENT,
}


def state(tx: Tx) -> Valve:
    """The valve's state (a meter without one recorded is open)."""
    value = tx.get_int(VALVE, Valve.OPEN)
    return Valve(value) if value in (0, 1, 2) else Valve.OPEN


def transition(tx: Tx, cause: supply.Cause) -> tuple[Valve, Valve]:
    """Apply ``cause`` with the ESME's table; return (before, after).

    Credit restores only a valve closed for credit; a command clears that mark."""
    before = state(tx)
    if cause is supply.Cause.CREDIT_RESTORED and not tx.get_int(CREDIT_DISABLED):
        return before, before
    # valve numbering == switch numbering (closed valve = open switch, both 0)
    after = Valve(supply.TRANSITIONS.get((supply.Supply(before), cause), before))
    if cause is supply.Cause.CREDIT_EXHAUSTED:
        tx.put_int(CREDIT_DISABLED, 1)
    elif cause is not supply.Cause.BUTTON:
        tx.put_int(CREDIT_DISABLED, 0)
    if after is not before:
        tx.put_int(VALVE, after)
        tx.log("event", f"valve {before.name.lower()} -> {after.name.lower()} ({cause.value})")
    return before, after


def command(tx: Tx, proposed: Valve) -> Valve:
    """GCS32 (close) / GCS39 (arm); ``OPEN`` only keeps an open valve open.

    :raises ValueError: ``OPEN`` asked of a valve that is not open (never opened remotely).
    """
    if proposed is Valve.OPEN:
        if state(tx) is not Valve.OPEN:
            raise ValueError("a gas valve is not opened remotely")
        return Valve.OPEN
    cause = supply.Cause.OPEN if proposed is Valve.CLOSED else supply.Cause.ARM
    return transition(tx, cause)[1]


def _queue(tx: Tx, code: int, t: int) -> None:
    raw = tx.get_json(ALERTS, [])
    held = list(raw) if isinstance(raw, list) else []
    held.append([code, t])
    tx.put_json(ALERTS, held[-ALERT_QUEUE_LIMIT:])


def engine_events(tx: Tx, events: Iterable[Event]) -> None:
    """Act on the register engine's events: close the valve on a credit disablement, and
    queue the alerts of the credit events (a disablement the engine holds back in a
    non-disablement period raises 0x8F83 instead of closing)."""
    listed = list(events)
    disabled_at = {e.t for e in listed if e.code == lay.E_SUPPLY_DISABLED}
    for event in listed:
        code = _EVENT_ALERTS.get(event.code)
        if code is not None:
            _queue(tx, code, event.t)
        if event.code == lay.E_CREDIT_EXHAUSTED and event.t not in disabled_at:
            _queue(tx, ALERT_DISABLEMENT_SUSPENDED, event.t)
        elif event.code == lay.E_SUPPLY_DISABLED:
            transition(tx, supply.Cause.CREDIT_EXHAUSTED)


def credit_changed(tx: Tx, available: int, threshold: int, *, emergency: bool = False) -> None:
    """After credit was added: a valve closed for credit is armed once ``available``
    (engine units) is above the disablement ``threshold``; 0x8F32, or 0x8168 when
    ``emergency`` credit did it."""
    if available <= threshold or not tx.get_int(CREDIT_DISABLED):
        return
    _before, after = transition(tx, supply.Cause.CREDIT_RESTORED)
    if after is Valve.ARMED:
        code = ALERT_ARMED_BY_EMERGENCY_CREDIT if emergency else ALERT_SUPPLY_ARMED
        _queue(tx, code, int(tx.now.timestamp()))


def local_open(tx: Tx, enable: Callable[[Tx], bool]) -> bool:
    """The consumer's button on the GSME: open an armed valve. ``enable`` asks the register
    engine to re-enable the supply (:func:`smemu.firmware.gas_metering.enable_supply`; only
    called for an armed valve); refused, the valve stays armed. Whether it is open after."""
    if state(tx) is Valve.ARMED and enable(tx):
        transition(tx, supply.Cause.BUTTON)
    return state(tx) is Valve.OPEN


def take_alerts(tx: Tx) -> list[tuple[int, int]]:
    """The queued (alert code, epoch seconds), oldest first; the queue is emptied."""
    raw = tx.get_json(ALERTS, [])
    if not raw:
        return []
    tx.delete(ALERTS)
    return [(int(code), int(t)) for code, t in raw] if isinstance(raw, list) else []


def alert_message(tx: Tx, credentials: Credentials, code: int, at: int) -> bytes | None:
    """A GBZ alert with ``code`` to the supplier: Generic Critical Alert (signed) for 0x8Fxx
    codes, Generic Non-Critical Alert otherwise; None without a supplier."""
    supplier = credentials.anchor(Role.SUPPLIER)
    if supplier is None:
        return None
    return respond.gbz_alert(
        tx,
        credentials,
        supplier.eui,
        gbz.GbzAlert(code, max(0, at - _EPOCH_2000)),
        message_code=respond.generic_alert_code(code),
        critical=respond.is_critical_alert(code),
    )


_EPOCH_2000: Final = 946_684_800  #: 2000-01-01T00:00Z in epoch seconds


__all__ = [
    "ALERTS",
    "CREDIT_DISABLED",
    "VALVE",
    "Valve",
    "alert_message",
    "command",
    "credit_changed",
    "engine_events",
    "local_open",
    "state",
    "take_alerts",
    "transition",
]
