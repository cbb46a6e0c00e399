"""The gas meter's consumption model and the value types of its registers.

Layer: firmware. Split out of :mod:`smemu.firmware.gas_metering` (which re-exports every
name here): :class:`GasFlow` is the deterministic consumption of the emulated meter (NVM
``gsme/flow``: JSON ``{"litres_per_hour": n}`` or ``{"series": [litres per half-hour, ...]}``
repeated over UTC half-hours); :class:`GasRegisters` the register values the engine holds;
:class:`CreditKind` how credit reaches the meter balance.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from enum import Enum
from typing import Final

from smemu.firmware.common.machine import Tx
from smemu.firmware.registers import layout as lay

FLOW: Final = "gsme/flow"
DEFAULT_LITRES_PER_HOUR: Final = 100
_PENCE: Final = 1000  #: 10^-5 currency units per penny
_MAX_LITRES: Final = 0xFFFF


class CreditKind(Enum):
    """How credit reaches the meter balance (GCS use cases / PPMID)."""

    TOP_UP = "top_up"  #: UTRN top-up (remote or keyed in at the PPMID): repays debt first
    ADJUSTMENT = "adjustment"  #: balance adjustment by the supplier (signed, balance only)
    EMERGENCY = "emergency"  #: the consumer activates emergency credit (amount ignored)


@dataclass(frozen=True, slots=True)
class GasRegisters:
    """Register values of the gas meter at the last half-hour boundary (``t``, UTC seconds).

    Volumes in litres (1/1000 m3); money in 10^-5 currency units (the engine's public unit
    and the ZCL one, price trailing digit 5), floored from the engine's fine units. The
    ``*_pence`` properties are the same amounts in whole pence (floor).
    """

    t: int = 0
    volume_litres: int = 0  #: current summation delivered
    energy_wh: int = 0  #: volume x CV x CF / 3.6 at the calorific value in force
    tou_litres: tuple[int, ...] = ()  #: TariffTOURegisterMatrix[1..]
    block_litres: tuple[int, ...] = ()  #: TariffBlockCounterMatrix, block set 1
    accumulated_cost: int = 0
    balance: int = 0  #: meter balance, signed
    emergency_credit: int = 0  #: emergency credit balance
    accumulated_debt: int = 0
    time_debts: tuple[int, int] = (0, 0)
    payment_debt: int = 0
    prepayment: bool = False
    emergency_credit_active: bool = False
    supply_disabled: bool = False

    @property
    def volume_m3_milli(self) -> int:
        """The volume in 1/1000 m3 (the same number as litres)."""
        return self.volume_litres

    @property
    def accumulated_cost_pence(self) -> int:
        return self.accumulated_cost // _PENCE

    @property
    def balance_pence(self) -> int:
        return self.balance // _PENCE

    @property
    def emergency_credit_pence(self) -> int:
        return self.emergency_credit // _PENCE

    @property
    def accumulated_debt_pence(self) -> int:
        return self.accumulated_debt // _PENCE

    @property
    def time_debts_pence(self) -> tuple[int, int]:
        return self.time_debts[0] // _PENCE, self.time_debts[1] // _PENCE

    @property
    def payment_debt_pence(self) -> int:
        return self.payment_debt // _PENCE


@dataclass(frozen=True, slots=True)
class GasFlow:
    """Deterministic gas consumption: a constant flow or a repeating half-hourly series."""

    litres_per_hour: int = DEFAULT_LITRES_PER_HOUR
    series: tuple[int, ...] = ()  #: litres per half-hour, cycled by UTC interval index

    @classmethod
    def from_tx(cls, tx: Tx) -> GasFlow:
        raw = tx.get_json(FLOW, {})
        if not isinstance(raw, dict):
            return cls()
        series = raw.get("series")
        if isinstance(series, list) and series and all(isinstance(v, int) for v in series):
            return cls(series=tuple(min(_MAX_LITRES, max(0, v)) for v in series))
        rate = raw.get("litres_per_hour", DEFAULT_LITRES_PER_HOUR)
        return cls(rate if isinstance(rate, int) and rate >= 0 else DEFAULT_LITRES_PER_HOUR)

    def interval_litres(self, t: int) -> int:
        """Litres in the half-hour starting at UTC ``t``."""
        if self.series:
            return self.series[(t // lay.INTERVAL) % len(self.series)]
        return min(_MAX_LITRES, self.litres_per_hour // 2)

    def imports(self, t_from: int, t_to: int) -> array[int]:
        """uint16 litres per interval over [t_from, t_to) (one value for a constant flow)."""
        if not self.series:
            return array("H", (self.interval_litres(t_from),))
        n = len(self.series)
        first = (t_from // lay.INTERVAL) % n
        count = (t_to - t_from) // lay.INTERVAL
        cycle = self.series[first:] + self.series[:first]
        whole, part = divmod(count, n)
        return array("H", cycle * whole + cycle[:part])

    def volume(self, t_from: int, t_to: int) -> int:
        """Litres over [t_from, t_to), pro rata within half-hours (sampling, GCS31)."""
        total = 0
        t = t_from
        while t < t_to:
            start = t - t % lay.INTERVAL
            end = min(t_to, start + lay.INTERVAL)
            total += self.interval_litres(start) * (end - t) // lay.INTERVAL
            t = end
        return total


__all__ = ["DEFAULT_LITRES_PER_HOUR", "FLOW", "CreditKind", "GasFlow", "GasRegisters"]
