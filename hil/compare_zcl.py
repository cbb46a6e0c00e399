"""Field-by-field comparison of GBZ payloads: the container, then each component's ZCL command.

Layer: hil; used by :mod:`smemu.hil.compare`. Each component's ZCL payload is decoded with the
typed ZCL registry (:func:`smemu.protocols.zigbee.registry.decode_command`) on both sides and
walked field by field, so a rule of :mod:`smemu.hil.compare_rules` can name the one field that
is the device's own. What no rule relaxes here: the component layout (control, cluster,
frame control, sequence, command), the command's class, every record's attribute identifier,
**status** and data type, and counts of records and structure members. Paths read::

    gbz.components[2].read_attributes_response.current_summation_delivered
    gbz.components[0].publish_price.provider_id
    gbz.plaintext[0].get_profile_response.intervals[3]

A command the registry does not know (a manufacturer-specific frame, an unregistered
cluster command) is compared byte for byte as ``gbz.components[i].zcl_payload``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Final, Protocol

from smemu.errors import DecodeError
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee._fields import ZclDate, ZclRecord
from smemu.protocols.zigbee.attributes import attribute_name
from smemu.protocols.zigbee.datatypes import DATA_TYPES, AttributeValue
from smemu.protocols.zigbee.registry import command_name, decode_command
from smemu.protocols.zigbee.zcl import (
    AttributeStatusRecord,
    RawCommand,
    ReadAttributesResponse,
    ZclCommand,
    ZclHeader,
)

#: the comparison kind of a typed command's plain fields (ints, octets, dates)
FIELD_KIND: Final = "zcl-field"


class Walker(Protocol):
    """What :class:`smemu.hil.compare._Walk` offers (leaf, structural form, counts)."""

    def leaf(self, path: str, kind: str, expected: object, actual: object) -> None: ...

    def form(self, path: str, expected: object, actual: object, what: str = "type") -> bool: ...

    def count(self, path: str, kind: str, expected: int, actual: int) -> int: ...


def zcl_type_name(code: int) -> str:
    """``0x25`` -> ``uint48`` (the ZCL data type's name; ``0xNN`` when unknown)."""
    spec = DATA_TYPES.get(code)
    return spec[0] if spec is not None else f"0x{code:02X}"


def _header(component: gbz.GbzComponent) -> ZclHeader:
    return ZclHeader(
        component.frame_control,
        component.sequence,
        component.command_id,
        component.manufacturer_code,
    )


def _decode(component: gbz.GbzComponent, payload: bytes) -> ZclCommand:
    return decode_command(component.cluster_id, _header(component), payload)


def compare_zcl(
    walk: Walker,
    path: str,
    component: gbz.GbzComponent,
    exp_payload: bytes,
    act_payload: bytes,
) -> None:
    """Compare two ZCL payloads of the command ``component`` names (the caller has checked
    that both sides' component headers are equal).

    ``path`` is the component's (or plaintext's) path; a payload that does not decode as the
    command its header names fails as a form difference (a reference that does not decode
    is compared byte for byte, with the device's payload as it is).
    """
    if exp_payload == act_payload:
        return
    try:
        exp = _decode(component, exp_payload)
    except DecodeError:
        walk.leaf(path + ".zcl_payload", "zcl-payload", exp_payload, act_payload)
        return
    try:
        act = _decode(component, act_payload)
    except DecodeError as exc:
        walk.form(path + ".zcl_payload", "a well-formed ZCL payload", f"DecodeError: {exc}", "form")
        return
    if isinstance(exp, RawCommand) or isinstance(act, RawCommand):
        walk.leaf(path + ".zcl_payload", "zcl-payload", exp_payload, act_payload)
        return
    base = f"{path}.{command_name(exp)}"
    if isinstance(exp, ReadAttributesResponse) and isinstance(act, ReadAttributesResponse):
        _compare_read(walk, base, component.cluster_id, exp.records, act.records)
        return
    _compare_record(walk, base, exp, act)


def _compare_read(
    walk: Walker,
    base: str,
    cluster_id: int,
    exp: Sequence[AttributeStatusRecord],
    act: Sequence[AttributeStatusRecord],
) -> None:
    """Read attribute status records: id, status and type strictly; the value by the rules."""
    if not walk.form(base + ".records.count", len(exp), len(act), "length"):
        return
    for e, a in zip(exp, act, strict=True):
        name = attribute_name(cluster_id, e.attribute_id) or f"attribute_0x{e.attribute_id:04X}"
        where = f"{base}.{name}"
        if not walk.form(where + ".attribute_id", e.attribute_id, a.attribute_id, "value"):
            continue
        if not walk.form(where + ".status", e.status, a.status, "value"):
            continue
        if e.value is not None and a.value is not None:
            compare_value(walk, where, e.value, a.value)


def compare_value(walk: Walker, path: str, exp: AttributeValue, act: AttributeValue) -> None:
    """A self-describing ZCL value: its type strictly, then its value (or members)."""
    kind = zcl_type_name(exp.data_type)
    if not walk.form(path + ".type", kind, zcl_type_name(act.data_type)):
        return
    _compare_typed(walk, path, kind, exp.value, act.value)


def _compare_typed(walk: Walker, path: str, kind: str, exp: object, act: object) -> None:
    if kind in ("array", "set", "bag") and isinstance(exp, tuple) and isinstance(act, tuple):
        # (element type, *elements)
        if not walk.form(path + ".element_type", exp[0], act[0]):
            return
        element = zcl_type_name(exp[0])
        n = walk.count(path, kind, len(exp) - 1, len(act) - 1)
        for i in range(n):
            _compare_typed(walk, f"{path}[{i}]", element, exp[i + 1], act[i + 1])
        return
    if kind == "structure" and isinstance(exp, tuple) and isinstance(act, tuple):
        if not walk.form(path + ".count", len(exp), len(act), "length"):
            return
        for i, (e, a) in enumerate(zip(exp, act, strict=True)):
            compare_value(walk, f"{path}[{i}]", e, a)
        return
    walk.leaf(path, kind, exp, act)


def _compare_record(walk: Walker, path: str, exp: object, act: object) -> None:
    """A typed command or record: the same class on both sides, then field by field."""
    if not walk.form(path + ".class", type(exp).__name__, type(act).__name__):
        return
    if isinstance(exp, AttributeValue) and isinstance(act, AttributeValue):
        compare_value(walk, path, exp, act)
        return
    if isinstance(exp, ZclRecord) and dataclasses.is_dataclass(exp):
        for spec in dataclasses.fields(exp):
            _compare_field(
                walk, f"{path}.{spec.name}", getattr(exp, spec.name), getattr(act, spec.name)
            )
        return
    walk.leaf(path, FIELD_KIND, exp, act)


def _compare_field(walk: Walker, path: str, exp: Any, act: Any) -> None:
    if exp is None or act is None:
        walk.form(path + ".present", exp is not None, act is not None, "form")
        return
    if isinstance(exp, tuple) and isinstance(act, tuple):
        n = walk.count(path, "sequence", len(exp), len(act))
        for i in range(n):
            _compare_field(walk, f"{path}[{i}]", exp[i], act[i])
        return
    if isinstance(exp, (ZclRecord, AttributeValue)):
        _compare_record(walk, path, exp, act)
        return
    if isinstance(exp, ZclDate) or not isinstance(exp, (int, bytes, str)):
        walk.leaf(path, FIELD_KIND, exp, act)
        return
    if not walk.form(path + ".type", type(exp).__name__, type(act).__name__):
        return
    walk.leaf(path, FIELD_KIND, exp, act)


# ---------------------------------------------------------------------------- container


def compare_gbz(walk: Walker, expected: bytes, actual: bytes, alert: bool) -> None:
    """Compare two GBZ payloads: alert header, component layout, then each ZCL command."""
    exp = gbz.decode_exact(expected, alert=alert)
    act = gbz.decode_exact(actual, alert=alert)
    if exp.alert is not None and act.alert is not None:
        walk.leaf("gbz.alert.alert_code", "alert-code", exp.alert.alert_code, act.alert.alert_code)
        walk.leaf("gbz.alert.timestamp", "timestamp", exp.alert.timestamp, act.alert.timestamp)
        walk.leaf("gbz.alert.data", "zcl-payload", exp.alert.data, act.alert.data)
    if not walk.form("gbz.components.count", len(exp.components), len(act.components), "length"):
        return
    for i, (e, a) in enumerate(zip(exp.components, act.components, strict=True)):
        base = f"gbz.components[{i}]"
        same = True
        for name in ("control", "cluster_id", "frame_control", "sequence", "command_id"):
            same &= walk.form(f"{base}.{name}", getattr(e, name), getattr(a, name), "value")
        same &= walk.form(
            f"{base}.manufacturer_code", e.manufacturer_code, a.manufacturer_code, "value"
        )
        walk.leaf(f"{base}.from_date_time", "timestamp", e.from_date_time, a.from_date_time)
        if not walk.form(
            f"{base}.encrypted", e.encryption is not None, a.encryption is not None, "form"
        ):
            continue
        if e.encryption is not None and a.encryption is not None:
            walk.leaf(f"{base}.ciphertext", "ciphertext", e.encryption.block, a.encryption.block)
        elif same:
            compare_zcl(walk, base, e, e.payload, a.payload)


def encrypted_headers(payload: bytes, alert: bool) -> tuple[gbz.GbzComponent, ...]:
    """The encrypted components of a GBZ payload, in plaintext order (empty if malformed)."""
    try:
        message = gbz.decode_exact(payload, alert=alert)
    except DecodeError:
        return ()
    return tuple(message.components[i] for i in gbz.encrypted_components(message))


def compare_gbz_plaintexts(
    walk: Walker,
    headers: Sequence[gbz.GbzComponent],
    exp: Sequence[bytes],
    act: Sequence[bytes],
) -> None:
    """Compare decrypted ZCL payloads, typed as the reference component's command."""
    if not walk.form("gbz.plaintext.count", len(exp), len(act), "length"):
        return
    for i, (e, a) in enumerate(zip(exp, act, strict=True)):
        path = f"gbz.plaintext[{i}]"
        if i < len(headers):
            compare_zcl(walk, path, headers[i], e, a)
        else:
            walk.leaf(path, "plaintext", e, a)
