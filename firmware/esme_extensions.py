"""The ESME's ASN.1 use cases -- credentials, joins, firmware -- merged into its handler table.

Layer: firmware. :class:`~smemu.firmware.esme.EsmeMachine` takes these with one line in its
class body::

    HANDLERS, extension, extension_future, future_alert = extend(
        HANDLERS, CommandMachine.future_alert
    )

:func:`extend` returns the handler table with every code of :data:`HANDLERS` routed to the
method ``extension`` (which dispatches to the module-level handler functions), the
future-dated action ``extension_future`` (CS06 activation, CS02b / CS02g replacement), and
a ``future_alert`` that sends those instructions' ASN.1 outcome alerts (0x00CA, 0x00CB,
0x0124) and leaves every other instruction to the machine's DLMS / GBZ alert.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar

from smemu.firmware import credentials_update, credentials_use_cases, firmware_image, joins
from smemu.firmware.asn1_respond import HandlerTable
from smemu.firmware.common.future import FutureItem
from smemu.firmware.common.machine import Tx
from smemu.firmware.common.security import Accepted

if TYPE_CHECKING:
    from smemu.firmware.common.commands import CommandMachine

#: Every message code these modules answer -> its handler.
HANDLERS: Final[HandlerTable] = {
    **credentials_use_cases.HANDLERS,
    **firmware_image.HANDLERS,
    **joins.HANDLERS,
}
#: Name of the dispatching method and of the future-dated action on the machine.
METHOD: Final = "extension"
FUTURE_ACTION: Final = "extension_future"

FutureAlert = Callable[["CommandMachine", Tx, FutureItem, int], None]
#: the machine class whose base alert :func:`extend` wraps (a subclass's own method fits)
MachineT = TypeVar("MachineT", bound="CommandMachine")


def extension(machine: CommandMachine, tx: Tx, accepted: Accepted) -> bytes | None:
    """Dispatch an accepted command to its handler by message code."""
    code = accepted.command.header.other_information.message_code
    return HANDLERS[code](machine, tx, accepted)


def extension_future(machine: CommandMachine, tx: Tx, item: FutureItem) -> bool:
    """Run a future-dated instruction these modules scheduled."""
    if item.message_code == firmware_image.CS06:
        return firmware_image.future_activate(tx, item)
    return credentials_update.future_update(tx, machine.credentials, item)


def _alert_for(machine: CommandMachine, tx: Tx, item: FutureItem, alert_code: int) -> bytes:
    if item.message_code == firmware_image.CS06:
        return firmware_image.future_alert(tx, machine.credentials, item, alert_code)
    return credentials_update.future_alert(tx, machine.credentials, item, alert_code)


def extend(
    handlers: Mapping[int, str],
    base_future_alert: Callable[[MachineT, Tx, FutureItem, int], None],
) -> tuple[dict[int, str], Any, Any, Any]:
    """The merged handler table and the three methods the machine gains.

    The methods are typed ``Any`` so that assigning them in a class body takes the place of
    a method definition (a ``Callable`` attribute would not match the base method).
    """

    def future_alert(machine: MachineT, tx: Tx, item: FutureItem, alert_code: int) -> None:
        if item.action != FUTURE_ACTION:
            base_future_alert(machine, tx, item, alert_code)
            return
        machine.send(tx, machine.UPLINK, _alert_for(machine, tx, item, alert_code))
        tx.tally("sent")

    merged = {**handlers, **dict.fromkeys(HANDLERS, METHOD)}
    return merged, extension, extension_future, future_alert
