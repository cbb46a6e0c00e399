"""DER payloads: security credentials, join / unjoin, firmware and device logs (GBCS §7.8).

Layer: protocols (sans-IO). ``decode_typed(payload, message_code=, cra=)`` returns a frozen
dataclass per schema (``SCHEMAS``, chosen by ``schema_for``) that encodes back byte for byte.

Library choice: asn1tools (MIT, pure Python). It compiles ASN.1 module *text*, so the GBCS
definitions live here as one readable module (``_der.GBCS_ASN1_MODULE``, our transcription of
the structures) rather than as classes, and it encodes and decodes DER including implicit
tags, OPTIONAL / DEFAULT members, SIZE and range constraints. pyasn1 needs the definitions
re-expressed as Python classes and asn1crypto covers PKI formats only, not GBCS's own
structures. asn1tools is parsed lazily, once (~80 ms import, ~250 ms parse, ~15 ms per codec):
its BER decoder reads (its DER decoder can loop forever on a mis-tagged SEQUENCE OF element)
and its DER encoder writes; input is accepted only if re-encoding gives it back. What it lacks
we add: typed dataclasses over its dict values, errors as ``DecodeError`` with path and offset,
rejection of non-DER input, and the one deviation the reference vectors show: device
responses that send lengths in a longer form than needed (``30 82 00 83``). Those forms are
recorded in ``der_length_octets`` and reproduced, so re-encoding gives the signed bytes back.
"""

from __future__ import annotations

from smemu.protocols.asn1.base import Asn1Payload
from smemu.protocols.asn1.credentials import (
    IssueSecurityCredentialsCommand,
    IssueSecurityCredentialsResponse,
    ProvideDeviceCertificateCommand,
    ProvideDeviceCertificateResponse,
    ProvideSecurityCredentialDetailsCommand,
    ProvideSecurityCredentialDetailsResponse,
    UpdateDeviceCertificateCommand,
    UpdateDeviceCertificateResponse,
    UpdateSecurityCredentialsAlert,
    UpdateSecurityCredentialsCommand,
    UpdateSecurityCredentialsResponse,
)
from smemu.protocols.asn1.devices import (
    GpfDeviceLogBackupAlert,
    JoinDeviceCommand,
    JoinDeviceResponse,
    ReadDeviceJoinDetailsCommand,
    ReadDeviceJoinDetailsResponse,
    RestoreGpfDeviceLogCommand,
    RestoreGpfDeviceLogResponse,
    SetClockCommand,
    SetClockResponse,
    UnjoinDeviceCommand,
    UnjoinDeviceResponse,
)
from smemu.protocols.asn1.firmware import (
    ActivateFirmwareAlert,
    ActivateFirmwareCommand,
    ActivateFirmwareResponse,
    FirmwareActivationAlert,
    FirmwareTransferAlert,
    ReadFirmwareVersionCommand,
    ReadFirmwareVersionResponse,
)
from smemu.protocols.asn1.registry import SCHEMA_TABLE, SCHEMAS, decode_typed, schema_for

#: The payload classes are importable from here by their schema name (``SCHEMAS`` keys).
__all__ = [
    "SCHEMAS",
    "SCHEMA_TABLE",
    "ActivateFirmwareAlert",
    "ActivateFirmwareCommand",
    "ActivateFirmwareResponse",
    "Asn1Payload",
    "FirmwareActivationAlert",
    "FirmwareTransferAlert",
    "GpfDeviceLogBackupAlert",
    "IssueSecurityCredentialsCommand",
    "IssueSecurityCredentialsResponse",
    "JoinDeviceCommand",
    "JoinDeviceResponse",
    "ProvideDeviceCertificateCommand",
    "ProvideDeviceCertificateResponse",
    "ProvideSecurityCredentialDetailsCommand",
    "ProvideSecurityCredentialDetailsResponse",
    "ReadDeviceJoinDetailsCommand",
    "ReadDeviceJoinDetailsResponse",
    "ReadFirmwareVersionCommand",
    "ReadFirmwareVersionResponse",
    "RestoreGpfDeviceLogCommand",
    "RestoreGpfDeviceLogResponse",
    "SetClockCommand",
    "SetClockResponse",
    "UnjoinDeviceCommand",
    "UnjoinDeviceResponse",
    "UpdateDeviceCertificateCommand",
    "UpdateDeviceCertificateResponse",
    "UpdateSecurityCredentialsAlert",
    "UpdateSecurityCredentialsCommand",
    "UpdateSecurityCredentialsResponse",
    "decode_typed",
    "schema_for",
]
