"""The test's own side of the sixty-day premises: the tariffs it configures, the consumption it
feeds, and the reference meters (the pure-Python register engine) it keeps beside the devices.

Split from :mod:`._premises_life`, which plays the story; both are read by
test_premises_60_days.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from smemu.devices.config import load_config
from smemu.devices.keys import manufacturer_key
from smemu.firmware import firmware_image as fw
from smemu.firmware import metering
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers import ops, reference
from smemu.firmware.registers.tables import (
    DayProfile,
    Prepayment,
    Season,
    Settings,
    Tariff,
    compile_table,
)

DAYS: Final = 60
#: the ESME's seeded domestic load (esme/load)
ESME_LOAD: Final = {"watts": 600, "seed": 46}
#: the gas flow, litres per UTC half-hour of the day (gsme/flow), heating peaks
GAS_SERIES: Final = tuple(
    [20] * 12 + [180, 240, 200, 120] + [40] * 16 + [60] * 4 + [220, 260, 240, 200, 150, 90]
    + [30] * 6
)  # fmt: skip
#: ECS01a: rate 1 at night (15p), rate 2 by day (30p), a 20p daily standing charge
SWITCHES: Final = ((0, 1), (7 * 60, 2), (23 * 60, 1))
PRICES: Final = (15_000, 30_000)
STANDING: Final = 20_000
#: GCS01a: gas rate 1 all day but the 16:00-19:00 peak (rate 2), 6p and 9p per kWh, a 25p
#: daily standing charge (prices per kWh, 10^-5 GBP)
GAS_SWITCHES: Final = ((0, 1), (16 * 60, 2), (19 * 60, 1))
GAS_PRICES: Final = (6_000, 9_000)
GAS_STANDING: Final = 25_000
#: the gas meter's conversion (its defaults: calorific value 39.5 MJ/m3, correction factor
#: 1.02264): energy = m3 x CV x CF / 3.6 (MJ per kWh), in 1/1000 MJ/m3 and 1/1000000
GAS_CV_MILLI: Final = 39_500
GAS_CF_MICRO: Final = 1_022_640
#: GCS13a Read GSME Consumption Register (answered by the GPF from its mirror)
GCS13A: Final = 0x0074
METERING: Final = 0x0702
GAS_TOP_UP_PENCE: Final = 500
BOOST_MINUTES: Final = 30
#: the default premises' manufacturer: its PKI seed's, trusted by the devices it commissions
MANUFACTURER: Final = manufacturer_key(load_config(None).pki_seed or b"")
VERSION: Final = bytes.fromhex("02040600")
IMAGE: Final = fw.build_image(0x0102, VERSION, b"sixty days of firmware " * 30, MANUFACTURER)


def at(start: datetime, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return start + timedelta(days=day, hours=hour, minutes=minute)


def epoch(instant: datetime) -> int:
    return int(instant.timestamp())


# ------------------------------------------------------------------ reference meters


def esme_table() -> bytes:
    """The engine table ECS01a below describes, compiled from the test's own numbers."""
    return compile_table(
        Tariff(
            day_profiles=(DayProfile(SWITCHES),),
            seasons=(Season(1, 1, 0, 2025),),  # TariffSettings.simple: one season from 2025
            tou_prices=PRICES,
            standing_charge=STANDING,
        ),
        Prepayment(),
    ).data


def gsme_table() -> bytes:
    """The gas meter's table before any gas tariff: one rate, no price (its default)."""
    tariff = Tariff(day_profiles=(DayProfile(((0, 1),)),))
    return compile_table(tariff, Prepayment(), Settings()).data


def per_litre(price_per_kwh: int) -> int:
    """A gas price per kWh as the engine's price per m3 of the litres it counts (rounded)."""
    kwh_per_m3_scaled = GAS_CV_MILLI * GAS_CF_MICRO  # x 3.6e9 = kWh per m3
    return (price_per_kwh * kwh_per_m3_scaled + 1_800_000_000) // 3_600_000_000


def gsme_tariff_table() -> bytes:
    """The engine table GCS01a below describes: the gas TOU rates every day of the year."""
    return compile_table(
        Tariff(
            day_profiles=(DayProfile(GAS_SWITCHES),),
            seasons=(Season(1, 1, 0, 0),),  # GasTariff.simple: one season, every year
            tou_prices=tuple(per_litre(p) for p in GAS_PRICES),
            standing_charge=GAS_STANDING,
        ),
        Prepayment(),
        Settings(),
    ).data


@dataclass
class RefMeter:
    """One reference meter: table, state words, log region, consumption by interval."""

    table: bytes
    state: array[int]
    logs: bytearray

    @classmethod
    def start(cls, table: bytes, t: int) -> RefMeter:
        words = array("q")
        words.frombytes(table)
        state = lay.new_state(t - t % lay.INTERVAL)
        return cls(table, state, bytearray(lay.log_bytes(words)))

    @property
    def t(self) -> int:
        return self.state[lay.S_T]

    def advance(self, t_to: int, usage: array[int]) -> list[ops.Event]:
        t_from = self.t
        if t_to <= t_from:
            return []
        data = reference.advance(
            self.table, memoryview(self.state).cast("B"), self.logs, t_from, t_to, usage
        )
        return list(ops.decode_events(data))

    def registers(self) -> ops.Registers:
        return ops.read(self.state)

    def words(self) -> array[int]:
        words = array("q")
        words.frombytes(self.table)
        return words

    def change_tariff(self, t: int, table: bytes, usage: array[int]) -> None:
        """At ``t``: registers up to ``t`` under the old table, a billing snapshot (change of
        tariff), then the new table."""
        self.advance(t, usage)
        ops.snapshot(self.words(), self.state, memoryview(self.logs), t)
        self.table = table

    def top_up(self, t: int, amount: int, usage: array[int]) -> None:
        """At ``t``: registers up to ``t``, then a top-up of ``amount`` (10^-5 GBP)."""
        self.advance(t, usage)
        ops.top_up(self.words(), self.state, t, amount, logs=memoryview(self.logs))


def esme_usage(t_from: int, t_to: int, off: tuple[int, int] | None) -> array[int]:
    """The ESME load per interval, nothing while the premises has no supply (``off``)."""
    load = metering.LoadModel(ESME_LOAD["watts"], ESME_LOAD["seed"])
    out = array("H")
    for t in range(t_from, t_to, lay.INTERVAL):
        dark = off is not None and off[0] <= t < off[1]
        out.append(0 if dark else load.interval_wh(t))
    return out


def gas_usage(t_from: int, t_to: int) -> array[int]:
    n = len(GAS_SERIES)
    return array("H", (GAS_SERIES[(t // lay.INTERVAL) % n] for t in range(t_from, t_to, 1800)))

