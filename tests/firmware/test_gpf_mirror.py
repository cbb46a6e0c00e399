"""The GPF's mirror of the GSME: refresh payloads, deltas, and a read of refreshed data."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.devices.keys import Pki
from smemu.errors import DecodeError
from smemu.firmware import gas_mirror, gpf, gsme
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import BootEvent, DeviceType, MessageEvent, Step, TimerEvent, Tx
from smemu.firmware.common.registry import MACHINES
from smemu.firmware.gas_handlers import STORE
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.decrypt import decrypt_payload
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.zigbee import gbz

from ._support import GSME, T0, command, make_pki

GPF = Eui64.parse("00-DB-12-34-56-78-90-A2")
GCS13B = 0x00B8
GCS24A = 0x00FC
SITE_ID = b"\x07\x03\x41\x04MPRN"  # metering 0x0307 site id, octet string "MPRN"

_keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20).map(
    lambda s: "gsme/" + s
)
_values = st.one_of(st.none(), st.binary(max_size=300))


@given(st.dictionaries(_keys, _values, max_size=12))
def test_refresh_payload_round_trip(found: dict[str, bytes | None]) -> None:
    decoded: dict[str, bytes | None] = {}
    for chunk in gas_mirror.chunks(found):
        decoded.update(gas_mirror.decode_changes(chunk))
    assert decoded == found


@given(st.binary(max_size=64))
def test_random_bytes_raise_only_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        gas_mirror.decode_changes(data)


def test_changes_are_deltas_and_private_keys_stay_home() -> None:
    nvm = {"gsme/a": b"1", "gsme/b": b"2", "gsme/wake_s": b"x", "cred/ds": b"k"}
    tx = Tx(T0, nvm)
    assert gas_mirror.changes(tx) == {"gsme/a": b"1", "gsme/b": b"2"}
    nvm.update({k: v for k, v in tx.writes.items() if v is not None})
    nvm["gsme/a"] = b"9"
    del nvm["gsme/b"]
    tx = Tx(T0, nvm)
    assert gas_mirror.changes(tx) == {"gsme/a": b"9", "gsme/b": None}
    nvm.update({k: v for k, v in tx.writes.items() if v is not None})
    for key, value in tx.writes.items():
        if value is None:
            nvm.pop(key, None)
    assert gas_mirror.changes(Tx(T0, nvm)) == {}


def test_apply_takes_only_mirrored_keys() -> None:
    tx = Tx(T0, {"gsme/old": b"1"})
    applied = gas_mirror.apply(tx, {"gsme/old": None, "gsme/new": b"2", "cred/ds": b"evil"})
    assert applied == 2
    assert tx.writes == {"gsme/old": None, "gsme/new": b"2"}


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path, {GSME: DeviceType.GSME, GPF: DeviceType.GPF})


def _machines(pki: Pki) -> tuple[CommandMachine, CommandMachine]:
    meter = MACHINES[DeviceType.GSME](GSME, pki.provisioning(GSME))
    proxy = MACHINES[DeviceType.GPF](GPF, {**pki.provisioning(GPF), gpf.GSME_EUI: bytes(GSME)})
    proxy.step(BootEvent(), T0)
    _to_gpf(proxy, meter.step(BootEvent(), T0), T0)
    return meter, proxy


def _to_gpf(proxy: CommandMachine, step: Step, at: object) -> list[Step]:
    """Hand the GSME's HAN output to the GPF as the comms hub would (PUTs and GETs)."""
    out = []
    for sent in step.sends:
        out.append(proxy.step(MessageEvent("chf", sent.data), at))  # type: ignore[arg-type]
    return out


def _write_site_id(pki: Pki, meter: CommandMachine, counter: int) -> None:
    body = gbz.GbzMessage(
        (gbz.GbzComponent(gbz.CONTROL_LAST, 0x0702, 0x00, 1, 0x02, SITE_ID[:2] + SITE_ID[2:]),)
    )
    data = command(pki, GSME, GCS24A, counter, gbz.encode(body), sign=True)
    step = meter.step(MessageEvent("han", HanFrame(TunnelCommand.PUT, data).encode()), T0)
    assert any(decode_han(s.data).message for s in step.sends)


def test_a_read_via_the_gpf_after_a_wake_sees_the_meters_new_value(pki: Pki) -> None:
    meter, proxy = _machines(pki)
    _write_site_id(pki, meter, 70)
    # before the wake the GPF does not have it
    assert STORE.read(Tx(T0, proxy.nvm), 0x0702, 0x0307) != SITE_ID[2:]
    woke = T0 + timedelta(minutes=30)
    step = meter.step(TimerEvent(gsme.WAKE), woke)
    kinds = [decode_han(s.data).command for s in step.sends]
    assert kinds[-1] is TunnelCommand.GET and TunnelCommand.PUT in kinds  # refresh, then poll
    steps = _to_gpf(proxy, step, woke)
    assert any("mirror_refreshes" in s.tallies for s in steps)
    assert STORE.read(Tx(woke, proxy.nvm), 0x0702, 0x0307) == SITE_ID[2:]
    # a read of the GPF answers the value, dated with the refresh
    read = gbz.GbzMessage((gbz.GbzComponent(gbz.CONTROL_LAST, 0x0702, 0x00, 0, 0x00, b"\x07\x03"),))
    data = command(pki, GPF, GCS13B, 71, gbz.encode(read))
    later = woke + timedelta(minutes=5)
    answer = proxy.step(MessageEvent("chf", HanFrame(TunnelCommand.PUT, data).encode()), later)
    [sent] = answer.sends
    located = frame.locate(decode_han(sent.data).message)
    inner = frame.signing_message(located.message)
    assert inner is not None and inner.header.cra is Cra.RESPONSE
    assert inner.header.date_time is not None
    assert (inner.header.date_time[5], inner.header.date_time[6]) == (0, 30)  # 00:30, not 00:35
    outcome, plaintexts = decrypt_payload(located, pki.keystore)
    payloads = (
        plaintexts
        if outcome == "decrypted"
        else [c.payload for c in gbz.decode_exact(inner.payload).components]
    )
    assert any(SITE_ID[2:] in p for p in payloads)


def test_the_gpf_takes_a_refresh_only_from_its_own_gsme(pki: Pki) -> None:
    _, proxy = _machines(pki)
    stranger = Eui64.parse("00-DB-12-34-56-78-90-FF")
    payload = gas_mirror.encode_changes([("gsme/attr/0702/0307", SITE_ID[2:])])
    put = HanFrame(TunnelCommand.PUT, gas_mirror.message(stranger, 1, payload)).encode()
    step = proxy.step(MessageEvent("chf", put), T0)
    assert "gsme/attr/0702/0307" not in step.writes
