"""GsmeMachine / GpfMachine: GBZ use cases served from the ZCL server (gas_zcl, gas_handlers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.devices.keys import Pki
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import DeviceType, MessageEvent, Tx
from smemu.firmware.gas_handlers import HANDLERS, STORE, VALVE, VALVE_ARMED, VALVE_CLOSED
from smemu.firmware.gas_zcl import serve
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.zigbee import gbz

from ._support import GSME, T0, booted, command, make_pki

GPF = Eui64.parse("00-DB-12-34-56-78-90-A2")
GCS24A = 0x00FC
GCS32 = 0x0081
GCS13B = 0x00B8


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path, {GSME: DeviceType.GSME, GPF: DeviceType.GPF})


def _comp(
    cluster: int, fc: int, seq: int, cmd: int, payload: bytes, *, last: bool = True
) -> gbz.GbzComponent:
    return gbz.GbzComponent(gbz.CONTROL_LAST if last else 0, cluster, fc, seq, cmd, payload)


def _exchange(pki: Pki, eui: Eui64, kind: DeviceType, code: int, body: gbz.GbzMessage, *,
              sign: bool) -> tuple[object, frame.GeneralSigningMessage, gbz.GbzMessage]:
    machine = booted(pki, eui, kind)
    data = command(pki, eui, code, 70, gbz.encode(body), sign=sign)
    port = machine.UPLINK
    step = machine.step(MessageEvent(port, HanFrame(TunnelCommand.PUT, data).encode()), T0)
    answers = [decode_han(s.data).message for s in step.sends if s.port == port]
    answers = [a for a in answers if a]
    assert len(answers) == 1
    located = frame.locate(answers[0])
    inner = frame.signing_message(located.message)
    assert inner is not None and inner.header.cra is Cra.RESPONSE
    assert inner.header.originator_counter == 70
    if sign:
        assert secure.verify_signature(located, pki.keystore) is secure.Verdict.VALID
    return machine, inner, gbz.decode_exact(inner.payload)


def test_gcs24a_answers_one_default_response_per_command(pki: Pki) -> None:
    body = gbz.GbzMessage((
        _comp(0x0702, 0x01, 0, 0x0E, bytes(8) + bytes(8), last=False),
        _comp(0x0702, 0x01, 1, 0x0D, bytes(4) + b"\x03\x03\x00\x03"),
    ))
    machine, _, reply = _exchange(pki, GSME, DeviceType.GSME, GCS24A, body, sign=True)
    assert [(c.frame_control, c.sequence, c.command_id, c.payload) for c in reply.components] == [
        (0x08, 0, 0x0B, b"\x0e\x00"),
        (0x08, 1, 0x0B, b"\x0d\x00"),
    ]
    assert [c.is_last for c in reply.components] == [False, True]
    assert machine.nvm["gsme/supply_status"] == b"\x03\x03\x00\x03"  # type: ignore[attr-defined]


def _change_supply(status: int) -> gbz.GbzMessage:
    payload = (0).to_bytes(4, "little") + (7).to_bytes(4, "little") + bytes(8) + bytes((status, 1))
    return gbz.GbzMessage((_comp(0x0702, 0x01, 5, 0x0B, payload),))


@pytest.mark.parametrize(("status", "valve"), [(0, VALVE_CLOSED), (1, VALVE_ARMED)])
def test_valve_close_and_arm(pki: Pki, status: int, valve: int) -> None:
    machine, _, reply = _exchange(pki, GSME, DeviceType.GSME, GCS32, _change_supply(status),
                                  sign=True)
    [c] = reply.components
    assert (c.frame_control, c.command_id) == (0x09, 0x0C)
    assert c.payload[-1] == status
    assert int.from_bytes(machine.nvm[VALVE], "big") == valve  # type: ignore[attr-defined]


def _tx(nvm: dict[str, bytes] | None = None) -> Tx:
    return Tx(T0, nvm or {})


def test_valve_is_never_opened_remotely() -> None:
    tx = _tx({VALVE: VALVE_CLOSED.to_bytes(8, "big")})
    reply = serve(tx, _change_supply(2), STORE, HANDLERS)
    [c] = reply.components
    assert (c.command_id, c.payload) == (0x0B, b"\x0b\x7e")  # NOT_AUTHORIZED
    assert VALVE not in tx.writes


def test_read_attributes_known_and_unknown() -> None:
    body = gbz.GbzMessage((_comp(0x0702, 0x00, 3, 0x00, b"\x00\x00\xff\xfe"),))
    [c] = serve(_tx(), body, STORE, HANDLERS).components
    assert (c.frame_control, c.sequence, c.command_id) == (0x08, 3, 0x01)
    assert c.payload == b"\x00\x00\x00\x25" + bytes(6) + b"\xff\xfe\x86"


def test_write_then_read_round_trip() -> None:
    tx = _tx()
    write = gbz.GbzMessage((_comp(0x0702, 0x00, 1, 0x02, b"\x07\x03\x41\x03abc"),))
    [w] = serve(tx, write, STORE, HANDLERS).components
    assert (w.command_id, w.payload) == (0x04, b"\x00")
    read = gbz.GbzMessage((_comp(0x0702, 0x00, 2, 0x00, b"\x07\x03"),))
    [r] = serve(tx, read, STORE, HANDLERS).components
    assert r.payload == b"\x07\x03\x00\x41\x03abc"


def test_empty_logs_answer_not_found() -> None:
    body = gbz.GbzMessage((_comp(0x0705, 0x01, 0, 0x0A, bytes(6)),))
    [c] = serve(_tx(), body, STORE, HANDLERS).components
    assert c.payload == b"\x0a\x8b"


def test_billing_calendar_set_then_read() -> None:
    tx = _tx()
    calendar = bytes(4) + (9).to_bytes(4, "little") + bytes(4) + b"\x01\x00\x00\x22\x00"
    serve(tx, gbz.GbzMessage((_comp(0x0700, 0x09, 0, 0x09, calendar),)), STORE, HANDLERS)
    request = bytes(4) + b"\xff" * 4 + b"\x01\x00"
    get = gbz.GbzMessage((_comp(0x0700, 0x01, 1, 0x0B, request),))
    [c] = serve(tx, get, STORE, HANDLERS).components
    assert (c.frame_control, c.command_id, c.payload) == (0x09, 0x09, calendar)


@given(st.binary(max_size=40), st.integers(0, 0xFF), st.integers(0, 0xFF))
def test_any_payload_answers_a_zcl_frame_or_refusal(payload: bytes, cmd: int, fc: int) -> None:
    body = gbz.GbzMessage((_comp(0x0702, fc & 0x09, 0, cmd, payload),))
    [c] = serve(_tx(), body, STORE, HANDLERS).components
    assert c.sequence == 0 and c.is_last


def test_gpf_serves_an_encrypted_read_from_its_mirror(pki: Pki) -> None:
    body = gbz.GbzMessage((_comp(0x0702, 0x00, 0, 0x00, b"\x00\x00"),))
    _, inner, reply = _exchange(pki, GPF, DeviceType.GPF, GCS13B, body, sign=False)
    assert inner.header.date_time is not None  # how fresh the mirror is
    [c] = reply.components
    assert (c.cluster_id, c.command_id, c.is_encrypted) == (0x0702, 0x01, True)


def test_the_billing_calendar_read_is_the_one_the_engine_runs() -> None:
    """GCS21d before any GCS25 answers the engine's monthly calendar; GCS25 moves the
    engine's billing day (gas_tariff_engine)."""
    from smemu.firmware import gas_metering, gas_tariff_engine
    from smemu.protocols.zigbee.price import PublishBillingPeriod

    tx = _tx()
    request = bytes(4) + b"\xff" * 4 + b"\x01\x00"
    get = gbz.GbzMessage((_comp(0x0700, 0x01, 0, 0x0B, request),))
    [c] = serve(tx, get, STORE, HANDLERS).components
    assert c.command_id == 0x09
    assert PublishBillingPeriod.decode_exact(c.payload) == gas_tariff_engine.billing_period(tx)
    start = int((T0 - datetime(2000, 1, 1, tzinfo=UTC)).total_seconds()) + 14 * 86_400
    calendar = PublishBillingPeriod(0, 9, start, 1, 0x03, 0)
    serve(tx, gbz.GbzMessage((_comp(0x0700, 0x09, 0, 0x09, calendar.encode()),)), STORE, HANDLERS)
    assert gas_metering.settings(tx).billing_day == min(28, (T0 + timedelta(days=14)).day)


def test_gcs60a_and_gcs33_attributes_are_served() -> None:
    tx = _tx({VALVE: VALVE_ARMED.to_bytes(8, "big")})
    body = gbz.GbzMessage((_comp(0x0702, 0x00, 0, 0x00, b"\x00\x0a\x14\x00\x05\x02"),))
    [c] = serve(tx, body, STORE, HANDLERS).components
    assert c.payload[:8] == b"\x00\x0a\x00\x23" + bytes(4)  # BillToDateDelivered 0
    assert c.payload[8:12] == b"\x14\x00\x00\x30" and c.payload[12] == 1  # armed
    assert c.payload[13:16] == b"\x05\x02\x00"  # remaining battery life, served


def test_a_hardware_fault_in_a_read_leaves_the_rest_unprocessed() -> None:
    from smemu.firmware.common import faults

    point = faults.ZclPoint(faults.ZclAccess.ATTRIBUTE, 0x0702, 0x0A00)
    tx = _tx(faults.image([faults.Fault(faults.FaultKind.HARDWARE, point)]))
    body = gbz.GbzMessage(
        (
            _comp(0x0702, 0x00, 0, 0x00, b"\x00\x0a", last=False),
            _comp(0x0705, 0x00, 1, 0x00, b"\x01\x00"),
        )
    )
    first, second = serve(tx, body, STORE, HANDLERS).components
    assert first.payload == b"\x00\x0a\xc0"
    assert (second.command_id, second.payload) == (0x0B, b"\xff\x01")
    # NOT_FOUND / unsupported do not stop a read
    quiet = _tx()
    body = gbz.GbzMessage(
        (
            _comp(0x0702, 0x00, 0, 0x00, b"\xfe\xfe", last=False),
            _comp(0x0705, 0x00, 1, 0x00, b"\x01\x00"),
        )
    )
    first, second = serve(quiet, body, STORE, HANDLERS).components
    assert first.payload == b"\xfe\xfe\x86" and second.command_id == 0x01
