"""Gas on the PPMID through a whole premises: a gas top-up typed on the PPMID reaches the
GSME at its wake, and the GPF publishes the new gas balance the GSME mirrored to it."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

from smemu.devices.config import load_config
from smemu.devices.premises import STATE_FILE, ZSE_LINK, Premises
from smemu.firmware import esme_han_zse, gas_metering, joins, ppmid
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.machine import DeviceType, Tx
from smemu.firmware.ppmid_keypad import Action, Fuel, KeypadEntry
from smemu.protocols.asn1.values import DeviceType as LogType
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.utrn import ValueClass, encode_utrn
from smemu.protocols.zigbee import prepayment as zp
from smemu.protocols.zigbee.registry import decode_frame

pytestmark = pytest.mark.timeout(60)
TOP_UP_PENCE = 1500


def test_a_gas_top_up_on_the_ppmid_shows_the_new_gas_balance(tmp_path: Path) -> None:
    async def main() -> None:
        async with Premises(load_config(None), tmp_path, wan="virtual://g", speed=0.0) as p:
            assert p.pki is not None
            await p.settle()
            gpf, pp, gsme = (p.device(k) for k in (DeviceType.GPF, DeviceType.PPMID,
                                                   DeviceType.GSME))  # fmt: skip
            # commissioning joined the GPF and the PPMID (method A: the GPF initiates)
            now = p.clock.now()
            assert joins.entry_type(Tx(now, gpf.machine.nvm), pp.eui) is LogType.PPMID
            assert joins.entry_type(Tx(now, pp.machine.nvm), gpf.eui) is LogType.GPF
            heard: list[tuple[Eui64, int]] = []

            def sniff(port: str, source: Eui64, to: Eui64, data: bytes) -> None:
                command = decode_frame(int.from_bytes(data[:2], "big"), data[2:]).command
                if port == "zse" and to == pp.eui and isinstance(
                    command, zp.PublishPrepaySnapshot
                ):
                    payload = command.snapshot_payload
                    assert isinstance(payload, zp.DebtCreditStatus)
                    heard.append((source, payload.credit_remaining))

            p.zse.sniffers.append(sniff)
            await p.advance(timedelta(minutes=31))  # a wake: nothing new to publish
            # the GSME's first refresh at start-up was published to the commissioned PPMID
            before = ppmid.display(pp.machine.nvm).gas.credit
            assert before is not None and not heard
            # the consumer types the supplier's gas UTRN on the PPMID (PCS01 to the GSME)
            supplier = bytes(p.pki.remote_parties[Role.SUPPLIER])
            secret = p.pki.keystore.prepayment_secret(supplier, bytes(gsme.eui))
            assert secret is not None
            utrn = encode_utrn(
                prepayment_secret=secret, originator=supplier, target=bytes(gsme.eui),
                counter=1 << 32, value=TOP_UP_PENCE, value_class=ValueClass.PENNIES,
            )  # fmt: skip
            heard.clear()
            p.press(DeviceType.PPMID, "keypad", KeypadEntry(Action.TOP_UP, Fuel.GAS, utrn).encode())
            await p.settle()
            assert ppmid.display(pp.machine.nvm).gas.credit == before  # the GSME sleeps
            await p.advance(timedelta(minutes=31))  # it wakes, takes PCS01, refreshes the GPF
            mirrored = esme_han_zse.gas_credit(Tx(p.clock.now(), gpf.machine.nvm))
            assert mirrored is not None
            meter = Tx(p.clock.now(), gsme.machine.nvm)
            assert mirrored[0] == gas_metering.registers(meter).balance // 1000
            assert (gpf.eui, mirrored[0]) in heard  # published by the GPF after the refresh
            shown = ppmid.display(pp.machine.nvm)
            assert shown.gas.credit == mirrored[0]
            assert TOP_UP_PENCE - 5 <= shown.gas.credit - before <= TOP_UP_PENCE
            assert f"Gas credit £{mirrored[0] // 100}.{mirrored[0] % 100:02d}" in shown.lines
        # premises.json describes the GPF -> PPMID link
        saved = json.loads((tmp_path / STATE_FILE).read_text())
        [described] = [d for d in saved["devices"] if d["type"] == "gpf"]
        assert described["ports"]["zse"] == ZSE_LINK

    asyncio.run(main())
