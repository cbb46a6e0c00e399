"""CS02b / CS02g Update Security Credentials: trust anchor replacement on the meter.

Layer: firmware. The behaviour is described in
:mod:`~smemu.firmware.credentials_use_cases` (module docstring, "CS02b / CS02g"); this
module holds the mode table, the checks, the state change and the future-dated outcome
alert (0x00CB for CS02b, 0x0124 for CS02g; alert code 8F66 / 8F67). A fault at the use
case (:class:`~smemu.firmware.common.faults.UseCasePoint`, a failed trust anchor store) is
consulted by :func:`evaluate`, so it holds for immediate and future-dated replacements alike.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from cryptography import x509

from smemu.errors import DecodeError
from smemu.firmware.asn1_respond import asn1_alert, asn1_response, command_payload, device_time
from smemu.firmware.common import faults
from smemu.firmware.common.credentials import ANCHOR_PREFIX, Anchor, Credentials, Role
from smemu.firmware.common.future import ALERT_EXECUTED, FutureItem
from smemu.firmware.common.machine import Tx
from smemu.firmware.common.security import Accepted, counter_key
from smemu.protocols.asn1 import (
    UpdateSecurityCredentialsAlert,
    UpdateSecurityCredentialsCommand,
    UpdateSecurityCredentialsResponse,
)
from smemu.protocols.asn1.credentials import (
    CredentialsReplacementMode,
    RemotePartySeqNumberChange,
    ReplacementOutcome,
    SeqNumberUsage,
    UpdateSecurityCredentialsExecutionOutcome,
)
from smemu.protocols.asn1.values import AlertCode, KeyUsage, RemotePartyRole, StatusCode
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.certificates import certificate_eui
from smemu.protocols.security.keys import as_p256_public, public_point

if TYPE_CHECKING:
    from smemu.firmware.common.commands import CommandMachine

CS02B_ALERT: Final = 0x00CB
CS02G_ALERT: Final = 0x0124
#: Scratch NVM key: the outcome of a future-dated replacement that ran, for its alert.
FD_OUTCOME: Final = "cred/fd_outcome"
CANCEL_TIME: Final = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
_SUFFIX: Final = {KeyUsage.DIGITAL_SIGNATURE: "ds", KeyUsage.KEY_AGREEMENT: "ka"}
_NO_EUI: Final = Eui64(bytes(8))


@dataclass(frozen=True, slots=True)
class Mode:
    """One replacement mode: its message code, who authorises, whose cells may change."""

    code: int
    authoriser: Role | None  #: None: the contingency key (no anchor authorises)
    targets: frozenset[Role]
    alert_code: int  #: message code of the future-dated outcome alert


_ALL: Final = frozenset(Role)
_M = CredentialsReplacementMode


def _mode(code: int, authoriser: Role | None, *targets: Role) -> Mode:
    alert = CS02G_ALERT if code >= 0x0124 else CS02B_ALERT
    return Mode(code, authoriser, frozenset(targets), alert)


#: The reviewed table of replacement modes (GBCS CredentialsReplacementMode).
MODES: Final[dict[CredentialsReplacementMode, Mode]] = {
    _M.ROOT_BY_SUPPLIER: _mode(0x0100, Role.SUPPLIER, Role.ROOT),
    _M.ROOT_BY_WAN_PROVIDER: _mode(0x0101, Role.WAN_PROVIDER, Role.ROOT),
    _M.SUPPLIER_BY_SUPPLIER: _mode(0x0102, Role.SUPPLIER, Role.SUPPLIER),
    _M.NETWORK_OPERATOR_BY_NETWORK_OPERATOR: _mode(
        0x0103, Role.NETWORK_OPERATOR, Role.NETWORK_OPERATOR
    ),
    _M.ACCESS_CONTROL_BROKER_BY_ACCESS_CONTROL_BROKER: _mode(
        0x0104, Role.ACCESS_CONTROL_BROKER, Role.ACCESS_CONTROL_BROKER
    ),
    _M.WAN_PROVIDER_BY_WAN_PROVIDER: _mode(0x0105, Role.WAN_PROVIDER, Role.WAN_PROVIDER),
    _M.TRANS_COS_BY_TRANS_COS: _mode(0x0106, Role.TRANSITIONAL_COS, Role.TRANSITIONAL_COS),
    _M.SUPPLIER_BY_TRANS_COS: _mode(0x0107, Role.TRANSITIONAL_COS, Role.SUPPLIER),
    _M.ANY_EXCEPT_ABNORMAL_ROOT_BY_RECOVERY: _mode(0x0108, Role.RECOVERY, *(_ALL - {Role.ROOT})),
    _M.ANY_BY_CONTINGENCY: _mode(0x0109, None, *_ALL),
    _M.LOAD_CONTROLLER_BY_LOAD_CONTROLLER: _mode(
        0x0125, Role.LOAD_CONTROLLER, Role.LOAD_CONTROLLER
    ),
    _M.LOAD_CONTROLLER_BY_SUPPLIER: _mode(0x0126, Role.SUPPLIER, Role.LOAD_CONTROLLER),
}
_MODE_OF_CODE: Final = {mode.code: name for name, mode in MODES.items()}


# --------------------------------------------------------------------------- helpers


def seq_key(role: Role) -> str:
    """NVM key of a role's credential sequence number."""
    return f"cred/seq/{role.slug}"


def _ski_key(role: Role, usage: KeyUsage) -> str:
    return f"cred/ski/{role.slug}/{_SUFFIX[usage]}"


def anchor_ski(tx: Tx, role: Role, usage: KeyUsage, point: bytes) -> bytes:
    """Subject key identifier of an anchor: as installed, else derived from its key."""
    return tx.get(_ski_key(role, usage)) or hashlib.sha256(point).digest()[:8]


def load_cert(der: bytes) -> x509.Certificate | None:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        return None


def cert_usage(cert: x509.Certificate) -> KeyUsage | None:
    """DS or KA when the certificate's key usage is exactly one of them."""
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    ds, ka = ku.digital_signature, ku.key_agreement
    if ds and not ka:
        return KeyUsage.DIGITAL_SIGNATURE
    if ka and not ds:
        return KeyUsage.KEY_AGREEMENT
    return None


def cert_point(cert: x509.Certificate) -> bytes | None:
    """The P-256 public point X||Y of a certificate (None for any other key)."""
    try:
        return public_point(as_p256_public(cert.public_key(), "certificate"))
    except Exception:
        return None


def _cert_ski(cert: x509.Certificate, point: bytes) -> bytes:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return hashlib.sha256(point).digest()[:8]


# ---------------------------------------------------------------------- the replacement


def evaluate(
    tx: Tx,
    credentials: Credentials,
    message_code: int,
    role: Role,
    command: UpdateSecurityCredentialsCommand,
    *,
    apply: bool,
) -> tuple[bool, UpdateSecurityCredentialsExecutionOutcome]:
    """Check a replacement and, when ``apply`` and every check passes, carry it out.

    :returns: (success, the execution outcome to report).
    """
    control = command.authorising_remote_party_control
    mode_name = control.credentials_replacement_mode
    mode = MODES.get(mode_name)
    seq = control.authorising_remote_party_seq_number
    whole_ok = mode is not None and _MODE_OF_CODE.get(message_code) is mode_name
    if whole_ok and mode is not None and mode.authoriser is not None:
        cell = control.authorising_remote_party_ta_cell_identifier
        if cell is not None and int(cell.remote_party_role) != mode.authoriser:
            whole_ok = False
        if role not in (mode.authoriser, Role.ACCESS_CONTROL_BROKER):
            whole_ok = False
        last = tx.get(seq_key(mode.authoriser))
        if last is not None and seq <= int.from_bytes(last, "big"):
            whole_ok = False
    outcomes: list[ReplacementOutcome] = []
    installs: list[tuple[Role, KeyUsage, Eui64, bytes, bytes]] = []
    for replacement in command.replacements:
        target = replacement.target_trust_anchor_cell
        target_role = Role(int(target.remote_party_role))
        usage = target.key_usage
        held = credentials.anchor(target_role)
        held_point = None
        if held is not None:
            held_point = held.ds_point if usage is KeyUsage.DIGITAL_SIGNATURE else held.ka_point
        existing_eui = held.eui if held is not None else _NO_EUI
        existing_ski = (
            anchor_ski(tx, target_role, usage, held_point) if held_point is not None else bytes(8)
        )
        cert = load_cert(bytes(replacement.replacing_certificate))
        point = None if cert is None else cert_point(cert)
        eui_raw = None if cert is None else certificate_eui(cert)
        status = StatusCode.SUCCESS
        if (
            cert is None
            or point is None
            or eui_raw is None
            or usage not in _SUFFIX
            or cert_usage(cert) is not usage
        ):
            status = StatusCode.BAD_CERTIFICATE
        elif mode is None or target_role not in mode.targets:
            status = StatusCode.OTHER
        new_eui = Eui64(eui_raw) if eui_raw is not None and len(eui_raw) == 8 else _NO_EUI
        new_ski = bytes(8) if cert is None or point is None else _cert_ski(cert, point)
        if status is StatusCode.SUCCESS and point is not None:
            installs.append((target_role, usage, new_eui, point, new_ski))
        outcomes.append(
            ReplacementOutcome(target, status, existing_eui, existing_ski, new_eui, new_ski)
        )
    if whole_ok and faults.active(tx, faults.UseCasePoint(message_code)) is not None:
        # the trust anchor store has failed (a lab's fault): no cell can be served, every
        # cell still holds its existing anchor
        tx.log("security", f"trust anchors not replaced ({mode_name.name}): store fault")
        outcomes = [_unserved(o) for o in outcomes]
        installs = []
    ok = whole_ok and bool(installs) and len(installs) == len(outcomes)
    if not ok:
        outcomes = [
            o if o.status_code is not StatusCode.SUCCESS else _with_status(o, StatusCode.OTHER)
            for o in outcomes
        ]
    changes = _seq_changes(command, installs)
    if ok and apply:
        _install(tx, credentials, installs)
        for change in changes:
            _apply_floor(tx, credentials, change)
        if mode is not None and mode.authoriser is not None:
            tx.put_int(seq_key(mode.authoriser), seq)
        tx.log("security", f"trust anchors replaced ({mode_name.name})")
    outcome = UpdateSecurityCredentialsExecutionOutcome(
        seq, mode_name, tuple(changes), tuple(outcomes)
    )
    return ok, outcome


def _with_status(o: ReplacementOutcome, status: StatusCode) -> ReplacementOutcome:
    return ReplacementOutcome(
        o.affected_trust_anchor_cell,
        status,
        o.existing_subject_unique_id,
        o.existing_subject_key_identifier,
        o.replacing_subject_unique_id,
        o.replacing_subject_key_identifier,
    )


def _unserved(o: ReplacementOutcome) -> ReplacementOutcome:
    """``o`` as a failed trust anchor store reports it: noTrustAnchor, the cell unchanged."""
    return ReplacementOutcome(
        o.affected_trust_anchor_cell,
        StatusCode.NO_TRUST_ANCHOR,
        o.existing_subject_unique_id,
        o.existing_subject_key_identifier,
        o.existing_subject_unique_id,
        o.existing_subject_key_identifier,
    )


def _seq_changes(
    command: UpdateSecurityCredentialsCommand,
    installs: list[tuple[Role, KeyUsage, Eui64, bytes, bytes]],
) -> list[RemotePartySeqNumberChange]:
    control = command.authorising_remote_party_control
    changes: list[RemotePartySeqNumberChange] = []
    for role in dict.fromkeys(r for r, *_ in installs):
        changes.append(
            RemotePartySeqNumberChange(
                _asn1_role(role),
                control.new_remote_party_floor_seq_number or 0,
                control.new_remote_party_specialist_floor_seq_numbers,
            )
        )
    others = control.other_remote_party_seq_number_changes or ()
    overridden = {int(o.remote_party_role) for o in others}
    changes = [c for c in changes if int(c.remote_party_role) not in overridden]
    changes.extend(others)
    return changes


def _asn1_role(role: Role) -> RemotePartyRole:
    return RemotePartyRole(int(role))


def _install(
    tx: Tx, credentials: Credentials, installs: list[tuple[Role, KeyUsage, Eui64, bytes, bytes]]
) -> None:
    anchors: dict[Role, Anchor] = {}
    for role, usage, eui, point, ski in installs:
        held = anchors.get(role) or credentials.anchor(role)
        ds = held.ds_point if held is not None and held.eui == eui else None
        ka = held.ka_point if held is not None and held.eui == eui else None
        if usage is KeyUsage.DIGITAL_SIGNATURE:
            ds = point
        else:
            ka = point
        anchors[role] = Anchor(role, eui, ds, ka)
        tx.put(_ski_key(role, usage), ski)
    for role, anchor in anchors.items():
        tx.put(ANCHOR_PREFIX + role.slug, anchor.to_json())


def _apply_floor(tx: Tx, credentials: Credentials, change: RemotePartySeqNumberChange) -> None:
    role = Role(int(change.remote_party_role))
    tx.put_int(seq_key(role), change.floor_seq_number)
    anchor_raw = tx.get(ANCHOR_PREFIX + role.slug)
    anchor = Anchor.from_json(role, anchor_raw) if anchor_raw is not None else None
    if anchor is not None:
        tx.put_int(counter_key(anchor.eui, role), change.floor_seq_number)
    for special in change.specialist_floor_seq_numbers or ():
        if special.seq_number_usage is SeqNumberUsage.PREPAYMENT_TOP_UP:
            tx.put_int(f"{seq_key(role)}/top-up", special.seq_number)


# ------------------------------------------------------------------------------ handler


def _decode(payload: object) -> UpdateSecurityCredentialsCommand:
    if not isinstance(payload, UpdateSecurityCredentialsCommand):
        raise DecodeError("CS02b payload is not UpdateSecurityCredentials", path="asn1", offset=0)
    return payload


def update_credentials(machine: CommandMachine, tx: Tx, accepted: Accepted) -> bytes | None:
    """CS02b / CS02g: replace trust anchors now, later (future-dated) or cancel."""
    command = _decode(command_payload(accepted))
    creds = machine.credentials
    header = accepted.command.header
    code = header.other_information.message_code
    at = command.execution_date_time
    identity = f"asn1/cs02/{code:04x}"
    if at is not None and at >= CANCEL_TIME:
        machine.cancel_future(tx, identity)
        return asn1_response(
            creds, tx, accepted, UpdateSecurityCredentialsResponse(), dated=True, critical=True
        )
    if at is not None and at > device_time(tx):
        machine.schedule_future(
            tx,
            FutureItem(
                identity,
                at,
                code,
                header.originator,
                header.originator_counter,
                bytes((int(accepted.role) & 0xFF,)),
                "extension_future",
                accepted.command.payload,
            ),
        )
        return asn1_response(
            creds, tx, accepted, UpdateSecurityCredentialsResponse(), dated=True, critical=True
        )
    _, outcome = evaluate(tx, creds, code, accepted.role, command, apply=True)
    return asn1_response(
        creds, tx, accepted, UpdateSecurityCredentialsResponse(outcome), dated=True, critical=True
    )


def _item_command(item: FutureItem) -> UpdateSecurityCredentialsCommand:
    return UpdateSecurityCredentialsCommand.decode_exact(item.data)


def future_update(tx: Tx, credentials: Credentials, item: FutureItem) -> bool:
    """The future-dated replacement at its time; records the outcome for the alert."""
    role = Role(item.reference[0]) if item.reference else Role.SUPPLIER
    ok, outcome = evaluate(
        tx, credentials, item.message_code, role, _item_command(item), apply=True
    )
    if ok:
        tx.put(FD_OUTCOME, UpdateSecurityCredentialsResponse(outcome).encode())
    return ok


def future_alert(tx: Tx, credentials: Credentials, item: FutureItem, alert_code: int) -> bytes:
    """UpdateSecurityCredentialsAlert (0x00CB / 0x0124) for a future-dated replacement."""
    raw = tx.get(FD_OUTCOME)
    outcome = None
    if alert_code == ALERT_EXECUTED and raw is not None:
        outcome = UpdateSecurityCredentialsResponse.decode_exact(raw).execution_outcome
        tx.delete(FD_OUTCOME)
    if outcome is None:
        role = Role(item.reference[0]) if item.reference else Role.SUPPLIER
        _, outcome = evaluate(
            tx, credentials, item.message_code, role, _item_command(item), apply=False
        )
    mode = MODES.get(outcome.credentials_replacement_mode)
    message_code = CS02B_ALERT if mode is None else mode.alert_code
    payload = UpdateSecurityCredentialsAlert(AlertCode(alert_code), item.at, outcome)
    return asn1_alert(tx, credentials, item.originator, message_code, payload)
