"""Security variations of real head-end commands, one at a time, against the emulated ESME.

Issue 6 "Done means". Commands are built with the head-end's use-case builders
(:data:`smemu.hil.commands.BUILDERS`) for a booted :class:`~smemu.firmware.esme.EsmeMachine`.
Each example first sends a valid command (so that there is a last accepted counter), then
the same use case with exactly one security-relevant thing wrong -- a MAC byte, a signature
byte, no signature on a critical command, a counter equal to or below the last accepted, an
originator whose role may not send the code, another recipient, an untrusted originator, or
the message cut short -- and checks that:

* the command is refused with the rejection, security-log code and answer of
  :data:`smemu.firmware.common.security.OUTCOMES` (the firmware's reviewed table of what GBCS
  gives each failure), and nothing else is sent;
* the device's NVM is unchanged but for :data:`~smemu.firmware.common.security.REJECTION_WRITES`
  (the alert counter of an alert it sends);
* the security log gained the entry;
* a valid command after the refused one is executed.

A future-dated instruction whose activation date-time has passed is checked separately: the
meter treats it as an immediate one (see :func:`test_a_past_activation_date_acts_as_now`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Final

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smemu.devices.keys import Pki
from smemu.errors import DecodeError
from smemu.firmware import metering, tariff
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import BootEvent, MessageEvent, Step, Tx
from smemu.firmware.common.policy import CommandPolicy, policy_of
from smemu.firmware.common.security import OUTCOMES, REJECTION_WRITES, AlertTo, Rejection
from smemu.firmware.esme import EsmeMachine
from smemu.hil.commands import BUILDERS, BuildContext, dlms_date_time, message_code_of
from smemu.hil.demo import build_command, dlms_request, get
from smemu.protocols.dlms import apdu
from smemu.protocols.dlms.apdu import parse_obis
from smemu.protocols.dlms.cosem import ChargeTableEntry, UnitCharge
from smemu.protocols.dlms.data import DoubleLongUnsigned, LongUnsigned, OctetString, Structure
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.frame import (
    SECURITY_CONTROL_AUTHENTICATED,
    GeneralSigningMessage,
    GroupingHeader,
    MacProtectedMessage,
    OtherInformation,
)
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.gbcs.use_case_types import Device
from smemu.protocols.gbcs.use_cases import USE_CASES as REGISTRY
from smemu.protocols.security import ecdsa, gcm
from tests.firmware._support import ESME, T0, make_pki
from tests.strategies.gbcs import euis

pytestmark = pytest.mark.timeout(120)

EXAMPLES: Final = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
#: the order in which a valid originator's role is chosen among those a code allows
ROLE_PREFERENCE: Final = (Role.SUPPLIER, Role.NETWORK_OPERATOR, Role.ACCESS_CONTROL_BROKER)
#: the head-end builders whose use case an ESME executes (others, e.g. CS08 for a HAN
#: device, are answered by the ESME with "not supported", not with a response)
USE_CASES: Final = sorted(u for u in BUILDERS if Device.ESME in REGISTRY[u].devices)


def _policy(use_case: str) -> CommandPolicy:
    policy = policy_of(message_code_of(use_case))
    assert policy is not None, use_case
    return policy


CRITICAL: Final = [u for u in USE_CASES if _policy(u).critical]
REPLAY_PROTECTED: Final = [u for u in USE_CASES if _policy(u).replay_protected]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki") / "keys")


@pytest.fixture(scope="module")
def provisioning(pki: Pki) -> Mapping[str, bytes]:
    return pki.provisioning(ESME)


class Bench:
    """One booted ESME and a head-end that secures commands for it, byte by byte."""

    def __init__(self, pki: Pki, provisioning: Mapping[str, bytes]) -> None:
        self.pki = pki
        self.store = pki.keystore
        self.acb = pki.remote_parties[Role.ACCESS_CONTROL_BROKER]
        self.machine = EsmeMachine(ESME, provisioning)
        self.now = T0
        self.machine.step(BootEvent(), self.now)

    def party(self, role: Role) -> Eui64:
        return self.pki.remote_parties[role]

    def valid_originator(self, use_case: str) -> Eui64:
        roles = _policy(use_case).roles
        return self.party(next(r for r in ROLE_PREFERENCE if r in roles))

    def inner(
        self, use_case: str, counter: int, originator: Eui64, recipient: Eui64 = ESME
    ) -> GeneralSigningMessage:
        """The unsigned general-signing command, payload from the use case's builder.

        The payload is always the one the builder makes for a valid command of the use case
        (valid originator, this ESME): only the header carries the variation.
        """
        builder = BUILDERS[use_case]
        params: dict[str, object] = {}
        for spec in builder.params:
            if spec.kind == "datetime":  # validity windows (ECS70, ECS47a): around now
                moment = {"start": self.now - timedelta(days=1),
                          "end": self.now + timedelta(days=1)}.get(spec.name, self.now)  # fmt: skip
                params[spec.name] = dlms_date_time(moment)
        if builder.utrn:  # CS01a: a UTRN for 5.00 made from the supplier's top-up key
            params["value"] = 500
        context = BuildContext(
            counter, self.valid_originator(use_case), ESME, keystore=self.store
        )
        payload = builder.build(context, params)
        header = GroupingHeader(
            Cra.COMMAND, counter, originator, recipient, None,
            OtherInformation(message_code_of(use_case)),
        )  # fmt: skip
        return GeneralSigningMessage(header, payload, None)

    def sign(self, message: GeneralSigningMessage, signer: Eui64) -> GeneralSigningMessage:
        """Sign with ``signer``'s DS key (whatever the header's originator says)."""
        private = self.store.ds_private(signer)
        assert private is not None
        signature = ecdsa.sign(private, message.signed_part()[1:])
        return GeneralSigningMessage(message.header, message.payload, signature)

    def mac(self, message: GeneralSigningMessage) -> MacProtectedMessage:
        """MAC with the key of (ACB, this ESME) -- whatever recipient the header names."""
        if message.signature is None:
            message = GeneralSigningMessage(message.header, message.payload, b"")
        key = secure.mac_key(self.store, (self.acb, ESME), message)
        assert key is not None
        aad = secure.mac_aad(SECURITY_CONTROL_AUTHENTICATED, message.encode())
        return MacProtectedMessage(message, gcm.gmac(key, message.header.originator, aad))

    def command(self, use_case: str, counter: int, originator: Eui64 | None = None) -> bytes:
        """A correct command: signed by its originator when critical, MAC'd by the ACB."""
        originator = originator or self.valid_originator(use_case)
        message = self.inner(use_case, counter, originator)
        if BUILDERS[use_case].critical:
            message = self.sign(message, originator)
        return self.mac(message).encode()

    def step(self, data: bytes) -> Step:
        self.now += timedelta(seconds=1)
        put = HanFrame(TunnelCommand.PUT, data).encode()
        return self.machine.step(MessageEvent("han", put), self.now)


def _sent(step: Step) -> list[GeneralSigningMessage]:
    out = []
    for sent in step.sends:
        inner = frame.signing_message(frame.locate(decode_han(sent.data).message).message)
        assert inner is not None
        out.append(inner)
    return out


def _alert_code(message: GeneralSigningMessage) -> int:
    body = apdu.decode_exact(message.payload)
    assert isinstance(body, apdu.DataNotificationMessage)
    head = body.body
    assert isinstance(head, Structure) and isinstance(head.items[0], LongUnsigned)
    return head.items[0].value


def _accepted(bench: Bench, use_case: str, counter: int) -> None:
    """A valid command of ``use_case`` is executed: one response, to its originator."""
    step = bench.step(bench.command(use_case, counter))
    assert "accepted" in step.tallies, [e.text for e in step.logs]
    [response] = _sent(step)
    assert response.header.cra is Cra.RESPONSE
    assert response.header.originator_counter == counter
    assert response.header.recipient == bench.valid_originator(use_case)


def _check_refused(bench: Bench, data: bytes, reason: Rejection, originator: Eui64) -> None:
    """``data`` is refused for ``reason`` exactly as OUTCOMES says, changing no state."""
    before = dict(bench.machine.nvm)
    step = bench.step(data)
    after = dict(bench.machine.nvm)
    outcome = OUTCOMES[reason]
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    sent = _sent(step)
    assert "rejected" in step.tallies and "accepted" not in step.tallies
    security = [e for e in step.logs if e.log == "security"]
    assert [(e.code, reason.value in e.text) for e in security] == [(outcome.log_code, True)]
    if outcome.alert_to is AlertTo.NOBODY:
        assert sent == [] and changed == set()
    else:
        assert outcome.alert_to is AlertTo.ORIGINATOR
        [alert] = sent
        assert alert.header.cra is Cra.ALERT and alert.header.recipient == originator
        assert _alert_code(alert) == outcome.log_code
        assert changed <= REJECTION_WRITES


counters = st.integers(min_value=2, max_value=(1 << 40))


# ------------------------------------------------------------------------ mutations


@EXAMPLES
@given(use_case=st.sampled_from(USE_CASES), counter=counters, data=st.data())
def test_a_wrong_mac_byte_is_refused(
    pki: Pki, provisioning: Mapping[str, bytes], use_case: str, counter: int, data: st.DataObject
) -> None:
    bench = Bench(pki, provisioning)
    _accepted(bench, use_case, counter)
    good = frame.decode_exact(bench.command(use_case, counter + 1))
    assert isinstance(good, MacProtectedMessage)
    index = data.draw(st.integers(0, len(good.mac) - 1), label="mac byte")
    flip = data.draw(st.integers(1, 255), label="xor")
    mac = bytearray(good.mac)
    mac[index] ^= flip
    bad = MacProtectedMessage(good.inner, bytes(mac)).encode()
    _check_refused(bench, bad, Rejection.BAD_MAC, good.header.originator)
    _accepted(bench, use_case, counter + 2)


@EXAMPLES
@given(use_case=st.sampled_from(USE_CASES), counter=counters, data=st.data())
def test_a_wrong_signature_byte_is_refused(
    pki: Pki, provisioning: Mapping[str, bytes], use_case: str, counter: int, data: st.DataObject
) -> None:
    """A signature that does not verify, under a correct MAC (signed or optional codes)."""
    bench = Bench(pki, provisioning)
    _accepted(bench, use_case, counter)
    originator = bench.valid_originator(use_case)
    signed = bench.sign(bench.inner(use_case, counter + 1, originator), originator)
    assert signed.signature is not None
    index = data.draw(st.integers(0, len(signed.signature) - 1), label="signature byte")
    flip = data.draw(st.integers(1, 255), label="xor")
    signature = bytearray(signed.signature)
    signature[index] ^= flip
    bad = GeneralSigningMessage(signed.header, signed.payload, bytes(signature))
    _check_refused(bench, bench.mac(bad).encode(), Rejection.BAD_SIGNATURE, originator)
    _accepted(bench, use_case, counter + 2)


@EXAMPLES
@given(use_case=st.sampled_from(CRITICAL), counter=counters)
def test_an_unsigned_critical_command_is_refused(
    pki: Pki, provisioning: Mapping[str, bytes], use_case: str, counter: int
) -> None:
    bench = Bench(pki, provisioning)
    _accepted(bench, use_case, counter)
    originator = bench.valid_originator(use_case)
    bad = bench.mac(bench.inner(use_case, counter + 1, originator)).encode()
    _check_refused(bench, bad, Rejection.NO_SIGNATURE, originator)
    _accepted(bench, use_case, counter + 2)


@EXAMPLES
@given(use_case=st.sampled_from(REPLAY_PROTECTED), counter=counters, data=st.data())
def test_a_counter_not_above_the_last_accepted_is_refused(
    pki: Pki, provisioning: Mapping[str, bytes], use_case: str, counter: int, data: st.DataObject
) -> None:
    """Equal to, or below, the last counter accepted from that party (replay protection)."""
    bench = Bench(pki, provisioning)
    _accepted(bench, use_case, counter)
    old = data.draw(st.integers(1, counter) | st.just(counter), label="old counter")
    bad = bench.command(use_case, old)
    _check_refused(bench, bad, Rejection.REPLAY, bench.valid_originator(use_case))
    _accepted(bench, use_case, counter + 1)


@EXAMPLES
@given(counter=counters, data=st.data())
def test_a_role_that_may_not_send_the_code_is_refused_and_told(
    pki: Pki, provisioning: Mapping[str, bytes], counter: int, data: st.DataObject
) -> None:
    """An authenticated party of the wrong role gets the 0x8F30 alert, nothing else."""
    pairs = [
        (u, r)
        for u in USE_CASES
        for r in sorted(pki.remote_parties, key=int)
        if not _policy(u).allows(r) and r is not Role.ACCESS_CONTROL_BROKER
    ]
    use_case, role = data.draw(st.sampled_from(pairs), label="use case, role")
    bench = Bench(pki, provisioning)
    _accepted(bench, use_case, counter)
    intruder = bench.party(role)
    bad = bench.command(use_case, counter + 1, originator=intruder)
    _check_refused(bench, bad, Rejection.ROLE, intruder)
    _accepted(bench, use_case, counter + 2)


@EXAMPLES
@given(use_case=st.sampled_from(USE_CASES), counter=counters, recipient=euis)
def test_a_command_for_another_recipient_is_refused(
    pki: Pki, provisioning: Mapping[str, bytes], use_case: str, counter: int, recipient: Eui64
) -> None:
    if recipient == ESME:
        recipient = Eui64(bytes(ESME)[:7] + bytes(((bytes(ESME)[7] + 1) % 256,)))
    bench = Bench(pki, provisioning)
    _accepted(bench, use_case, counter)
    originator = bench.valid_originator(use_case)
    message = bench.inner(use_case, counter + 1, originator, recipient)
    if BUILDERS[use_case].critical:
        message = bench.sign(message, originator)
    _check_refused(bench, bench.mac(message).encode(), Rejection.WRONG_RECIPIENT, originator)
    _accepted(bench, use_case, counter + 2)


@EXAMPLES
@given(use_case=st.sampled_from(USE_CASES), counter=counters, stranger=euis)
def test_a_command_from_an_untrusted_originator_is_refused(
    pki: Pki, provisioning: Mapping[str, bytes], use_case: str, counter: int, stranger: Eui64
) -> None:
    bench = Bench(pki, provisioning)
    if stranger in bench.pki.remote_parties.values():
        stranger = Eui64(b"\x01" * 8)
    _accepted(bench, use_case, counter)
    message = bench.inner(use_case, counter + 1, stranger)
    if BUILDERS[use_case].critical:  # signed with a trusted key, under a stranger's name
        message = bench.sign(message, bench.valid_originator(use_case))
    _check_refused(bench, bench.mac(message).encode(), Rejection.UNKNOWN_ORIGINATOR, stranger)
    _accepted(bench, use_case, counter + 2)


@EXAMPLES
@given(use_case=st.sampled_from(USE_CASES), counter=counters, data=st.data())
def test_a_truncated_command_changes_nothing(
    pki: Pki, provisioning: Mapping[str, bytes], use_case: str, counter: int, data: st.DataObject
) -> None:
    """Cut short, a command does not decode: it is refused as malformed (a security-log
    entry, no answer) and changes no NVM; a valid command still works."""
    bench = Bench(pki, provisioning)
    _accepted(bench, use_case, counter)
    good = bench.command(use_case, counter + 1)
    cut = data.draw(st.integers(1, len(good) - 1), label="kept bytes")
    before = dict(bench.machine.nvm)
    step = bench.step(good[:cut])
    assert [e.code for e in step.logs if e.log == "security"] == [
        OUTCOMES[Rejection.MALFORMED].log_code
    ]
    assert not step.sends
    assert dict(bench.machine.nvm) == before
    _accepted(bench, use_case, counter + 1)  # the cut command's counter was never recorded


def test_a_truncated_command_is_recorded_in_the_security_log(
    pki: Pki, provisioning: Mapping[str, bytes]
) -> None:
    bench = Bench(pki, provisioning)
    good = bench.command("ECS52", 10)
    try:
        step = bench.step(good[: len(good) // 2])
    except DecodeError:
        step = None
    codes = [] if step is None else [e.code for e in step.logs if e.log == "security"]
    assert codes == [OUTCOMES[Rejection.MALFORMED].log_code]


# ----------------------------------------------------------- future-dated, date passed


ECS01B_PRICES: Final = parse_obis("0-0:19.20.0.255")


def _price_change(bench: Bench, counter: int, price: int, activation: bytes) -> bytes:
    """ECS01b (critical, future-dated capable): a new rate-1 price from ``activation``."""
    entries = [ChargeTableEntry(bytes([i]), price if i == 1 else 0) for i in range(1, 49)]
    entries += [
        ChargeTableEntry(bytes([0xA0 + 0x10 * b + s]), 0) for b in range(4) for s in range(1, 9)
    ]
    matrix = UnitCharge(3, -5, 3, parse_obis("1-0:1.8.0.255"), 2, tuple(entries)).to_data()
    payload = dlms_request(
        counter,
        (apdu.AccessRequestSet(113, ECS01B_PRICES, 6), matrix),
        (apdu.AccessRequestSet(113, ECS01B_PRICES, 7), OctetString(activation)),
    )
    return build_command(
        bench.store, originator=bench.party(Role.SUPPLIER), recipient=ESME, code=0x00A2,
        counter=counter, payload=payload, sign=True, acb=bench.acb,
    )  # fmt: skip


@EXAMPLES
@given(
    price=st.integers(1, 32_767),
    ago=st.integers(1, 10 * 365 * 86_400),
    counter=counters,
)
def test_a_past_activation_date_acts_as_now(
    pki: Pki, provisioning: Mapping[str, bytes], price: int, ago: int, counter: int
) -> None:
    """A future-dated ECS01b whose activation instant has passed is applied at once, just as
    one marked "now" (``00..00 8000 FF``): nothing waits, no outcome alert follows, and the
    engine runs with the new price. (GBCS's normative rule for a passed execution date-time
    is not in /work/shared; this is the rule the firmware documents.)"""
    benches = [Bench(pki, provisioning), Bench(pki, provisioning)]
    past = dlms_date_time(benches[0].now - timedelta(seconds=ago))
    for bench, activation in zip(benches, (past, bytes(9) + b"\x80\x00\xff"), strict=True):
        step = bench.step(_price_change(bench, counter, price, activation))
        [response] = _sent(step)
        body = apdu.decode_exact(response.payload)
        assert isinstance(body, apdu.AccessResponseMessage)
        assert all(s.result == 0 for s in body.specifications), body.specifications
        assert tariff.pending(Tx(bench.now, bench.machine.nvm)) == {}
    tables = [metering.table_words(Tx(b.now, b.machine.nvm)).tobytes() for b in benches]
    states = [metering.state_words(Tx(b.now, b.machine.nvm)).tobytes() for b in benches]
    assert tables[0] == tables[1] and states[0] == states[1]
    for bench in benches:  # the price is in force (ECS24 current active price)
        bench.now += timedelta(hours=8)
        read = bench.step(
            build_command(
                bench.store, originator=bench.party(Role.SUPPLIER), recipient=ESME,
                code=0x003A, counter=counter + 1,
                payload=dlms_request(counter + 1, get(3, "0-0:94.44.1.7", 2)),
                sign=False, acb=bench.acb,
            )
        )  # fmt: skip
        [response] = _sent(read)
        body = apdu.decode_exact(response.payload)
        assert isinstance(body, apdu.AccessResponseMessage)
        assert body.list_of_data == (DoubleLongUnsigned(price),)


def test_every_builder_is_covered() -> None:
    """The properties above run over every ESME use case the head-end can build."""
    assert len(USE_CASES) >= 10 and CRITICAL and REPLAY_PROTECTED
    assert set(REPLAY_PROTECTED) <= set(USE_CASES)

