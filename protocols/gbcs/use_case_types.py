"""Types of the GBCS use-case registry: device types, remote-party roles, criticality, payloads.

Layer: protocols (sans-IO). The table itself is :mod:`smemu.protocols.gbcs.use_cases`; this
module holds the vocabulary it is written in. The protection a use case needs follows from
its Message Type (GBCS Use Case volume, "Use Case cross references"; gbcs-reference.md 3.5):
critical commands are signed by the remote party and MAC'd by the access control broker,
their responses signed by the device; non-critical messages carry a MAC only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final


class Device(enum.StrEnum):
    """Device types a use case targets (or, for an alert, the device that sends it)."""

    ESME = "ESME"  #: electricity smart metering equipment
    GSME = "GSME"  #: gas smart metering equipment
    CHF = "CHF"  #: communications hub function
    GPF = "GPF"  #: gas proxy function (in the comms hub; mirrors the GSME)
    PPMID = "PPMID"  #: prepayment meter interface device
    HCALCS = "HCALCS"  #: HAN connected auxiliary load control switch


class Role(enum.StrEnum):
    """Remote-party roles the Use Case volume lists under "Use Case access permissions"."""

    SUPPLIER = "supplier"
    NETWORK_OPERATOR = "network-operator"
    ACCESS_CONTROL_BROKER = "access-control-broker"
    LOAD_CONTROLLER = "load-controller"


class Kind(enum.StrEnum):
    """Who starts the exchange: a remote-party command, a device alert, or a HAN-only message."""

    COMMAND = "command"  #: Message Type SME.C.*: a command and its response
    ALERT = "alert"  #: Message Type SME.A.*: a device-originated alert
    HAN = "han"  #: "HAN Only Message" (PPMID/HCALCS to a meter over the HAN)


class Criticality(enum.StrEnum):
    """GBCS criticality of the use case's messages."""

    CRITICAL = "critical"
    NON_CRITICAL = "non-critical"


class PayloadFamily(enum.StrEnum):
    """How the payload inside the grouping header is encoded (gbcs-reference.md 7.1)."""

    DLMS = "dlms"  #: DLMS/COSEM access-request / access-response / data-notification
    GBZ = "gbz"  #: GBZ container of ZigBee Smart Energy ZCL commands
    ASN1 = "asn1"  #: ASN.1 DER (credentials, join / unjoin, firmware, device logs)


@dataclass(frozen=True, slots=True)
class Security:
    """Which parts of a use case's messages are protected, and how."""

    signed: bool  #: the command (or the alert) carries a digital signature
    mac: bool  #: the command (or the alert) carries a MAC (it travels in a MAC header)
    response_signed: bool  #: the response is signed by the device (critical commands)
    response_mac: bool  #: the response carries a MAC (non-critical commands)
    encrypted: bool  #: sensitive data in the response (or alert) is encrypted (GBCS 4.3.3.5)


@dataclass(frozen=True, slots=True)
class PayloadClasses:
    """The typed payload classes of one family, as ``"module:attribute"`` import strings.

    DLMS and GBZ payloads decode into one container class per family whose items are typed
    by object / cluster; ASN.1 payloads have one schema class per use case and direction.
    """

    family: PayloadFamily
    command: str | None  #: class of the command payload (None: the use case has none)
    response: str | None  #: class of the response payload
    alert: str | None  #: class of the alert payload (alerts, future-dated outcome alerts)


#: The typed payload container of the DLMS and GBZ families.
FAMILY_CLASSES: Final[dict[PayloadFamily, str]] = {
    PayloadFamily.DLMS: "smemu.protocols.dlms.views:DlmsPayload",
    PayloadFamily.GBZ: "smemu.protocols.zigbee:GbzPayload",
}

_ASN1: Final = "smemu.protocols.asn1:"

#: ASN.1 schema classes per use case: (command, response, alert), GBCS section 13 / 11 / 9.
ASN1_CLASSES: Final[dict[str, tuple[str | None, str | None, str | None]]] = {
    "CS02a": ("ProvideSecurityCredentialDetailsCommand", "ProvideSecurityCredentialDetailsResponse", None),  # noqa: E501
    "CS02f": ("ProvideSecurityCredentialDetailsCommand", "ProvideSecurityCredentialDetailsResponse", None),  # noqa: E501
    "CS02b": ("UpdateSecurityCredentialsCommand", "UpdateSecurityCredentialsResponse", "UpdateSecurityCredentialsAlert"),  # noqa: E501
    "CS02g": ("UpdateSecurityCredentialsCommand", "UpdateSecurityCredentialsResponse", "UpdateSecurityCredentialsAlert"),  # noqa: E501
    "CS02c": ("IssueSecurityCredentialsCommand", "IssueSecurityCredentialsResponse", None),
    "CS02d": ("UpdateDeviceCertificateCommand", "UpdateDeviceCertificateResponse", None),
    "CS02e": ("ProvideDeviceCertificateCommand", "ProvideDeviceCertificateResponse", None),
    "CS03A1": ("JoinDeviceCommand", "JoinDeviceResponse", None),
    "CS03A2": ("JoinDeviceCommand", "JoinDeviceResponse", None),
    "CS03B": ("JoinDeviceCommand", "JoinDeviceResponse", None),
    "CS03C": ("JoinDeviceCommand", "JoinDeviceResponse", None),
    "CS04AC": ("UnjoinDeviceCommand", "UnjoinDeviceResponse", None),
    "CS04B": ("UnjoinDeviceCommand", "UnjoinDeviceResponse", None),
    "CS06": ("ActivateFirmwareCommand", "ActivateFirmwareResponse", "ActivateFirmwareAlert"),
    "CS07": ("ReadDeviceJoinDetailsCommand", "ReadDeviceJoinDetailsResponse", None),
    "CS08": ("ReadFirmwareVersionCommand", "ReadFirmwareVersionResponse", None),
    "CS09": (None, None, "FirmwareActivationAlert"),
    "CCS08": (None, None, "FirmwareTransferAlert"),
    "GCS28": ("SetClockCommand", "SetClockResponse", None),
    "GCS59": ("RestoreGpfDeviceLogCommand", "RestoreGpfDeviceLogResponse", None),
    "GCS62": (None, None, "GpfDeviceLogBackupAlert"),
    "FDFAA": (None, None, "ActivateFirmwareAlert"),
    "FDUSCA": (None, None, "UpdateSecurityCredentialsAlert"),
}


@dataclass(frozen=True, slots=True)
class UseCase:
    """One GBCS use case, as the Use Case volume (or GBCS itself) describes it.

    ``None`` in a field means the source does not say (for example the roles of use cases the
    volume defers to the GBCS main body, "See GBCS").
    """

    id: str  #: use case id in spec spelling, e.g. ``ECS17b``
    name: str  #: use case title
    message_codes: tuple[int, ...]  #: the message codes (Other Information) it uses
    kind: Kind  #: command (and response), alert, or HAN-only message
    message_type: str | None  #: Message Type as the volume spells it, e.g. ``SME.C.NC``
    criticality: Criticality | None  #: critical / non-critical (None: GBCS main body)
    devices: tuple[Device, ...]  #: target device types (the sender, for alerts)
    roles: tuple[Role, ...] | None  #: remote-party roles allowed to send it (() for none)
    future_dated: bool | None  #: "Capable of Future Dated Invocation"
    replay_protected: bool | None  #: "Protection Against Replay required"
    update: bool | None  #: "Read or Update" is Update
    response_to_other_party: bool | None  #: "Response Recipient Different than Command Sender"
    service_reference: str | None  #: DCC User Interface service reference, e.g. ``4.1``
    families: tuple[PayloadFamily, ...]  #: payload encodings (two for generic alerts)
    encrypted: bool = False  #: the response or alert carries encrypted sensitive data
    in_volume: bool = True  #: described in the Use Case volume (else GBCS main body / legacy)
    target: str | None = None  #: the volume's "Target" text where it is not a device list

    @property
    def remote_party(self) -> bool:
        """A remote-party message (as opposed to a HAN-only one)."""
        return self.kind is not Kind.HAN

    @property
    def security(self) -> Security | None:
        """The protection of this use case's messages, or None when the criticality is unknown."""
        if self.criticality is None or self.kind is Kind.HAN:
            return None
        critical = self.criticality is Criticality.CRITICAL
        if self.kind is Kind.ALERT:
            return Security(critical, not critical, False, False, self.encrypted)
        return Security(critical, True, critical, not critical, self.encrypted)

    @property
    def payloads(self) -> tuple[PayloadClasses, ...]:
        """The typed payload classes, one entry per payload family."""
        out = []
        for family in self.families:
            if family is PayloadFamily.ASN1:
                command, response, alert = ASN1_CLASSES.get(self.id, (None, None, None))
                out.append(
                    PayloadClasses(family, _asn1(command), _asn1(response), _asn1(alert))
                )
                continue
            name = FAMILY_CLASSES[family]
            if self.kind is Kind.ALERT:
                out.append(PayloadClasses(family, None, None, name))
            else:
                alert = name if self.future_dated else None
                out.append(PayloadClasses(family, name, name, alert))
        return tuple(out)


def _asn1(name: str | None) -> str | None:
    return None if name is None else _ASN1 + name
