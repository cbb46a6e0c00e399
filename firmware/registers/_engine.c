/* The register engine in C: the semantics of reference.py, folded per day.
 *
 * Layer: firmware (a CPython extension module built by setuptools; see engine.py for why an
 * extension module rather than ctypes or cffi). Everything here is pure: integer arithmetic
 * over the caller's buffers (table, states, logs, consumption) with the byte layouts of
 * layout.py, and packed events returned as bytes.
 *
 * Speed comes from doing per day, and per run of days, what reference.py does per half-hour.
 * Three paths, fastest first:
 * - fast_days: a run of ordinary whole days (no billing snapshot, no DST change, supply on,
 *   no debt that could clear within the run). Per day: the energy is added to a fold row
 *   per (day profile, slot), its cost bound (energy x the profile's top price) comes off a
 *   credit headroom (budget(): how much can be debited before any credit alert), and block
 *   slots are booked by runs of one block set (block_run: one addition per block, a scan
 *   only for the slot where a threshold is reached, which emits the block change event).
 *   Standing charge and debt recovery are booked once for the run.
 * - fast_day: one whole day, with midnight() done exactly (billing snapshots, clearing debts).
 * - interval(): half-hour by half-hour, reference.py line by line (DST days, partial days,
 *   days where a credit event may happen, deferred disablement).
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

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the engine's byte layouts are little-endian"
#endif

/* ---- layout.py, LAYOUT_VERSION 2 (init test compares these with layout.py) ---- */
#define LAYOUT_VERSION 2
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
#define S_TOU 40
#define S_BLOCK (S_TOU + 48)
#define S_MATRIX (S_BLOCK + 32)
#define STATE_WORDS (S_MATRIX + 32)

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

static void emit(Events *ev, int32_t meter, int32_t code, int64_t t, int64_t value) {
    if (ev->len + EVENT_BYTES > ev->cap) {
        Py_ssize_t cap = ev->cap ? ev->cap * 2 : 4096;
        char *grown = realloc(ev->data, (size_t)cap);
        if (!grown) {
            ev->failed = 1;
            return;
        }
        ev->data = grown;
        ev->cap = cap;
    }
    char *p = ev->data + ev->len;
    memcpy(p, &meter, 4);
    memcpy(p + 4, &code, 4);
    memcpy(p + 8, &t, 8);
    memcpy(p + 16, &value, 8);
    ev->len += EVENT_BYTES;
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
    int nruns;
    Run runs[48];
} Profile;

typedef struct {
    const int64_t *w;
    int64_t s[STATE_WORDS];
    int32_t index;
    Events *ev;
    uint8_t *prof, *xprof, *daily, *billing; /* log sections, or NULL */
    /* lazy folding */
    _Alignas(64) uint32_t fold[N_PROFILES][48]; /* aligned: 32-byte vectors stay in a line */
    uint32_t used; /* profiles with something in fold */
    int64_t pending; /* upper bound of the TOU cost still in fold (fine units) */
    int64_t folded_days;
    const Profile *profiles; /* per day profile: prices bounds and block runs */
} Meter;

/* maximum demand period in half-hours; the whole-day paths handle only 1 (30 minutes) */
static int64_t md_period(const int64_t *w) { return w[T_MD_PERIOD] > 1 ? w[T_MD_PERIOD] : 1; }

static int friendly(const Meter *M, int64_t wd, int64_t slot) {
    return (int)((M->w[T_FRIENDLY + wd] >> slot) & 1);
}

static int64_t available(const Meter *M) {
    return M->s[S_BALANCE] + ((M->s[S_FLAGS] & M_EC_ACTIVE) ? M->s[S_EC] : 0);
}

/* The path-independent part of a debit: meter balance while positive, then an active
 * emergency credit, then the balance goes negative. */
static void take(Meter *M, int64_t amount) {
    int64_t *s = M->s;
    if (amount <= 0) return;
    if (s[S_BALANCE] > 0) {
        int64_t t = amount < s[S_BALANCE] ? amount : s[S_BALANCE];
        s[S_BALANCE] -= t;
        amount -= t;
    }
    if (amount && (s[S_FLAGS] & M_EC_ACTIVE) && s[S_EC] > 0) {
        int64_t t = amount < s[S_EC] ? amount : s[S_EC];
        s[S_EC] -= t;
        amount -= t;
    }
    s[S_BALANCE] -= amount;
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
    if ((f & M_EC_ACTIVE) && ec > 0 && !(f & M_EC_EXHAUSTED_SENT) && d - (m > 0 ? m : 0) >= ec)
        return 0;
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
    if ((f & M_EC_ACTIVE) && ec > 0 && !(f & M_EC_EXHAUSTED_SENT) && (m > 0 ? m : 0) + ec - 1 < b)
        b = (m > 0 ? m : 0) + ec - 1;
    return b;
}

/* Fold the TOU energy of whole days into registers, cost and (prepayment) balance. */
static void flush(Meter *M) {
    int64_t *s = M->s;
    const int64_t *w = M->w;
    int64_t cost = 0;
    for (int p = 0; p < N_PROFILES; p++) {
        if (!(M->used >> p & 1)) continue;
        const int64_t *sel = w + T_PROFILES + 48 * p;
        for (int j = 0; j < 48; j++) {
            uint32_t e = M->fold[p][j];
            if (sel[j] < BLOCK_SELECTOR) {
                s[S_TOU + sel[j]] += e;
                cost += (int64_t)e * w[T_TOU_PRICE + sel[j]];
            }
            M->fold[p][j] = 0;
        }
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
    int64_t m = s[S_BALANCE], ec = s[S_EC];
    int64_t active = s[S_FLAGS] & M_EC_ACTIVE;
    if (m > 0) {
        int64_t k = amount < m ? amount : m;
        m -= k;
        amount -= k;
    }
    if (amount && active && ec > 0) {
        int64_t k = amount < ec ? amount : ec;
        ec -= k;
        amount -= k;
        if (ec == 0 && !(s[S_FLAGS] & M_EC_EXHAUSTED_SENT)) {
            s[S_FLAGS] |= M_EC_EXHAUSTED_SENT;
            emit(M->ev, M->index, E_EC_EXHAUSTED, t, m - amount);
        }
    }
    m -= amount;
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

static void log_profile(Meter *M, uint16_t e, uint16_t x) {
    if (!M->prof && !M->xprof) return;
    int64_t head = M->s[S_PROFILE_HEAD] % PROFILE_SLOTS;
    if (M->prof) memcpy(M->prof + 2 * head, &e, 2);
    if (M->xprof) memcpy(M->xprof + 2 * head, &x, 2);
    M->s[S_PROFILE_HEAD] += 1;
}

typedef struct DayPlan {
    int64_t start, end; /* local midnight and the next, UTC */
    int64_t wd, profile;
    int billing; /* the next local day is the billing day */
    uint8_t slots[50]; /* a DST day's local slot of each of its intervals */
} DayPlan;

/* reference.py _Meter.interval, for the interval starting at t (local slot `slot`) */
static void interval(Meter *M, int64_t t, int64_t slot, const DayPlan *day, int64_t e,
                     int64_t x) {
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
    if (f & M_DISABLED) e = x = 0;
    s[S_IMPORT] += e;
    s[S_EXPORT] += x;
    log_profile(M, (uint16_t)e, (uint16_t)x);
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

/* AVX2 clones of the day loops where the CPU has it (picked at load time; the sums and
 * maxima over 48 half-hours vectorise), the baseline build elsewhere. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define HOT_CLONES __attribute__((target_clones("default", "avx2")))
#else
#define HOT_CLONES
#endif

/* Book a block run (consecutive slots lo..hi-1 of block set k, `total` Wh, in the day
 * starting at `start`): the energy up to the next threshold goes to the current block in
 * one addition; the slot that reaches a threshold is found four slots at a time, then
 * split as block_energy splits it (events at the pro-rata instants). Thresholds are
 * ascending (check_table), so the block index only moves at a threshold. */
static int64_t block_run(Meter *M, int k, int lo, int hi, int64_t total, const uint16_t *imp,
                         int64_t start) {
    int64_t *s = M->s;
    const int64_t *w = M->w;
    const int64_t *th = w + T_THRESH + 3 * k, *price = w + T_BLOCK_PRICE + 4 * k;
    int64_t *blocks = s + S_BLOCK + 4 * k, *matrix = s + S_MATRIX + 4 * k;
    int64_t per = s[S_PERIOD], cost = 0;
    int j = lo;
    for (;;) {
        int64_t b = (th[0] <= per) + (th[1] <= per) + (th[2] <= per);
        int64_t limit = b < 3 ? th[b] : NO_THRESHOLD;
        if (per + total < limit) {
            blocks[b] += total;
            matrix[b] += total;
            cost += total * price[b];
            per += total;
            break;
        }
        int64_t cum = per;
        int jj = j;
        while (jj + 4 <= hi) {
            int64_t q = (int64_t)imp[jj] + imp[jj + 1] + imp[jj + 2] + imp[jj + 3];
            if (cum + q >= limit) break;
            cum += q;
            jj += 4;
        }
        while (cum + imp[jj] < limit) cum += imp[jj++];
        int64_t before = cum - per;
        blocks[b] += before;
        matrix[b] += before;
        cost += before * price[b];
        per = cum;
        int64_t e = imp[jj], done = 0;
        while (done < e) {
            b = (th[0] <= per) + (th[1] <= per) + (th[2] <= per);
            limit = b < 3 ? th[b] : NO_THRESHOLD;
            int64_t part = e - done < limit - per ? e - done : limit - per;
            blocks[b] += part;
            matrix[b] += part;
            cost += part * price[b];
            per += part;
            done += part;
            if (per == limit) {
                uint32_t frac = (uint32_t)(INTERVAL * done) / (uint32_t)e;
                emit(M->ev, M->index, E_BLOCK_CHANGE, start + INTERVAL * jj + frac,
                     k * 16 + b + 1);
            }
        }
        total -= before + e;
        j = jj + 1;
        if (j >= hi) break;
    }
    s[S_PERIOD] = per;
    return cost;
}

/* A whole normal day at once; returns 0 (having changed nothing) when it cannot. Nothing
 * but block changes may happen inside the day (their instants come from block_energy, in
 * order); credit thresholds are checked against an upper bound of the day's debits. */
static int fast_day(Meter *M, const DayPlan *day, const uint16_t *imp, const uint16_t *exp) {
    int64_t *s = M->s;
    const int64_t *w = M->w;
    const Profile *pr = M->profiles + day->profile;
    int64_t start = day->start;
    int64_t f = s[S_FLAGS];
    if (f & M_PENDING_DISABLE || md_period(w) != 1) return 0;
    int disabled = (f & M_DISABLED) != 0;
    uint32_t sum = 0, xsum = 0;
    uint16_t max = 0, xmax = 0;
    if (!disabled) {
        for (int j = 0; j < 48; j++) {
            uint16_t v = imp[j];
            sum += v;
            max = v > max ? v : max;
        }
        if (exp)
            for (int j = 0; j < 48; j++) {
                xsum += exp[j];
                xmax = exp[j] > xmax ? exp[j] : xmax;
            }
    }
    /* hourly debts over the 24 hour ends of the day: none may clear */
    int64_t debt_take[2] = {0, 0}, debt_debit = 0;
    int suspend = (w[T_FLAGS] & F_SUSPEND_DEBT_EMERGENCY) && (f & M_EC_ACTIVE);
    for (int i = 0; i < 2; i++) {
        if (w[T_DEBT_PERIOD + i] != 0 || !debt_due(M, i)) continue;
        int64_t total = 24 * w[T_DEBT_RATE + i];
        if (total >= s[S_DEBT + i]) return 0;
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
        for (int j = 0; j < 48; j++) row[j] += imp[j];
        M->used |= 1u << day->profile;
        M->pending += (f & M_PREPAY) ? (int64_t)sum * pr->maxprice : 0;
        if (++M->folded_days >= 60000) flush(M);
    }
    s[S_IMPORT] += sum;
    s[S_EXPORT] += xsum;
    if (M->prof || M->xprof) {
        static const uint16_t zeros[48];
        int64_t head = s[S_PROFILE_HEAD] % PROFILE_SLOTS;
        int64_t first = PROFILE_SLOTS - head < 48 ? PROFILE_SLOTS - head : 48;
        const uint16_t *src = disabled ? zeros : imp;
        const uint16_t *xsrc = (disabled || !exp) ? zeros : exp;
        if (M->prof) {
            memcpy(M->prof + 2 * head, src, (size_t)first * 2);
            memcpy(M->prof, src + first, (size_t)(48 - first) * 2);
        }
        if (M->xprof) {
            memcpy(M->xprof + 2 * head, xsrc, (size_t)first * 2);
            memcpy(M->xprof, xsrc + first, (size_t)(48 - first) * 2);
        }
        s[S_PROFILE_HEAD] += 48;
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
    if (!disabled)
        for (int r = 0; r < pr->nruns; r++) {
            const Run *run = pr->runs + r;
            int64_t total = 0;
            for (int j = run->lo; j < run->hi; j++) total += imp[j];
            if (total) block_cost += block_run(M, run->set, run->lo, run->hi, total, imp, start);
        }
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
                               Py_ssize_t *daily, Py_ssize_t *billing) {
    Py_ssize_t off = 0;
    *prof = off;
    off += (flags & F_LOG_PROFILE) ? PROFILE_SLOTS * 2 : 0;
    *xprof = off;
    off += (flags & F_LOG_PROFILE_EXPORT) ? PROFILE_SLOTS * 2 : 0;
    *daily = off;
    off += (flags & F_LOG_DAILY) ? DAILY_SLOTS * 8 : 0;
    *billing = off;
    off += (flags & F_LOG_BILLING) ? BILLING_SLOTS * BILLING_WORDS * 8 : 0;
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
    const uint8_t *imp, *exp;
    int imp_const, exp_const;
    int64_t t_from;
    DayPlan *plan;
    Py_ssize_t days;
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
    if (f & (M_PENDING_DISABLE | M_DISABLED) || sp->exp || M->prof || M->xprof) return 0;
    if (md_period(w) != 1) return 0;
    int prepay = (f & M_PREPAY) != 0;
    int suspend = (w[T_FLAGS] & F_SUSPEND_DEBT_EMERGENCY) && (f & M_EC_ACTIVE);
    int daily_reset = !(w[T_FLAGS] & F_BLOCK_RESET_BILLING);
    Py_ssize_t last = sp->days;
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
    int64_t t_to = sp->t_from + sp->intervals * INTERVAL, block_cost = 0;
    int64_t import = s[S_IMPORT], md = s[S_MD_IMPORT], md_t = s[S_MD_IMPORT_T];
    Py_ssize_t d = d0;
    for (; d < last; d++) {
        const DayPlan *day = sp->plan + d;
        if (day->billing || day->end - day->start != DAY || day->start < sp->t_from ||
            day->end > t_to)
            break;
        Py_ssize_t k0 = (Py_ssize_t)((day->start - sp->t_from) / INTERVAL);
        const uint16_t *imp = ibuf;
        uint16_t copy[48];
        if (!sp->imp_const) {
            const uint8_t *src = sp->imp + 2 * (m * sp->intervals + k0);
            if (((uintptr_t)src & 1) == 0) {
                imp = (const uint16_t *)(const void *)src;
            } else {
                memcpy(copy, src, 96);
                imp = copy;
            }
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
            M->pending += (int64_t)sum * pr->maxprice;
        }
        uint32_t *row = M->fold[day->profile];
        for (int j = 0; j < 48; j++) row[j] += imp[j];
        M->used |= 1u << day->profile;
        if (++M->folded_days >= 60000) flush(M);
        import += sum;
        if (max > md) {
            int j = 0;
            while (imp[j] != max) j++;
            md = max;
            md_t = day->start + INTERVAL * (j + 1);
        }
        if (pr->nruns) {
            s[S_IMPORT] = import;
            for (int r = 0; r < pr->nruns; r++) {
                const Run *run = pr->runs + r;
                int64_t total = 0;
                if (run->hi - run->lo == 48)
                    total = sum;
                else
                    for (int j = run->lo; j < run->hi; j++) total += imp[j];
                if (total)
                    block_cost += block_run(M, run->set, run->lo, run->hi, total, imp, day->start);
            }
        }
        if (M->daily) {
            int64_t head = s[S_DAILY_HEAD] % DAILY_SLOTS;
            uint32_t pair[2] = {(uint32_t)import, (uint32_t)s[S_EXPORT]};
            memcpy(M->daily + 8 * head, pair, 8);
            s[S_DAILY_HEAD] += 1;
        }
        if (daily_reset && s[S_PERIOD]) {
            /* the first reset of the run clears the whole matrix, later ones only the
             * block sets this run has touched since */
            if (d == d0) memset(s + S_MATRIX, 0, 32 * sizeof(int64_t));
            for (int r = 0; r < pr->nruns && d > d0; r++)
                memset(s + S_MATRIX + 4 * pr->runs[r].set, 0, 4 * sizeof(int64_t));
            s[S_PERIOD] = 0;
        }
    }
    int64_t n = d - d0;
    if (!n) return 0;
    s[S_IMPORT] = import;
    s[S_MD_IMPORT] = md;
    s[S_MD_IMPORT_T] = md_t;
    s[S_COST] += block_cost + n * w[T_STANDING];
    for (int i = 0; i < 2; i++) s[S_DEBT + i] -= n * per_day[i];
    if (suspend) s[S_ACC_DEBT] += n * charges;
    if (prepay) take(M, block_cost + n * fixed);
    s[S_T] = sp->plan[d - 1].end;
    return (Py_ssize_t)n;
}

static void run_meter(Span *sp, Py_ssize_t m, Meter *M, Events *ev) {
    Py_ssize_t prof, xprof, daily, billing;
    log_sections(sp->w[T_FLAGS], &prof, &xprof, &daily, &billing);
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
        M->daily = (fl & F_LOG_DAILY) ? base + daily : NULL;
        M->billing = (fl & F_LOG_BILLING) ? base + billing : NULL;
    }
    uint16_t ibuf[48], xbuf[48], cbuf[48];
    if (sp->imp_const) {
        uint16_t c;
        memcpy(&c, sp->imp + 2 * m, 2);
        for (int j = 0; j < 48; j++) cbuf[j] = c;
    }
    for (Py_ssize_t d = 0; d < sp->days; d++) {
        Py_ssize_t done = fast_days(M, sp, m, d, cbuf);
        if (done) {
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
        if (a == day->start && b == day->end && day->end - day->start == DAY) {
            const uint16_t *ip = ibuf, *xp = NULL;
            if (sp->imp_const) {
                uint16_t c;
                memcpy(&c, sp->imp + 2 * m, 2);
                for (int j = 0; j < 48; j++) ibuf[j] = c;
            } else if (((uintptr_t)sp->imp & 1) == 0) {
                ip = (const uint16_t *)(const void *)(sp->imp + 2 * (m * sp->intervals + k0));
            } else {
                memcpy(ibuf, sp->imp + 2 * (m * sp->intervals + k0), 96);
            }
            if (sp->exp) {
                if (sp->exp_const) {
                    uint16_t c;
                    memcpy(&c, sp->exp + 2 * m, 2);
                    for (int j = 0; j < 48; j++) xbuf[j] = c;
                    xp = xbuf;
                } else if (((uintptr_t)sp->exp & 1) == 0) {
                    xp = (const uint16_t *)(const void *)(sp->exp + 2 * (m * sp->intervals + k0));
                } else {
                    memcpy(xbuf, sp->exp + 2 * (m * sp->intervals + k0), 96);
                    xp = xbuf;
                }
            }
            if (fast_day(M, day, ip, xp)) continue;
        }
        for (Py_ssize_t k = k0; k < k1; k++) {
            uint16_t e = 0, x = 0;
            memcpy(&e, sp->imp + 2 * (sp->imp_const ? m : m * sp->intervals + k), 2);
            if (sp->exp) memcpy(&x, sp->exp + 2 * (sp->exp_const ? m : m * sp->intervals + k), 2);
            int64_t t = sp->t_from + k * INTERVAL;
            int64_t i = (t - day->start) / INTERVAL;
            int64_t slot = day->end - day->start == DAY ? i : day->slots[i];
            interval(M, t, slot, day, e, x);
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
        if (check_profile(sp, p->profile) < 0) return -1;
        if (p->end - p->start != DAY)
            for (int64_t t = start; t < p->end; t += INTERVAL)
                p->slots[(t - start) / INTERVAL] = (uint8_t)slot_of(t);
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
    if (nargs < 6 || nargs > 7) {
        PyErr_SetString(PyExc_TypeError,
                        "advance(table, states, logs, t_from, t_to, imports, exports=None)");
        return NULL;
    }
    Py_buffer tb = {0}, sb = {0}, lb = {0}, ib = {0}, xb = {0};
    int have_l = 0, have_x = 0;
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
    if (nargs == 7 && args[6] != Py_None) {
        if (buffer_get(args[6], &xb, 0, "exports") < 0) goto done;
        have_x = 1;
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
    Py_ssize_t a, b, c, d;
    sp->per_log = log_sections(sp->w[T_FLAGS], &a, &b, &c, &d);
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
    return result;
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
    const uint16_t *imp = ib.buf;
    int64_t *regs = gb.buf;
    for (Py_ssize_t m = 0; m < meters; m++) {
        int64_t *r = regs + 48 * m;
        const uint16_t *e = imp + m * n;
        for (Py_ssize_t k = 0; k < n; k++) r[rates[k]] += e[k];
    }
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
     "advance(table, states, logs, t_from, t_to, imports, exports=None) -> bytes of events"},
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
