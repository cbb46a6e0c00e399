"""The ESME's engine-backed COSEM objects: registers, credit, debt, UTRN, tariff activation.

Layer: firmware. Every value here is a view of the register engine's state
(:mod:`smemu.firmware.metering`) or an operation on it (:mod:`smemu.firmware.prepayment`);
the device advances the engine to now before a request is served, and re-compiles the
engine table after a request that wrote anything (:func:`after_writes`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from smemu.firmware import metering, prepayment, supply, tariff
from smemu.firmware.common.cosem import CosemContext, CosemFailure, CosemObject, Method, Setter
from smemu.firmware.common.credentials import Credentials, Role
from smemu.firmware.common.machine import Tx
from smemu.firmware.cosem_model import Model, ModelAttribute, check_value, store
from smemu.firmware.registers import calendar, ops
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers.ops import Event
from smemu.protocols.dlms.apdu import ActionResult, DataAccessResult, parse_obis
from smemu.protocols.dlms.axdr import Data
from smemu.protocols.dlms.data import (
    Array,
    DoubleLong,
    DoubleLongUnsigned,
    Enum,
    Integer,
    NullData,
    OctetString,
    Structure,
)

TOKEN_GATEWAY: Final = parse_obis("0-0:19.40.0.255")
TARIFF_SCRIPTS: Final = parse_obis("0-0:10.0.100.255")
DIRTY: Final = "reg/dirty"  #: set by a write in this request: re-compile the table
_UNIT_WH: Final = 30
_U32: Final = 0xFFFFFFFF

#: account passive -> active (ECS02 / ECS03 payment mode, at account_activation_time)
ACCOUNT_ACTIVATION: Final = (111, prepayment.ACCOUNT_PASSIVE, 13)
tariff.ACTIVATIONS[ACCOUNT_ACTIVATION] = (
    (111, prepayment.ACCOUNT_PASSIVE, 2, prepayment.ACCOUNT, 2),
    (111, prepayment.ACCOUNT_PASSIVE, 11, prepayment.ACCOUNT, 11),
)


def mark_dirty(tx: Tx) -> None:
    tx.put_int(DIRTY, 1)


def _u32(value: int) -> Data:
    return DoubleLongUnsigned(max(0, value) & _U32)


def _money(value: int) -> Data:
    return DoubleLong(max(-(1 << 31), min((1 << 31) - 1, value)))


def _regs(ctx: CosemContext) -> ops.Registers:
    return metering.registers(ctx.tx)


# ------------------------------------------------------------------------------- reads


def _tou(n: int) -> Callable[[CosemContext], Data]:
    return lambda ctx: _u32(_regs(ctx).tou_wh[n])


def tou_collection(ctx: CosemContext) -> Data:
    """ECS17d TOU register collection: the 48 primary TOU registers (single element)."""
    return Structure((Array(tuple(_u32(v) for v in _regs(ctx).tou_wh)),))


def block_collection(ctx: CosemContext) -> Data:
    """ECS17e block register collection: 8 sets x 4 blocks, then unused registers (0)."""
    values = [v for block_set in _regs(ctx).block_wh for v in block_set]
    values += [0] * (64 - len(values))
    return Structure((Array(tuple(_u32(v) for v in values)),))


def active_price(ctx: CosemContext) -> Data:
    """The price in force now (10^-5 currency per kWh) on the primary element."""
    return _u32(price_in_force(metering.table_words(ctx.tx), metering.state_words(ctx.tx)))


def price_in_force(table: lay.Words, state: lay.Words) -> int:
    """The price (10^-5 currency per kWh) an engine meter charges at its state's instant: the
    TOU rate, or the block price of the block the block period's consumption has reached."""
    t = state[lay.S_T]
    profile = calendar.profile_for_day(table, calendar.local_day(t))
    selector = table[lay.T_PROFILES + 48 * profile + calendar.slot_of(t)]
    if selector < lay.BLOCK_SELECTOR:
        return table[lay.T_TOU_PRICE + selector]
    block_set = selector - lay.BLOCK_SELECTOR
    used = state[lay.S_PERIOD]
    thresholds = table[lay.T_THRESH + 3 * block_set : lay.T_THRESH + 3 * block_set + 3]
    block = sum(1 for threshold in thresholds if used >= threshold)
    return table[lay.T_BLOCK_PRICE + 4 * block_set + block]


def _credit(field: str) -> Callable[[CosemContext], Data]:
    def get(ctx: CosemContext) -> Data:
        value = getattr(_regs(ctx), field)
        return _money(value if isinstance(value, int) else 0)

    return get


def _debt(index: int) -> Callable[[CosemContext], Data]:
    def get(ctx: CosemContext) -> Data:
        regs = _regs(ctx)
        value = regs.payment_debt if index == 2 else regs.time_debts[index]
        return _money(value)

    return get


# ----------------------------------------------------------------------------- actions


def _amount(value: Data) -> int:
    if not isinstance(value, DoubleLong):
        raise CosemFailure(ActionResult.TYPE_UNMATCHED)
    return value.value


def credit_changed(tx: Tx) -> None:
    """After credit was added: a supply disabled for credit arms when credit is back."""
    state = metering.state_words(tx)
    table = metering.table_words(tx)
    available = state[lay.S_BALANCE] + (
        state[lay.S_EC] if state[lay.S_FLAGS] & lay.M_EC_ACTIVE else 0
    )
    if available > table[lay.T_DISABLE] and tx.get_int(supply.CREDIT_DISABLED):
        supply.transition(tx, supply.Cause.CREDIT_RESTORED)


def _update_amount(ctx: CosemContext, value: Data) -> Data:
    prepayment.adjust_balance(ctx.tx, _amount(value))
    credit_changed(ctx.tx)
    return NullData()


def _set_amount(obis: bytes) -> Method:
    def method(ctx: CosemContext, value: Data) -> Data:
        prepayment.set_register(ctx.tx, obis, _amount(value))
        credit_changed(ctx.tx)
        return NullData()

    return method


def _invoke_emergency_credit(ctx: CosemContext, value: Data) -> Data:
    """ECS09: in prepayment mode, take emergency credit if it is available (temporary
    failure otherwise); in credit mode there is no credit to take and nothing changes."""
    if not metering.registers(ctx.tx).prepayment:
        ctx.tx.log("event", "emergency credit invoked in credit mode: no effect")
        return NullData()
    if not prepayment.activate_emergency_credit(ctx.tx):
        raise CosemFailure(ActionResult.TEMPORARY_FAILURE)
    ctx.tx.log("event", "emergency credit activated", 0x81AB)
    credit_changed(ctx.tx)
    return NullData()


def _update_debt(register: int) -> Method:
    def method(ctx: CosemContext, value: Data) -> Data:
        prepayment.add_debt(ctx.tx, register, _amount(value))
        return NullData()

    return method


def _activate_debt_rate(obis: bytes) -> Method:
    def method(ctx: CosemContext, value: Data) -> Data:
        tariff.activate(ctx.tx, ((113, obis, 6, obis, 5),))
        mark_dirty(ctx.tx)
        return NullData()

    return method


def _reset_blocks(ctx: CosemContext, value: Data) -> Data:
    """ECS05: the tariff script table's block counter reset (any selector resets)."""
    metering.mutate(ctx.tx, lambda table, state: ops.reset_block_counters(state))
    ctx.tx.log("event", "block counter matrix reset")
    return NullData()


def supplier_eui(ctx_or_credentials: object) -> bytes | None:
    credentials = getattr(ctx_or_credentials, "credentials", ctx_or_credentials)
    anchor = getattr(credentials, "anchor", None)
    found = anchor(Role.SUPPLIER) if callable(anchor) else None
    return None if found is None else bytes(found.eui)


def utrn_entry(tx: Tx, credentials: Credentials, text: str) -> prepayment.UtrnResult:
    """Check and apply a UTRN (remote CS01a or the keypad)."""
    secret, supplier = prepayment.utrn_secret(tx, credentials)
    result = prepayment.enter_utrn(tx, text, secret, supplier, bytes(credentials.eui))
    if result.outcome is prepayment.UtrnOutcome.ACCEPTED:
        credit_changed(tx)
    return result


def _enter_token(ctx: CosemContext, value: Data) -> Data:
    """CS01a: Token Gateway enter (an octet-string of 20 ASCII digits)."""
    if not isinstance(value, OctetString):
        raise CosemFailure(ActionResult.TYPE_UNMATCHED)
    text = value.value.decode("ascii", errors="replace")
    result = utrn_entry(ctx.tx, ctx.credentials, text)
    if result.outcome is not prepayment.UtrnOutcome.ACCEPTED:
        raise CosemFailure(ActionResult.OTHER_REASON)
    return NullData()


# ---------------------------------------------------------------------------- setters


def activation_setter(key: tuple[int, bytes, int], stored: Setter | None) -> Setter:
    """Store an activation date-time (through the model's setter) and act on it: copy the
    passive values now, schedule the copy, or cancel a pending one."""
    class_id, obis, index = key

    def set_value(ctx: CosemContext, value: Data) -> None:
        if stored is not None:
            stored(ctx, value)
        if not isinstance(value, OctetString) or len(value.value) != 12:
            raise CosemFailure(DataAccessResult.TYPE_UNMATCHED)
        copies = tariff.activation_copies(class_id, obis, index) or ()
        at = tariff.activation_instant(value.value, ctx.now)
        if at is not None and at <= ctx.now:
            tariff.schedule(ctx.tx, class_id, obis, index, None)
            tariff.activate(ctx.tx, copies)
            mark_dirty(ctx.tx)
        else:
            tariff.schedule(ctx.tx, class_id, obis, index, at)

    return set_value


def dirtying(setter: Setter) -> Setter:
    def set_value(ctx: CosemContext, value: Data) -> None:
        setter(ctx, value)
        mark_dirty(ctx.tx)

    return set_value


# ------------------------------------------------------------------------------ table


def _scaler(unit: int) -> Callable[[CosemContext], Data]:
    return lambda ctx: Structure((Integer(0), Enum(unit)))


OBJECTS: Final[dict[tuple[int, bytes], CosemObject]] = {
    **prepayment.LOG_OBJECTS,
    (3, parse_obis("1-0:1.8.0.255")): CosemObject(
        get={2: lambda ctx: _u32(_regs(ctx).import_wh), 3: _scaler(_UNIT_WH)}
    ),
    (3, parse_obis("1-0:2.8.0.255")): CosemObject(
        get={2: lambda ctx: _u32(_regs(ctx).export_wh), 3: _scaler(_UNIT_WH)}
    ),
    **{
        (3, parse_obis(f"1-0:1.8.{n + 1}.255")): CosemObject(
            get={2: _tou(n), 3: _scaler(_UNIT_WH)}
        )
        for n in range(lay.N_TOU)
    },
    (1, parse_obis("0-0:94.44.34.1")): CosemObject(get={2: tou_collection}),
    (1, parse_obis("0-0:94.44.34.2")): CosemObject(get={2: block_collection}),
    (3, tariff.ACTIVE_PRICE): CosemObject(get={2: active_price}),
    (112, prepayment.METER_BALANCE): CosemObject(
        get={2: _credit("meter_balance")},
        act={1: _update_amount, 2: _set_amount(prepayment.METER_BALANCE)},
    ),
    (112, prepayment.EMERGENCY_CREDIT): CosemObject(
        get={2: _credit("emergency_credit_balance")},
        act={2: _set_amount(prepayment.EMERGENCY_CREDIT), 3: _invoke_emergency_credit},
    ),
    (112, prepayment.ACCUMULATED_DEBT): CosemObject(
        get={2: _credit("accumulated_debt")},
        act={2: _set_amount(prepayment.ACCUMULATED_DEBT)},
    ),
    **{
        (113, obis): CosemObject(act={2: _activate_debt_rate(obis), 4: _update_debt(i)})
        for i, obis in enumerate(prepayment.DEBT_RATES)
    },
    (113, prepayment.PAYMENT_DEBT): CosemObject(act={4: _update_debt(2)}),
    (115, TOKEN_GATEWAY): CosemObject(act={1: _enter_token}),
    (9, TARIFF_SCRIPTS): CosemObject(act={1: _reset_blocks}),
}


def legacy_active_setters(model: Model) -> dict[tuple[int, bytes], CosemObject]:
    """Setters of the *active* value (attribute 2) of every GBCS extended-data object whose
    passive value the model writes: the legacy ECS08 (outside the volume) writes them
    directly; the value is checked against the passive attribute's type."""
    table: dict[tuple[int, bytes], CosemObject] = {}
    for (class_id, obis), attributes in model.attributes.items():
        passive = attributes.get(4)
        if class_id != 9000 or passive is None or not passive.writable:
            continue

        def set_active(
            ctx: CosemContext, value: Data, passive: ModelAttribute = passive, obis: bytes = obis
        ) -> None:
            check_value(passive, value)
            store(ctx, 9000, obis, 2, value)
            mark_dirty(ctx.tx)

        table[(class_id, obis)] = CosemObject(set={2: set_active})
    return table


def with_activations(
    table: Mapping[tuple[int, bytes], CosemObject],
) -> dict[tuple[int, bytes], CosemObject]:
    """``table`` with every activation date-time acting, and every other setter marking
    the engine table for re-compilation."""
    out = dict(table)
    for key, obj in table.items():
        setters: dict[int, Setter] = {}
        for index, setter in obj.set.items():
            triple = (key[0], key[1], index)
            if tariff.activation_copies(*triple) is not None:
                setters[index] = activation_setter(triple, setter)
            else:
                setters[index] = dirtying(setter)
        out[key] = CosemObject(get=obj.get, set=setters, act=obj.act)
    return out


# ---------------------------------------------------------------- engine events and sync


def sync_payment_mode(tx: Tx) -> list[Event]:
    """Bring the engine's prepayment flag to the active account mode (snapshot if changed)."""
    prepay = prepayment.payment_mode(tx) == prepayment.PAYMENT_MODE_PREPAYMENT
    state = metering.state_words(tx)
    if bool(state[lay.S_FLAGS] & lay.M_PREPAY) == prepay:
        return []
    table = metering.table_words(tx)
    logs = bytearray(metering.logs(tx))
    event = ops.set_payment_mode(
        table, state, memoryview(logs) if logs else None, state[lay.S_T], prepay=prepay
    )
    tx.put(metering.STATE, state.tobytes())
    if logs:
        tx.put(metering.LOGS, bytes(logs))
    tx.log("event", f"payment mode {'prepayment' if prepay else 'credit'}")
    return [event]


def after_writes(tx: Tx) -> list[Event]:
    """Re-compile the engine table if this request wrote tariff or prepayment values."""
    if not tx.get_int(DIRTY):
        return []
    tx.delete(DIRTY)
    metering.replace_table(tx, prepayment.compile_active(tx))
    return sync_payment_mode(tx)


def next_wake(tx: Tx, load: metering.LoadModel) -> int:
    """When the engine should next be advanced to report its events on time: the next
    local midnight (daily and billing logs), or sooner when credit may cross a threshold."""
    state = metering.state_words(tx)
    t = state[lay.S_T]
    wake = calendar.local_midnight(calendar.local_day(t) + 1)
    if state[lay.S_FLAGS] & lay.M_PREPAY and supply.closed(tx):
        table = metering.table_words(tx)
        available = state[lay.S_BALANCE] + (
            state[lay.S_EC] if state[lay.S_FLAGS] & lay.M_EC_ACTIVE else 0
        )
        below = [table[i] for i in (lay.T_LOW_CREDIT, lay.T_EC_THRESHOLD, lay.T_DISABLE)]
        below = [v for v in below if v < available]
        if below:
            credit = available - max(below)
            steps = metering.intervals_of_credit(table, load, credit)
            wake = min(wake, t + steps * lay.INTERVAL)
    return wake


__all__ = [
    "OBJECTS",
    "active_price",
    "after_writes",
    "block_collection",
    "credit_changed",
    "legacy_active_setters",
    "mark_dirty",
    "next_wake",
    "price_in_force",
    "supplier_eui",
    "sync_payment_mode",
    "tou_collection",
    "utrn_entry",
    "with_activations",
]

