"""A table-driven COSEM server: answers DLMS access-requests from a table of objects.

Layer: firmware. gbcs-reference.md 7.2 and 7.5: each access-request specification names
(class id, logical name, attribute or method); the server looks the object up in the
device's :data:`ObjectTable`, calls the handler, and returns one list-of-data entry and
one response specification per request specification, in order. Unknown objects answer
``object-undefined``, unknown attributes or methods ``object-unavailable``; a handler
raising :class:`CosemFailure` answers the result it names. Handlers write through the
:class:`CosemContext`'s :class:`~smemu.firmware.common.machine.Tx`, so a request is still
all-or-nothing at the step level.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from smemu.firmware.common import faults
from smemu.firmware.common.credentials import Credentials
from smemu.firmware.common.machine import Tx
from smemu.protocols.dlms import apdu
from smemu.protocols.dlms.apdu import ActionResult, DataAccessResult
from smemu.protocols.dlms.axdr import Data
from smemu.protocols.dlms.data import (
    Array,
    CompactArray,
    DoubleLongUnsigned,
    NullData,
    OctetString,
    Structure,
)
from smemu.protocols.gbcs.frame import GeneralSigningMessage


@dataclass(slots=True)
class CosemContext:
    """What a handler may use: the step's NVM view, the command, the device's keys."""

    tx: Tx
    command: GeneralSigningMessage
    credentials: Credentials

    @property
    def now(self) -> datetime:
        return self.tx.now


class CosemFailure(Exception):  # noqa: N818 - a control-flow signal, not an error class
    """Raised by a handler to answer a non-success result code."""

    def __init__(self, result: int) -> None:
        super().__init__(result)
        self.result = result


#: Selective access by range (range_descriptor), the only selector GBCS uses (7.2).
RANGE_SELECTOR = 1

Getter = Callable[[CosemContext], Data]
Setter = Callable[[CosemContext, Data], None]
Method = Callable[[CosemContext, Data], Data]


@dataclass(frozen=True, slots=True)
class CosemObject:
    """One interface-class instance: its readable, writable attributes and methods."""

    get: Mapping[int, Getter] = field(default_factory=dict)
    set: Mapping[int, Setter] = field(default_factory=dict)
    act: Mapping[int, Method] = field(default_factory=dict)


#: (class id, logical name) -> object
ObjectTable = Mapping[tuple[int, bytes], CosemObject]


def _get(table: ObjectTable, ctx: CosemContext, spec: apdu.AccessRequestGet) -> tuple[Data, int]:
    obj = table.get((spec.class_id, spec.instance_id))
    if obj is None:
        return NullData(), DataAccessResult.OBJECT_UNDEFINED
    getter = obj.get.get(spec.attribute_id)
    if getter is None:
        return NullData(), DataAccessResult.OBJECT_UNAVAILABLE
    try:
        return getter(ctx), DataAccessResult.SUCCESS
    except CosemFailure as failure:
        return NullData(), failure.result


def _get_selected(
    table: ObjectTable, ctx: CosemContext, spec: apdu.AccessRequestGetWithSelection
) -> tuple[Data, int]:
    """A read with selective access: selector 1 (range_descriptor) on a list of entries."""
    plain = apdu.AccessRequestGet(spec.class_id, spec.instance_id, spec.attribute_id)
    value, result = _get(table, ctx, plain)
    if result != DataAccessResult.SUCCESS:
        return value, result
    if spec.access_selector != RANGE_SELECTOR:
        return NullData(), DataAccessResult.OTHER_REASON
    window = _range_window(spec.access_parameters)
    if window is None:
        return NullData(), DataAccessResult.TYPE_UNMATCHED
    return select_range(value, *window), DataAccessResult.SUCCESS


def _range_window(params: Data) -> tuple[Data, Data] | None:
    """(from_value, to_value) of a range_descriptor (Blue Book IC 7, selector 1)."""
    if not isinstance(params, Structure) or len(params.items) < 3:
        return None
    return params.items[1], params.items[2]


def _instant_key(value: Data) -> tuple[int, bytes] | None:
    """An orderable key of a time stamp: UTC seconds, or a COSEM date-time without its
    day-of-week, deviation and status octets."""
    if isinstance(value, DoubleLongUnsigned):
        return (0, value.value.to_bytes(4, "big"))
    if isinstance(value, OctetString) and len(value.value) == 12:
        raw = value.value
        return (1, raw[0:4] + raw[5:9])
    return None


def _entry_time(entry: Data) -> tuple[int, bytes] | None:
    if isinstance(entry, Structure) and entry.items:
        return _instant_key(entry.items[0])
    return None


def _within(
    at: tuple[int, bytes] | None, low: tuple[int, bytes] | None, high: tuple[int, bytes] | None
) -> bool:
    if at is None or low is None or high is None or not at[0] == low[0] == high[0]:
        return True  # nothing to compare: keep the entry
    return low <= at <= high


def select_range(value: Data, start: Data, end: Data) -> Data:
    """The entries of a buffer whose time stamp (first column) lies in [start, end].

    Entries without a comparable time stamp are kept; so are all entries when the bounds
    are not time stamps of the same kind as the entries'.
    """
    if isinstance(value, CompactArray):
        entries = value.values
    elif isinstance(value, Array):
        entries = value.items
    else:
        return value
    low, high = _instant_key(start), _instant_key(end)
    kept = [entry for entry in entries if _within(_entry_time(entry), low, high)]
    if isinstance(value, CompactArray):
        return CompactArray(value.description, tuple(kept))
    return Array(tuple(kept))


def _set(table: ObjectTable, ctx: CosemContext, spec: apdu.AccessRequestSet, value: Data) -> int:
    obj = table.get((spec.class_id, spec.instance_id))
    if obj is None:
        return DataAccessResult.OBJECT_UNDEFINED
    setter = obj.set.get(spec.attribute_id)
    if setter is None:
        return DataAccessResult.READ_WRITE_DENIED
    try:
        setter(ctx, value)
    except CosemFailure as failure:
        return failure.result
    return DataAccessResult.SUCCESS


def _act(
    table: ObjectTable, ctx: CosemContext, spec: apdu.AccessRequestAction, value: Data
) -> tuple[Data, int]:
    obj = table.get((spec.class_id, spec.instance_id))
    if obj is None:
        return NullData(), ActionResult.OBJECT_UNDEFINED
    method = obj.act.get(spec.method_id)
    if method is None:
        return NullData(), ActionResult.OBJECT_UNAVAILABLE
    try:
        return method(ctx, value), ActionResult.SUCCESS
    except CosemFailure as failure:
        return NullData(), failure.result


def access_point(spec: apdu.AccessRequestSpecification) -> faults.AccessPoint | None:
    """The attribute or method a request specification touches (None: an unknown kind)."""
    if isinstance(spec, (apdu.AccessRequestGet, apdu.AccessRequestGetWithSelection)):
        access, index = faults.Access.GET, spec.attribute_id
    elif isinstance(spec, apdu.AccessRequestSet):
        access, index = faults.Access.SET, spec.attribute_id
    elif isinstance(spec, apdu.AccessRequestAction):
        access, index = faults.Access.ACTION, spec.method_id
    else:
        return None
    return faults.AccessPoint(access, spec.class_id, spec.instance_id, index)


def _response_spec(
    spec: apdu.AccessRequestSpecification, result: int
) -> apdu.AccessResponseSpecification:
    if isinstance(spec, (apdu.AccessRequestGet, apdu.AccessRequestGetWithSelection)):
        return apdu.AccessResponseGet(result)
    if isinstance(spec, apdu.AccessRequestAction):
        return apdu.AccessResponseAction(result)
    return apdu.AccessResponseSet(result)


def serve(
    table: ObjectTable, ctx: CosemContext, request: apdu.AccessRequestMessage
) -> apdu.AccessResponseMessage:
    """Answer every specification of ``request`` from ``table``, in order.

    An access point in a fault state (:mod:`~smemu.firmware.common.faults`) is not executed
    and answers its fault's result code. Once one instruction has failed, the rest of the
    command is not executed: each later specification answers ``other-reason`` (250) with
    null data -- the rule the Use Case volume states for a failed instruction ("return ...
    other-reason for this and subsequent DLMS instructions in the Command"). Earlier
    instructions stay executed, as their success results report.
    """
    data: list[Data] = []
    results: list[apdu.AccessResponseSpecification] = []
    values = request.list_of_data
    failed = False
    out: Data
    result: int
    for index, spec in enumerate(request.specifications):
        value = values[index] if index < len(values) else NullData()
        point = access_point(spec)
        fault = None if point is None or failed else faults.active(ctx.tx, point)
        if failed:
            out, result = NullData(), DataAccessResult.OTHER_REASON
        elif fault is not None:
            out, result = NullData(), fault.result
        elif isinstance(spec, apdu.AccessRequestGet):
            out, result = _get(table, ctx, spec)
        elif isinstance(spec, apdu.AccessRequestSet):
            out, result = NullData(), _set(table, ctx, spec, value)
        elif isinstance(spec, apdu.AccessRequestAction):
            out, result = _act(table, ctx, spec, value)
        elif isinstance(spec, apdu.AccessRequestGetWithSelection):
            out, result = _get_selected(table, ctx, spec)
        else:
            out, result = NullData(), DataAccessResult.READ_WRITE_DENIED
        failed = failed or result != DataAccessResult.SUCCESS
        data.append(out)
        results.append(_response_spec(spec, result))
    return apdu.AccessResponseMessage(
        request.invoke_id_and_priority, b"", tuple(data), tuple(results)
    )
