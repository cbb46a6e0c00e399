"""The ESME's HAN load control: ECS47a to HCALCs, refresh, override notices, ECS35g / ECS15c.

Scenarios drive the whole ESME machine with secured commands and HAN frames, and check what
it sends on ``alc`` (decoded by the HCALC frame codec), the Auxiliary Controller Event Log as
ECS35g reads it, and -- end to end -- what a real HCALC machine does with the frames.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smemu.devices.keys import Pki
from smemu.errors import DecodeError
from smemu.firmware import esme_han, hcalc_frames
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import (
    BootEvent,
    Event,
    LineEvent,
    MessageEvent,
    Outgoing,
    Step,
    TimerEvent,
    Tx,
)
from smemu.firmware.esme import EsmeMachine
from smemu.firmware.hcalc import REFRESH_PENDING, HcalcMachine, switch_timeline_of
from smemu.hil.demo import action, dlms_request
from smemu.protocols.dlms import apdu
from smemu.protocols.dlms.apdu import ActionResult, DataAccessResult, parse_obis
from smemu.protocols.dlms.axdr import Data
from smemu.protocols.dlms.data import (
    Array,
    CompactArray,
    DoubleLongUnsigned,
    Enum,
    Integer,
    LongUnsigned,
    NullData,
    OctetString,
    Structure,
)
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.gbcs.use_cases import USE_CASES
from tests.firmware._support import ESME, T0, command, make_pki

HCALC = Eui64.parse("00-DB-12-34-56-78-90-A5")
OTHER_HCALC = Eui64.parse("00-DB-12-34-56-78-90-A7")
PPMID = Eui64.parse("00-DB-12-34-56-78-90-A4")
EPOCH_2000 = datetime(2000, 1, 1, tzinfo=UTC)
Item = tuple[apdu.AccessRequestSpecification, Data]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki") / "keys")


def commissioned(
    *, ppmids: tuple[Eui64, ...] = (), hcalcs: tuple[tuple[Eui64, int], ...] = ()
) -> dict[str, bytes]:
    tx = Tx(T0, {})
    esme_han.commission(tx, ppmids=ppmids, hcalcs=hcalcs)
    return {k: v for k, v in tx.writes.items() if v is not None}


class HanMeter:
    """An ESME driven by secured commands, HAN frames and its own timers."""

    def __init__(self, pki: Pki, extra: Mapping[str, bytes] | None = None) -> None:
        self.pki = pki
        self.machine = EsmeMachine(ESME, {**pki.provisioning(ESME), **(extra or {})})
        self.now = T0
        self.counter = 2000
        self.timers: dict[str, datetime] = {}
        self.sent: list[Outgoing] = []  #: everything sent on ports other than ``han``
        self.step(BootEvent())

    def step(self, event: Event) -> tuple[Step, list[bytes]]:
        step = self.machine.step(event, self.now)
        for request in step.timers:
            if request.at is None:
                self.timers.pop(request.name, None)
            else:
                self.timers[request.name] = request.at
        payloads = []
        for out in step.sends:
            if out.port != "han":
                self.sent.append(out)
                continue
            inner = frame.signing_message(frame.locate(decode_han(out.data).message).message)
            assert inner is not None
            payloads.append(inner.payload)
        return step, payloads

    def send(self, use_case: str, *items: Item) -> apdu.AccessResponseMessage:
        self.counter += 1
        uc = USE_CASES[use_case]
        data = command(
            self.pki, ESME, uc.message_codes[0], self.counter,
            dlms_request(self.counter, *items), sign=uc.criticality.value == "critical",
        )  # fmt: skip
        _, payloads = self.step(MessageEvent("han", HanFrame(TunnelCommand.PUT, data).encode()))
        responses = [apdu.decode_exact(p) for p in payloads]
        answers = [r for r in responses if isinstance(r, apdu.AccessResponseMessage)]
        assert len(answers) == 1
        return answers[0]

    def frame(self, port: str, data: bytes, source: Eui64 | None) -> list[Outgoing]:
        before = len(self.sent)
        self.step(MessageEvent(port, data, source))
        return self.sent[before:]

    def advance(self, until: datetime) -> None:
        """Fire the meter's own timers up to ``until``, then stand at ``until``."""
        while due := sorted((at, n) for n, at in self.timers.items() if at <= until):
            at, name = due[0]
            del self.timers[name]
            self.now = max(self.now, at)
            self.step(TimerEvent(name))
        self.now = until

    def alc(self, since: int = 0) -> list[tuple[Eui64 | None, hcalc_frames.AlcFrame]]:
        return [
            (o.to, hcalc_frames.decode_exact(o.data)) for o in self.sent[since:] if o.port == "alc"
        ]

    def tx(self) -> Tx:
        return Tx(self.now, self.machine.nvm)


def _dt(t: datetime) -> OctetString:
    return OctetString(
        t.year.to_bytes(2, "big") + bytes((t.month, t.day, 0xFF, t.hour, t.minute, t.second))
        + b"\x00\x80\x00\x00"
    )


def _set(cls: int, obis: str, attr: int, value: Data) -> Item:
    return apdu.AccessRequestSet(cls, parse_obis(obis), attr), value


def ecs47a(
    meter: HanMeter, n: int, closed: bool, start: datetime, end: datetime, *, kind: int = 1
) -> apdu.AccessResponseMessage:
    selector = kind << 12 | n << 8 | (100 if closed else 0)
    return meter.send(
        "ECS47a",
        _set(1, f"0-0:94.44.{116 + n}.1", 2, _dt(start)),
        _set(1, f"0-0:94.44.{116 + n}.2", 2, _dt(end)),
        action(9, "0-0:10.0.103.255", 1, LongUnsigned(selector)),
    )


def _results(response: apdu.AccessResponseMessage) -> list[int]:
    return [r.result for r in response.specifications]


def _secs2000(t: datetime) -> int:
    return int((t - EPOCH_2000).total_seconds())


def _read_log(meter: HanMeter, start: datetime, end: datetime) -> list[tuple[int, ...]]:
    params = Structure((
        Structure((LongUnsigned(1), OctetString(parse_obis("0-0:94.44.100.255")), Integer(2),
                   LongUnsigned(0))),
        DoubleLongUnsigned(_secs2000(start)),
        DoubleLongUnsigned(_secs2000(end)),
        Array(()),
    ))  # fmt: skip
    spec = apdu.AccessRequestGetWithSelection(7, parse_obis("0-17:99.98.2.255"), 2, 1, params)
    response = meter.send("ECS35g", (spec, NullData()))
    assert _results(response) == [DataAccessResult.SUCCESS]
    [value] = response.list_of_data
    assert isinstance(value, CompactArray)
    rows = []
    for entry in value.values:
        assert isinstance(entry, Structure)
        t, sa, outcome, han_id = entry.items
        assert isinstance(t, DoubleLongUnsigned) and isinstance(sa, LongUnsigned)
        assert isinstance(outcome, Enum) and isinstance(han_id, DoubleLongUnsigned)
        rows.append((t.value, sa.value, outcome.value, han_id.value))
    return rows


# ------------------------------------------------------------------ ECS47a -> HECS01


def test_ecs47a_to_an_hcalc_sends_set_state_with_the_remaining_period(pki: Pki) -> None:
    meter = HanMeter(pki, commissioned(hcalcs=((HCALC, 2),)))
    start, end = T0 - timedelta(minutes=10), T0 + timedelta(minutes=50)
    response = ecs47a(meter, 2, True, start, end)
    assert _results(response) == [DataAccessResult.SUCCESS] * 2 + [ActionResult.SUCCESS]
    [(to, sent)] = meter.alc()
    assert to == HCALC
    assert isinstance(sent, hcalc_frames.SetState)
    assert (sent.switch, sent.closed) == (2, True)
    assert sent.duration == int((end - meter.now).total_seconds())


def test_a_period_in_the_future_waits_for_its_start(pki: Pki) -> None:
    meter = HanMeter(pki, commissioned(hcalcs=((HCALC, 2),)))
    start, end = T0 + timedelta(hours=2), T0 + timedelta(hours=3)
    ecs47a(meter, 1, False, start, end)
    assert meter.alc() == []
    assert meter.timers[esme_han.ALC_TIMER] == start
    meter.advance(start + timedelta(seconds=1))
    [(to, sent)] = meter.alc()
    assert to == HCALC and sent == hcalc_frames.SetState(1, False, 3600)


def test_a_later_command_supersedes_a_pending_one(pki: Pki) -> None:
    meter = HanMeter(pki, commissioned(hcalcs=((HCALC, 1),)))
    ecs47a(meter, 1, True, T0 + timedelta(hours=2), T0 + timedelta(hours=3))
    ecs47a(meter, 1, False, T0 + timedelta(hours=4), T0 + timedelta(hours=5))
    meter.advance(T0 + timedelta(hours=6))
    assert [f for _to, f in meter.alc()] == [hcalc_frames.SetState(1, False, 3600)]


def test_controllers_that_are_not_joined_hcalcs_send_nothing(pki: Pki) -> None:
    tx = Tx(T0, {})
    esme_han.associate(tx, 1, HCALC)  # named, but not in the device log
    extra = {k: v for k, v in tx.writes.items() if v is not None}
    meter = HanMeter(pki, extra)
    for n in (1, 3):
        response = ecs47a(meter, n, True, T0, T0 + timedelta(hours=1))
        assert _results(response)[-1] == ActionResult.SUCCESS
    assert meter.alc() == []


def test_an_apc_command_to_an_hcalc_controller_is_not_a_switch_command(pki: Pki) -> None:
    meter = HanMeter(pki, commissioned(hcalcs=((HCALC, 1),)))
    ecs47a(meter, 1, True, T0, T0 + timedelta(hours=1), kind=2)
    assert meter.alc() == []


@pytest.mark.parametrize("hours", [0, 25, -1])
def test_a_setting_period_over_24_hours_or_not_after_its_start_is_refused(
    pki: Pki, hours: int
) -> None:
    meter = HanMeter(pki, commissioned(hcalcs=((HCALC, 1),)))
    response = ecs47a(meter, 1, True, T0, T0 + timedelta(hours=hours))
    assert _results(response) == [
        DataAccessResult.SUCCESS, DataAccessResult.OTHER_REASON, ActionResult.OTHER_REASON
    ]  # fmt: skip
    assert meter.alc() == []


def test_switch_numbers_count_the_controllers_naming_one_hcalc(pki: Pki) -> None:
    tx = Tx(T0, {})
    esme_han.commission(tx, hcalcs=((HCALC, 1), (OTHER_HCALC, 2)))
    assert [esme_han.hcalc_of(tx, n) for n in esme_han.CONTROLLERS] == [
        (HCALC, 1), (OTHER_HCALC, 1), (OTHER_HCALC, 2), None, None
    ]  # fmt: skip
    assert esme_han.controller_of(tx, OTHER_HCALC, 2) == 3
    with pytest.raises(ValueError):
        esme_han.commission(Tx(T0, {}), hcalcs=((HCALC, 6),))


# ------------------------------------------------------------------ frames from the HCALC


def test_refresh_request_answers_the_state_in_force(pki: Pki) -> None:
    meter = HanMeter(pki, commissioned(hcalcs=((HCALC, 2),)))
    ecs47a(meter, 1, True, T0, T0 + timedelta(hours=1))
    meter.advance(T0 + timedelta(minutes=20))
    since = len(meter.sent)
    meter.frame("alc", hcalc_frames.encode(hcalc_frames.RefreshRequest()), HCALC)
    sent = sorted(meter.alc(since), key=lambda x: getattr(x[1], "switch", 0))
    assert sent == [
        (HCALC, hcalc_frames.SetState(1, True, 40 * 60)),  # the period ends at T0 + 1 h
        (HCALC, hcalc_frames.SetState(2, False, 0)),  # nothing commanded: its calendar
    ]
    meter.advance(T0 + timedelta(hours=2))
    since = len(meter.sent)
    meter.frame("alc", hcalc_frames.encode(hcalc_frames.RefreshRequest()), HCALC)
    assert [f for _t, f in meter.alc(since)] == [
        hcalc_frames.SetState(1, False, 0), hcalc_frames.SetState(2, False, 0)
    ]  # fmt: skip


def test_frames_from_devices_not_joined_as_hcalcs_are_ignored(pki: Pki) -> None:
    meter = HanMeter(pki, commissioned(ppmids=(PPMID,), hcalcs=((HCALC, 1),)))
    data = hcalc_frames.encode(hcalc_frames.RefreshRequest())
    for source in (None, PPMID, OTHER_HCALC):
        assert [o for o in meter.frame("alc", data, source) if o.port == "alc"] == []
    assert esme_han.log_entries(meter.tx()) == []


def test_results_and_overrides_fill_the_event_log_read_by_ecs35g(pki: Pki) -> None:
    meter = HanMeter(pki, commissioned(hcalcs=((HCALC, 2),)))
    ecs47a(meter, 2, True, T0, T0 + timedelta(hours=1))
    sent_at = meter.now
    meter.now += timedelta(seconds=5)
    meter.frame("alc", hcalc_frames.encode(hcalc_frames.StateResult(2, True)), HCALC)
    meter.now += timedelta(minutes=1)
    meter.frame("alc", hcalc_frames.encode(hcalc_frames.OverrideNotice(1, True)), HCALC)
    assert esme_han.override_active(meter.tx(), 1)
    meter.now += timedelta(minutes=1)
    meter.frame("alc", hcalc_frames.encode(hcalc_frames.OverrideNotice(1, False)), HCALC)
    assert not esme_han.override_active(meter.tx(), 1)
    rows = _read_log(meter, T0 - timedelta(days=1), T0 + timedelta(days=1))
    han_id = int(sent_at.timestamp())
    assert rows[0] == (_secs2000(sent_at), 0x211, 0, han_id)  # sent: outcome not known
    assert rows[1] == (_secs2000(sent_at) + 5, 0x200, 1, han_id)  # the HCALC's answer
    assert [(sa, outcome) for _t, sa, outcome, _i in rows[2:]] == [(0x131, 1), (0x130, 1)]
    assert len({i for *_x, i in rows}) == 3  # HAN command ids are unique
    assert _read_log(meter, T0 + timedelta(days=1), T0 + timedelta(days=2)) == []
    response = meter.send("ECS15c", action(7, "0-17:99.98.2.255", 1, Integer(0)))
    assert _results(response) == [ActionResult.SUCCESS]
    assert _read_log(meter, T0 - timedelta(days=1), T0 + timedelta(days=1)) == []


def test_a_failed_state_change_is_logged_as_a_failure(pki: Pki) -> None:
    meter = HanMeter(pki, commissioned(hcalcs=((HCALC, 1),)))
    ecs47a(meter, 1, False, T0, T0 + timedelta(hours=1))
    step, _ = meter.step(
        MessageEvent("alc", hcalc_frames.encode(hcalc_frames.StateResult(1, False)), HCALC)
    )
    assert [e[1:3] for e in esme_han.log_entries(meter.tx())] == [(0x112, 0), (0x100, 2)]
    assert any("failed" in entry.text for entry in step.logs)


def test_the_log_keeps_the_newest_entries(pki: Pki) -> None:
    meter = HanMeter(pki, commissioned(hcalcs=((HCALC, 1),)))
    data = hcalc_frames.encode(hcalc_frames.OverrideNotice(1, True))
    for _ in range(esme_han.LOG_CAPACITY + 5):
        meter.now += timedelta(seconds=1)
        meter.frame("alc", data, HCALC)
    entries = esme_han.log_entries(meter.tx())
    assert len(entries) == esme_han.LOG_CAPACITY
    assert entries[-1][0] == _secs2000(meter.now)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=16))
def test_random_alc_bytes_raise_only_decode_error(pki: Pki, data: bytes) -> None:
    machine = EsmeMachine(ESME, {**pki.provisioning(ESME), **commissioned(
        hcalcs=((HCALC, 1),))})  # fmt: skip
    machine.step(BootEvent(), T0)
    with contextlib.suppress(DecodeError):
        machine.step(MessageEvent("alc", data, HCALC), T0)


# ------------------------------------------------------------------ with a real HCALC


def test_end_to_end_with_an_hcalc_machine(pki: Pki) -> None:
    """The ESME's SetState closes the HCALC's switch for the period, the HCALC's result
    lands in the ESME's log, and after a supply loss the HCALC's refresh is answered."""
    meter = HanMeter(pki, commissioned(hcalcs=((HCALC, 2),)))
    hcalc = HcalcMachine(HCALC, {})
    hcalc.step(BootEvent(), T0)

    def to_hcalc(since: int, at: datetime) -> list[bytes]:
        back = []
        for to, f in meter.alc(since):
            assert to == HCALC
            step = hcalc.step(MessageEvent("alc", hcalc_frames.encode(f)), at)
            back += [o.data for o in step.sends if o.port == "alc"]
        return back

    start, end = T0 + timedelta(hours=3), T0 + timedelta(hours=4)  # the calendar is all-open
    ecs47a(meter, 2, True, start, end)
    meter.advance(start)
    for data in to_hcalc(0, start):
        meter.frame("alc", data, HCALC)
    assert switch_timeline_of(hcalc.nvm, 2)[-1] == (start, True)
    assert [e[1:3] for e in esme_han.log_entries(meter.tx())] == [(0x211, 0), (0x200, 1)]
    # supply loss and restore at the HCALC: fail open, then a refresh puts the switch back
    lost, back = start + timedelta(minutes=10), start + timedelta(minutes=20)
    hcalc.step(LineEvent("power", False), lost)
    restored = hcalc.step(LineEvent("power", True), back)
    requests = [o.data for o in restored.sends if o.port == "alc"]
    assert hcalc_frames.RefreshRequest() in [hcalc_frames.decode_exact(d) for d in requests]
    assert hcalc.nvm.get(REFRESH_PENDING) is not None
    meter.advance(back)
    since = len(meter.sent)
    for data in requests:
        meter.frame("alc", data, HCALC)
    assert [f for _to, f in meter.alc(since)] == [
        hcalc_frames.SetState(1, False, 0),  # nothing commanded: back to its calendar
        hcalc_frames.SetState(2, True, int((end - back).total_seconds())),
    ]
    to_hcalc(since, back)
    assert hcalc.nvm.get(REFRESH_PENDING) is None  # the HCALC stops asking
    assert switch_timeline_of(hcalc.nvm, 2)[-1] == (back, True)
