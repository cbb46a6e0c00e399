"""The GPF's mirror of the GSME: refresh payloads, deltas, and a read of refreshed data."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
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
_values = st.one_of(st.none(), st.binary(max_size=1300))


def _commit(nvm: dict[str, bytes], tx: Tx) -> None:
    for key, value in tx.writes.items():
        if value is None:
            nvm.pop(key, None)
        else:
            nvm[key] = value


def _mirrored(nvm: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in nvm.items() if k.startswith("gsme/") and k != "gsme/wake_s"}


@given(st.dictionaries(_keys, _values, max_size=12))
def test_refresh_payload_round_trip(found: dict[str, bytes | None]) -> None:
    patches = gas_mirror.whole(found)
    decoded: list[gas_mirror.Patch] = []
    for chunk in gas_mirror.chunks(patches):
        assert len(chunk) <= gas_mirror.CHUNK_BYTES
        decoded.extend(gas_mirror.decode_changes(chunk))
    assert decoded == patches
    tx = Tx(T0, {})
    gas_mirror.apply(tx, decoded)
    assert {k: v for k, v in tx.writes.items() if v is not None} == {
        k: v for k, v in found.items() if v is not None
    }


@given(st.binary(max_size=64))
def test_random_bytes_raise_only_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        gas_mirror.decode_changes(data)


_edits = st.lists(
    st.tuples(st.sampled_from(["gsme/a", "gsme/b", "gsme/c", "gsme/wake_s"]), _values),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_edits, min_size=1, max_size=5), st.binary(min_size=3000, max_size=6000))
def test_the_gpf_holds_what_the_gsme_holds_after_each_refresh(
    rounds: list[list[tuple[str, bytes | None]]], big: bytes
) -> None:
    """Differential: a GSME image edited at random, refreshed after each round, and the GPF
    image the refreshes build are equal (mirrored keys), frames within the HAN limit."""
    meter: dict[str, bytes] = {"gsme/log": big}
    proxy: dict[str, bytes] = {}
    for edits in rounds:
        for key, value in edits:
            if value is None:
                meter.pop(key, None)
            else:
                meter[key] = value
        log = bytearray(meter["gsme/log"])  # a log appends an entry in place
        log[len(edits) * 100 : len(edits) * 100 + 16] = bytes(range(16))
        meter["gsme/log"] = bytes(log)
        tx = Tx(T0, meter)
        patches = gas_mirror.changes(tx)
        _commit(meter, tx)
        gpf_tx = Tx(T0, proxy)
        for chunk in gas_mirror.chunks(patches):
            assert len(chunk) <= gas_mirror.CHUNK_BYTES
            gas_mirror.apply(gpf_tx, gas_mirror.decode_changes(chunk))
        _commit(proxy, gpf_tx)
        assert _mirrored(proxy) == _mirrored(meter)


def test_changes_are_deltas_and_private_keys_stay_home() -> None:
    nvm = {"gsme/a": b"1", "gsme/b": b"2", "gsme/wake_s": b"x", "cred/ds": b"k"}
    tx = Tx(T0, nvm)
    # the registers the refresh brings up to now, and the running firmware version
    own = ("gsme/engine/", "gsme/attr/", gas_mirror.FIRMWARE_VERSION)
    first = [p for p in gas_mirror.changes(tx) if not p.key.startswith(own)]
    assert first == [gas_mirror.Patch("gsme/a", 1, 0, b"1"), gas_mirror.Patch("gsme/b", 1, 0, b"2")]
    _commit(nvm, tx)
    nvm["gsme/a"] = b"9"
    del nvm["gsme/b"]
    tx = Tx(T0, nvm)
    assert gas_mirror.changes(tx) == [
        gas_mirror.Patch("gsme/a", 1, 0, b"9"),
        gas_mirror.Patch("gsme/b", None),
    ]
    _commit(nvm, tx)
    assert gas_mirror.changes(Tx(T0, nvm)) == []


def test_a_log_entry_appended_sends_one_block_not_the_log() -> None:
    nvm = {"gsme/flow": b'{"litres_per_hour": 100}'}
    tx = Tx(T0, nvm)
    first = gas_mirror.changes(tx)
    _commit(nvm, tx)
    sizes = {k: len(v) for k, v in nvm.items() if k.startswith("gsme/engine/")}
    assert sizes["gsme/engine/logs"] > 50_000  # the engine's log region
    assert sum(len(p.piece) for p in first) < 10_000  # a fresh meter's logs are zeros
    tx = Tx(T0 + timedelta(minutes=30), nvm)
    later = gas_mirror.changes(tx)  # one half-hour: a profile entry and the state
    assert {p.key for p in later if not p.key.startswith("gsme/attr/")} <= {
        "gsme/engine/logs",
        "gsme/engine/state",
    }
    assert sum(len(p.piece) for p in later) <= 5 * gas_mirror.BLOCK_BYTES
    assert len(gas_mirror.chunks(later)) <= 3


def test_apply_takes_only_mirrored_keys() -> None:
    tx = Tx(T0, {"gsme/old": b"1", "gsme/big": b"abcdef"})
    found = [
        gas_mirror.Patch("gsme/old", None),
        gas_mirror.Patch("gsme/new", 1, 0, b"2"),
        gas_mirror.Patch("cred/ds", 4, 0, b"evil"),
        gas_mirror.Patch("gsme/big", 8, 2, b"XY"),  # patched in place, padded with zeros
        gas_mirror.Patch("gsme/zero", 3),
    ]
    assert gas_mirror.apply(tx, found) == 4
    assert tx.writes == {
        "gsme/old": None,
        "gsme/new": b"2",
        "gsme/big": b"abXYef\0\0",
        "gsme/zero": b"\0\0\0",
    }


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
        if sent.port == "han":  # its `ota` queries go to the hub's OTA server, not the GPF
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
    kinds = [decode_han(s.data).command for s in step.sends if s.port == "han"]
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
    payload = gas_mirror.encode_changes(gas_mirror.whole({"gsme/attr/0702/0307": SITE_ID[2:]}))
    put = HanFrame(TunnelCommand.PUT, gas_mirror.message(stranger, 1, payload)).encode()
    step = proxy.step(MessageEvent("chf", put), T0)
    assert "gsme/attr/0702/0307" not in step.writes


GCS38 = 0x0084
CURRENT_METER_ID = b"\x06\x02"  # metering 0x0206, little-endian


def _gpf_firmware_version(pki: Pki, proxy: CommandMachine, counter: int, at: datetime) -> bytes:
    """GCS38 sent to the GPF: the version octets of its Read Attributes Response."""
    read = gbz.GbzMessage(
        (gbz.GbzComponent(gbz.CONTROL_LAST, 0x0702, 0x00, 0, 0x00, CURRENT_METER_ID),)
    )
    data = command(pki, GPF, GCS38, counter, gbz.encode(read))
    step = proxy.step(MessageEvent("chf", HanFrame(TunnelCommand.PUT, data).encode()), at)
    [sent] = step.sends
    inner = frame.signing_message(frame.locate(decode_han(sent.data).message).message)
    assert inner is not None and inner.header.cra is Cra.RESPONSE
    [component] = gbz.decode_exact(inner.payload).components
    record = component.payload  # attribute id (2) | status (1) | type (1) | length (1) | octets
    assert record[:3] == CURRENT_METER_ID + b"\x00" and record[3] == 0x41
    return record[5 : 5 + record[4]]


def test_gcs38_to_the_gpf_answers_the_gsmes_version_and_follows_an_activation(
    pki: Pki,
) -> None:
    provisioning = {**pki.provisioning(GSME), "fw/version": b"\x02\0\0\x07"}
    meter = MACHINES[DeviceType.GSME](GSME, provisioning)
    proxy = MACHINES[DeviceType.GPF](GPF, {**pki.provisioning(GPF), gpf.GSME_EUI: bytes(GSME)})
    proxy.step(BootEvent(), T0)
    # never refreshed: the GPF does not know the version (unsupported), it is not its own
    assert gpf.GPF_STORE.read(Tx(T0, proxy.nvm), 0x0702, 0x0206) is None
    _to_gpf(proxy, meter.step(BootEvent(), T0), T0)  # the power-up wake refreshes
    assert _gpf_firmware_version(pki, proxy, 80, T0) == b"\x02\0\0\x07"
    # an image activated (CS06 writes the running version): the next wake carries it
    meter.nvm["fw/version"] = b"\x02\0\0\x08"
    assert _gpf_firmware_version(pki, proxy, 81, T0) == b"\x02\0\0\x07"  # not yet
    woke = T0 + timedelta(minutes=30)
    _to_gpf(proxy, meter.step(TimerEvent(gsme.WAKE), woke), woke)
    assert _gpf_firmware_version(pki, proxy, 82, woke) == b"\x02\0\0\x08"
    # the GSME itself still reads its own running version
    assert STORE.read(Tx(woke, meter.nvm), 0x0702, 0x0206) == b"\x41\x04\x02\0\0\x08"
