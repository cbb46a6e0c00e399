"""GSME: future-dated instructions on the common queue, GCS53, GCS38, top-up keys, the
"not processed" answers after a failed component."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from smemu.devices.keys import Pki
from smemu.firmware import gas_billing_alert, prepayment
from smemu.firmware.common import future
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import DeviceType, MessageEvent, Step, TimerEvent, Tx
from smemu.firmware.gas_handlers import HANDLERS, STORE
from smemu.firmware.gas_zcl import NOT_PROCESSED, ZclRefusedError, serve
from smemu.firmware.gsme import GsmeMachine
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.decrypt import decrypt_payload
from smemu.protocols.gbcs.frame import GeneralSigningMessage
from smemu.protocols.gbcs.types import Cra
from smemu.protocols.utrn import encode_utrn
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee._fields import EPOCH_2000
from smemu.protocols.zigbee.metering import PublishSnapshot
from smemu.protocols.zigbee.prepayment import (
    ChangePaymentMode,
    ConsumerTopUp,
    ConsumerTopUpResponse,
    TopUpResult,
)
from smemu.protocols.zigbee.zcl import ZclStatus

from ._support import GSME, T0, booted, command, make_pki

GCS02 = 0x006C  # Change Payment Mode to prepayment: critical, future-dated
CS01B = 0x0097
GCS38 = 0x0084
PREPAY = 0b0000010010010111


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path, {GSME: DeviceType.GSME})


def _gsme(pki: Pki) -> GsmeMachine:
    machine = booted(pki, GSME, DeviceType.GSME)
    assert isinstance(machine, GsmeMachine)
    return machine


def _messages(step: Step) -> list[GeneralSigningMessage]:
    out = []
    for sent in step.sends:
        if sent.port != "han":
            continue  # the wake's OTA query
        data = decode_han(sent.data).message
        if data:
            inner = frame.signing_message(frame.locate(data).message)
            if inner is not None and inner.header.message_code != 0xFFF0:  # not the mirror
                out.append(inner)
    return out


def _code(data: bytes) -> int:
    inner = frame.signing_message(frame.locate(data).message)
    return -1 if inner is None else inner.header.message_code


def _put(machine: GsmeMachine, data: bytes, at: timedelta = timedelta(0)) -> Step:
    return machine.step(MessageEvent("han", HanFrame(TunnelCommand.PUT, data).encode()), T0 + at)


def _utc(delta: timedelta) -> int:
    return int((T0 + delta - EPOCH_2000).total_seconds())


def _mode(at: int) -> bytes:
    payload = ChangePaymentMode(0, 1, at, PREPAY, -1).encode()
    comp = gbz.GbzComponent(gbz.CONTROL_LAST, 0x0705, 0x01, 0, 0x06, payload)
    return gbz.encode(gbz.GbzMessage((comp,)))


def test_future_dated_instruction_runs_at_its_instant_with_an_alert(pki: Pki) -> None:
    machine = _gsme(pki)
    at = timedelta(days=2)
    _put(machine, command(pki, GSME, GCS02, 1_000, _mode(_utc(at)), sign=True))
    [item] = future.pending(Tx(T0, machine.nvm))
    assert (item.at, item.counter, item.gbz) == (T0 + at, 1_000, True)
    assert item.reference == future.gbz_reference(GCS02, 1_000, 0x0705, 0x01, 0x06)
    step = machine.step(TimerEvent(future.TIMER), T0 + at)
    [alert] = _messages(step)
    assert alert.header.cra is Cra.ALERT
    assert alert.header.message_code == future.GBZ_OUTCOME_ALERT
    body = gbz.decode_exact(alert.payload, alert=True)
    assert body.alert is not None and body.alert.alert_code == future.ALERT_EXECUTED
    assert body.alert.data[1:] == item.reference
    assert machine.nvm["gsme/payment_mode"] == (1).to_bytes(8, "big")
    assert future.pending(Tx(T0 + at, machine.nvm)) == []


def test_cancellation_removes_the_queued_item_without_an_alert(pki: Pki) -> None:
    machine = _gsme(pki)
    _put(machine, command(pki, GSME, GCS02, 1_000, _mode(_utc(timedelta(days=2))), sign=True))
    _put(machine, command(pki, GSME, GCS02, 1_001, _mode(0xFFFFFFFE), sign=True))
    assert future.pending(Tx(T0, machine.nvm)) == []
    step = machine.step(TimerEvent(future.TIMER), T0 + timedelta(days=2))
    assert _messages(step) == []
    assert machine.nvm.get("gsme/payment_mode") != (1).to_bytes(8, "big")


def test_instructions_after_a_failed_one_are_not_processed() -> None:
    tx = Tx(T0, {})
    bad = gbz.GbzComponent(0, 0x0705, 0x01, 0, 0x06, b"\x00\x01\x02")  # malformed
    payload = ChangePaymentMode(0, 1, 0, PREPAY, -1).encode()
    good = gbz.GbzComponent(gbz.CONTROL_LAST, 0x0705, 0x01, 1, 0x06, payload)
    reply = serve(tx, gbz.GbzMessage((bad, good)), STORE, HANDLERS, abandon_after_failure=True)
    assert [c.payload for c in reply.components] == [
        bytes((0x06, ZclStatus.MALFORMED_COMMAND)),
        bytes((NOT_PROCESSED, ZclStatus.FAILURE)),
    ]
    assert [c.sequence for c in reply.components] == [0, 1]
    assert "gsme/payment_mode" not in tx.writes  # the second was not executed
    # a read goes on after a failure
    other = Tx(T0, {})
    reads = serve(other, gbz.GbzMessage((bad, good)), STORE, HANDLERS)
    assert reads.components[1].command_id == 0x02  # Change Payment Mode Response
    assert other.get_int("gsme/payment_mode") == 1


def test_billing_snapshot_is_pushed_once_encrypted_and_signed(pki: Pki) -> None:
    machine = _gsme(pki)
    assert gas_billing_alert.LAST_PUSHED in machine.nvm  # the first look at boot
    step = machine.step(TimerEvent("wake"), T0 + timedelta(days=27))  # past 1 February
    [located] = [
        frame.locate(m)
        for m in (decode_han(s.data).message for s in step.sends if s.port == "han")
        if m and _code(m) == gas_billing_alert.GCS53
    ]
    alert = frame.signing_message(located.message)
    assert alert is not None
    assert secure.verify_signature(located, pki.keystore) is secure.Verdict.VALID
    _, [plain] = decrypt_payload(located, pki.keystore)
    snapshot = PublishSnapshot.decode_exact(plain)
    assert snapshot.total_snapshots_found == 1 and snapshot.snapshot_cause & 0x02
    body = gbz.decode_exact(alert.payload, alert=True)
    assert body.alert is not None and body.alert.alert_code == 0x8F0A
    again = machine.step(TimerEvent("wake"), T0 + timedelta(days=28))
    assert not [m for m in _messages(again) if m.header.message_code == gas_billing_alert.GCS53]


def test_gcs38_reads_the_running_firmware_version(pki: Pki) -> None:
    machine = _gsme(pki)
    read = gbz.GbzComponent(gbz.CONTROL_LAST, 0x0702, 0x00, 0, 0x00, b"\x06\x02")
    step = _put(machine, command(pki, GSME, GCS38, 5, gbz.encode(gbz.GbzMessage((read,)))))
    [response] = _messages(step)
    [c] = gbz.decode_exact(response.payload).components
    assert c.payload[:4] == b"\x06\x02\x00\x41" and c.payload[4] == len(c.payload) - 5


def test_top_up_authenticates_with_the_supplier_prepayment_key(pki: Pki) -> None:
    machine = _gsme(pki)
    supplier = next(e for r, e in pki.remote_parties.items() if r.slug == "supplier")
    secret = pki.keystore.prepayment_secret(bytes(supplier), bytes(GSME))
    assert secret is not None
    utrn = encode_utrn(
        prepayment_secret=secret, originator=bytes(supplier), target=bytes(GSME),
        counter=1 << 32, value=1500,
    )
    top_up = ConsumerTopUp(0, utrn.encode()).encode()
    comp = gbz.GbzComponent(gbz.CONTROL_LAST, 0x0705, 0x01, 0, 0x04, top_up)
    step = _put(machine, command(pki, GSME, CS01B, 1 << 32, gbz.encode(gbz.GbzMessage((comp,)))))
    [response] = _messages(step)
    [c] = gbz.decode_exact(response.payload).components
    reply = ConsumerTopUpResponse.decode_exact(c.payload)
    assert (reply.result_type, reply.top_up_value) == (TopUpResult.ACCEPTED, 1_500_000)


def test_shared_utrn_check_credits_nothing_and_applies_the_maximum() -> None:
    secret, supplier, meter = bytes(range(32)), bytes(8), bytes(range(8))
    utrn = encode_utrn(
        prepayment_secret=secret, originator=supplier, target=meter, counter=1 << 32, value=7
    )
    tx = Tx(T0, {})
    refused = prepayment.check_utrn(tx, utrn, secret, supplier, meter, lambda amount: True)
    assert refused.outcome is prepayment.UtrnOutcome.EXCEEDS_MAXIMUM
    ok = prepayment.check_utrn(tx, utrn, secret, supplier, meter)
    assert (ok.outcome, ok.amount, ok.counter) == (prepayment.UtrnOutcome.ACCEPTED, 7_000, 1 << 32)
    assert set(tx.writes) <= {prepayment.UTRN_RECENT, prepayment.UTRN_FAILURES}
    replay = prepayment.check_utrn(tx, utrn, secret, supplier, meter)
    assert replay.outcome is prepayment.UtrnOutcome.DUPLICATE


def test_refused_component_raises_into_a_status_only() -> None:
    with pytest.raises(ZclRefusedError):
        HANDLERS[0x0705, 0x06](Tx(T0, {}), gbz.GbzComponent(0, 0x0705, 0x01, 0, 0x06, b"\x00"))
