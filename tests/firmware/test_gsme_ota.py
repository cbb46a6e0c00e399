"""GSME OTA client: it asks at each wake, stays awake while the hub answers, pauses on budget."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from smemu.devices.keys import Pki
from smemu.firmware import gsme, gsme_firmware, ota_client
from smemu.firmware.common.han import HanFrame, TunnelCommand
from smemu.firmware.common.machine import DeviceType, MessageEvent, Step, TimerEvent
from smemu.protocols.zigbee import ota

from ._support import GSME, T0, booted, make_pki

SIZE = 200


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path, {GSME: DeviceType.GSME})


def _sent(step: Step) -> list[ota.OtaCommand]:
    return [ota.decode_exact(s.data[8:]).command for s in step.sends if s.port == "ota"]


def _sleep_at(step: Step) -> datetime | None:
    [timer] = [t for t in step.timers if t.name == gsme.SLEEP][-1:]
    return timer.at


def _hub(command: ota.OtaCommand) -> MessageEvent:
    return MessageEvent("ota", ota.OtaFrame(1, command).encode())


def _offer() -> ota.QueryNextImageResponse:
    return ota.QueryNextImageResponse(ota.OtaStatus.SUCCESS, 0x0102, 0, 0x02030405, SIZE)


def _block(offset: int) -> ota.ImageBlock:
    return ota.ImageBlock(0x0102, 0, 0x02030405, offset, bytes(ota_client.BLOCK))


def test_a_wake_asks_for_an_image_and_no_image_lets_it_sleep(pki: Pki) -> None:
    machine = booted(pki, GSME, DeviceType.GSME)
    step = machine.step(TimerEvent(gsme.WAKE), T0)
    assert [type(c) for c in _sent(step)] == [ota.QueryNextImageRequest]
    assert step.sends[[s.port for s in step.sends].index("ota")].data[:8] == bytes(GSME)
    empty = HanFrame(TunnelCommand.GET_RESPONSE, b"", 0).encode()
    polled = machine.step(MessageEvent("han", empty), T0)
    assert _sleep_at(polled) != T0  # the OTA answer is still awaited
    answer = ota.QueryNextImageResponse(ota.OtaStatus.NO_IMAGE_AVAILABLE)
    done = machine.step(_hub(answer), T0)
    assert _sleep_at(done) == T0  # poll done and nothing on offer: radio off now


def test_the_download_keeps_it_awake_and_pauses_at_the_wake_budget(pki: Pki) -> None:
    machine = booted(pki, GSME, DeviceType.GSME)
    machine.nvm[gsme_firmware.BLOCKS_PER_WAKE] = (2).to_bytes(8, "big")
    machine.step(TimerEvent(gsme.WAKE), T0)
    empty = HanFrame(TunnelCommand.GET_RESPONSE, b"", 0).encode()
    machine.step(MessageEvent("han", empty), T0)
    later = T0 + timedelta(seconds=5)
    offered = machine.step(_hub(_offer()), later)
    assert isinstance(_sent(offered)[0], ota.ImageBlockRequest)
    assert _sleep_at(offered) == later + timedelta(seconds=gsme.AWAKE_WINDOW_S)
    first = machine.step(_hub(_block(0)), later)
    assert [c.file_offset for c in _sent(first) if isinstance(c, ota.ImageBlockRequest)] == [64]
    second = machine.step(_hub(_block(64)), later)
    assert _sent(second) == []  # budget spent: paused, radio off
    assert _sleep_at(second) == later
    held = ota_client.download_of(machine.nvm)
    assert held is not None and held.received == 128
    machine.step(TimerEvent(gsme.SLEEP), later)
    woken = machine.step(TimerEvent(gsme.WAKE), later + timedelta(minutes=30))
    assert [type(c) for c in _sent(woken)] == [ota.QueryNextImageRequest]
    resumed = machine.step(_hub(_offer()), later + timedelta(minutes=30))
    [ask] = _sent(resumed)
    assert isinstance(ask, ota.ImageBlockRequest) and ask.file_offset == 128
