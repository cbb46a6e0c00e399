"""PPMID and HCALC in the premises: commissioned, joined, routed by EUI, persisted, described."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

from smemu.devices.config import load_config
from smemu.devices.device import Device
from smemu.devices.premises import STATE_FILE, Premises
from smemu.errors import ConfigError
from smemu.firmware import esme_han, esme_han_zse, hcalc, hcalc_frames, joins, ppmid
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.machine import DeviceType, Tx
from smemu.firmware.ppmid_keypad import Action, KeypadEntry
from smemu.hil.headend import HeadEnd
from smemu.protocols.asn1.values import DeviceType as LogType

pytestmark = pytest.mark.timeout(60)


def _premises(state: Path, name: str) -> Premises:
    return Premises(load_config(None), state, wan=f"virtual://{name}", speed=0.0)


def _credit(esme: Device) -> esme_han_zse.Credit | None:
    return esme_han_zse.credit(Tx(esme.clock.now(), esme.machine.nvm))


def _head_end(p: Premises) -> HeadEnd:
    assert p.pki is not None
    roles = (Role.SUPPLIER, Role.ACCESS_CONTROL_BROKER)
    return HeadEnd(p.pki.keystore, {r: p.pki.remote_parties[r] for r in roles})


async def _send(p: Premises, head_end: HeadEnd, use_case: str, **params: object) -> None:
    answers: list[bytes] = []
    p.observers.append(lambda d, data, at: answers.append(data) if d == "out" else None)
    p.inject_wan(head_end.build(use_case, p.device(DeviceType.ESME).eui, params).data)
    await p.settle()
    p.observers.pop()
    assert [r.verified for raw in answers for r in head_end.accept(raw)] == [True]


def test_ppmid_and_hcalc_join_commissioned_and_persist(tmp_path: Path) -> None:
    async def first() -> tuple[object, list[tuple[object, bool]]]:
        async with _premises(tmp_path, "han-a") as p:
            assert p.han is not None
            esme, pp, hc = (p.device(k) for k in (DeviceType.ESME, DeviceType.PPMID,
                                                  DeviceType.HCALC))  # fmt: skip
            await p.settle()
            # both joined the HAN: the hub granted them tunnels
            assert p.han.tunnel_of(pp.eui) is not None and p.han.tunnel_of(hc.eui) is not None
            # commissioned: the PPMID serves this ESME and GSME, the HCALC has calendars
            gsme = p.device(DeviceType.GSME).eui
            assert pp.machine.nvm[ppmid.ESME_KEY] == bytes(esme.eui)
            assert pp.machine.nvm[ppmid.GSME_KEY] == bytes(gsme)
            await p.advance(timedelta(days=1))
            line = hcalc.switch_timeline_of(hc.machine.nvm, 1)
            assert sum(1 for _, closed in line if closed) >= 2
            # a top up reaches the PPMID's display through the ESME's ZSE side
            await _send(p, _head_end(p), "CS01a", value=250)
            await p.settle()
            shown = ppmid.display(pp.machine.nvm)
            assert shown.credit == 250
            assert pp.stats["in_zse"] >= 1
            # described with their ports
            saved = json.loads((tmp_path / STATE_FILE).read_text())
            ports = {d["type"]: set(d["ports"]) for d in saved["devices"]}
            assert ports["ppmid"] == {"han", "zse", "keypad"}
            assert ports["hcalc"] == {"han", "alc", "ui"}
            return shown, line

    shown, line = asyncio.run(first())

    async def again() -> None:
        async with _premises(tmp_path, "han-b") as p:
            await p.settle()
            pp, hc = p.device(DeviceType.PPMID), p.device(DeviceType.HCALC)
            assert ppmid.display(pp.machine.nvm) == shown  # resumed, not re-commissioned
            assert hcalc.switch_timeline_of(hc.machine.nvm, 1)[: len(line)] == line
            assert p.han is not None and p.han.tunnel_of(pp.eui) is not None

    asyncio.run(again())


def test_consumer_top_up_on_the_ppmid_keypad(tmp_path: Path) -> None:
    async def run() -> None:
        async with _premises(tmp_path, "han-c") as p:
            await p.settle()
            head_end = _head_end(p)
            esme = p.device(DeviceType.ESME)
            # a UTRN the supplier made, typed on the PPMID (PECS01 over ZSE to the ESME)
            command = head_end.build("CS01a", esme.eui, {"value": 300})
            utrn = command.message.inner.payload[-20:].decode()  # type: ignore[union-attr]
            entry = KeypadEntry(Action.TOP_UP, utrn=utrn)
            p.press(DeviceType.PPMID, "keypad", entry.encode())
            await p.settle()
            assert _credit(esme) == (300, 0, 0)
            pp = p.device(DeviceType.PPMID)
            shown = ppmid.display(pp.machine.nvm)
            assert (shown.credit, shown.status) == (300, "Top up accepted")
            # the same UTRN again is a duplicate: no credit, the display says so
            p.press(DeviceType.PPMID, "keypad", entry.encode())
            await p.settle()
            assert _credit(esme) == (300, 0, 0)
            assert ppmid.display(pp.machine.nvm).status == "Top up rejected"

    asyncio.run(run())


def test_the_esme_is_commissioned_with_its_han_devices(tmp_path: Path) -> None:
    async def run() -> None:
        async with _premises(tmp_path, "han-e") as p:
            esme, pp, hc = (p.device(k) for k in (DeviceType.ESME, DeviceType.PPMID,
                                                  DeviceType.HCALC))  # fmt: skip
            tx = Tx(p.clock.now(), esme.machine.nvm)
            assert joins.entry_type(tx, pp.eui) is LogType.PPMID
            assert joins.entry_type(tx, hc.eui) is LogType.HCALCS
            # the HCALC's two switches are auxiliary controllers 1 and 2
            assert [esme_han.hcalc_of(tx, n) for n in range(1, 4)] == [
                (hc.eui, 1), (hc.eui, 2), None
            ]  # fmt: skip
            assert p.zse.esme_of(hc.eui) == esme.eui

    asyncio.run(run())


def test_hcalc_boost_reaches_the_esme_log_and_bad_frames_are_counted(tmp_path: Path) -> None:
    async def run() -> None:
        async with _premises(tmp_path, "han-d") as p:
            seen: list[tuple[str, object, object]] = []
            p.zse.sniffers.append(lambda port, src, to, data: seen.append((port, src, to)))
            await p.advance(timedelta(hours=10))
            p.press(DeviceType.HCALC, "ui", hcalc_frames.encode(hcalc_frames.Boost(1, 20)))
            await p.advance(timedelta(hours=1))
            esme, hc = p.device(DeviceType.ESME), p.device(DeviceType.HCALC)
            assert ("alc", hc.eui, esme.eui) in seen
            log = esme_han.log_entries(Tx(p.clock.now(), esme.machine.nvm))
            boost = [(t, sa) for t, sa, _outcome, _id in log if sa & 0xFF in (0x31, 0x30)]
            assert [sa for _, sa in boost] == [
                1 << 8 | esme_han.ACTION_OVERRIDE_START, 1 << 8 | esme_han.ACTION_OVERRIDE_END
            ]  # fmt: skip
            # 20 minutes round up to 15-minute steps
            assert boost[1][0] - boost[0][0] == 30 * 60
            before = dict(hc.machine.nvm)
            p.press(DeviceType.HCALC, "ui", b"\x01\x19\xff")
            await p.settle()
            assert hc.stats["bad_input"] == 1 and dict(hc.machine.nvm) == before
            with pytest.raises(ConfigError):
                p.press(DeviceType.HCALC, "han", b"")

    asyncio.run(run())


def test_the_esme_answers_the_hcalc_refresh_after_an_outage(tmp_path: Path) -> None:
    async def run() -> None:
        async with _premises(tmp_path, "han-f") as p:
            await p.advance(timedelta(hours=2))
            hc = p.device(DeviceType.HCALC)
            hc.line("power", False)
            await p.advance(timedelta(minutes=10))
            hc.line("power", True)
            assert hc.machine.nvm.get(hcalc.REFRESH_PENDING) is not None
            await p.settle()
            assert hc.machine.nvm.get(hcalc.REFRESH_PENDING) is None
            esme = p.device(DeviceType.ESME)
            log = esme_han.log_entries(Tx(p.clock.now(), esme.machine.nvm))
            # no command in force: both switches handed back to their calendars
            actions = [sa for _, sa, _o, _i in log if sa & 0xFF == esme_han.ACTION_CALENDAR]
            assert actions == [1 << 8 | 0x20, 2 << 8 | 0x20]
            # an ESME without power loses the request: the HCALC keeps asking
            esme.line("power", False)
            hc.line("power", False)
            hc.line("power", True)
            await p.settle()
            assert hc.machine.nvm.get(hcalc.REFRESH_PENDING) is not None
            assert p.stats["zse_unroutable"] >= 1

    asyncio.run(run())
