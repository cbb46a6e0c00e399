"""CHF: device log (CCS01/CCS02/CCS07, CS14), hub-side joining, Sub GHz model, keys."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import cast

import pytest

from smemu.firmware import chf_log, chf_subghz
from smemu.firmware.chf import ChfMachine
from smemu.firmware.common.cosem import CosemContext, CosemFailure
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.machine import DeviceType, MessageEvent, Tx
from smemu.protocols.dlms import apdu
from smemu.protocols.dlms.apdu import parse_obis
from smemu.protocols.dlms.data import (
    Boolean,
    Enum,
    LongUnsigned,
    NullData,
    OctetString,
    Structure,
    Unsigned,
)
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.zigbee import install_code as chf_keys

from ._support import T0, booted, command, make_pki

CHF = Eui64.parse("00-DB-12-34-56-78-90-A2")
NEW = Eui64.parse("00-DB-12-34-56-78-90-B7")
LOG = parse_obis("0-0:30.3.0.255")
CODE = bytes.fromhex("83FED3407A939723A5C639B26916D505")


def test_install_code_link_key_matches_zigbee_example() -> None:
    # ZigBee SE install code example: CRC 0xB5C3, preconfigured link key 66B6...02BB
    assert chf_keys.crc16_x25(CODE) == 0xB5C3
    key = chf_keys.install_code_link_key(CODE)
    assert key.hex().upper() == "66B6900981E1EE3CA4206B6B861C02BB"
    assert chf_keys.hashed_link_key(key) != key


def _payload(counter: int) -> bytes:
    register = Structure((OctetString(bytes(NEW)), Enum(1), OctetString(CODE), Enum(132)))
    request = apdu.AccessRequestMessage(
        0x20000000 | counter,
        b"",
        (
            apdu.AccessRequestAction(104, LOG, 1),
            apdu.AccessRequestSet(104, LOG, 3),
            apdu.AccessRequestSet(104, LOG, 2),
        ),
        (register, LongUnsigned(60), Boolean(0xFF)),
    )
    return apdu.encode(request)


def _chf(tmp_path: Path) -> tuple[ChfMachine, object]:
    pki = make_pki(tmp_path, {CHF: DeviceType.CHF})
    machine = booted(pki, CHF, DeviceType.CHF)
    assert isinstance(machine, ChfMachine)
    return machine, pki


def test_ccs01_adds_device_and_alerts_cs14_then_join_records_key(tmp_path: Path) -> None:
    machine, pki = _chf(tmp_path)
    data = command(pki, CHF, 0x0001, 0x1000, _payload(0x1000), role=Role.ACCESS_CONTROL_BROKER)  # type: ignore[arg-type]
    step = machine.step(MessageEvent("wan", data), T0)
    sent = [frame.locate(o.data).message for o in step.sends if o.port == "wan"]
    codes = [m.header.other_information.message_code for m in sent]  # type: ignore[union-attr]
    assert chf_log.CS14_MESSAGE_CODE in codes and 0x0001 in codes
    tx = Tx(T0, machine.nvm)
    assert chf_log.device_log(tx)[NEW.hex()] == "ppmid"
    assert chf_log.joining_open(tx)
    # the device's first frame inside the window is its join: the key hash is recorded
    later = T0 + timedelta(seconds=30)
    tx = Tx(later, dict(machine.nvm))
    assert chf_log.admit(tx, NEW) is True
    expected = chf_keys.hashed_link_key(chf_keys.install_code_link_key(CODE))
    assert chf_log.link_keys(tx)[NEW.hex()] == expected.hex()
    # outside the window, a pending join is not heard
    tx = Tx(T0 + timedelta(seconds=61), dict(machine.nvm))
    assert chf_log.admit(tx, NEW) is None


def test_remove_moves_key_to_history_capped_at_15() -> None:
    tx = Tx(T0, {})
    for n in range(17):
        eui = Eui64(bytes(7) + bytes((n,)))
        chf_log.add_device(tx, eui, "esme", None)
        keys = chf_log.link_keys(tx)
        keys[eui.hex()] = bytes(16).hex()
        tx.put_json(chf_log.LINK_KEYS, keys)
        assert chf_log.remove_device(tx, eui)
    past = chf_log.history(tx)
    assert len(past) == chf_log.HISTORY_CAPACITY
    assert past[0][0] == (bytes(7) + bytes((2,))).hex()
    assert not chf_log.remove_device(tx, Eui64(bytes(8)))


def test_backup_lists_devices_with_empty_hash_before_join() -> None:
    tx = Tx(T0, {})
    chf_log.add_device(tx, NEW, "esme", CODE)
    value = chf_log.backup(tx)
    devices = value.items[2]
    assert devices.items == (Structure((OctetString(bytes(NEW)), OctetString(b""))),)  # type: ignore[attr-defined]


def test_scan_changes_channel_logs_and_alerts() -> None:
    tx = Tx(T0, {})
    alerts: list[int] = []
    start = chf_subghz.channel(tx)
    new = chf_subghz.scan(tx, lambda t, code, extra: alerts.append(code))
    assert new is not None and new != start
    assert alerts == [chf_subghz.ALERT_CHANNEL_CHANGED]
    assert len(chf_subghz.log_buffer(tx, "subghz").values) == 1
    mask = chf_subghz.channel_mask(28, new)
    assert int.from_bytes(mask.data, "big") >> 27 == 28


def test_duty_cycle_enters_limited_once() -> None:
    tx = Tx(T0, {})
    alerts: list[int] = []
    assert chf_subghz.duty_state(tx) is chf_subghz.DutyCycle.NORMAL
    for _ in range(5):
        chf_subghz.transmitted(tx, 10, bytes(NEW), lambda t, c, e: alerts.append(c))
    assert chf_subghz.duty_state(tx) is not chf_subghz.DutyCycle.NORMAL
    assert alerts == [chf_subghz.ALERT_LIMITED_DUTY_CYCLE]


def test_scan_request_rejects_a_wrong_type() -> None:
    objects = chf_subghz.objects(lambda t, c, e: None, {})
    setter = objects[(1, chf_subghz.SCAN_LN)].set[2]
    ctx = CosemContext(Tx(T0, {}), cast("object", None), cast("object", None))  # type: ignore[arg-type]
    with pytest.raises(CosemFailure):
        setter(ctx, NullData())
    setter(ctx, Unsigned(0))
    assert chf_subghz.channel(ctx.tx) != chf_subghz.DEFAULT_CHANNEL
