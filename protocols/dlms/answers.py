"""Typing DLMS items with the objects their use case defines.

Layer: protocols (sans-IO). Requests name their objects on the wire: they are checked
against the use case's list (a mismatch becomes a note, never an exception) and set values
without a class-keyed view are read through the object's fields. Responses name none: item
*i* answers the use case's object *i*, and is read through that object's view. Decrypted
Data Protection responses are read through the protected objects' views; data-notification
bodies through the alert's fields.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Any

from smemu.protocols.dlms import axdr
from smemu.protocols.dlms.apdu import (
    AccessRequestMessage,
    AccessResponseMessage,
    DataNotificationMessage,
    DlmsMessage,
)
from smemu.protocols.dlms.cosem import ViewMismatchError
from smemu.protocols.dlms.data import Data, NullData, Structure
from smemu.protocols.dlms.object_types import CosemObject
from smemu.protocols.dlms.objects import answered_objects, check_request, objects_for
from smemu.protocols.dlms.shapes import (
    Leaf,
    ListOf,
    Record,
    Shape,
    Shaped,
    build_shaped,
    data_class,
    read_shaped,
    shape_of,
)
from smemu.protocols.dlms.views import DlmsItem, ViewSpec, class_view

__all__ = ["apply_use_case", "object_view", "shape_view"]


def shape_view(name: str, shape: Shape) -> ViewSpec:
    """A view reading Data through a field shape (records, profile rows, typed leaves)."""

    def parse(value: Data) -> Shaped:
        return read_shaped(shape, value)

    def show(typed: Shaped) -> Any:
        return typed.to_json()

    return ViewSpec(name, parse, show, build_shaped)


@functools.lru_cache(maxsize=1024)
def object_view(obj: CosemObject) -> ViewSpec | None:
    """The view an object's value is read through: its class-keyed view, else the shape of
    its fields, else its simple type (None: the volume says nothing to type it with)."""
    if obj.class_id == 0:
        shape = shape_of(obj.fields)
        return None if shape is None else shape_view("alert", shape)
    spec = class_view(obj.class_id, obj.obis, obj.method, obj.index)
    if spec is not None:
        return spec
    shape = shape_of(obj.fields)
    if shape is not None:
        if isinstance(shape, ListOf) and obj.class_id == 7:
            return shape_view("profile", shape)
        return shape_view("record" if isinstance(shape, Record) else "list", shape)
    if obj.type and data_class(obj.type) is not None:
        return shape_view("value", Leaf(obj.name, obj.type, obj.condition is not None))
    return None


def _read(item: DlmsItem, obj: CosemObject, value: Data) -> tuple[DlmsItem, int]:
    """Type ``value`` of ``item`` through ``obj``'s view; a misfit is kept generic and noted."""
    spec = object_view(obj)
    changes: dict[str, Any] = {"label": obj.label}
    if spec is None or isinstance(value, NullData) or item.view is not None:
        return dataclasses.replace(item, **changes), 0
    try:
        typed = spec.parse(value)
    except ViewMismatchError as exc:
        changes["view_error"] = f"{obj.ref}: {exc}"
        return dataclasses.replace(item, **changes), len(axdr.encode(value))
    if spec.build(typed) != value:
        changes["view_error"] = f"{obj.ref}: rebuilt value differs"
        return dataclasses.replace(item, **changes), len(axdr.encode(value))
    return dataclasses.replace(item, view=spec.name, spec=spec, typed=typed, **changes), 0


def _request(
    items: list[DlmsItem], objects: Sequence[CosemObject]
) -> tuple[list[DlmsItem], int, list[str]]:
    accesses = [
        (i.class_id, i.obis, i.access == "action", i.index)
        for i in items
        if i.class_id is not None and i.obis is not None and i.index is not None
    ]
    notes = check_request(objects, accesses)
    out, missed = [], 0
    for item in items:
        obj = next(
            (o for o in objects if item.class_id is not None and item.obis is not None
             and item.index is not None
             and o.matches(item.class_id, item.obis, item.access == "action", item.index)),
            None,
        )  # fmt: skip
        if obj is None:
            out.append(item)
            continue
        if item.access == "action" and obj.class_id == 30:
            out.append(dataclasses.replace(item, label=obj.label))
            continue
        typed, count = _read(item, obj, item.value)
        out.append(typed)
        missed += count
    return out, missed, notes


def _compatible(item: DlmsItem, obj: CosemObject) -> bool:
    return (item.access == "action-result") == obj.method


def _align(
    items: Sequence[DlmsItem], objects: Sequence[CosemObject]
) -> list[CosemObject | None]:
    """Response item -> object answered: by position when the counts agree, else the next
    object of the same kind (attribute / method) whose view fits the value."""
    if len(items) == len(objects) and all(
        _compatible(i, o) for i, o in zip(items, objects, strict=True)
    ):
        return list(objects)
    out: list[CosemObject | None] = []
    position = 0
    for item in items:
        found = None
        for i in range(position, len(objects)):
            obj = objects[i]
            if not _compatible(item, obj):
                continue
            spec = object_view(obj)
            if spec is not None and not isinstance(item.value, NullData):
                try:
                    spec.parse(item.value)
                except ViewMismatchError:
                    continue
            found = i
            break
        out.append(None if found is None else objects[found])
        if found is not None:
            position = found + 1
    return out


def _response(
    items: list[DlmsItem], objects: Sequence[CosemObject], plaintext_objects: list[CosemObject]
) -> tuple[list[DlmsItem], int, list[str]]:
    wanted = answered_objects(objects)
    notes = []
    if len(items) != len(wanted):
        notes.append(
            f"response has {len(items)} items, the use case lists {len(wanted)} objects: "
            "aligned by kind and shape"
        )
    out: list[DlmsItem] = []
    missed = 0
    for item, obj in zip(items, _align(items, wanted), strict=True):
        if obj is None:
            notes.append(f"response item {len(out)}: no object of the use case answers it")
            out.append(item)
            continue
        answered = dataclasses.replace(item, answers=obj.ref)
        typed, count = _read(answered, obj, item.value)
        if typed.plaintext is not None and plaintext_objects:
            typed, extra = _plaintext(typed, plaintext_objects)
            count += extra
        out.append(typed)
        missed += count
    return out, missed, notes


def _plaintext(item: DlmsItem, objects: list[CosemObject]) -> tuple[DlmsItem, int]:
    """Read a decrypted protected block through the protected object(s)."""
    assert item.plaintext is not None
    value = item.plaintext
    specs = [object_view(o) for o in objects]
    if not all(s is not None for s in specs):
        return item, 0
    spec = _tuple_view([s for s in specs if s is not None])
    try:
        typed = spec.parse(value)
    except ViewMismatchError as exc:
        error = f"{objects[0].ref}: {exc}"
        return dataclasses.replace(item, view_error=error), len(axdr.encode(value))
    if spec.build(typed) != value:
        error = f"{objects[0].ref}: rebuilt plaintext differs"
        return dataclasses.replace(item, view_error=error), len(axdr.encode(value))
    return dataclasses.replace(item, plaintext_spec=spec, plaintext_typed=typed), 0


def _tuple_view(specs: list[ViewSpec]) -> ViewSpec:
    """A structure whose elements are read through ``specs`` in order."""

    def parse(value: Data) -> tuple[Any, ...]:
        if not isinstance(value, Structure) or len(value.items) != len(specs):
            raise ViewMismatchError(f"expected a structure of {len(specs)} elements")
        return tuple(s.parse(v) for s, v in zip(specs, value.items, strict=True))

    def show(typed: tuple[Any, ...]) -> Any:
        return [s.show(t) for s, t in zip(specs, typed, strict=True)]

    def build(typed: tuple[Any, ...]) -> Data:
        return Structure(tuple(s.build(t) for s, t in zip(specs, typed, strict=True)))

    return ViewSpec("protected_objects", parse, show, build)


def _alert(items: list[DlmsItem], objects: Sequence[CosemObject]) -> tuple[list[DlmsItem], int]:
    body_objects = [o for o in objects if o.class_id == 0]
    if not body_objects or not items:
        return items, 0
    spec = object_view(body_objects[0])
    body = items[0].value
    if spec is None or not isinstance(body, Structure) or len(body.items) < 2:
        return items, 0
    whole = _alert_view(spec)
    try:
        typed = whole.parse(body)
    except ViewMismatchError as exc:
        error = f"alert body: {exc}"
        return [dataclasses.replace(items[0], view_error=error), *items[1:]], len(
            axdr.encode(Structure(body.items[2:]))
        )
    first = dataclasses.replace(
        items[0], view=whole.name, spec=whole, typed=typed, label=body_objects[0].label
    )
    return [first, *items[1:]], 0


def _alert_view(fields: ViewSpec) -> ViewSpec:
    """The notification body: alert code, time stamp, then the alert's own fields."""

    def parse(value: Data) -> tuple[Data, Data, Any]:
        if not isinstance(value, Structure) or len(value.items) < 2:
            raise ViewMismatchError("expected the alert code and time stamp", path="body")
        return value.items[0], value.items[1], fields.parse(Structure(value.items[2:]))

    def show(typed: tuple[Data, Data, Any]) -> Any:
        return fields.show(typed[2])

    def build(typed: tuple[Data, Data, Any]) -> Data:
        rest = fields.build(typed[2])
        assert isinstance(rest, Structure)
        return Structure((typed[0], typed[1], *rest.items))

    return ViewSpec("alert", parse, show, build)


def apply_use_case(
    message: DlmsMessage, items: list[DlmsItem], use_case: str
) -> tuple[list[DlmsItem], int, list[str]]:
    """Type ``items`` with the objects of ``use_case``: (items, undecoded bytes, notes)."""
    objects = objects_for(use_case)
    if objects is None:
        return items, 0, []
    if isinstance(message, AccessRequestMessage):
        return _request(items, objects)
    if isinstance(message, AccessResponseMessage):
        protected = [o for o in objects if o.protected]
        return _response(items, objects, protected)
    if isinstance(message, DataNotificationMessage):
        typed, missed = _alert(items, objects)
        return typed, missed, []
    return items, 0, []
