"""The PPMID's joins and unjoins: CS03A2, CS03C, CS04AC, and the meters it serves.

Layer: firmware. Use Case volume CS03A2 "Method A Join (non Meter)", CS03C "Method C Join",
CS04AC "Method A or C Unjoin" (GBCS 13.7; the Access Control Broker sends them, the
non-critical variants to a PPMID); payloads and response codes in gbcs-reference.md 7.8.

Theory of operation
-------------------
The device log, the checks and the answers are :mod:`smemu.firmware.joins`'. What is the
PPMID's own is *who it joins by which method* (:data:`PPMID_PARTNERS`): a PPMID is not a
meter, so in method A it is the responder -- to the ESME and to the GPF (the meters'
side of the same join is CS03A1, method A initiator); in method C it joins the GSME, whose
key agreement certificate the command brings (the battery-powered GSME cannot run key
establishment; :mod:`smemu.firmware.gas_joins` takes the PPMID by method C on its side).
Method B and method A initiator are never a PPMID's: ``invalidJoinMethodAndRole``; a
CS03A1 / CS03B addressed to it is not a PPMID use case at all (not supported).

The device log also says which meters the PPMID serves. A successful join of an ESME makes it
the electricity meter the keypad talks to (NVM :data:`ESME_KEY`); one of a GSME makes it the
gas meter (:data:`GSME_KEY`) and keeps the GSME's key agreement public key from the
certificate (:data:`PEER_KA`), which MACs PCS01 / PCS02. Unjoining the meter served drops it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from smemu.firmware import joins
from smemu.firmware.asn1_respond import command_payload
from smemu.firmware.common.machine import Tx
from smemu.firmware.common.security import Accepted
from smemu.firmware.credentials_update import cert_point, load_cert
from smemu.protocols.asn1 import JoinDeviceCommand, UnjoinDeviceCommand
from smemu.protocols.asn1.devices import JoinMethodAndRole
from smemu.protocols.asn1.values import DeviceType
from smemu.protocols.gbcs.types import Eui64

if TYPE_CHECKING:
    from smemu.firmware.common.commands import CommandMachine

#: NVM: the ESME the PPMID serves (EUI-64)
ESME_KEY: Final = "ppmid/esme"
#: NVM: the GSME the PPMID serves (EUI-64)
GSME_KEY: Final = "ppmid/gsme"
#: NVM prefix: ``ppmid/peer_ka/<eui hex>`` -> that meter's key agreement point X||Y
PEER_KA: Final = "ppmid/peer_ka/"

_M = JoinMethodAndRole
#: join method -> the device types a PPMID joins by it
PPMID_PARTNERS: Final[joins.Partners] = {
    _M.METHOD_A_INITIATOR: frozenset(),
    _M.METHOD_A_RESPONDER: frozenset({DeviceType.ESME, DeviceType.GPF}),
    _M.METHOD_B: frozenset(),
    _M.METHOD_C: frozenset({DeviceType.GSME}),
}


def serve(tx: Tx, eui: Eui64, kind: DeviceType, certificate: bytes | None = None) -> None:
    """Make ``eui`` the meter of its fuel the PPMID serves (a GSME: with its KA key)."""
    if kind is DeviceType.ESME:
        tx.put(ESME_KEY, bytes(eui))
    elif kind is DeviceType.GSME:
        tx.put(GSME_KEY, bytes(eui))
        cert = None if certificate is None else load_cert(certificate)
        point = None if cert is None else cert_point(cert)
        if point is not None:
            tx.put(PEER_KA + bytes(eui).hex(), point)


def forget(tx: Tx, eui: Eui64) -> None:
    """Stop serving ``eui`` (it was unjoined)."""
    raw = bytes(eui)
    for key in (ESME_KEY, GSME_KEY):
        if tx.get(key) == raw:
            tx.delete(key)
    if tx.get(PEER_KA + raw.hex()) is not None:
        tx.delete(PEER_KA + raw.hex())


def join(machine: CommandMachine, tx: Tx, accepted: Accepted) -> bytes | None:
    """CS03A2 / CS03C on the PPMID: the join, then serve the meter joined."""
    answer = joins.join(machine, tx, accepted, PPMID_PARTNERS)
    command = command_payload(accepted)
    if isinstance(command, JoinDeviceCommand):
        eui = command.other_device_entity_identifier
        kind = command.other_device_type
        if joins.entry_type(tx, eui) is kind and kind in (DeviceType.ESME, DeviceType.GSME):
            cert = command.other_device_key_agreement_certificate
            serve(tx, eui, kind, None if cert is None else bytes(cert))
    return answer


def unjoin(machine: CommandMachine, tx: Tx, accepted: Accepted) -> bytes | None:
    """CS04AC on the PPMID: the unjoin; a meter no longer in the log is no longer served."""
    command = command_payload(accepted)
    held = isinstance(command, UnjoinDeviceCommand) and (
        tx.get(joins.PREFIX + bytes(command.other_device_entity_identifier).hex()) is not None
    )
    answer = joins.unjoin(machine, tx, accepted)
    if held and isinstance(command, UnjoinDeviceCommand):
        forget(tx, command.other_device_entity_identifier)
    return answer


#: message code -> handler (the PPMID's ASN.1 join use cases)
HANDLERS: Final = {joins.CS03A2: join, joins.CS03C: join, joins.CS04AC: unjoin}
