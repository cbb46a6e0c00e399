"""CHF device log: CCS01 join windows, CCS03 restore, CCS06, unknown senders, ECS35c/d."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from smemu.firmware import chf_delivery, chf_log, chf_subghz, gpf
from smemu.firmware.chf import ChfMachine
from smemu.firmware.common.han import HanFrame, TunnelCommand
from smemu.firmware.common.machine import BootEvent, DeviceType, MessageEvent, Tx
from smemu.firmware.common.registry import MACHINES
from smemu.protocols.dlms.data import LongUnsigned, OctetString, Structure
from smemu.protocols.gbcs.frame import (
    GeneralSigningMessage,
    GroupingHeader,
    OtherInformation,
    locate,
)
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.zigbee.install_code import hashed_link_key, install_code_link_key

from ._support import ESME, GSME, T0, make_pki

CHF = Eui64.parse("00-DB-12-34-56-78-90-A2")
GPF = Eui64.parse("00-DB-12-34-56-78-90-A3")
PPMID = Eui64.parse("00-DB-12-34-56-78-90-A4")
STRANGER = Eui64.parse("00-DB-12-34-56-78-90-FF")
SUPPLIER = Eui64.parse("90-B3-D5-1F-30-01-00-00")
CODE = bytes.fromhex("83FED3407A939723A5C639B26916D505")
HISTORIC = bytes(range(16))


def _message(cra: Cra, counter: int, originator: Eui64, recipient: Eui64, code: int) -> bytes:
    header = GroupingHeader(cra, counter, originator, recipient, None, OtherInformation(code))
    return GeneralSigningMessage(header, b"\x00", None).encode()


def _pending_join(tx: Tx, eui: Eui64, timeout: int = 600) -> None:
    chf_log.add_device(tx, eui, "ppmid", CODE)
    tx.put_int(chf_log.JOIN_TIMEOUT, timeout)
    tx.put(chf_log.JOIN_UNTIL, (T0 + timedelta(seconds=timeout)).isoformat().encode())


def test_ccs01_historic_key_only_in_the_first_half_then_the_install_code() -> None:
    from_code = hashed_link_key(install_code_link_key(CODE))
    for offset, expected in ((60, HISTORIC), (299, HISTORIC), (301, from_code), (599, from_code)):
        tx = Tx(T0, {})
        tx.put_json(chf_log.HISTORY, [[PPMID.hex(), HISTORIC.hex()]])
        _pending_join(tx, PPMID)
        later = Tx(T0 + timedelta(seconds=offset), dict(tx.writes))  # type: ignore[arg-type]
        assert chf_log.admit(later, PPMID) is True
        assert chf_log.link_keys(later)[PPMID.hex()] == expected.hex(), offset
    # a device with no history uses its install code from the start
    tx = Tx(T0, {})
    _pending_join(tx, PPMID)
    later = Tx(T0 + timedelta(seconds=10), dict(tx.writes))  # type: ignore[arg-type]
    assert chf_log.join_key(later, PPMID) == from_code


def test_ccs03_restore_keeps_device_types_so_esme_commands_are_still_tracked(
    tmp_path: Path,
) -> None:
    pki = make_pki(tmp_path, {CHF: DeviceType.CHF})
    hub = MACHINES[DeviceType.CHF](CHF, pki.provisioning(CHF))
    hub.step(BootEvent(), T0)
    tx = Tx(T0, dict(hub.nvm))
    chf_log.add_device(tx, ESME, "esme", CODE)
    chf_log.add_device(tx, PPMID, "ppmid", CODE)
    chf_log.remove_device(tx, ESME)
    tx.put(chf_log.GPF_EUI, bytes(GPF))
    pan = bytes.fromhex("0102030405060708")
    entries = [(bytes(ESME), b"\x11" * 16), (bytes(GPF), b""), (bytes(STRANGER), b"")]
    chf_log.restore(tx, pan, entries)
    log = chf_log.device_log(tx)
    assert log == {ESME.hex(): "esme", GPF.hex(): "gpf", STRANGER.hex(): chf_log.UNKNOWN}
    assert chf_log.pan_id(tx) == pan
    assert chf_log.link_keys(tx) == {ESME.hex(): "11" * 16}
    backup = chf_log.backup(tx)
    assert backup.items[1] == OctetString(pan)
    # an entry of unknown type learns it from the first response it sends (ECS use case)
    response = _message(Cra.RESPONSE, 5, STRANGER, SUPPLIER, 0x0045)
    assert chf_log.learn_kind(tx, STRANGER, response) == "esme"
    assert chf_log.device_log(tx)[STRANGER.hex()] == "esme"
    assert chf_log.learn_kind(tx, PPMID, response) is None  # not an unknown entry


def test_ccs03_then_a_command_to_the_restored_esme_is_awaited(tmp_path: Path) -> None:
    pki = make_pki(tmp_path, {CHF: DeviceType.CHF})
    nvm = {**pki.provisioning(CHF), chf_log.KINDS: json.dumps({ESME.hex(): "esme"}).encode()}
    hub = MACHINES[DeviceType.CHF](CHF, nvm)
    hub.step(BootEvent(), T0)
    tx = Tx(T0, dict(hub.nvm))
    chf_log.restore(tx, bytes(8), [(bytes(ESME), b"\x11" * 16)])
    assert chf_log.device_log(tx) == {ESME.hex(): "esme"}
    hub2 = MACHINES[DeviceType.CHF](CHF, {**hub.nvm, **{k: v for k, v in tx.writes.items() if v}})
    hub2.step(BootEvent(), T0)
    hub2.step(MessageEvent("wan", _message(Cra.COMMAND, 9, SUPPLIER, ESME, 0x0045)), T0)
    [item] = chf_delivery.pending_of(hub2.nvm)
    assert (item.kind, item.counter) == (chf_delivery.COMMAND, 9)


def test_ccs06_active_devices_show_joined_and_last_heard(tmp_path: Path) -> None:
    tx = Tx(T0, {})
    chf_log.add_device(tx, ESME, "esme", None)
    chf_log.add_device(tx, PPMID, "ppmid", CODE)
    tx.put_json(chf_log.LINK_KEYS, {ESME.hex(): "22" * 16})
    heard_at = T0 + timedelta(minutes=5)
    later = Tx(heard_at, dict(tx.writes))  # type: ignore[arg-type]
    chf_log.heard(later, ESME)
    table = chf_log.objects(lambda t, b: None)[(104, chf_log.DEVICE_LOG_LN)]
    from smemu.firmware.common.cosem import CosemContext

    rows = table.get[4](CosemContext(later, None, None))  # type: ignore[arg-type]
    by_eui = {row.items[0].value: row for row in rows.items}  # type: ignore[attr-defined]
    esme, ppmid = by_eui[bytes(ESME)], by_eui[bytes(PPMID)]
    assert esme.items[1].data == b"\x80" and ppmid.items[1].data == b"\x00"
    assert esme.items[8].value[:4] == bytes.fromhex("07E90106")  # heard on 2025-01-06
    assert ppmid.items[8].value[:2] == b"\xff\xff"  # never heard: date-time not specified


def _chf(tmp_path: Path) -> ChfMachine:
    pki = make_pki(tmp_path, {CHF: DeviceType.CHF})
    log = json.dumps({ESME.hex(): "esme"}).encode()
    hub = MACHINES[DeviceType.CHF](CHF, {**pki.provisioning(CHF), chf_log.DEVICE_LOG: log})
    hub.step(BootEvent(), T0)
    assert isinstance(hub, ChfMachine)
    return hub


def test_frames_from_devices_not_in_the_log_are_dropped_and_security_logged(
    tmp_path: Path,
) -> None:
    hub = _chf(tmp_path)
    frame = HanFrame(TunnelCommand.PUT, _message(Cra.ALERT, 1, STRANGER, SUPPLIER, 0x1001))
    step = hub.step(MessageEvent("han", frame.encode(), STRANGER), T0)
    assert step.sends == () and "rejected" in step.tallies
    tx = Tx(T0, dict(hub.nvm))
    [row] = chf_subghz.log_buffer(tx, "security").values
    assert row.items[1] == LongUnsigned(0x8F3F)  # type: ignore[attr-defined]
    # the same alert from the whitelisted ESME goes up the WAN
    frame = HanFrame(TunnelCommand.PUT, _message(Cra.ALERT, 1, ESME, SUPPLIER, 0x1001))
    step = hub.step(MessageEvent("han", frame.encode(), ESME), T0)
    assert [o.port for o in step.sends] == ["wan"]


def test_ecs35c_event_log_records_device_log_changes(tmp_path: Path) -> None:
    hub = _chf(tmp_path)
    tx = Tx(T0, dict(hub.nvm))
    hub.device_log_changed(tx, chf_log.backup(tx))
    rows = chf_subghz.log_buffer(tx, "event").values
    assert [r.items[1] for r in rows] == [LongUnsigned(chf_log.CS14_ALERT)]  # type: ignore[attr-defined]
    assert isinstance(rows[0], Structure) and len(rows[0].items) == 3  # event log has "other"
    assert len(chf_subghz.log_buffer(tx, "security").values) == 0
    for n in range(chf_subghz.LOG_CAPACITY + 5):
        chf_subghz.record(tx, "event", n)
    rows = chf_subghz.log_buffer(tx, "event").values
    assert len(rows) == chf_subghz.LOG_CAPACITY
    assert rows[0].items[1] == LongUnsigned(5)  # type: ignore[attr-defined]


def test_gpf_queue_keeps_the_newest_64_in_order(tmp_path: Path) -> None:
    pki = make_pki(tmp_path, {GSME: DeviceType.GSME, GPF: DeviceType.GPF})
    proxy = MACHINES[DeviceType.GPF](GPF, {**pki.provisioning(GPF), gpf.GSME_EUI: bytes(GSME)})
    proxy.step(BootEvent(), T0)
    total = gpf.QUEUE_LIMIT + 3
    for n in range(total):
        message = _message(Cra.COMMAND, n, SUPPLIER, GSME, 0x0067)
        proxy.step(MessageEvent("chf", HanFrame(TunnelCommand.PUT, message).encode()), T0)
    got = []
    poll = HanFrame(TunnelCommand.GET, b"").encode()
    for _ in range(gpf.QUEUE_LIMIT + 1):
        step = proxy.step(MessageEvent("chf", poll), T0)
        [out] = step.sends
        from smemu.firmware.common.han import decode_han

        answer = decode_han(out.data)
        if not answer.message:
            break
        header = locate(answer.message).message.header  # type: ignore[union-attr]
        got.append(header.originator_counter)
    assert got == list(range(3, total))
