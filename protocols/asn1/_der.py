"""The GBCS ASN.1 module text, compiled once on first use, and the DER wire rules around it.

Layer: protocols (sans-IO). The module below is our own transcription of the structures of
the GBCS security-credential, join / unjoin, firmware and device-log use cases (gbcs-reference
§7.8). Member names are the camelCase of the Python field names, so the typed layer maps them
mechanically. asn1tools reads (BER codec) and writes (DER codec); this module adds what it
leaves out: its exceptions as :class:`~smemu.errors.DecodeError` (path and offset), rejection
of trailing bytes, and the length forms of elements sent longer than DER's shortest (devices
send ``30 82 00 83`` where DER says ``30 81 83``), recorded per element and reproduced on
encode. ``Asn1Payload.decode_exact`` rejects every other departure from DER.
"""

from __future__ import annotations

import copy
import functools
import re
from typing import Any, Final

from smemu.errors import DecodeError, LocalProtocolError

#: One ASN.1 module for every GBCS DER payload (X.680 notation, implicit tagging as GBCS uses).
GBCS_ASN1_MODULE: Final = """
GBCS-Payloads DEFINITIONS IMPLICIT TAGS ::= BEGIN

-- Shared types

EntityIdentifier ::= OCTET STRING (SIZE (8))
KeyIdentifier ::= OCTET STRING
FirmwareVersion ::= OCTET STRING
SeqNumber ::= INTEGER (0..18446744073709551615)
AlertCode ::= INTEGER (0..65535)
-- An X.509 certificate or a PKCS #10 request, carried whole (its own DER, signed as is).
Certificate ::= ANY
CertificationRequest ::= ANY

RemotePartyRole ::= INTEGER { root(0), recovery(1), supplier(2), networkOperator(3),
    accessControlBroker(4), transitionalCoS(5), wanProvider(6), issuingAuthority(7),
    loadController(8), other(127) } (0..127)
KeyUsage ::= BIT STRING { digitalSignature(0), nonRepudiation(1), keyEncipherment(2),
    dataEncipherment(3), keyAgreement(4), keyCertSign(5), cRLSign(6), encipherOnly(7),
    decipherOnly(8) }
CellUsage ::= INTEGER { management(0), prePaymentTopUp(1) } (0..127)
StatusCode ::= ENUMERATED { success(0), badCertificate(5), noTrustAnchor(10),
    insufficientMemory(17), trustAnchorNotFound(25), resourcesBusy(30), other(127) }
DeviceType ::= INTEGER { gsme(0), esme(1), chf(2), gpf(3), hcalcs(4), ppmid(5), type2(6) }
    (0..127)
JoinResponseCode ::= INTEGER (0..127)

TrustAnchorCellIdentifier ::= SEQUENCE {
    remotePartyRole RemotePartyRole,
    keyUsage KeyUsage,
    cellUsage CellUsage DEFAULT 0 }

DeviceLogEntry ::= SEQUENCE {
    deviceId EntityIdentifier,
    deviceType DeviceType }

-- CS02a / CS02f Provide Security Credential Details

ProvideSecurityCredentialDetailsCommand ::= SEQUENCE {
    authorisingRemotePartyTaCellIdentifier TrustAnchorCellIdentifier,
    remotePartyRolesCredentialsRequired SEQUENCE OF RemotePartyRole }

ProvideSecurityCredentialDetailsResponse ::= SEQUENCE OF RemotePartyDetails

RemotePartyDetails ::= SEQUENCE {
    remotePartyRole RemotePartyRole,
    statusCode StatusCode,
    currentSeqNumber SeqNumber OPTIONAL,
    trustAnchorCellDetails SEQUENCE OF TrustAnchorCellContents OPTIONAL }

TrustAnchorCellContents ::= SEQUENCE {
    keyUsage KeyUsage,
    cellUsage CellUsage DEFAULT 0,
    subjectUniqueId EntityIdentifier,
    subjectKeyIdentifier KeyIdentifier }

-- CS02b / CS02g Update Security Credentials

UpdateSecurityCredentialsCommand ::= SEQUENCE {
    authorisingRemotePartyControl AuthorisingRemotePartyControl,
    replacements SEQUENCE OF TrustAnchorReplacement,
    certificationPathCertificates SEQUENCE OF Certificate,
    executionDateTime GeneralizedTime OPTIONAL }

AuthorisingRemotePartyControl ::= SEQUENCE {
    credentialsReplacementMode CredentialsReplacementMode,
    plaintextSymmetricKey [0] OCTET STRING OPTIONAL,
    applyTimeBasedCpvChecks [1] INTEGER { apply(0), disapply(1) } (0..127) OPTIONAL,
    authorisingRemotePartyTaCellIdentifier [2] TrustAnchorCellIdentifier OPTIONAL,
    authorisingRemotePartySeqNumber [3] SeqNumber,
    newRemotePartyFloorSeqNumber [4] SeqNumber OPTIONAL,
    newRemotePartySpecialistFloorSeqNumbers [5] SEQUENCE OF SpecialistSeqNumber OPTIONAL,
    otherRemotePartySeqNumberChanges [6] SEQUENCE OF RemotePartySeqNumberChange OPTIONAL }

CredentialsReplacementMode ::= INTEGER { rootBySupplier(0), rootByWanProvider(1),
    supplierBySupplier(2), networkOperatorByNetworkOperator(3),
    accessControlBrokerByAccessControlBroker(4), wanProviderByWanProvider(5),
    transCoSByTransCoS(6), supplierByTransCoS(7), anyExceptAbnormalRootByRecovery(8),
    anyByContingency(9), loadControllerByLoadController(10), loadControllerBySupplier(11) }
    (0..127)

SpecialistSeqNumber ::= SEQUENCE {
    seqNumberUsage INTEGER { prePaymentTopUp(0) } (0..127),
    seqNumber SeqNumber }

RemotePartySeqNumberChange ::= SEQUENCE {
    remotePartyRole RemotePartyRole,
    floorSeqNumber SeqNumber,
    specialistFloorSeqNumbers SEQUENCE OF SpecialistSeqNumber OPTIONAL }

TrustAnchorReplacement ::= SEQUENCE {
    replacingCertificate Certificate,
    targetTrustAnchorCell TrustAnchorCellIdentifier }

UpdateSecurityCredentialsResponse ::= SEQUENCE {
    commandAccepted NULL,
    executionOutcome UpdateSecurityCredentialsExecutionOutcome OPTIONAL }

UpdateSecurityCredentialsExecutionOutcome ::= SEQUENCE {
    authorisingRemotePartySeqNumber SeqNumber,
    credentialsReplacementMode CredentialsReplacementMode,
    remotePartySeqNumberChanges SEQUENCE OF RemotePartySeqNumberChange,
    replacementOutcomes SEQUENCE OF ReplacementOutcome }

ReplacementOutcome ::= SEQUENCE {
    affectedTrustAnchorCell TrustAnchorCellIdentifier,
    statusCode StatusCode,
    existingSubjectUniqueId EntityIdentifier,
    existingSubjectKeyIdentifier KeyIdentifier,
    replacingSubjectUniqueId EntityIdentifier,
    replacingSubjectKeyIdentifier KeyIdentifier }

UpdateSecurityCredentialsAlert ::= SEQUENCE {
    alertCode AlertCode,
    executionDateTime GeneralizedTime,
    executionOutcome UpdateSecurityCredentialsExecutionOutcome }

-- CS02c Issue Security Credentials, CS02d / CS02e device certificates

IssueSecurityCredentialsCommand ::= SEQUENCE { keyUsage KeyUsage }
IssueSecurityCredentialsResponseCode ::= INTEGER { invalidKeyUsage(1),
    keyPairGenerationFailed(2), crProductionFailed(3) } (0..127)
UpdateDeviceCertificateCommand ::= Certificate
UpdateDeviceCertificateResponse ::= INTEGER (0..127)
ProvideDeviceCertificateCommand ::= SEQUENCE { keyUsage KeyUsage }
ProvideDeviceCertificateResponseCode ::= INTEGER { invalidKeyUsage(1), noCertificateHeld(2),
    certificateRetrievalFailure(3) } (0..127)

-- CS03 Join, CS04 Unjoin, CS07 Read Device Join Details

JoinDeviceCommand ::= SEQUENCE {
    joinMethodAndRole INTEGER { methodAInitiator(0), methodAResponder(1), methodB(2),
        methodC(3) } (0..127),
    otherDeviceEntityIdentifier EntityIdentifier,
    otherDeviceType DeviceType,
    otherDeviceKeyAgreementCertificate Certificate OPTIONAL }
JoinDeviceResponse ::= JoinResponseCode
UnjoinDeviceCommand ::= EntityIdentifier
UnjoinDeviceResponse ::= INTEGER { success(0), notInDeviceLog(1), otherFailure(2) } (0..127)
ReadDeviceJoinDetailsCommand ::= NULL
ReadDeviceJoinDetailsResponse ::= SEQUENCE {
    responseCode INTEGER { success(0), readFailure(1) } (0..127),
    deviceLogEntries SEQUENCE OF DeviceLogEntry OPTIONAL }

-- GCS28 Set Clock on GSME, GCS59 Restore / GCS62 Backup GPF Device Log

SetClockCommand ::= SEQUENCE {
    validityIntervalStart GeneralizedTime,
    validityIntervalEnd GeneralizedTime }
SetClockResponse ::= SEQUENCE {
    deviceTime GeneralizedTime,
    deviceTimeStatus INTEGER { reliable(0), invalid(1), unreliable(2) } (0..127) }
RestoreGpfDeviceLogCommand ::= SEQUENCE { deviceLogEntries SEQUENCE OF DeviceLogEntry }
RestoreGpfDeviceLogResponse ::= SEQUENCE { restoreOutcomes SEQUENCE OF RestoreOutcome }
RestoreOutcome ::= SEQUENCE {
    deviceLogEntry DeviceLogEntry,
    joinResponseCode JoinResponseCode }
GpfDeviceLogBackupAlert ::= SEQUENCE {
    alertCode AlertCode,
    backupDateTime GeneralizedTime,
    deviceLogEntries SEQUENCE OF DeviceLogEntry }

-- CS06 Activate Firmware, CS08 / CS09 PPMID-HCALCS firmware, CCS08 Firmware Transfer

ActivateFirmwareCommand ::= SEQUENCE {
    manufacturerImageHash OCTET STRING (SIZE (32)),
    originatorCounter SeqNumber,
    executionDateTime GeneralizedTime OPTIONAL }
-- ActivateFirmwareResponse ::= CHOICE { commandAccepted NULL,
--     executionOutcome ActivateFirmwareExecutionOutcome }, told apart by the first byte
CommandAccepted ::= NULL
ActivateFirmwareExecutionOutcome ::= SEQUENCE {
    responseCode INTEGER { success(0), noImageHeld(1), hashMismatch(2),
        activationFailure(3) } (0..127),
    firmwareVersion FirmwareVersion }
ActivateFirmwareAlert ::= SEQUENCE {
    alertCode AlertCode,
    executionDateTime GeneralizedTime,
    originatorCounter SeqNumber,
    executionOutcome ActivateFirmwareExecutionOutcome }
ReadFirmwareVersionCommand ::= NULL
ReadFirmwareVersionResponse ::= SEQUENCE {
    firmwareVersion FirmwareVersion,
    responseCode INTEGER { readSuccess(0), readFailure(1) } (0..127) }
FirmwareActivationAlert ::= SEQUENCE {
    alertCode AlertCode,
    executionDateTime GeneralizedTime,
    firmwareVersion FirmwareVersion,
    activateImageResponse INTEGER { success(0), failure(1) } (0..127) }
FirmwareTransferAlert ::= SEQUENCE {
    alertCode AlertCode,
    executionDateTime GeneralizedTime,
    entityId EntityIdentifier,
    firmwareVersion FirmwareVersion,
    responseCode INTEGER { success(0), imageDiscarded(1), hardwareVersionMismatch(2),
        fileTransferFailure(3) } (0..127) }

END
"""

_SNAKE: Final = re.compile(r"(?<=[a-z0-9])([A-Z])")

#: asn1tools raises its own ``Error`` tree, and a few plain ones for malformed content
#: (a month 13 in a GeneralizedTime reaches ``datetime``). All become our DecodeError.
_LIBRARY_ERRORS: Final[tuple[type[BaseException], ...]] = (
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    OverflowError,
)


@functools.cache
def _parsed() -> Any:
    """Parse the module text once (pyparsing: ~250 ms; importing asn1tools: ~80 ms)."""
    import asn1tools  # type: ignore[import-untyped]

    return asn1tools.parse_string(GBCS_ASN1_MODULE)


@functools.cache
def _compiled(codec: str) -> Any:
    """The module compiled for ``codec`` on first use (~15 ms from the parsed form).

    Decoding uses asn1tools' BER codec and encoding its DER codec: its DER decoder loops
    forever, growing memory, on a SEQUENCE OF whose element has the wrong tag (asn1tools
    0.169), while the BER decoder checks every tag. BER is the more lenient reading, so
    :meth:`Asn1Payload.decode_exact` accepts only input that the DER encoder gives back.
    """
    import asn1tools

    # compile_dict may annotate the parsed tree: give each codec its own copy
    return asn1tools.compile_dict(copy.deepcopy(_parsed()), codec, numeric_enums=True)


@functools.cache
def _error_types() -> tuple[type[BaseException], ...]:
    import asn1tools

    return (asn1tools.Error, *_LIBRARY_ERRORS)


def decode_value(type_name: str, data: bytes, *, path: str) -> Any:
    """Decode ``data`` as the whole of one ASN.1 type; asn1tools' plain Python value.

    Reads BER (a superset of DER): the caller checks that the input was DER.

    :raises DecodeError: malformed BER, a constraint broken, or bytes left over.
    """
    spec = _compiled("ber")
    try:
        value, used = spec.decode_with_length(type_name, data, check_constraints=True)
    except _error_types() as exc:
        offset = getattr(exc, "offset", None)
        reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        raise DecodeError(
            str(reason),
            path=_error_path(path, type_name, str(getattr(exc, "location_str", ""))),
            offset=offset if isinstance(offset, int) else None,
        ) from exc
    if used != len(data):
        raise DecodeError(
            f"expected end of data, got {len(data) - used} more bytes", path=path, offset=used
        )
    return value


def _error_path(path: str, type_name: str, where: str) -> str:
    """``path`` + the library's member path (outermost first) in our snake_case field names."""
    parts = [p for p in where.split(".") if p and p != type_name]
    return ".".join([path, *(_SNAKE.sub(r"_\1", p).lower() for p in parts)])


def encode_value(type_name: str, value: Any, *, path: str) -> bytes:
    """Encode one ASN.1 value in canonical DER.

    :raises LocalProtocolError: the value breaks the module's constraints or shapes.
    """
    try:
        return bytes(_compiled("der").encode(type_name, value, check_constraints=True))
    except _error_types() as exc:
        raise LocalProtocolError(f"{path}: cannot encode: {exc}") from exc


# -- Length forms ---------------------------------------------------------------------------
# Elements are numbered in pre-order over the TLV tree (the outermost element is 0); the
# contents of a constructed element are walked only when they parse exactly as elements,
# so opaque certificates are walked the same way on both sides.

_MAX_LENGTH_OCTETS: Final = 4


def _minimal_length_octets(length: int) -> int:
    """Octets after ``0x8N`` in the shortest form (0 for the one-byte short form)."""
    return 0 if length < 0x80 else (length.bit_length() + 7) // 8


def _length_bytes(length: int, octets: int) -> bytes:
    if octets == 0:
        return bytes((length,))
    return bytes((0x80 | octets,)) + length.to_bytes(octets, "big")


def _elements(data: bytes) -> list[tuple[int, int, int, int, int]] | None:
    """Split ``data`` into elements, or None if it does not split exactly.

    :returns: per element (tag start, tag end, contents start, contents end, length octets).
    """
    out: list[tuple[int, int, int, int, int]] = []
    pos, end = 0, len(data)
    while pos < end:
        start = pos
        if data[pos] & 0x1F == 0x1F:  # high tag number form
            pos += 1
            while pos < end and data[pos] & 0x80:
                pos += 1
        pos += 1
        if pos >= end:
            return None
        tag_end = pos
        first = data[pos]
        pos += 1
        octets = 0
        if first < 0x80:
            length = first
        else:
            octets = first & 0x7F
            if octets == 0 or octets > _MAX_LENGTH_OCTETS or pos + octets > end:
                return None
            length = int.from_bytes(data[pos : pos + octets], "big")
            pos += octets
        if pos + length > end:
            return None
        out.append((start, tag_end, pos, pos + length, octets))
        pos += length
    return out


def length_forms(data: bytes) -> tuple[tuple[int, int], ...]:
    """Elements of ``data`` whose length is longer than the shortest form.

    :returns: ``(pre-order index, length octets after the 0x8N byte)`` pairs, in order.
    """
    found: list[tuple[int, int]] = []
    counter = 0

    def walk(buf: bytes) -> None:
        nonlocal counter
        for start, _tag_end, content, end, octets in _elements(buf) or ():
            index = counter
            counter += 1
            if octets != _minimal_length_octets(end - content):
                found.append((index, octets))
            if buf[start] & 0x20:
                inner = buf[content:end]
                if _elements(inner) is not None:
                    walk(inner)

    walk(data)
    return tuple(found)


def apply_length_forms(der: bytes, forms: tuple[tuple[int, int], ...], *, path: str) -> bytes:
    """Rewrite the lengths of canonical ``der`` in the forms recorded by :func:`length_forms`.

    :raises LocalProtocolError: a recorded form is too short for its length, or names an
        element that is not there.
    """
    if not forms:
        return der
    wanted = dict(forms)
    counter = 0

    def rebuild(buf: bytes) -> bytes:
        nonlocal counter
        parts: list[bytes] = []
        for start, tag_end, content, end, _octets in _elements(buf) or ():
            index = counter
            counter += 1
            body = buf[content:end]
            if buf[start] & 0x20 and _elements(body) is not None:
                body = rebuild(body)
            octets = wanted.pop(index, None)
            if octets is None:
                octets = _minimal_length_octets(len(body))
            elif not 0 < octets <= _MAX_LENGTH_OCTETS or len(body) >> (8 * octets):
                raise LocalProtocolError(
                    f"{path}: element {index} cannot carry length {len(body)} "
                    f"in {octets} length octets"
                )
            parts.append(buf[start:tag_end])
            parts.append(_length_bytes(len(body), octets))
            parts.append(body)
        return b"".join(parts)

    out = rebuild(der)
    if wanted:
        raise LocalProtocolError(f"{path}: no elements {sorted(wanted)} to give length forms")
    return out

