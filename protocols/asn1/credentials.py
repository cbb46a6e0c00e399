"""Security-credential payloads: CS02a-g (trust anchors, device certificates, key pairs).

Layer: protocols (sans-IO). Structures of gbcs-reference §7.8 (GBCS sections 13.2-13.9):
Provide Security Credential Details (CS02a, CS02f), Update Security Credentials (CS02b in
every replacement mode, CS02g for load controllers, with its future-dated outcome alert),
Issue Security Credentials (CS02c), Update / Provide Device Certificate (CS02d, CS02e).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from smemu.protocols.asn1.base import CHOICE, VALUE, Asn1Payload
from smemu.protocols.asn1.values import (
    AlertCode,
    CellUsage,
    Certificate,
    CertificationRequest,
    KeyUsage,
    RemotePartyRole,
    StatusCode,
    TrustAnchorCellIdentifier,
)
from smemu.protocols.gbcs.types import Eui64

# -- shared structures ------------------------------------------------------------------------


class CredentialsReplacementMode(enum.IntEnum):
    """Which anchor replaces which (GBCS CredentialsReplacementMode; message codes 0x0100+)."""

    ROOT_BY_SUPPLIER = 0
    ROOT_BY_WAN_PROVIDER = 1
    SUPPLIER_BY_SUPPLIER = 2
    NETWORK_OPERATOR_BY_NETWORK_OPERATOR = 3
    ACCESS_CONTROL_BROKER_BY_ACCESS_CONTROL_BROKER = 4
    WAN_PROVIDER_BY_WAN_PROVIDER = 5
    TRANS_COS_BY_TRANS_COS = 6
    SUPPLIER_BY_TRANS_COS = 7
    ANY_EXCEPT_ABNORMAL_ROOT_BY_RECOVERY = 8
    ANY_BY_CONTINGENCY = 9
    LOAD_CONTROLLER_BY_LOAD_CONTROLLER = 10
    LOAD_CONTROLLER_BY_SUPPLIER = 11


class SeqNumberUsage(enum.IntEnum):
    """What a specialist sequence number counts (GBCS SpecialistSeqNumber)."""

    PREPAYMENT_TOP_UP = 0


class CpvChecks(enum.IntEnum):
    """Whether time-based certification path validation checks apply (GBCS 13.3)."""

    APPLY = 0
    DISAPPLY = 1


@dataclass(frozen=True, slots=True)
class TrustAnchorCellContents:
    """What one trust anchor cell holds (CS02a/f response).

    ::

        SEQUENCE { keyUsage BIT STRING, cellUsage INTEGER DEFAULT management,
                   subjectUniqueID OCTET STRING(8), subjectKeyIdentifier OCTET STRING }
    """

    key_usage: KeyUsage  #: the anchor's key usage
    cell_usage: CellUsage  #: management or prepayment top-up (DER omits management)
    subject_unique_id: Eui64  #: Entity Identifier of the anchor's subject
    subject_key_identifier: bytes  #: the anchor certificate's subject key identifier


@dataclass(frozen=True, slots=True)
class RemotePartyDetails:
    """One remote party's credentials as the device holds them (CS02a/f response item).

    ::

        SEQUENCE { remotePartyRole, statusCode ENUMERATED, currentSeqNumber INTEGER OPTIONAL,
                   trustAnchorCellDetails SEQUENCE OF TrustAnchorCellContents OPTIONAL }
    """

    remote_party_role: RemotePartyRole  #: the party asked about
    status_code: StatusCode  #: success, or why no details follow
    current_seq_number: int | None = None  #: the party's current anti-replay floor
    #: its trust anchor cells
    trust_anchor_cell_details: tuple[TrustAnchorCellContents, ...] | None = None


@dataclass(frozen=True, slots=True)
class SpecialistSeqNumber:
    """A sequence number kept for one purpose: ``SEQUENCE { seqNumberUsage, seqNumber }``."""

    seq_number_usage: SeqNumberUsage  #: prepayment top-up
    seq_number: int  #: the number


@dataclass(frozen=True, slots=True)
class RemotePartySeqNumberChange:
    """A new floor for another party's counters (CS02b control and outcome).

    ::

        SEQUENCE { remotePartyRole, floorSeqNumber INTEGER,
                   specialistFloorSeqNumbers SEQUENCE OF SpecialistSeqNumber OPTIONAL }
    """

    remote_party_role: RemotePartyRole  #: whose counters
    floor_seq_number: int  #: new floor
    #: floors of its specialist counters
    specialist_floor_seq_numbers: tuple[SpecialistSeqNumber, ...] | None = None


@dataclass(frozen=True, slots=True)
class AuthorisingRemotePartyControl:
    """How a CS02b replacement is authorised (GBCS 13.3.2).

    ::

        SEQUENCE { credentialsReplacementMode INTEGER,
                   [0] plaintextSymmetricKey OCTET STRING OPTIONAL,
                   [1] applyTimeBasedCPVChecks INTEGER OPTIONAL,
                   [2] authorisingRemotePartyTACellIdentifier OPTIONAL,
                   [3] authorisingRemotePartySeqNumber INTEGER,
                   [4] newRemotePartyFloorSeqNumber INTEGER OPTIONAL,
                   [5] newRemotePartySpecialistFloorSeqNumber SEQUENCE OF ... OPTIONAL,
                   [6] otherRemotePartySeqNumberChanges SEQUENCE OF ... OPTIONAL }
    """

    credentials_replacement_mode: CredentialsReplacementMode  #: which anchors, by whom
    authorising_remote_party_seq_number: int  #: [3] the authorising party's counter
    plaintext_symmetric_key: bytes | None = None  #: [0] (WAN provider replacements)
    apply_time_based_cpv_checks: CpvChecks | None = None  #: [1]
    #: [2] the anchor that authorises the change
    authorising_remote_party_ta_cell_identifier: TrustAnchorCellIdentifier | None = None
    new_remote_party_floor_seq_number: int | None = None  #: [4]
    #: [5]
    new_remote_party_specialist_floor_seq_numbers: tuple[SpecialistSeqNumber, ...] | None = None
    #: [6]
    other_remote_party_seq_number_changes: tuple[RemotePartySeqNumberChange, ...] | None = None


@dataclass(frozen=True, slots=True)
class TrustAnchorReplacement:
    """A new anchor certificate for one cell: ``SEQUENCE { replacingCertificate, cell }``."""

    replacing_certificate: Certificate  #: the new anchor (X.509 DER)
    target_trust_anchor_cell: TrustAnchorCellIdentifier  #: the cell it goes into


@dataclass(frozen=True, slots=True)
class ReplacementOutcome:
    """What happened to one cell (CS02b outcome).

    ::

        SEQUENCE { affectedTrustAnchorCell, statusCode ENUMERATED,
                   existingSubjectUniqueID, existingSubjectKeyID,
                   replacingSubjectUniqueID, replacingSubjectKeyID }
    """

    affected_trust_anchor_cell: TrustAnchorCellIdentifier  #: the cell
    status_code: StatusCode  #: success or the failure
    existing_subject_unique_id: Eui64  #: subject of the anchor held before
    existing_subject_key_identifier: bytes  #: its key identifier
    replacing_subject_unique_id: Eui64  #: subject of the anchor offered
    replacing_subject_key_identifier: bytes  #: its key identifier


@dataclass(frozen=True, slots=True)
class UpdateSecurityCredentialsExecutionOutcome:
    """The result of a CS02b / CS02g replacement (in the response, or in the 8F66/8F67 alert).

    ::

        SEQUENCE { authorisingRemotePartySeqNumber INTEGER, credentialsReplacementMode,
                   remotePartySeqNumberChanges SEQUENCE OF RemotePartySeqNumberChange,
                   replacementOutcomes SEQUENCE OF ReplacementOutcome }
    """

    authorising_remote_party_seq_number: int  #: the authorising command's counter
    credentials_replacement_mode: CredentialsReplacementMode  #: the mode carried out
    remote_party_seq_number_changes: tuple[RemotePartySeqNumberChange, ...]  #: floors now set
    replacement_outcomes: tuple[ReplacementOutcome, ...]  #: per cell


# -- CS02a / CS02f ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProvideSecurityCredentialDetailsCommand(Asn1Payload):
    """CS02a / CS02f command (0x0008, 0x011B).

    ::

        SEQUENCE { authorisingRemotePartyTACellIdentifier TrustAnchorCellIdentifier,
                   remotePartyRolesCredentialsRequired SEQUENCE OF RemotePartyRole }
    """

    schema: ClassVar[str] = "ProvideSecurityCredentialDetailsCommand"

    authorising_remote_party_ta_cell_identifier: TrustAnchorCellIdentifier  #: who asks
    remote_party_roles_credentials_required: tuple[RemotePartyRole, ...]  #: about whom


@dataclass(frozen=True, slots=True)
class ProvideSecurityCredentialDetailsResponse(Asn1Payload):
    """CS02a / CS02f response: ``SEQUENCE OF RemotePartyDetails``."""

    schema: ClassVar[str] = "ProvideSecurityCredentialDetailsResponse"
    shape: ClassVar[str] = VALUE

    remote_party_details: tuple[RemotePartyDetails, ...]  #: one per role asked about


# -- CS02b / CS02g ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UpdateSecurityCredentialsCommand(Asn1Payload):
    """CS02b command (0x0100-0x0109) and CS02g command (0x0125, 0x0126).

    ::

        SEQUENCE { authorisingRemotePartyControl,
                   replacements SEQUENCE OF TrustAnchorReplacement,
                   certificationPathCertificates SEQUENCE OF Certificate,
                   executionDateTime GeneralizedTime OPTIONAL }
    """

    schema: ClassVar[str] = "UpdateSecurityCredentialsCommand"

    authorising_remote_party_control: AuthorisingRemotePartyControl  #: the authorisation
    replacements: tuple[TrustAnchorReplacement, ...]  #: the new anchors
    certification_path_certificates: tuple[Certificate, ...]  #: path to validate them
    execution_date_time: datetime | None = None  #: future-dated execution (UTC)


@dataclass(frozen=True, slots=True)
class UpdateSecurityCredentialsResponse(Asn1Payload):
    """CS02b / CS02g response: ``SEQUENCE { commandAccepted NULL, executionOutcome OPTIONAL }``.

    A future-dated command is answered with no outcome; it arrives later in an alert.
    """

    schema: ClassVar[str] = "UpdateSecurityCredentialsResponse"
    _null_members: ClassVar[tuple[str, ...]] = ("commandAccepted",)

    execution_outcome: UpdateSecurityCredentialsExecutionOutcome | None = None  #: if executed

    @property
    def command_accepted(self) -> bool:
        """Always true: the response exists only for accepted commands (its NULL)."""
        return True


@dataclass(frozen=True, slots=True)
class UpdateSecurityCredentialsAlert(Asn1Payload):
    """Future-dated CS02b / CS02g outcome alert (0x00CB, 0x0124; alert 8F66 or 8F67).

    ::

        SEQUENCE { alertCode INTEGER, executionDateTime GeneralizedTime, executionOutcome }
    """

    schema: ClassVar[str] = "UpdateSecurityCredentialsAlert"

    alert_code: AlertCode  #: 8F66 executed, 8F67 failed
    execution_date_time: datetime  #: when it ran (UTC)
    execution_outcome: UpdateSecurityCredentialsExecutionOutcome  #: the outcome


# -- CS02c / CS02d / CS02e --------------------------------------------------------------------


class IssueSecurityCredentialsResponseCode(enum.IntEnum):
    """CS02c failure codes (sent instead of a certification request)."""

    INVALID_KEY_USAGE = 1
    KEY_PAIR_GENERATION_FAILED = 2
    CR_PRODUCTION_FAILED = 3


class UpdateDeviceCertificateResponseCode(enum.IntEnum):
    """CS02d outcome."""

    SUCCESS = 0
    INVALID_CERTIFICATE = 1
    WRONG_DEVICE_IDENTITY = 2
    INVALID_KEY_USAGE = 3
    NO_CORRESPONDING_KEY_PAIR = 4
    WRONG_PUBLIC_KEY = 5
    CERTIFICATE_STORAGE_FAILED = 6
    PRIVATE_KEY_CHANGE_FAILED = 7


class ProvideDeviceCertificateResponseCode(enum.IntEnum):
    """CS02e failure codes (sent instead of a certificate)."""

    INVALID_KEY_USAGE = 1
    NO_CERTIFICATE_HELD = 2
    CERTIFICATE_RETRIEVAL_FAILURE = 3


@dataclass(frozen=True, slots=True)
class IssueSecurityCredentialsCommand(Asn1Payload):
    """CS02c command (0x000A): ``SEQUENCE { keyUsage }`` - make a new key pair of this usage."""

    schema: ClassVar[str] = "IssueSecurityCredentialsCommand"

    key_usage: KeyUsage  #: digital signature or key agreement


@dataclass(frozen=True, slots=True)
class IssueSecurityCredentialsResponse(Asn1Payload):
    """CS02c response: a PKCS #10 request (``30 ...``) or a failure INTEGER (``02 ...``).

    Exactly one of the two fields is set.
    """

    schema: ClassVar[str] = "IssueSecurityCredentialsResponse"
    shape: ClassVar[str] = CHOICE
    _variants: ClassVar[tuple[tuple[int, str, str], ...]] = (
        (0x30, "CertificationRequest", "certification_request"),
        (0x02, "IssueSecurityCredentialsResponseCode", "response_code"),
    )

    certification_request: CertificationRequest | None = None  #: the new key's request
    response_code: IssueSecurityCredentialsResponseCode | None = None  #: or why not


@dataclass(frozen=True, slots=True)
class UpdateDeviceCertificateCommand(Asn1Payload):
    """CS02d command (0x000B): the device's new certificate, X.509 DER."""

    schema: ClassVar[str] = "UpdateDeviceCertificateCommand"
    shape: ClassVar[str] = VALUE

    certificate: Certificate  #: the new certificate


@dataclass(frozen=True, slots=True)
class UpdateDeviceCertificateResponse(Asn1Payload):
    """CS02d response: an INTEGER outcome."""

    schema: ClassVar[str] = "UpdateDeviceCertificateResponse"
    shape: ClassVar[str] = VALUE

    response_code: UpdateDeviceCertificateResponseCode  #: outcome


@dataclass(frozen=True, slots=True)
class ProvideDeviceCertificateCommand(Asn1Payload):
    """CS02e command (0x000C): ``SEQUENCE { keyUsage }`` - which certificate to send."""

    schema: ClassVar[str] = "ProvideDeviceCertificateCommand"

    key_usage: KeyUsage  #: digital signature or key agreement


@dataclass(frozen=True, slots=True)
class ProvideDeviceCertificateResponse(Asn1Payload):
    """CS02e response: the certificate (``30 ...``) or a failure INTEGER (``02 ...``).

    Exactly one of the two fields is set.
    """

    schema: ClassVar[str] = "ProvideDeviceCertificateResponse"
    shape: ClassVar[str] = CHOICE
    _variants: ClassVar[tuple[tuple[int, str, str], ...]] = (
        (0x30, "Certificate", "certificate"),
        (0x02, "ProvideDeviceCertificateResponseCode", "response_code"),
    )

    certificate: Certificate | None = None  #: the certificate asked for
    response_code: ProvideDeviceCertificateResponseCode | None = None  #: or why not
