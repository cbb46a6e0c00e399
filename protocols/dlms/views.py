"""Typed DLMS payloads of GBCS: each object access with its value read through a typed view.

Layer: protocols (sans-IO). :data:`VIEWS` is the one literal table saying which typed view
(:mod:`smemu.protocols.dlms.cosem`) reads which (class id, attribute / method); :data:`OBIS_VIEWS`
refines it for single objects (gbcs-reference.md 7.5, 10.1). :class:`DlmsPayload` is the
top-level typed payload (``TypedPayload`` of :mod:`smemu.protocols.gbcs.payload`): it keeps the
decoded APDU, so :meth:`DlmsPayload.encode` is byte-identical, and adds the typed items.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from smemu.protocols.dlms import apdu, axdr, money, protection
from smemu.protocols.dlms.apdu import (
    AccessRequestAction,
    AccessRequestGet,
    AccessRequestMessage,
    AccessRequestSet,
    AccessResponseMessage,
    ActionResult,
    DataAccessResult,
    DataNotificationMessage,
    DlmsMessage,
    format_obis,
)
from smemu.protocols.dlms.classes import AccountMode, EmergencyProfile, ExecutionTime
from smemu.protocols.dlms.cosem import (
    CaptureObject,
    DayProfile,
    ScalerUnit,
    SeasonProfile,
    SpecialDay,
    UnitCharge,
    ViewMismatchError,
    WeekProfile,
    _array,
    _int,
    _items,
    _octets,
    format_date_time,
    render,
)
from smemu.protocols.dlms.data import (
    Array,
    Boolean,
    Data,
    DoubleLong,
    DoubleLongUnsigned,
    Enum,
    LongUnsigned,
    NullData,
    OctetString,
    Structure,
)
from smemu.protocols.dlms.object_types import format_ref

__all__ = [
    "OBIS_VIEWS", "VIEWS", "DlmsItem", "DlmsPayload", "ViewSpec", "build", "read", "view_names",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class ViewSpec:
    """How one kind of value is read from Data, rendered, and built back."""

    name: str  #: the view's name, shown in the JSON tree
    parse: Callable[[Data], Any]  #: Data -> typed value (raises ViewMismatchError)
    show: Callable[[Any], Any]  #: typed value -> JSON
    build: Callable[[Any], Data]  #: typed value -> Data


def _list(cls: Any) -> tuple[Callable[[Data], Any], Callable[[Any], Any], Callable[[Any], Data]]:
    return (
        lambda d: tuple(cls.from_data(v) for v in _array(d, cls.__name__)),
        lambda xs: [x.to_json() for x in xs],
        lambda xs: Array(tuple(x.to_data() for x in xs)),
    )


def _one(cls: Any) -> tuple[Callable[[Data], Any], Callable[[Any], Any], Callable[[Any], Data]]:
    return cls.from_data, lambda x: x.to_json(), lambda x: x.to_data()


def _date_time(d: Data) -> bytes:
    return _octets(d, "date_time", 12)


def _thresholds(d: Data) -> tuple[int, ...]:
    return tuple(_int(v, DoubleLongUnsigned, "threshold") for v in _array(d, "thresholds"))


def _control_state(d: Data) -> int:
    return _int(d, Enum, "control_state")


_CONTROL_STATES: Final = {0: "disconnected", 1: "connected", 2: "ready_for_reconnection"}


def _range(d: Data) -> tuple[CaptureObject, int, int, tuple[Data, ...]]:
    restricting, start, end, selected = _items(d, 4, "range_descriptor")
    return (
        CaptureObject.from_data(restricting),
        _int(start, DoubleLongUnsigned, "from_value"),
        _int(end, DoubleLongUnsigned, "to_value"),
        _array(selected, "selected_values"),
    )


def _range_json(r: tuple[CaptureObject, int, int, tuple[Data, ...]]) -> Any:
    return {
        "restricting_object": r[0].to_json(),
        "from": _utc_seconds(r[1]),
        "to": _utc_seconds(r[2]),
        "selected_values": [render(v) for v in r[3]],
    }


_EPOCH: Final = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def _utc_seconds(seconds: int) -> str:
    """GBCS instants as seconds since 2000-01-01T00:00:00Z (gbcs-reference.md 7.4)."""
    return (_EPOCH + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _protected(d: Data) -> tuple[tuple[protection.ProtectionParameters, ...], bytes]:
    params, block = _items(d, 2, "protected_data")
    parsed = [protection.ProtectionParameters.from_data(p) for p in _array(params, "params")]
    if not parsed or any(p is None for p in parsed):
        raise ViewMismatchError("expected protection parameters", path="protection_parameters")
    return tuple(p for p in parsed if p is not None), _octets(block, "ciphered_block")


def _protected_json(v: tuple[tuple[protection.ProtectionParameters, ...], bytes]) -> Any:
    return {
        "protection": [
            {
                "type": p.protection_type,
                "transaction_id": p.transaction_id.hex(),
                "originator": _eui(p.originator),
                "recipient": _eui(p.recipient),
            }
            for p in v[0]
        ],
        "ciphered_bytes": len(v[1]),
    }


def _eui(raw: bytes) -> str:
    return "-".join(f"{b:02X}" for b in raw)


def _scalar(
    name: str, kind: type[Data], show: Callable[[Any], Any] = lambda x: x
) -> ViewSpec:
    return ViewSpec(name, lambda d: _int(d, kind, name), show, kind)


def _token(d: Data) -> bytes:
    return _octets(d, "token")


def _token_json(raw: bytes) -> Any:
    return raw.decode("ascii") if raw.isascii() and raw.decode("ascii").isdigit() else raw.hex()


def _boolean(d: Data) -> int:
    if not isinstance(d, Boolean):
        raise ViewMismatchError("expected a boolean", path="output_state")
    return d.raw


_SPECS: Final[dict[str, ViewSpec]] = {
    "account_mode": ViewSpec("account_mode", *_one(AccountMode)),
    "emergency_profile": ViewSpec("emergency_profile", *_one(EmergencyProfile)),
    "execution_times": ViewSpec("execution_times", *_list(ExecutionTime)),
    "limiter_value": _scalar("limiter_value", DoubleLongUnsigned),
    "duration": _scalar("duration", DoubleLongUnsigned, lambda x: f"{x} s"),
    "credit_amount": _scalar("credit_amount", DoubleLong),
    "control_mode": _scalar("control_mode", Enum, lambda x: f"mode {x}"),
    "script_selector": _scalar("script_selector", LongUnsigned),
    "output_state": ViewSpec(
        "output_state", _boolean, lambda x: "connected" if x else "disconnected", Boolean
    ),
    "token": ViewSpec("token", _token, _token_json, OctetString),
    "season_profiles": ViewSpec("season_profiles", *_list(SeasonProfile)),
    "week_profiles": ViewSpec("week_profiles", *_list(WeekProfile)),
    "day_profiles": ViewSpec("day_profiles", *_list(DayProfile)),
    "special_days": ViewSpec("special_days", *_list(SpecialDay)),
    "unit_charge": ViewSpec("unit_charge", *_one(UnitCharge)),
    "scaler_unit": ViewSpec("scaler_unit", *_one(ScalerUnit)),
    "capture_objects": ViewSpec("capture_objects", *_list(CaptureObject)),
    "date_time": ViewSpec("date_time", _date_time, format_date_time, OctetString),
    "thresholds": ViewSpec(
        "thresholds",
        _thresholds,
        lambda xs: ["unused" if x == 0xFFFFFFFF else x for x in xs],
        lambda xs: Array(tuple(DoubleLongUnsigned(x) for x in xs)),
    ),
    "control_state": ViewSpec(
        "control_state",
        _control_state,
        lambda x: _CONTROL_STATES.get(x, f"state {x}"),
        Enum,
    ),
    "range_descriptor": ViewSpec(
        "range_descriptor",
        _range,
        _range_json,
        lambda r: Structure(
            (r[0].to_data(), DoubleLongUnsigned(r[1]), DoubleLongUnsigned(r[2]), Array(r[3]))
        ),
    ),
    "protected_data": ViewSpec(
        "protected_data",
        _protected,
        _protected_json,
        lambda v: Structure(
            (Array(tuple(p.to_data() for p in v[0])), OctetString(v[1]))
        ),
    ),
}

#: (class id, "attribute" / "method", index) -> view name. Blue Book interface classes.
VIEWS: Final[Mapping[tuple[int, str, int], str]] = {
    (3, "attribute", 3): "scaler_unit",  # Register scaler_unit
    (4, "attribute", 3): "scaler_unit",  # Extended register scaler_unit
    (4, "attribute", 5): "date_time",  # Extended register capture_time
    (7, "attribute", 3): "capture_objects",  # Profile generic capture_objects
    (8, "attribute", 2): "date_time",  # Clock time
    (11, "attribute", 2): "special_days",  # Special days table entries
    (20, "attribute", 3): "season_profiles",  # Activity calendar, active
    (20, "attribute", 4): "week_profiles",
    (20, "attribute", 5): "day_profiles",
    (20, "attribute", 7): "season_profiles",  # passive
    (20, "attribute", 8): "week_profiles",
    (20, "attribute", 9): "day_profiles",
    (20, "attribute", 10): "date_time",  # activate_passive_calendar_time
    (21, "attribute", 2): "thresholds",  # Register monitor thresholds
    (70, "attribute", 3): "control_state",  # Disconnect control
    (113, "attribute", 5): "unit_charge",  # Charge unit_charge_active
    (113, "attribute", 6): "unit_charge",  # unit_charge_passive
    (113, "attribute", 7): "date_time",  # unit_charge_activation_time
    (9000, "attribute", 6): "date_time",  # GBCS extended data: activate_passive_value_time
    (9, "method", 1): "script_selector",  # Script table execute
    (22, "attribute", 4): "execution_times",  # Single action schedule execution_time
    (70, "attribute", 2): "output_state",  # Disconnect control
    (70, "attribute", 4): "control_mode",
    (71, "attribute", 4): "limiter_value",  # Limiter threshold_normal
    (71, "attribute", 5): "limiter_value",  # threshold_emergency
    (71, "attribute", 6): "duration",  # min_over_threshold_duration
    (71, "attribute", 7): "duration",  # min_under_threshold_duration
    (71, "attribute", 8): "emergency_profile",
    (111, "attribute", 2): "account_mode",  # Account account_mode_and_status
    (112, "attribute", 2): "credit_amount",  # Credit current_credit_amount
    (112, "method", 1): "credit_amount",  # update_amount
    (112, "method", 2): "credit_amount",  # set_amount_to_value
    (115, "method", 1): "token",  # Token gateway enter
    (30, "method", 1): "protected_data",  # Data protection get_protected_attributes (reply)
}

#: (class id, OBIS, "attribute" / "method", index) -> view name, for single GBCS objects.
OBIS_VIEWS: Final[Mapping[tuple[int, bytes, str, int], str]] = {
    (1, bytes((0, 0, 94, 44, 3, 2)), "attribute", 2): "date_time",  # ECS12 change of tenancy
}


def _spec(view: str | ViewSpec) -> ViewSpec:
    return _SPECS[view] if isinstance(view, str) else view


def read(view: str | ViewSpec, value: Data) -> Any:
    """Read ``value`` through a view (a name of :data:`VIEWS` or an object's :class:`ViewSpec`).

    :raises ViewMismatchError: ``value`` has another shape.
    """
    return _spec(view).parse(value)


def build(view: str | ViewSpec, typed: Any) -> Data:
    """Build the Data of a typed value (the reverse of :func:`read`)."""
    return _spec(view).build(typed)


def view_names() -> tuple[str, ...]:
    """The names of the class-keyed views."""
    return tuple(_SPECS)


def class_view(class_id: int, obis: bytes, method: bool, index: int) -> ViewSpec | None:
    """The class-keyed view of an attribute / method value, if any."""
    name = _view_name(class_id, obis, "method" if method else "attribute", index)
    return None if name is None else _SPECS[name]


def _view_name(class_id: int, obis: bytes, kind: str, index: int) -> str | None:
    return OBIS_VIEWS.get((class_id, obis, kind, index)) or VIEWS.get((class_id, kind, index))


@dataclass(frozen=True, slots=True)
class DlmsItem:
    """One object access of a DLMS payload with its value, typed where a view applies."""

    access: str  #: get / set / action / get-with-selection / set-with-selection / result / body
    class_id: int | None  #: COSEM interface class (None where the APDU does not say)
    obis: bytes | None  #: logical name
    index: int | None  #: attribute or method id
    value: Data  #: the value as decoded
    view: str | None = None  #: the view that typed ``value`` (None: generic A-XDR rendering)
    typed: Any = None  #: the typed value
    selection: Any = None  #: the typed access selection (range descriptor) where present
    result: int | None = None  #: Data-Access-Result / Action-Result of a response
    plaintext: Data | None = None  #: the decrypted protected data, where decrypted
    spec: ViewSpec | None = None  #: the view that typed ``value`` (an object's own view)
    label: str | None = None  #: the use case's name of the object (SMETS / CHTS)
    answers: str | None = None  #: response items: the ``class/OBIS/aN`` object answered
    plaintext_spec: ViewSpec | None = None  #: the view that typed ``plaintext``
    plaintext_typed: Any = None  #: the typed plaintext
    view_error: str | None = None  #: the use case's view did not fit the value (why)
    display: Any = None  #: money, prices, scaled register values as people read them

    @property
    def ref(self) -> str | None:
        """The ``class/OBIS/aN|mN`` this item accesses (request) or answers (response)."""
        if self.answers is not None:
            return self.answers
        if self.class_id is None or self.obis is None or self.index is None:
            return None
        return format_ref(self.class_id, self.obis, self.access == "action", self.index)

    def to_json(self) -> Any:
        out: dict[str, Any] = {"access": self.access}
        if self.class_id is not None and self.obis is not None:
            out.update(class_id=self.class_id, obis=format_obis(self.obis), index=self.index)
        if self.answers is not None:
            out["answers"] = self.answers
        if self.label is not None:
            out["object"] = self.label
        if self.result is not None:
            out["result"] = _result_name(self.access, self.result)
        if self.selection is not None:
            out["selection"] = _range_json(self.selection)
        if self.view is not None:
            out["view"] = self.view
            out["value"] = (self.spec or _SPECS[self.view]).show(self.typed)
        else:
            out["value"] = render(self.value)
        if self.plaintext_spec is not None:
            out["plaintext"] = self.plaintext_spec.show(self.plaintext_typed)
        elif self.plaintext is not None:
            out["plaintext"] = render(self.plaintext)
        if self.view_error is not None:
            out["view_error"] = self.view_error
        if self.display is not None:
            out["display"] = self.display
        return out


def _result_name(access: str, result: int) -> str:
    enum_type = ActionResult if access == "action-result" else DataAccessResult
    try:
        return enum_type(result).name.lower().replace("_", "-")
    except ValueError:
        return str(result)


def _typed(item: DlmsItem) -> tuple[DlmsItem, int]:
    """Apply the item's view; on a shape mismatch keep it generic and count its bytes."""
    if item.class_id is None or item.obis is None or item.index is None:
        return item, 0
    kind = "method" if item.access in ("action",) else "attribute"
    name = _view_name(item.class_id, item.obis, kind, item.index)
    if name is None:
        return item, 0
    if item.access == "action" and name == "protected_data":
        return item, 0  # the command carries the request structure, not protected data
    try:
        typed = _SPECS[name].parse(item.value)
    except ViewMismatchError:
        if item.access in ("get", "get-with-selection") and _is_null(item.value):
            return item, 0
        return item, len(axdr.encode(item.value))
    if _SPECS[name].build(typed) != item.value:
        return item, len(axdr.encode(item.value))
    return _replace(item, view=name, typed=typed), 0


def _is_null(value: Data) -> bool:
    return isinstance(value, NullData)


def _replace(item: DlmsItem, **changes: Any) -> DlmsItem:
    return dataclasses.replace(item, **changes)


@dataclass(frozen=True, slots=True)
class DlmsPayload:
    """A GBCS DLMS payload with typed items (access-request, access-response, data-notification).

    ``undecoded_bytes`` counts ciphered bytes left encrypted (no plaintext given) and values
    a view expected but could not read.
    """

    family: ClassVar[str] = "dlms"
    message: DlmsMessage  #: the decoded APDU (re-encodes byte-identically)
    items: tuple[DlmsItem, ...]  #: object accesses with typed values
    undecoded_bytes: int  #: payload bytes not decoded into typed fields
    alert_code: int | None = None  #: data-notification: the GBCS alert code
    alert_time: bytes | None = None  #: data-notification: the 12 timestamp octets
    use_case: str | None = None  #: the use case whose object list typed the items
    notes: tuple[str, ...] = ()  #: where the items differ from what the use case defines

    @classmethod
    def decode(
        cls, payload: bytes, plaintexts: Sequence[bytes] = (), *, use_case: str | None = None
    ) -> DlmsPayload:
        """Decode a DLMS payload; ``plaintexts`` are its decrypted blocks, in wire order.

        With ``use_case`` (an id of :data:`smemu.protocols.dlms.objects.USE_CASE_OBJECTS`)
        request items are checked against the use case's objects, response items typed with
        the view of the object they answer, and alert bodies read as named records.

        :raises DecodeError: the payload (or a plaintext) is malformed.
        """
        return cls.from_message(apdu.decode_exact(payload), plaintexts, use_case=use_case)

    @classmethod
    def from_message(
        cls,
        message: DlmsMessage,
        plaintexts: Sequence[bytes] = (),
        *,
        use_case: str | None = None,
    ) -> DlmsPayload:
        """Type an already decoded APDU."""
        items = _items_of(message)
        undecoded = 0
        typed_items: list[DlmsItem] = []
        for item in items:
            typed, missed = _typed(item)
            typed_items.append(typed)
            undecoded += missed
        blocks = protection.find_blocks(message)
        decoded = [protection.decode_plaintext(p) for p in plaintexts]
        for number, block in enumerate(blocks):
            if number < len(decoded):
                where = block.location[0]
                if where < len(typed_items) and typed_items[where].plaintext is None:
                    typed_items[where] = _replace(typed_items[where], plaintext=decoded[number])
            else:
                undecoded += len(block.block)
        code = stamp = None
        if isinstance(message, DataNotificationMessage):
            code, stamp = _alert_head(message.body)
        notes: list[str] = []
        if use_case is not None:
            from smemu.protocols.dlms.answers import apply_use_case

            typed_items, missed, notes = apply_use_case(message, typed_items, use_case)
            undecoded += missed
        typed_items = _with_displays(typed_items)
        return cls(
            message, tuple(typed_items), undecoded, code, stamp, use_case, tuple(notes)
        )

    def encode(self) -> bytes:
        """The payload bytes (byte-identical to the decoded input)."""
        return apdu.encode(self.message)

    def to_json(self) -> Any:
        kind = {
            AccessRequestMessage: "access-request",
            AccessResponseMessage: "access-response",
            DataNotificationMessage: "data-notification",
        }[type(self.message)]
        out: dict[str, Any] = {"family": "dlms", "apdu": kind, "invoke_id": self.message.invoke_id}
        if self.alert_code is not None:
            out["alert_code"] = f"0x{self.alert_code:04X}"
        if self.alert_time is not None:
            out["alert_time"] = format_date_time(self.alert_time)
        out["items"] = [item.to_json() for item in self.items]
        if self.use_case is not None:
            out["use_case"] = self.use_case
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def _with_displays(items: list[DlmsItem]) -> list[DlmsItem]:
    """Add the readable money / price / register renderings (:mod:`.money`)."""
    shown = money.displays(
        [i.ref for i in items], [i.value for i in items], [i.typed for i in items]
    )
    return [i if d is None else _replace(i, display=d) for i, d in zip(items, shown, strict=True)]


def _alert_head(body: Data) -> tuple[int | None, bytes | None]:
    try:
        items = _items(body, None, "notification_body")
        return _int(items[0], LongUnsigned, "alert_code"), _octets(items[1], "timestamp", 12)
    except (ViewMismatchError, IndexError):
        return None, None


def _items_of(message: DlmsMessage) -> list[DlmsItem]:
    if isinstance(message, DataNotificationMessage):
        return [DlmsItem("body", None, None, None, message.body)]
    if isinstance(message, AccessResponseMessage):
        out = []
        for i, value in enumerate(message.list_of_data):
            spec = message.specifications[i] if i < len(message.specifications) else None
            access = {1: "get-result", 2: "set-result", 3: "action-result"}.get(
                spec.CHOICE if spec else 0, "result"
            )
            out.append(
                DlmsItem(access, None, None, None, value, result=spec.result if spec else None)
            )
        return out
    out = []
    for i, request in enumerate(message.specifications):
        value = message.list_of_data[i] if i < len(message.list_of_data) else NullData()
        selection = None
        if isinstance(request, AccessRequestGet):
            access, index = "get", request.attribute_id
        elif isinstance(request, AccessRequestSet):
            access, index = "set", request.attribute_id
        elif isinstance(request, AccessRequestAction):
            access, index = "action", request.method_id
        else:
            access = "get-with-selection" if request.CHOICE == 4 else "set-with-selection"
            index = request.attribute_id
            if request.access_selector == 1:
                try:
                    selection = _range(request.access_parameters)
                except ViewMismatchError:
                    selection = None
        out.append(
            DlmsItem(
                access, request.class_id, request.instance_id, index, value, selection=selection
            )
        )
    return out
