"""Security credentials on the ESME: CS02a/f details, CS02b/g anchor replacement, CS02c/d/e."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography import x509

from smemu.devices.keys import Pki, issue_certificate
from smemu.firmware import credentials_use_cases as cu
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.han import HanFrame, TunnelCommand
from smemu.firmware.common.machine import DeviceType, MessageEvent
from smemu.hil.demo import action, build_command, dlms_request
from smemu.protocols.asn1 import (
    IssueSecurityCredentialsCommand,
    IssueSecurityCredentialsResponse,
    ProvideDeviceCertificateCommand,
    ProvideDeviceCertificateResponse,
    ProvideSecurityCredentialDetailsCommand,
    ProvideSecurityCredentialDetailsResponse,
    UpdateDeviceCertificateCommand,
    UpdateDeviceCertificateResponse,
    UpdateSecurityCredentialsCommand,
    UpdateSecurityCredentialsResponse,
)
from smemu.protocols.asn1.credentials import (
    AuthorisingRemotePartyControl,
    CredentialsReplacementMode,
    TrustAnchorReplacement,
    UpdateDeviceCertificateResponseCode,
)
from smemu.protocols.asn1.values import (
    CellUsage,
    Certificate,
    KeyUsage,
    RemotePartyRole,
    StatusCode,
    TrustAnchorCellIdentifier,
)
from smemu.protocols.dlms.data import LongUnsigned
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.keys import PrivateKey, private_key_from_scalar, public_point
from smemu.protocols.security.keystore import InMemoryKeyStore, KeyKind
from tests.firmware._asn1 import answer, send
from tests.firmware._support import ESME, T0, booted, make_pki

DS, KA = KeyUsage.DIGITAL_SIGNATURE, KeyUsage.KEY_AGREEMENT
CA = private_key_from_scalar(0xCA)
NEW_SUPPLIER = Eui64.parse("90-B3-D5-1F-30-05-00-00")
NEW_DS = private_key_from_scalar(0x5151)
NEW_KA = private_key_from_scalar(0x5252)
CS02B_SUPPLIER = 0x0102


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki") / "keys")


def _cert(key: PrivateKey, eui: Eui64, role: Role | None, ka: bool) -> Certificate:
    """A certificate over ``key``'s public half, issued by the test CA :data:`CA`."""
    return Certificate(issue_certificate(CA, key.public_key(), eui, role=role, key_agreement=ka))


def test_cs02a_reports_held_anchors_and_unknown_roles(pki: Pki) -> None:
    esme = booted(pki, ESME, DeviceType.ESME)
    asked = (RemotePartyRole.SUPPLIER, RemotePartyRole.TRANSITIONAL_COS)
    cmd = ProvideSecurityCredentialDetailsCommand(
        TrustAnchorCellIdentifier(RemotePartyRole.SUPPLIER, DS), asked
    )
    for code, sign in ((cu.CS02A, True), (cu.CS02F, False)):
        inner, payload = answer(send(esme, pki, code, 40 + code, cmd, sign=sign), pki.keystore)
        assert bool(inner.signature) is sign  # answered in the form it was asked in
        assert isinstance(payload, ProvideSecurityCredentialDetailsResponse)
        supplier, transcos = payload.remote_party_details
        assert supplier.status_code is StatusCode.SUCCESS
        assert supplier.trust_anchor_cell_details is not None
        # management DS and KA cells, and the supplier's prepayment top-up KA cell
        cells = supplier.trust_anchor_cell_details
        assert [c.key_usage for c in cells] == [DS, KA, KA]
        assert cells[2].cell_usage is CellUsage.PREPAYMENT_TOP_UP
        assert {c.subject_unique_id for c in supplier.trust_anchor_cell_details} == {
            pki.remote_parties[Role.SUPPLIER]
        }
        assert transcos.status_code is StatusCode.OTHER
        assert transcos.trust_anchor_cell_details is None


def test_cs02c_then_cs02d_installs_a_new_key_and_cs02e_returns_it(pki: Pki) -> None:
    esme = booted(pki, ESME, DeviceType.ESME)
    _, provisioned = answer(
        send(esme, pki, cu.CS02E, 50, ProvideDeviceCertificateCommand(DS)), pki.keystore
    )
    # the device holds the certificate its PKI issued for its DS key (provisioning)
    assert isinstance(provisioned, ProvideDeviceCertificateResponse)
    assert provisioned.certificate is not None
    issued_cert = x509.load_der_x509_certificate(bytes(provisioned.certificate))
    assert public_point(issued_cert.public_key()) == public_point(  # type: ignore[arg-type]
        private_key_from_scalar(esme.nvm["cred/ds"])
    )
    _, issued = answer(
        send(esme, pki, cu.CS02C, 51, IssueSecurityCredentialsCommand(DS)), pki.keystore
    )
    assert isinstance(issued, IssueSecurityCredentialsResponse)
    assert issued.certification_request is not None
    csr = x509.load_der_x509_csr(bytes(issued.certification_request))
    assert csr.is_signature_valid
    old_ds = esme.nvm["cred/ds"]
    assert esme.nvm[cu.PENDING[DS]] != old_ds

    def cert_for(key: PrivateKey, eui: Eui64, ka: bool) -> Certificate:
        return _cert(key, eui, None, ka)

    pending_key = private_key_from_scalar(esme.nvm[cu.PENDING[DS]])
    codes = UpdateDeviceCertificateResponseCode
    cases = [
        (Certificate(b"\x30\x03\x02\x01\x00"), codes.INVALID_CERTIFICATE),
        (cert_for(pending_key, Eui64(bytes(8)), False), codes.WRONG_DEVICE_IDENTITY),
        (cert_for(NEW_DS, ESME, False), codes.WRONG_PUBLIC_KEY),
    ]
    for n, (cert, expected) in enumerate(cases):
        _, out = answer(
            send(esme, pki, cu.CS02D, 60 + n, UpdateDeviceCertificateCommand(cert)), pki.keystore
        )
        assert out == UpdateDeviceCertificateResponse(expected)
        assert esme.nvm["cred/ds"] == old_ds
    good = cert_for(pending_key, ESME, False)
    _, ok = answer(
        send(esme, pki, cu.CS02D, 70, UpdateDeviceCertificateCommand(good)), pki.keystore
    )
    assert ok == UpdateDeviceCertificateResponse(codes.SUCCESS)
    assert esme.nvm["cred/ds"] != old_ds and cu.PENDING[DS] not in esme.nvm
    _, held = answer_with_new_device_key(esme, pki, pending_key)
    assert held == ProvideDeviceCertificateResponse(certificate=good)


def answer_with_new_device_key(esme: object, pki: Pki, device_ds: object) -> tuple[object, object]:
    """CS02e after the device's DS key changed: verify with the new key."""
    store = InMemoryKeyStore()
    for eui in pki.keystore.euis():
        for kind in (KeyKind.DS, KeyKind.KA):
            pub = pki.keystore.public_key(eui, kind)
            if pub is not None and not (eui == bytes(ESME) and kind is KeyKind.DS):
                store.add_public_key(eui, kind, pub)
    store.add_public_key(ESME, KeyKind.DS, device_ds.public_key())  # type: ignore[attr-defined]
    return answer(send(esme, pki, cu.CS02E, 71, ProvideDeviceCertificateCommand(DS)), store)  # type: ignore[arg-type]


def _supplier_cert(key: PrivateKey, *, ka: bool) -> Certificate:
    return _cert(key, NEW_SUPPLIER, Role.SUPPLIER, ka)


def _replacement(
    pki: Pki, seq: int, code_mode: CredentialsReplacementMode, cert: Certificate | None = None
) -> UpdateSecurityCredentialsCommand:
    cell = TrustAnchorCellIdentifier(RemotePartyRole.SUPPLIER, DS)
    return UpdateSecurityCredentialsCommand(
        AuthorisingRemotePartyControl(
            code_mode, seq,
            authorising_remote_party_ta_cell_identifier=cell,
            new_remote_party_floor_seq_number=100,
        ),
        (
            TrustAnchorReplacement(cert or _supplier_cert(NEW_DS, ka=False), cell),
            TrustAnchorReplacement(
                _cert(NEW_KA, NEW_SUPPLIER, Role.SUPPLIER, True),
                TrustAnchorCellIdentifier(RemotePartyRole.SUPPLIER, KA),
            ),
        ),
        (),
    )  # fmt: skip


def _new_supplier_store(pki: Pki) -> InMemoryKeyStore:
    acb = pki.remote_parties[Role.ACCESS_CONTROL_BROKER]
    store = InMemoryKeyStore()
    store.add_private_key(NEW_SUPPLIER, KeyKind.DS, NEW_DS)
    store.add_private_key(NEW_SUPPLIER, KeyKind.KA, NEW_KA)
    store.add_private_key(acb, KeyKind.KA, pki.keystore.ka_private(acb))  # type: ignore[arg-type]
    store.add_public_key(ESME, KeyKind.KA, pki.keystore.ka_public(ESME))  # type: ignore[arg-type]
    return store


def _open_switch(
    store: InMemoryKeyStore, originator: Eui64, acb: Eui64, counter: int
) -> MessageEvent:
    data = build_command(
        store, originator=originator, recipient=ESME, code=0x0050, counter=counter,
        payload=dlms_request(counter, action(9, "0-0:10.0.106.255", 1, LongUnsigned(52))),
        sign=True, acb=acb,
    )  # fmt: skip
    return MessageEvent("han", HanFrame(TunnelCommand.PUT, data).encode())


def test_cs02b_supplier_by_supplier_switches_trust_to_the_new_supplier(pki: Pki) -> None:
    esme = booted(pki, ESME, DeviceType.ESME)
    old = pki.remote_parties[Role.SUPPLIER]
    inner, payload = answer(
        send(
            esme,
            pki,
            CS02B_SUPPLIER,
            80,
            _replacement(pki, 80, CredentialsReplacementMode.SUPPLIER_BY_SUPPLIER),
        ),
        pki.keystore,
    )
    assert inner.signature and inner.header.date_time is not None
    assert isinstance(payload, UpdateSecurityCredentialsResponse) and payload.execution_outcome
    outcome = payload.execution_outcome
    assert [o.status_code for o in outcome.replacement_outcomes] == [StatusCode.SUCCESS] * 2
    assert {o.existing_subject_unique_id for o in outcome.replacement_outcomes} == {old}
    assert {o.replacing_subject_unique_id for o in outcome.replacement_outcomes} == {NEW_SUPPLIER}
    assert esme.credentials.anchor(Role.SUPPLIER).eui == NEW_SUPPLIER  # type: ignore[union-attr]
    acb = pki.remote_parties[Role.ACCESS_CONTROL_BROKER]
    # the old supplier's signature no longer counts; the new one's does (above its floor)
    assert (
        esme.step(_open_switch(pki.keystore, old, acb, 500), T0).sends == ()
        or esme.nvm["esme/supply"][-1] == 1
    )
    assert esme.nvm["esme/supply"][-1] == 1
    assert esme.step(_open_switch(_new_supplier_store(pki), NEW_SUPPLIER, acb, 50), T0).sends == ()
    assert esme.nvm["esme/supply"][-1] == 1  # 50 is below the floor of 100
    esme.step(_open_switch(_new_supplier_store(pki), NEW_SUPPLIER, acb, 101), T0)
    assert esme.nvm["esme/supply"][-1] == 0


@pytest.mark.parametrize("case", ["mode", "bad-cert", "replay"])
def test_cs02b_refusals_change_nothing(pki: Pki, case: str) -> None:
    esme = booted(pki, ESME, DeviceType.ESME)
    mode = CredentialsReplacementMode.SUPPLIER_BY_SUPPLIER
    if case == "replay":  # a first, good replacement uses authorising sequence number 90
        old = pki.remote_parties[Role.SUPPLIER]
        same = _replacement(
            pki,
            90,
            mode,
            _cert(pki.keystore.ds_private(old), old, Role.SUPPLIER, False),
        )  # type: ignore[arg-type]
        same = UpdateSecurityCredentialsCommand(
            same.authorising_remote_party_control, same.replacements[:1], ()
        )
        _, first = answer(send(esme, pki, CS02B_SUPPLIER, 90, same), pki.keystore)
        assert first.execution_outcome.replacement_outcomes[0].status_code is StatusCode.SUCCESS  # type: ignore[attr-defined]
    before = {k: v for k, v in esme.nvm.items() if k.startswith(("anchor/", "cred/"))}
    cmd = {
        "mode": _replacement(
            pki, 91, CredentialsReplacementMode.NETWORK_OPERATOR_BY_NETWORK_OPERATOR
        ),
        "bad-cert": _replacement(
            pki, 91, mode, _cert(NEW_KA, NEW_SUPPLIER, Role.SUPPLIER, True)
        ),
        "replay": _replacement(pki, 90, mode),
    }[case]
    _, payload = answer(send(esme, pki, CS02B_SUPPLIER, 200, cmd), pki.keystore)
    assert isinstance(payload, UpdateSecurityCredentialsResponse) and payload.execution_outcome
    assert StatusCode.SUCCESS not in {
        o.status_code for o in payload.execution_outcome.replacement_outcomes
    }
    assert {k: v for k, v in esme.nvm.items() if k.startswith(("anchor/", "cred/"))} == before


def test_cs02b_future_dated_runs_at_its_time(pki: Pki) -> None:
    from smemu.firmware.common.machine import TimerEvent
    from smemu.protocols.asn1 import UpdateSecurityCredentialsAlert
    from tests.firmware._asn1 import HOUR, messages

    esme = booted(pki, ESME, DeviceType.ESME)
    cmd = _replacement(pki, 80, CredentialsReplacementMode.SUPPLIER_BY_SUPPLIER)
    cmd = UpdateSecurityCredentialsCommand(
        cmd.authorising_remote_party_control, cmd.replacements, (), T0 + HOUR
    )
    _, payload = answer(send(esme, pki, CS02B_SUPPLIER, 80, cmd), pki.keystore)
    assert payload == UpdateSecurityCredentialsResponse()
    assert esme.credentials.anchor(Role.SUPPLIER).eui != NEW_SUPPLIER  # type: ignore[union-attr]
    [alert] = messages(esme.step(TimerEvent("future"), T0 + HOUR))
    assert alert.message_code == 0x00CB
    typed = UpdateSecurityCredentialsAlert.decode_exact(alert.payload)
    assert typed.alert_code == 0x8F66
    assert esme.credentials.anchor(Role.SUPPLIER).eui == NEW_SUPPLIER  # type: ignore[union-attr]
    assert datetime(2025, 1, 6, 1, tzinfo=UTC) == typed.execution_date_time


def test_modes_cover_every_cs02b_and_cs02g_code() -> None:
    from smemu.firmware.credentials_update import MODES

    assert sorted(m.code for m in MODES.values()) == [*range(0x0100, 0x010A), 0x0125, 0x0126]
    assert set(cu.HANDLERS) >= {0x0008, 0x000A, 0x000B, 0x000C, 0x011B, 0x0125}
    assert public_point(NEW_DS.public_key()) != public_point(NEW_KA.public_key())
