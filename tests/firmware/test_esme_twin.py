"""The twin-element ESME: both elements' registers, the secondary tariff, one load switch."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from smemu.devices.keys import Pki
from smemu.errors import ConfigError
from smemu.firmware import esme_twin, metering, tariff
from smemu.firmware.common.cosem import CosemContext
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import BootEvent, DeviceType, MessageEvent, Tx
from smemu.firmware.common.registry import MACHINES
from smemu.firmware.cosem_model import attribute_key, default_value, profile_description
from smemu.firmware.esme import ESME_MODEL, EsmeMachine
from smemu.hil.demo import action, dlms_request, get
from smemu.protocols.dlms import apdu, axdr, protection
from smemu.protocols.dlms.apdu import DataAccessResult, parse_obis
from smemu.protocols.dlms.axdr import Data
from smemu.protocols.dlms.cosem import (
    ChargeTableEntry,
    DayProfile,
    DayScheduleAction,
    UnitCharge,
    WeekProfile,
)
from smemu.protocols.dlms.data import (
    Array,
    DoubleLongUnsigned,
    LongUnsigned,
    NullData,
    OctetString,
    Structure,
)
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.decrypt import decrypt_payload
from tests.firmware._support import ESME, T0, command, make_pki

ECS17B, ECS17C, ECS17D, ECS01C = 0x0027, 0x0028, 0x0029, 0x00B7
ECS39A, ECS42, ECS43 = 0x004C, 0x004F, 0x0050
NOW_TIME = OctetString(bytes(9) + b"\x80\x00\xff")  # the "activate now" date-time
TARIFF_SCRIPT = parse_obis("0-0:10.0.100.255")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki") / "keys")


def _meter(pki: Pki, variant: str | None, **config: bytes) -> EsmeMachine:
    nvm = pki.provisioning(ESME)
    if variant is not None:
        nvm.update(esme_twin.configuration(variant))
    nvm.update(config)
    machine = MACHINES[DeviceType.ESME](ESME, nvm)
    assert isinstance(machine, EsmeMachine)
    machine.step(BootEvent(), T0)
    return machine


def _answer(machine: EsmeMachine, data: bytes, at: timedelta) -> bytes:
    step = machine.step(MessageEvent("han", HanFrame(TunnelCommand.PUT, data).encode()), T0 + at)
    [answer] = [decode_han(s.data).message for s in step.sends]
    return answer


def _protected(
    pki: Pki, machine: EsmeMachine, code: int, obis: str, n: int, *, at: timedelta
) -> Data:
    """The plaintext of a get_protected_attributes read (ECS17b / ECS17d)."""
    payload = dlms_request(n, action(30, obis, 1, NullData()))
    answer = _answer(machine, command(pki, ESME, code, n, payload), at)
    outcome, plaintexts = decrypt_payload(frame.locate(answer), pki.keystore)
    assert outcome == "decrypted"
    value = protection.decode_plaintext(plaintexts[0])
    assert isinstance(value, Structure)
    (collection,) = value.items
    return collection


def _response(answer: bytes) -> apdu.AccessResponseMessage:
    inner = frame.signing_message(frame.locate(answer).message)
    assert inner is not None
    body = apdu.decode_exact(inner.payload)
    assert isinstance(body, apdu.AccessResponseMessage)
    return body


def _numbers(value: Data) -> list[int]:
    assert isinstance(value, Array)
    return [v.value for v in value.items if isinstance(v, DoubleLongUnsigned)]


# --------------------------------------------------------------------------- variant


def test_the_variant_is_configuration_and_single_by_default() -> None:
    assert esme_twin.variant(Tx(T0, {})) == esme_twin.SINGLE
    twin = Tx(T0, esme_twin.configuration("twin"))
    assert esme_twin.is_twin(twin)
    assert not esme_twin.is_twin(Tx(T0, {esme_twin.VARIANT: b"polyphase?"}))
    with pytest.raises(ConfigError):
        esme_twin.configuration("triple")


def test_twin_model_has_the_twin_only_members_the_single_model_leaves_out() -> None:
    twin = esme_twin.twin_model(ESME_MODEL)
    daily = (7, parse_obis("0-0:98.1.9.255"))  # ECS21a: daily read log
    billing = (7, parse_obis("0-0:98.1.2.255"))  # ECS20b
    for key, extra in ((daily, 2), (billing, 2)):
        single_entry = profile_description(ESME_MODEL.attributes[key][2].row)
        twin_entry = profile_description(twin.attributes[key][2].row)
        assert single_entry is not None and twin_entry is not None
        assert len(twin_entry.elements) == len(single_entry.elements) + extra
    collection = (1, esme_twin.IMPORT_COLLECTION)
    single_default = default_value(ESME_MODEL.attributes[collection][2].row)
    twin_default = default_value(twin.attributes[collection][2].row)
    assert isinstance(single_default, Structure) and isinstance(twin_default, Structure)
    assert len(twin_default.items) == len(single_default.items) + 1
    # the protected attributes of the Data Protection objects follow the twin rows
    (protected,) = twin.protected[parse_obis("0-0:43.2.8.255")]
    assert protected is twin.attributes[collection][2]


# ----------------------------------------------------------------- reads of both elements


def test_import_collection_reads_both_elements(pki: Pki) -> None:
    load = {metering.LOAD: b'{"watts": 400}', esme_twin.LOAD: json.dumps({"watts": 100}).encode()}
    twin = _meter(pki, "twin", **load)
    single = _meter(pki, None, **load)
    hours = timedelta(hours=10)
    value = _protected(pki, twin, ECS17B, "0-0:43.2.8.255", 20, at=hours)
    assert isinstance(value, Structure) and len(value.items) == 5
    assert value.items[0] == DoubleLongUnsigned(4000)  # 400 W for 10 h
    assert value.items[4] == DoubleLongUnsigned(1000)  # 100 W for 10 h
    plain = _protected(pki, single, ECS17B, "0-0:43.2.8.255", 20, at=hours)
    assert isinstance(plain, Structure) and len(plain.items) == 4
    assert plain.items == value.items[:4]


def test_secondary_registers_are_objects_of_their_own(pki: Pki) -> None:
    twin = _meter(pki, "twin", **{esme_twin.LOAD: b'{"watts": 300}'})
    payload = dlms_request(
        30, get(3, "1-20:1.8.0.255", 2), get(3, "1-20:1.8.1.255", 2), get(3, "1-20:1.8.2.255", 2)
    )
    body = _response(_answer(twin, command(pki, ESME, ECS17C, 30, payload), timedelta(hours=4)))
    assert body.list_of_data == (
        DoubleLongUnsigned(1200), DoubleLongUnsigned(1200), DoubleLongUnsigned(0),
    )  # fmt: skip - a fresh secondary tariff is one rate all day
    single = _meter(pki, None)
    body = _response(_answer(single, command(pki, ESME, ECS17C, 30, payload), timedelta(hours=4)))
    assert body.specifications[0].result == DataAccessResult.OBJECT_UNDEFINED


# ------------------------------------------------------------------ tariff per element


def _ecs01c_payload(n: int) -> bytes:
    """ECS01c: secondary rates 1..4 -- rate 2 (selector 202) from 07:00, rate 1 from 19:00,
    every day -- and secondary prices, both activated now."""
    script = TARIFF_SCRIPT
    day = DayProfile(
        1,
        (
            DayScheduleAction(bytes((0, 0, 0, 0)), script, 201),
            DayScheduleAction(bytes((7, 0, 0, 0)), script, 202),
            DayScheduleAction(bytes((19, 0, 0, 0)), script, 201),
        ),
    )
    week = WeekProfile(b"\x01", (1,) * 7)
    prices = UnitCharge(
        3, -5, 3, esme_twin.SECONDARY_IMPORT, 2,
        tuple(ChargeTableEntry(bytes((i,)), 1000 * i) for i in range(1, 5)),
    )  # fmt: skip
    calendar = "0-0:13.0.1.255"
    return dlms_request(
        n,
        (apdu.AccessRequestSet(20, parse_obis(calendar), 8), Array((week.to_data(),))),
        (apdu.AccessRequestSet(20, parse_obis(calendar), 9), Array((day.to_data(),))),
        (apdu.AccessRequestSet(20, parse_obis(calendar), 10), NOW_TIME),
        (apdu.AccessRequestSet(113, tariff.SECONDARY_PRICES, 6), prices.to_data()),
        (apdu.AccessRequestSet(113, tariff.SECONDARY_PRICES, 7), NOW_TIME),
    )


def test_secondary_tariff_splits_only_the_secondary_element(pki: Pki) -> None:
    twin = _meter(pki, "twin", **{esme_twin.LOAD: b'{"watts": 200}'})
    answer = _answer(twin, command(pki, ESME, ECS01C, 40, _ecs01c_payload(40), sign=True),
                     timedelta())  # fmt: skip
    assert {r.result for r in _response(answer).specifications} == {DataAccessResult.SUCCESS}
    # T0 is a Monday 00:00 UTC (GMT): a whole day later, 7 h + 5 h at rate 1, 12 h at rate 2
    collection = _protected(pki, twin, ECS17D, "0-0:43.2.9.255", 41, at=timedelta(days=1))
    assert isinstance(collection, Structure)
    primary, secondary = collection.items
    assert _numbers(secondary) == [2400, 2400, 0, 0]  # 100 Wh per half-hour
    assert sum(_numbers(primary)) == 9600 and _numbers(primary)[0] == 9600  # untouched
    # the price in force is the secondary element's: rate 1 at 00:00 is 1000
    payload = dlms_request(42, get(3, "0-0:94.44.1.8", 2), get(3, "0-0:94.44.1.7", 2))
    body = _response(_answer(twin, command(pki, ESME, ECS17C, 42, payload), timedelta(days=1)))
    assert body.list_of_data == (DoubleLongUnsigned(1000), DoubleLongUnsigned(0))


def test_secondary_tariff_objects_compile_with_secondary_selectors() -> None:
    calendar = tariff.CALENDAR_2
    day = DayProfile(3, (DayScheduleAction(bytes(4), TARIFF_SCRIPT, 204),
                         DayScheduleAction(bytes((12, 0, 0, 0)), TARIFF_SCRIPT, 7)))  # fmt: skip
    nvm = {
        attribute_key(20, calendar, 5): axdr.encode(Array((day.to_data(),))),
        attribute_key(20, calendar, 4): axdr.encode(
            Array((WeekProfile(b"\x01", (3,) * 7).to_data(),))
        ),
    }
    secondary = tariff.tariff_from_active(Tx(T0, nvm), tariff.SECONDARY_TARIFF)
    # selector 7 is a primary TOU rate: not the secondary element's
    assert [p.switches for p in secondary.day_profiles] == [((0, 4),)]
    primary = tariff.tariff_from_active(Tx(T0, nvm))
    assert primary.day_profiles == tariff.default_tariff().day_profiles


# ------------------------------------------------------------------- supply per element


def test_the_load_switch_supplies_both_elements(pki: Pki) -> None:
    twin = _meter(pki, "twin", **{metering.LOAD: b'{"watts": 400}',
                                  esme_twin.LOAD: b'{"watts": 200}'})  # fmt: skip
    open_cmd = dlms_request(50, action(9, "0-0:10.0.106.255", 1, LongUnsigned(52)))
    _answer(twin, command(pki, ESME, ECS43, 50, open_cmd, sign=True), timedelta(hours=2))
    close_cmd = dlms_request(51, action(9, "0-0:10.0.106.255", 1, LongUnsigned(51)))
    _answer(twin, command(pki, ESME, ECS42, 51, close_cmd, sign=True), timedelta(hours=6))
    value = _protected(pki, twin, ECS17B, "0-0:43.2.8.255", 52, at=timedelta(hours=8))
    assert isinstance(value, Structure)
    # 2 h before opening + 2 h after closing: 4 h of each element's load
    assert value.items[0] == DoubleLongUnsigned(1600)
    assert value.items[4] == DoubleLongUnsigned(800)


def test_secondary_stops_when_credit_disables_the_supply() -> None:
    tx = Tx(T0, esme_twin.configuration("twin"))
    esme_twin.initialise(tx)
    nvm = {k: v for k, v in tx.writes.items() if v is not None}
    tx_later = Tx(T0 + timedelta(hours=5), nvm)
    start = metering.epoch(T0)
    esme_twin.catch_up(tx_later, closed=True, disabled_at=start + 3600)
    assert esme_twin.registers(tx_later).import_wh == 200  # 1 h at 200 W, then no supply


# -------------------------------------------------------------------- single element


def test_single_element_refuses_a_secondary_mpan_that_twin_accepts(pki: Pki) -> None:
    both = OctetString(b"1312345678111" + b"1312345678222")
    payload = dlms_request(60, (apdu.AccessRequestSet(1, parse_obis("0-0:94.44.34.11"), 2), both))
    results = {}
    for variant in ("single", "twin"):
        meter = _meter(pki, variant)
        body = _response(_answer(meter, command(pki, ESME, ECS39A, 60, payload), timedelta()))
        results[variant] = body.specifications[0].result
    assert results == {"single": DataAccessResult.OTHER_REASON, "twin": DataAccessResult.SUCCESS}


def test_collections_without_engine_state_read_zero() -> None:
    ctx = CosemContext(Tx(T0, esme_twin.configuration("twin")), None, None)  # type: ignore[arg-type]
    obj = esme_twin.objects({})[(1, esme_twin.TOU_COLLECTION)]
    value = obj.get[2](ctx)
    assert isinstance(value, Structure)
    assert _numbers(value.items[-1]) == [0, 0, 0, 0]
