"""The ESME's native ZSE prepayment server: PECS01-03 from a joined PPMID, prepay snapshots.

The ESME is driven as in :mod:`tests.firmware.test_esme_han`; its ``zse`` answers are decoded
with the ZCL registry and, end to end, shown by a real PPMID machine.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smemu.devices.keys import Pki
from smemu.errors import DecodeError
from smemu.firmware import esme_han_zse, ppmid, prepayment, supply
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.machine import BootEvent, MessageEvent, Outgoing
from smemu.firmware.esme import EsmeMachine
from smemu.firmware.ppmid import PECS01, PECS02, PECS03, PpmidMachine
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.utrn import ValueClass, encode_utrn
from smemu.protocols.zigbee import metering as zse_metering
from smemu.protocols.zigbee import prepayment as zse_prepayment
from smemu.protocols.zigbee.registry import decode_frame
from smemu.protocols.zigbee.zcl import DefaultResponse, ZclCommand, ZclStatus
from tests.firmware._support import ESME, T0, make_pki
from tests.firmware.test_esme_han import PPMID, HanMeter, commissioned

OTHER_PPMID = Eui64.parse("00-DB-12-34-56-78-90-A8")
IHD = zse_prepayment.OriginatingDevice.IN_HOME_DISPLAY


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki") / "keys")


def _decode(out: Outgoing) -> tuple[int, ZclCommand]:
    decoded = decode_frame(int.from_bytes(out.data[:2], "big"), out.data[2:])
    return decoded.header.sequence, decoded.command


def _zse(sent: list[Outgoing]) -> list[tuple[Eui64 | None, ZclCommand]]:
    return [(o.to, _decode(o)[1]) for o in sent if o.port == "zse"]


def _utrn(pki: Pki, counter: int, pence: int) -> str:
    supplier = bytes(pki.remote_parties[Role.SUPPLIER])
    secret = pki.keystore.prepayment_secret(supplier, bytes(ESME))
    assert secret is not None
    return encode_utrn(
        prepayment_secret=secret, originator=supplier, target=bytes(ESME),
        counter=counter << 32, value=pence, value_class=ValueClass.PENNIES,
    )  # fmt: skip


def _top_up(meter: HanMeter, utrn: str, source: Eui64 = PPMID, seq: int = 7) -> list[Outgoing]:
    return meter.frame("zse", ppmid.zse_frame(
        zse_prepayment.ConsumerTopUp(IHD, utrn.encode("ascii")), seq), source)  # fmt: skip


def test_top_up_is_answered_and_published_to_every_joined_ppmid(pki: Pki) -> None:
    meter = HanMeter(pki, commissioned(ppmids=(PPMID, OTHER_PPMID)))
    before = esme_han_zse.credit(meter.tx())
    assert before is not None
    meter.now += timedelta(minutes=1)
    sent = _top_up(meter, _utrn(pki, 5, 1234), seq=42)
    answers = [o for o in sent if o.port == "zse" and o.to == PPMID]
    [response] = [
        o for o in answers if isinstance(_decode(o)[1], zse_prepayment.ConsumerTopUpResponse)
    ]
    sequence, command = _decode(response)
    assert sequence == 42  # the answer carries the request's ZCL sequence number
    assert isinstance(command, zse_prepayment.ConsumerTopUpResponse)
    assert command.result_type == zse_prepayment.TopUpResult.ACCEPTED
    assert command.top_up_value == 1234
    assert command.source_of_top_up == IHD
    after = esme_han_zse.credit(meter.tx())
    assert after is not None and command.credit_remaining == after[0]
    assert after[0] - before[0] == 1234
    snapshots = [
        (to, c) for to, c in _zse(sent) if isinstance(c, zse_prepayment.PublishPrepaySnapshot)
    ]
    assert {to for to, _c in snapshots} == {PPMID, OTHER_PPMID}
    payload = snapshots[0][1].snapshot_payload
    assert isinstance(payload, zse_prepayment.DebtCreditStatus)
    assert payload.credit_remaining == after[0]
    assert payload.emergency_credit_remaining == after[1]
    assert payload.accumulated_debt == after[2]


def test_a_duplicate_top_up_is_rejected(pki: Pki) -> None:
    meter = HanMeter(pki, commissioned(ppmids=(PPMID,)))
    utrn = _utrn(pki, 6, 500)
    _top_up(meter, utrn)
    meter.now += timedelta(seconds=30)
    [(_to, command)] = [
        x for x in _zse(_top_up(meter, utrn))
        if isinstance(x[1], zse_prepayment.ConsumerTopUpResponse)
    ]  # fmt: skip
    assert isinstance(command, zse_prepayment.ConsumerTopUpResponse)
    assert command.result_type == zse_prepayment.TopUpResult.REJECTED_DUPLICATE_TOP_UP
    assert command.top_up_value == 0


def test_top_up_is_recorded_with_its_message_code(pki: Pki) -> None:
    meter = HanMeter(pki, commissioned(ppmids=(PPMID,)))
    step, _ = meter.step(MessageEvent("zse", ppmid.zse_frame(
        zse_prepayment.ConsumerTopUp(IHD, _utrn(pki, 9, 100).encode())), PPMID))  # fmt: skip
    codes = [entry.code for entry in step.logs]
    assert PECS01 in codes and 0x810E in codes


def test_frames_from_devices_not_joined_as_ppmids_are_ignored(pki: Pki) -> None:
    meter = HanMeter(pki, commissioned(ppmids=(PPMID,)))
    before = esme_han_zse.credit(meter.tx())
    for source in (None, OTHER_PPMID):
        assert _zse(_top_up(meter, _utrn(pki, 11, 700), source)) == []
    assert esme_han_zse.credit(meter.tx()) == before


def _supply_frame(status: zse_metering.SupplyStatus) -> bytes:
    return ppmid.zse_frame(zse_metering.LocalChangeSupply(status), 3)


def _force_supply(meter: HanMeter, state: supply.Supply) -> None:
    nvm = dict(meter.machine.nvm)
    nvm[supply.SUPPLY] = int(state).to_bytes(8, "big")
    meter.machine = EsmeMachine(ESME, nvm)
    meter.step(BootEvent())


def test_local_change_supply_enables_an_armed_supply(pki: Pki) -> None:
    meter = HanMeter(pki, commissioned(ppmids=(PPMID,)))
    _force_supply(meter, supply.Supply.ARMED)
    step, _ = meter.step(MessageEvent("zse", _supply_frame(zse_metering.SupplyStatus.ON), PPMID))
    assert supply.state(meter.tx()) is supply.Supply.CLOSED
    assert PECS03 in [entry.code for entry in step.logs]
    assert not [o for o in step.sends if o.port == "zse" and isinstance(
        _decode(o)[1], DefaultResponse)]  # fmt: skip


@pytest.mark.parametrize(
    ("state", "status", "expected"),
    [
        (supply.Supply.OPEN, zse_metering.SupplyStatus.ON, ZclStatus.FAILURE),
        (supply.Supply.ARMED, zse_metering.SupplyStatus.OFF, ZclStatus.NOT_AUTHORIZED),
        (supply.Supply.CLOSED, zse_metering.SupplyStatus.ARMED, ZclStatus.NOT_AUTHORIZED),
    ],
)
def test_local_change_supply_refusals(
    pki: Pki, state: supply.Supply, status: zse_metering.SupplyStatus, expected: ZclStatus
) -> None:
    meter = HanMeter(pki, commissioned(ppmids=(PPMID,)))
    _force_supply(meter, state)
    sent = meter.frame("zse", _supply_frame(status), PPMID)
    [(to, answer)] = [(t, c) for t, c in _zse(sent) if isinstance(c, DefaultResponse)]
    assert to == PPMID
    assert isinstance(answer, DefaultResponse)
    assert answer.status == expected
    assert answer.command_id == zse_metering.LocalChangeSupply.COMMAND_ID
    assert supply.state(meter.tx()) is state


def test_emergency_credit_not_available_is_refused(pki: Pki) -> None:
    meter = HanMeter(pki, commissioned(ppmids=(PPMID,)))
    request = ppmid.zse_frame(zse_prepayment.SelectAvailableEmergencyCredit(0, IHD), 9)
    step, _ = meter.step(MessageEvent("zse", request, PPMID))
    assert PECS02 in [entry.code for entry in step.logs]
    [answer] = [_decode(o)[1] for o in step.sends if o.port == "zse"]
    assert isinstance(answer, DefaultResponse) and answer.status == ZclStatus.FAILURE


def test_emergency_credit_request_matches_the_button(
    pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Differential: the PPMID request and the meter's own button take the same path."""
    calls: list[str] = []

    def granted(tx: object) -> bool:
        calls.append("ec")
        return True

    monkeypatch.setattr(prepayment, "activate_emergency_credit", granted)
    meter = HanMeter(pki, commissioned(ppmids=(PPMID,)))
    request = ppmid.zse_frame(zse_prepayment.SelectAvailableEmergencyCredit(0, IHD), 9)
    step, _ = meter.step(MessageEvent("zse", request, PPMID))
    assert calls == ["ec"] and 0x81AB in [entry.code for entry in step.logs]
    assert not [o for o in step.sends if o.port == "zse" and isinstance(
        _decode(o)[1], DefaultResponse)]  # fmt: skip


def test_snapshots_are_published_only_on_change(pki: Pki) -> None:
    meter = HanMeter(pki, commissioned(ppmids=(PPMID,)))
    first = [
        c for _t, c in _zse(meter.sent) if isinstance(c, zse_prepayment.PublishPrepaySnapshot)
    ]
    assert len(first) == 1  # the first catch-up publishes what the PPMID has not seen
    since = len(meter.sent)
    meter.advance(T0 + timedelta(hours=1))
    meter.step(MessageEvent("zse", _supply_frame(zse_metering.SupplyStatus.ON), PPMID))
    assert not [c for _t, c in _zse(meter.sent[since:])
                if isinstance(c, zse_prepayment.PublishPrepaySnapshot)]  # fmt: skip
    _top_up(meter, _utrn(pki, 12, 250))
    assert [c for _t, c in _zse(meter.sent[since:])
            if isinstance(c, zse_prepayment.PublishPrepaySnapshot)]  # fmt: skip


def test_unjoined_meter_publishes_nothing(pki: Pki) -> None:
    meter = HanMeter(pki)
    assert _zse(meter.sent) == []
    assert meter.machine.nvm.get(esme_han_zse.PUBLISHED) is None


def test_end_to_end_the_ppmid_shows_the_answers(pki: Pki) -> None:
    meter = HanMeter(pki, commissioned(ppmids=(PPMID,)))
    tx_nvm: dict[str, bytes] = {}
    display = PpmidMachine(PPMID, tx_nvm)
    display.step(BootEvent(), T0)
    sent = _top_up(meter, _utrn(pki, 13, 321))
    for out in sent:
        if out.port == "zse" and out.to == PPMID:
            display.step(MessageEvent("zse", out.data, ESME), meter.now)
    shown = ppmid.display(display.nvm)
    after = esme_han_zse.credit(meter.tx())
    assert after is not None and shown.credit == after[0]
    assert shown.status == "Top up accepted"
    _force_supply(meter, supply.Supply.OPEN)
    refused = meter.frame("zse", _supply_frame(zse_metering.SupplyStatus.ON), PPMID)
    for out in refused:
        display.step(MessageEvent("zse", out.data, ESME), meter.now)
    assert ppmid.display(display.nvm).status == "Request refused"


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=24))
def test_random_zse_bytes_raise_only_decode_error(pki: Pki, data: bytes) -> None:
    machine = EsmeMachine(ESME, {**pki.provisioning(ESME), **commissioned(ppmids=(PPMID,))})
    machine.step(BootEvent(), T0)
    with contextlib.suppress(DecodeError):
        machine.step(MessageEvent("zse", data, PPMID), T0)
