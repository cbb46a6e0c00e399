"""The ESME's ZigBee Smart Energy prepayment server for its PPMIDs (PECS01-03, snapshots).

Layer: firmware. Use Case volume PECS01 (0x0116), PECS02 (0x0117), PECS03 (0x0118): "ZSE
specified", HAN only; each allocates the message code the ESME records in its event log
when it receives the authenticated ZSE command (Consumer Top Up, Select Available Emergency
Credit, Local Change Supply -- the last only succeeds as a request for "supply ON", 0x02).

Theory of operation
-------------------
Frames on the ``zse`` port are ``cluster id(2, BE) | ZCL frame``
(:func:`smemu.firmware.ppmid.zse_frame`). A frame is served only from a PPMID in the
device log (:mod:`smemu.firmware.joins`; the HAN link authenticates it); the answer goes
back to that PPMID with the request's ZCL sequence number:

* Consumer Top Up: the UTRN is entered as at the keypad; Consumer Top Up Response with the
  result, the amount added and the credit left (pence);
* Select Available Emergency Credit: emergency credit is activated when available; a
  Default Response FAILURE when it is not (success needs none: the request disables it);
* Local Change Supply "ON": an armed supply is enabled (already on: nothing to do); a
  Default Response NOT_AUTHORIZED for any other proposed status, FAILURE when the supply
  is off and not armed, or armed but the register engine refuses to re-enable it (prepayment
  with credit at or below the disablement threshold: the switch stays armed).

:func:`publish` sends Publish Prepay Snapshot (credit, emergency credit, debt, pence) to
every joined PPMID whenever that triple differs from the one last published
(``esme/zse/published``); the machine calls it after each step's engine catch-up.

The gas meter's figures reach the PPMIDs the same way from the GPF (SMETS2: the PPMID gets
gas data from the GPF, the battery-powered GSME's radio being off most of the time):
:func:`publish_gas`, called by the GPF after it applies a mirror refresh, publishes the
triple of the *mirrored* gas registers (:func:`gas_credit`) to the PPMIDs of the GPF's
device log, remembered in ``gpf/zse/published``, numbered with the GPF's ZSE sequence
(:data:`smemu.firmware.gas_messaging.SEQUENCE`, shared with its relayed messages).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from smemu.errors import DecodeError
from smemu.firmware import (
    esme_registers,
    gas_messaging,
    gas_metering,
    joins,
    metering,
    prepayment,
    supply,
)
from smemu.firmware.common.machine import Tx
from smemu.firmware.ppmid import PECS01, PECS02, PECS03, zse_frame
from smemu.firmware.registers import ops
from smemu.protocols.asn1.values import DeviceType
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.zigbee import metering as zse_metering
from smemu.protocols.zigbee import prepayment as zse_prepayment
from smemu.protocols.zigbee.registry import ZclFrame, decode_frame
from smemu.protocols.zigbee.zcl import DefaultResponse, ZclCommand, ZclStatus

if TYPE_CHECKING:
    from collections.abc import Callable

    from smemu.firmware.common.credentials import Credentials

ZSE_PORT: Final = "zse"
PUBLISHED: Final = "esme/zse/published"
SEQUENCE: Final = "esme/zse/sequence"
#: NVM of the GPF: the gas triple last published to its PPMIDs
GAS_PUBLISHED: Final = "gpf/zse/published"
#: money in the register engine is 10^-5 currency units; ZSE carries pence
PER_PENNY: Final = 1000
_EPOCH_2000: Final = datetime(2000, 1, 1, tzinfo=UTC)
_SNAPSHOT_GENERAL: Final = 0x00000001  #: snapshot cause bit 0, "general"
#: a UTRN outcome -> Consumer Top Up Response result
_TOP_UP_RESULT: Final = {
    prepayment.UtrnOutcome.ACCEPTED: zse_prepayment.TopUpResult.ACCEPTED,
    prepayment.UtrnOutcome.DUPLICATE: zse_prepayment.TopUpResult.REJECTED_DUPLICATE_TOP_UP,
    prepayment.UtrnOutcome.LOCKED_OUT: zse_prepayment.TopUpResult.REJECTED_KEYPAD_LOCK,
    prepayment.UtrnOutcome.EXCEEDS_MAXIMUM: zse_prepayment.TopUpResult.REJECTED_MAX_CREDIT_REACHED,
    prepayment.UtrnOutcome.NOT_AUTHENTIC: zse_prepayment.TopUpResult.REJECTED_INVALID_TOP_UP,
}

Credit = tuple[int, int, int]  #: (credit, emergency credit, debt), pence


def credit(tx: Tx) -> Credit | None:
    """Credit, emergency credit and debt (pence) at the engine's last instant."""
    if not metering.has_state(tx):
        return None
    regs = metering.registers(tx)
    return (
        regs.meter_balance // PER_PENNY,
        regs.emergency_credit_balance // PER_PENNY,
        regs.accumulated_debt // PER_PENNY,
    )


def gas_credit(tx: Tx) -> Credit | None:
    """The gas meter's credit, emergency credit and debt (pence) as the GPF holds them: the
    registers the GSME mirrored at its last wake (None before the first refresh)."""
    if tx.get(gas_metering.STATE) is None:
        return None
    regs = gas_metering.registers(tx)
    return (
        regs.balance // PER_PENNY,
        regs.emergency_credit // PER_PENNY,
        regs.accumulated_debt // PER_PENNY,
    )


def _seconds(tx: Tx) -> int:
    return int((tx.now - _EPOCH_2000).total_seconds())


def _next_sequence(tx: Tx, key: str = SEQUENCE) -> int:
    sequence = (tx.get_int(key) + 1) & 0xFF
    tx.put_int(key, sequence)
    return sequence


def publish(tx: Tx) -> None:
    """Publish Prepay Snapshot to every joined PPMID if credit, EC or debt changed."""
    publish_credit(tx, credit(tx), published=PUBLISHED, sequence=SEQUENCE)


def publish_gas(tx: Tx) -> int:
    """The GPF: publish the mirrored gas figures to the PPMIDs of its device log if they
    changed; the number of PPMIDs sent to."""
    return publish_credit(
        tx, gas_credit(tx), published=GAS_PUBLISHED, sequence=gas_messaging.SEQUENCE
    )


def publish_credit(tx: Tx, now: Credit | None, *, published: str, sequence: str) -> int:
    """Send a Publish Prepay Snapshot of ``now`` to every PPMID of the device log unless it
    is what NVM ``published`` says was sent last; ``sequence``: the NVM ZCL sequence number.
    The number of PPMIDs sent to."""
    ppmids = joins.joined(tx, DeviceType.PPMID)
    if now is None or not ppmids or tx.get_json(published) == list(now):
        return 0
    tx.put_json(published, list(now))
    balance, emergency, debt = now
    t = _seconds(tx)
    snapshot = zse_prepayment.PublishPrepaySnapshot(
        t & 0xFFFFFFFF, t, 1, 0, 1, _SNAPSHOT_GENERAL, 0,
        zse_prepayment.DebtCreditStatus(debt, 0, 0, 0, emergency, balance),
    )  # fmt: skip
    data = zse_frame(snapshot, _next_sequence(tx, sequence))
    for eui in ppmids:
        tx.send(ZSE_PORT, data, eui)
    return len(ppmids)


def _default_response(request: ZclFrame, status: ZclStatus) -> bytes:
    answer = DefaultResponse(request.header.command_id, status)
    built = ZclFrame.build(
        answer, request.header.sequence, cluster_id=request.cluster_id,
        disable_default_response=True, direction=1,
    )  # fmt: skip
    return built.cluster_id.to_bytes(2, "big") + built.encode()


def on_frame(
    tx: Tx,
    source: Eui64 | None,
    data: bytes,
    *,
    credentials: Credentials,
    catch_up: Callable[[Tx], None],
) -> None:
    """Serve one ``zse`` frame from ``source``; ``catch_up`` advances the engine to now,
    ``credentials`` (the ESME's) check UTRNs.

    :raises DecodeError: not a ZCL frame of a known cluster.
    """
    if len(data) < 2:
        raise DecodeError("zse frame shorter than its cluster id", path="zse", offset=0)
    request = decode_frame(int.from_bytes(data[:2], "big"), data[2:])
    if source is None or joins.entry_type(tx, source) is not DeviceType.PPMID:
        tx.log("trace", f"ZSE frame from unjoined {source} ignored")
        return
    command = request.command
    catch_up(tx)
    answer: bytes | None
    if isinstance(command, zse_prepayment.ConsumerTopUp):
        answer = _top_up(tx, request, command, credentials)
    elif isinstance(command, zse_prepayment.SelectAvailableEmergencyCredit):
        answer = _emergency_credit(tx, request)
    elif isinstance(command, zse_metering.LocalChangeSupply):
        answer = _change_supply(tx, request, command)
    else:
        tx.log("trace", f"ZSE {type(command).__name__} from {source} ignored")
        answer = _default_response(request, ZclStatus.UNSUP_CLUSTER_COMMAND)
    catch_up(tx)
    if answer is not None:
        tx.send(ZSE_PORT, answer, source)


def _top_up(
    tx: Tx, request: ZclFrame, command: zse_prepayment.ConsumerTopUp, credentials: Credentials
) -> bytes:
    tx.log("event", "PECS01 consumer top up from PPMID", PECS01)
    text = bytes(command.top_up_code).decode("ascii", errors="replace").strip()
    result = esme_registers.utrn_entry(tx, credentials, text)
    if result.outcome is prepayment.UtrnOutcome.ACCEPTED:
        tx.log("event", "credit added locally", 0x810E)
    left = credit(tx)
    answer = zse_prepayment.ConsumerTopUpResponse(
        _TOP_UP_RESULT.get(result.outcome, zse_prepayment.TopUpResult.REJECTED_ERROR),
        result.amount // PER_PENNY,
        command.originating_device,
        0 if left is None else left[0],
    )
    return _reply(answer, request)


def _emergency_credit(tx: Tx, request: ZclFrame) -> bytes | None:
    tx.log("event", "PECS02 emergency credit request from PPMID", PECS02)
    if not prepayment.activate_emergency_credit(tx):
        return _default_response(request, ZclStatus.FAILURE)
    tx.log("event", "emergency credit activated", 0x81AB)
    esme_registers.credit_changed(tx)
    return None


def _change_supply(
    tx: Tx, request: ZclFrame, command: zse_metering.LocalChangeSupply
) -> bytes | None:
    tx.log("event", "PECS03 local change supply from PPMID", PECS03)
    if command.proposed_supply_status != zse_metering.SupplyStatus.ON:
        return _default_response(request, ZclStatus.NOT_AUTHORIZED)
    state = supply.state(tx)
    if state is supply.Supply.ARMED:
        if not metering.mutate(tx, ops.enable_supply):
            # the engine refuses (prepayment, credit at or below the disablement level):
            # the switch stays armed, as at the meter's own button
            tx.log("event", "supply enable refused: not enough credit")
            return _default_response(request, ZclStatus.FAILURE)
        supply.transition(tx, supply.Cause.BUTTON)
        return None
    if state is supply.Supply.CLOSED:
        return None
    return _default_response(request, ZclStatus.FAILURE)


def _reply(command: ZclCommand, request: ZclFrame) -> bytes:
    return zse_frame(command, request.header.sequence)


__all__ = [
    "GAS_PUBLISHED",
    "PUBLISHED",
    "ZSE_PORT",
    "credit",
    "gas_credit",
    "on_frame",
    "publish",
    "publish_credit",
    "publish_gas",
]
