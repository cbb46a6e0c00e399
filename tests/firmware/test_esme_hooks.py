"""ESME behaviour around its edges: signed-only credential commands, the mains supply line,
and the fixed-length arrays of a fresh meter's model."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smemu.devices.keys import Pki
from smemu.firmware import credentials_use_cases as cu
from smemu.firmware import esme
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import DeviceType, LineEvent, MessageEvent, Step
from smemu.firmware.cosem_model import default_value
from smemu.protocols.asn1 import (
    IssueSecurityCredentialsCommand,
    ProvideSecurityCredentialDetailsCommand,
    ProvideSecurityCredentialDetailsResponse,
)
from smemu.protocols.asn1.values import (
    KeyUsage,
    RemotePartyRole,
    StatusCode,
    TrustAnchorCellIdentifier,
)
from smemu.protocols.dlms import apdu
from smemu.protocols.dlms.apdu import parse_obis
from smemu.protocols.dlms.data import Array, LongUnsigned, Structure
from smemu.protocols.dlms.objects import objects_for
from smemu.protocols.gbcs import frame
from tests.firmware._asn1 import answer
from tests.firmware._support import ESME, T0, booted, command, make_pki

DS = KeyUsage.DIGITAL_SIGNATURE


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki") / "keys")


def _signed_only(pki: Pki, code: int, counter: int, payload: bytes, role: Role) -> bytes:
    """The command as a bare general-signing message: signed, no MAC header."""
    data = command(pki, ESME, code, counter, payload, sign=True, role=role)
    inner = frame.signing_message(frame.locate(data).message)
    assert inner is not None and inner.signature
    return inner.encode()


def _han(machine: CommandMachine, data: bytes) -> Step:
    return machine.step(MessageEvent("han", HanFrame(TunnelCommand.PUT, data).encode()), T0)


def test_signed_only_credential_details_are_answered(pki: Pki) -> None:
    machine = booted(pki, ESME, DeviceType.ESME)
    assert isinstance(machine, esme.EsmeMachine)
    details = ProvideSecurityCredentialDetailsCommand(
        TrustAnchorCellIdentifier(RemotePartyRole.SUPPLIER, DS), (RemotePartyRole.SUPPLIER,)
    )
    data = _signed_only(pki, cu.CS02F, 10, details.encode(), Role.SUPPLIER)
    inner, payload = answer(_han(machine, data), pki.keystore)
    assert inner.signature  # a signed answer
    assert isinstance(payload, ProvideSecurityCredentialDetailsResponse)


@pytest.mark.parametrize(
    ("code", "payload", "role"),
    [
        # CS02c is not one of the signed-only use cases
        (cu.CS02C, IssueSecurityCredentialsCommand(DS).encode(), Role.SUPPLIER),
        # CS02b by signature alone only from the Recovery party
        (0x0102, b"\x30\x00", Role.SUPPLIER),
    ],
)
def test_other_commands_without_mac_are_dropped(
    pki: Pki, code: int, payload: bytes, role: Role
) -> None:
    machine = booted(pki, ESME, DeviceType.ESME)
    before = dict(machine.nvm)
    step = _han(machine, _signed_only(pki, code, 20, payload, role))
    assert not step.sends
    changed = {k for k in machine.nvm if machine.nvm[k] != before.get(k)}
    assert not any(k.startswith(("cred/", "anchor/", "ctr/")) for k in changed)


def _alerts(step: Step) -> list[frame.GeneralSigningMessage]:
    out = []
    for sent in step.sends:
        inner = frame.signing_message(frame.locate(decode_han(sent.data).message).message)
        assert inner is not None
        out.append(inner)
    return out


@pytest.mark.parametrize(("minutes", "alerted"), [(2, False), (3, True), (45, True)])
def test_supply_outage_restored_alert(pki: Pki, minutes: int, alerted: bool) -> None:
    machine = booted(pki, ESME, DeviceType.ESME)
    lost = machine.step(LineEvent(esme.POWER, False), T0 + timedelta(hours=1))
    assert not lost.sends
    back = machine.step(LineEvent(esme.POWER, True), T0 + timedelta(hours=1, minutes=minutes))
    alerts = _alerts(back)
    if not alerted:
        assert alerts == []
        return
    [alert] = alerts
    assert alert.message_code == esme.ECS80_OUTAGE_RESTORE
    assert alert.header.recipient == pki.remote_parties[Role.NETWORK_OPERATOR]
    assert alert.signature  # ECS80 is a critical alert
    body = apdu.decode_exact(alert.payload)
    assert isinstance(body, apdu.DataNotificationMessage)
    assert isinstance(body.body, Structure) and len(body.body.items) == 4
    assert body.body.items[0] == LongUnsigned(esme.ALERT_OUTAGE_RESTORED)
    # a second restoration without a new loss raises nothing
    again = machine.step(LineEvent(esme.POWER, True), T0 + timedelta(hours=3))
    assert _alerts(again) == []


@pytest.mark.parametrize(
    ("use_case", "obis", "length"),
    [
        ("ECS24", "0-0:16.0.11.255", 3),  # block thresholds of TOU rate 1
        ("ECS26f", "0-0:16.0.0.255", 2),  # instantaneous power thresholds
    ],
)
def test_gbcs_fixed_arrays_hold_their_full_length(use_case: str, obis: str, length: int) -> None:
    rows = [r for r in objects_for(use_case) or () if r.obis == parse_obis(obis)]
    value = default_value(rows[0])
    assert isinstance(value, Array) and len(value.items) == length


def test_price_tables_hold_every_price() -> None:
    rows = [
        r
        for r in objects_for("ECS24b") or ()
        if r.obis == parse_obis("0-0:19.20.5.255") and r.index == 5
    ]
    value = default_value(rows[0])
    assert isinstance(value, Structure)
    table = value.items[2]
    assert isinstance(table, Array) and len(table.items) == 4


def test_meter_reports_no_wan_provider_cell(pki: Pki) -> None:
    machine = booted(pki, ESME, DeviceType.ESME)
    assert isinstance(machine, esme.EsmeMachine)
    asked = (RemotePartyRole.WAN_PROVIDER, RemotePartyRole.TRANSITIONAL_COS)
    details = ProvideSecurityCredentialDetailsCommand(
        TrustAnchorCellIdentifier(RemotePartyRole.SUPPLIER, DS), asked
    )
    data = _signed_only(pki, cu.CS02F, 30, details.encode(), Role.SUPPLIER)
    _, payload = answer(_han(machine, data), pki.keystore)
    assert isinstance(payload, ProvideSecurityCredentialDetailsResponse)
    wan, transcos = payload.remote_party_details
    assert wan.status_code is StatusCode.TRUST_ANCHOR_NOT_FOUND
    assert transcos.status_code is StatusCode.OTHER
    assert wan.trust_anchor_cell_details is None and transcos.trust_anchor_cell_details is None
