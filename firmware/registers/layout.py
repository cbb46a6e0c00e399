"""Binary layouts shared by the reference engine and ``_engine.c``: table, state, logs, events.

Layer: firmware. Both implementations work over the same little-endian int64 words, so the
differential tests compare bytes. Money inside the engine is in *fine units* of 10^-8 currency
(a price in 10^-5 currency per kWh times Wh, exactly: GBCS price scale -5, commodity scale 3,
gbcs-reference.md §10.1); the public API takes 10^-5 units (x :data:`FINE`). Energy is in Wh.
Bump :data:`LAYOUT_VERSION` on any change; ``_engine.c`` checks it against its own copy.
"""

from __future__ import annotations

from array import array
from collections.abc import MutableSequence, Sequence
from typing import Final, TypeAlias

#: int64 words of a table or a state (``array('q')`` or a list in tests)
Words = Sequence[int]
MutableWords = MutableSequence[int]
#: what the engine accepts as a byte buffer (C: the buffer protocol)
Buffer: TypeAlias = "bytes | bytearray | memoryview | array[int]"

LAYOUT_VERSION: Final = 4
FINE: Final = 1000  #: fine money units per 10^-5 currency unit
INTERVAL: Final = 1800

N_TOU: Final = 48
N_SETS: Final = 8
N_BLOCKS: Final = 4
N_THRESHOLDS: Final = 3
N_WEEKS: Final = 4
N_SEASONS: Final = 4
N_SPECIAL: Final = 52
N_PROFILES: Final = 16
NO_THRESHOLD: Final = 1 << 62
BLOCK_SELECTOR: Final = 100  #: compiled selector 100+n = block set n (0..7); below = TOU rate

# ---- table (shared by every meter on the same tariff) ----
T_VERSION: Final = 0
T_FLAGS: Final = 1
T_BILLING_DAY: Final = 2
T_STANDING: Final = 3  #: fine units per day
T_LOW_CREDIT: Final = 4
T_EC_THRESHOLD: Final = 5
T_EC_LIMIT: Final = 6
T_DISABLE: Final = 7
T_DEBT_RATE: Final = 8  #: [2] fine units per period
T_DEBT_PERIOD: Final = 10  #: [2] 0 hourly, 1 daily
T_N_SEASONS: Final = 12
T_N_SPECIAL: Final = 13
T_N_PROFILES: Final = 14
T_MD_PERIOD: Final = 15  #: maximum demand period in half-hours (1..48, dividing 48; 0 = 1)
T_TOU_PRICE: Final = 16  #: [48] 10^-5 currency per kWh
T_BLOCK_PRICE: Final = T_TOU_PRICE + N_TOU  #: [8 sets x 4 blocks]
T_THRESH: Final = T_BLOCK_PRICE + N_SETS * N_BLOCKS  #: [8 sets x 3] Wh
T_WEEKS: Final = T_THRESH + N_SETS * N_THRESHOLDS  #: [4 weeks x 7 days] profile index
T_SEASONS: Final = T_WEEKS + N_WEEKS * 7  #: [4 x (year or 0, month, day, week)]
T_FRIENDLY: Final = T_SEASONS + N_SEASONS * 4  #: [7 weekdays] 48-bit slot masks
T_SPECIAL: Final = T_FRIENDLY + 7  #: [52 x (year<<16 | month<<8 | day, profile)]
T_PROFILES: Final = T_SPECIAL + 2 * N_SPECIAL  #: [16 x 48] compiled selectors
TABLE_WORDS: Final = T_PROFILES + N_PROFILES * 48
TABLE_BYTES: Final = TABLE_WORDS * 8

# table flags
F_BLOCK_RESET_BILLING: Final = 1  #: reset the block counters on the billing day, not daily
F_SUSPEND_DEBT_EMERGENCY: Final = 2  #: time-based charges go to the accumulated debt in EC
F_SUSPEND_DEBT_DISABLED: Final = 4  #: no time-based debt recovery while the supply is off
F_LOG_PROFILE: Final = 8  #: half-hourly import profile (13 months)
F_LOG_PROFILE_EXPORT: Final = 16  #: half-hourly export profile (13 months)
F_LOG_DAILY: Final = 32  #: daily read log (731 days)
F_LOG_BILLING: Final = 64  #: billing data log (13 snapshots)
#: half-hourly reactive import profile (13 months, uint16 varh like the import profile); a
#: flag of its own, off by default: import + reactive profiles alone are 76,032 bytes, over
#: the 60 KB per-meter log budget, which holds for import profile + daily + billing
F_LOG_PROFILE_REACTIVE: Final = 128
F_LOGS: Final = F_LOG_PROFILE | F_LOG_PROFILE_EXPORT | F_LOG_DAILY | F_LOG_BILLING
F_LOGS_ALL: Final = F_LOGS | F_LOG_PROFILE_REACTIVE  #: every log flag

# ---- state (one per meter) ----
S_T: Final = 0  #: UTC seconds the registers are valid at
S_FLAGS: Final = 1
S_IMPORT: Final = 2  #: Wh
S_EXPORT: Final = 3
S_COST: Final = 4  #: accumulated cost, fine units (energy + standing charge)
S_BALANCE: Final = 5  #: meter balance, fine units
S_EC: Final = 6  #: emergency credit balance
S_ACC_DEBT: Final = 7  #: accumulated debt register
S_DEBT: Final = 8  #: [2] time-based debt registers
S_PAY_DEBT: Final = 10  #: payment-based debt register
S_PERIOD: Final = 11  #: block period consumption counter, Wh
S_MD_IMPORT: Final = 12
S_MD_IMPORT_T: Final = 13
S_MD_EXPORT: Final = 14
S_MD_EXPORT_T: Final = 15
S_PROFILE_HEAD: Final = 16  #: intervals ever written to the profile log
S_DAILY_HEAD: Final = 17
S_BILLING_HEAD: Final = 18
S_RECOVERED: Final = 19  #: [8 x (t, amount)] payment-based recovery for the weekly cap
S_RECOVERED_HEAD: Final = 35
S_MD_ACC: Final = 36  #: import in the current maximum demand period, Wh
S_MD_ACC_EXPORT: Final = 37  #: export in the current maximum demand period, Wh
S_REACTIVE: Final = 38  #: reactive import register, varh (0 while the supply is disabled)
S_TOU: Final = 40  #: [48] Wh
S_BLOCK: Final = S_TOU + N_TOU  #: [8 x 4] Wh, cumulative
S_MATRIX: Final = S_BLOCK + N_SETS * N_BLOCKS  #: [8 x 4] Wh in the current block period
#: prepayment credits ever written to the credit log (ECS20d); layout v4
S_CREDIT_LOG_HEAD: Final = S_MATRIX + N_SETS * N_BLOCKS
#: payment-based debt repayments ever written to the repayment log (ECS20a); layout v4
S_REPAYMENT_LOG_HEAD: Final = S_CREDIT_LOG_HEAD + 1
STATE_WORDS: Final = S_REPAYMENT_LOG_HEAD + 1
STATE_BYTES: Final = STATE_WORDS * 8

# state flags
M_PREPAY: Final = 1
M_EC_ACTIVE: Final = 2
M_DISABLED: Final = 4
M_LOW_SENT: Final = 8
M_EC_AVAILABLE_SENT: Final = 16
M_EXHAUSTED_SENT: Final = 32
M_PENDING_DISABLE: Final = 64
M_EC_EXHAUSTED_SENT: Final = 128

# ---- logs (one region per meter; sections present per the table's log flags) ----
PROFILE_SLOTS: Final = 396 * 48  #: 13 months of half-hours (uint16 Wh or varh each)
DAILY_SLOTS: Final = 731  #: 24 months of days ((uint32 import, uint32 export) each)
BILLING_SLOTS: Final = 13
B_T, B_IMPORT, B_EXPORT, B_COST, B_BALANCE, B_EC, B_ACC_DEBT = range(7)
B_DEBT: Final = 7  #: [2]
B_PAY_DEBT: Final = 9
B_MD: Final = 10  #: [4] import value, t, export value, t
B_TOU: Final = 14
B_BLOCK: Final = B_TOU + N_TOU
BILLING_WORDS: Final = B_BLOCK + N_SETS * N_BLOCKS
#: Billing Data Log (mostrecentPrepaymentCredits), ECS20d: the last 5 top-ups, each
#: (UTC instant, credit added in fine units) as two int64 words (SMETS 4.6.5.3)
CREDIT_LOG_SLOTS: Final = 5
#: Billing Data Log (mostrecentPaymentBasedDebtRepayment), ECS20a: the last 10 debt
#: recoveries taken from a payment, each (UTC instant, amount recovered in fine units)
REPAYMENT_LOG_SLOTS: Final = 10
#: both rings, after the billing snapshots; present with :data:`F_LOG_BILLING`
PREPAYMENT_LOG_BYTES: Final = (CREDIT_LOG_SLOTS + REPAYMENT_LOG_SLOTS) * 16

# ---- events ----
EVENT_FORMAT: Final = "<iiqq"  #: meter index, code, UTC instant, value
EVENT_BYTES: Final = 24
E_LOW_CREDIT: Final = 1  #: value: available credit (fine)
E_EC_AVAILABLE: Final = 2  #: value: meter balance (fine)
E_EC_EXHAUSTED: Final = 3  #: value: meter balance (fine)
E_CREDIT_EXHAUSTED: Final = 4  #: value: available credit (fine)
E_SUPPLY_DISABLED: Final = 5  #: value: available credit (fine)
E_BLOCK_CHANGE: Final = 6  #: value: set * 16 + new block index
E_BILLING_SNAPSHOT: Final = 7  #: value: billing log entries ever written (after this one)
E_DEBT_CLEARED: Final = 8  #: value: time-debt register index (0 or 1)
E_SWITCH: Final = 9  #: load control: value: switch * 2 + closed (from the timeline)
EVENT_NAMES: Final = {
    E_LOW_CREDIT: "low_credit",
    E_EC_AVAILABLE: "emergency_credit_available",
    E_EC_EXHAUSTED: "emergency_credit_exhausted",
    E_CREDIT_EXHAUSTED: "credit_exhausted",
    E_SUPPLY_DISABLED: "supply_disabled",
    E_BLOCK_CHANGE: "block_change",
    E_BILLING_SNAPSHOT: "billing_snapshot",
    E_DEBT_CLEARED: "debt_cleared",
    E_SWITCH: "switch",
}


def log_sections(flags: int) -> tuple[int, int, int, int, int]:
    """Byte offsets (profile import, profile export, daily, billing) and the total size.

    A section whose flag is off has the offset of the next one and no size. The reactive
    profile (:func:`reactive_section`) sits between the export profile and the daily log;
    the prepayment credit and repayment rings (:func:`prepayment_log_sections`) end the
    billing section.
    """
    off = 0
    profile = off
    off += PROFILE_SLOTS * 2 if flags & F_LOG_PROFILE else 0
    export = off
    off += PROFILE_SLOTS * 2 if flags & F_LOG_PROFILE_EXPORT else 0
    off += PROFILE_SLOTS * 2 if flags & F_LOG_PROFILE_REACTIVE else 0
    daily = off
    off += DAILY_SLOTS * 8 if flags & F_LOG_DAILY else 0
    billing = off
    off += BILLING_SLOTS * BILLING_WORDS * 8 if flags & F_LOG_BILLING else 0
    off += PREPAYMENT_LOG_BYTES if flags & F_LOG_BILLING else 0
    return profile, export, daily, billing, off


def prepayment_log_sections(flags: int) -> tuple[int, int] | None:
    """Byte offsets of the credit ring (ECS20d) and the repayment ring (ECS20a).

    Both belong to the Billing Data Log (SMETS 4.6.5.3), so they follow the billing
    snapshots and exist only with :data:`F_LOG_BILLING` (None without it).
    """
    if not flags & F_LOG_BILLING:
        return None
    credit = log_sections(flags)[3] + BILLING_SLOTS * BILLING_WORDS * 8
    return credit, credit + CREDIT_LOG_SLOTS * 16


def reactive_section(flags: int) -> int:
    """Byte offset of the reactive profile (uint16 varh per half-hour) in a log region."""
    export = log_sections(flags)[1]
    return export + (PROFILE_SLOTS * 2 if flags & F_LOG_PROFILE_EXPORT else 0)


def log_bytes(table: Words) -> int:
    """Bytes of log region one meter needs under ``table``'s log flags."""
    return log_sections(table[T_FLAGS])[4]


def upgrade(table: bytes, state: bytes, logs: bytes) -> tuple[bytes, bytes, bytes]:
    """A meter's stored (table, state, log region) in this layout, from layout 3 or 4.

    Layout 4 added the payment rings' two heads at the end of the state and the rings
    (:data:`PREPAYMENT_LOG_BYTES`, zero = empty) at the end of a region that keeps the
    billing log; the table words did not move, only their version. Stored NVM of a meter
    commissioned before the change goes through this once before the next ``advance``.

    :raises ValueError: another layout, or sizes that do not match the stored version.
    """
    if len(table) != TABLE_BYTES:
        raise ValueError(f"table must be {TABLE_BYTES} bytes")
    words = array("q")
    words.frombytes(table)
    version = words[T_VERSION]
    if version == LAYOUT_VERSION:
        return table, state, logs
    if version != 3 or len(state) != STATE_BYTES - 16:
        raise ValueError(f"cannot upgrade a layout {version} meter of {len(state)} state bytes")
    words[T_VERSION] = LAYOUT_VERSION
    extra = PREPAYMENT_LOG_BYTES if words[T_FLAGS] & F_LOG_BILLING and logs else 0
    return words.tobytes(), state + bytes(16), logs + bytes(extra)


def new_state(t: int, *, prepay: bool = False, balance: int = 0) -> array[int]:
    """A zeroed meter state valid at UTC ``t`` (a half-hour boundary).

    :param balance: meter balance in 10^-5 currency units.
    """
    if t % INTERVAL:
        raise ValueError(f"state time {t} is not on a half-hour boundary")
    state = array("q", bytes(STATE_BYTES))
    state[S_T] = t
    state[S_FLAGS] = M_PREPAY if prepay else 0
    state[S_BALANCE] = balance * FINE
    return state
