"""Premises files: HCALC switch calendars set from TOML, checked, and commissioned."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from smemu.devices.commissioning import default_hcalc_config, hcalc_config_of
from smemu.devices.config import DEFAULT_PREMISES, load_config, parse_calendar, parse_config
from smemu.devices.premises import Premises
from smemu.errors import ConfigError
from smemu.firmware import hcalc
from smemu.firmware.common.machine import DeviceType
from smemu.protocols.gbcs.types import Eui64

pytestmark = pytest.mark.timeout(60)

HCALC = Eui64.parse("00-DB-12-34-56-78-90-A5")
_HEAD = DEFAULT_PREMISES.split("[[device]]\ntype = \"hcalc\"")[0]


def _with_hcalc(body: str) -> str:
    return _HEAD + f'[[device]]\ntype = "hcalc"\neui = "{HCALC}"\n' + body


def test_default_premises_gives_the_built_in_calendars_explicitly() -> None:
    config = load_config(None)
    given = config.hcalc_config(HCALC)
    assert given is not None and given == default_hcalc_config(HCALC)


def test_an_hcalc_without_switch_tables_gets_the_built_in_calendars() -> None:
    config = parse_config(_with_hcalc(""))
    assert config.hcalc_config(HCALC) is None
    spec = config.of_type(DeviceType.HCALC)[0]
    assert hcalc_config_of(config, spec) == default_hcalc_config(HCALC)


def test_switch_tables_set_calendars_weekdays_offsets_delays_and_seed() -> None:
    config = parse_config(
        _with_hcalc(
            "seed = 7\n"
            '[[device.switch]]\ncalendar = "06:00=on, 08:00=off"\nsaturday = "09:30=on"\n'
            "random_offset_s = 120\ndelay_minutes = 5\n"
            '[[device.switch]]\ncalendar = "23:00=on,01:00=off"\n'
            '[[device.switch]]\ncalendar = ""\n'
        )
    )
    found = config.hcalc_config(HCALC)
    assert found is not None
    assert (found.switches, found.seed, found.delay_minutes) == (3, 7, (5, 0, 0))
    first, second, third = found.calendars
    assert first.days[0] == ((360, True), (480, False)) and first.days[5] == ((570, True),)
    assert first.random_offset_limit == 120 and second.random_offset_limit == 0
    assert second.days[6] == ((60, False), (1380, True))  # sorted by time of day
    assert third.days == ((),) * 7


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[device.switch]]\ncalendar = "25:00=on"\n', "is not HH:MM=on"),
        ('[[device.switch]]\ncalendar = "06:00=half"\n', "is not HH:MM=on"),
        ('[[device.switch]]\ncalendar = "06:00=on,06:00=off"\n', "same time"),
        ('[[device.switch]]\nmonday = "06:00=on"\n', "no calendar for tuesday"),
        ('[[device.switch]]\ncalendar = "06:00=on"\nrandom_offset_s = 9999\n', "0..3600"),
        ('[[device.switch]]\ncalendar = "06:00=on"\ndelay_minutes = 2000\n', "delay_minutes"),
        ('[[device.switch]]\ncalendar = "06:00=on"\ncolour = 1\n', "unknown key 'colour'"),
        ('seed = 3\n', "seed needs"),
        ("switch = 3\n", "1..8"),
        ("".join('[[device.switch]]\ncalendar = ""\n' for _ in range(9)), "1..8"),
    ],
)
def test_bad_switch_tables_say_why(body: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(_with_hcalc(body))


def test_parse_calendar_round_trips_its_own_text() -> None:
    day = parse_calendar("00:30=on,04:30=off,13:00=ON,16:00=off")
    text = ",".join(f"{m // 60:02d}:{m % 60:02d}={'on' if c else 'off'}" for m, c in day)
    assert parse_calendar(text) == day == ((30, True), (270, False), (780, True), (960, False))


def test_premises_commissions_the_hcalc_with_the_file_calendars(tmp_path: Path) -> None:
    config = parse_config(
        _with_hcalc('[[device.switch]]\ncalendar = "06:00=on,08:00=off"\nrandom_offset_s = 0\n')
    )

    async def run() -> list[tuple[int, int, bool]]:
        async with Premises(config, tmp_path, wan="virtual://h39-config", speed=0.0) as p:
            hc = p.device(DeviceType.HCALC)
            start = p.clock.now()
            await p.advance(timedelta(days=1))
            return [
                (at.hour, at.minute, closed)
                for at, closed in hcalc.switch_timeline_of(hc.machine.nvm, 1)
                if at > start  # the first entry is the state at commissioning
            ]

    line = asyncio.run(run())
    assert (6, 0, True) in line and (8, 0, False) in line
    assert all((h, m) in ((6, 0), (8, 0)) for h, m, _ in line), line
