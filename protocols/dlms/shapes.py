"""Values shaped by the fields the Use Case volume lists: records with named members.

Layer: protocols (sans-IO). :func:`shape_of` turns an object's :class:`Field` paths into a
tree (structures of named members, arrays of elements, typed leaves); :func:`read_shaped`
reads a Data value through it into a :class:`Shaped` tree and :func:`build_shaped` builds the
identical Data back (compact-arrays keep their type description). Profile generic buffers
become rows with column names; collections (IC 1 values of GBCS) become named records.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from smemu.protocols.dlms.apdu import format_obis
from smemu.protocols.dlms.cosem import (
    UNITS,
    ViewMismatchError,
    format_date,
    format_date_time,
    render,
)
from smemu.protocols.dlms.data import (
    Array,
    BitString,
    Boolean,
    CompactArray,
    Data,
    DoubleLong,
    DoubleLongUnsigned,
    Enum,
    Integer,
    Long,
    Long64,
    Long64Unsigned,
    LongUnsigned,
    NullData,
    OctetString,
    Structure,
    TypeDescription,
    Unsigned,
    Utf8String,
    VisibleString,
)
from smemu.protocols.dlms.object_types import Field

__all__ = ["Leaf", "ListOf", "Record", "Shape", "Shaped", "build_shaped", "read_shaped", "shape_of"]

#: Volume type names -> Data classes (longest names first: ``long`` is a prefix of others).
_TYPES: Final[tuple[tuple[str, type[Any]], ...]] = (
    ("double-long-unsigned", DoubleLongUnsigned), ("double-long", DoubleLong),
    ("long-unsigned", LongUnsigned), ("long64-unsigned", Long64Unsigned), ("long64", Long64),
    ("long", Long), ("unsigned", Unsigned), ("integer", Integer), ("enum", Enum),
    ("boolean", Boolean), ("octet-string", OctetString), ("visible-string", VisibleString),
    ("utf8-string", Utf8String), ("bit-string", BitString), ("null", NullData),
    ("structure", Structure), ("array", Array),
)  # fmt: skip


def data_class(type_name: str) -> type[Any] | None:
    """The Data class a volume type name denotes (None: any, e.g. ``EXCEPTIONAL``)."""
    for prefix, cls in _TYPES:
        if type_name.startswith(prefix):
            return cls
    return None


@dataclass(frozen=True, slots=True)
class Leaf:
    """A simple value."""

    name: str
    type: str  #: the volume's type name
    optional: bool = False  #: conditional (twin element, optional) member


@dataclass(frozen=True, slots=True)
class Record:
    """A structure of named members."""

    name: str
    members: tuple[Shape, ...]
    optional: bool = False


@dataclass(frozen=True, slots=True)
class ListOf:
    """An array (or compact-array) of ``low..high`` elements."""

    name: str
    element: Shape
    low: int
    high: int
    optional: bool = False


Shape = Leaf | Record | ListOf


def shape_of(fields: tuple[Field, ...]) -> Shape | None:
    """The value tree the fields describe (None when they describe no structure)."""
    root: dict[str, Any] = {}
    for field in fields:
        node = root
        segments = field.segments
        for i, (name, bounds) in enumerate(segments):
            last = i == len(segments) - 1
            entry = node.setdefault(name, {"bounds": bounds, "children": {}, "leaf": None})
            if last:
                entry["leaf"] = field
            node = entry["children"]
    if len(root) != 1:
        return None
    ((name, entry),) = root.items()
    return _build(name, entry)


def _build(name: str, entry: dict[str, Any]) -> Shape:
    bounds = entry["bounds"]
    children = entry["children"]
    leaf: Field | None = entry["leaf"]
    if children:
        members = tuple(_build(n, e) for n, e in children.items())
        optional = all(_optional(m) for m in members)
        inner: Shape = members[0] if bounds is not None and len(members) == 1 else Record(
            name, members, optional
        )
    else:
        assert leaf is not None
        inner = Leaf(name, leaf.type, leaf.condition is not None)
    if bounds is None:
        return inner
    return ListOf(name, inner, bounds[0], bounds[1], _optional(inner))


def _optional(shape: Shape) -> bool:
    return shape.optional


@dataclass(frozen=True, slots=True)
class Shaped:
    """A value read through a shape: Data at leaves, tuples of Shaped for records / lists."""

    shape: Shape
    value: Any  #: Leaf: the Data; Record: tuple of members' Shaped; ListOf: tuple of elements
    compact: TypeDescription | None = None  #: ListOf read from a compact-array: its type
    members: tuple[Shape, ...] = ()  #: Record: the members present (optional ones may lack)

    def to_json(self) -> Any:
        return _json(self)


def read_shaped(shape: Shape, value: Data, path: str = "") -> Shaped:
    """Read ``value`` through ``shape``.

    :raises ViewMismatchError: the value has another structure.
    """
    where = f"{path}.{shape.name}" if path else shape.name
    if isinstance(shape, Leaf):
        cls = data_class(shape.type)
        if cls is not None and not isinstance(value, cls):
            raise ViewMismatchError(f"expected {shape.type}", path=where)
        return Shaped(shape, value)
    if isinstance(shape, Record):
        if not isinstance(value, Structure):
            raise ViewMismatchError("expected a structure", path=where)
        members = shape.members
        if len(value.items) != len(members):
            members = tuple(m for m in members if not m.optional)
            if len(value.items) != len(members):
                raise ViewMismatchError(
                    f"expected a structure of {len(shape.members)} elements", path=where
                )
        read = tuple(read_shaped(m, v, where) for m, v in zip(members, value.items, strict=True))
        return Shaped(shape, read, members=members)
    if isinstance(value, CompactArray):
        items, compact = value.values, value.description
    elif isinstance(value, Array):
        items, compact = value.items, None
    else:
        raise ViewMismatchError("expected an array", path=where)
    if len(items) > shape.high:
        raise ViewMismatchError(f"expected at most {shape.high} elements", path=where)
    elements = tuple(read_shaped(shape.element, v, f"{where}[{i}]") for i, v in enumerate(items))
    return Shaped(shape, elements, compact)


def build_shaped(shaped: Shaped) -> Data:
    """The Data of a shaped value (the reverse of :func:`read_shaped`)."""
    shape = shaped.shape
    if isinstance(shape, Leaf):
        value: Data = shaped.value
        return value
    built = tuple(build_shaped(v) for v in shaped.value)
    if isinstance(shape, Record):
        return Structure(built)
    if shaped.compact is not None:
        return CompactArray(shaped.compact, built)
    return Array(built)


# ------------------------------------------------------------------------------ rendering

_EPOCH: Final = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def _leaf_json(name: str, type_name: str, value: Data) -> Any:
    lowered = name.lower()
    if isinstance(value, OctetString):
        if len(value.value) == 12 and type_name.startswith("octet-string(12)"):
            return format_date_time(value.value)
        if len(value.value) == 5 and type_name.startswith("octet-string(5)"):
            return format_date(value.value)
        if len(value.value) == 6 and type_name.startswith("octet-string(6)"):
            return format_obis(value.value)
        if len(value.value) == 8 and ("mac" in lowered or "eui" in lowered):
            return "-".join(f"{b:02X}" for b in value.value)
    if isinstance(value, DoubleLongUnsigned) and ("timestamp" in lowered or lowered == "time"):
        return (_EPOCH + datetime.timedelta(seconds=value.value)).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, Enum) and lowered.endswith("unit"):
        return UNITS.get(value.value, f"unit {value.value}")
    return render(value)


def _json(shaped: Shaped) -> Any:
    shape = shaped.shape
    if isinstance(shape, Leaf):
        return _leaf_json(shape.name, shape.type, shaped.value)
    if isinstance(shape, ListOf):
        return [_json(v) for v in shaped.value]
    out: dict[str, Any] = {}
    scales: dict[str, tuple[int, int]] = {}
    for member, value in zip(shaped.members, shaped.value, strict=True):
        out[member.name] = _json(value)
        if isinstance(member, Record):
            scales.update(_scaler_units(value))
    for name, (scaler, unit) in scales.items():
        raw = shaped_leaf(shaped, f"{name}_value")
        if raw is not None:
            text = UNITS.get(unit, f"unit {unit}")
            out[name] = f"{Decimal(raw).scaleb(scaler)} {text}"
    return out


def _scaler_units(shaped: Shaped) -> dict[str, tuple[int, int]]:
    """``{prefix: (scaler, unit)}`` of a scal_unit_type record with ``prefix_scaler/_unit``."""
    leaves = {
        m.name: v.value
        for m, v in zip(shaped.members, shaped.value, strict=True)
        if isinstance(m, Leaf)
    }
    out = {}
    for name, value in leaves.items():
        if name.endswith("_scaler") and isinstance(value, Integer):
            prefix = name[: -len("_scaler")]
            unit = leaves.get(f"{prefix}_unit")
            if isinstance(unit, Enum):
                out[prefix] = (value.value, unit.value)
    return out


def shaped_leaf(shaped: Shaped, name: str) -> int | None:
    """The integer value of the record member ``name`` (None if absent or not an integer)."""
    for member, value in zip(shaped.members, shaped.value, strict=True):
        if member.name == name and isinstance(member, Leaf):
            raw = getattr(value.value, "value", None)
            return raw if isinstance(raw, int) else None
    return None
