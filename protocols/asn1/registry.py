"""Which DER schema a GBCS message carries, by message code and CRA flag; decode by it.

Layer: protocols (sans-IO). One literal table (style rule C15): the use cases whose payload
is ASN.1 DER (gbcs-reference §7.1, §7.8) and the schema of their command, response and alert.
Several ASN.1 responses start with bytes that other families could claim (``02 01 00``), so
the schema is always chosen by message code and CRA, never by sniffing.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from smemu.errors import DecodeError
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

COMMAND: Final = 1
RESPONSE: Final = 2
ALERT: Final = 3

_CLASSES: Final[tuple[type[Asn1Payload], ...]] = (
    ProvideSecurityCredentialDetailsCommand,
    ProvideSecurityCredentialDetailsResponse,
    UpdateSecurityCredentialsCommand,
    UpdateSecurityCredentialsResponse,
    UpdateSecurityCredentialsAlert,
    IssueSecurityCredentialsCommand,
    IssueSecurityCredentialsResponse,
    UpdateDeviceCertificateCommand,
    UpdateDeviceCertificateResponse,
    ProvideDeviceCertificateCommand,
    ProvideDeviceCertificateResponse,
    JoinDeviceCommand,
    JoinDeviceResponse,
    UnjoinDeviceCommand,
    UnjoinDeviceResponse,
    ReadDeviceJoinDetailsCommand,
    ReadDeviceJoinDetailsResponse,
    SetClockCommand,
    SetClockResponse,
    RestoreGpfDeviceLogCommand,
    RestoreGpfDeviceLogResponse,
    GpfDeviceLogBackupAlert,
    ActivateFirmwareCommand,
    ActivateFirmwareResponse,
    ActivateFirmwareAlert,
    ReadFirmwareVersionCommand,
    ReadFirmwareVersionResponse,
    FirmwareActivationAlert,
    FirmwareTransferAlert,
)

#: Schema name (the ASN.1 type name) -> payload class.
SCHEMAS: Final[Mapping[str, type[Asn1Payload]]] = MappingProxyType(
    {cls.schema: cls for cls in _CLASSES}
)

_CS02B: Final = ("UpdateSecurityCredentialsCommand", "UpdateSecurityCredentialsResponse", None)
_JOIN: Final = ("JoinDeviceCommand", "JoinDeviceResponse", None)
_UNJOIN: Final = ("UnjoinDeviceCommand", "UnjoinDeviceResponse", None)
_CS02A: Final = (
    "ProvideSecurityCredentialDetailsCommand",
    "ProvideSecurityCredentialDetailsResponse",
    None,
)

#: Message code -> (command schema, response schema, alert schema); None where GBCS has none.
SCHEMA_TABLE: Final[Mapping[int, tuple[str | None, str | None, str | None]]] = MappingProxyType(
    {
        0x0008: _CS02A,  # CS02a Provide Security Credential Details
        0x000A: ("IssueSecurityCredentialsCommand", "IssueSecurityCredentialsResponse", None),
        0x000B: ("UpdateDeviceCertificateCommand", "UpdateDeviceCertificateResponse", None),
        0x000C: ("ProvideDeviceCertificateCommand", "ProvideDeviceCertificateResponse", None),
        0x000D: _JOIN,  # CS03A1 Method A Join (Meter)
        0x000E: _JOIN,  # CS03B Method B Join
        0x000F: _UNJOIN,  # CS04AC Method A or C Unjoin
        0x0010: _UNJOIN,  # CS04B Method B Unjoin
        0x0012: ("ActivateFirmwareCommand", "ActivateFirmwareResponse", None),  # CS06
        0x0013: ("ReadDeviceJoinDetailsCommand", "ReadDeviceJoinDetailsResponse", None),  # CS07
        0x007F: ("SetClockCommand", "SetClockResponse", None),  # GCS28
        0x008C: ("RestoreGpfDeviceLogCommand", "RestoreGpfDeviceLogResponse", None),  # GCS59
        0x00AB: _JOIN,  # CS03A2 Method A Join (non Meter)
        0x00AF: _JOIN,  # CS03C Method C Join
        0x00B2: (None, None, "GpfDeviceLogBackupAlert"),  # GCS62
        0x00CA: (None, None, "ActivateFirmwareAlert"),  # future-dated CS06 outcome
        0x00CB: (None, None, "UpdateSecurityCredentialsAlert"),  # future-dated CS02b outcome
        0x0100: _CS02B,  # CS02b rootBySupplier
        0x0101: _CS02B,  # CS02b rootByWanProvider
        0x0102: _CS02B,  # CS02b supplierBySupplier
        0x0103: _CS02B,  # CS02b networkOperatorByNetworkOperator
        0x0104: _CS02B,  # CS02b accessControlBrokerByACB
        0x0105: _CS02B,  # CS02b wanProviderByWanProvider
        0x0106: _CS02B,  # CS02b transCoSByTransCoS
        0x0107: _CS02B,  # CS02b supplierByTransCoS
        0x0108: _CS02B,  # CS02b anyExceptAbnormalRootByRecovery
        0x0109: _CS02B,  # CS02b anyByContingency
        0x011B: _CS02A,  # CS02f Provide Security Credential Details (ESME and SAPC)
        0x0124: (None, None, "UpdateSecurityCredentialsAlert"),  # future-dated CS02g outcome
        0x0125: _CS02B,  # CS02g loadControllerByLoadController
        0x0126: _CS02B,  # CS02g loadControllerBySupplier
        0x0128: (None, None, "FirmwareTransferAlert"),  # CCS08
        0x0129: ("ReadFirmwareVersionCommand", "ReadFirmwareVersionResponse", None),  # CS08
        0x012B: (None, None, "FirmwareActivationAlert"),  # CS09
    }
)


def schema_for(message_code: int, cra: int) -> str:
    """The schema name of the payload of a message with this code and CRA flag (1, 2, 3).

    :raises KeyError: the message code has no DER payload in that direction.
    """
    row = SCHEMA_TABLE.get(message_code)
    name = row[cra - 1] if row is not None and cra in (COMMAND, RESPONSE, ALERT) else None
    if name is None:
        raise KeyError(f"no ASN.1 payload for message code 0x{message_code:04X} with CRA {cra}")
    return name


def decode_typed(payload: bytes, *, message_code: int, cra: int) -> Asn1Payload:
    """Decode the general-signing content of a GBCS message whose payload is DER.

    :param payload: the whole payload (the grouping header's content).
    :param message_code: the message code from Other Information.
    :param cra: the CRA flag (1 command, 2 response, 3 alert).
    :returns: the typed payload; ``encode()`` gives ``payload`` back byte for byte.
    :raises DecodeError: no DER schema for this code and CRA, or bytes that do not decode
        as its schema (with the field path and byte offset).
    """
    try:
        name = schema_for(message_code, cra)
    except KeyError as exc:
        raise DecodeError(exc.args[0], path="asn1", offset=0) from None
    return SCHEMAS[name].decode_exact(payload)
