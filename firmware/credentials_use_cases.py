"""Security credentials as the meter keeps them: CS02a/f details, CS02b/g trust anchor
replacement, CS02c new key pairs, CS02d/e the device's own certificates.

Layer: firmware. gbcs-reference.md 1.3 (SMKI certificates), 4.2 (which keys sign and MAC),
7.8 (the CS02 payloads and their status and response codes) and 9.3 (future-dated CS02b /
CS02g with the 0x00CB / 0x0124 outcome alerts).

NVM (besides :mod:`~smemu.firmware.common.credentials`' ``cred/ds``, ``cred/ka`` and
``anchor/<role>``): ``cred/cert/{ds,ka}`` the device's certificates (DER),
``cred/pending/{ds,ka}`` a key pair made by CS02c awaiting its certificate,
``cred/ski/<role>/{ds,ka}`` the subject key identifier of an anchor installed by CS02b,
``cred/seq/<role>`` the credential sequence number last used by a role to authorise a
replacement (and floors set for it), ``cred/seq/<role>/top-up`` its top-up floor.

Theory of operation
-------------------
*CS02a / CS02f* report, per role asked about, the anchor cells held (key usage, subject
EUI, subject key identifier) and the role's current sequence number. A role with no anchor
gets status ``other`` (the form devices answer in the reference set; the normative text is
not in /work/shared).

*CS02b / CS02g* replace anchors. The message code fixes the replacement mode (0x0100 + n,
0x0125 / 0x0126 the load controller modes) and the mode fixes who authorises and which
roles' cells may change (:data:`MODES`). The command is refused as a whole -- every cell
``other``, nothing changed -- when its mode disagrees with its message code, when the
authorising cell it names is not the mode's authoriser, or when the authorising sequence
number is not above the one last used. Each replacement must be a parseable certificate
whose key usage is the target cell's and whose role the mode may replace (else
``badCertificate``). Replacement is all or nothing: one bad cell and no cell changes (the
good ones report ``other``). On success the anchor (EUI and key) is replaced -- so the
next signature or MAC from that role is checked with the new key -- and the new party's
anti-replay floor and any other floors the command sets are applied. A future-dated
command is stored in the machine's queue and answered ``commandAccepted``; at its time it
runs the same way and the outcome goes out in an UpdateSecurityCredentialsAlert.

*CS02c* makes a new key pair of the usage asked for and answers a PKCS #10 request for it;
the private key stays pending. *CS02d* installs a certificate: it must parse, name this
device, have exactly one of the two key usages, and carry the public key of the pending key
pair (which then replaces the current one) or of the current one. *CS02e* returns a held
certificate.

*A failed store* (a lab's fault at the use case, :class:`~smemu.firmware.common.faults.
UseCasePoint`; the use cases in :data:`FAULTABLE_USE_CASES`): the checks of the command's
own content run first (an invalid key usage, a bad certificate are answered as ever); then,
instead of the use case's function, the response code the schema names for the failed part
(gbcs-reference.md 7.8) and nothing changes -- CS02c ``crProductionFailed`` (no
certification request can be produced; the new key pair is not kept), CS02d
``certificateStorageFailed``, CS02e ``certificateRetrievalFailure``, CS02b / CS02g
``noTrustAnchor`` in every replacement outcome (the trust anchor store cannot serve a cell;
each cell reported as still holding its existing anchor).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from smemu.errors import DecodeError
from smemu.firmware.asn1_respond import HandlerTable, asn1_response, command_payload
from smemu.firmware.common import faults
from smemu.firmware.common.credentials import (
    ANCHOR_PREFIX,
    OWN_DS,
    OWN_KA,
    Role,
    prepayment_point,
)
from smemu.firmware.common.machine import DeviceType, Tx
from smemu.firmware.common.security import Accepted
from smemu.firmware.credentials_update import (
    MODES,
    anchor_ski,
    cert_point,
    cert_usage,
    load_cert,
    seq_key,
    update_credentials,
)
from smemu.protocols.asn1 import (
    IssueSecurityCredentialsCommand,
    IssueSecurityCredentialsResponse,
    ProvideDeviceCertificateCommand,
    ProvideDeviceCertificateResponse,
    ProvideSecurityCredentialDetailsCommand,
    ProvideSecurityCredentialDetailsResponse,
    UpdateDeviceCertificateCommand,
    UpdateDeviceCertificateResponse,
)
from smemu.protocols.asn1.credentials import (
    IssueSecurityCredentialsResponseCode,
    ProvideDeviceCertificateResponseCode,
    RemotePartyDetails,
    TrustAnchorCellContents,
    UpdateDeviceCertificateResponseCode,
)
from smemu.protocols.asn1.values import (
    CellUsage,
    Certificate,
    CertificationRequest,
    KeyUsage,
    StatusCode,
)
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.certificates import certificate_eui
from smemu.protocols.security.keys import (
    generate_private_key,
    private_key_from_scalar,
    private_scalar,
    public_point,
)

if TYPE_CHECKING:
    from smemu.firmware.common.commands import CommandMachine

OWN_CERT: Final = {
    KeyUsage.DIGITAL_SIGNATURE: "cred/cert/ds",
    KeyUsage.KEY_AGREEMENT: "cred/cert/ka",
}
PENDING: Final = {
    KeyUsage.DIGITAL_SIGNATURE: "cred/pending/ds",
    KeyUsage.KEY_AGREEMENT: "cred/pending/ka",
}
_OWN_KEY: Final = {KeyUsage.DIGITAL_SIGNATURE: OWN_DS, KeyUsage.KEY_AGREEMENT: OWN_KA}
_SUFFIX: Final = {KeyUsage.DIGITAL_SIGNATURE: "ds", KeyUsage.KEY_AGREEMENT: "ka"}
#: Scratch NVM key: the outcome of a future-dated replacement, for its alert.
_FD_OUTCOME: Final = "cred/fd_outcome"
#: hardwareModuleName hwType of SMETS device certificates (gbcs-reference 1.3).
_HW_TYPE: Final = "1.2.826.0.1.8641679.1.2.2.1"
_HARDWARE_MODULE_NAME: Final = x509.ObjectIdentifier("1.3.6.1.5.5.7.8.4")
_CANCEL_YEAR: Final = 9999

CS02A: Final = 0x0008
CS02C: Final = 0x000A
CS02D: Final = 0x000B
CS02E: Final = 0x000C
CS02F: Final = 0x011B
CS02B_ALERT: Final = 0x00CB
CS02G_ALERT: Final = 0x0124
#: ASN.1 use cases whose function consults a fault at its
#: :class:`~smemu.firmware.common.faults.UseCasePoint` (see "A failed store")
FAULTABLE_USE_CASES: Final = frozenset({CS02C, CS02D, CS02E, *(m.code for m in MODES.values())})


def _faulted(tx: Tx, message_code: int) -> bool:
    """Whether the part behind use case ``message_code`` has failed (a lab's fault)."""
    return faults.active(tx, faults.UseCasePoint(message_code)) is not None


# ------------------------------------------------------------------------- CS02a / CS02f


#: Roles whose cells CS02a / CS02f do not report even when held: the Transitional CoS
#: party's key only authorises the supplier-cell replacement during a change of supplier
#: (CS02b supplierByTransCoS); it is no standing trust anchor, so its details are answered
#: ``other`` like a role without cells. [inferred: the GBCS main body is not in
#: /work/shared; it is the form the reference answers take]
_UNREPORTED_ROLES: Final = frozenset({Role.TRANSITIONAL_COS})
#: Smart meters hold no WAN Provider trust anchor cell (that party's cells are the Comms
#: Hub's): asked about it, a meter answers ``trustAnchorNotFound`` (gbcs-reference.md 7.8
#: StatusCode 25), whatever its provisioning installed.
_METERS: Final = frozenset({DeviceType.ESME, DeviceType.GSME})


def provide_details(machine: CommandMachine, tx: Tx, accepted: Accepted) -> bytes | None:
    """CS02a / CS02f: the anchor cells held for each role asked about."""
    command = command_payload(accepted)
    if not isinstance(command, ProvideSecurityCredentialDetailsCommand):
        raise DecodeError("CS02a payload is not the details command", path="asn1", offset=0)
    creds = machine.credentials
    details = []
    for asked in command.remote_party_roles_credentials_required:
        role = Role(int(asked))
        anchor = creds.anchor(role)
        if role is Role.WAN_PROVIDER and machine.device_type in _METERS:
            details.append(RemotePartyDetails(asked, StatusCode.TRUST_ANCHOR_NOT_FOUND))
            continue
        if anchor is None or role in _UNREPORTED_ROLES:
            details.append(RemotePartyDetails(asked, StatusCode.OTHER))
            continue
        cells = tuple(
            TrustAnchorCellContents(
                usage, CellUsage.MANAGEMENT, anchor.eui, anchor_ski(tx, role, usage, point)
            )
            for usage, point in (
                (KeyUsage.DIGITAL_SIGNATURE, anchor.ds_point),
                (KeyUsage.KEY_AGREEMENT, anchor.ka_point),
            )
            if point is not None
        )
        pp = prepayment_point(tx.get(ANCHOR_PREFIX + role.slug))
        if pp is not None:
            ski = anchor_ski(tx, role, KeyUsage.KEY_AGREEMENT, pp)
            top_up = TrustAnchorCellContents(
                KeyUsage.KEY_AGREEMENT, CellUsage.PREPAYMENT_TOP_UP, anchor.eui, ski
            )
            cells = (*cells, top_up)
        details.append(
            RemotePartyDetails(asked, StatusCode.SUCCESS, tx.get_int(seq_key(role)), cells)
        )
    return asn1_response(
        creds, tx, accepted, ProvideSecurityCredentialDetailsResponse(tuple(details))
    )


# ------------------------------------------------------------------ CS02c / CS02d / CS02e


def _single_usage(usage: KeyUsage) -> KeyUsage | None:
    """DS or KA when ``usage`` is exactly one of them, else None."""
    return usage if usage in (KeyUsage.DIGITAL_SIGNATURE, KeyUsage.KEY_AGREEMENT) else None


def _der_oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray((arcs[0] * 40 + arcs[1],))
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        rest = arc >> 7
        while rest:
            chunk.append(0x80 | (rest & 0x7F))
            rest >>= 7
        body.extend(reversed(chunk))
    return bytes((0x06, len(body))) + bytes(body)


def _hardware_module_name(eui: Eui64) -> bytes:
    inner = _der_oid(_HW_TYPE) + bytes((0x04, 8)) + bytes(eui)
    return bytes((0x30, len(inner))) + inner


def certification_request(eui: Eui64, usage: KeyUsage, scalar: bytes) -> bytes:
    """A PKCS #10 request for the key ``scalar``: empty subject, the device EUI as
    hardwareModuleName, and the key usage asked for (gbcs-reference 1.3)."""
    key = private_key_from_scalar(scalar)
    ds = usage is KeyUsage.DIGITAL_SIGNATURE
    builder = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.OtherName(_HARDWARE_MODULE_NAME, _hardware_module_name(eui))]
            ),
            critical=True,
        )
        .add_extension(
            x509.KeyUsage(ds, False, False, False, not ds, False, False, False, False),
            critical=True,
        )
    )
    return builder.sign(key, hashes.SHA256()).public_bytes(Encoding.DER)


def issue_credentials(machine: CommandMachine, tx: Tx, accepted: Accepted) -> bytes | None:
    """CS02c: a new key pair of the usage asked for; answer its certification request."""
    command = command_payload(accepted)
    if not isinstance(command, IssueSecurityCredentialsCommand):
        raise DecodeError("CS02c payload is not IssueSecurityCredentials", path="asn1", offset=0)
    creds = machine.credentials
    usage = _single_usage(command.key_usage)
    if usage is None:
        response = IssueSecurityCredentialsResponse(
            response_code=IssueSecurityCredentialsResponseCode.INVALID_KEY_USAGE
        )
    elif _faulted(tx, CS02C):
        tx.log("security", "certification request not produced (fault)")
        response = IssueSecurityCredentialsResponse(
            response_code=IssueSecurityCredentialsResponseCode.CR_PRODUCTION_FAILED
        )
    else:
        scalar = private_scalar(generate_private_key())
        request = certification_request(creds.eui, usage, scalar)
        tx.put(PENDING[usage], scalar)
        tx.log("security", f"new {_SUFFIX[usage].upper()} key pair generated")
        response = IssueSecurityCredentialsResponse(
            certification_request=CertificationRequest(request)
        )
    return asn1_response(creds, tx, accepted, response, critical=True)


def certificate_outcome(tx: Tx, own: Eui64, der: bytes) -> UpdateDeviceCertificateResponseCode:
    """Check and install a device certificate (CS02d); writes only on success."""
    codes = UpdateDeviceCertificateResponseCode
    cert = load_cert(der)
    if cert is None:
        return codes.INVALID_CERTIFICATE
    if certificate_eui(cert) != bytes(own):
        return codes.WRONG_DEVICE_IDENTITY
    usage = cert_usage(cert)
    if usage is None:
        return codes.INVALID_KEY_USAGE
    point = cert_point(cert)
    pending = tx.get(PENDING[usage])
    current = tx.get(_OWN_KEY[usage])
    takes_pending = pending is not None and point == public_point(
        private_key_from_scalar(pending)
    )
    if not takes_pending and (
        current is None or point != public_point(private_key_from_scalar(current))
    ):
        return codes.WRONG_PUBLIC_KEY if pending is not None else codes.NO_CORRESPONDING_KEY_PAIR
    if _faulted(tx, CS02D):
        tx.log("security", f"device {_SUFFIX[usage].upper()} certificate not stored (fault)")
        return codes.CERTIFICATE_STORAGE_FAILED
    if takes_pending and pending is not None:
        tx.put(_OWN_KEY[usage], pending)
        tx.delete(PENDING[usage])
    tx.put(OWN_CERT[usage], der)
    tx.log("security", f"device {_SUFFIX[usage].upper()} certificate updated")
    return codes.SUCCESS


def update_device_certificate(machine: CommandMachine, tx: Tx, accepted: Accepted) -> bytes | None:
    """CS02d: install the device's new certificate."""
    command = command_payload(accepted)
    if not isinstance(command, UpdateDeviceCertificateCommand):
        raise DecodeError("CS02d payload is not UpdateDeviceCertificate", path="asn1", offset=0)
    creds = machine.credentials
    code = certificate_outcome(tx, creds.eui, bytes(command.certificate))
    return asn1_response(creds, tx, accepted, UpdateDeviceCertificateResponse(code), critical=True)


def provide_device_certificate(machine: CommandMachine, tx: Tx, accepted: Accepted) -> bytes | None:
    """CS02e: the device certificate of the usage asked for."""
    command = command_payload(accepted)
    if not isinstance(command, ProvideDeviceCertificateCommand):
        raise DecodeError("CS02e payload is not ProvideDeviceCertificate", path="asn1", offset=0)
    usage = _single_usage(command.key_usage)
    codes = ProvideDeviceCertificateResponseCode
    if usage is None:
        response = ProvideDeviceCertificateResponse(response_code=codes.INVALID_KEY_USAGE)
    elif _faulted(tx, CS02E):
        tx.log("security", "device certificate not retrieved (fault)")
        response = ProvideDeviceCertificateResponse(
            response_code=codes.CERTIFICATE_RETRIEVAL_FAILURE
        )
    else:
        der = tx.get(OWN_CERT[usage])
        response = (
            ProvideDeviceCertificateResponse(response_code=codes.NO_CERTIFICATE_HELD)
            if der is None
            else ProvideDeviceCertificateResponse(certificate=Certificate(der))
        )
    return asn1_response(machine.credentials, tx, accepted, response, critical=True)


def certificate_writes(ds_der: bytes | None, ka_der: bytes | None) -> dict[str, bytes]:
    """NVM entries that give a device its own certificates (provisioning)."""
    writes = {}
    if ds_der is not None:
        writes[OWN_CERT[KeyUsage.DIGITAL_SIGNATURE]] = ds_der
    if ka_der is not None:
        writes[OWN_CERT[KeyUsage.KEY_AGREEMENT]] = ka_der
    return writes


HANDLERS: Final[HandlerTable] = {
    CS02A: provide_details,
    CS02F: provide_details,
    CS02C: issue_credentials,
    CS02D: update_device_certificate,
    CS02E: provide_device_certificate,
    **{mode.code: update_credentials for mode in MODES.values()},
}
