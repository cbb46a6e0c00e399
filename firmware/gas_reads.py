"""The gas meter's register reads and the sampled-data logs (GCS13a-c, GCS14, GCS17, GCS18, GCS31).

Layer: firmware. Use Case volume, service 4 (reads) and 14.1 (GCS31); the GBZ message
templates name the attributes and commands.

Theory of operation
-------------------
:func:`refresh` brings the register engine (:mod:`smemu.firmware.gas_metering`) up to
``tx.now`` and writes the registers as ZCL attribute values into NVM (the keys
:class:`~smemu.firmware.gas_zcl.AttributeStore` reads first), so a Read Attributes of the
Metering or Prepayment cluster sees current values and the GPF's mirror (a copy of the
``gsme/`` keys) sees the values of its last refresh:

* Metering: CurrentSummationDelivered 0x0000, the TOU register matrix
  CurrentTierNSummationDelivered 0x0100, 0x0102 ... and the block counters
  CurrentNoTierBlockNSummationDelivered 0x0700-0x0703 (litres: multiplier 1, divisor 1000);
* Prepayment: CreditRemaining 0x0001 (meter balance), EmergencyCreditRemaining 0x0002,
  AccumulatedDebt 0x0005 (INT32), DebtAmount #1 / #2 / #3 0x0211 / 0x0221 / 0x0231
  (time-based debts 1 and 2, payment-based debt; UINT32), in 10^-5 currency units;
* Metering supply tamper / depletion / uncontrolled flow states 0x0607-0x0609 and the
  uncontrolled flow settings 0x0B10-0x0B15, from the last Set Supply Status / Set
  Uncontrolled Flow Threshold;
* Metering RemainingBatteryLifeInDays 0x0205 (GCS33, RemainingBatteryCapacity: Operational
  data): the battery's design life (``battery/life_days``, default
  :data:`BATTERY_LIFE_DAYS`) less the whole days since the battery was fitted (the first
  refresh, ``battery/since``), never below zero.

Sampled data (Metering Get Sampled Data 0x08): sample id 0 is the half-hourly Profile Data
Log of the engine (GCS17, 1800 s interval); sample id 1 the Daily Consumption Log (GCS61,
731 days: each day's volume from the Daily Read Log's midnight registers, interval 0xFFFF
meaning 24 hours); other ids are samplings started by Start Sampling 0x07 (GCS31: the
Network Data Log, sample id 2), answered from the consumption model at the requested
interval (GCS18). The profile and the daily log end with the period in progress (the
half-hour, the day since local midnight) -- consumption so far -- so that a request up to
``toDateTime`` (EarliestSampleTime + NumberOfSamples periods, the use cases' calculation)
gets every period that has begun by then. A request that finds no sample is answered
NOT_FOUND.
"""

from __future__ import annotations

from array import array
from typing import Final

from smemu.errors import DecodeError
from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_metering import (
    D_T,
    D_VOLUME,
    DAILY,
    DAILY_SLOTS,
    DAILY_WORDS,
    LOGS,
    STATE,
    TABLE,
    GasFlow,
    catch_up,
    registers,
)
from smemu.firmware.gas_zcl import ZclRefusedError, ZclReply, attr_key, decode_request
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers import ops
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.metering import (
    GetSampledData,
    GetSampledDataResponse,
    SetUncontrolledFlowThreshold,
    StartSampling,
    StartSamplingResponse,
)
from smemu.protocols.zigbee.zcl import ZclStatus

METERING: Final = 0x0702
PREPAYMENT: Final = 0x0705
_INT32: Final = 0x2B
_UINT32: Final = 0x23
_UINT48: Final = 0x25
_UINT8: Final = 0x20
_UINT16: Final = 0x21
_ENUM8: Final = 0x30
#: NVM of the supply commands (:mod:`smemu.firmware.gas_handlers`): the four supply states
#: of the last Set Supply Status, the last Set Uncontrolled Flow Threshold payload
SUPPLY_STATUS: Final = "gsme/supply_status"
UNCONTROLLED_FLOW: Final = "gsme/uncontrolled_flow"
#: the registers the GBZ reads publish (TOU tiers 1..16, blocks 1..4)
TIERS: Final = 16
BLOCKS: Final = 4
#: NVM: started samplings ``{"<id>": [start (UTC s), interval s, max samples]}``
SAMPLINGS: Final = "gsme/samplings"
MAX_SAMPLINGS: Final = 4
PROFILE_SAMPLE_ID: Final = 0
#: GCS61: the sample id of the Daily Consumption Log (mapping table row 932)
DAILY_CONSUMPTION_ID: Final = 0x0001
#: GCS61: the Sample Request Interval that means 24 hours (the use case's template)
DAILY_INTERVAL: Final = 0xFFFF
_Y2K: Final = 946_684_800  #: UTC seconds of 2000-01-01 (ZCL UTCTime epoch)
_UINT24_MAX: Final = 0xFFFFFF
NO_SAMPLING: Final = 0xFFFF  #: Start Sampling Response: the sampling could not be started
#: GCS31 / GCS18: the sample id of the Network Data Log (mapping table row 1391)
NETWORK_DATA_LOG_ID: Final = 0x0002
#: NVM: UTC second the battery was fitted; the battery's design life in days (the GSME's
#: own: outside the ``gsme/`` keys the GPF mirrors, which gets the attribute instead)
BATTERY_SINCE: Final = "battery/since"
BATTERY_LIFE: Final = "battery/life_days"
#: the emulated GSME battery's design life: 15 years
BATTERY_LIFE_DAYS: Final = 15 * 365
_DAY_S: Final = 86_400


def _typed(code: int, value: int, size: int, *, signed: bool = False) -> bytes:
    return bytes((code,)) + value.to_bytes(size, "little", signed=signed)


def _int32(value: int) -> bytes:
    return _typed(_INT32, max(-(2**31), min(2**31 - 1, value)), 4, signed=True)


def _uint32(value: int) -> bytes:
    return _typed(_UINT32, max(0, min(2**32 - 1, value)), 4)


def register_attributes(tx: Tx) -> dict[tuple[int, int], bytes]:
    """The register attribute values (``type || value``) at the engine state's instant.

    Money in 10^-5 currency units (millipence: the price trailing digit 0x50).
    """
    r = registers(tx)
    state = array("q")
    state.frombytes(tx.get(STATE) or lay.new_state(r.t - r.t % lay.INTERVAL).tobytes())
    money = ops.read(state)
    out: dict[tuple[int, int], bytes] = {(METERING, 0x0000): _typed(_UINT48, r.volume_litres, 6)}
    for i, litres in enumerate(r.tou_litres[:TIERS]):
        out[(METERING, 0x0100 + 2 * i)] = _typed(_UINT48, litres, 6)
    for i, litres in enumerate(r.block_litres[:BLOCKS]):
        out[(METERING, 0x0700 + i)] = _typed(_UINT48, litres, 6)
    out[(PREPAYMENT, 0x0001)] = _int32(money.meter_balance)
    out[(PREPAYMENT, 0x0002)] = _int32(money.emergency_credit_balance)
    out[(PREPAYMENT, 0x0005)] = _int32(money.accumulated_debt)
    out[(PREPAYMENT, 0x0211)] = _uint32(money.time_debts[0])
    out[(PREPAYMENT, 0x0221)] = _uint32(money.time_debts[1])
    out[(PREPAYMENT, 0x0231)] = _uint32(money.payment_debt)
    out.update(supply_attributes(tx))
    out[(METERING, 0x0205)] = _typed(_UINT16, battery_days(tx), 2)
    return out


def battery_days(tx: Tx) -> int:
    """GCS33: the remaining battery life in whole days at ``tx.now`` (see the module)."""
    now = int(tx.now.timestamp())
    fitted = tx.get_int(BATTERY_SINCE, now)
    life = tx.get_int(BATTERY_LIFE, BATTERY_LIFE_DAYS)
    return max(0, min(0xFFFF, life - max(0, now - fitted) // _DAY_S))


def supply_attributes(tx: Tx) -> dict[tuple[int, int], bytes]:
    """The supply state (GCS24 Set Supply Status) and uncontrolled flow settings (GCS24a Set
    Uncontrolled Flow Threshold) the Metering cluster publishes (GCS21a, GCS21m)."""
    out: dict[tuple[int, int], bytes] = {}
    states = tx.get(SUPPLY_STATUS)
    if states is not None and len(states) == 4:
        for attribute, value in zip((0x0607, 0x0608, 0x0609), states[:3], strict=True):
            out[(METERING, attribute)] = bytes((_ENUM8, value))
    raw = tx.get(UNCONTROLLED_FLOW)
    if raw is not None:
        try:
            flow = SetUncontrolledFlowThreshold.decode_exact(raw)
        except DecodeError:
            return out
        out[(METERING, 0x0B10)] = _typed(_UINT16, flow.uncontrolled_flow_threshold, 2)
        out[(METERING, 0x0B11)] = bytes((_ENUM8, int(flow.unit_of_measure)))
        out[(METERING, 0x0B12)] = _typed(_UINT16, flow.multiplier, 2)
        out[(METERING, 0x0B13)] = _typed(_UINT16, flow.divisor, 2)
        out[(METERING, 0x0B14)] = _typed(_UINT8, flow.stabilisation_period, 1)
        out[(METERING, 0x0B15)] = _typed(_UINT16, flow.measurement_period, 2)
    return out


def refresh(tx: Tx) -> None:
    """Advance the registers to ``tx.now`` and publish them as attribute values in NVM."""
    catch_up(tx)
    if tx.get(BATTERY_SINCE) is None:
        tx.put_int(BATTERY_SINCE, int(tx.now.timestamp()))
    for (cluster, attribute), typed in register_attributes(tx).items():
        tx.put(attr_key(cluster, attribute), typed)


def profile(tx: Tx) -> tuple[int, array[int]]:
    """The Profile Data Log: (UTC start of its first interval, litres per half-hour)."""
    state = array("q")
    state.frombytes(tx.get(STATE) or b"")
    table = array("q")
    table.frombytes(tx.get(TABLE) or b"")
    raw = tx.get(LOGS)
    if not state or not table or not raw or not table[lay.T_FLAGS] & lay.F_LOG_PROFILE:
        return 0, array("H")
    offset = lay.log_sections(table[lay.T_FLAGS])[0]
    ring = memoryview(raw)[offset : offset + 2 * lay.PROFILE_SLOTS].cast("H")
    head = state[lay.S_PROFILE_HEAD]
    count = min(head, lay.PROFILE_SLOTS)
    first = head - count
    start = first % lay.PROFILE_SLOTS
    values = array("H", ring[start:]) + array("H", ring[:start])
    return state[lay.S_T] - count * lay.INTERVAL, values[:count]


def _in_progress(tx: Tx, t: int) -> int | None:
    """Litres of the half-hour starting at the engine state's instant ``t`` consumed so far,
    when ``tx.now`` lies in it (else None: the state is older than that half-hour)."""
    now = int(tx.now.timestamp())
    if not t <= now < t + lay.INTERVAL:
        return None
    if tx.get_int("gsme/valve", 1) != 1:
        return 0
    return GasFlow.from_tx(tx).volume(t, now)


def _profile_samples(tx: Tx, request: GetSampledData) -> GetSampledDataResponse:
    t0, values = profile(tx)
    current = _in_progress(tx, t0 + len(values) * lay.INTERVAL)
    if current is not None:
        values.append(min(0xFFFF, current))
    earliest = request.earliest_sample_time + _Y2K
    # the use case's toDateTime is EarliestSampleTime + NumberOfSamples x 30 min (GCS17)
    end = earliest + request.number_of_samples * lay.INTERVAL
    skip = max(0, -(-(earliest - t0) // lay.INTERVAL))
    last = min(len(values), max(0, -(-(end - t0) // lay.INTERVAL)))
    chosen = values[skip:last]
    if not chosen:
        raise ZclRefusedError(ZclStatus.NOT_FOUND, "no profile data in that range")
    return GetSampledDataResponse(
        PROFILE_SAMPLE_ID,
        t0 + skip * lay.INTERVAL - _Y2K,
        request.sample_type,
        lay.INTERVAL,
        tuple(chosen),
    )


def daily_consumption(tx: Tx) -> list[tuple[int, int]]:
    """The Daily Consumption Log: (UTC local midnight a day began at, litres that day),
    oldest first; the last day is the one in progress (litres up to the engine state)."""
    state = array("q")
    state.frombytes(tx.get(STATE) or b"")
    words = array("q")
    words.frombytes(tx.get(DAILY) or b"")
    if not state or len(words) != DAILY_SLOTS * DAILY_WORDS:
        return []
    head = state[lay.S_DAILY_HEAD]
    marks: list[tuple[int, int]] = []
    for serial in range(max(0, head - DAILY_SLOTS), head):
        base = serial % DAILY_SLOTS * DAILY_WORDS
        if words[base + D_T]:
            marks.append((words[base + D_T], words[base + D_VOLUME]))
    if not marks:
        return []
    ends = [volume for _t, volume in marks[1:]] + [state[lay.S_IMPORT]]
    return [(t, max(0, end - volume)) for (t, volume), end in zip(marks, ends, strict=True)]


def _daily_samples(tx: Tx, request: GetSampledData) -> GetSampledDataResponse:
    earliest = request.earliest_sample_time + _Y2K
    days = [d for d in daily_consumption(tx) if d[0] >= earliest][: request.number_of_samples]
    if not days:
        raise ZclRefusedError(ZclStatus.NOT_FOUND, "no daily consumption in that range")
    return GetSampledDataResponse(
        DAILY_CONSUMPTION_ID,
        days[0][0] - _Y2K,
        request.sample_type,
        DAILY_INTERVAL,
        tuple(min(_UINT24_MAX, litres) for _t, litres in days),
    )


def _started_samples(tx: Tx, request: GetSampledData) -> GetSampledDataResponse:
    raw = tx.get_json(SAMPLINGS, {})
    entry = raw.get(str(request.sample_id)) if isinstance(raw, dict) else None
    if not isinstance(entry, list) or len(entry) != 3:
        raise ZclRefusedError(ZclStatus.NOT_FOUND, f"no sampling {request.sample_id}")
    start, interval, maximum = (int(v) for v in entry)
    now = int(tx.now.timestamp())
    earliest = max(start, request.earliest_sample_time + _Y2K)
    skip = max(0, -(-(earliest - start) // interval))
    done = min(maximum, (now - start) // interval)  # samples whose interval has ended
    count = max(0, min(request.number_of_samples, done - skip))
    if count == 0:
        raise ZclRefusedError(ZclStatus.NOT_FOUND, "no samples in that range")
    flow = GasFlow.from_tx(tx)
    first = start + skip * interval
    samples = tuple(
        min(_UINT24_MAX, flow.volume(first + k * interval, first + (k + 1) * interval))
        for k in range(count)
    )
    return GetSampledDataResponse(
        request.sample_id, first - _Y2K, request.sample_type, interval, samples
    )


def get_sampled_data(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
    """GCS17 / GCS18 / GCS61 (metering 0x08 Get Sampled Data): profile or started sampling."""
    request = decode_request(GetSampledData, comp)
    if request.sample_id == PROFILE_SAMPLE_ID:
        reply = _profile_samples(tx, request)
    elif request.sample_id == DAILY_CONSUMPTION_ID:
        reply = _daily_samples(tx, request)
    else:
        reply = _started_samples(tx, request)
    return ZclReply(reply.COMMAND_ID, reply.encode())


def start_sampling(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
    """GCS31 (metering 0x07 Start Sampling): (re)start the Network Data Log; its sample id
    :data:`NETWORK_DATA_LOG_ID`, or 0xFFFF when no sampling can be started (a zero interval
    or sample count)."""
    request = decode_request(StartSampling, comp)
    raw = tx.get_json(SAMPLINGS, {})
    samplings = dict(raw) if isinstance(raw, dict) else {}
    if request.sample_request_interval == 0 or request.max_number_of_samples == 0:
        return ZclReply(
            StartSamplingResponse.COMMAND_ID, StartSamplingResponse(NO_SAMPLING).encode()
        )
    now = int(tx.now.timestamp())
    start = now if request.start_sampling_time == 0 else request.start_sampling_time + _Y2K
    # one Network Data Log: a new start restarts it (its id is fixed, row 1391)
    samplings[str(NETWORK_DATA_LOG_ID)] = [
        start,
        request.sample_request_interval,
        request.max_number_of_samples,
    ]
    kept = sorted(samplings, key=int)[-MAX_SAMPLINGS:]
    tx.put_json(SAMPLINGS, {k: samplings[k] for k in kept})
    reply = StartSamplingResponse(NETWORK_DATA_LOG_ID)
    return ZclReply(reply.COMMAND_ID, reply.encode())


__all__ = [
    "BATTERY_LIFE_DAYS",
    "DAILY_CONSUMPTION_ID",
    "NETWORK_DATA_LOG_ID",
    "battery_days",
    "daily_consumption",
    "get_sampled_data",
    "profile",
    "refresh",
    "register_attributes",
    "start_sampling",
]
