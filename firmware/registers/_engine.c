/* The register engine in C: the semantics of reference.py, folded per day.
 *
 * Layer: firmware (a CPython extension module built by setuptools; see engine.py for why an
 * extension module rather than ctypes or cffi). Everything here is pure: integer arithmetic
 * over the caller's buffers (table, states, logs, consumption) with the byte layouts of
 * layout.py, and packed events returned as bytes.
 *
 * Speed comes from doing per day, and per run of days, what reference.py does per half-hour.
 * Three paths, fastest first:
 * - fast_days: a run of ordinary whole days (no DST change, supply on, no debt that could
 *   clear within the run; a billing day ends the run, its snapshot taken after it). Per day: the energy is added to a fold row
 *   per (day profile, slot), its cost bound (energy x the profile's top price) comes off a
 *   credit headroom (budget(): how much can be debited before any credit alert), and block
 *   slots are booked by runs of one block set (block_span: one addition per block, and
 *   per threshold reached, a branch-free search of the day's running sums for its slot).
 *   Standing charge and debt recovery are booked once for the run.
 * - fast_day: one whole day, also of 46 or 50 intervals, with midnight() done exactly and
 *   hourly debts that clear inside the day (their events queued between block changes).
 * - interval(): half-hour by half-hour, reference.py line by line (partial days, days where
 *   a credit event may happen, deferred disablement, demand periods over 30 minutes).
 * TOU registers, cost and balance are folded in lazily (at billing snapshots, before any
 * debit that could cross a threshold, and at the end of the span). Sums are exact integers
 * and debits are path-independent (take()), so the order of folding changes no result.
 */
#define PY_SSIZE_T_CLEAN
#ifndef Py_LIMITED_API
#define Py_LIMITED_API 0x030B0000
#endif
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* AVX2 clones of the day loops where the CPU has it (picked at load time; the sums and
 * maxima over 48 half-hours vectorise), the baseline build elsewhere. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define HOT_CLONES __attribute__((target_clones("default", "avx2")))
#else
#define HOT_CLONES
#endif
/* for helpers of the cloned loops: inlined, they are compiled for each clone's target */
#if defined(__GNUC__)
#define INLINE static inline __attribute__((always_inline))
#define PREFETCH_WRITE(p) __builtin_prefetch((p), 1, 3)
#else
#define INLINE static inline
#define PREFETCH_WRITE(p) ((void)(p))
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the engine's byte layouts are little-endian"
#endif

/* ---- layout.py, LAYOUT_VERSION 4 (init test compares these with layout.py) ---- */
#define LAYOUT_VERSION 4
#define INTERVAL 1800
#define DAY 86400
#define HOUR 3600
#define N_TOU 48
#define N_SETS 8
#define N_PROFILES 16
#define NO_THRESHOLD ((int64_t)1 << 62)
#define BLOCK_SELECTOR 100

#define T_VERSION 0
#define T_FLAGS 1
#define T_BILLING_DAY 2
#define T_STANDING 3
#define T_LOW_CREDIT 4
#define T_EC_THRESHOLD 5
#define T_EC_LIMIT 6
#define T_DISABLE 7
#define T_DEBT_RATE 8
#define T_DEBT_PERIOD 10
#define T_N_SEASONS 12
#define T_N_SPECIAL 13
#define T_N_PROFILES 14
#define T_MD_PERIOD 15
#define T_TOU_PRICE 16
#define T_BLOCK_PRICE (T_TOU_PRICE + 48)
#define T_THRESH (T_BLOCK_PRICE + 32)
#define T_WEEKS (T_THRESH + 24)
#define T_SEASONS (T_WEEKS + 28)
#define T_FRIENDLY (T_SEASONS + 16)
#define T_SPECIAL (T_FRIENDLY + 7)
#define T_PROFILES (T_SPECIAL + 104)
#define TABLE_WORDS (T_PROFILES + 16 * 48)

#define F_BLOCK_RESET_BILLING 1
#define F_SUSPEND_DEBT_EMERGENCY 2
#define F_SUSPEND_DEBT_DISABLED 4
#define F_LOG_PROFILE 8
#define F_LOG_PROFILE_EXPORT 16
#define F_LOG_DAILY 32
#define F_LOG_BILLING 64
#define F_LOG_PROFILE_REACTIVE 128

#define S_T 0
#define S_FLAGS 1
#define S_IMPORT 2
#define S_EXPORT 3
#define S_COST 4
#define S_BALANCE 5
#define S_EC 6
#define S_ACC_DEBT 7
#define S_DEBT 8
#define S_PAY_DEBT 10
#define S_PERIOD 11
#define S_MD_IMPORT 12
#define S_MD_IMPORT_T 13
#define S_MD_EXPORT 14
#define S_MD_EXPORT_T 15
#define S_PROFILE_HEAD 16
#define S_DAILY_HEAD 17
#define S_BILLING_HEAD 18
#define S_MD_ACC 36
#define S_MD_ACC_EXPORT 37
#define S_REACTIVE 38
#define S_TOU 40
#define S_BLOCK (S_TOU + 48)
#define S_MATRIX (S_BLOCK + 32)
/* the heads of the prepayment credit (ECS20d) and payment-based repayment (ECS20a) rings:
 * written by ops.top_up between spans, never here; the engine only carries them */
#define S_CREDIT_LOG_HEAD (S_MATRIX + 32)
#define S_REPAYMENT_LOG_HEAD (S_CREDIT_LOG_HEAD + 1)
#define STATE_WORDS (S_REPAYMENT_LOG_HEAD + 1)

#define M_PREPAY 1
#define M_EC_ACTIVE 2
#define M_DISABLED 4
#define M_LOW_SENT 8
#define M_EC_AVAILABLE_SENT 16
#define M_EXHAUSTED_SENT 32
#define M_PENDING_DISABLE 64
#define M_EC_EXHAUSTED_SENT 128

#define PROFILE_SLOTS (396 * 48)
#define DAILY_SLOTS 731
#define BILLING_SLOTS 13
#define BILLING_WORDS (14 + 48 + 32)
/* the credit ring (5 x (t, amount)) and the repayment ring (10 x (t, amount)) that end the
 * billing section: part of the Billing Data Log, so present with F_LOG_BILLING */
#define CREDIT_LOG_SLOTS 5
#define REPAYMENT_LOG_SLOTS 10
#define PREPAYMENT_LOG_BYTES ((CREDIT_LOG_SLOTS + REPAYMENT_LOG_SLOTS) * 16)
#define EVENT_BYTES 24

#define E_LOW_CREDIT 1
#define E_EC_AVAILABLE 2
#define E_EC_EXHAUSTED 3
#define E_CREDIT_EXHAUSTED 4
#define E_SUPPLY_DISABLED 5
#define E_BLOCK_CHANGE 6
#define E_BILLING_SNAPSHOT 7
#define E_DEBT_CLEARED 8

/* ---- calendar.py ---- */

static int64_t floordiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = floordiv(y, 400);
    int64_t yoe = y - era * 400;
    int64_t mp = (m + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d) {
    z += 719468;
    int64_t era = floordiv(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t weekday(int64_t day) { return ((day + 3) % 7 + 7) % 7; }

static int64_t last_sunday_0100(int64_t year, int64_t month) {
    int64_t last = days_from_civil(year, month, 31);
    return (last - ((last + 4) % 7 + 7) % 7) * DAY + HOUR;
}

static int64_t utc_offset(int64_t t) {
    int64_t y, m, d;
    civil_from_days(floordiv(t, DAY), &y, &m, &d);
    return (last_sunday_0100(y, 3) <= t && t < last_sunday_0100(y, 10)) ? HOUR : 0;
}

static int64_t local_day(int64_t t) { return floordiv(t + utc_offset(t), DAY); }

static int64_t local_midnight(int64_t day) {
    int64_t t = day * DAY;
    return t - utc_offset(t - HOUR);
}

static int64_t slot_of(int64_t t) {
    int64_t local = t + utc_offset(t);
    return (local - floordiv(local, DAY) * DAY) / INTERVAL;
}

static int64_t profile_for_day(const int64_t *w, int64_t day) {
    int64_t year, month, dom;
    civil_from_days(day, &year, &month, &dom);
    for (int64_t i = 0; i < w[T_N_SPECIAL]; i++) {
        int64_t packed = w[T_SPECIAL + 2 * i];
        int64_t sy = packed >> 16, sm = (packed >> 8) & 0xFF, sd = packed & 0xFF;
        if (sm == month && sd == dom && (sy == 0 || sy == year)) return w[T_SPECIAL + 2 * i + 1];
    }
    int64_t week = 0, best = 0;
    int found = 0;
    for (int64_t i = 0; i < w[T_N_SEASONS]; i++) {
        const int64_t *se = w + T_SEASONS + 4 * i;
        int64_t start = days_from_civil(se[0] ? se[0] : year, se[1], se[2]);
        if (start > day && se[0] == 0) start = days_from_civil(year - 1, se[1], se[2]);
        if (start <= day && (!found || start >= best)) {
            best = start;
            week = se[3];
            found = 1;
        }
    }
    return w[T_WEEKS + 7 * week + weekday(day)];
}

/* ---- events ---- */

typedef struct {
    char *data;
    Py_ssize_t len, cap;
    int failed;
} Events;

/* Room for n more events; 0 (and the buffer marked failed) when memory runs out. */
static int reserve(Events *ev, int n) {
    if (ev->len + n * EVENT_BYTES <= ev->cap) return 1;
    Py_ssize_t cap = ev->cap ? ev->cap * 2 : 4096;
    while (cap < ev->len + n * EVENT_BYTES) cap *= 2;
    char *grown = realloc(ev->data, (size_t)cap);
    if (!grown) {
        ev->failed = 1;
        return 0;
    }
    ev->data = grown;
    ev->cap = cap;
    return 1;
}

/* Write an event after the last one; it counts only if `keep` (branch-free emission). */
static inline void put(Events *ev, int32_t meter, int32_t code, int64_t t, int64_t value,
                       int keep) {
    char *p = ev->data + ev->len;
    memcpy(p, &meter, 4);
    memcpy(p + 4, &code, 4);
    memcpy(p + 8, &t, 8);
    memcpy(p + 16, &value, 8);
    ev->len += keep ? EVENT_BYTES : 0;
}

static void emit(Events *ev, int32_t meter, int32_t code, int64_t t, int64_t value) {
    if (reserve(ev, 1)) put(ev, meter, code, t, value, 1);
}

#define EVENT_KEEP ((Py_ssize_t)64 << 20)
static _Thread_local Events event_cache;

/* ---- one meter ---- */

/* A run of consecutive slots of one block set in a day profile. */
typedef struct {
    uint8_t set, lo, hi;
} Run;

/* What the fast path needs of a day profile, computed once per span. */
typedef struct {
    int64_t maxprice; /* top TOU price of its slots */
    int64_t maxall; /* top price of any of its slots (TOU or block) */
    int nruns, ntou; /* block runs; TOU slots */
    Run runs[48];
    uint32_t price[48]; /* per slot: its TOU register's price (0 in block slots) */
    uint8_t reg[48]; /* per slot: its TOU register (N_TOU in block slots) */
} Profile;

typedef struct {
    const int64_t *w;
    int64_t s[STATE_WORDS];
    int32_t index;
    Events *ev;
    uint8_t *prof, *xprof, *rprof, *daily, *billing; /* log sections, or NULL */
    /* lazy folding */
    _Alignas(64) uint32_t fold[N_PROFILES][48]; /* aligned: 32-byte vectors stay in a line */
    uint32_t used; /* profiles with something in fold */
    int64_t pending; /* upper bound of the TOU cost still in fold (fine units) */
    int64_t folded_days;
    const Profile *profiles; /* per day profile: prices bounds and block runs */
    /* debts that clear at an hour end of the day fast_day books: their events go between
     * the block changes of the slots before and after that hour end */
    int n_due, due_slot[2]; /* keys, see emit_due */
    int64_t due_t[2];
} Meter;

/* maximum demand period in half-hours; the whole-day paths handle only 1 (30 minutes) */
static int64_t md_period(const int64_t *w) { return w[T_MD_PERIOD] > 1 ? w[T_MD_PERIOD] : 1; }

static int friendly(const Meter *M, int64_t wd, int64_t slot) {
    return (int)((M->w[T_FRIENDLY + wd] >> slot) & 1);
}

static int64_t available(const Meter *M) {
    return M->s[S_BALANCE] + ((M->s[S_FLAGS] & M_EC_ACTIVE) ? M->s[S_EC] : 0);
}

/* reference.py settle(): an active emergency credit pays off a negative meter balance, as
 * far as it goes (m + ec is kept). */
INLINE void settle(int64_t *m, int64_t *ec, int64_t active) {
    if (active && *ec > 0 && *m < 0) {
        int64_t paid = -*m < *ec ? -*m : *ec;
        *m += paid;
        *ec -= paid;
    }
}

/* The path-independent part of a debit: off the meter balance, then settle(); the result
 * depends only on the sum of the debits. */
static void take(Meter *M, int64_t amount) {
    int64_t *s = M->s;
    if (amount <= 0) return;
    int64_t m = s[S_BALANCE] - amount, ec = s[S_EC];
    settle(&m, &ec, s[S_FLAGS] & M_EC_ACTIVE);
    s[S_BALANCE] = m;
    s[S_EC] = ec;
}

/* Can `amount` more (plus what is pending) come off the credit without any event? */
static int quiet(const Meter *M, int64_t amount) {
    const int64_t *s = M->s, *w = M->w;
    int64_t f = s[S_FLAGS];
    int64_t d = amount + M->pending;
    if (!(f & M_PREPAY) || d <= 0) return 1;
    int64_t m = s[S_BALANCE], ec = s[S_EC];
    int64_t av = available(M);
    if (!(f & M_LOW_SENT) && av - d < w[T_LOW_CREDIT]) return 0;
    if (!(f & (M_EC_ACTIVE | M_EC_AVAILABLE_SENT)) && m - d < w[T_EC_THRESHOLD]) return 0;
    if (!(f & M_EXHAUSTED_SENT) && av - d <= w[T_DISABLE]) return 0;
    if ((f & M_EC_ACTIVE) && ec > 0 && !(f & M_EC_EXHAUSTED_SENT) && d >= m + ec) return 0;
    return 1;
}

/* The largest debit (what is pending included) that raises no credit event: quiet(M, a)
 * holds exactly when a + pending <= 0 or a + pending <= budget(M). */
static int64_t budget(const Meter *M) {
    const int64_t *s = M->s, *w = M->w;
    int64_t f = s[S_FLAGS], m = s[S_BALANCE], ec = s[S_EC], av = available(M), b = INT64_MAX;
    if (!(f & M_PREPAY)) return b;
    if (!(f & M_LOW_SENT) && av - w[T_LOW_CREDIT] < b) b = av - w[T_LOW_CREDIT];
    if (!(f & (M_EC_ACTIVE | M_EC_AVAILABLE_SENT)) && m - w[T_EC_THRESHOLD] < b)
        b = m - w[T_EC_THRESHOLD];
    if (!(f & M_EXHAUSTED_SENT) && av - w[T_DISABLE] - 1 < b) b = av - w[T_DISABLE] - 1;
    if ((f & M_EC_ACTIVE) && ec > 0 && !(f & M_EC_EXHAUSTED_SENT) && m + ec - 1 < b)
        b = m + ec - 1;
    return b;
}

/* Fold the TOU energy of whole days into registers, cost and (prepayment) balance. */
HOT_CLONES
static void flush(Meter *M) {
    int64_t *s = M->s;
    int64_t cost = 0;
    for (int p = 0; p < N_PROFILES; p++) {
        if (!(M->used >> p & 1)) continue;
        const Profile *pr = M->profiles + p;
        uint32_t *row = M->fold[p];
        if (pr->ntou) {
            uint64_t c = 0;
            for (int j = 0; j < 48; j++) c += (uint64_t)row[j] * pr->price[j];
            cost += (int64_t)c;
            for (int j = 0; j < 48; j++)
                if (pr->reg[j] < N_TOU) s[S_TOU + pr->reg[j]] += row[j];
        }
        memset(row, 0, 48 * sizeof *row);
    }
    s[S_COST] += cost;
    if (s[S_FLAGS] & M_PREPAY) take(M, cost);
    M->used = 0;
    M->pending = 0;
    M->folded_days = 0;
}

static void debit_exact(Meter *M, int64_t amount, int64_t t, int64_t wd, int64_t slot) {
    int64_t *s = M->s;
    const int64_t *w = M->w;
    if (amount <= 0) return;
    int64_t m = s[S_BALANCE] - amount, ec = s[S_EC];
    int64_t active = s[S_FLAGS] & M_EC_ACTIVE;
    settle(&m, &ec, active);
    if (active && ec == 0 && s[S_EC] > 0 && !(s[S_FLAGS] & M_EC_EXHAUSTED_SENT)) {
        s[S_FLAGS] |= M_EC_EXHAUSTED_SENT;
        emit(M->ev, M->index, E_EC_EXHAUSTED, t, m);
    }
    s[S_BALANCE] = m;
    s[S_EC] = ec;
    int64_t avail = m + (active ? ec : 0);
    int64_t f = s[S_FLAGS];
    if (!(f & M_LOW_SENT) && avail < w[T_LOW_CREDIT]) {
        f |= M_LOW_SENT;
        emit(M->ev, M->index, E_LOW_CREDIT, t, avail);
    }
    if (!(f & (M_EC_ACTIVE | M_EC_AVAILABLE_SENT)) && m < w[T_EC_THRESHOLD]) {
        f |= M_EC_AVAILABLE_SENT;
        emit(M->ev, M->index, E_EC_AVAILABLE, t, m);
    }
    if (!(f & M_EXHAUSTED_SENT) && avail <= w[T_DISABLE]) {
        f |= M_EXHAUSTED_SENT;
        emit(M->ev, M->index, E_CREDIT_EXHAUSTED, t, avail);
        if (!(f & M_DISABLED)) {
            if (friendly(M, wd, slot)) {
                f |= M_PENDING_DISABLE;
            } else {
                f |= M_DISABLED;
                emit(M->ev, M->index, E_SUPPLY_DISABLED, t, avail);
            }
        }
    }
    s[S_FLAGS] = f;
}

static void debit(Meter *M, int64_t amount, int64_t t, int64_t wd, int64_t slot) {
    if (amount <= 0) return;
    if (quiet(M, amount)) {
        take(M, amount);
        return;
    }
    flush(M);
    debit_exact(M, amount, t, wd, slot);
}

static void time_charge(Meter *M, int64_t amount, int64_t t, int64_t wd, int64_t slot) {
    if ((M->w[T_FLAGS] & F_SUSPEND_DEBT_EMERGENCY) && (M->s[S_FLAGS] & M_EC_ACTIVE))
        M->s[S_ACC_DEBT] += amount;
    else
        debit(M, amount, t, wd, slot);
}

/* The amount debt register i would give up now (0 if it does not collect). */
static int64_t debt_due(const Meter *M, int i) {
    const int64_t *s = M->s, *w = M->w;
    int64_t rate = w[T_DEBT_RATE + i], debt = s[S_DEBT + i];
    if (!(s[S_FLAGS] & M_PREPAY) || rate <= 0 || debt <= 0) return 0;
    if ((s[S_FLAGS] & M_DISABLED) && (w[T_FLAGS] & F_SUSPEND_DEBT_DISABLED)) return 0;
    return rate < debt ? rate : debt;
}

static void collect_debt(Meter *M, int i, int64_t t, int64_t wd, int64_t slot) {
    int64_t k = debt_due(M, i);
    if (!k) return;
    int64_t debt = M->s[S_DEBT + i];
    M->s[S_DEBT + i] = debt - k;
    time_charge(M, k, t, wd, slot);
    if (debt == k) emit(M->ev, M->index, E_DEBT_CLEARED, t, i);
}

static int64_t block_index(const int64_t *w, int set, int64_t period) {
    int64_t b = 0;
    for (int k = 0; k < 3; k++) b += w[T_THRESH + 3 * set + k] <= period;
    return b;
}

static int64_t block_energy(Meter *M, int set, int64_t e, int64_t t) {
    int64_t *s = M->s;
    const int64_t *w = M->w;
    int64_t cost = 0, done = 0, period = s[S_PERIOD];
    while (done < e) {
        int64_t b = block_index(w, set, period);
        int64_t limit = b < 3 ? w[T_THRESH + 3 * set + b] : NO_THRESHOLD;
        int64_t k = e - done < limit - period ? e - done : limit - period;
        s[S_BLOCK + 4 * set + b] += k;
        s[S_MATRIX + 4 * set + b] += k;
        cost += k * w[T_BLOCK_PRICE + 4 * set + b];
        period += k;
        done += k;
        if (period == limit)
            emit(M->ev, M->index, E_BLOCK_CHANGE, t + INTERVAL * done / e, set * 16 + b + 1);
    }
    s[S_PERIOD] = period;
    return cost;
}

static void reset_blocks(int64_t *s) {
    if (s[S_PERIOD] == 0) return; /* the matrix sums to the period counter: already zero */
    s[S_PERIOD] = 0;
    memset(s + S_MATRIX, 0, 32 * sizeof(int64_t));
}

static void billing_snapshot(Meter *M, int64_t t) {
    int64_t *s = M->s;
    if (M->billing) {
        int64_t entry[BILLING_WORDS];
        entry[0] = t;
        entry[1] = s[S_IMPORT];
        entry[2] = s[S_EXPORT];
        entry[3] = s[S_COST];
        entry[4] = s[S_BALANCE];
        entry[5] = s[S_EC];
        entry[6] = s[S_ACC_DEBT];
        entry[7] = s[S_DEBT];
        entry[8] = s[S_DEBT + 1];
        entry[9] = s[S_PAY_DEBT];
        entry[10] = s[S_MD_IMPORT];
        entry[11] = s[S_MD_IMPORT_T];
        entry[12] = s[S_MD_EXPORT];
        entry[13] = s[S_MD_EXPORT_T];
        memcpy(entry + 14, s + S_TOU, 80 * sizeof(int64_t));
        int64_t head = s[S_BILLING_HEAD] % BILLING_SLOTS;
        memcpy(M->billing + head * BILLING_WORDS * 8, entry, sizeof entry);
        s[S_BILLING_HEAD] += 1;
    }
    s[S_MD_IMPORT] = s[S_MD_IMPORT_T] = s[S_MD_EXPORT] = s[S_MD_EXPORT_T] = 0;
}

/* billing: the new local day is the billing day (civil date of local_day(t)) */
static void midnight(Meter *M, int64_t t, int64_t wd, int64_t slot, int billing) {
    int64_t *s = M->s;
    const int64_t *w = M->w;
    s[S_COST] += w[T_STANDING];
    if (s[S_FLAGS] & M_PREPAY) time_charge(M, w[T_STANDING], t, wd, slot);
    for (int i = 0; i < 2; i++)
        if (w[T_DEBT_PERIOD + i] == 1) collect_debt(M, i, t, wd, slot);
    if (M->daily) {
        int64_t head = s[S_DAILY_HEAD] % DAILY_SLOTS;
        uint32_t pair[2] = {(uint32_t)s[S_IMPORT], (uint32_t)s[S_EXPORT]};
        memcpy(M->daily + 8 * head, pair, 8);
        s[S_DAILY_HEAD] += 1;
    }
    if (billing) {
        flush(M);
        billing_snapshot(M, t);
        emit(M->ev, M->index, E_BILLING_SNAPSHOT, t, s[S_BILLING_HEAD]);
        if (w[T_FLAGS] & F_BLOCK_RESET_BILLING) reset_blocks(s);
    }
    if (!(w[T_FLAGS] & F_BLOCK_RESET_BILLING)) reset_blocks(s);
}

static void log_profile(Meter *M, uint16_t e, uint16_t x, uint16_t q) {
    if (!M->prof && !M->xprof && !M->rprof) return;
    int64_t head = M->s[S_PROFILE_HEAD] % PROFILE_SLOTS;
    if (M->prof) memcpy(M->prof + 2 * head, &e, 2);
    if (M->xprof) memcpy(M->xprof + 2 * head, &x, 2);
    if (M->rprof) memcpy(M->rprof + 2 * head, &q, 2);
    M->s[S_PROFILE_HEAD] += 1;
}

typedef struct DayPlan {
    int64_t start, end; /* local midnight and the next, UTC */
    int64_t wd, profile;
    int billing; /* the next local day is the billing day */
    Py_ssize_t k0; /* interval of the span the day starts at (if it starts inside) */
    Py_ssize_t whole_until; /* the first day from this one that is not whole and inside */
    uint8_t slots[50]; /* a DST day's local slot of each of its intervals */
} DayPlan;

/* reference.py _Meter.interval, for the interval starting at t (local slot `slot`) */
static void interval(Meter *M, int64_t t, int64_t slot, const DayPlan *day, int64_t e,
                     int64_t x, int64_t q) {
    int64_t *s = M->s;
    const int64_t *w = M->w;
    int64_t end = t + INTERVAL, wd = day->wd;
    int64_t f = s[S_FLAGS];
    if ((f & M_PENDING_DISABLE) && !friendly(M, wd, slot)) {
        f = (f & ~M_PENDING_DISABLE) | M_DISABLED;
        s[S_FLAGS] = f;
        flush(M);
        emit(M->ev, M->index, E_SUPPLY_DISABLED, t, available(M));
    }
    if (f & M_DISABLED) e = x = q = 0;
    s[S_IMPORT] += e;
    s[S_EXPORT] += x;
    s[S_REACTIVE] += q;
    log_profile(M, (uint16_t)e, (uint16_t)x, (uint16_t)q);
    s[S_MD_ACC] += e;
    s[S_MD_ACC_EXPORT] += x;
    if (end % (md_period(w) * INTERVAL) == 0) {
        if (s[S_MD_ACC] > s[S_MD_IMPORT]) {
            s[S_MD_IMPORT] = s[S_MD_ACC];
            s[S_MD_IMPORT_T] = end;
        }
        if (s[S_MD_ACC_EXPORT] > s[S_MD_EXPORT]) {
            s[S_MD_EXPORT] = s[S_MD_ACC_EXPORT];
            s[S_MD_EXPORT_T] = end;
        }
        s[S_MD_ACC] = s[S_MD_ACC_EXPORT] = 0;
    }
    int64_t sel = w[T_PROFILES + 48 * day->profile + slot], cost;
    if (sel < BLOCK_SELECTOR) {
        s[S_TOU + sel] += e;
        cost = e * w[T_TOU_PRICE + sel];
    } else {
        cost = e ? block_energy(M, (int)(sel - BLOCK_SELECTOR), e, t) : 0;
    }
    s[S_COST] += cost;
    if (f & M_PREPAY) debit(M, cost, end, wd, slot);
    if (end % HOUR == 0)
        for (int i = 0; i < 2; i++)
            if (w[T_DEBT_PERIOD + i] == 0) collect_debt(M, i, end, wd, slot);
    if (end == day->end) midnight(M, end, wd, slot, day->billing);
    s[S_T] = end;
}

/* The running sums of a day's 48 half-hours: P[j] = imp[0] + ... + imp[j]. With GCC's
 * vector extensions: six 8-lane prefix sums (three shifted additions each) side by side,
 * then the carries; elsewhere four scalar chains of twelve. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 9
typedef uint32_t u32x8 __attribute__((vector_size(32)));
typedef uint16_t u16x8 __attribute__((vector_size(16)));
INLINE void prefix48(const uint16_t *imp, uint32_t *P) {
    const u32x8 z = {0};
    u32x8 x[6];
    for (int g = 0; g < 6; g++) {
        u16x8 h;
        memcpy(&h, imp + 8 * g, sizeof h);
        u32x8 v = __builtin_convertvector(h, u32x8);
        v += __builtin_shuffle(z, v, (u32x8){0, 8, 9, 10, 11, 12, 13, 14});
        v += __builtin_shuffle(z, v, (u32x8){0, 1, 8, 9, 10, 11, 12, 13});
        v += __builtin_shuffle(z, v, (u32x8){0, 1, 2, 3, 8, 9, 10, 11});
        x[g] = v;
    }
    uint32_t carry = 0;
    for (int g = 0; g < 6; g++) {
        u32x8 v = x[g] + carry;
        carry = v[7];
        memcpy(P + 8 * g, &v, sizeof v);
    }
}
#else
INLINE void prefix48(const uint16_t *imp, uint32_t *P) {
    uint32_t a = 0, b = 0, c = 0, d = 0;
    for (int j = 0; j < 12; j++) {
        P[j] = a += imp[j];
        P[12 + j] = b += imp[12 + j];
        P[24 + j] = c += imp[24 + j];
        P[36 + j] = d += imp[36 + j];
    }
    for (int j = 12; j < 24; j++) P[j] += a;
    a += b;
    for (int j = 24; j < 36; j++) P[j] += a;
    a += c;
    for (int j = 36; j < 48; j++) P[j] += a;
}
#endif

/* The first of n slots j with P[j] >= target (P ascending): the number of slots below it. */
INLINE int first_reaching(const uint32_t *P, int n, uint32_t target) {
    int below = 0;
    for (int j = 0; j < n; j++) below += P[j] < target;
    return below;
}

/* Emit the debt-cleared events with key <= `key` (in order). A debt i that clears at the
 * hour end before slot j has key 2 * j + i: it comes after the block changes of slots
 * below j, so a block change in slot jj first emits those with key <= 2 * jj + 1. */
static void emit_due(Meter *M, int key) {
    while (M->n_due && M->due_slot[0] <= key) {
        int i = M->due_slot[0] & 1;
        emit(M->ev, M->index, E_DEBT_CLEARED, M->due_t[0], i);
        M->due_slot[0] = M->due_slot[1];
        M->due_t[0] = M->due_t[1];
        M->n_due--;
    }
}

/* Book a block run of `total` Wh of block set k (a run of one block set in the day
 * starting at `start`, base: the day's running sum before the run) as block_energy books it
 * half-hour by half-hour: the period counter goes from p0 to p1 = p0 + total, so block b
 * (where th[b-1] <= period < th[b]) gets the part of [p0, p1) inside its bounds, and each
 * distinct threshold v in (p0, p1] is reached in the first slot whose running sum reaches
 * it, at the pro-rata instant, with the index of the first threshold equal to v (the block
 * index just below v). Thresholds are ascending (check_table). No branch depends on where
 * in the run the thresholds fall. */
INLINE int64_t block_span(Meter *M, int k, int64_t total, const uint32_t *P, int n,
                          uint32_t base, const uint16_t *imp, int64_t start) {
    int64_t *s = M->s;
    const int64_t *w = M->w;
    const int64_t *th = w + T_THRESH + 3 * k, *price = w + T_BLOCK_PRICE + 4 * k;
    int64_t *blocks = s + S_BLOCK + 4 * k, *matrix = s + S_MATRIX + 4 * k;
    int64_t p0 = s[S_PERIOD], p1 = p0 + total, cost = 0;
    for (int b = 0; b < 4; b++) {
        int64_t lo = b ? th[b - 1] : p0, hi = b < 3 ? th[b] : p1;
        int64_t a = lo > p0 ? lo : p0, z = hi < p1 ? hi : p1;
        if (z > a) {
            blocks[b] += z - a;
            matrix[b] += z - a;
            cost += (z - a) * price[b];
        }
    }
    s[S_PERIOD] = p1;
    if (!reserve(M->ev, 3)) return cost;
    for (int b = 0; b < 3; b++) {
        int64_t v = th[b];
        int hit = v > p0 && v <= p1 && !(b && th[b - 1] == v);
        uint32_t target = (uint32_t)(hit ? v - p0 : 1) + base;
        int jj = first_reaching(P, n, target);
        jj = jj < n - 1 ? jj : n - 1; /* reached only when hit; kept in range when not */
        uint32_t e = imp[jj], done = target - (jj ? P[jj - 1] : 0);
        uint32_t frac = (uint32_t)INTERVAL * done / (e ? e : 1);
        if (M->n_due && hit) {
            emit_due(M, 2 * jj + 1);
            if (!reserve(M->ev, 3)) return cost;
        }
        put(M->ev, M->index, E_BLOCK_CHANGE, start + INTERVAL * jj + frac, k * 16 + b + 1, hit);
    }
    return cost;
}

/* Book every block run of a whole day (pr's runs, in order); returns their cost. */
INLINE int64_t block_day(Meter *M, const Profile *pr, const uint16_t *imp, int64_t start) {
    uint32_t P[48];
    int64_t cost = 0;
    prefix48(imp, P);
    for (int r = 0; r < pr->nruns; r++) {
        const Run *run = pr->runs + r;
        uint32_t base = run->lo ? P[run->lo - 1] : 0;
        uint32_t total = P[run->hi - 1] - base;
        if (total) cost += block_span(M, run->set, total, P, 48, base, imp, start);
    }
    return cost;
}

/* The same for a day of n intervals (a DST change: 46 or 50), whose interval i is local
 * slot slots[i]: runs of one block set are found over the intervals. */
static int64_t block_day_n(Meter *M, const int64_t *sel, const uint8_t *slots, int n,
                           const uint16_t *imp, int64_t start) {
    uint32_t P[50], acc = 0;
    int64_t cost = 0;
    for (int i = 0; i < n; i++) P[i] = acc += imp[i];
    for (int i = 0; i < n;) {
        int64_t k = sel[slots[i]];
        int lo = i;
        while (i < n && sel[slots[i]] == k) i++;
        if (k < BLOCK_SELECTOR) continue;
        uint32_t base = lo ? P[lo - 1] : 0, total = P[i - 1] - base;
        if (total) cost += block_span(M, (int)(k - BLOCK_SELECTOR), total, P, n, base, imp, start);
    }
    return cost;
}

/* A whole normal day at once; returns 0 (having changed nothing) when it cannot. Nothing
 * but block changes may happen inside the day (their instants come from block_energy, in
 * order); credit thresholds are checked against an upper bound of the day's debits. */
static int fast_day(Meter *M, const DayPlan *day, const uint16_t *imp, const uint16_t *exp,
                    const uint16_t *rea) {
    int64_t *s = M->s;
    const int64_t *w = M->w;
    const Profile *pr = M->profiles + day->profile;
    int64_t start = day->start;
    int64_t f = s[S_FLAGS];
    int n = (int)((day->end - start) / INTERVAL); /* 48, or 46 / 50 across a DST change */
    if (f & M_PENDING_DISABLE || md_period(w) != 1) return 0;
    int disabled = (f & M_DISABLED) != 0;
    uint32_t sum = 0, xsum = 0, rsum = 0;
    uint16_t max = 0, xmax = 0;
    if (!disabled) {
        for (int j = 0; j < n; j++) {
            uint16_t v = imp[j];
            sum += v;
            max = v > max ? v : max;
        }
        if (exp)
            for (int j = 0; j < n; j++) {
                xsum += exp[j];
                xmax = exp[j] > xmax ? exp[j] : xmax;
            }
        if (rea)
            for (int j = 0; j < n; j++) rsum += rea[j];
    }
    /* hourly debts over the n / 2 hour ends of the day; one that clears at hour end h (the
     * debt needs h takes of the rate) has its event queued for emit_due */
    int64_t debt_take[2] = {0, 0}, debt_debit = 0, due_t[2];
    int suspend = (w[T_FLAGS] & F_SUSPEND_DEBT_EMERGENCY) && (f & M_EC_ACTIVE);
    int n_due = 0, due_key[2];
    for (int i = 0; i < 2; i++) {
        if (w[T_DEBT_PERIOD + i] != 0 || !debt_due(M, i)) continue;
        int64_t rate = w[T_DEBT_RATE + i], debt = s[S_DEBT + i], total = n / 2 * rate;
        if (total >= debt) {
            int64_t h = (debt + rate - 1) / rate;
            total = debt;
            due_key[n_due] = (int)(4 * h + i);
            due_t[n_due++] = start + h * HOUR;
        }
        debt_take[i] = total;
        if (!suspend) debt_debit += total;
    }
    /* the midnight at the end of the day: standing charge and daily debts, unless a debt
     * clears or a billing snapshot is due (then midnight() does it, exactly) */
    int64_t night_take[2] = {0, 0}, night_charge = 0;
    int fast_night = !day->billing;
    for (int i = 0; i < 2 && fast_night; i++) {
        if (w[T_DEBT_PERIOD + i] != 1) continue;
        night_take[i] = debt_due(M, i);
        if (night_take[i] && night_take[i] >= s[S_DEBT + i]) fast_night = 0;
    }
    if (f & M_PREPAY) night_charge = w[T_STANDING] + night_take[0] + night_take[1];
    if (f & M_PREPAY) {
        int64_t bound = (int64_t)sum * pr->maxall + debt_debit;
        int64_t night = suspend ? 0 : night_charge;
        if (!quiet(M, bound + (fast_night ? night : 0))) {
            flush(M);
            if (fast_night && !quiet(M, bound + night)) fast_night = 0;
            if (!quiet(M, bound)) return 0;
        }
    }
    /* commit */
    if (!disabled) {
        uint32_t *row = M->fold[day->profile];
        if (n == 48)
            for (int j = 0; j < 48; j++) row[j] += imp[j];
        else
            for (int j = 0; j < n; j++) row[day->slots[j]] += imp[j];
        M->used |= 1u << day->profile;
        M->pending += (f & M_PREPAY) ? (int64_t)sum * pr->maxprice : 0;
        if (++M->folded_days >= 60000) flush(M);
    }
    s[S_IMPORT] += sum;
    s[S_EXPORT] += xsum;
    s[S_REACTIVE] += rsum;
    if (M->prof || M->xprof || M->rprof) {
        static const uint16_t zeros[50];
        int64_t head = s[S_PROFILE_HEAD] % PROFILE_SLOTS;
        int64_t first = PROFILE_SLOTS - head < n ? PROFILE_SLOTS - head : n;
        const uint16_t *src = disabled ? zeros : imp;
        const uint16_t *xsrc = (disabled || !exp) ? zeros : exp;
        const uint16_t *rsrc = (disabled || !rea) ? zeros : rea;
        if (M->prof) {
            memcpy(M->prof + 2 * head, src, (size_t)first * 2);
            memcpy(M->prof, src + first, (size_t)(n - first) * 2);
        }
        if (M->xprof) {
            memcpy(M->xprof + 2 * head, xsrc, (size_t)first * 2);
            memcpy(M->xprof, xsrc + first, (size_t)(n - first) * 2);
        }
        if (M->rprof) {
            memcpy(M->rprof + 2 * head, rsrc, (size_t)first * 2);
            memcpy(M->rprof, rsrc + first, (size_t)(n - first) * 2);
        }
        s[S_PROFILE_HEAD] += n;
    }
    if (max > s[S_MD_IMPORT]) {
        int j = 0;
        while (imp[j] != max) j++;
        s[S_MD_IMPORT] = max;
        s[S_MD_IMPORT_T] = start + INTERVAL * (j + 1);
    }
    if (xmax > s[S_MD_EXPORT]) {
        int j = 0;
        while (exp[j] != xmax) j++;
        s[S_MD_EXPORT] = xmax;
        s[S_MD_EXPORT_T] = start + INTERVAL * (j + 1);
    }
    int64_t block_cost = 0;
    if (n_due == 2 && due_key[1] < due_key[0]) {
        int k = due_key[0];
        int64_t t = due_t[0];
        due_key[0] = due_key[1], due_t[0] = due_t[1], due_key[1] = k, due_t[1] = t;
    }
    for (int i = 0; i < n_due; i++) M->due_slot[i] = due_key[i], M->due_t[i] = due_t[i];
    M->n_due = n_due;
    if (!disabled && pr->nruns && n == 48) block_cost = block_day(M, pr, imp, start);
    if (!disabled && pr->nruns && n != 48)
        block_cost = block_day_n(M, w + T_PROFILES + 48 * day->profile, day->slots, n, imp, start);
    emit_due(M, 2 * n + 1);
    s[S_COST] += block_cost;
    for (int i = 0; i < 2; i++) {
        s[S_DEBT + i] -= debt_take[i];
        if (suspend) s[S_ACC_DEBT] += debt_take[i];
    }
    if (!fast_night) {
        if (f & M_PREPAY) take(M, block_cost + debt_debit);
        midnight(M, day->end, day->wd, 47, day->billing);
        s[S_T] = day->end;
        return 1;
    }
    s[S_COST] += w[T_STANDING];
    for (int i = 0; i < 2; i++) s[S_DEBT + i] -= night_take[i];
    if (suspend) {
        s[S_ACC_DEBT] += night_charge;
        night_charge = 0;
    }
    if (f & M_PREPAY) take(M, block_cost + debt_debit + night_charge);
    if (M->daily) {
        int64_t head = s[S_DAILY_HEAD] % DAILY_SLOTS;
        uint32_t pair[2] = {(uint32_t)s[S_IMPORT], (uint32_t)s[S_EXPORT]};
        memcpy(M->daily + 8 * head, pair, 8);
        s[S_DAILY_HEAD] += 1;
    }
    if (!(w[T_FLAGS] & F_BLOCK_RESET_BILLING)) reset_blocks(s);
    s[S_T] = day->end;
    return 1;
}

/* ---- the span ---- */

static int buffer_get(PyObject *obj, Py_buffer *view, int writable, const char *what) {
    if (PyObject_GetBuffer(obj, view, writable ? PyBUF_WRITABLE : PyBUF_SIMPLE) < 0) {
        PyErr_Format(PyExc_TypeError, "%s must be a%s buffer", what, writable ? " writable" : "");
        return -1;
    }
    return 0;
}

static Py_ssize_t log_sections(int64_t flags, Py_ssize_t *prof, Py_ssize_t *xprof,
                               Py_ssize_t *rprof, Py_ssize_t *daily, Py_ssize_t *billing) {
    Py_ssize_t off = 0;
    *prof = off;
    off += (flags & F_LOG_PROFILE) ? PROFILE_SLOTS * 2 : 0;
    *xprof = off;
    off += (flags & F_LOG_PROFILE_EXPORT) ? PROFILE_SLOTS * 2 : 0;
    *rprof = off;
    off += (flags & F_LOG_PROFILE_REACTIVE) ? PROFILE_SLOTS * 2 : 0;
    *daily = off;
    off += (flags & F_LOG_DAILY) ? DAILY_SLOTS * 8 : 0;
    *billing = off;
    off += (flags & F_LOG_BILLING) ? BILLING_SLOTS * BILLING_WORDS * 8 : 0;
    off += (flags & F_LOG_BILLING) ? PREPAYMENT_LOG_BYTES : 0;
    return off;
}

typedef struct {
    const int64_t *w;
    int64_t *w_copy; /* when the table buffer is not 8-byte aligned */
    Profile profiles[N_PROFILES];
    int64_t maxblock[N_SETS];
    uint8_t checked[N_PROFILES];
    char *states;
    uint8_t *logs;
    Py_ssize_t per_log, meters, intervals;
    const uint8_t *imp, *exp, *rea; /* rea: reactive import, or NULL */
    int imp_const, exp_const, rea_const;
    int64_t t_from;
    DayPlan *plan;
    Py_ssize_t days, billing_days; /* days in the plan, billing snapshots among them */
} Span;

static int series(Py_buffer *b, Span *sp, int *constant) {
    Py_ssize_t n = b->len / 2;
    if (b->len % 2 == 0 && n == sp->meters * sp->intervals) {
        *constant = 0;
        return 0;
    }
    if (b->len % 2 == 0 && n == sp->meters) {
        *constant = 1;
        return 0;
    }
    PyErr_SetString(PyExc_ValueError,
                    "consumption must hold one uint16 per meter per interval, or per meter");
    return -1;
}

/* Reactive import of meter m over intervals [k0, k0 + n) (the supply on throughout). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int64_t reactive_sum(const Span *sp, Py_ssize_t m, Py_ssize_t k0, int64_t n) {
    uint16_t v;
    if (sp->rea_const) {
        memcpy(&v, sp->rea + 2 * m, 2);
        return (int64_t)v * n;
    }
    const uint8_t *p = sp->rea + 2 * (m * sp->intervals + k0);
    int64_t sum = 0;
    for (int64_t k = 0; k < n; k++) {
        memcpy(&v, p + 2 * k, 2);
        sum += v;
    }
    return sum;
}

/* A run of ordinary days from plan day d0 (whole, inside the span, no billing snapshot,
 * supply on): fast_day's work on each, with the day's fixed charges (standing charge,
 * debt recovery that cannot clear a debt within the run) booked once for the run, and
 * the credit checked against a headroom that each day's upper bound comes off. Returns
 * the days done (0: take day d0 another way). */
HOT_CLONES
static Py_ssize_t fast_days(Meter *M, const Span *sp, Py_ssize_t m, Py_ssize_t d0,
                            const uint16_t *ibuf) {
    int64_t *s = M->s;
    const int64_t *w = M->w;
    int64_t f = s[S_FLAGS];
    if (f & (M_PENDING_DISABLE | M_DISABLED) || sp->exp || M->prof || M->xprof || M->rprof)
        return 0;
    if (md_period(w) != 1) return 0;
    int prepay = (f & M_PREPAY) != 0;
    int suspend = (w[T_FLAGS] & F_SUSPEND_DEBT_EMERGENCY) && (f & M_EC_ACTIVE);
    int daily_reset = !(w[T_FLAGS] & F_BLOCK_RESET_BILLING);
    Py_ssize_t last = sp->plan[d0].whole_until; /* whole days inside the span */
    if (last - d0 > 60000) last = d0 + 60000; /* a fold entry holds 65,535 days of uint16 */
    if (last == d0) return 0;
    if (M->folded_days + (last - d0) > 60000) flush(M);
    int64_t per_day[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        if (!debt_due(M, i)) continue;
        per_day[i] = (w[T_DEBT_PERIOD + i] == 0 ? 24 : 1) * w[T_DEBT_RATE + i];
        int64_t ok = (s[S_DEBT + i] - 1) / per_day[i];
        if (d0 + ok < last) last = d0 + (Py_ssize_t)ok;
    }
    int64_t charges = prepay ? w[T_STANDING] + per_day[0] + per_day[1] : 0;
    int64_t fixed = suspend ? 0 : charges;
    int64_t room = prepay ? budget(M) - M->pending : INT64_MAX;
    int64_t pending = M->pending, block_cost = 0;
    int64_t import = s[S_IMPORT], md = s[S_MD_IMPORT], md_t = s[S_MD_IMPORT_T];
    int64_t daily_head = s[S_DAILY_HEAD] % DAILY_SLOTS;
    uint32_t used = M->used;
    /* the days are whole and consecutive: each day's consumption follows the last's */
    const uint8_t *src = sp->imp + 2 * (m * sp->intervals + sp->plan[d0].k0);
    Py_ssize_t stride = 96;
    int copy_in = ((uintptr_t)src & 1) != 0;
    if (sp->imp_const) {
        src = (const uint8_t *)ibuf;
        stride = 0;
        copy_in = 0;
    }
    Py_ssize_t d = d0;
    for (; d < last; d++, src += stride) {
        const DayPlan *day = sp->plan + d;
        const uint16_t *imp = (const uint16_t *)(const void *)src;
        uint16_t copy[48];
        if (copy_in) {
            memcpy(copy, src, 96);
            imp = copy;
        }
        const Profile *pr = M->profiles + day->profile;
        uint32_t sum = 0;
        uint16_t max = 0;
        for (int j = 0; j < 48; j++) {
            sum += imp[j];
            max = imp[j] > max ? imp[j] : max;
        }
        if (prepay) {
            int64_t need = (int64_t)sum * pr->maxall + fixed;
            if (need > room) break;
            room -= need;
            pending += (int64_t)sum * pr->maxprice;
        }
        if (pr->ntou) {
            uint32_t *row = M->fold[day->profile];
            for (int j = 0; j < 48; j++) row[j] += imp[j];
            used |= 1u << day->profile;
        }
        import += sum;
        if (max > md) {
            int j = 0;
            while (imp[j] != max) j++;
            md = max;
            md_t = day->start + INTERVAL * (j + 1);
        }
        if (pr->nruns) block_cost += block_day(M, pr, imp, day->start);
        if (M->daily) {
            uint32_t pair[2] = {(uint32_t)import, (uint32_t)s[S_EXPORT]};
            memcpy(M->daily + 8 * daily_head, pair, 8);
            if (++daily_head == DAILY_SLOTS) daily_head = 0;
        }
        if (daily_reset && s[S_PERIOD]) {
            /* the first reset of the run clears the whole matrix, later ones only the
             * block sets this run has touched since */
            if (d == d0) memset(s + S_MATRIX, 0, 32 * sizeof(int64_t));
            for (int r = 0; r < pr->nruns && d > d0; r++)
                memset(s + S_MATRIX + 4 * pr->runs[r].set, 0, 4 * sizeof(int64_t));
            s[S_PERIOD] = 0;
        }
        if (day->billing) {
            d++; /* the run ends with it: its snapshot comes after the run is booked */
            break;
        }
    }
    int64_t n = d - d0;
    if (!n) return 0;
    M->used = used;
    M->pending = pending;
    M->folded_days += n;
    if (M->daily) s[S_DAILY_HEAD] += n;
    s[S_IMPORT] = import;
    s[S_MD_IMPORT] = md;
    s[S_MD_IMPORT_T] = md_t;
    s[S_COST] += block_cost + n * w[T_STANDING];
    for (int i = 0; i < 2; i++) s[S_DEBT + i] -= n * per_day[i];
    if (suspend) s[S_ACC_DEBT] += n * charges;
    if (prepay) take(M, block_cost + n * fixed);
    s[S_T] = sp->plan[d - 1].end;
    if (sp->plan[d - 1].billing) {
        /* midnight() of a billing day, after its standing charge, debts and daily read */
        flush(M);
        billing_snapshot(M, s[S_T]);
        emit(M->ev, M->index, E_BILLING_SNAPSHOT, s[S_T], s[S_BILLING_HEAD]);
        if (w[T_FLAGS] & F_BLOCK_RESET_BILLING) reset_blocks(s);
    }
    return (Py_ssize_t)n;
}

static void run_meter(Span *sp, Py_ssize_t m, Meter *M, Events *ev) {
    Py_ssize_t prof, xprof, rprof, daily, billing;
    log_sections(sp->w[T_FLAGS], &prof, &xprof, &rprof, &daily, &billing);
    memset(M, 0, sizeof *M);
    M->w = sp->w;
    M->profiles = sp->profiles;
    M->index = (int32_t)m;
    M->ev = ev;
    memcpy(M->s, sp->states + m * STATE_WORDS * 8, sizeof M->s);
    if (sp->logs) {
        uint8_t *base = sp->logs + m * sp->per_log;
        int64_t fl = sp->w[T_FLAGS];
        M->prof = (fl & F_LOG_PROFILE) ? base + prof : NULL;
        M->xprof = (fl & F_LOG_PROFILE_EXPORT) ? base + xprof : NULL;
        M->rprof = (fl & F_LOG_PROFILE_REACTIVE) ? base + rprof : NULL;
        M->daily = (fl & F_LOG_DAILY) ? base + daily : NULL;
        M->billing = (fl & F_LOG_BILLING) ? base + billing : NULL;
        /* the log entries this span writes were last written a ring ago, out of cache:
         * ask for their lines now, so the misses overlap instead of stalling one by one */
        if (M->daily) {
            int64_t head = M->s[S_DAILY_HEAD] % DAILY_SLOTS;
            int64_t n = sp->days < DAILY_SLOTS ? sp->days : DAILY_SLOTS;
            for (int64_t k = 0; k < n; k += 8)
                PREFETCH_WRITE(M->daily + 8 * ((head + k) % DAILY_SLOTS));
        }
        if (M->billing)
            for (Py_ssize_t k = 0; k < sp->billing_days && k < BILLING_SLOTS; k++) {
                int64_t slot = (M->s[S_BILLING_HEAD] + k) % BILLING_SLOTS;
                uint8_t *e = M->billing + slot * BILLING_WORDS * 8;
                for (int b = 0; b < BILLING_WORDS * 8; b += 64) PREFETCH_WRITE(e + b);
            }
    }
    uint16_t ibuf[50], xbuf[50], rbuf[50], cbuf[50];
    if (sp->imp_const) {
        uint16_t c;
        memcpy(&c, sp->imp + 2 * m, 2);
        for (int j = 0; j < 50; j++) cbuf[j] = c;
    }
    for (Py_ssize_t d = 0; d < sp->days; d++) {
        Py_ssize_t done = fast_days(M, sp, m, d, cbuf);
        if (done) {
            /* fast_days leaves reactive import to this (the supply was on throughout) */
            if (sp->rea) M->s[S_REACTIVE] += reactive_sum(sp, m, sp->plan[d].k0, 48 * done);
            d += done - 1;
            continue;
        }
        const DayPlan *day = sp->plan + d;
        int64_t a = day->start > sp->t_from ? day->start : sp->t_from;
        int64_t b = day->end < sp->t_from + sp->intervals * INTERVAL
                        ? day->end
                        : sp->t_from + sp->intervals * INTERVAL;
        Py_ssize_t k0 = (Py_ssize_t)((a - sp->t_from) / INTERVAL);
        Py_ssize_t k1 = (Py_ssize_t)((b - sp->t_from) / INTERVAL);
        if (a == day->start && b == day->end) { /* a whole day: 48 intervals, or 46 / 50 */
            const uint16_t *ip = ibuf, *xp = NULL, *rp = NULL;
            size_t bytes = (size_t)(k1 - k0) * 2;
            if (sp->imp_const) {
                uint16_t c;
                memcpy(&c, sp->imp + 2 * m, 2);
                for (int j = 0; j < 50; j++) ibuf[j] = c;
            } else if (((uintptr_t)sp->imp & 1) == 0) {
                ip = (const uint16_t *)(const void *)(sp->imp + 2 * (m * sp->intervals + k0));
            } else {
                memcpy(ibuf, sp->imp + 2 * (m * sp->intervals + k0), bytes);
            }
            if (sp->exp) {
                if (sp->exp_const) {
                    uint16_t c;
                    memcpy(&c, sp->exp + 2 * m, 2);
                    for (int j = 0; j < 50; j++) xbuf[j] = c;
                    xp = xbuf;
                } else if (((uintptr_t)sp->exp & 1) == 0) {
                    xp = (const uint16_t *)(const void *)(sp->exp + 2 * (m * sp->intervals + k0));
                } else {
                    memcpy(xbuf, sp->exp + 2 * (m * sp->intervals + k0), bytes);
                    xp = xbuf;
                }
            }
            if (sp->rea) {
                if (sp->rea_const) {
                    uint16_t c;
                    memcpy(&c, sp->rea + 2 * m, 2);
                    for (int j = 0; j < 50; j++) rbuf[j] = c;
                } else {
                    memcpy(rbuf, sp->rea + 2 * (m * sp->intervals + k0), bytes);
                }
                rp = rbuf;
            }
            if (fast_day(M, day, ip, xp, rp)) continue;
        }
        for (Py_ssize_t k = k0; k < k1; k++) {
            uint16_t e = 0, x = 0, q = 0;
            memcpy(&e, sp->imp + 2 * (sp->imp_const ? m : m * sp->intervals + k), 2);
            if (sp->exp) memcpy(&x, sp->exp + 2 * (sp->exp_const ? m : m * sp->intervals + k), 2);
            if (sp->rea) memcpy(&q, sp->rea + 2 * (sp->rea_const ? m : m * sp->intervals + k), 2);
            int64_t t = sp->t_from + k * INTERVAL;
            int64_t i = (t - day->start) / INTERVAL;
            int64_t slot = day->end - day->start == DAY ? i : day->slots[i];
            interval(M, t, slot, day, e, x, q);
        }
    }
    flush(M);
    memcpy(sp->states + m * STATE_WORDS * 8, M->s, sizeof M->s);
}

/* Check one day profile's selectors (whoever built the table) and note its top prices. */
static int check_profile(Span *sp, int64_t p) {
    if (sp->checked[p]) return 0;
    Profile *pr = sp->profiles + p;
    int64_t top = 0, all = 0;
    pr->nruns = 0;
    for (int j = 0; j < 48; j++) {
        int64_t sel = sp->w[T_PROFILES + 48 * p + j];
        if (sel >= 0 && sel < N_TOU) {
            if (sp->w[T_TOU_PRICE + sel] > top) top = sp->w[T_TOU_PRICE + sel];
        } else if (sel >= BLOCK_SELECTOR && sel < BLOCK_SELECTOR + N_SETS) {
            int k = (int)(sel - BLOCK_SELECTOR);
            Run *last = pr->nruns ? pr->runs + pr->nruns - 1 : NULL;
            if (last && last->set == k && last->hi == j)
                last->hi = (uint8_t)(j + 1);
            else
                pr->runs[pr->nruns++] = (Run){(uint8_t)k, (uint8_t)j, (uint8_t)(j + 1)};
            if (sp->maxblock[k] > all) all = sp->maxblock[k];
        } else {
            PyErr_SetString(PyExc_ValueError, "table holds an out-of-range selector");
            return -1;
        }
    }
    pr->ntou = 0;
    for (int j = 0; j < 48; j++) {
        int64_t sel = sp->w[T_PROFILES + 48 * p + j];
        pr->ntou += sel < N_TOU;
        pr->reg[j] = (uint8_t)(sel < N_TOU ? sel : N_TOU);
        pr->price[j] = (uint32_t)(sel < N_TOU ? sp->w[T_TOU_PRICE + sel] : 0);
    }
    pr->maxprice = top;
    pr->maxall = top > all ? top : all;
    sp->checked[p] = 1;
    return 0;
}

static int plan_days(Span *sp) {
    int64_t t_to = sp->t_from + sp->intervals * INTERVAL;
    Py_ssize_t cap = (Py_ssize_t)(sp->intervals / 46 + 3);
    sp->plan = malloc((size_t)cap * sizeof(DayPlan));
    if (!sp->plan) {
        PyErr_NoMemory();
        return -1;
    }
    sp->days = 0;
    if (sp->intervals == 0) return 0;
    for (int k = 0; k < N_SETS; k++) {
        int64_t top = 0;
        for (int b = 0; b < 4; b++)
            if (sp->w[T_BLOCK_PRICE + 4 * k + b] > top) top = sp->w[T_BLOCK_PRICE + 4 * k + b];
        sp->maxblock[k] = top;
    }
    for (int64_t day = local_day(sp->t_from);; day++) {
        int64_t start = local_midnight(day);
        if (start >= t_to) break;
        DayPlan *p = sp->plan + sp->days++;
        p->start = start;
        p->end = local_midnight(day + 1);
        p->wd = weekday(day);
        p->profile = profile_for_day(sp->w, day);
        int64_t y, m, d;
        civil_from_days(day + 1, &y, &m, &d);
        p->billing = sp->w[T_BILLING_DAY] && d == sp->w[T_BILLING_DAY];
        sp->billing_days += p->billing;
        if (check_profile(sp, p->profile) < 0) return -1;
        p->k0 = (Py_ssize_t)((start - sp->t_from) / INTERVAL);
        if (p->end - p->start != DAY)
            for (int64_t t = start; t < p->end; t += INTERVAL)
                p->slots[(t - start) / INTERVAL] = (uint8_t)slot_of(t);
    }
    for (Py_ssize_t d = sp->days - 1; d >= 0; d--) {
        DayPlan *p = sp->plan + d;
        int whole = p->end - p->start == DAY && p->start >= sp->t_from && p->end <= t_to;
        p->whole_until = !whole ? d : d + 1 < sp->days ? p[1].whole_until : sp->days;
    }
    return 0;
}

/* The indexes the engine follows must stay in range whoever built the table. */
static int check_table(const int64_t *w) {
    if (w[T_VERSION] != LAYOUT_VERSION) {
        PyErr_SetString(PyExc_ValueError, "table layout version mismatch");
        return -1;
    }
    int64_t np = w[T_N_PROFILES];
    int bad = np < 1 || np > N_PROFILES || w[T_N_SEASONS] < 0 || w[T_N_SEASONS] > 4 ||
              w[T_N_SPECIAL] < 0 || w[T_N_SPECIAL] > 52;
    for (int i = 0; i < 28 && !bad; i++) bad = w[T_WEEKS + i] < 0 || w[T_WEEKS + i] >= np;
    for (int i = 0; i < 4 && !bad; i++)
        bad = w[T_SEASONS + 4 * i + 3] < 0 || w[T_SEASONS + 4 * i + 3] > 3;
    for (int i = 0; i < 52 && !bad; i++)
        bad = w[T_SPECIAL + 2 * i + 1] < 0 || w[T_SPECIAL + 2 * i + 1] >= np;
    bad = bad || w[T_MD_PERIOD] < 0 || w[T_MD_PERIOD] > 48 || 48 % md_period(w);
    for (int i = 0; i < 80 && !bad; i++)
        bad = w[T_TOU_PRICE + i] < 0 || w[T_TOU_PRICE + i] >= ((int64_t)1 << 31);
    for (int i = 0; i < 24 && !bad; i++)
        bad = w[T_THRESH + i] <= 0 || (i % 3 && w[T_THRESH + i] < w[T_THRESH + i - 1]);
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "table holds out-of-range entries");
        return -1;
    }
    return 0;
}

static PyObject *engine_advance(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs < 6 || nargs > 8) {
        PyErr_SetString(PyExc_TypeError, "advance(table, states, logs, t_from, t_to, imports, "
                                         "exports=None, reactive=None)");
        return NULL;
    }
    Py_buffer tb = {0}, sb = {0}, lb = {0}, ib = {0}, xb = {0}, rb = {0};
    int have_l = 0, have_x = 0, have_r = 0;
    PyObject *result = NULL;
    Span *sp = NULL;
    /* the event buffer is kept per thread between calls (up to EVENT_KEEP bytes), so a
     * fleet's repeated calls do not fault in fresh pages every time */
    Events ev = event_cache;
    ev.len = 0;
    ev.failed = 0;
    event_cache = (Events){0};
    long long t_from = PyLong_AsLongLong(args[3]);
    long long t_to = PyLong_AsLongLong(args[4]);
    if (PyErr_Occurred()) return NULL;
    if (buffer_get(args[0], &tb, 0, "table") < 0) return NULL;
    if (buffer_get(args[1], &sb, 1, "states") < 0) goto done;
    if (args[2] != Py_None) {
        if (buffer_get(args[2], &lb, 1, "logs") < 0) goto done;
        have_l = 1;
    }
    if (buffer_get(args[5], &ib, 0, "imports") < 0) goto done;
    if (nargs >= 7 && args[6] != Py_None) {
        if (buffer_get(args[6], &xb, 0, "exports") < 0) goto done;
        have_x = 1;
    }
    if (nargs == 8 && args[7] != Py_None) {
        if (buffer_get(args[7], &rb, 0, "reactive") < 0) goto done;
        have_r = 1;
    }
    if (tb.len != TABLE_WORDS * 8) {
        PyErr_Format(PyExc_ValueError, "table must be %d bytes", TABLE_WORDS * 8);
        goto done;
    }
    if (sb.len % (STATE_WORDS * 8) || t_from % INTERVAL || t_to % INTERVAL || t_to < t_from) {
        PyErr_SetString(PyExc_ValueError,
                        "states must be whole states and the span half-hour aligned");
        goto done;
    }
    sp = calloc(1, sizeof *sp);
    if (!sp) {
        PyErr_NoMemory();
        goto done;
    }
    if (((uintptr_t)tb.buf & 7) == 0) {
        sp->w = tb.buf;
    } else {
        sp->w_copy = malloc(TABLE_WORDS * 8);
        if (!sp->w_copy) {
            PyErr_NoMemory();
            goto done;
        }
        memcpy(sp->w_copy, tb.buf, TABLE_WORDS * 8);
        sp->w = sp->w_copy;
    }
    if (check_table(sp->w) < 0) goto done;
    sp->meters = sb.len / (STATE_WORDS * 8);
    sp->intervals = (Py_ssize_t)((t_to - t_from) / INTERVAL);
    sp->t_from = t_from;
    sp->states = sb.buf;
    Py_ssize_t a, b, c, d, e;
    sp->per_log = log_sections(sp->w[T_FLAGS], &a, &b, &c, &d, &e);
    if (have_l) {
        if (lb.len != sp->per_log * sp->meters) {
            PyErr_Format(PyExc_ValueError, "logs must be %zd bytes per meter", sp->per_log);
            goto done;
        }
        sp->logs = lb.buf;
    }
    if (series(&ib, sp, &sp->imp_const) < 0) goto done;
    sp->imp = ib.buf;
    if (have_x) {
        if (series(&xb, sp, &sp->exp_const) < 0) goto done;
        sp->exp = xb.buf;
    }
    if (have_r) {
        if (series(&rb, sp, &sp->rea_const) < 0) goto done;
        sp->rea = rb.buf;
    }
    for (Py_ssize_t m = 0; m < sp->meters; m++) {
        int64_t t;
        memcpy(&t, sp->states + m * STATE_WORDS * 8, 8);
        if (t != t_from) {
            PyErr_Format(PyExc_ValueError, "meter %zd is not at t_from", m);
            goto done;
        }
    }
    if (plan_days(sp) < 0) goto done;
    {
        Meter *M = sp->meters ? aligned_alloc(64, (sizeof(Meter) + 63) / 64 * 64) : NULL;
        if (sp->meters && !M) {
            PyErr_NoMemory();
            goto done;
        }
        if (sp->meters * sp->intervals > 4096) {
            Py_BEGIN_ALLOW_THREADS
            for (Py_ssize_t m = 0; m < sp->meters; m++) run_meter(sp, m, M, &ev);
            Py_END_ALLOW_THREADS
        } else {
            for (Py_ssize_t m = 0; m < sp->meters; m++) run_meter(sp, m, M, &ev);
        }
        free(M);
    }
    if (ev.failed) {
        PyErr_NoMemory();
        goto done;
    }
    result = PyBytes_FromStringAndSize(ev.data ? ev.data : "", ev.len);
done:
    if (sp) {
        free(sp->plan);
        free(sp->w_copy);
    }
    free(sp);
    if (ev.cap <= EVENT_KEEP && !event_cache.data)
        event_cache = ev;
    else
        free(ev.data);
    PyBuffer_Release(&tb);
    if (sb.obj) PyBuffer_Release(&sb);
    if (have_l) PyBuffer_Release(&lb);
    if (ib.obj) PyBuffer_Release(&ib);
    if (have_x) PyBuffer_Release(&xb);
    if (have_r) PyBuffer_Release(&rb);
    return result;
}

/* The naive loop, built as the engine's hot loops are (same flags, same AVX2 clone). */
HOT_CLONES
static void naive_loop(const uint8_t *rates, const uint16_t *imp, int64_t *regs,
                       Py_ssize_t meters, Py_ssize_t n) {
    for (Py_ssize_t m = 0; m < meters; m++) {
        int64_t *r = regs + 48 * m;
        const uint16_t *e = imp + m * n;
        for (Py_ssize_t k = 0; k < n; k++) r[rates[k]] += e[k];
    }
}

/* naive_tou(rates, imports, registers): the per-half-hour TOU loop the bench compares with:
 * registers[m * 48 + rates[k]] += imports[m * n + k] for every meter m and interval k. */
static PyObject *engine_naive_tou(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "naive_tou(rates, imports, registers)");
        return NULL;
    }
    Py_buffer rb = {0}, ib = {0}, gb = {0};
    PyObject *result = NULL;
    if (buffer_get(args[0], &rb, 0, "rates") < 0) return NULL;
    if (buffer_get(args[1], &ib, 0, "imports") < 0) goto done;
    if (buffer_get(args[2], &gb, 1, "registers") < 0) goto done;
    Py_ssize_t n = rb.len, meters = gb.len / (48 * 8);
    if (gb.len % (48 * 8) || ib.len != 2 * n * meters) {
        PyErr_SetString(PyExc_ValueError, "registers: 48 int64 per meter; imports: n per meter");
        goto done;
    }
    const uint8_t *rates = rb.buf;
    for (Py_ssize_t k = 0; k < n; k++)
        if (rates[k] >= 48) {
            PyErr_SetString(PyExc_ValueError, "rates are 0..47");
            goto done;
        }
    Py_BEGIN_ALLOW_THREADS
    naive_loop(rates, ib.buf, gb.buf, meters, n);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    if (rb.obj) PyBuffer_Release(&rb);
    if (ib.obj) PyBuffer_Release(&ib);
    if (gb.obj) PyBuffer_Release(&gb);
    return result;
}

/* ---- load control: loadcontrol.py's switch timeline ---- */

static uint64_t splitmix64(uint64_t x) {
    uint64_t z = x + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static int64_t random_offset(uint64_t seed, int64_t sw, int64_t day, int64_t entry,
                             int64_t limit) {
    if (limit <= 0) return 0;
    uint64_t key = splitmix64(seed) ^ ((uint64_t)sw << 48) ^
                   (((uint64_t)day & 0xFFFFFFFFULL) << 8) ^ (uint64_t)entry;
    return (int64_t)(splitmix64(key) % ((uint64_t)limit + 1));
}

enum { K_ADHOC, K_BOOST, K_TEST, K_LOSS, K_RESTORE };

typedef struct {
    const int64_t *entries[7]; /* per weekday: (minute, closed) pairs */
    int64_t counts[7];
    int64_t limit, sw;
    uint64_t seed;
    const int64_t *eff; /* (start, end, kind, closed) quads, in command order */
    Py_ssize_t n_eff;
    int64_t *lost; /* sorted (instant, kind) pairs of loss / restore */
    Py_ssize_t n_lost;
} Switch;

static int calendar_state(const Switch *S, int64_t t) {
    int state = 0, found = 0;
    int64_t best = 0, today = local_day(t);
    for (int64_t day = today - 1; day <= today; day++) {
        int64_t start = local_midnight(day), wd = weekday(day);
        for (int64_t i = 0; i < S->counts[wd]; i++) {
            const int64_t *e = S->entries[wd] + 2 * i;
            int64_t at = start + e[0] * 60 + random_offset(S->seed, S->sw, day, i, S->limit);
            if (at <= t && (!found || at >= best)) {
                best = at;
                state = e[1] != 0;
                found = 1;
            }
        }
    }
    return state;
}

static int switch_state(const Switch *S, int64_t t) {
    int lost = 0;
    for (Py_ssize_t i = 0; i < S->n_lost && S->lost[2 * i] <= t; i++)
        lost = S->lost[2 * i + 1] == K_LOSS;
    if (lost) return 0; /* fail open */
    int calendar = calendar_state(S, t);
    for (Py_ssize_t i = 0; i < S->n_eff; i++) {
        const int64_t *e = S->eff + 4 * i;
        if (e[2] == K_TEST && e[0] <= t && t < e[1]) return !calendar;
    }
    for (Py_ssize_t i = S->n_eff - 1; i >= 0; i--) {
        const int64_t *e = S->eff + 4 * i;
        if ((e[2] == K_ADHOC || e[2] == K_BOOST) && e[0] <= t && t < e[1]) return e[3] != 0;
    }
    return calendar;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_pair(const void *a, const void *b) {
    const int64_t *x = a, *y = b;
    if (x[0] != y[0]) return (x[0] > y[0]) - (x[0] < y[0]);
    return (x[1] > y[1]) - (x[1] < y[1]);
}

/* switch_timeline(calendar, limit, t_from, t_to, effective, switch, seed) -> bytes of
 * int64 (instant, closed) changes; calendar: int64 words, per weekday a count then
 * (minute, closed) pairs; effective: int64 (start, end, kind, closed) quads as
 * loadcontrol._effective makes them (kinds 0 adhoc, 1 boost, 2 test, 3 loss, 4 restore). */
static PyObject *engine_switch_timeline(PyObject *module, PyObject *const *args,
                                        Py_ssize_t nargs) {
    (void)module;
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError,
                        "switch_timeline(calendar, limit, t_from, t_to, effective, switch, seed)");
        return NULL;
    }
    Switch S = {0};
    long long limit = PyLong_AsLongLong(args[1]);
    long long t_from = PyLong_AsLongLong(args[2]);
    long long t_to = PyLong_AsLongLong(args[3]);
    long long sw = PyLong_AsLongLong(args[5]);
    unsigned long long seed = PyLong_AsUnsignedLongLongMask(args[6]);
    if (PyErr_Occurred()) return NULL;
    Py_buffer cb = {0}, eb = {0};
    PyObject *result = NULL;
    int64_t *cal = NULL, *eff = NULL, *instants = NULL, *out = NULL;
    if (buffer_get(args[0], &cb, 0, "calendar") < 0) return NULL;
    if (buffer_get(args[4], &eb, 0, "effective") < 0) goto done;
    if (cb.len % 8 || eb.len % 32) {
        PyErr_SetString(PyExc_ValueError, "calendar: int64 words; effective: int64 quads");
        goto done;
    }
    Py_ssize_t nc = cb.len / 8;
    cal = malloc((size_t)(nc ? nc : 1) * 8);
    eff = malloc((size_t)(eb.len ? eb.len : 8));
    S.n_eff = eb.len / 32;
    S.lost = malloc((size_t)(S.n_eff ? S.n_eff : 1) * 16);
    if (!cal || !eff || !S.lost) {
        PyErr_NoMemory();
        goto done;
    }
    memcpy(cal, cb.buf, (size_t)cb.len);
    memcpy(eff, eb.buf, (size_t)eb.len);
    Py_ssize_t pos = 0;
    for (int wd = 0; wd < 7; wd++) {
        if (pos >= nc || cal[pos] < 0 || cal[pos] > (nc - pos - 1) / 2) {
            PyErr_SetString(PyExc_ValueError, "malformed switch calendar");
            goto done;
        }
        S.counts[wd] = cal[pos];
        S.entries[wd] = cal + pos + 1;
        pos += 1 + 2 * cal[pos];
    }
    S.limit = limit;
    S.sw = sw;
    S.seed = seed;
    S.eff = eff;
    for (Py_ssize_t i = 0; i < S.n_eff; i++)
        if (eff[4 * i + 2] == K_LOSS || eff[4 * i + 2] == K_RESTORE) {
            S.lost[2 * S.n_lost] = eff[4 * i];
            S.lost[2 * S.n_lost + 1] = eff[4 * i + 2];
            S.n_lost++;
        }
    qsort(S.lost, (size_t)S.n_lost, 16, cmp_pair);
    int64_t d0 = local_day(t_from) - 1, d1 = local_day(t_to) + 1; /* days d0 .. d1 - 1 */
    Py_ssize_t cap = 1 + 2 * S.n_eff;
    for (int64_t day = d0; day < d1; day++) cap += S.counts[weekday(day)];
    instants = malloc((size_t)cap * 8);
    out = malloc((size_t)cap * 16);
    if (!instants || !out) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t n = 0;
    instants[n++] = t_from;
    for (int64_t day = d0; day < d1; day++) {
        int64_t start = local_midnight(day), wd = weekday(day);
        for (int64_t i = 0; i < S.counts[wd]; i++)
            instants[n++] = start + S.entries[wd][2 * i] * 60 +
                            random_offset(seed, sw, day, i, limit);
    }
    for (Py_ssize_t i = 0; i < S.n_eff; i++) {
        instants[n++] = eff[4 * i];
        instants[n++] = eff[4 * i + 1];
    }
    qsort(instants, (size_t)n, 8, cmp_i64);
    Py_ssize_t changes = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t t = instants[i];
        if (t < t_from || t >= t_to || (i && instants[i - 1] == t)) continue;
        int closed = switch_state(&S, t);
        if (!changes || out[2 * changes - 1] != closed) {
            out[2 * changes] = t;
            out[2 * changes + 1] = closed;
            changes++;
        }
    }
    result = PyBytes_FromStringAndSize((const char *)out, changes * 16);
done:
    free(cal);
    free(eff);
    free(S.lost);
    free(instants);
    free(out);
    PyBuffer_Release(&cb);
    if (eb.obj) PyBuffer_Release(&eb);
    return result;
}

static PyMethodDef engine_methods[] = {
    {"advance", (PyCFunction)(void (*)(void))engine_advance, METH_FASTCALL,
     "advance(table, states, logs, t_from, t_to, imports, exports=None, reactive=None) -> "
     "bytes of events"},
    {"naive_tou", (PyCFunction)(void (*)(void))engine_naive_tou, METH_FASTCALL,
     "naive_tou(rates, imports, registers) -> None: the naive per-half-hour TOU loop"},
    {"switch_timeline", (PyCFunction)(void (*)(void))engine_switch_timeline, METH_FASTCALL,
     "switch_timeline(calendar, limit, t_from, t_to, effective, switch, seed) -> bytes"},
    {NULL, NULL, 0, NULL},
};

static int engine_exec(PyObject *module) {
    if (PyModule_AddIntConstant(module, "LAYOUT_VERSION", LAYOUT_VERSION) < 0) return -1;
    if (PyModule_AddIntConstant(module, "STATE_BYTES", STATE_WORDS * 8) < 0) return -1;
    if (PyModule_AddIntConstant(module, "TABLE_BYTES", TABLE_WORDS * 8) < 0) return -1;
    if (PyModule_AddIntConstant(module, "PREPAYMENT_LOG_BYTES", PREPAYMENT_LOG_BYTES) < 0)
        return -1;
    if (PyModule_AddStringConstant(module, "IMPLEMENTATION", "c") < 0) return -1;
    return 0;
}

static PyModuleDef_Slot engine_slots[] = {
    {Py_mod_exec, engine_exec},
#ifdef Py_mod_multiple_interpreters
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef engine_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "smemu.firmware.registers._engine",
    .m_doc = "The register engine's C implementation (see reference.py for the semantics).",
    .m_size = 0,
    .m_methods = engine_methods,
    .m_slots = engine_slots,
};

PyMODINIT_FUNC PyInit__engine(void) { return PyModuleDef_Init(&engine_module); }
