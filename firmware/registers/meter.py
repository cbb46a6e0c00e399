"""One meter's registers as an object: the handle the ESME firmware holds.

Layer: firmware. It owns a state, a log region and the active table, plus a passive table
with its activation time (ECS01a future-dated tariffs). :meth:`MeterRegisters.advance`
splits a span at the activation, takes the billing snapshot a tariff change requires, and
otherwise makes one engine call per span. Fleets call the engine's ``advance`` directly
over N states at once with one shared table.
"""

from __future__ import annotations

from array import array

from smemu.errors import ConfigError
from smemu.firmware import registers as engine
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers import ops
from smemu.firmware.registers.ops import Event, Registers, decode_events, read, snapshot
from smemu.firmware.registers.tables import Table


class MeterRegisters:
    """The register engine state of one meter, advanced by whole spans."""

    def __init__(
        self, table: Table, t: int, *, prepay: bool = False, balance: int = 0, logs: bool = True
    ) -> None:
        self.table = table
        self.state: array[int] = lay.new_state(t, prepay=prepay, balance=balance)
        self.logs: bytearray | None = bytearray(lay.log_bytes(table.words)) if logs else None
        self.passive: tuple[Table, int] | None = None

    @property
    def t(self) -> int:
        return self.state[lay.S_T]

    def registers(self) -> Registers:
        return read(self.state)

    def top_up(
        self, amount: int, *, t: int | None = None, percent_bp: int = 0,
        weekly_cap: int | None = None,
    ) -> int:
        """A payment of ``amount`` (10^-5 currency) at ``t`` (default: the state's instant),
        logged in the payment rings when the meter keeps logs; returns the debt recovered."""
        logs = memoryview(self.logs) if self.logs is not None else None
        return ops.top_up(
            self.table.words, self.state, self.t if t is None else t, amount,
            percent_bp=percent_bp, weekly_cap=weekly_cap, logs=logs,
        )

    def credit_log(self) -> list[ops.PaymentEntry]:
        """ECS20d: the last 5 top-ups, oldest first."""
        return ops.credit_log(self.table.words, self.state, self.logs)

    def repayment_log(self) -> list[ops.PaymentEntry]:
        """ECS20a: the last 10 payment-based debt recoveries, oldest first."""
        return ops.repayment_log(self.table.words, self.state, self.logs)

    def schedule(self, table: Table, at: int) -> None:
        """Make ``table`` active at UTC ``at`` (rounded up to the next half-hour)."""
        new, old = table.words[lay.T_FLAGS], self.table.words[lay.T_FLAGS]
        if new & lay.F_LOGS_ALL != old & lay.F_LOGS_ALL:
            raise ConfigError("a tariff change cannot change which logs the meter keeps")
        self.passive = (table, -(-at // lay.INTERVAL) * lay.INTERVAL)

    def advance(
        self,
        t_to: int,
        imports: lay.Buffer,
        exports: lay.Buffer | None = None,
        reactive: lay.Buffer | None = None,
    ) -> list[Event]:
        """Advance to ``t_to`` with per-interval (or constant) uint16 Wh consumption.

        ``exports`` (Wh) and ``reactive`` (reactive import, varh) have the same shape as
        ``imports`` (per interval, or one constant), or are None.
        """
        events: list[Event] = []
        start = t = self.t
        imp = memoryview(imports).cast("B").cast("H")
        exp = None if exports is None else memoryview(exports).cast("B").cast("H")
        rea = None if reactive is None else memoryview(reactive).cast("B").cast("H")
        intervals = (t_to - start) // lay.INTERVAL
        per_interval = len(imp) == intervals
        if not per_interval and len(imp) != 1:
            raise ValueError("imports: one uint16 per interval, or one constant")
        while True:
            stop = t_to
            if self.passive is not None and t <= self.passive[1] < t_to:
                stop = self.passive[1]
            lo, hi = (t - start) // lay.INTERVAL, (stop - start) // lay.INTERVAL
            data = engine.advance(
                self.table.data,
                memoryview(self.state).cast("B"),
                self.logs,
                t,
                stop,
                imp[lo:hi] if per_interval else imp,
                None if exp is None else (exp[lo:hi] if per_interval else exp),
                None if rea is None else (rea[lo:hi] if per_interval else rea),
            )
            events.extend(decode_events(data))
            t = stop
            if self.passive is not None and self.passive[1] == t:
                logs = memoryview(self.logs) if self.logs is not None else None
                events.append(snapshot(self.table.words, self.state, logs, t))
                self.table, self.passive = self.passive[0], None
            if t >= t_to:
                return events
