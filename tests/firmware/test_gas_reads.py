"""gas_reads: register attributes, the profile log and samplings (GCS13, GCS17, GCS18, GCS31)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.firmware import gas_metering as gm
from smemu.firmware import gas_reads as gr
from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_zcl import AttributeStore, ZclRefusedError, serve
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.metering import (
    GetSampledData,
    GetSampledDataResponse,
    StartSampling,
    StartSamplingResponse,
)
from smemu.protocols.zigbee.zcl import ZclStatus

T0 = datetime(2024, 3, 1, tzinfo=UTC)
Y2K = 946_684_800
HANDLERS = {(0x0702, 0x07): gr.start_sampling, (0x0702, 0x08): gr.get_sampled_data}


def _tx(flow: object, delta: timedelta) -> Tx:
    tx = Tx(T0, {})
    tx.put_json(gm.FLOW, flow)
    gm.catch_up(tx)
    return Tx(T0 + delta, {k: v for k, v in tx.writes.items() if v is not None})


def _comp(cluster: int, fc: int, cmd: int, payload: bytes) -> gbz.GbzComponent:
    return gbz.GbzComponent(gbz.CONTROL_LAST, cluster, fc, 0, cmd, payload)


def _one(tx: Tx, comp: gbz.GbzComponent) -> gbz.GbzComponent:
    reply = serve(tx, gbz.GbzMessage((comp,)), AttributeStore({}), HANDLERS)
    (out,) = reply.components
    return out


def test_refresh_publishes_the_registers_as_attributes() -> None:
    tx = _tx({"litres_per_hour": 50}, timedelta(hours=10))
    gr.refresh(tx)
    # Read Attributes: current summation, tier 1, credit remaining, accumulated debt
    ids = b"".join(a.to_bytes(2, "little") for a in (0x0000, 0x0100))
    out = _one(tx, _comp(0x0702, 0x00, 0x00, ids))
    assert out.command_id == 0x01
    assert out.payload == (
        b"\x00\x00\x00\x25"
        + (500).to_bytes(6, "little")
        + b"\x00\x01\x00\x25"
        + (500).to_bytes(6, "little")
    )
    out = _one(tx, _comp(0x0705, 0x00, 0x00, b"\x01\x00\x05\x00\x31\x02"))
    assert out.payload == b"\x01\x00\x00\x2b" + bytes(4) + b"\x05\x00\x00\x2b" + bytes(4) + (
        b"\x31\x02\x00\x23" + bytes(4)
    )


def test_profile_samples_are_the_half_hourly_volumes() -> None:
    series = [5, 9, 0, 12]
    tx = _tx({"series": series}, timedelta(hours=6))
    gr.refresh(tx)
    start, values = gr.profile(tx)
    assert start == int(T0.timestamp()) and list(values) == series * 3
    request = GetSampledData(0, start + 3600 - Y2K, 0, 5)
    out = _one(tx, _comp(0x0702, 0x01, 0x08, request.encode()))
    assert out.command_id == 0x07
    reply = GetSampledDataResponse.decode_exact(out.payload)
    assert reply.sample_start_time == start + 3600 - Y2K
    assert reply.sample_request_interval == 1800
    assert list(reply.samples) == [0, 12, 5, 9, 0]


def test_profile_after_its_end_is_not_found() -> None:
    tx = _tx({"litres_per_hour": 10}, timedelta(hours=2))
    gr.refresh(tx)
    request = GetSampledData(0, int((T0 + timedelta(days=5)).timestamp()) - Y2K, 0, 5)
    out = _one(tx, _comp(0x0702, 0x01, 0x08, request.encode()))
    assert (out.command_id, out.payload) == (0x0B, bytes((0x08, ZclStatus.NOT_FOUND)))


def test_profile_window_ends_after_the_number_of_samples() -> None:
    """GCS17: toDateTime = EarliestSampleTime + NumberOfSamples x 30 min; a window before the
    log's first interval finds nothing, one overlapping its start only the samples in it."""
    tx = _tx({"litres_per_hour": 10}, timedelta(hours=6))
    gr.refresh(tx)
    start = int(T0.timestamp()) - Y2K
    before = GetSampledData(0, start - 86_400, 0, 48)  # the day before the log starts
    out = _one(tx, _comp(0x0702, 0x01, 0x08, before.encode()))
    assert (out.command_id, out.payload) == (0x0B, bytes((0x08, ZclStatus.NOT_FOUND)))
    overlap = GetSampledData(0, start - 3600, 0, 4)  # 2 intervals before, 2 in the log
    reply = GetSampledDataResponse.decode_exact(
        _one(tx, _comp(0x0702, 0x01, 0x08, overlap.encode())).payload
    )
    assert (reply.sample_start_time, list(reply.samples)) == (start, [5, 5])


def test_start_sampling_then_read_its_samples() -> None:
    tx = _tx({"litres_per_hour": 600}, timedelta(hours=1))
    start = StartSampling(1, 0, 0, 360, 41)
    out = _one(tx, _comp(0x0702, 0x01, 0x07, start.encode()))
    assert out.command_id == 0x0D and out.frame_control & 0x03 == 0x01
    sample_id = StartSamplingResponse.decode_exact(out.payload).sample_id
    assert sample_id == gr.NETWORK_DATA_LOG_ID == 2
    later = Tx(
        tx.now + timedelta(minutes=31), {**tx.base, **{k: v for k, v in tx.writes.items() if v}}
    )
    request = GetSampledData(sample_id, 1, 0, 41)
    reply = GetSampledDataResponse.decode_exact(
        _one(later, _comp(0x0702, 0x01, 0x08, request.encode())).payload
    )
    assert reply.sample_request_interval == 360
    assert list(reply.samples) == [60] * 5  # 600 l/h: 60 l per 6 minutes, 5 complete
    unknown = GetSampledData(7, 1, 0, 41)
    with pytest.raises(ZclRefusedError) as refused:
        gr.get_sampled_data(later, _comp(0x0702, 0x01, 0x08, unknown.encode()))
    assert refused.value.status is ZclStatus.NOT_FOUND


def test_start_sampling_refuses_a_zero_interval() -> None:
    tx = _tx({"litres_per_hour": 1}, timedelta(0))
    reply = gr.start_sampling(tx, _comp(0x0702, 0x01, 0x07, StartSampling(1, 0, 0, 0, 4).encode()))
    assert StartSamplingResponse.decode_exact(reply.payload).sample_id == gr.NO_SAMPLING


@given(st.binary(max_size=24))
def test_random_payloads_are_refused_not_raised(payload: bytes) -> None:
    tx = _tx({"litres_per_hour": 1}, timedelta(hours=1))
    for handler in (gr.get_sampled_data, gr.start_sampling):
        try:
            handler(tx, _comp(0x0702, 0x01, 0x07, payload))
        except ZclRefusedError as refused:
            assert refused.status in (ZclStatus.MALFORMED_COMMAND, ZclStatus.NOT_FOUND)


def test_a_new_start_restarts_the_one_network_data_log() -> None:
    tx = _tx({"litres_per_hour": 600}, timedelta(hours=1))
    first = _one(tx, _comp(0x0702, 0x01, 0x07, StartSampling(1, 0, 0, 360, 41).encode()))
    again = _one(tx, _comp(0x0702, 0x01, 0x07, StartSampling(2, 0, 0, 60, 10).encode()))
    ids = {StartSamplingResponse.decode_exact(c.payload).sample_id for c in (first, again)}
    assert ids == {gr.NETWORK_DATA_LOG_ID}
    assert tx.get_json(gr.SAMPLINGS, {}) == {"2": [int(tx.now.timestamp()), 60, 10]}


def test_remaining_battery_life_counts_down_from_the_first_refresh() -> None:
    tx = Tx(T0, {})
    gr.refresh(tx)
    typed = tx.get("gsme/attr/0702/0205")
    assert typed == b"\x21" + gr.BATTERY_LIFE_DAYS.to_bytes(2, "little")
    nvm = {k: v for k, v in tx.writes.items() if v is not None}
    later = Tx(T0 + timedelta(days=100, hours=23), nvm)
    assert gr.battery_days(later) == gr.BATTERY_LIFE_DAYS - 100
    gone = Tx(T0 + timedelta(days=gr.BATTERY_LIFE_DAYS + 5), nvm)
    assert gr.battery_days(gone) == 0
    # the fitting date is the meter's own: the GPF mirrors the attribute, not the date
    assert not gr.BATTERY_SINCE.startswith(("gsme/", "gas/"))


def test_profile_ends_with_the_half_hour_in_progress() -> None:
    """GCS17: a window reaching past the last recorded half-hour also gets the one in
    progress, with the litres consumed so far."""
    tx = _tx({"litres_per_hour": 60}, timedelta(hours=2, minutes=10))
    gr.refresh(tx)
    start, values = gr.profile(tx)
    assert list(values) == [30] * 4
    request = GetSampledData(0, start - Y2K, 0, 6)
    reply = GetSampledDataResponse.decode_exact(
        _one(tx, _comp(0x0702, 0x01, 0x08, request.encode())).payload
    )
    assert list(reply.samples) == [30, 30, 30, 30, 10]
    # a closed valve: nothing in progress
    tx.put_int("gsme/valve", 0)
    reply = GetSampledDataResponse.decode_exact(
        _one(tx, _comp(0x0702, 0x01, 0x08, request.encode())).payload
    )
    assert list(reply.samples) == [30, 30, 30, 30, 0]


def _daily_request(earliest: datetime, count: int) -> bytes:
    return GetSampledData(1, int(earliest.timestamp()) - Y2K, 0, count).encode()


def test_daily_consumption_log_is_each_days_volume() -> None:
    """GCS61 (sample id 1): one sample per local day from the first midnight at or after
    EarliestSampleTime, the last the day in progress; interval 0xFFFF (24 hours)."""
    tx = _tx({"litres_per_hour": 100}, timedelta(days=4, hours=6))
    gr.refresh(tx)
    days = gr.daily_consumption(tx)
    # midnights of 2, 3, 4 and 5 March (the boot instant is no log entry)
    assert [t for t, _ in days] == [int((T0 + timedelta(days=d)).timestamp()) for d in (1, 2, 3, 4)]
    assert [v for _, v in days] == [2400, 2400, 2400, 600]
    out = _one(tx, _comp(0x0702, 0x01, 0x08, _daily_request(T0 + timedelta(hours=1), 731)))
    assert out.command_id == 0x07
    reply = GetSampledDataResponse.decode_exact(out.payload)
    assert reply.sample_id == gr.DAILY_CONSUMPTION_ID
    assert reply.sample_start_time == int((T0 + timedelta(days=1)).timestamp()) - Y2K
    assert reply.sample_request_interval == 0xFFFF
    assert list(reply.samples) == [2400, 2400, 2400, 600]
    limited = _one(tx, _comp(0x0702, 0x01, 0x08, _daily_request(T0 + timedelta(days=2), 1)))
    assert list(GetSampledDataResponse.decode_exact(limited.payload).samples) == [2400]
    later = _one(tx, _comp(0x0702, 0x01, 0x08, _daily_request(T0 + timedelta(days=9), 5)))
    assert (later.command_id, later.payload) == (0x0B, bytes((0x08, ZclStatus.NOT_FOUND)))


def test_daily_consumption_of_a_new_meter_is_not_found() -> None:
    tx = _tx({"litres_per_hour": 100}, timedelta(hours=3))
    gr.refresh(tx)
    assert gr.daily_consumption(tx) == []
    out = _one(tx, _comp(0x0702, 0x01, 0x08, _daily_request(T0, 10)))
    assert (out.command_id, out.payload) == (0x0B, bytes((0x08, ZclStatus.NOT_FOUND)))
