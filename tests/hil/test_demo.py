"""The demo story: its outcomes, not its wording."""

from __future__ import annotations

import asyncio
import struct
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from smemu.firmware import metering
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers import reference
from smemu.firmware.registers.ops import Registers, read
from smemu.firmware.registers.tables import DayProfile, Tariff, compile_table
from smemu.hil.commands_tariff import TariffSettings, parse_switches
from smemu.hil.demo import TARIFF_PRICES, TARIFF_SWITCHES, TOP_UP_PENNIES, Story, run_story

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> tuple[Story, list[str]]:
    lines: list[str] = []
    out = tmp_path_factory.mktemp("demo")
    return asyncio.run(run_story(out, lines.append)), lines


def _reference_week(start: datetime, end: datetime) -> Registers:
    """The pure-Python register engine over the same span, tariff and load as the demo."""
    tariff = Tariff(
        day_profiles=(DayProfile(parse_switches(TARIFF_SWITCHES)),), tou_prices=TARIFF_PRICES
    )
    table = compile_table(tariff)
    t_from = metering.floor_interval(metering.epoch(start))
    t_to = metering.floor_interval(metering.epoch(end))
    state = lay.new_state(t_from)
    load = metering.LoadModel()  # the default premises configures no load: the ESME default
    reference.advance(table.data, memoryview(state).cast("B"), None, t_from, t_to,
                      load.series(t_from, t_to))  # fmt: skip
    return read(state)


def test_week_bill_matches_the_reference_engine(story: tuple[Story, list[str]]) -> None:
    facts = story[0].facts
    start, end = facts["tariff_at"], facts["week_read_at"]
    assert isinstance(start, datetime) and isinstance(end, datetime)
    expected = _reference_week(start, end)
    # energy per TOU rate read from the ESME (ECS17d) = the reference engine's registers
    assert facts["tou_week"] == {n + 1: wh for n, wh in enumerate(expected.tou_wh) if wh}
    assert facts["import_week"] == expected.import_wh > 0
    # the bill made from the meter's registers and read-back prices = the engine's cost
    assert facts["cost_week"] == expected.accumulated_cost > 0
    costs = facts["cost_by_rate"]
    assert isinstance(costs, dict) and set(costs) == {1, 2}
    assert facts["tou_adds_up"] is True


def test_firmware_versions_of_every_device(story: tuple[Story, list[str]]) -> None:
    facts = story[0].facts
    for kind in ("chf", "esme", "ppmid", "hcalc"):
        version = facts[f"firmware_{kind}"]
        assert isinstance(version, bytes) and len(version) == 4, kind
    uses = [(e.use_case, e.device) for e in story[0].exchanges]
    assert ("CS08", "ppmid") in uses and ("CS08", "hcalc") in uses


def test_one_summary_row_per_step(story: tuple[Story, list[str]]) -> None:
    rows = story[0].rows
    assert [r.step.split()[0] for r in rows] == [str(n) for n in range(1, 9)]
    assert all(r.outcome and r.use_case for r in rows)
    assert story[0].facts["no_energy_while_off"] is True
    assert story[0].facts["tariff_same"] is True


def test_story_outcomes(story: tuple[Story, list[str]]) -> None:
    story_, lines = story
    facts = story_.facts
    # every answer that came back verified
    assert story_.exchanges and all(e.verified in ("yes", "-") for e in story_.exchanges)
    assert all(r.verified in ("yes", "-") for r in story_.rows)
    # the tariff read back equals what was set (switching table and TOU prices)
    tariff_set, tariff_read = facts["tariff_set"], facts["tariff_read"]
    assert isinstance(tariff_set, TariffSettings) and isinstance(tariff_read, TariffSettings)
    assert tariff_read.days == tariff_set.days
    assert tariff_read.tou_prices() == tariff_set.tou_prices() == {1: 15_000, 2: 30_000}
    # a week of consumption, priced
    before, after = facts["import_before"], facts["import_after"]
    assert isinstance(before, int) and isinstance(after, int) and after > before
    # the balance grew by the top-up value (10^-5 units), and the PPMID shows it (pence)
    b0, b1 = facts["balance_before"], facts["balance_after"]
    assert isinstance(b0, int) and isinstance(b1, int)
    assert b1 - b0 == TOP_UP_PENNIES * 1000
    assert facts["ppmid_credit"] == b1 // 1000
    # the HCALC switched on and off over the day, with the boost and its notices
    changes = facts["hcalc_changes"]
    assert isinstance(changes, list)
    switch1 = [(at, closed) for n, at, closed in changes if n == 1]
    assert any(c for _, c in switch1) and any(not c for _, c in switch1)
    assert any(at.hour == 10 and at.minute == 0 and c for at, c in switch1)  # the boost
    offsets = [at.second for _, at, _c in changes if at.minute not in (0, 30)]
    assert offsets, "calendar changes carry a random offset"
    notices = facts["hcalc_notices"]
    assert isinstance(notices, list) and len(notices) == 2
    # the ESME passed the supplier's ECS47a on: switch 1 on 18:00-20:00 ...
    assert facts["hcalc_commanded"] is True
    assert any(at.hour == 18 and at.minute == 0 and at.second == 0 and c for at, c in switch1)
    # ... and its auxiliary controller log (ECS35g) has the command, the HCALC's answer and
    # the boost's start and end, 30 minutes apart
    log = facts["aux_log"]
    assert isinstance(log, list)
    sent = [e for e in log if e.action == 0x11 and e.at.hour == 18]
    answered = [e for e in log if e.action == 0x00 and e.outcome == 1]
    assert sent and answered and any(a.han_id == sent[0].han_id for a in answered)
    assert [e.action for e in notices] == [0x31, 0x30]
    assert notices[1].at - notices[0].at == timedelta(minutes=30)
    # the pcap is readable: global header, then records of whole GBCS messages
    pcap = facts["pcap"]
    assert isinstance(pcap, Path)
    raw = pcap.read_bytes()
    magic, _, _, _, _, _, linktype = struct.unpack("<IHHiIII", raw[:24])
    assert magic == 0xA1B2C3D4 and linktype == 252
    count, pos = 0, 24
    while pos < len(raw):
        _, _, incl, _ = struct.unpack("<IIII", raw[pos : pos + 16])
        pos += 16 + incl
        count += 1
    assert pos == len(raw) and count >= sum(e.verified == "yes" for e in story_.exchanges)
    assert any(str(pcap) in line for line in lines)
    assert story_.wall_s > 0


def test_gas_step_sets_a_tariff_and_reads_the_mirror(story: tuple[Story, list[str]]) -> None:
    """Step 8: GCS01a taken at the GSME's wake with every component a success, then
    GCS13a answered by the GPF with the gas metered from commissioning to the last wake
    (the default premises' GSME meters its default flow, 100 litres an hour)."""
    story_, _ = story
    facts = story_.facts
    statuses = facts["gas_tariff_statuses"]
    assert isinstance(statuses, list) and statuses and not any(statuses)
    start, read_at = facts["start"], facts["gas_read_at"]
    assert isinstance(start, datetime) and isinstance(read_at, datetime)
    half_hours = int((read_at - start).total_seconds()) // 1800  # wakes every 30 minutes
    assert facts["gas_litres"] == half_hours * 50 > 0
    gas = [e for e in story_.exchanges if e.step == "8 gas"]
    assert {e.use_case for e in gas} == {"GCS38", "GCS01a", "GCS13a"}
    assert all(e.verified in ("yes", "-") for e in gas)


def test_the_demo_sends_nothing_too_large_for_the_han(story: tuple[Story, list[str]]) -> None:
    stats = story[0].facts["premises_stats"]
    assert isinstance(stats, dict) and stats.get("wan_out", 0) > 0
    assert stats.get("han_oversize", 0) == 0
