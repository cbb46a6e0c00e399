"""Future-dated gas instructions on the common queue: scheduling, cancelling, executing.

Layer: firmware. gbcs-reference.md 9.3 and the Use Case volume ("Capable of Future Dated
Invocation": GCS01a, GCS01b, GCS02, GCS03, GCS05; the Future Dated Execution Of Instruction
Alert, message code 0x00CD); :mod:`smemu.firmware.common.future` (the queue, its timer, the
0x8F66 / 0x8F67 outcome alerts).

Theory of operation
-------------------
The gas command handlers keep an instruction with a start time in the future as the *next*
value of what it sets (``gsme/next/<what>``, :func:`smemu.firmware.gas_tariff.apply_or_schedule`):
they see only the ZCL component, not the GBCS command around it. :func:`tracked` wraps each
handler of one command's table with the command's :class:`CommandContext` (message code,
originator, originator counter): whatever next value the component stored becomes a
:class:`~smemu.firmware.common.future.FutureItem` on the machine's common queue (identity
``gbz/<what>``, one pending per kind: a newer instruction replaces the older), identified
for the outcome alert by message code, counter, cluster, frame control and command id; a
pending next value the component removed -- the cancel start time (0xFFFFFFFE, or
0xFFFFFFFF in a From Date Time), or an immediate instruction of the same kind -- cancels
the item, with no alert (only an attempted execution is reported).

At the instant, the machine runs the item through :func:`execute` (its ``gas_future``
action): the stored next value is applied as the command's own handler would have applied
it, and the common queue sends 0x8F66 (executed) or 0x8F67 (not: the stored value is gone or
does not apply -- everything it did is rolled back).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from smemu.errors import DecodeError
from smemu.firmware import gas_tariff
from smemu.firmware.common import future
from smemu.firmware.common.future import FutureItem
from smemu.firmware.common.machine import Tx
from smemu.firmware.common.security import Accepted
from smemu.firmware.gas_zcl import CommandHandler, ZclReply
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.zigbee import gbz

if TYPE_CHECKING:
    from smemu.firmware.common.commands import CommandMachine

#: Name of the machine method that executes a gas future-dated item.
ACTION: Final = "gas_future"
#: Identity prefix of the gas items on the common queue.
IDENTITY_PREFIX: Final = "gbz/"


@dataclass(frozen=True, slots=True)
class CommandContext:
    """The GBCS command a GBZ component arrived in."""

    message_code: int
    originator: Eui64
    counter: int  #: the command's originator counter

    @classmethod
    def of(cls, accepted: Accepted) -> CommandContext:
        header = accepted.command.header
        return cls(header.message_code, header.originator, header.originator_counter)


def identity(what: str) -> str:
    return IDENTITY_PREFIX + what


def _next_values(tx: Tx) -> dict[str, bytes]:
    prefix = gas_tariff.NEXT_PREFIX
    out: dict[str, bytes] = {}
    for key in tx.keys(prefix):
        raw = tx.get(key)
        if raw is not None:
            out[key[len(prefix) :]] = raw
    return out


def _item(what: str, context: CommandContext, comp: gbz.GbzComponent, tx: Tx) -> FutureItem:
    at = gas_tariff.pending(tx)[what]
    reference = future.gbz_reference(
        context.message_code, context.counter, comp.cluster_id, comp.frame_control,
        comp.command_id,
    )
    return FutureItem(
        identity(what),
        gas_tariff.utc_instant(at),
        context.message_code,
        context.originator,
        context.counter,
        reference,
        ACTION,
        what.encode(),
        gbz=True,
    )


def tracked(
    handlers: Mapping[tuple[int, int], CommandHandler],
    context: CommandContext,
    machine: CommandMachine,
) -> dict[tuple[int, int], CommandHandler]:
    """``handlers`` with the next values each stores or removes mirrored on ``machine``'s
    future-dated queue (see the module)."""

    def wrap(handler: CommandHandler) -> CommandHandler:
        def run(tx: Tx, comp: gbz.GbzComponent) -> ZclReply | None:
            before = _next_values(tx)
            reply = handler(tx, comp)
            after = _next_values(tx)
            for what, raw in after.items():
                if before.get(what) != raw:
                    machine.schedule_future(tx, _item(what, context, comp, tx))
            for what in before.keys() - after.keys():
                machine.cancel_future(tx, identity(what))
            return reply

        run.__doc__ = handler.__doc__
        return run

    return {key: wrap(handler) for key, handler in handlers.items()}


def execute(tx: Tx, item: FutureItem) -> bool:
    """Apply the next value ``item`` names now; False when it is gone or does not apply."""
    what = item.data.decode("ascii", errors="replace")
    raw = tx.get_json(gas_tariff.NEXT_PREFIX + what, {})
    apply = gas_tariff.APPLIERS.get(what)
    if apply is None or not isinstance(raw, dict) or not isinstance(raw.get("payload"), str):
        return False
    tx.delete(gas_tariff.NEXT_PREFIX + what)
    try:
        apply(tx, bytes.fromhex(raw["payload"]))
    except (DecodeError, ValueError):
        return False
    tx.log("event", f"future-dated {what} activated")
    return True


__all__ = ["ACTION", "CommandContext", "execute", "identity", "tracked"]
