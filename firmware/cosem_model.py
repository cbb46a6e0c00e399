"""The ESME's COSEM object model, built from the Use Case volume's object lists.

Layer: firmware. Every (class, OBIS, attribute / method) that an ESME use case names in its
"DLMS COSEM specific content" table (:func:`smemu.protocols.dlms.objects.objects_for`) is an
entry of :data:`ESME_MODEL`. An attribute holds a value of the DLMS type and structure the
volume gives (:mod:`smemu.protocols.dlms.shapes`); until something writes it, it holds the
default a freshly commissioned meter holds (:func:`default_value`): zero for numbers, false
for booleans, the constant where GBCS fixes one, "not specified" for dates and times, empty
lists (or the least number of elements the volume allows) for arrays, except the arrays
whose length GBCS fixes (:data:`_FIXED_LENGTH_ARRAYS`), which hold their full length.

Values live in NVM through the machine's :class:`~smemu.firmware.common.machine.Tx`, one
key per attribute (:func:`attribute_key`), encoded in A-XDR. :func:`generic_table` turns
the model into a :data:`~smemu.firmware.common.cosem.ObjectTable` whose getters read NVM (or
the default), whose setters check the value against the object's shape (``type-unmatched``
otherwise) and whose methods succeed without a state effect; a device overlays its own
handlers for the objects with behaviour. Attributes that no updating use case writes, and
the values of registers and profile buffers, are read-only (``read-write-denied``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from smemu.errors import DecodeError
from smemu.firmware.common.cosem import (
    CosemContext,
    CosemFailure,
    CosemObject,
    Getter,
    ObjectTable,
    Setter,
)
from smemu.firmware.common.machine import Tx
from smemu.protocols.dlms import axdr
from smemu.protocols.dlms.apdu import DataAccessResult
from smemu.protocols.dlms.cosem import ViewMismatchError
from smemu.protocols.dlms.data import (
    Array,
    BitString,
    Boolean,
    CompactArray,
    Data,
    NullData,
    OctetString,
    Structure,
    TypeDescription,
    Utf8String,
    VisibleString,
)
from smemu.protocols.dlms.object_types import CosemObject as VolumeObject
from smemu.protocols.dlms.objects import objects_for
from smemu.protocols.dlms.shapes import (
    Leaf,
    ListOf,
    Record,
    Shape,
    data_class,
    read_shaped,
    shape_of,
)
from smemu.protocols.gbcs.use_cases import USE_CASES, Device, Kind, PayloadFamily

#: A COSEM date-time with every field "not specified" (deviation 0x8000, status 0xFF).
UNSPECIFIED_DATE_TIME: Final = bytes.fromhex("FFFFFFFFFFFFFFFFFF8000FF")
#: A COSEM date with every field "not specified".
UNSPECIFIED_DATE: Final = bytes.fromhex("FFFFFFFFFF")
_SIZE: Final = re.compile(r"\((\d+)\)")
_HEX: Final = re.compile(r"\|\|0x([0-9A-Fa-f]*)")
_BITS: Final = re.compile(r"\|\|0b([01]+)")
_INT: Final = re.compile(r"^-?\d+$")
#: Interface classes whose value attribute (2) is a measurement, never written remotely.
_MEASURED: Final = frozenset({3, 4, 5, 7})
#: Octet-string sizes that are formats (EUI-64, OBIS, date, date-time ...), not maxima.
_FIXED_SIZES: Final = frozenset({1, 2, 4, 5, 6, 8, 12, 16, 20})
#: Profile Generic (IC 7) buffer: a compact-array (gbcs-reference.md 7.3).
_PROFILE: Final = 7
#: Data Protection (IC 30): get_protected_attributes returns other objects encrypted.
_DATA_PROTECTION: Final = 30
#: Arrays whose number of elements GBCS fixes at the volume's upper bound, whatever is
#: configured: a Register Monitor's thresholds (three block thresholds per TOU rate, two
#: instantaneous power thresholds -- the volume writes ``[1of2..2]``) and a Charge's price
#: table (every TOU and block price of the matrix).
_FIXED_LENGTH_ARRAYS: Final = frozenset({"thresholds", "charge_table"})


def attribute_key(class_id: int, obis: bytes, index: int) -> str:
    """The NVM key holding one attribute's A-XDR value."""
    return f"cosem/{class_id}/{obis.hex()}/{index}"


@dataclass(frozen=True, slots=True)
class ModelAttribute:
    """One attribute of the model: what the volume says of it, and whether it is writable."""

    row: VolumeObject
    shape: Shape | None
    writable: bool


@dataclass(frozen=True, slots=True)
class Model:
    """Attributes and methods by (class id, logical name)."""

    attributes: dict[tuple[int, bytes], dict[int, ModelAttribute]]
    methods: dict[tuple[int, bytes], dict[int, VolumeObject]]
    #: Data Protection (IC 30) logical name -> the attributes get_protected_attributes
    #: returns, encrypted, in the use case's order (gbcs-reference.md 4.5, 7.6)
    protected: dict[bytes, tuple[ModelAttribute, ...]]


# ------------------------------------------------------------------------------ defaults


def _size(type_name: str) -> int | None:
    match = _SIZE.search(type_name)
    return None if match is None else int(match.group(1))


def _leaf_default(type_name: str, constant: str | None) -> Data:
    """The default of a simple value: the GBCS constant, else the type's 'nothing yet'."""
    cls = data_class(type_name)
    if cls is None or cls is NullData:
        return NullData()
    size = _size(type_name)
    if constant is not None:
        fixed = _constant(cls, type_name, constant)
        if fixed is not None:
            return fixed
    if cls is OctetString:
        if size == len(UNSPECIFIED_DATE_TIME):
            return OctetString(UNSPECIFIED_DATE_TIME)
        if size == len(UNSPECIFIED_DATE):
            return OctetString(UNSPECIFIED_DATE)
        return OctetString(bytes(size if size in _FIXED_SIZES else 0))
    if cls is VisibleString:
        return VisibleString(b"")
    if cls is Utf8String:
        return Utf8String(b"")
    if cls is BitString:
        bits = size or 0
        return BitString(bits, bytes((bits + 7) // 8))
    if cls is Boolean:
        return Boolean(0)
    if cls is Structure:
        return Structure(())
    if cls is Array:
        return Array(())
    value: Data = cls(0)
    return value


def _constant(cls: type, type_name: str, constant: str) -> Data | None:
    """A GBCS constant (``3``, ``||0x0100010800FF``, ``||0b1111...``) as a value of ``cls``."""
    hex_match = _HEX.search(constant)
    bits_match = _BITS.search(constant)
    text = constant.strip()
    try:
        if cls is OctetString and hex_match is not None:
            return OctetString(bytes.fromhex(hex_match.group(1)))
        if cls is BitString and bits_match is not None:
            size = _size(type_name) or len(bits_match.group(1))
            bits = tuple(c == "1" for c in bits_match.group(1)[:size])
            return BitString.from_bits(bits + (False,) * (size - len(bits)))
        if cls is BitString and hex_match is not None:
            raw = bytes.fromhex(hex_match.group(1))
            return BitString(_size(type_name) or 8 * len(raw), raw)
        if cls is Boolean and hex_match is not None:
            return Boolean(int(hex_match.group(1) or "0", 16))
        if hex_match is not None and hex_match.group(1):
            number: Data = cls(int(hex_match.group(1), 16))
            return number
        if _INT.match(text):
            number = cls(int(text))
            return number
    except (ValueError, TypeError):
        return None
    return None


def _shape_default(shape: Shape, constants: dict[str, tuple[str, str | None]]) -> Data:
    if isinstance(shape, Leaf):
        type_name, constant = constants.get(shape.name, (shape.type, None))
        return _leaf_default(type_name, constant)
    if isinstance(shape, Record):
        members = [m for m in shape.members if not m.optional] or list(shape.members)
        return Structure(tuple(_shape_default(m, constants) for m in members))
    count = shape.high if shape.name in _FIXED_LENGTH_ARRAYS else shape.low
    return Array(tuple(_shape_default(shape.element, constants) for _ in range(count)))


def _description(shape: Shape) -> TypeDescription:
    """The compact-array type description of one element of ``shape``."""
    if isinstance(shape, Leaf):
        cls = data_class(shape.type)
        tag = getattr(cls, "TAG", None)
        return TypeDescription(tag if isinstance(tag, int) else NullData.TAG)
    if isinstance(shape, Record):
        members = [m for m in shape.members if not m.optional] or list(shape.members)
        return TypeDescription(Structure.TAG, 0, tuple(_description(m) for m in members))
    # an array inside a compact-array entry has a fixed size: the volume's upper bound
    return TypeDescription(Array.TAG, shape.high, (_description(shape.element),))


def profile_description(row: VolumeObject) -> TypeDescription | None:
    """The type description of a Profile Generic buffer's entries (None: not a buffer)."""
    shape = shape_of(row.fields) if row.fields else None
    if row.class_id != _PROFILE or not isinstance(shape, ListOf):
        return None
    return _description(shape.element)


def default_value(row: VolumeObject) -> Data:
    """What a freshly commissioned meter holds in the attribute ``row`` describes."""
    shape = shape_of(row.fields) if row.fields else None
    description = profile_description(row)
    if description is not None:
        return CompactArray(description, ())  # a new meter has logged nothing yet
    if shape is not None:
        constants = {f.segments[-1][0]: (f.type, f.constant) for f in row.fields}
        return _shape_default(shape, constants)
    if row.fields:
        (only,) = row.fields[:1]
        return _leaf_default(only.type, only.constant)
    return _leaf_default(row.type or "", None)


# ---------------------------------------------------------------------------- validation


def check_value(attribute: ModelAttribute, value: Data) -> None:
    """Raise ``type-unmatched`` unless ``value`` has the attribute's type and structure."""
    row = attribute.row
    if attribute.shape is not None:
        try:
            read_shaped(attribute.shape, value)
        except ViewMismatchError as exc:
            raise CosemFailure(DataAccessResult.TYPE_UNMATCHED) from exc
        return
    type_name = row.type or (row.fields[0].type if row.fields else "")
    cls = data_class(type_name)
    if cls is None or cls is NullData:
        return
    if cls is Array and isinstance(value, CompactArray):
        return
    if not isinstance(value, cls):
        raise CosemFailure(DataAccessResult.TYPE_UNMATCHED)
    size = _size(type_name)
    if cls is OctetString and size is not None and isinstance(value, OctetString):
        fits = len(value.value) == size if size in _FIXED_SIZES else len(value.value) <= size
        if not fits:
            raise CosemFailure(DataAccessResult.TYPE_UNMATCHED)


# --------------------------------------------------------------------------------- model


def device_use_cases(device: Device) -> tuple[str, ...]:
    """The DLMS command use cases addressed to ``device``, in registry order."""
    return tuple(
        u.id
        for u in USE_CASES.values()
        if device in (u.devices or ())
        and u.kind is Kind.COMMAND
        and PayloadFamily.DLMS in u.families
    )


def build_model(use_cases: Iterable[str]) -> Model:
    """Collect the attributes and methods the use cases access (first row of each wins)."""
    attributes: dict[tuple[int, bytes], dict[int, ModelAttribute]] = {}
    methods: dict[tuple[int, bytes], dict[int, VolumeObject]] = {}
    written: set[tuple[int, bytes, int]] = set()
    rows: list[VolumeObject] = []
    groups: dict[bytes, list[VolumeObject]] = {}
    for uc in use_cases:
        objs = objects_for(uc) or ()
        update = USE_CASES[uc].update is not False  # None: outside the volume, may write
        hidden = [row for row in objs if row.protected]
        for row in objs:
            if row.class_id == 0:
                continue
            rows.append(row)
            if row.class_id == _DATA_PROTECTION and row.method and hidden:
                groups.setdefault(row.obis, hidden)
            if update and not row.method and not row.protected:
                written.add((row.class_id, row.obis, row.index))
    for row in rows:
        key = (row.class_id, row.obis)
        if row.method:
            methods.setdefault(key, {}).setdefault(row.index, row)
            continue
        measured = row.class_id in _MEASURED and row.index == 2
        writable = (row.class_id, row.obis, row.index) in written and not measured
        shape = shape_of(row.fields) if row.fields else None
        attributes.setdefault(key, {}).setdefault(row.index, ModelAttribute(row, shape, writable))
    protected = {
        obis: tuple(attributes[(r.class_id, r.obis)][r.index] for r in group)
        for obis, group in groups.items()
    }
    return Model(attributes, methods, protected)


def stored_value(tx: Tx, class_id: int, obis: bytes, index: int) -> Data | None:
    """An attribute's value in NVM, or ``None`` when it was never written.

    A value that cannot be read back is as good as never written.
    """
    raw = tx.get(attribute_key(class_id, obis, index))
    if raw is None:
        return None
    try:
        return axdr.decode_exact(raw)
    except DecodeError:
        return None


def load(ctx: CosemContext, attribute: ModelAttribute) -> Data:
    """The attribute's value in NVM, or its default."""
    row = attribute.row
    value = stored_value(ctx.tx, row.class_id, row.obis, row.index)
    return default_value(row) if value is None else value


def store(ctx: CosemContext, class_id: int, obis: bytes, index: int, value: Data) -> None:
    """Write an attribute's value to NVM (through this step's Tx)."""
    ctx.tx.put(attribute_key(class_id, obis, index), axdr.encode(value))


def _getter(attribute: ModelAttribute) -> Getter:
    return lambda ctx: load(ctx, attribute)


def _setter(attribute: ModelAttribute) -> Setter:
    row = attribute.row

    def set_value(ctx: CosemContext, value: Data) -> None:
        check_value(attribute, value)
        store(ctx, row.class_id, row.obis, row.index, value)

    return set_value


def _no_effect(ctx: CosemContext, value: Data) -> Data:
    """A method whose effect the volume does not define on state this model keeps."""
    return NullData()


def generic_table(model: Model) -> dict[tuple[int, bytes], CosemObject]:
    """The model as an object table with NVM-backed getters and setters."""
    table: dict[tuple[int, bytes], CosemObject] = {}
    for key in model.attributes.keys() | model.methods.keys():
        attrs = model.attributes.get(key, {})
        table[key] = CosemObject(
            get={i: _getter(a) for i, a in attrs.items()},
            set={i: _setter(a) for i, a in attrs.items() if a.writable},
            act=dict.fromkeys(model.methods.get(key, {}), _no_effect),
        )
    return table


def overlay(base: ObjectTable, special: ObjectTable) -> dict[tuple[int, bytes], CosemObject]:
    """``base`` with the handlers of ``special`` taking precedence, attribute by attribute."""
    out = dict(base)
    for key, obj in special.items():
        under = out.get(key)
        if under is None:
            out[key] = obj
            continue
        out[key] = CosemObject(
            get={**under.get, **obj.get}, set={**under.set, **obj.set}, act={**under.act, **obj.act}
        )
    return out

