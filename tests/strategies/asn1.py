"""Hypothesis strategies generating valid typed DER payloads, one per schema (style rule H32)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar

from hypothesis import strategies as st

from smemu.protocols.asn1 import Asn1Payload
from smemu.protocols.asn1 import credentials as cr
from smemu.protocols.asn1 import devices as dv
from smemu.protocols.asn1 import firmware as fw
from smemu.protocols.asn1.values import (
    AlertCode,
    CellUsage,
    Certificate,
    CertificationRequest,
    DeviceLogEntry,
    DeviceType,
    JoinResponseCode,
    KeyUsage,
    RemotePartyRole,
    StatusCode,
    TrustAnchorCellIdentifier,
)
from smemu.protocols.gbcs.types import Eui64

euis = st.binary(min_size=8, max_size=8).map(Eui64)
seq_numbers = st.integers(0, (1 << 64) - 1)
alert_codes = st.integers(0, 0xFFFF).map(AlertCode)
key_usages = st.integers(0, (1 << 9) - 1).map(KeyUsage)
key_ids = st.binary(max_size=20)
versions = st.binary(max_size=16)
# GeneralizedTime in GBCS: YYYYMMDDhhmmssZ, whole seconds, UTC.
times = st.datetimes(
    min_value=datetime(1950, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)
).map(lambda d: d.replace(microsecond=0, tzinfo=UTC))


def _der_sequence(content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes((n,))
    else:
        size = (n.bit_length() + 7) // 8
        length = bytes((0x80 | size,)) + n.to_bytes(size, "big")
    return b"\x30" + length + content


# Certificates are opaque to the codec: any DER SEQUENCE element will do (sizes cross the
# short, 0x81 and 0x82 length forms).
certificates = (st.binary(max_size=40) | st.binary(min_size=120, max_size=400)).map(
    lambda b: Certificate(_der_sequence(b))
)
requests = st.binary(max_size=300).map(lambda b: CertificationRequest(_der_sequence(b)))


T = TypeVar("T")


def _tuples(elements: st.SearchStrategy[T], max_size: int = 4) -> st.SearchStrategy[tuple[T, ...]]:
    return st.lists(elements, max_size=max_size).map(tuple)


cells = st.builds(
    TrustAnchorCellIdentifier,
    remote_party_role=st.sampled_from(RemotePartyRole),
    key_usage=key_usages,
    cell_usage=st.sampled_from(CellUsage),
)
log_entries = st.builds(DeviceLogEntry, device_id=euis, device_type=st.sampled_from(DeviceType))
specialists = st.builds(
    cr.SpecialistSeqNumber,
    seq_number_usage=st.sampled_from(cr.SeqNumberUsage),
    seq_number=seq_numbers,
)
seq_changes = st.builds(
    cr.RemotePartySeqNumberChange,
    remote_party_role=st.sampled_from(RemotePartyRole),
    floor_seq_number=seq_numbers,
    specialist_floor_seq_numbers=st.none() | _tuples(specialists),
)
controls = st.builds(
    cr.AuthorisingRemotePartyControl,
    credentials_replacement_mode=st.sampled_from(cr.CredentialsReplacementMode),
    authorising_remote_party_seq_number=seq_numbers,
    plaintext_symmetric_key=st.none() | st.binary(max_size=16),
    apply_time_based_cpv_checks=st.none() | st.sampled_from(cr.CpvChecks),
    authorising_remote_party_ta_cell_identifier=st.none() | cells,
    new_remote_party_floor_seq_number=st.none() | seq_numbers,
    new_remote_party_specialist_floor_seq_numbers=st.none() | _tuples(specialists),
    other_remote_party_seq_number_changes=st.none() | _tuples(seq_changes),
)
outcomes = st.builds(
    cr.UpdateSecurityCredentialsExecutionOutcome,
    authorising_remote_party_seq_number=seq_numbers,
    credentials_replacement_mode=st.sampled_from(cr.CredentialsReplacementMode),
    remote_party_seq_number_changes=_tuples(seq_changes),
    replacement_outcomes=_tuples(
        st.builds(
            cr.ReplacementOutcome,
            affected_trust_anchor_cell=cells,
            status_code=st.sampled_from(StatusCode),
            existing_subject_unique_id=euis,
            existing_subject_key_identifier=key_ids,
            replacing_subject_unique_id=euis,
            replacing_subject_key_identifier=key_ids,
        )
    ),
)
activation_outcomes = st.builds(
    fw.ActivateFirmwareExecutionOutcome,
    response_code=st.sampled_from(fw.ActivationResponseCode),
    firmware_version=versions,
)

#: One strategy per schema name (every name of ``SCHEMAS``).
PAYLOADS: dict[str, st.SearchStrategy[Asn1Payload]] = {
    "ProvideSecurityCredentialDetailsCommand": st.builds(
        cr.ProvideSecurityCredentialDetailsCommand,
        authorising_remote_party_ta_cell_identifier=cells,
        remote_party_roles_credentials_required=_tuples(st.sampled_from(RemotePartyRole)),
    ),
    "ProvideSecurityCredentialDetailsResponse": st.builds(
        cr.ProvideSecurityCredentialDetailsResponse,
        remote_party_details=_tuples(
            st.builds(
                cr.RemotePartyDetails,
                remote_party_role=st.sampled_from(RemotePartyRole),
                status_code=st.sampled_from(StatusCode),
                current_seq_number=st.none() | seq_numbers,
                trust_anchor_cell_details=st.none()
                | _tuples(
                    st.builds(
                        cr.TrustAnchorCellContents,
                        key_usage=key_usages,
                        cell_usage=st.sampled_from(CellUsage),
                        subject_unique_id=euis,
                        subject_key_identifier=key_ids,
                    )
                ),
            )
        ),
    ),
    "UpdateSecurityCredentialsCommand": st.builds(
        cr.UpdateSecurityCredentialsCommand,
        authorising_remote_party_control=controls,
        replacements=_tuples(
            st.builds(
                cr.TrustAnchorReplacement,
                replacing_certificate=certificates,
                target_trust_anchor_cell=cells,
            ),
            max_size=3,
        ),
        certification_path_certificates=_tuples(certificates, max_size=3),
        execution_date_time=st.none() | times,
    ),
    "UpdateSecurityCredentialsResponse": st.builds(
        cr.UpdateSecurityCredentialsResponse, execution_outcome=st.none() | outcomes
    ),
    "UpdateSecurityCredentialsAlert": st.builds(
        cr.UpdateSecurityCredentialsAlert,
        alert_code=alert_codes,
        execution_date_time=times,
        execution_outcome=outcomes,
    ),
    "IssueSecurityCredentialsCommand": st.builds(
        cr.IssueSecurityCredentialsCommand, key_usage=key_usages
    ),
    "IssueSecurityCredentialsResponse": st.builds(
        cr.IssueSecurityCredentialsResponse, certification_request=requests
    )
    | st.builds(
        cr.IssueSecurityCredentialsResponse,
        response_code=st.sampled_from(cr.IssueSecurityCredentialsResponseCode),
    ),
    "UpdateDeviceCertificateCommand": st.builds(
        cr.UpdateDeviceCertificateCommand, certificate=certificates
    ),
    "UpdateDeviceCertificateResponse": st.builds(
        cr.UpdateDeviceCertificateResponse,
        response_code=st.sampled_from(cr.UpdateDeviceCertificateResponseCode),
    ),
    "ProvideDeviceCertificateCommand": st.builds(
        cr.ProvideDeviceCertificateCommand, key_usage=key_usages
    ),
    "ProvideDeviceCertificateResponse": st.builds(
        cr.ProvideDeviceCertificateResponse, certificate=certificates
    )
    | st.builds(
        cr.ProvideDeviceCertificateResponse,
        response_code=st.sampled_from(cr.ProvideDeviceCertificateResponseCode),
    ),
    "JoinDeviceCommand": st.builds(
        dv.JoinDeviceCommand,
        join_method_and_role=st.sampled_from(dv.JoinMethodAndRole),
        other_device_entity_identifier=euis,
        other_device_type=st.sampled_from(DeviceType),
        other_device_key_agreement_certificate=st.none() | certificates,
    ),
    "JoinDeviceResponse": st.builds(
        dv.JoinDeviceResponse, response_code=st.sampled_from(JoinResponseCode)
    ),
    "UnjoinDeviceCommand": st.builds(dv.UnjoinDeviceCommand, other_device_entity_identifier=euis),
    "UnjoinDeviceResponse": st.builds(
        dv.UnjoinDeviceResponse, response_code=st.sampled_from(dv.UnjoinResponseCode)
    ),
    "ReadDeviceJoinDetailsCommand": st.just(dv.ReadDeviceJoinDetailsCommand()),
    "ReadDeviceJoinDetailsResponse": st.builds(
        dv.ReadDeviceJoinDetailsResponse,
        response_code=st.sampled_from(dv.ReadResponseCode),
        device_log_entries=st.none() | _tuples(log_entries),
    ),
    "SetClockCommand": st.builds(
        dv.SetClockCommand, validity_interval_start=times, validity_interval_end=times
    ),
    "SetClockResponse": st.builds(
        dv.SetClockResponse,
        device_time=times,
        device_time_status=st.sampled_from(dv.DeviceTimeStatus),
    ),
    "RestoreGpfDeviceLogCommand": st.builds(
        dv.RestoreGpfDeviceLogCommand, device_log_entries=_tuples(log_entries)
    ),
    "RestoreGpfDeviceLogResponse": st.builds(
        dv.RestoreGpfDeviceLogResponse,
        restore_outcomes=_tuples(
            st.builds(
                dv.RestoreOutcome,
                device_log_entry=log_entries,
                join_response_code=st.sampled_from(JoinResponseCode),
            )
        ),
    ),
    "GpfDeviceLogBackupAlert": st.builds(
        dv.GpfDeviceLogBackupAlert,
        alert_code=alert_codes,
        backup_date_time=times,
        device_log_entries=_tuples(log_entries),
    ),
    "ActivateFirmwareCommand": st.builds(
        fw.ActivateFirmwareCommand,
        manufacturer_image_hash=st.binary(min_size=32, max_size=32),
        originator_counter=seq_numbers,
        execution_date_time=st.none() | times,
    ),
    "ActivateFirmwareResponse": st.builds(
        fw.ActivateFirmwareResponse, execution_outcome=st.none() | activation_outcomes
    ),
    "ActivateFirmwareAlert": st.builds(
        fw.ActivateFirmwareAlert,
        alert_code=alert_codes,
        execution_date_time=times,
        originator_counter=seq_numbers,
        execution_outcome=activation_outcomes,
    ),
    "ReadFirmwareVersionCommand": st.just(fw.ReadFirmwareVersionCommand()),
    "ReadFirmwareVersionResponse": st.builds(
        fw.ReadFirmwareVersionResponse,
        firmware_version=versions,
        response_code=st.sampled_from(fw.FirmwareReadResponseCode),
    ),
    "FirmwareActivationAlert": st.builds(
        fw.FirmwareActivationAlert,
        alert_code=alert_codes,
        execution_date_time=times,
        firmware_version=versions,
        activate_image_response=st.sampled_from(fw.ActivateImageResponse),
    ),
    "FirmwareTransferAlert": st.builds(
        fw.FirmwareTransferAlert,
        alert_code=alert_codes,
        execution_date_time=times,
        entity_id=euis,
        firmware_version=versions,
        response_code=st.sampled_from(fw.FirmwareTransferResponseCode),
    ),
}

#: Any valid typed DER payload.
asn1_payloads = st.sampled_from(sorted(PAYLOADS)).flatmap(lambda name: PAYLOADS[name])
