"""A failed credential store (a fault at the use case): CS02b-e answer their failure codes."""

from __future__ import annotations

import pytest
from cryptography import x509

from smemu.devices.keys import Pki, issue_certificate
from smemu.firmware import credentials_use_cases as cu
from smemu.firmware.common import faults
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.machine import BootEvent, DeviceType
from smemu.firmware.credentials_update import MODES
from smemu.protocols.asn1 import (
    Asn1Payload,
    IssueSecurityCredentialsCommand,
    IssueSecurityCredentialsResponse,
    ProvideDeviceCertificateCommand,
    ProvideDeviceCertificateResponse,
    UpdateDeviceCertificateCommand,
    UpdateDeviceCertificateResponse,
    UpdateSecurityCredentialsCommand,
    UpdateSecurityCredentialsResponse,
)
from smemu.protocols.asn1.credentials import (
    AuthorisingRemotePartyControl,
    CredentialsReplacementMode,
    IssueSecurityCredentialsResponseCode,
    ProvideDeviceCertificateResponseCode,
    TrustAnchorReplacement,
    UpdateDeviceCertificateResponseCode,
)
from smemu.protocols.asn1.values import (
    Certificate,
    KeyUsage,
    RemotePartyRole,
    StatusCode,
    TrustAnchorCellIdentifier,
)
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.keys import private_key_from_scalar
from tests.firmware._asn1 import answer, send
from tests.firmware._support import ESME, T0, booted, make_pki

DS, KA = KeyUsage.DIGITAL_SIGNATURE, KeyUsage.KEY_AGREEMENT
CA = private_key_from_scalar(0xCA)
NEW_SUPPLIER = Eui64.parse("90-B3-D5-1F-30-05-00-00")
CS02B_SUPPLIER = 0x0102


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki") / "keys")


def _faulty(pki: Pki, *codes: int) -> CommandMachine:
    """A booted ESME whose parts behind ``codes`` a lab broke with the power off."""
    esme = booted(pki, ESME, DeviceType.ESME)
    found = [faults.Fault(faults.FaultKind.HARDWARE, faults.UseCasePoint(c)) for c in codes]
    esme = type(esme)(esme.eui, {**esme.nvm, **faults.image(found)})
    esme.step(BootEvent(), T0)
    return esme


def _ask(
    machine: CommandMachine, pki: Pki, code: int, counter: int, command: Asn1Payload
) -> object:
    """Send ``command`` (use case ``code``); the typed payload of the response."""
    return answer(send(machine, pki, code, counter, command), pki.keystore)[1]


def test_every_credential_use_case_is_faultable() -> None:
    assert {cu.CS02C, cu.CS02D, cu.CS02E} <= cu.FAULTABLE_USE_CASES
    assert {mode.code for mode in MODES.values()} <= cu.FAULTABLE_USE_CASES
    assert cu.CS02A not in cu.FAULTABLE_USE_CASES  # details: no store failure code modelled


def test_cs02c_with_a_failed_key_store_produces_no_request_and_keeps_no_key(pki: Pki) -> None:
    esme = _faulty(pki, cu.CS02C)
    out = _ask(esme, pki, cu.CS02C, 51, IssueSecurityCredentialsCommand(DS))
    code = IssueSecurityCredentialsResponseCode.CR_PRODUCTION_FAILED
    assert out == IssueSecurityCredentialsResponse(response_code=code)
    assert cu.PENDING[DS] not in esme.nvm
    # the command's own content is still checked first
    bad = _ask(esme, pki, cu.CS02C, 52, IssueSecurityCredentialsCommand(DS | KA))
    code = IssueSecurityCredentialsResponseCode.INVALID_KEY_USAGE
    assert bad == IssueSecurityCredentialsResponse(response_code=code)


def test_cs02c_fault_does_not_touch_cs02e(pki: Pki) -> None:
    esme = _faulty(pki, cu.CS02C)
    out = _ask(esme, pki, cu.CS02E, 53, ProvideDeviceCertificateCommand(DS))
    assert isinstance(out, ProvideDeviceCertificateResponse) and out.certificate is not None


def test_cs02e_with_a_failed_certificate_store_answers_retrieval_failure(pki: Pki) -> None:
    esme = _faulty(pki, cu.CS02E)
    out = _ask(esme, pki, cu.CS02E, 54, ProvideDeviceCertificateCommand(KA))
    code = ProvideDeviceCertificateResponseCode.CERTIFICATE_RETRIEVAL_FAILURE
    assert out == ProvideDeviceCertificateResponse(response_code=code)


def test_cs02d_with_a_failed_certificate_store_installs_nothing(pki: Pki) -> None:
    esme = _faulty(pki, cu.CS02D)
    _ask(esme, pki, cu.CS02C, 55, IssueSecurityCredentialsCommand(DS))
    pending = esme.nvm[cu.PENDING[DS]]
    old_ds, old_cert = esme.nvm["cred/ds"], esme.nvm.get(cu.OWN_CERT[DS])
    key = private_key_from_scalar(pending)
    good = Certificate(issue_certificate(CA, key.public_key(), ESME))
    out = _ask(esme, pki, cu.CS02D, 56, UpdateDeviceCertificateCommand(good))
    codes = UpdateDeviceCertificateResponseCode
    assert out == UpdateDeviceCertificateResponse(codes.CERTIFICATE_STORAGE_FAILED)
    assert esme.nvm["cred/ds"] == old_ds and esme.nvm.get(cu.OWN_CERT[DS]) == old_cert
    assert esme.nvm[cu.PENDING[DS]] == pending  # still awaiting its certificate
    # a certificate the checks refuse is refused as ever, before the store is touched
    bad = _ask(esme, pki, cu.CS02D, 57, UpdateDeviceCertificateCommand(Certificate(b"\x30\x00")))
    assert bad == UpdateDeviceCertificateResponse(codes.INVALID_CERTIFICATE)


def _cert(eui: Eui64, scalar: int, ka: bool) -> Certificate:
    key = private_key_from_scalar(scalar)
    der = issue_certificate(CA, key.public_key(), eui, role=Role.SUPPLIER, key_agreement=ka)
    return Certificate(der)


def test_cs02b_with_a_failed_trust_anchor_store_replaces_nothing(pki: Pki) -> None:
    esme = _faulty(pki, CS02B_SUPPLIER)
    old = esme.credentials.anchor(Role.SUPPLIER)
    ds_cell = TrustAnchorCellIdentifier(RemotePartyRole.SUPPLIER, DS)
    ka_cell = TrustAnchorCellIdentifier(RemotePartyRole.SUPPLIER, KA)
    command = UpdateSecurityCredentialsCommand(
        AuthorisingRemotePartyControl(
            CredentialsReplacementMode.SUPPLIER_BY_SUPPLIER,
            80,
            authorising_remote_party_ta_cell_identifier=ds_cell,
            new_remote_party_floor_seq_number=100,
        ),
        (
            TrustAnchorReplacement(_cert(NEW_SUPPLIER, 0x5151, False), ds_cell),
            TrustAnchorReplacement(_cert(NEW_SUPPLIER, 0x5252, True), ka_cell),
        ),
        (),
    )
    payload = _ask(esme, pki, CS02B_SUPPLIER, 80, command)
    assert isinstance(payload, UpdateSecurityCredentialsResponse)
    outcome = payload.execution_outcome
    assert outcome is not None
    assert [o.status_code for o in outcome.replacement_outcomes] == [StatusCode.NO_TRUST_ANCHOR] * 2
    for o in outcome.replacement_outcomes:  # every cell still holds its existing anchor
        assert o.replacing_subject_unique_id == o.existing_subject_unique_id == old.eui  # type: ignore[union-attr]
        assert o.replacing_subject_key_identifier == o.existing_subject_key_identifier
    assert esme.credentials.anchor(Role.SUPPLIER) == old
    assert "cred/seq/supplier" not in esme.nvm  # the authorising number was not used


def test_clearing_the_faults_repairs_the_store(pki: Pki) -> None:
    esme = _faulty(pki, cu.CS02C, cu.CS02E)
    out = _ask(esme, pki, cu.CS02E, 58, ProvideDeviceCertificateCommand(DS))
    assert isinstance(out, ProvideDeviceCertificateResponse) and out.certificate is None
    cleared = type(esme)(esme.eui, faults.clear(esme.nvm))
    cleared.step(BootEvent(), T0)
    ok = _ask(cleared, pki, cu.CS02E, 59, ProvideDeviceCertificateCommand(DS))
    assert isinstance(ok, ProvideDeviceCertificateResponse) and ok.certificate is not None
    x509.load_der_x509_certificate(bytes(ok.certificate))
