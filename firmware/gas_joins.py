"""Device logs of the gas meter and the gas proxy function: joins, unjoins, clock, backup.

Layer: firmware. gbcs-reference.md 7.8 (CS03 / CS04 / CS07 / GCS28 / GCS59 / GCS62
payloads and response codes), the Use Case volume (GCS62 is a non-critical alert to the
Access Control Broker carrying alert code 0x8071 "GPF device log changed").

Theory of operation
-------------------
The device log itself -- NVM ``join/<eui hex>`` -- and the unjoin and read (CS04AC / CS04B,
CS07) are :mod:`smemu.firmware.joins`' and used as they are. What differs on the gas side is
*who* a device may join by which method (:data:`GSME_PARTNERS`, :data:`GPF_PARTNERS`):

* the battery-powered GSME cannot run key establishment on its own initiative: it pairs with
  its GPF by method B, and takes a PPMID or a Type 2 device by method C (the other device's
  key agreement certificate arrives in the command); method A is not a GSME's;
* the GPF (mains powered, in the comms hub) pairs with its GSME by method B and joins a PPMID
  or Type 2 device by method A (initiator) or C.

The checks run in :func:`smemu.firmware.joins.join_outcome`'s order (message code vs method,
method vs device type, method C certificate, existing entry, capacity); a refusal changes
nothing.

*HAN parties*: the PPMID (or Type 2 device) a GSME joined by method C left its key
agreement certificate in the device log; :func:`han_parties` reads them back, so PCS01 /
PCS02 from that device are accepted by the common checks
(:mod:`smemu.firmware.common.security`) with the key it carries.

*GCS28 Set Clock on GSME*: the GSME takes the time the comms hub keeps (``tx.now``, the HAN
time) only inside the command's validity interval; inside it the clock is set (any offset
dropped) and reported ``reliable``, outside it the clock is left alone and reported
``unreliable``.

*A failed device log store* (a lab's fault, :mod:`smemu.firmware.common.faults`): the
device log is not a COSEM object nor a ZCL attribute, so its fault sits at the point of the
use case's function as a whole (:class:`~smemu.firmware.common.faults.UseCasePoint`); CS07
then answers ``readFailure`` with no entries (:func:`read_join_details`).
:data:`FAULTABLE_USE_CASES` lists the use cases whose function consults such a fault.

*GCS59 Restore GPF Device Log* re-enters each entry of a backup (as a join would, by the
type's method) and answers each entry's join response code. Whenever the GPF's device log
changes -- a join, an unjoin, a restore -- the GPF sends *GCS62 Backup GPF Device Log*
(:func:`backup_alert`) to the Access Control Broker: the whole log, MAC'd (SME.A.NC).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from smemu.errors import DecodeError
from smemu.firmware import credentials_use_cases, joins
from smemu.firmware.asn1_respond import HandlerTable, asn1_response, command_payload, device_time
from smemu.firmware.common import faults, respond
from smemu.firmware.common.credentials import Credentials, Role
from smemu.firmware.common.machine import Tx
from smemu.firmware.common.security import Accepted, HanParty
from smemu.firmware.credentials_update import cert_point, load_cert
from smemu.protocols.asn1 import (
    JoinDeviceCommand,
    JoinDeviceResponse,
    RestoreGpfDeviceLogCommand,
    RestoreGpfDeviceLogResponse,
    SetClockCommand,
    SetClockResponse,
)
from smemu.protocols.asn1.devices import (
    DeviceTimeStatus,
    GpfDeviceLogBackupAlert,
    JoinMethodAndRole,
    ReadDeviceJoinDetailsResponse,
    ReadResponseCode,
    RestoreOutcome,
)
from smemu.protocols.asn1.values import AlertCode, DeviceLogEntry, DeviceType, JoinResponseCode
from smemu.protocols.gbcs.frame import GeneralSigningMessage
from smemu.protocols.gbcs.types import Eui64

if TYPE_CHECKING:
    from smemu.firmware.common.commands import CommandMachine

GCS28: Final = 0x007F
GCS59: Final = 0x008C
GCS62: Final = 0x00B2
#: GCS62 alert code: GPF device log changed
GPF_LOG_CHANGED: Final = 0x8071
#: NVM key of the GSME's clock offset from the HAN time (seconds; the ESME's key name)
CLOCK_OFFSET: Final = "clock/offset_s"

Partners = joins.Partners
_M = JoinMethodAndRole
#: join method -> the device types a GSME joins by it
GSME_PARTNERS: Final[Partners] = {
    _M.METHOD_A_INITIATOR: frozenset(),
    _M.METHOD_A_RESPONDER: frozenset(),
    _M.METHOD_B: frozenset({DeviceType.GPF}),
    _M.METHOD_C: frozenset({DeviceType.PPMID, DeviceType.TYPE2}),
}
#: join method -> the device types a GPF joins by it
GPF_PARTNERS: Final[Partners] = {
    _M.METHOD_A_INITIATOR: frozenset({DeviceType.PPMID, DeviceType.TYPE2}),
    _M.METHOD_A_RESPONDER: frozenset(),
    _M.METHOD_B: frozenset({DeviceType.GSME}),
    _M.METHOD_C: frozenset({DeviceType.PPMID, DeviceType.TYPE2}),
}


# ----------------------------------------------------------------------------- joins


def join_outcome(
    tx: Tx, message_code: int, command: JoinDeviceCommand, partners: Partners
) -> JoinResponseCode:
    """Check a join against ``partners`` (nothing written); SUCCESS: record the entry."""
    return joins.join_outcome(tx, message_code, command, partners)


def han_parties(nvm: Mapping[str, bytes]) -> dict[Eui64, HanParty]:
    """The device log's entries that carry a key agreement certificate, as HAN parties.

    An entry that does not parse, or whose certificate holds no P-256 key, is left out.
    """
    parties: dict[Eui64, HanParty] = {}
    for key, raw in nvm.items():
        if not key.startswith(joins.PREFIX):
            continue
        try:
            eui = Eui64(bytes.fromhex(key[len(joins.PREFIX) :]))
            entry = json.loads(raw)
            kind = DeviceType(int(entry["type"]))
            der = entry.get("ka")
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        cert = load_cert(bytes.fromhex(der)) if isinstance(der, str) else None
        point = None if cert is None else cert_point(cert)
        if point is not None:
            parties[eui] = HanParty(eui, kind, point)
    return parties


def entry_outcome(tx: Tx, eui: Eui64, kind: DeviceType) -> JoinResponseCode:
    """Whether ``eui`` of ``kind`` fits the device log (existing entry, capacity)."""
    raw = tx.get(joins.PREFIX + eui.hex())
    if raw is not None:
        if json.loads(raw)["type"] != kind:
            return JoinResponseCode.INCOMPATIBLE_WITH_EXISTING_ENTRY
        return JoinResponseCode.SUCCESS
    if len(tx.keys(joins.PREFIX)) >= joins.DEVICE_LOG_CAPACITY:
        return JoinResponseCode.DEVICE_LOG_FULL
    return JoinResponseCode.SUCCESS


def record(
    tx: Tx, eui: Eui64, kind: DeviceType, method: JoinMethodAndRole, cert: bytes | None = None
) -> bool:
    """Write the device log entry (the :mod:`~smemu.firmware.joins` form); True if new."""
    key = joins.PREFIX + eui.hex()
    new = tx.get(key) is None
    entry = {"type": int(kind), "method": int(method), "ka": None if cert is None else cert.hex()}
    tx.put(key, json.dumps(entry, sort_keys=True).encode())
    return new


def _join(
    machine: CommandMachine, tx: Tx, accepted: Accepted, partners: Partners
) -> tuple[bytes, bool]:
    command = command_payload(accepted)
    if not isinstance(command, JoinDeviceCommand):
        raise DecodeError("join payload is not JoinDeviceCommand", path="asn1", offset=0)
    code = join_outcome(
        tx, accepted.command.header.other_information.message_code, command, partners
    )
    eui = command.other_device_entity_identifier
    changed = False
    if code is JoinResponseCode.SUCCESS:
        cert = command.other_device_key_agreement_certificate
        changed = record(
            tx,
            eui,
            command.other_device_type,
            command.join_method_and_role,
            None if cert is None else bytes(cert),
        )
        tx.log("event", f"joined {eui} ({command.other_device_type.name})")
    else:
        tx.log("event", f"join of {eui} refused: {code.name}")
    return asn1_response(machine.credentials, tx, accepted, JoinDeviceResponse(code)), changed


def gsme_join(machine: CommandMachine, tx: Tx, accepted: Accepted) -> bytes | None:
    """CS03A1 / CS03A2 / CS03B / CS03C on the GSME."""
    return _join(machine, tx, accepted, GSME_PARTNERS)[0]


def gpf_join(machine: CommandMachine, tx: Tx, accepted: Accepted) -> bytes | None:
    """CS03A1 / CS03A2 / CS03B / CS03C on the GPF (a new entry: GCS62 backup alert)."""
    answer, changed = _join(machine, tx, accepted, GPF_PARTNERS)
    if changed:
        send_backup(machine, tx)
    return answer


def gpf_unjoin(machine: CommandMachine, tx: Tx, accepted: Accepted) -> bytes | None:
    """CS04AC / CS04B on the GPF (an entry removed: GCS62 backup alert)."""
    before = len(tx.keys(joins.PREFIX))
    answer = joins.unjoin(machine, tx, accepted)
    if len(tx.keys(joins.PREFIX)) != before:
        send_backup(machine, tx)
    return answer


# ----------------------------------------------------------------------------- clock


def set_clock(machine: CommandMachine, tx: Tx, accepted: Accepted) -> bytes | None:
    """GCS28: take the HAN time inside the validity interval (see the module docstring)."""
    command = command_payload(accepted)
    if not isinstance(command, SetClockCommand):
        raise DecodeError("GCS28 payload is not SetClockCommand", path="asn1", offset=0)
    if command.validity_interval_start <= tx.now <= command.validity_interval_end:
        tx.put_json(CLOCK_OFFSET, 0)
        status = DeviceTimeStatus.RELIABLE
        tx.log("event", "clock set from the comms hub time")
    else:
        status = DeviceTimeStatus.UNRELIABLE
        tx.log("event", "clock not set: the hub time is outside the validity interval")
    now = device_time(tx).replace(microsecond=0)
    return asn1_response(machine.credentials, tx, accepted, SetClockResponse(now, status))


# ---------------------------------------------------------------------- GPF backup


def _gpf_method(kind: DeviceType) -> JoinMethodAndRole | None:
    """The method the GPF joins a device of ``kind`` by (first in table order)."""
    for method, kinds in GPF_PARTNERS.items():
        if kind in kinds:
            return method
    return None


def restore(machine: CommandMachine, tx: Tx, accepted: Accepted) -> bytes | None:
    """GCS59: re-enter each backed-up entry; the outcome per entry."""
    command = command_payload(accepted)
    if not isinstance(command, RestoreGpfDeviceLogCommand):
        raise DecodeError("GCS59 payload is not RestoreGpfDeviceLog", path="asn1", offset=0)
    outcomes = []
    changed = False
    for entry in command.device_log_entries:
        method = _gpf_method(entry.device_type)
        if method is None:
            code = JoinResponseCode.INVALID_JOIN_METHOD_AND_ROLE
        else:
            code = entry_outcome(tx, entry.device_id, entry.device_type)
        if code is JoinResponseCode.SUCCESS and method is not None:
            changed = record(tx, entry.device_id, entry.device_type, method) or changed
        outcomes.append(RestoreOutcome(entry, code))
    tx.log("event", f"device log restored: {len(outcomes)} entries")
    if changed:
        send_backup(machine, tx)
    response = RestoreGpfDeviceLogResponse(tuple(outcomes))
    return asn1_response(machine.credentials, tx, accepted, response)


def _acb(credentials: Credentials) -> Eui64 | None:
    if credentials.acbs:
        return credentials.acbs[0]
    anchor = credentials.anchor(Role.ACCESS_CONTROL_BROKER)
    return None if anchor is None else anchor.eui


def backup_alert(tx: Tx, credentials: Credentials) -> bytes | None:
    """GCS62: the GPF device log for the ACB (None: no ACB known to send it to)."""
    recipient = _acb(credentials)
    if recipient is None:
        return None
    entries: tuple[DeviceLogEntry, ...] = tuple(joins.entries(tx))
    payload = GpfDeviceLogBackupAlert(
        AlertCode(GPF_LOG_CHANGED), device_time(tx).replace(microsecond=0), entries
    )
    header = respond.alert_header(tx, credentials, recipient, GCS62)
    message = GeneralSigningMessage(header, payload.encode(), None)
    return respond.secure_message(message, credentials, critical=False)


def send_backup(machine: CommandMachine, tx: Tx) -> None:
    """Send the GCS62 backup alert up the machine's uplink."""
    alert = backup_alert(tx, machine.credentials)
    if alert is None:
        tx.log("trace", "GCS62 not sent: no access control broker")
        return
    machine.send(tx, machine.UPLINK, alert)
    tx.tally("sent")


# ----------------------------------------------------------------- device log faults


#: ASN.1 use cases whose function consults a fault at their
#: :class:`~smemu.firmware.common.faults.UseCasePoint`
FAULTABLE_USE_CASES: Final = frozenset({joins.CS07})


def read_join_details(machine: CommandMachine, tx: Tx, accepted: Accepted) -> bytes | None:
    """CS07: the device log, or ``readFailure`` (no entries) when its store has failed."""
    if faults.active(tx, faults.UseCasePoint(joins.CS07)) is None:
        return joins.read_join_details(machine, tx, accepted)
    command_payload(accepted)  # NULL; raises on anything else
    tx.log("event", "device log read failed (fault)")
    response = ReadDeviceJoinDetailsResponse(ReadResponseCode.READ_FAILURE)
    return asn1_response(machine.credentials, tx, accepted, response)


# --------------------------------------------------------------------- dispatch


#: ASN.1 use cases the GSME answers (credentials, joins, its clock).
GSME_HANDLERS: Final[HandlerTable] = {
    **credentials_use_cases.HANDLERS,
    joins.CS03A1: gsme_join,
    joins.CS03A2: gsme_join,
    joins.CS03B: gsme_join,
    joins.CS03C: gsme_join,
    joins.CS04AC: joins.unjoin,
    joins.CS04B: joins.unjoin,
    joins.CS07: read_join_details,
    GCS28: set_clock,
}
#: ASN.1 use cases the GPF answers (credentials, joins, device log restore).
GPF_HANDLERS: Final[HandlerTable] = {
    **credentials_use_cases.HANDLERS,
    joins.CS03A1: gpf_join,
    joins.CS03A2: gpf_join,
    joins.CS03B: gpf_join,
    joins.CS03C: gpf_join,
    joins.CS04AC: gpf_unjoin,
    joins.CS04B: gpf_unjoin,
    joins.CS07: read_join_details,
    GCS59: restore,
}


def dispatch(
    table: HandlerTable, machine: CommandMachine, tx: Tx, accepted: Accepted
) -> bytes | None:
    """Run the handler of ``table`` for the accepted command's message code."""
    code = accepted.command.header.other_information.message_code
    return table[code](machine, tx, accepted)
