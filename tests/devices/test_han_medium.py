"""The HAN between hub and devices carries ZigBee SE Tunneling cluster frames."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from smemu.devices.config import load_config
from smemu.devices.premises import Premises
from smemu.firmware.common.han import transfer_data
from smemu.firmware.common.machine import DeviceType
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.zigbee import tunnel
from smemu.protocols.zigbee.registry import decode_frame
from tests.devices.test_premises import _assert_verified_response, _ecs52

pytestmark = pytest.mark.timeout(60)

Sniffed = list[tuple[Eui64, Eui64, bytes]]


def test_han_bytes_decode_as_tunnel_frames_with_a_join_first(tmp_path: Path) -> None:
    async def main() -> None:
        async with Premises(load_config(None), tmp_path, wan="virtual://h", speed=0.0) as p:
            assert p.han is not None
            air: Sniffed = []
            p.han.sniffers.append(lambda src, dst, data: air.append((src, dst, data)))
            seen: list[bytes] = []
            p.observers.append(lambda d, data, at: seen.append(data) if d == "out" else None)
            await p.settle()
            # The joins happened at start, before the sniffer; a restart of the ESME's
            # radio shows one on the air.
            esme = p.device(DeviceType.ESME)
            del air[:]
            p.han.join(esme.eui)
            await p.settle()
            p.inject_wan(_ecs52(p, 21))
            await p.settle()
            _assert_verified_response(p, seen[-1], 21)

            chf = p.chf.eui
            decoded = [(s, d, decode_frame(tunnel.TUNNELING_CLUSTER, data)) for s, d, data in air]
            kinds = [type(f.command).__name__ for _, _, f in decoded]
            assert kinds[:2] == ["RequestTunnel", "RequestTunnelResponse"]
            request, grant = decoded[0][2].command, decoded[1][2].command
            assert isinstance(request, tunnel.RequestTunnel) and request.protocol_id == 6
            assert isinstance(grant, tunnel.RequestTunnelResponse)
            assert grant.tunnel_status == tunnel.TunnelStatus.SUCCESS
            assert p.han.tunnel_of(esme.eui) == grant.tunnel_id

            down = [f for s, d, f in decoded if (s, d) == (chf, esme.eui) and f.header.direction]
            up = [f for s, d, f in decoded if (s, d) == (esme.eui, chf) and not f.header.direction]
            transfers = [f for f in down if isinstance(f.command, tunnel.TransferDataToClient)]
            answers = [f for f in up if isinstance(f.command, tunnel.TransferData)]
            assert len(transfers) == 1 and len(answers) == 1
            for f in transfers + answers:
                command = f.command
                assert isinstance(command, tunnel.TransferData | tunnel.TransferDataToClient)
                assert command.tunnel_id == grant.tunnel_id
                gbcs = tunnel.decode_gbcs_tunnel(command.data)
                assert isinstance(gbcs, tunnel.TunnelPut)
                frame.locate(gbcs.message)
            assert answers[0].command.data[1:] == seen[-1]  # type: ignore[union-attr]

    asyncio.run(main())


def test_an_unknown_tunnel_is_refused_and_junk_on_the_air_changes_nothing(tmp_path: Path) -> None:
    async def main() -> None:
        async with Premises(load_config(None), tmp_path, wan="virtual://j", speed=0.0) as p:
            assert p.han is not None
            await p.settle()
            esme = p.device(DeviceType.ESME)
            before = {eui: dict(d.machine.nvm) for eui, d in p.devices.items()}
            air: Sniffed = []
            p.han.sniffers.append(lambda src, dst, data: air.append((src, dst, data)))
            # A Transfer Data on a tunnel the hub never granted: Transfer Data Error back.
            put = b"\x03" + _ecs52(p, 30)
            forged = transfer_data(put, tunnel_id=0x7777, sequence=9, to_client=False)
            p.han.receive(esme.eui, p.chf.eui, forged)
            await p.settle()
            src, dst, data = air[0]
            error = decode_frame(tunnel.TUNNELING_CLUSTER, data).command
            assert (src, dst) == (p.chf.eui, esme.eui)
            assert isinstance(error, tunnel.TransferDataErrorToClient)
            assert error.transfer_data_status == tunnel.TransferDataStatus.NO_SUCH_TUNNEL
            assert p.stats["han_no_such_tunnel"] == 1
            # The device took that as "my tunnel is gone" and asked again.
            assert esme.stats["han_tunnel_lost"] == 1
            assert p.han.tunnel_of(esme.eui) is not None
            # Random bytes, truncated frames and a flood, both ways.
            good = p.han.tunnel_of(esme.eui)
            assert good is not None
            real = transfer_data(put, tunnel_id=good, sequence=1, to_client=False)
            for n in range(300):
                junk = os.urandom(n % 40)
                p.han.receive(esme.eui, p.chf.eui, junk)
                p.han.receive(p.chf.eui, esme.eui, junk)
                p.han.receive(esme.eui, p.chf.eui, real[: n % len(real)])
            await p.settle()
            assert p.chf.stats["han_bad_frames"] > 0 and esme.stats["han_bad_frames"] > 0
            for eui, device in p.devices.items():
                assert device.stats["errors"] == 0
                if device.spec.type not in (DeviceType.CHF, DeviceType.ESME):
                    assert dict(device.machine.nvm) == before[eui]
            for _, _, data in air:  # whatever the hub answered is well formed
                decode_frame(tunnel.TUNNELING_CLUSTER, data)

    asyncio.run(main())
