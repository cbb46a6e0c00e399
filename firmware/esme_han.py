"""The ESME's HAN load control: auxiliary controllers that are HCALCs, and their event log.

Layer: firmware. Use Case volume ECS47a (0x011E, Set Auxiliary Controller [n] State),
ECS35g (0x00FD, Read Auxiliary Controller Event Log), ECS15c (0x00C1, clear it); HECS01
frames (:mod:`smemu.firmware.hcalc_frames`) on the ``alc`` port; the ESME rules of seed 004
(product.md): 5.5.3.26 set state (then revert after the period), 5.5.4.1 request an HCALCS
state change (duration, "override allowed"; record the result), 5.5.3.32 answer a refresh
with the state in force, 5.5.3.33 record override start / stop.

Theory of operation
-------------------
Auxiliary controller ``n`` (1..5) is an HCALCS when its typeAndIdentifier (1/0-0:94.44.0.2n/2,
written by ECS46c or :func:`associate`) holds an EUI-64 that the device log
(:mod:`smemu.firmware.joins`) holds as an HCALCS. Several controllers may name one HCALC:
the k-th of them (in controller order) is switch k on it.

ECS47a writes the controller's setting period (94.44.(116+n).1 / .2; the end must follow the
start by at most 24 hours, else ``other-reason``) and executes script table 0-0:10.0.103.255
with ``kind << 12 | n << 8 | state`` (0 open, else closed). For an HCALCS controller the
command is kept (``esme/alc/cmd/<n>``; a later one supersedes it) and, once its period has
started, sent as ``SetState(switch, closed, seconds left)`` to the HCALC; a period in the
future waits on the ``alc`` timer. Controllers that are not HCALCS keep the generic model's
behaviour (success, no effect).

A RefreshRequest from an HCALC is the HCALC asking for control of its switches: the ESME
records HECS01 (0x0119, "Request Control of HCALCS [n]") in its event log -- the message
code the volume allocates to the authenticated ZSE Get Scheduled Events an HCALC sends for
this -- and answers it, switch by switch, with the command in force (the remaining period),
or with a zero-length SetState that hands the switch back to its calendar. A StateResult
reporting a failure is recorded as such and raises an alert (seed 004, 5.5.4.1 "if fail,
record fail in event log and raise alert"): non-critical 0x8155, "Immediate HAN Interface
Command Received but not Successfully Actioned", sent to the supplier as a Generic
Non-Critical Alert [unverified: GBCS Table 16.2 is not in /work/shared and names no
HCALCS-specific code that we know of; 0x8155 is the generic code for a command the meter
could not action]. Every command sent, every StateResult and every OverrideNotice becomes an
entry of the Auxiliary Controller Event Log (``esme/alc/log``, the newest 100): timestamp
(seconds since 2000), switchNumberAndAction (``n << 8 | action``), outcome (0 not known:
sent to an HCALCS, 1 success, 2 failure) and the HAN command id (allocated here: Unix
seconds, strictly increasing). The action octets are [unverified: GBCS 7.3.6.1 / 18.1.1.1
not available; chosen to match the reference ECS35g response]: 0x11 close, 0x12 open, 0x20
back to the calendar, 0x00 the HCALCS's response; 0x31 / 0x30 override started / ended
(ours).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from smemu.firmware import esme_registers, joins
from smemu.firmware import hcalc_frames as alc
from smemu.firmware.common import respond
from smemu.firmware.common.cosem import CosemContext, CosemFailure, CosemObject, ObjectTable
from smemu.firmware.common.machine import Tx
from smemu.firmware.cosem_model import attribute_key, stored_value
from smemu.protocols.asn1.devices import JoinMethodAndRole
from smemu.protocols.asn1.values import DeviceType
from smemu.protocols.dlms import axdr
from smemu.protocols.dlms.apdu import ActionResult, DataAccessResult, parse_obis
from smemu.protocols.dlms.axdr import Data
from smemu.protocols.dlms.data import (
    CompactArray,
    DoubleLongUnsigned,
    Enum,
    LongUnsigned,
    NullData,
    OctetString,
    Structure,
    TypeDescription,
)
from smemu.protocols.dlms.dates import utc_instant
from smemu.protocols.gbcs.types import Eui64

if TYPE_CHECKING:
    from smemu.firmware.common.commands import CommandMachine

ALC_PORT: Final = "alc"  #: HECS01 frames to and from the HCALCs
ALC_TIMER: Final = "alc"  #: the next setting period that starts
CONTROLLERS: Final = range(1, 6)
ECS47A: Final = 0x011E
CMD: Final = "esme/alc/cmd/"
LOG: Final = "esme/alc/log"
LAST_ID: Final = "esme/alc/last_id"
OVERRIDE: Final = "esme/alc/override/"
LOG_CAPACITY: Final = 100
HECS01: Final = alc.HECS01  #: event code of a refresh request (ZSE Get Scheduled Events)
ALERT_NOT_ACTIONED: Final = 0x8155  #: a state change an HCALCS reported as failed
MAX_PERIOD: Final = timedelta(hours=24)

ACTION_RESPONSE: Final = 0x00
ACTION_CLOSE: Final = 0x11
ACTION_OPEN: Final = 0x12
ACTION_CALENDAR: Final = 0x20
ACTION_OVERRIDE_END: Final = 0x30
ACTION_OVERRIDE_START: Final = 0x31
OUTCOME_UNKNOWN: Final = 0
OUTCOME_SUCCESS: Final = 1
OUTCOME_FAILURE: Final = 2

SCRIPTS: Final = parse_obis("0-0:10.0.103.255")  #: controllerNumberAndCommandedState
EVENT_LOG: Final = parse_obis("0-17:99.98.2.255")  #: AuxiliaryControllerEventLog
_KIND_SWITCH: Final = 1
_EPOCH_2000: Final = datetime(2000, 1, 1, tzinfo=UTC)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
#: an entry: timestamp, switchNumberAndAction, outcome, HANCommandID (ECS35g rows 603-1828)
_ENTRY: Final = TypeDescription(
    2,
    0,
    (TypeDescription(6), TypeDescription(18), TypeDescription(22), TypeDescription(6)),
)


def type_and_identifier(n: int) -> bytes:
    """OBIS of AuxiliaryController[n]: typeAndIdentifier (row 580 / 1831-1834)."""
    return parse_obis(f"0-0:94.44.0.{20 + n}")


def _period_obis(n: int, end: bool) -> bytes:
    return parse_obis(f"0-0:94.44.{116 + n}.{2 if end else 1}")


def _secs(t: datetime) -> int:
    return int((t - _EPOCH).total_seconds())


# ------------------------------------------------------------------ association


def associate(tx: Tx, n: int, eui: Eui64 | bytes) -> None:
    """Name ``eui`` as auxiliary controller ``n``'s HCALCS (what ECS46c writes)."""
    if n not in CONTROLLERS:
        raise ValueError(f"auxiliary controller is 1..5, got {n}")
    tx.put(attribute_key(1, type_and_identifier(n), 2), axdr.encode(OctetString(bytes(eui))))


def commission(
    tx: Tx, *, ppmids: Iterable[Eui64] = (), hcalcs: Iterable[tuple[Eui64, int]] = ()
) -> None:
    """Commissioning: join ``ppmids`` and ``hcalcs`` (EUI, switch count) to the ESME's
    device log and give the HCALCs' switches the auxiliary controllers 1, 2, ... in order."""
    for eui in ppmids:
        joins.record(tx, eui, DeviceType.PPMID, JoinMethodAndRole.METHOD_A_INITIATOR)
    free = iter(CONTROLLERS)
    for eui, switches in hcalcs:
        joins.record(tx, eui, DeviceType.HCALCS, JoinMethodAndRole.METHOD_A_INITIATOR)
        for _ in range(switches):
            n = next(free, None)
            if n is None:
                raise ValueError("an ESME has five auxiliary controllers")
            associate(tx, n, eui)


def hcalc_of(tx: Tx, n: int) -> tuple[Eui64, int] | None:
    """The HCALC (EUI, switch number on it) auxiliary controller ``n`` is, if any."""
    eui = _hcalc_eui(tx, n)
    if eui is None:
        return None
    switch = sum(1 for m in CONTROLLERS if m <= n and _hcalc_eui(tx, m) == eui)
    return eui, switch


def _hcalc_eui(tx: Tx, n: int) -> Eui64 | None:
    value = stored_value(tx, 1, type_and_identifier(n), 2)
    if not isinstance(value, OctetString) or len(value.value) != 8:
        return None
    raw = value.value
    if raw in (bytes(8), b"\xff" * 8) or joins.entry_type(tx, raw) is not DeviceType.HCALCS:
        return None
    return Eui64(raw)


def controller_of(tx: Tx, hcalc: Eui64, switch: int) -> int | None:
    """The auxiliary controller that is ``switch`` of ``hcalc``."""
    for n in CONTROLLERS:
        if hcalc_of(tx, n) == (hcalc, switch):
            return n
    return None


# ------------------------------------------------------------------ event log


def log_entries(tx: Tx) -> list[tuple[int, int, int, int]]:
    """(seconds since 2000, switchNumberAndAction, outcome, HAN command id), oldest first."""
    raw = tx.get_json(LOG, [])
    return [(int(a), int(b), int(c), int(d)) for a, b, c, d in raw] if isinstance(raw, list) else []


def _log(tx: Tx, n: int, action: int, outcome: int, han_id: int) -> None:
    entries = log_entries(tx)
    t = int((tx.now - _EPOCH_2000).total_seconds())
    entries.append((t, n << 8 | action, outcome, han_id))
    tx.put_json(LOG, [list(e) for e in entries[-LOG_CAPACITY:]])


def _new_id(tx: Tx) -> int:
    han_id = max(_secs(tx.now), tx.get_int(LAST_ID) + 1) & 0xFFFFFFFF
    tx.put_int(LAST_ID, han_id)
    return han_id


def _event_log(ctx: CosemContext) -> Data:
    values = tuple(
        Structure((DoubleLongUnsigned(t), LongUnsigned(sa), Enum(outcome), DoubleLongUnsigned(i)))
        for t, sa, outcome, i in log_entries(ctx.tx)
    )
    return CompactArray(_ENTRY, values)


def _clear_log(ctx: CosemContext, value: Data) -> Data:
    """ECS15c: AuxiliaryControllerEventLog reset."""
    ctx.tx.delete(LOG)
    ctx.tx.log("event", "auxiliary controller event log cleared")
    return NullData()


# ------------------------------------------------------------------ commands


def _instant(value: Data | None) -> datetime | None:
    """A fully specified 12-octet COSEM date-time as a UTC instant."""
    return utc_instant(value.value) if isinstance(value, OctetString) else None


def _check_period_end(n: int, setter: Callable[[CosemContext, Data], None] | None) -> Callable[
    [CosemContext, Data], None
]:
    """ECS47a rows 60-64: the end must follow the stored start by at most 24 hours."""

    def set_end(ctx: CosemContext, value: Data) -> None:
        if ctx.command.header.message_code == ECS47A:
            start = _instant(stored_value(ctx.tx, 1, _period_obis(n, False), 2))
            end = _instant(value)
            if start is not None and end is not None and not start < end <= start + MAX_PERIOD:
                raise CosemFailure(DataAccessResult.OTHER_REASON)
        if setter is None:
            raise CosemFailure(DataAccessResult.READ_WRITE_DENIED)
        setter(ctx, value)

    return set_end


def _set_state(ctx: CosemContext, value: Data) -> Data:
    """Script table 0-0:10.0.103.255 execute: ``kind << 12 | n << 8 | state``."""
    if not isinstance(value, LongUnsigned):
        raise CosemFailure(ActionResult.TYPE_UNMATCHED)
    kind, n, state = value.value >> 12, (value.value >> 8) & 0xF, value.value & 0xFF
    tx = ctx.tx
    if kind != _KIND_SWITCH or n not in CONTROLLERS or hcalc_of(tx, n) is None:
        return NullData()  # an ALCS or APC of the meter itself: not modelled here
    start = _instant(stored_value(tx, 1, _period_obis(n, False), 2)) or tx.now
    end = _instant(stored_value(tx, 1, _period_obis(n, True), 2))
    command = {"start": _secs(start), "end": None if end is None else _secs(end),
               "closed": state != 0, "sent": False}  # fmt: skip
    tx.put_json(f"{CMD}{n}", command)
    tx.log("event", f"auxiliary controller {n}: {'close' if state else 'open'} commanded")
    due(tx)
    return NullData()


def objects(table: ObjectTable) -> dict[tuple[int, bytes], CosemObject]:
    """The HAN side's objects, to overlay on ``table`` (whose period-end setters they wrap)."""
    out: dict[tuple[int, bytes], CosemObject] = {
        (9, SCRIPTS): CosemObject(act={1: _set_state}),
        (7, EVENT_LOG): CosemObject(get={2: _event_log}, act={1: _clear_log}),
    }
    for n in CONTROLLERS:
        key = (1, _period_obis(n, True))
        under = table.get(key)
        out[key] = CosemObject(set={2: _check_period_end(n, under.set.get(2) if under else None)})
    return out


def _command(tx: Tx, n: int) -> dict[str, object] | None:
    raw = tx.get_json(f"{CMD}{n}")
    return raw if isinstance(raw, dict) else None


def _send(tx: Tx, n: int, closed: bool, duration: int | None, action: int) -> int | None:
    found = hcalc_of(tx, n)
    if found is None:
        return None
    eui, switch = found
    han_id = _new_id(tx)
    tx.send(ALC_PORT, alc.encode(alc.SetState(switch, closed, duration)), eui)
    _log(tx, n, action, OUTCOME_UNKNOWN, han_id)
    return han_id


def due(tx: Tx) -> None:
    """Send every kept command whose period has started; set the ``alc`` timer to the next."""
    now = _secs(tx.now)
    upcoming: list[int] = []
    for n in CONTROLLERS:
        cmd = _command(tx, n)
        if cmd is None or cmd["sent"]:
            continue
        start, end = int(str(cmd["start"])), cmd["end"]
        if start > now:
            upcoming.append(start)
            continue
        cmd["sent"] = True
        if isinstance(end, int) and end <= now:
            tx.put_json(f"{CMD}{n}", cmd)  # its period is over: nothing left to command
            continue
        closed = bool(cmd["closed"])
        duration = end - now if isinstance(end, int) else None
        cmd["id"] = _send(tx, n, closed, duration, ACTION_CLOSE if closed else ACTION_OPEN)
        tx.put_json(f"{CMD}{n}", cmd)
    tx.timer(ALC_TIMER, _EPOCH + timedelta(seconds=min(upcoming)) if upcoming else None)


# ------------------------------------------------------------------ frames from HCALCs


def on_frame(
    tx: Tx, source: Eui64 | None, data: bytes, *, machine: CommandMachine | None = None
) -> None:
    """A HECS01 frame an HCALC sent to the ESME; ``machine`` (the ESME) sends the alert of a
    failed state change (none without it).

    :raises DecodeError: not a load control frame.
    """
    frame = alc.decode_exact(data)
    if source is None or joins.entry_type(tx, source) is not DeviceType.HCALCS:
        tx.log("trace", f"load control frame from unjoined {source} ignored")
        return
    if isinstance(frame, alc.RefreshRequest):
        refresh(tx, source)
        return
    if not isinstance(frame, alc.StateResult | alc.OverrideNotice):
        tx.log("trace", f"{type(frame).__name__} from {source} ignored")
        return
    n = controller_of(tx, source, frame.switch)
    if n is None:
        tx.log("trace", f"frame for unassociated switch {frame.switch} of {source} ignored")
        return
    if isinstance(frame, alc.StateResult):
        cmd = _command(tx, n) or {}
        han_id = cmd.get("id")
        outcome = OUTCOME_SUCCESS if frame.success else OUTCOME_FAILURE
        _log(tx, n, ACTION_RESPONSE, outcome, han_id if isinstance(han_id, int) else 0)
        if not frame.success:
            tx.log(
                "event", f"auxiliary controller {n}: HCALCS state change failed",
                ALERT_NOT_ACTIONED,
            )  # fmt: skip
            if machine is not None:
                raise_alert(machine, tx, ALERT_NOT_ACTIONED)
        return
    action = ACTION_OVERRIDE_START if frame.active else ACTION_OVERRIDE_END
    _log(tx, n, action, OUTCOME_SUCCESS, _new_id(tx))
    tx.put_int(f"{OVERRIDE}{n}", int(frame.active))
    tx.log("event", f"auxiliary controller {n}: override {'started' if frame.active else 'ended'}")


def raise_alert(
    machine: CommandMachine, tx: Tx, code: int, *, message_code: int | None = None
) -> None:
    """Send DLMS alert ``code`` to the supplier (signed for 0x8Fxx codes), under
    ``message_code`` or else the generic alert code; nothing when no supplier is known."""
    supplier = esme_registers.supplier_eui(machine.credentials)
    if supplier is None:
        return
    data = respond.dlms_alert(
        tx, machine.credentials, Eui64(supplier), code,
        message_code=respond.generic_alert_code(code) if message_code is None else message_code,
        critical=respond.is_critical_alert(code),
    )  # fmt: skip
    machine.send(tx, machine.UPLINK, data)
    tx.tally("sent")


def refresh(tx: Tx, hcalc: Eui64) -> None:
    """5.5.3.32: record HECS01, then re-send the state in force of every switch of
    ``hcalc``."""
    tx.log("event", f"HECS01 request control of HCALCS from {hcalc}", HECS01)
    now = _secs(tx.now)
    for n in CONTROLLERS:
        found = hcalc_of(tx, n)
        if found is None or found[0] != hcalc:
            continue
        cmd = _command(tx, n)
        end = None if cmd is None else cmd["end"]
        in_force = (
            cmd is not None
            and int(str(cmd["start"])) <= now
            and (end is None or (isinstance(end, int) and now < end))
        )
        if cmd is not None and in_force:
            closed = bool(cmd["closed"])
            duration = end - now if isinstance(end, int) else None
            cmd["sent"] = True
            cmd["id"] = _send(tx, n, closed, duration, ACTION_CLOSE if closed else ACTION_OPEN)
            tx.put_json(f"{CMD}{n}", cmd)
        else:
            _send(tx, n, False, 0, ACTION_CALENDAR)
    tx.log("event", f"ALC refresh answered for {hcalc}")


def override_active(tx: Tx, n: int) -> bool:
    """Whether the HCALC told the ESME that controller ``n`` is in an override (boost)."""
    return bool(tx.get_int(f"{OVERRIDE}{n}"))


__all__ = [
    "ALC_PORT",
    "ALC_TIMER",
    "ALERT_NOT_ACTIONED",
    "HECS01",
    "associate",
    "commission",
    "controller_of",
    "due",
    "hcalc_of",
    "log_entries",
    "objects",
    "on_frame",
    "override_active",
    "raise_alert",
    "refresh",
]
