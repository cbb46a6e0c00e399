"""DER payloads (GBCS ref. §7.8): hand-written vectors, DER strictness, errors, JSON view."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.asn1 import SCHEMA_TABLE, SCHEMAS, Asn1Payload, decode_typed, schema_for
from smemu.protocols.asn1.credentials import (
    IssueSecurityCredentialsResponse,
    IssueSecurityCredentialsResponseCode,
    ProvideSecurityCredentialDetailsCommand,
    UpdateSecurityCredentialsResponse,
)
from smemu.protocols.asn1.devices import (
    JoinDeviceCommand,
    JoinDeviceResponse,
    JoinMethodAndRole,
    ReadDeviceJoinDetailsCommand,
    SetClockCommand,
    UnjoinDeviceResponse,
    UnjoinResponseCode,
)
from smemu.protocols.asn1.firmware import (
    ActivateFirmwareAlert,
    ActivateFirmwareCommand,
    ActivateFirmwareExecutionOutcome,
    ActivateFirmwareResponse,
    ActivationResponseCode,
)
from smemu.protocols.asn1.values import (
    AlertCode,
    Certificate,
    CertificationRequest,
    DeviceType,
    JoinResponseCode,
    KeyUsage,
    RemotePartyRole,
    TrustAnchorCellIdentifier,
)
from smemu.protocols.gbcs.message_codes import MESSAGE_CODES
from smemu.protocols.gbcs.types import Eui64

EUI = Eui64.parse("11-22-33-44-55-66-77-88")
JOIN_B = "3010 020102 04081122334455667788 020105"


def _golden(cls: type[Asn1Payload], wire: str, expected: Asn1Payload) -> None:
    """The golden triple: decode == object, encode == bytes, and decode_typed agrees."""
    raw = bytes.fromhex(wire)
    assert cls.decode_exact(raw) == expected
    assert expected.encode() == raw


def test_join_command_method_b() -> None:
    _golden(
        JoinDeviceCommand,
        JOIN_B,
        JoinDeviceCommand(JoinMethodAndRole.METHOD_B, EUI, DeviceType.PPMID),
    )


def test_join_command_method_c_carries_the_certificate_whole() -> None:
    cert = Certificate(bytes.fromhex("3003020107"))
    _golden(
        JoinDeviceCommand,
        "3015 020103 04081122334455667788 020101 3003020107",
        JoinDeviceCommand(JoinMethodAndRole.METHOD_C, EUI, DeviceType.ESME, cert),
    )


def test_provide_security_credential_details_command() -> None:
    cell = TrustAnchorCellIdentifier(RemotePartyRole.ACCESS_CONTROL_BROKER, KeyUsage.KEY_AGREEMENT)
    _golden(
        ProvideSecurityCredentialDetailsCommand,
        # cell { role 4, key usage keyAgreement (bit 4: 3 unused bits... 03 02 03 08) }
        "3011 3007 020104 03020308 3006 020102 020103",
        ProvideSecurityCredentialDetailsCommand(
            cell, (RemotePartyRole.SUPPLIER, RemotePartyRole.NETWORK_OPERATOR)
        ),
    )


def test_set_clock_command_times_are_utc() -> None:
    start = datetime(2024, 3, 31, 1, tzinfo=UTC)
    _golden(
        SetClockCommand,
        "3022 180f" + b"20240331010000Z".hex() + "180f" + b"20240331020000Z".hex(),
        SetClockCommand(start, start + timedelta(hours=1)),
    )


def test_activate_firmware_response_alternatives() -> None:
    _golden(ActivateFirmwareResponse, "0500", ActivateFirmwareResponse())
    outcome = ActivateFirmwareExecutionOutcome(ActivationResponseCode.HASH_MISMATCH, b"\x01\x02")
    _golden(ActivateFirmwareResponse, "3007 020102 04020102", ActivateFirmwareResponse(outcome))


def test_alert_code_with_high_bit_keeps_its_leading_zero() -> None:
    outcome = ActivateFirmwareExecutionOutcome(ActivationResponseCode.SUCCESS, b"\xab")
    alert = ActivateFirmwareAlert(
        AlertCode(0x8F66), datetime(2030, 1, 15, 9, tzinfo=UTC), 1001, outcome
    )
    wire = "3022 0203008f66 180f" + b"20300115090000Z".hex() + "020203e9 3006020100 0401ab"
    _golden(ActivateFirmwareAlert, wire, alert)
    assert alert.to_json()["alert_code"] == "8F66"


def test_issue_security_credentials_response_is_a_request_or_a_code() -> None:
    _golden(
        IssueSecurityCredentialsResponse,
        "020102",
        IssueSecurityCredentialsResponse(
            response_code=IssueSecurityCredentialsResponseCode.KEY_PAIR_GENERATION_FAILED
        ),
    )
    request = CertificationRequest(bytes.fromhex("30020500"))
    _golden(
        IssueSecurityCredentialsResponse,
        "30020500",
        IssueSecurityCredentialsResponse(certification_request=request),
    )


def test_key_usage_is_a_minimal_named_bit_string() -> None:
    assert KeyUsage.DIGITAL_SIGNATURE.to_bits() == (b"\x80", 1)
    assert KeyUsage.KEY_CERT_SIGN.to_bits() == (b"\x04", 6)
    assert KeyUsage.DECIPHER_ONLY.to_bits() == (b"\x00\x80", 9)
    assert KeyUsage(0).to_bits() == (b"", 0)
    assert KeyUsage.from_bits(b"\x04", 6) is KeyUsage.KEY_CERT_SIGN
    assert (KeyUsage.DIGITAL_SIGNATURE | KeyUsage.KEY_AGREEMENT).names == [
        "digital_signature",
        "key_agreement",
    ]


# -- long length forms ------------------------------------------------------------------------


def test_long_length_forms_are_kept() -> None:
    # devices answer CS02b with `30 82 00 nn` where DER says `30 nn` (seen in RTDS)
    raw = bytes.fromhex("30820002 0500")
    decoded = UpdateSecurityCredentialsResponse.decode_exact(raw)
    assert decoded.der_length_octets == ((0, 2),)
    assert decoded.execution_outcome is None
    assert decoded.encode() == raw
    canonical = UpdateSecurityCredentialsResponse()
    assert canonical.encode() == bytes.fromhex("30020500")
    assert decoded != canonical  # the wire form is part of the value


def test_long_length_forms_of_nested_elements() -> None:
    raw = bytes.fromhex("3081 11 020102 048108 1122334455667788 020105")
    decoded = JoinDeviceCommand.decode_exact(raw)
    assert decoded.der_length_octets == ((0, 1), (2, 1))
    assert decoded.encode() == raw


def test_a_length_form_too_short_for_its_length_is_refused() -> None:
    cert = Certificate(b"\x30\x82\x01\x00" + bytes(256))
    long_join = JoinDeviceCommand(
        JoinMethodAndRole.METHOD_C, EUI, DeviceType.ESME, cert, der_length_octets=((0, 1),)
    )
    with pytest.raises(LocalProtocolError):  # 273 content bytes do not fit one length octet
        long_join.encode()
    with pytest.raises(LocalProtocolError):  # there is no element 99
        JoinDeviceCommand(
            JoinMethodAndRole.METHOD_B, EUI, DeviceType.PPMID, der_length_octets=((99, 2),)
        ).encode()


# -- what is refused on decode -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "wire", "offset"),
    [
        pytest.param(ReadDeviceJoinDetailsCommand, "050000", 2, id="trailing-bytes"),
        pytest.param(JoinDeviceCommand, "3010 020102 0408112233", None, id="truncated"),
        pytest.param(JoinDeviceCommand, "3110" + JOIN_B[4:], 0, id="wrong-tag"),
        pytest.param(JoinDeviceCommand, "", 0, id="empty"),
        # DER omits a DEFAULT value (cellUsage management)
        pytest.param(
            ProvideSecurityCredentialDetailsCommand,
            "3014 300a 020104 03020308 020100 3006 020102 020103",
            None,
            id="explicit-default",
        ),
        pytest.param(JoinDeviceResponse, "02020005", None, id="non-minimal-integer"),
        # asn1tools' DER decoder loops forever on this one (hence its BER decoder is used)
        pytest.param(
            ProvideSecurityCredentialDetailsCommand,
            "3011 3007 020104 03020308 3006 6d0102 020103",
            None,
            id="mis-tagged-sequence-of-element",
        ),
        pytest.param(
            ProvideSecurityCredentialDetailsCommand,
            "3011 3007 020104 03020080 3006 020102 020103",
            None,
            id="bit-string-trailing-zeros",
        ),
        pytest.param(JoinDeviceResponse, "02010e", None, id="undefined-code"),
        pytest.param(JoinDeviceCommand, "300f 020102 040711223344556677 020105", None, id="eui-7"),
        pytest.param(JoinDeviceCommand, "3080 020102 04081122334455667788 020105 0000", None,
                     id="indefinite-length"),
        pytest.param(
            SetClockCommand,
            "3024 1811" + b"20240331010000.5Z".hex() + "180f" + b"20240331020000Z".hex(),
            None,
            id="fractional-second",
        ),
        pytest.param(
            SetClockCommand,
            "3020 180e" + b"20240331010000".hex() + "180e" + b"20240331020000".hex(),
            None,
            id="local-time",
        ),
        pytest.param(ActivateFirmwareCommand, "3024 041f" + "00" * 31 + "020101", None,
                     id="hash-31-bytes"),
        pytest.param(ActivateFirmwareResponse, "020100", 0, id="no-such-alternative"),
    ],
)
def test_malformed_or_non_der_input_raises_decode_error(
    cls: type[Asn1Payload], wire: str, offset: int | None
) -> None:
    with pytest.raises(DecodeError) as caught:
        cls.decode_exact(bytes.fromhex(wire))
    assert caught.value.path.startswith(cls.schema)
    if offset is not None:
        assert caught.value.offset == offset


def test_library_errors_carry_path_and_offset() -> None:
    with pytest.raises(DecodeError) as caught:
        JoinDeviceCommand.decode_exact(bytes.fromhex("3010 020102 0408112233"))
    assert caught.value.offset is not None
    assert isinstance(caught.value.__cause__, Exception)  # converted with raise ... from


def test_undefined_enumeration_names_the_field() -> None:
    with pytest.raises(DecodeError) as caught:
        JoinDeviceCommand.decode_exact(bytes.fromhex("3010 020109 04081122334455667788 020105"))
    assert caught.value.path == "JoinDeviceCommand.join_method_and_role"


# -- builders ---------------------------------------------------------------------------------


def test_builders_refuse_values_the_schema_does_not_allow() -> None:
    with pytest.raises(LocalProtocolError):  # naive time
        SetClockCommand(datetime(2024, 1, 1), datetime(2024, 1, 2, tzinfo=UTC)).encode()
    with pytest.raises(LocalProtocolError):  # fraction of a second
        SetClockCommand(
            datetime(2024, 1, 1, microsecond=5, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC)
        ).encode()
    with pytest.raises(LocalProtocolError):  # SIZE (32)
        ActivateFirmwareCommand(bytes(31), 1).encode()
    with pytest.raises(LocalProtocolError):  # counters are unsigned
        ActivateFirmwareCommand(bytes(32), -1).encode()
    with pytest.raises(LocalProtocolError):  # both alternatives
        IssueSecurityCredentialsResponse(
            CertificationRequest(b"\x30\x00"),
            IssueSecurityCredentialsResponseCode.INVALID_KEY_USAGE,
        ).encode()
    with pytest.raises(LocalProtocolError):  # neither
        IssueSecurityCredentialsResponse().encode()
    with pytest.raises(LocalProtocolError):  # a plain int where an enumeration is typed
        JoinDeviceResponse(0).encode()  # type: ignore[arg-type]


def test_times_in_other_zones_are_sent_in_utc() -> None:
    bst = datetime(2024, 6, 1, 14, tzinfo=timezone(timedelta(hours=1)))
    command = SetClockCommand(bst, bst)
    decoded = SetClockCommand.decode_exact(command.encode())
    assert decoded.validity_interval_start == datetime(2024, 6, 1, 13, tzinfo=UTC)


# -- registry and dispatch --------------------------------------------------------------------


def test_decode_typed_chooses_by_message_code_and_cra() -> None:
    # `02 01 01` alone could be any INTEGER response: the code and CRA say which
    assert decode_typed(bytes.fromhex("020101"), message_code=0x000F, cra=2) == (
        UnjoinDeviceResponse(UnjoinResponseCode.NOT_IN_DEVICE_LOG)
    )
    assert decode_typed(bytes.fromhex("020101"), message_code=0x00AB, cra=2) == (
        JoinDeviceResponse(JoinResponseCode.INVALID_MESSAGE_CODE_FOR_JOIN_METHOD_AND_ROLE)
    )
    assert schema_for(0x0126, 1) == "UpdateSecurityCredentialsCommand"
    assert schema_for(0x0124, 3) == "UpdateSecurityCredentialsAlert"


@pytest.mark.parametrize(("code", "cra"), [(0x0001, 1), (0x0012, 3), (0x00CA, 1), (0x0008, 7)])
def test_no_schema_is_a_decode_error(code: int, cra: int) -> None:
    with pytest.raises(KeyError):
        schema_for(code, cra)
    with pytest.raises(DecodeError):
        decode_typed(b"\x05\x00", message_code=code, cra=cra)


def test_schema_table_names_known_schemas_and_message_codes() -> None:
    named = {name for row in SCHEMA_TABLE.values() for name in row if name is not None}
    assert named == set(SCHEMAS)
    for code in SCHEMA_TABLE:
        assert code in MESSAGE_CODES, f"0x{code:04X}"
    for name, cls in SCHEMAS.items():
        assert cls.schema == name
        assert cls.family == "asn1"


# -- JSON view --------------------------------------------------------------------------------


def test_json_view_reads_as_people_write_values() -> None:
    join = JoinDeviceCommand.decode_exact(bytes.fromhex(JOIN_B))
    assert join.to_json() == {
        "join_method_and_role": "method_b",
        "other_device_entity_identifier": "11-22-33-44-55-66-77-88",
        "other_device_type": "ppmid",
    }
    start = datetime(2024, 3, 31, 1, tzinfo=UTC)
    assert SetClockCommand(start, start).to_json()["validity_interval_start"] == (
        "2024-03-31T01:00:00Z"
    )
    assert ReadDeviceJoinDetailsCommand().to_json() == {}
    assert json.dumps(ActivateFirmwareResponse().to_json()) == "{}"


def test_certificates_are_summarised() -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TEST")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x1234)
        .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2030, 1, 1, tzinfo=UTC))
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    der = Certificate(cert.public_bytes(serialization.Encoding.DER))
    command = JoinDeviceCommand(JoinMethodAndRole.METHOD_C, EUI, DeviceType.ESME, der)
    decoded = JoinDeviceCommand.decode_exact(command.encode())
    summary = decoded.to_json()["other_device_key_agreement_certificate"]
    assert summary["subject"] == "CN=TEST"
    assert summary["serial"] == "1234"
    assert summary["key_usage"] == ["digital_signature"]
    assert summary["not_before"] == "2020-01-01T00:00:00Z"
    assert bytes.fromhex(summary["der"]) == der
    opaque = JoinDeviceCommand(
        JoinMethodAndRole.METHOD_C, EUI, DeviceType.ESME, Certificate(b"\x30\x00")
    ).to_json()["other_device_key_agreement_certificate"]
    assert "unparsed" in opaque
    assert opaque["der"] == "3000"


def test_importing_the_package_does_not_compile_the_module() -> None:
    code = (
        "import sys; import smemu.protocols.asn1; "
        "assert 'asn1tools' not in sys.modules, 'asn1tools imported eagerly'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_payload_classes_are_importable_from_the_package_by_schema_name() -> None:
    import smemu.protocols.asn1 as package

    for name, cls in SCHEMAS.items():
        assert getattr(package, name) is cls
