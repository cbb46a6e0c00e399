"""Head-end: command builders against the Use Case volume, security, counters, correlation, I/O."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from smemu.errors import ConfigError, HalTimeout
from smemu.firmware.common.credentials import Role
from smemu.hil.commands import BUILDERS, BuildContext, UseCaseNotImplemented, message_code_of
from smemu.hil.commands_gas_tariff import read_back
from smemu.hil.commands_tariff import from_ecs01a
from smemu.hil.demo import ACB, ESME, SUPPLIER, demo_keystore
from smemu.hil.headend import (
    CounterStore,
    HeadEnd,
    HeadEndClient,
    Outcome,
    role_from_certificate,
    roles_from_keystore,
)
from smemu.protocols.dlms import apdu
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.frame import MacProtectedMessage
from smemu.protocols.gbcs.secure import Verdict
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.text import parse_message_text
from tests.hil import _responder

OTHER_DEVICE = Eui64.parse("00-DB-12-34-56-78-90-A1")
WINDOW = {"start": "2024-01-01T00:00:00", "end": "2024-01-01T00:10:00"}


@pytest.fixture
def head_end() -> HeadEnd:
    store = demo_keystore()
    return HeadEnd(store, {Role.SUPPLIER: SUPPLIER, Role.ACCESS_CONTROL_BROKER: ACB})


def _params(use_case: str) -> dict[str, str]:
    if use_case in ("ECS70", "ECS47a"):
        return WINDOW
    if use_case == "CS01a":
        return {"utrn": "73946144332040217315"}  # reference 6.1 (demo keys: no PP key)
    return {}


def _reference_params(use_case: str, request: apdu.AccessRequestMessage) -> dict[str, object]:
    """The typed parameters a reference command was made with (read through our views)."""
    data = request.list_of_data
    if use_case == "ECS70":
        window = data[1]
        return {"start": window.items[1].value, "end": window.items[2].value}  # type: ignore[union-attr]
    if use_case == "ECS01a":
        return {"tariff": from_ecs01a(data)}
    if use_case == "CS01a":
        return {"utrn": data[0].value.decode()}  # type: ignore[union-attr]
    if use_case == "ECS47a":
        selector = data[-1].value  # type: ignore[union-attr]
        controller = request.specifications[0].instance_id[4] - 116
        params: dict[str, object] = {"controller": controller, "state": selector & 0xFF}
        params["kind"] = selector >> 12
        params.update(start=data[0].value, end=data[1].value)  # type: ignore[union-attr]
        return params
    return {}


@pytest.mark.parametrize("use_case", sorted(BUILDERS))
def test_builder_matches_reference_commands(use_case: str, rtds_dir: Path) -> None:
    # Differential: built from the Use Case volume, the payload equals every reference
    # command of that message code given the same counter and parties.
    code = message_code_of(use_case)
    builder = BUILDERS[use_case]
    seen = 0
    for path in sorted(rtds_dir.rglob("*_COMMAND_GBCS.HEX")):
        inner = frame.signing_message(frame.decode_exact(parse_message_text(path.read_text())[0]))
        assert inner is not None
        h = inner.header
        if h.message_code != code:
            continue
        params: dict[str, object] = {}
        family = frame.payload_family(inner.payload)
        if family == "dlms":
            request = apdu.decode_exact(inner.payload)
            assert isinstance(request, apdu.AccessRequestMessage)
            params = _reference_params(use_case, request)
        elif family == "gbz" and use_case in ("GCS01a", "GCS01b"):
            params = {"tariff": read_back(inner.payload)}  # other GBZ / ASN.1 take none
        ctx = BuildContext(h.originator_counter, h.originator, h.recipient)
        assert builder.build(ctx, params) == inner.payload, path.name
        assert builder.critical == bool(inner.signature), path.name
        seen += 1
    if seen == 0:
        pytest.skip(f"no reference command for {use_case}")


@pytest.mark.parametrize("use_case", sorted(BUILDERS))
def test_built_commands_are_secured_as_gbcs_requires(head_end: HeadEnd, use_case: str) -> None:
    command = head_end.build(use_case, ESME, _params(use_case))
    located = frame.locate(command.data)
    assert isinstance(located.message, MacProtectedMessage)
    assert secure.verify_mac(located, head_end.keystore, [ACB]) == Verdict.VALID
    expected = Verdict.VALID if BUILDERS[use_case].critical else Verdict.ABSENT
    assert secure.verify_signature(located, head_end.keystore) == expected
    header = located.message.header
    assert (header.originator, header.recipient) == (SUPPLIER, ESME)
    assert header.message_code == message_code_of(use_case)
    if frame.payload_family(located.message.inner.payload) == "dlms":
        payload = apdu.decode_exact(located.message.inner.payload)
        assert payload.invoke_id == command.counter & 0xFFFFFF


def test_counters_strictly_increase_per_party_and_device(tmp_path: Path) -> None:
    path = tmp_path / "counters.json"
    store = CounterStore(path, floor=100)
    a = [store.next(SUPPLIER, ESME) for _ in range(3)]
    b = store.next(SUPPLIER, OTHER_DEVICE)
    assert a == [100, 101, 102] and b == 100
    top_up = store.next(SUPPLIER, ESME, utrn=True)
    assert top_up > 102 and top_up % (1 << 32) == 0
    reloaded = CounterStore(path, floor=1)
    assert reloaded.next(SUPPLIER, ESME) == top_up + 1
    assert reloaded.next(SUPPLIER, OTHER_DEVICE) == 101


def test_bad_counter_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "counters.json"
    path.write_text("[1, 2]")
    with pytest.raises(ConfigError, match=r"counters\.json"):
        CounterStore(path)


def test_unknown_and_unimplemented_use_cases(head_end: HeadEnd) -> None:
    with pytest.raises(UseCaseNotImplemented, match=r"ECS46d.*0x011A"):
        head_end.build("ECS46d", ESME)
    with pytest.raises(ConfigError, match="unknown use case 'XYZ9'"):
        head_end.build("XYZ9", ESME)
    with pytest.raises(ConfigError, match="start"):
        head_end.build("ECS70", ESME, {"end": "2024-01-01T00:00:00"})
    with pytest.raises(ConfigError, match="datetime"):
        head_end.build("ECS70", ESME, {"start": "soon", "end": "later"})
    with pytest.raises(ConfigError, match="no parameter 'x'"):
        head_end.build("ECS52", ESME, {"x": "1"})
    with pytest.raises(ConfigError, match="network-operator"):
        head_end.build("ECS52", ESME, role=Role.NETWORK_OPERATOR)


def test_accept_correlates_and_verifies(head_end: HeadEnd) -> None:
    first = head_end.build("ECS52", ESME)
    second = head_end.build("ECS42", ESME)
    # answers out of order, back to back in one read
    data = _responder.respond(second.data, head_end.keystore) + _responder.respond(
        first.data, head_end.keystore
    )
    got = head_end.accept(data)
    assert [r.command for r in got] == [second, first]
    assert all(r.verified for r in got)
    assert got[0].signature == Verdict.VALID and got[1].mac == Verdict.VALID
    assert not head_end.pending
    # a second copy no longer matches anything
    again = head_end.accept(_responder.respond(first.data, head_end.keystore))
    assert again[0].outcome is Outcome.UNMATCHED


def test_accept_rejects_a_bad_mac(head_end: HeadEnd) -> None:
    command = head_end.build("ECS52", ESME)
    response = bytearray(_responder.respond(command.data, head_end.keystore))
    response[-1] ^= 1
    (got,) = head_end.accept(bytes(response))
    assert got.outcome is Outcome.UNVERIFIED and got.command is command
    assert "MAC invalid" in got.problems


def test_accept_flags_a_response_to_another_counter(head_end: HeadEnd) -> None:
    command = head_end.build("ECS52", ESME)
    stray = _responder.respond(command.data, head_end.keystore, counter_offset=7)
    (got,) = head_end.accept(stray)
    assert got.outcome is Outcome.UNMATCHED and "no pending command" in got.problems[0]


def test_roles_from_certificates(keystore_dir: Path) -> None:
    roles = roles_from_keystore(keystore_dir)
    assert roles[Eui64.parse("90B3D51F30010000")] is Role.SUPPLIER
    assert roles[Eui64.parse("90B3D51F30000002")] is Role.ACCESS_CONTROL_BROKER
    assert Eui64.parse("00DB1234567890A0") not in roles
    device_cert = (keystore_dir / "00db1234567890a0-ds.pem").read_bytes()
    assert role_from_certificate(device_cert) is None


def test_client_over_tcp(head_end: HeadEnd) -> None:
    async def run() -> None:
        server, url = await _responder.start(head_end.keystore)
        async with server, HeadEndClient(head_end, url) as client:
            for use_case in ("ECS52", "ECS42", "ECS17b"):
                command = head_end.build(use_case, ESME)
                received = await client.send(command, timeout=5)
                assert received.verified and received.command is command

    asyncio.run(run())


def test_client_times_out_without_an_answer(head_end: HeadEnd) -> None:
    async def run() -> None:
        server, url = await _responder.start(head_end.keystore, answer=False)
        async with server, HeadEndClient(head_end, url) as client:
            with pytest.raises(HalTimeout, match="no response to ECS52"):
                await client.send(head_end.build("ECS52", ESME), timeout=0.3)

    asyncio.run(run())
