"""Command acceptance in GBCS order, rejections without state change, future-dated commands."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import timedelta
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smemu.devices.keys import Pki
from smemu.firmware.common import future
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.future import FutureItem
from smemu.firmware.common.machine import (
    BootEvent,
    DeviceType,
    MessageEvent,
    Step,
    TimerEvent,
    TimerRequest,
    Tx,
)
from smemu.firmware.common.policy import policy_of
from smemu.firmware.common.security import (
    ALERT_AUTHENTICATION_FAILED,
    ALERT_NO_AUTHORITY,
    ALERT_OTHER_AUTH_FAILURE,
    REJECTION_WRITES,
    Accepted,
    Rejection,
    counter_key,
)
from smemu.protocols.dlms import apdu
from smemu.protocols.dlms.data import LongUnsigned, OctetString
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.frame import GeneralSigningMessage
from smemu.protocols.gbcs.types import Cra, Eui64
from tests.firmware._support import ESME, T0, command, make_pki

ECS01A = 0x0019  # critical, supplier only, replay protected, future-dated
ECS43 = 0x0050  # critical, supplier only, replay protected
ECS52 = 0x0059  # non-critical, not replay protected; supplier / NO / ACB
PAYLOAD = b"\xc0\x01\x00"  # opaque to the probe machine
SUPPLIER = Role.SUPPLIER
_SLOW = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class _Probe(CommandMachine):
    """A command machine whose handlers write NVM, so a wrongly accepted command shows."""

    device_type = DeviceType.ESME
    TUNNEL_PORTS: ClassVar[frozenset[str]] = frozenset()
    UPLINK: ClassVar[str] = "wan"
    HANDLERS: ClassVar[Mapping[int, str]] = {
        ECS43: "mark",
        ECS52: "mark",
        ECS01A: "future_dated",
    }
    #: activation instant the next ECS01a schedules (None: cancel the pending one)
    activation: timedelta | None = timedelta(hours=1)
    succeed = True

    def on_boot(self, tx: Tx) -> None:
        return

    def mark(self, tx: Tx, accepted: Accepted) -> bytes | None:
        tx.put_int("probe/count", tx.get_int("probe/count") + 1)
        return b"answer"

    def future_dated(self, tx: Tx, accepted: Accepted) -> bytes | None:
        h = accepted.command.header
        identity = "dlms/20/00000D0000FF/10"
        if self.activation is None:
            self.cancel_future(tx, identity)
            return b"cancelled"
        ref = future.dlms_reference(
            h.message_code, h.originator_counter, 20, bytes.fromhex("00000D0000FF"), 10
        )
        self.schedule_future(
            tx,
            FutureItem(
                identity, tx.now + self.activation, h.message_code, h.originator,
                h.originator_counter, ref, "activate", b"\x05",
            ),
        )  # fmt: skip
        return b"accepted"

    def activate(self, tx: Tx, item: FutureItem) -> bool:
        tx.put("probe/active", item.data)
        return self.succeed


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki") / "keys")


def _machine(pki: Pki) -> _Probe:
    machine = _Probe(ESME, pki.provisioning(ESME))
    machine.step(BootEvent(), T0)
    return machine


def _send(machine: _Probe, data: bytes, at: timedelta = timedelta()) -> Step:
    return machine.step(MessageEvent("wan", data), T0 + at)


def _security(step: Step) -> list[int]:
    return [e.code for e in step.logs if e.log == "security"]


def _assert_rejected(machine: _Probe, data: bytes, code: int) -> Step:
    before = dict(machine.nvm)
    step = _send(machine, data)
    after = {k: v for k, v in machine.nvm.items() if k not in REJECTION_WRITES}
    assert after == {k: v for k, v in before.items() if k not in REJECTION_WRITES}
    assert _security(step) == [code]
    assert "rejected" in step.tallies and "accepted" not in step.tallies
    return step


def _alert(data: bytes) -> tuple[GeneralSigningMessage, apdu.DataNotificationMessage]:
    located = frame.locate(data)
    inner = frame.signing_message(located.message)
    assert inner is not None and inner.header.cra is Cra.ALERT
    body = apdu.decode_exact(inner.payload)
    assert isinstance(body, apdu.DataNotificationMessage)
    return inner, body


# ------------------------------------------------------------------------ registry policy


def test_policy_comes_from_the_registry() -> None:
    ecs43, ecs52, ecs47e = policy_of(ECS43), policy_of(ECS52), policy_of(0x011F)
    assert ecs43 is not None and ecs43.critical and ecs43.replay_protected
    assert ecs43.roles == {Role.SUPPLIER}
    assert ecs52 is not None and not ecs52.critical and not ecs52.replay_protected
    assert ecs52.roles == {Role.SUPPLIER, Role.NETWORK_OPERATOR, Role.ACCESS_CONTROL_BROKER}
    assert ecs47e is not None and ecs47e.roles == {Role.LOAD_CONTROLLER}
    assert policy_of(0x1000) is None  # an alert is never a command


def test_accepted_command_runs_and_records_the_counter_per_role(pki: Pki) -> None:
    m = _machine(pki)
    step = _send(m, command(pki, ESME, ECS43, 500, PAYLOAD, sign=True))
    assert [s.data for s in step.sends] == [b"answer"]
    supplier = pki.remote_parties[SUPPLIER]
    assert m.nvm[counter_key(supplier, SUPPLIER)] == (500).to_bytes(8, "big")


def test_non_replay_protected_counters_are_neither_checked_nor_recorded(pki: Pki) -> None:
    m = _machine(pki)
    for _ in range(2):
        step = _send(m, command(pki, ESME, ECS52, 7, PAYLOAD))
        assert step.sends and "accepted" in step.tallies
    assert not [k for k in m.nvm if k.startswith("ctr/")]


# ---------------------------------------------------------------------------- rejections


@_SLOW
@given(index=st.integers(0, 63), flip=st.integers(1, 255))
def test_wrong_signature_is_rejected(pki: Pki, index: int, flip: int) -> None:
    m = _machine(pki)
    h = frame.GroupingHeader(
        Cra.COMMAND, 900, pki.remote_parties[SUPPLIER], ESME, None, frame.OtherInformation(ECS43)
    )
    signed = secure.sign(GeneralSigningMessage(h, PAYLOAD, None), pki.keystore)
    assert signed.signature
    sig = bytearray(signed.signature)
    sig[index] ^= flip
    forged = dataclasses.replace(signed, signature=bytes(sig))
    acb = pki.remote_parties[Role.ACCESS_CONTROL_BROKER]
    data = secure.protect(forged, pki.keystore, acb=acb).encode()
    step = _assert_rejected(m, data, ALERT_AUTHENTICATION_FAILED)
    assert step.sends == ()
    assert Rejection.BAD_SIGNATURE.value in step.logs[-1].text


@_SLOW
@given(back=st.integers(1, 12), flip=st.integers(1, 255))
def test_wrong_mac_is_rejected(pki: Pki, back: int, flip: int) -> None:
    m = _machine(pki)
    data = bytearray(command(pki, ESME, ECS52, 11, PAYLOAD))
    data[-back] ^= flip  # the 12-octet MAC trailer
    step = _assert_rejected(m, bytes(data), ALERT_AUTHENTICATION_FAILED)
    assert step.sends == ()
    assert Rejection.BAD_MAC.value in step.logs[-1].text


def test_unsigned_critical_command_is_rejected(pki: Pki) -> None:
    m = _machine(pki)
    _assert_rejected(m, command(pki, ESME, ECS43, 40, PAYLOAD), ALERT_AUTHENTICATION_FAILED)


@_SLOW
@given(first=st.integers(2, 2**40), data=st.data())
def test_replayed_counter_is_rejected(pki: Pki, first: int, data: st.DataObject) -> None:
    m = _machine(pki)
    _send(m, command(pki, ESME, ECS43, first, PAYLOAD, sign=True))
    again = data.draw(st.integers(1, first), label="replayed counter")
    step = _assert_rejected(
        m, command(pki, ESME, ECS43, again, PAYLOAD, sign=True), ALERT_OTHER_AUTH_FAILURE
    )
    assert step.sends == ()
    # A greater counter is still accepted.
    assert "accepted" in _send(m, command(pki, ESME, ECS43, first + 1, PAYLOAD, sign=True)).tallies


def test_counters_are_kept_per_remote_party_and_role(pki: Pki) -> None:
    m = _machine(pki)
    _send(m, command(pki, ESME, ECS43, 1000, PAYLOAD, sign=True))
    # Another party's low counter is not a replay of the supplier's.
    step = _send(m, command(pki, ESME, ECS52, 3, PAYLOAD, role=Role.NETWORK_OPERATOR))
    assert "accepted" in step.tallies


@_SLOW
@given(
    role=st.sampled_from([Role.NETWORK_OPERATOR, Role.OTHER_USER]),
    counter=st.integers(1, 2**32),
)
def test_wrong_role_is_answered_with_8f30(pki: Pki, role: Role, counter: int) -> None:
    m = _machine(pki)
    data = command(pki, ESME, ECS43, counter, PAYLOAD, sign=True, role=role)
    step = _assert_rejected(m, data, ALERT_NO_AUTHORITY)
    [sent] = step.sends
    inner, body = _alert(sent.data)
    assert inner.header.recipient == pki.remote_parties[role]
    assert body.body.items[0] == LongUnsigned(ALERT_NO_AUTHORITY)  # type: ignore[union-attr]
    assert secure.verify_signature(frame.locate(sent.data), pki.keystore) is secure.Verdict.VALID


@_SLOW
@given(
    recipient=st.binary(min_size=8, max_size=8).map(Eui64).filter(lambda e: e != ESME),
    mac=st.binary(min_size=12, max_size=12),
    code=st.sampled_from([ECS43, ECS52]),
)
def test_wrong_recipient_is_discarded_silently(
    pki: Pki, recipient: Eui64, mac: bytes, code: int
) -> None:
    # The recipient is checked first, so the MAC may be anything (no keys for a random EUI).
    m = _machine(pki)
    h = frame.GroupingHeader(
        Cra.COMMAND, 5, pki.remote_parties[SUPPLIER], recipient, None, frame.OtherInformation(code)
    )
    data = frame.MacProtectedMessage(GeneralSigningMessage(h, PAYLOAD, b""), mac).encode()
    step = _assert_rejected(m, data, ALERT_OTHER_AUTH_FAILURE)
    assert step.sends == ()


# -------------------------------------------------------------------------- future-dated


def _schedule(pki: Pki, counter: int = 77) -> tuple[_Probe, Step]:
    m = _machine(pki)
    step = _send(m, command(pki, ESME, ECS01A, counter, PAYLOAD, sign=True))
    return m, step


def test_future_dated_command_answers_now_and_asks_for_the_timer(pki: Pki) -> None:
    m, step = _schedule(pki)
    assert [s.data for s in step.sends] == [b"accepted"]
    assert TimerRequest(future.TIMER, T0 + timedelta(hours=1)) in step.timers
    assert "probe/active" not in m.nvm


@pytest.mark.parametrize("succeed", [True, False])
def test_future_dated_execution_sends_8f66_or_8f67(pki: Pki, succeed: bool) -> None:
    m, _ = _schedule(pki, counter=78)
    m.succeed = succeed
    due = T0 + timedelta(hours=1)
    step = m.step(TimerEvent(future.TIMER), due)
    [sent] = step.sends
    inner, body = _alert(sent.data)
    assert inner.message_code == future.DLMS_OUTCOME_ALERT
    assert inner.header.recipient == pki.remote_parties[SUPPLIER]
    code = future.ALERT_EXECUTED if succeed else future.ALERT_NOT_EXECUTED
    items = body.body.items  # type: ignore[union-attr]
    assert items[0] == LongUnsigned(code)
    ref = items[2]
    assert isinstance(ref, OctetString)
    assert ref.value[:10] == ECS01A.to_bytes(2, "big") + (78).to_bytes(8, "big")
    assert ref.value[10:] == bytes.fromhex("0014") + bytes.fromhex("00000D0000FF") + b"\x0a"
    assert (m.nvm.get("probe/active") == b"\x05") is succeed
    assert future.pending(Tx(due, m.nvm)) == []
    assert TimerRequest(future.TIMER, None) in step.timers


def test_an_early_timer_executes_nothing(pki: Pki) -> None:
    m, _ = _schedule(pki)
    step = m.step(TimerEvent(future.TIMER), T0 + timedelta(minutes=59))
    assert step.sends == ()
    assert TimerRequest(future.TIMER, T0 + timedelta(hours=1)) in step.timers


def test_pending_instructions_survive_a_restart(pki: Pki) -> None:
    m, _ = _schedule(pki)
    again = _Probe(ESME, m.nvm)
    step = again.step(BootEvent(), T0 + timedelta(minutes=5))
    assert TimerRequest(future.TIMER, T0 + timedelta(hours=1)) in step.timers


def test_cancellation_removes_the_pending_instruction(pki: Pki) -> None:
    m, _ = _schedule(pki, counter=80)
    m.activation = None
    step = _send(m, command(pki, ESME, ECS01A, 81, PAYLOAD, sign=True))
    assert [s.data for s in step.sends] == [b"cancelled"]
    assert TimerRequest(future.TIMER, None) in step.timers
    assert m.step(TimerEvent(future.TIMER), T0 + timedelta(hours=2)).sends == ()


def test_future_item_round_trips_through_nvm_json() -> None:
    item = FutureItem(
        "x", T0, 1, ESME, 2, future.gbz_reference(1, 2, 0x0700, 0x01, 0x05), "a", b"d", gbz=True
    )
    assert FutureItem.from_json(item.to_json()) == item
    assert item.alert_message_code == future.GBZ_OUTCOME_ALERT
