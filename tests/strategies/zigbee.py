"""Hypothesis strategies generating valid GBZ payloads and typed ZCL commands (rule H32).

Everything drawn here encodes without error and decodes back (with the matching ``alert``
flag) to an equal object.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from smemu.protocols.zigbee._fields import (
    DateField,
    Field,
    Nested,
    OctetString,
    Repeat,
    RestBytes,
    SizedBy,
    Switch,
    Tail,
    UInt,
    ZclDate,
    ZclRecord,
)
from smemu.protocols.zigbee.gbz import (
    COMPONENT_ALERT_CODES,
    CONTROL_ENCRYPTED,
    CONTROL_FROM_DATE_TIME,
    ZCL_MANUFACTURER_SPECIFIC,
    GbzAlert,
    GbzComponent,
    GbzEncryption,
    GbzMessage,
)
from smemu.protocols.zigbee.registry import CLUSTER_COMMANDS, GENERAL_COMMANDS
from smemu.protocols.zigbee.tunnel import TunnelGet, TunnelGetResponse, TunnelPut
from smemu.protocols.zigbee.typed import (
    ALERT_DETAILS,
    FirmwareHashAlert,
    FutureDatedOutcome,
    GbzPayload,
    MeterIntegrityAlert,
    ZclComponent,
)
from smemu.protocols.zigbee.zcl import (
    DATA_TYPES,
    AttributeValue,
    ReportableChange,
    TypedValueField,
)
from tests.strategies.dlms import ciphered_blocks

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFF_FFFF)


@st.composite
def gbz_components(draw: st.DrawFn, *, encrypted: bool | None = None) -> GbzComponent:
    """One component; ``encrypted`` forces (True/False) or leaves to chance (None)."""
    control = draw(u8) & ~(CONTROL_ENCRYPTED | CONTROL_FROM_DATE_TIME)
    frame_control = draw(u8)
    from_date_time = draw(st.one_of(st.none(), u32))
    if from_date_time is not None:
        control |= CONTROL_FROM_DATE_TIME
    manufacturer = draw(u16) if frame_control & ZCL_MANUFACTURER_SPECIFIC else None
    if encrypted is None:
        encrypted = draw(st.booleans())
    encryption = None
    payload = b""
    if encrypted:
        control |= CONTROL_ENCRYPTED
        encryption = GbzEncryption(draw(u8), draw(u8), draw(ciphered_blocks))
    else:
        payload = draw(st.binary(max_size=80))
    return GbzComponent(
        control,
        draw(u16),
        frame_control,
        draw(u8),
        draw(u8),
        payload,
        from_date_time,
        manufacturer,
        encryption,
    )


@st.composite
def gbz_alerts(draw: st.DrawFn) -> GbzMessage:
    """Alert-form payloads (decode them with ``alert=True``)."""
    code = draw(st.one_of(st.sampled_from(sorted(COMPONENT_ALERT_CODES)), u16))
    timestamp = draw(u32)
    if code in COMPONENT_ALERT_CODES:
        components = draw(st.lists(gbz_components(), max_size=2))
        return GbzMessage(tuple(components), GbzAlert(code, timestamp))
    data = draw(st.binary(max_size=40))
    return GbzMessage((), GbzAlert(code, timestamp, data, draw(u8)))


#: Command/response-form payloads (decode them with ``alert=False``).
gbz_messages = st.lists(gbz_components(), max_size=5).map(lambda cs: GbzMessage(tuple(cs)))


# ------------------------------------------------------------------ typed ZCL commands


def _int_range(field: UInt) -> st.SearchStrategy[int]:
    bits = 8 * field.size
    if field.signed:
        return st.integers(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    return st.integers(0, (1 << bits) - 1)


#: Data types drawn for attribute values (sizes from zcl.DATA_TYPES).
_VALUE_TYPES = sorted(c for c in DATA_TYPES if c not in (0x48, 0x4C, 0x50, 0x51))


@st.composite
def attribute_values(draw: st.DrawFn, *, depth: int = 0) -> AttributeValue:
    """A valid typed attribute value of any ZCL data type (nesting up to 2 deep)."""
    choices = _VALUE_TYPES + ([0x48, 0x4C, 0x50] if depth < 2 else [])
    code = draw(st.sampled_from(choices))
    return AttributeValue(code, draw(_value_of(code, depth)))


def _value_of(code: int, depth: int) -> st.SearchStrategy[Any]:
    name, _, size = DATA_TYPES[code]
    if name == "no_data":
        return st.none()
    if name == "date":
        return st.builds(ZclDate, u8, u8, u8, u8)
    if name == "security_key":
        return st.binary(min_size=16, max_size=16)
    if name.endswith("string"):
        return st.binary(max_size=30)
    if name in ("array", "set", "bag"):
        element = st.sampled_from([0x20, 0x21, 0x25, 0x29, 0x41])
        return element.flatmap(
            lambda e: st.lists(_value_of(e, depth + 1), max_size=4).map(lambda xs: (e, *xs))
        )
    if name == "structure":
        return st.lists(attribute_values(depth=depth + 1), max_size=3).map(tuple)
    signed = name.startswith("int")
    return _int_range(UInt(size, signed=signed))


def _selectors(plan: tuple[tuple[str, Field], ...]) -> set[str]:
    return {f.selector for _, f in plan if isinstance(f, SizedBy)}


def _field_strategy(field: Field, ctx: dict[str, Any], small: bool) -> st.SearchStrategy[Any]:
    if isinstance(field, UInt):
        return st.integers(0, 0x33) if small else _int_range(field)
    if isinstance(field, OctetString):
        return st.binary(max_size=30)
    if isinstance(field, RestBytes):
        return st.binary(max_size=30)
    if isinstance(field, DateField):
        return st.builds(ZclDate, u8, u8, u8, u8)
    if isinstance(field, Nested):
        return zcl_records(field.record)
    if isinstance(field, SizedBy):
        count = field.count_of(ctx[field.selector])
        return st.lists(_field_strategy(field.item, {}, False), min_size=count, max_size=count)
    if isinstance(field, Repeat):  # Repeat and Counted
        return _repeat(field.item)
    if isinstance(field, Switch):
        return zcl_records(field.cases[ctx[field.selector]])
    if isinstance(field, TypedValueField):
        if field.when_success and ctx["status"] != 0:
            return st.none()
        return attribute_values()
    if isinstance(field, ReportableChange):
        size = ReportableChange.analog_size(ctx["data_type"])
        return _int_range(UInt(size)) if size else st.none()
    raise AssertionError(f"no strategy for {type(field).__name__}")


def _repeat(item: Field) -> st.SearchStrategy[tuple[Any, ...]]:
    # A record ending in optional fields may leave them out only as the last item.
    if isinstance(item, Nested) and any(isinstance(f, Tail) for _, f in item.record.field_plan()):
        record = item.record
        full = zcl_records(record, tails=False)
        return st.tuples(st.lists(full, max_size=3), st.lists(zcl_records(record), max_size=1)).map(
            lambda parts: tuple(parts[0] + parts[1])
        )
    return st.lists(_field_strategy(item, {}, False), max_size=4).map(tuple)


@st.composite
def zcl_records(draw: st.DrawFn, record: type[ZclRecord], *, tails: bool = True) -> Any:
    """A valid instance of any typed ZCL record / command class."""
    plan = record.field_plan()
    small = _selectors(plan)
    switches = {f.selector: f for _, f in plan if isinstance(f, Switch)}
    tail_names = [n for n, f in plan if isinstance(f, Tail)]
    present = len(tail_names) if not tails else draw(st.integers(0, len(tail_names)))
    ctx: dict[str, Any] = {}
    for name, field in plan:
        if name in switches:
            value: Any = draw(st.sampled_from(sorted(switches[name].cases)))
        elif isinstance(field, Tail):
            index = tail_names.index(name)
            value = draw(_field_strategy(field.inner, ctx, False)) if index < present else None
        else:
            value = draw(_field_strategy(field, ctx, name in small))
        if isinstance(value, list):
            value = tuple(value)
        ctx[name] = value
    return record(**ctx)


#: Every registered command class (profile-wide and cluster-specific).
ALL_COMMAND_CLASSES = sorted(
    {*GENERAL_COMMANDS.values(), *CLUSTER_COMMANDS.values()}, key=lambda c: c.__qualname__
)

#: Any registered typed ZCL command.
zcl_commands = st.sampled_from(ALL_COMMAND_CLASSES).flatmap(zcl_records)


@st.composite
def zcl_components(draw: st.DrawFn, *, last: bool = False) -> ZclComponent:
    """A plaintext typed GBZ component."""
    command = draw(zcl_commands)
    cluster = command.CLUSTER_ID if command.CLUSTER_ID is not None else draw(u16)
    fdt = draw(st.one_of(st.none(), u32))
    return ZclComponent.build(
        command,
        draw(u8),
        last=last,
        cluster_id=cluster,
        from_date_time=fdt,
        disable_default_response=draw(st.booleans()),
        direction=draw(st.sampled_from([0, 1])),
    )


@st.composite
def gbz_payloads(draw: st.DrawFn) -> GbzPayload:
    """Command/response-form typed GBZ payloads (decode with ``alert=False``)."""
    count = draw(st.integers(0, 3))
    comps = [draw(zcl_components(last=i == count - 1)) for i in range(count)]
    return GbzPayload(tuple(comps))


@st.composite
def gbz_alert_payloads(draw: st.DrawFn) -> GbzPayload:
    """Alert-form typed GBZ payloads carrying a typed alert detail."""
    code = draw(st.sampled_from(sorted(ALERT_DETAILS)))
    layout = ALERT_DETAILS[code]
    if layout is FutureDatedOutcome:
        detail: ZclRecord = FutureDatedOutcome(
            14, draw(u16), draw(st.integers(0, (1 << 64) - 1)), draw(u16), draw(u8), draw(u8)
        )
    elif layout is FirmwareHashAlert:
        detail = FirmwareHashAlert(0x09, 0x20, draw(st.binary(min_size=32, max_size=32)))
    else:
        detail = MeterIntegrityAlert(draw(u16))
    return GbzPayload((), GbzAlert(code, draw(u32), b"", draw(u8)), detail)


@st.composite
def gbcs_tunnel_commands(draw: st.DrawFn) -> TunnelGet | TunnelGetResponse | TunnelPut:
    """A GBCS tunnel command (the first bytes of a Transfer Data payload)."""
    kind = draw(st.sampled_from(["get", "get_response", "put"]))
    if kind == "get":
        return TunnelGet()
    if kind == "put":
        return TunnelPut(message=draw(st.binary(max_size=60)))
    return TunnelGetResponse(remaining=draw(u8), message=draw(st.binary(max_size=60)))
