"""CHF Sub GHz duty cycle wired to the hub's HAN traffic: DBCH06, DBCH10, DBCH11."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from smemu.firmware import chf_log, chf_subghz, cosem_model
from smemu.firmware.chf import ChfMachine
from smemu.firmware.common.machine import DeviceType, MessageEvent, Step, Tx
from smemu.firmware.common.registry import MACHINES
from smemu.protocols.dlms import apdu, axdr
from smemu.protocols.dlms.data import BitString, LongUnsigned, OctetString, Structure, Unsigned
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader, OtherInformation
from smemu.protocols.gbcs.types import Cra, Eui64

from ._support import ESME, T0, make_pki

CHF = Eui64.parse("00-DB-12-34-56-78-90-A2")
PPMID = Eui64.parse("00-DB-12-34-56-78-90-A4")
SUPPLIER = Eui64.parse("90-B3-D5-1F-30-01-00-00")


def _command(counter: int, recipient: Eui64 = ESME, size: int = 200) -> bytes:
    code = OtherInformation(0x0045)
    header = GroupingHeader(Cra.COMMAND, counter, SUPPLIER, recipient, None, code)
    return GeneralSigningMessage(header, bytes(size), None).encode()


def _config(limited: int, critical: int) -> bytes:
    """A DBCH04 configuration with the two duty-cycle thresholds (hundredths of a percent)."""
    masks = tuple(BitString(32, bytes(4)) for _ in range(4))
    rest = (Unsigned(7), LongUnsigned(0), Unsigned(0), Unsigned(0), LongUnsigned(0))
    tail = (Unsigned(0), LongUnsigned(0), LongUnsigned(0), LongUnsigned(0))
    items = (*masks, LongUnsigned(limited), LongUnsigned(critical), *rest, *tail)
    return axdr.encode(Structure(items))


def _hub(tmp_path: Path, **extra: bytes) -> ChfMachine:
    pki = make_pki(tmp_path, {CHF: DeviceType.CHF})
    log = {ESME.hex(): "esme", PPMID.hex(): "ppmid"}
    nvm = {
        **pki.provisioning(CHF),
        chf_log.DEVICE_LOG: json.dumps(log).encode(),
        cosem_model.attribute_key(1, chf_subghz.CONFIG_LN, 2): _config(1, 2),
        **extra,
    }
    machine = MACHINES[DeviceType.CHF](CHF, nvm)
    from smemu.firmware.common.machine import BootEvent

    machine.step(BootEvent(), T0)
    assert isinstance(machine, ChfMachine)
    return machine


def _alerts(step: Step) -> list[tuple[int, bytes]]:
    """(message code, last alert element) of each alert the hub sent on the WAN."""
    found = []
    for out in step.sends:
        if out.port != "wan":
            continue
        inner = frame.signing_message(frame.locate(out.data).message)
        if inner is None or inner.header.cra is not Cra.ALERT:
            continue
        header = inner.header
        body = apdu.decode_exact(inner.payload)
        assert isinstance(body, apdu.DataNotificationMessage)
        last = body.body.items[-1]  # type: ignore[attr-defined]
        value = last.value if isinstance(last, OctetString) else b""
        found.append((header.other_information.message_code, value))
    return found


def test_airtime_grows_with_size_and_fragments() -> None:
    assert chf_subghz.airtime_ms(0) > 0
    assert chf_subghz.airtime_ms(80) < chf_subghz.airtime_ms(81)
    # a second fragment costs its headers on top of the octets
    assert chf_subghz.airtime_ms(160) - chf_subghz.airtime_ms(80) > 80 * 8 // 100


def test_forwarded_commands_use_the_duty_cycle_then_dbch06_suspends_the_busiest(
    tmp_path: Path,
) -> None:
    hub = _hub(tmp_path)
    sent: list[tuple[int, bytes]] = []
    counter = 1
    while not sent:
        step = hub.step(MessageEvent("wan", _command(counter)), T0 + timedelta(seconds=counter))
        assert any(o.port == "han" and o.to == ESME for o in step.sends)
        sent = _alerts(step)
        counter += 1
        assert counter < 100, "the duty cycle never left normal"
    # entering limited: DBCH06 (0x0110) naming the ESME, logged in the Sub GHz channel log
    assert sent == [(0x0110, bytes(ESME))]
    tx = Tx(T0 + timedelta(seconds=counter), dict(hub.nvm))
    assert chf_subghz.duty_state(tx) is chf_subghz.DutyCycle.LIMITED
    assert ESME.hex() in chf_subghz.suspended(tx)
    rows = chf_subghz.log_buffer(tx, "subghz").values
    assert rows[-1].items[1] == LongUnsigned(chf_subghz.ALERT_LIMITED_DUTY_CYCLE)  # type: ignore[attr-defined]
    # the next command to the suspended ESME is discarded with DBCH10 and its request id
    step = hub.step(MessageEvent("wan", _command(500)), T0 + timedelta(seconds=counter))
    assert not [o for o in step.sends if o.port == "han"]
    detail = bytes(SUPPLIER) + bytes(ESME) + bytes((Cra.COMMAND,)) + (500).to_bytes(8, "big")
    assert _alerts(step) == [(0x0114, detail)]
    # the PPMID is not suspended in the limited state: its command still goes out
    step = hub.step(MessageEvent("wan", _command(501, PPMID)), T0 + timedelta(seconds=counter))
    assert [o.to for o in step.sends if o.port == "han"] == [PPMID]
    # a new hour starts from nothing: the ESME is reachable again
    later = T0 + timedelta(hours=1, seconds=1)
    step = hub.step(MessageEvent("wan", _command(502)), later)
    assert [o.to for o in step.sends if o.port == "han"] == [ESME]


def test_critical_discards_commands_to_every_device(tmp_path: Path) -> None:
    hub = _hub(tmp_path)
    counter = 1
    while True:
        tx = Tx(T0, dict(hub.nvm))
        if chf_subghz.duty_state(tx) is chf_subghz.DutyCycle.CRITICAL:
            break
        recipient = PPMID if counter % 2 else ESME
        hub.step(MessageEvent("wan", _command(counter, recipient, 1000)), T0)
        counter += 1
        assert counter < 200, "never critical"
    for recipient in (ESME, PPMID):
        step = hub.step(MessageEvent("wan", _command(900, recipient)), T0)
        assert not [o for o in step.sends if o.port == "han"]
        assert [code for code, _ in _alerts(step)] == [0x0114]


def test_default_thresholds_keep_a_normal_hour_normal() -> None:
    tx = Tx(T0, {})
    for _ in range(200):  # 200 commands of 300 octets to one device in an hour
        chf_subghz.transmitted(tx, chf_subghz.airtime_ms(300) / 1000, bytes(ESME), lambda *a: None)
    assert chf_subghz.duty_state(tx) is chf_subghz.DutyCycle.NORMAL
    assert chf_subghz.may_send(tx, bytes(ESME))


def test_dbch11_when_the_sub_ghz_capacity_is_reached(tmp_path: Path) -> None:
    code = bytes.fromhex("83FED3407A939723A5C639B26916D505")
    until = (T0 + timedelta(minutes=10)).isoformat().encode()
    hub = _hub(
        tmp_path,
        **{
            chf_subghz.CAPACITY_KEY: (1).to_bytes(8, "big"),
            chf_log.LINK_KEYS: json.dumps({ESME.hex(): "11" * 16}).encode(),
            chf_log.INSTALL_CODES: json.dumps({PPMID.hex(): code.hex()}).encode(),
            chf_log.JOIN_TIMEOUT: (600).to_bytes(8, "big"),
            chf_log.JOIN_UNTIL: until,
        },
    )
    step = hub.step(MessageEvent("han", b"\x00", PPMID), T0 + timedelta(minutes=1))
    assert _alerts(step) == [(0x0115, bytes(PPMID))]
    tx = Tx(T0, dict(hub.nvm))
    assert PPMID.hex() not in chf_log.link_keys(tx)
    codes = [row.items[1] for row in chf_subghz.log_buffer(tx, "subghz").values]  # type: ignore[attr-defined]
    assert LongUnsigned(chf_subghz.ALERT_NO_CAPACITY) in codes
    # with room, the same frame completes the join (CS14) instead
    roomy = {**hub.nvm, chf_subghz.CAPACITY_KEY: (2).to_bytes(8, "big")}
    tx2 = Tx(T0 + timedelta(minutes=1), roomy)
    assert chf_log.admit(tx2, PPMID, 2) is True
