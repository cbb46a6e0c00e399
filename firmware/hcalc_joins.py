"""The HCALCS's joins and unjoins: CS03A2 (method A responder) and CS04AC.

Layer: firmware. Use Case volume CS03A2 "Method A Join (non Meter)" and CS04AC "Method A or
C Unjoin" (GBCS 13.7; payloads and response codes in gbcs-reference.md 7.8). The command
is the critical variant when a supplier sends it (signed, as the reference set's 8.7.1
CS03A2Critical), or the non-critical one from the Access Control Broker; the security
checks before the handler are the machine's (:mod:`smemu.firmware.common.security`).

Theory of operation
-------------------
The device log, its checks, its answers and its unjoin are :mod:`smemu.firmware.joins`'
(shared with the meters, the gas devices and the PPMID). What is the HCALCS's own is *who it
joins by which method* (:data:`HCALC_PARTNERS`): a HAN Connected Auxiliary Load Control
Switch is a Type 1 device, not a meter, so in method A it is the responder; its partner is
the ESME whose auxiliary load it switches (the ESME's side of the same join is CS03A1,
method A initiator with an HCALCS, :data:`smemu.firmware.joins.METER_PARTNERS`; the GPF
joins no HCALCS). Method B, method C and method A initiator are never an HCALCS's:
``invalidJoinMethodAndRole``; a CS03A1 / CS03B / CS03C addressed to it is not one of its use
cases (not supported).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from smemu.firmware import joins
from smemu.firmware.common.machine import Tx
from smemu.firmware.common.security import Accepted
from smemu.protocols.asn1.devices import JoinMethodAndRole
from smemu.protocols.asn1.values import DeviceType

if TYPE_CHECKING:
    from smemu.firmware.common.commands import CommandMachine

_M = JoinMethodAndRole
#: join method -> the device types an HCALCS joins by it
HCALC_PARTNERS: Final[joins.Partners] = {
    _M.METHOD_A_INITIATOR: frozenset(),
    _M.METHOD_A_RESPONDER: frozenset({DeviceType.ESME}),
    _M.METHOD_B: frozenset(),
    _M.METHOD_C: frozenset(),
}


def join(machine: CommandMachine, tx: Tx, accepted: Accepted) -> bytes | None:
    """CS03A2 on the HCALCS: the device log's join with the HCALCS's partners."""
    return joins.join(machine, tx, accepted, HCALC_PARTNERS)


#: message code -> handler (the HCALCS's ASN.1 join use cases)
HANDLERS: Final = {joins.CS03A2: join, joins.CS04AC: joins.unjoin}
