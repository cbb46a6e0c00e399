"""The GPF mirror through a whole premises: the GSME wakes, refreshes, the GPF answers."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from smemu.devices.config import load_config
from smemu.devices.premises import Premises
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.machine import DeviceType, Tx
from smemu.firmware.gpf import GpfMachine
from smemu.hil.demo import build_command
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.decrypt import decrypt_payload
from smemu.protocols.gbcs.types import Cra
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.metering import GetSnapshot, PublishSnapshot

pytestmark = pytest.mark.timeout(60)
GCS13B, GCS24A = 0x00B8, 0x00FC
SITE_ID = b"\x41\x04MPRN"  # metering 0x0307 site id: octet string "MPRN"


def _command(p: Premises, kind: DeviceType, code: int, counter: int, body: gbz.GbzMessage,
             *, sign: bool) -> bytes:  # fmt: skip
    assert p.pki is not None
    return build_command(
        p.pki.keystore,
        originator=p.pki.remote_parties[Role.SUPPLIER],
        recipient=p.device(kind).eui,
        code=code,
        counter=counter,
        payload=gbz.encode(body),
        sign=sign,
        acb=p.pki.remote_parties[Role.ACCESS_CONTROL_BROKER],
    )


def _component(command_id: int, payload: bytes) -> gbz.GbzMessage:
    return gbz.GbzMessage(
        (gbz.GbzComponent(gbz.CONTROL_LAST, 0x0702, 0x00, 0, command_id, payload),)
    )


def test_a_read_via_the_gpf_after_a_wake_sees_the_gsmes_new_value(tmp_path: Path) -> None:
    async def main() -> None:
        async with Premises(load_config(None), tmp_path, wan="virtual://m", speed=0.0) as p:
            assert p.pki is not None
            seen: list[bytes] = []
            p.observers.append(lambda d, data, at: seen.append(data) if d == "out" else None)
            await p.settle()
            gpf = p.device(DeviceType.GPF)
            # a write for the GSME waits at the GPF until the GSME wakes
            write = _component(0x02, b"\x07\x03" + SITE_ID)
            p.inject_wan(_command(p, DeviceType.GSME, GCS24A, 10, write, sign=True))
            await p.settle()
            assert gpf.machine.nvm.get("gsme/attr/0702/0307") is None
            await p.advance(timedelta(minutes=31))
            assert gpf.machine.nvm.get("gsme/attr/0702/0307") == SITE_ID
            woke = p.clock.now()
            seen.clear()
            # a read of the GPF now answers the GSME's value, dated with the refresh
            await p.advance(timedelta(minutes=5))
            p.inject_wan(_command(p, DeviceType.GPF, GCS13B, 11, _component(0x00, b"\x07\x03"),
                                  sign=False))  # fmt: skip
            await p.settle()
            responses = []
            for data in seen:
                located = frame.locate(data)
                inner = frame.signing_message(located.message)
                if inner is not None and inner.header.cra is Cra.RESPONSE:
                    responses.append((located, inner))
            [(located, inner)] = responses
            stamp = inner.header.date_time
            assert stamp is not None
            machine = gpf.machine
            assert isinstance(machine, GpfMachine)
            synced = machine.synced_at(Tx(p.clock.now(), machine.nvm))
            assert synced <= woke <= p.clock.now() - timedelta(minutes=5)
            assert (stamp[5], stamp[6]) == (synced.hour, synced.minute)  # not the read's time
            outcome, plaintexts = decrypt_payload(located, p.pki.keystore)
            payloads = (
                plaintexts
                if outcome == "decrypted"
                else [c.payload for c in gbz.decode_exact(inner.payload).components]
            )
            assert any(SITE_ID in payload for payload in payloads)

    asyncio.run(main())


GCS16A = 0x0077  #: Read GSME Daily Read log(s): Metering Get Snapshot, cause General


def test_a_gsme_daily_log_read_via_the_gpf_after_wakes(tmp_path: Path) -> None:
    """The GSME's daily read log reaches the GPF in HAN-sized frames: after two local
    midnights, a GCS16a read of the GPF answers the GSME's entries (no frame dropped)."""

    async def main() -> None:
        async with Premises(load_config(None), tmp_path, wan="virtual://m", speed=0.0) as p:
            assert p.pki is not None
            seen: list[bytes] = []
            p.observers.append(lambda d, data, at: seen.append(data) if d == "out" else None)
            await p.settle()
            await p.advance(timedelta(days=2, hours=1))
            gsme = p.device(DeviceType.GSME).machine
            gpf = p.device(DeviceType.GPF).machine
            for key in ("gsme/engine/daily", "gsme/engine/state", "gsme/engine/logs"):
                assert gsme.nvm.get(key) is not None
                assert gpf.nvm.get(key) == gsme.nvm.get(key), key
            assert p.stats["han_oversize"] == 0 and p.stats["han_frames"] > 0
            seen.clear()
            ask = GetSnapshot(0, 0xFFFF_FFFF, 0, 0x0000_0001).encode()
            p.inject_wan(_command(p, DeviceType.GPF, GCS16A, 12, _component(0x06, ask),
                                  sign=False))  # fmt: skip
            await p.settle()
            responses = []
            for data in seen:
                located = frame.locate(data)
                inner = frame.signing_message(located.message)
                if inner is not None and inner.header.cra is Cra.RESPONSE:
                    responses.append((located, inner))
            [(located, inner)] = responses
            outcome, plaintexts = decrypt_payload(located, p.pki.keystore)
            payloads = (
                plaintexts
                if outcome == "decrypted"
                else [c.payload for c in gbz.decode_exact(inner.payload).components]
            )
            [reply] = [PublishSnapshot.decode_exact(x) for x in payloads if len(x) > 4]
            assert reply.total_snapshots_found >= 2  # a daily entry per midnight
            assert reply.snapshot_cause == 0x0000_0001

    asyncio.run(main())
