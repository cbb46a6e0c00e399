"""Type stub of the register engine's C extension (firmware/registers/_engine.c)."""

from smemu.firmware.registers.layout import Buffer

IMPLEMENTATION: str
LAYOUT_VERSION: int
STATE_BYTES: int
TABLE_BYTES: int
PREPAYMENT_LOG_BYTES: int

def advance(
    table: Buffer,
    states: Buffer,
    logs: Buffer | None,
    t_from: int,
    t_to: int,
    imports: Buffer,
    exports: Buffer | None = None,
    reactive: Buffer | None = None,
    /,
) -> bytes: ...
def naive_tou(rates: Buffer, imports: Buffer, registers: Buffer, /) -> None: ...
def switch_timeline(
    calendar: Buffer,
    limit: int,
    t_from: int,
    t_to: int,
    effective: Buffer,
    switch: int,
    seed: int,
    /,
) -> bytes: ...
