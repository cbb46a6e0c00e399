"""Replay with re-keying over the reference corpus: re-verifies with new keys, keeps payloads."""

from __future__ import annotations

from pathlib import Path

import pytest

from smemu.firmware.common.credentials import Role
from smemu.hil.headend import HeadEnd, roles_from_keystore
from smemu.hil.replay import UPDATE_DEVICE_CERTIFICATE, Replayer, ReplayError
from smemu.protocols import utrn
from smemu.protocols.dlms import apdu, protection
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.frame import GeneralSigningMessage, MacProtectedMessage, payload_family
from smemu.protocols.gbcs.secure import Verdict
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.keystore import DirectoryKeyStore, InMemoryKeyStore, KeyKind
from smemu.protocols.text import parse_message_text

DUT = Eui64.parse("00-11-22-33-44-55-66-77")


World = tuple[DirectoryKeyStore, dict[Eui64, int], InMemoryKeyStore, dict[int, Eui64]]


@pytest.fixture(scope="module")
def world(keystore_dir: Path) -> World:
    reference = DirectoryKeyStore.load(keystore_dir)
    roles = roles_from_keystore(keystore_dir)
    ours = InMemoryKeyStore()
    parties: dict[int, Eui64] = {}
    for n, role in enumerate(sorted(set(roles.values()))):
        eui = Eui64(bytes.fromhex(f"A0B0C0D0E0F0{n:04X}"))
        parties[role] = eui
        for kind in KeyKind:
            ours.generate_key(eui, kind)
    ours.generate_key(DUT, KeyKind.DS)
    ours.generate_key(DUT, KeyKind.KA)
    return reference, roles, ours, parties


def _commands(rtds_dir: Path) -> list[Path]:
    return sorted(rtds_dir.rglob("*COMMAND_GBCS.HEX"))  # COMMAND and PRECOMMAND


def _read(path: Path) -> bytes:
    return parse_message_text(path.read_text())[0]


def test_every_reference_command_rekeys_and_reverifies(rtds_dir: Path, world: World) -> None:
    reference, roles, ours, parties = world
    head_end = HeadEnd(ours, parties)
    forward = Replayer(head_end, reference, roles)
    our_acb = parties[Role.ACCESS_CONTROL_BROKER]
    ref_acb = next(e for e, r in roles.items() if r == Role.ACCESS_CONTROL_BROKER)
    our_roles = {e: r for r, e in parties.items()}
    replayed = refused = 0
    failures: list[str] = []
    for path in _commands(rtds_dir):
        original = _read(path)
        ref_inner = frame.signing_message(frame.locate(original).message)
        assert ref_inner is not None
        try:
            result = forward.rekey(original, DUT)
        except ReplayError as exc:
            # without a HAN party nor a certificate issuer, only HAN-only (PPMID -> GSME)
            # commands and CS02d (a certificate for the device) may be refused
            refusable = secure.DEVICE_ORIGINATED_COMMANDS | {UPDATE_DEVICE_CERTIFICATE}
            assert ref_inner.header.message_code in refusable, (path, exc)
            refused += 1
            continue
        replayed += 1
        located = frame.locate(result.command.data)
        new = frame.signing_message(located.message)
        assert new is not None
        problems = []
        ref_message = frame.locate(original).message
        was_maced = result.precommand or isinstance(ref_message, MacProtectedMessage)
        want_mac = Verdict.VALID if was_maced else Verdict.ABSENT
        if secure.verify_mac(located, ours, [our_acb]) != want_mac:
            problems.append("MAC")
        want_sig = Verdict.VALID if (ref_inner.signature or result.precommand) else Verdict.ABSENT
        if secure.verify_signature(located, ours) != want_sig:
            problems.append("signature")
        if new.header.recipient != DUT or new.header.originator not in parties.values():
            problems.append("addressing")
        if payload_family(new.payload) != payload_family(ref_inner.payload):
            problems.append("family")
        # Round trip: re-keying back to the reference identities and counters gives back
        # exactly the bytes the reference signed, so only identity/counter fields changed.
        back_parties = {roles[ref]: ref for ref in result.identities if ref in roles}
        back_parties.setdefault(Role.ACCESS_CONTROL_BROKER, ref_acb)
        backward = Replayer(HeadEnd(reference, back_parties), ours, our_roles, [our_acb])
        oi = ref_inner.header.other_information
        again = backward.rekey(
            result.command.data,
            ref_inner.header.recipient,
            counter=ref_inner.header.originator_counter,
            srp_counter=oi.supplementary_remote_party_counter,
        )
        rebuilt = frame.signing_message(again.command.message)
        assert isinstance(rebuilt, GeneralSigningMessage)
        if rebuilt.signed_part() != ref_inner.signed_part():
            problems.append("round trip")
        if problems:
            failures.append(f"{path.name}: {', '.join(problems)}")
    assert not failures, failures[:10]
    assert replayed >= 500 and refused == 6  # PCS01, PCS02, CS02d x2 (command, pre-command)


def test_dlms_fields_naming_parties_or_counters_are_rewritten(rtds_dir: Path, world: World) -> None:
    reference, roles, ours, parties = world
    replayer = Replayer(HeadEnd(ours, parties), reference, roles)
    path = next(rtds_dir.glob("*_ECS17b/ECS17b_*_SINGLE_SUCCESS_COMMAND_GBCS.HEX"))
    result = replayer.rekey(_read(path), DUT)
    inner = frame.signing_message(result.command.message)
    assert inner is not None
    request = apdu.decode_exact(inner.payload)
    assert isinstance(request, apdu.AccessRequestMessage)
    assert request.invoke_id == result.command.counter & 0xFFFFFF
    params = request.list_of_data[0].items[1].items[0]  # type: ignore[union-attr]
    found = protection.ProtectionParameters.from_data(params)
    assert found is not None
    assert found.counter == result.command.counter
    assert (found.originator, found.recipient) == (parties[Role.SUPPLIER], DUT)
    assert result.rewritten == ("access_request.invoke_id", "get_protection_parameters")


def test_top_up_utrn_is_reissued_for_the_device(rtds_dir: Path, world: World) -> None:
    reference, roles, ours, parties = world
    replayer = Replayer(HeadEnd(ours, parties), reference, roles)
    for path in sorted(rtds_dir.glob("*_CS01[ab]/*_COMMAND_GBCS.HEX")):
        old = frame.signing_message(frame.locate(_read(path)).message)
        result = replayer.rekey(_read(path), DUT)
        new = frame.signing_message(result.command.message)
        assert old is not None and new is not None
        counter = result.command.counter
        assert counter % (1 << 32) == 0
        token = new.payload[new.payload.index(b"\x14") + 1 :][:20].decode()
        old_token = old.payload[old.payload.index(b"\x14") + 1 :][:20].decode()
        supplier = parties[Role.SUPPLIER]
        secret = ours.prepayment_secret(supplier, DUT)
        assert secret is not None
        assert utrn.verify_utrn(
            token, prepayment_secret=secret, originator=supplier, target=DUT, counter=counter
        )
        assert utrn.decode_utrn(token).value == utrn.decode_utrn(old_token).value


def test_refusals(rtds_dir: Path, world: World) -> None:
    reference, roles, ours, parties = world
    replayer = Replayer(HeadEnd(ours, parties), reference, roles)
    command = next(rtds_dir.glob("*_ECS52/*_SUCCESS_COMMAND_GBCS.HEX"))
    tampered = bytearray(_read(command))
    tampered[-1] ^= 0x01
    with pytest.raises(ReplayError, match="MAC does not verify"):
        replayer.rekey(bytes(tampered), DUT)
    response = _read(next(rtds_dir.glob("*_ECS52/*_SUCCESS_RESPONSE_GBCS.HEX")))
    with pytest.raises(ReplayError, match="expected a command, got a response"):
        replayer.rekey(response, DUT)
    with pytest.raises(ReplayError, match="no known remote party role"):
        Replayer(HeadEnd(ours, parties), reference, {}).rekey(_read(command), DUT)
    with pytest.raises(ReplayError, match="does not decode"):
        replayer.rekey(b"\xdd\x00", DUT)
