"""Compare a device's RESPONSE (or alert) with the reference: a verdict, its first difference.

Layer: hil. The comparison walks both messages side by side -- frame, grouping header, then
the payload by family (:func:`compare_payload`: DLMS A-XDR trees, GBZ components field by
field through :mod:`smemu.hil.compare_zcl`, ASN.1 as DER items) -- and records every
difference. A difference is tolerated only when
a rule of :mod:`smemu.hil.compare_rules` allows it; types are never tolerated. The verdict
carries the first intolerable difference (path, expected, actual) for reports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from smemu.errors import DecodeError
from smemu.hil.compare_rules import Allow, find_rule
from smemu.hil.compare_zcl import compare_gbz, compare_gbz_plaintexts, encrypted_headers
from smemu.protocols.dlms import apdu, protection
from smemu.protocols.dlms.apdu import (
    AccessRequestMessage,
    AccessResponseMessage,
    DataNotificationMessage,
    DlmsMessage,
)
from smemu.protocols.dlms.axdr import Array, CompactArray, Data, OctetString, Structure
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.decrypt import decrypt_payload
from smemu.protocols.gbcs.frame import GeneralSigningMessage, Located, MacProtectedMessage
from smemu.protocols.gbcs.types import Cra
from smemu.protocols.security.keystore import KeyStore


@dataclass(frozen=True, slots=True)
class Substitutions:
    """Reference identities and counters -> the ones used when the command was replayed."""

    euis: Mapping[bytes, bytes] = field(default_factory=dict)
    counters: Mapping[int, int] = field(default_factory=dict)

    def maps(self, expected: object, actual: object) -> bool:
        """Whether ``actual`` is what ``expected`` became in the replay."""
        if isinstance(expected, bytes) and isinstance(actual, bytes):
            return self.euis.get(expected) == actual
        if isinstance(expected, int) and isinstance(actual, int):
            return self.counters.get(expected) == actual
        return False


@dataclass(frozen=True, slots=True)
class Difference:
    """One place where the messages differ."""

    path: str
    expected: str
    actual: str
    what: str  #: ``value``, ``type``, ``length`` or ``form``
    reason: str = ""  #: for a tolerated difference: the rule's reason

    def __str__(self) -> str:
        return f"{self.path}: expected {self.expected}, got {self.actual} ({self.what})"


@dataclass(frozen=True, slots=True)
class Comparison:
    """The verdict: passed, the first difference that fails it, and what was tolerated."""

    differences: tuple[Difference, ...]
    tolerated: tuple[Difference, ...]
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.differences

    @property
    def first_difference(self) -> Difference | None:
        return self.differences[0] if self.differences else None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary for reports."""
        first = self.first_difference
        return {
            "passed": self.passed,
            "first_difference": None
            if first is None
            else {
                "path": first.path,
                "expected": first.expected,
                "actual": first.actual,
                "what": first.what,
            },
            "differences": len(self.differences),
            "tolerated": [{"path": d.path, "reason": d.reason} for d in self.tolerated],
            "notes": list(self.notes),
        }


_CAMEL: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def type_name(value: object) -> str:
    """``DoubleLongUnsigned`` -> ``double-long-unsigned`` (the DLMS spelling)."""
    return _CAMEL.sub("-", type(value).__name__).lower()


def _show(value: object) -> str:
    if isinstance(value, bytes):
        return value.hex().upper() if value else "(empty)"
    if hasattr(value, "value") and not isinstance(value, (Structure, Array)):
        return f"{type_name(value)} {_show(value.value)}"
    return repr(value) if not isinstance(value, int) else str(value)


class _Walk:
    """Collects differences, asking the rules table about each one."""

    def __init__(self, message_code: int, subs: Substitutions) -> None:
        self.code = message_code
        self.subs = subs
        self.differences: list[Difference] = []
        self.tolerated: list[Difference] = []
        self.notes: list[str] = []
        #: byte values a VALUE rule let differ in this message, reference -> device: a
        #: later field that must repeat the same identity may repeat the device's instead
        self.learned: dict[bytes, bytes] = {}

    def _family(self, path: str) -> str:
        return path.split(".", 1)[0].split("[", 1)[0]

    def leaf(self, path: str, kind: str, expected: object, actual: object) -> None:
        if expected == actual:
            return
        diff = Difference(path, _show(expected), _show(actual), "value")
        family = self._family(path)
        raw_e = getattr(expected, "value", expected)
        raw_a = getattr(actual, "value", actual)
        rule = find_rule(family, path, Allow.IDENTITY, self.code, kind)
        if rule is not None and (
            self.subs.maps(raw_e, raw_a)
            or (isinstance(raw_e, bytes) and self.learned.get(raw_e) == raw_a)
        ):
            self.tolerated.append(_with_reason(diff, rule.reason))
            return
        rule = find_rule(family, path, Allow.VALUE, self.code, kind)
        if rule is not None:
            if isinstance(raw_e, bytes) and isinstance(raw_a, bytes):
                self.learned[raw_e] = raw_a
            self.tolerated.append(_with_reason(diff, rule.reason))
            return
        self.differences.append(diff)

    def form(self, path: str, expected: object, actual: object, what: str = "type") -> bool:
        """Check a structural property that no rule may relax; ``True`` when equal."""
        if expected == actual:
            return True
        self.differences.append(Difference(path, str(expected), str(actual), what))
        return False

    def count(self, path: str, kind: str, expected: int, actual: int) -> int:
        """Compare element counts; return how many pairs to walk (0 when intolerable)."""
        if expected == actual:
            return expected
        diff = Difference(path, f"{expected} elements", f"{actual} elements", "length")
        rule = find_rule(self._family(path), path, Allow.LENGTH, self.code, kind)
        if rule is None:
            self.differences.append(diff)
            return 0
        self.tolerated.append(_with_reason(diff, rule.reason))
        return min(expected, actual)


def _with_reason(diff: Difference, reason: str) -> Difference:
    return Difference(diff.path, diff.expected, diff.actual, diff.what, reason)


# ------------------------------------------------------------------------------- DLMS


def _is_block(items: tuple[Data, ...], index: int) -> bool:
    item = items[index]
    return (
        index > 0
        and isinstance(item, OctetString)
        and item.value[:1] == bytes((protection.CIPHERED_SECURITY_CONTROL,))
        and isinstance(items[index - 1], Array)
    )


def compare_data(walk: _Walk, path: str, expected: Data, actual: Data) -> None:
    """Compare two A-XDR Data trees: types and shapes strictly, values through the rules."""
    kind = type_name(expected)
    if not walk.form(path, kind, type_name(actual)):
        return
    if isinstance(expected, Structure) and isinstance(actual, Structure):
        exp_pp = protection.ProtectionParameters.from_data(expected)
        act_pp = protection.ProtectionParameters.from_data(actual)
        if exp_pp is not None and act_pp is not None:
            base = path + ".protection_parameters"
            walk.leaf(
                base + ".protection_type", "enum", exp_pp.protection_type, act_pp.protection_type
            )
            walk.leaf(
                base + ".transaction_id",
                "octet-string",
                exp_pp.transaction_id,
                act_pp.transaction_id,
            )
            walk.leaf(base + ".originator", "octet-string", exp_pp.originator, act_pp.originator)
            walk.leaf(base + ".recipient", "octet-string", exp_pp.recipient, act_pp.recipient)
            walk.leaf(
                base + ".other_information",
                "octet-string",
                exp_pp.other_information,
                act_pp.other_information,
            )
            compare_data(walk, base + ".key_info", exp_pp.key_info, act_pp.key_info)
            return
        if not walk.form(path + ".count", len(expected.items), len(actual.items), "length"):
            return
        for i, (e, a) in enumerate(zip(expected.items, actual.items, strict=True)):
            child = f"{path}.structure[{i}]"
            if _is_block(expected.items, i) and isinstance(a, OctetString):
                walk.leaf(child + ".ciphered_block", "octet-string", e, a)
            else:
                compare_data(walk, child, e, a)
        return
    if isinstance(expected, Array) and isinstance(actual, Array):
        n = walk.count(path, kind, len(expected.items), len(actual.items))
        for i in range(n):
            compare_data(walk, f"{path}.array[{i}]", expected.items[i], actual.items[i])
        return
    if isinstance(expected, CompactArray) and isinstance(actual, CompactArray):
        if not walk.form(
            path + ".type_description",
            expected.description.encode().hex(),
            actual.description.encode().hex(),
        ):
            return
        n = walk.count(path, kind, len(expected.values), len(actual.values))
        for i in range(n):
            compare_data(walk, f"{path}.compact_array[{i}]", expected.values[i], actual.values[i])
        return
    walk.leaf(path, kind, expected, actual)


def _compare_dlms(walk: _Walk, expected: bytes, actual: bytes) -> None:
    exp = apdu.decode_exact(expected)
    act = apdu.decode_exact(actual)
    root = "dlms." + _apdu_name(exp)
    if not walk.form("dlms.apdu", _apdu_name(exp), _apdu_name(act)):
        return
    walk.leaf(
        root + ".invoke_id", "invoke-id", exp.invoke_id_and_priority, act.invoke_id_and_priority
    )
    walk.leaf(root + ".date_time", "octet-string", exp.date_time, act.date_time)
    if isinstance(exp, DataNotificationMessage) and isinstance(act, DataNotificationMessage):
        compare_data(walk, root + ".body", exp.body, act.body)
        return
    if isinstance(exp, AccessResponseMessage) and isinstance(act, AccessResponseMessage):
        walk.form(
            root + ".request_specifications", exp.request_specifications, act.request_specifications
        )
        _compare_items(walk, root + ".list_of_data", exp.list_of_data, act.list_of_data)
        if walk.form(
            root + ".specifications.count",
            len(exp.specifications),
            len(act.specifications),
            "length",
        ):
            for i, (e, a) in enumerate(zip(exp.specifications, act.specifications, strict=True)):
                where = f"{root}.specifications[{i}]"
                if walk.form(where + ".choice", type_name(e), type_name(a)):
                    walk.leaf(where + ".result", "result", e.result, a.result)
        return
    if isinstance(exp, AccessRequestMessage) and isinstance(act, AccessRequestMessage):
        walk.form(root + ".specifications", exp.specifications, act.specifications, "value")
        _compare_items(walk, root + ".list_of_data", exp.list_of_data, act.list_of_data)


def _compare_items(walk: _Walk, path: str, exp: tuple[Data, ...], act: tuple[Data, ...]) -> None:
    if walk.form(path + ".count", len(exp), len(act), "length"):
        for i, (e, a) in enumerate(zip(exp, act, strict=True)):
            compare_data(walk, f"{path}[{i}]", e, a)


def _apdu_name(message: DlmsMessage) -> str:
    return {
        AccessRequestMessage: "access_request",
        AccessResponseMessage: "access_response",
        DataNotificationMessage: "data_notification",
    }[type(message)]


# ------------------------------------------------------------------------------ ASN.1

_UNIVERSAL: Final = {
    0x01: "BOOLEAN",
    0x02: "INTEGER",
    0x03: "BIT STRING",
    0x04: "OCTET STRING",
    0x05: "NULL",
    0x06: "OBJECT IDENTIFIER",
    0x0A: "ENUMERATED",
    0x0C: "UTF8String",
    0x13: "PrintableString",
    0x17: "UTCTime",
    0x18: "GeneralizedTime",
    0x30: "SEQUENCE",
    0x31: "SET",
}


@dataclass(frozen=True, slots=True)
class _Der:
    tag: int
    content: bytes
    children: tuple[_Der, ...] | None  #: for constructed items

    @property
    def name(self) -> str:
        if self.tag in _UNIVERSAL:
            return _UNIVERSAL[self.tag]
        return f"[{self.tag & 0x1F}]" + (" constructed" if self.tag & 0x20 else "")


def _der_items(data: bytes, depth: int = 0) -> tuple[_Der, ...]:
    items: list[_Der] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data) or depth > 32:
            raise DecodeError("truncated DER item", path="asn1", offset=pos)
        tag, length = data[pos], data[pos + 1]
        pos += 2
        if length & 0x80:
            count = length & 0x7F
            if count == 0 or count > 3:
                raise DecodeError("unsupported DER length", path="asn1", offset=pos - 1)
            length = int.from_bytes(data[pos : pos + count], "big")
            pos += count
        content = data[pos : pos + length]
        if len(content) != length:
            raise DecodeError("DER item runs past the payload", path="asn1", offset=pos)
        pos += length
        children = _der_items(content, depth + 1) if tag & 0x20 else None
        items.append(_Der(tag, content, children))
    return tuple(items)


def _compare_der(walk: _Walk, path: str, exp: tuple[_Der, ...], act: tuple[_Der, ...]) -> None:
    n = walk.count(path, "SEQUENCE", len(exp), len(act))
    for i in range(n):
        e, a = exp[i], act[i]
        where = f"{path}[{i}]"
        if not walk.form(where + ".type", e.name, a.name):
            continue
        if e.children is not None and a.children is not None:
            _compare_der(walk, where, e.children, a.children)
        else:
            walk.leaf(where, e.name, e.content, a.content)


def _compare_asn1(walk: _Walk, expected: bytes, actual: bytes) -> None:
    try:
        exp, act = _der_items(expected), _der_items(actual)
    except DecodeError:
        walk.notes.append("ASN.1 payload is not plain DER: compared byte for byte")
        walk.leaf("asn1", "asn1-bytes", expected, actual)
        return
    _compare_der(walk, "asn1", exp, act)


# ---------------------------------------------------------------------------- payload


def compare_payload(walk: _Walk, family: str, cra: Cra, expected: bytes, actual: bytes) -> None:
    """Compare two payloads of one family (the single upgrade point for typed decoders)."""
    try:
        if family == "dlms":
            _compare_dlms(walk, expected, actual)
        elif family == "gbz":
            compare_gbz(walk, expected, actual, cra is Cra.ALERT)
        else:
            _compare_asn1(walk, expected, actual)
    except DecodeError as exc:
        walk.form(f"{family}.decode", "a well-formed payload", f"DecodeError: {exc}", "form")


def _compare_plaintexts(
    walk: _Walk, family: str, exp: list[bytes], act: list[bytes], reference: Located
) -> None:
    if family == "gbz":
        inner = frame.signing_message(reference.message)
        headers = (
            ()
            if inner is None
            else encrypted_headers(inner.payload, inner.header.cra is Cra.ALERT)
        )
        compare_gbz_plaintexts(walk, headers, exp, act)
        return
    if not walk.form(f"{family}.plaintext.count", len(exp), len(act), "length"):
        return
    for i, (e, a) in enumerate(zip(exp, act, strict=True)):
        path = f"{family}.plaintext[{i}]"
        if family == "dlms":
            try:
                compare_data(
                    walk, path, protection.decode_plaintext(e), protection.decode_plaintext(a)
                )
            except DecodeError as exc:
                walk.form(path, "a well-formed plaintext", f"DecodeError: {exc}", "form")
        else:
            walk.leaf(path, "plaintext", e, a)


def _frame_kind(message: object) -> str:
    if isinstance(message, MacProtectedMessage):
        return "mac-header"
    if isinstance(message, GeneralSigningMessage):
        return "general-signing"
    return "gbt-block"


def _signature_form(inner: GeneralSigningMessage) -> str:
    return "omitted" if inner.signature is None else "empty" if not inner.signature else "present"


def compare_responses(
    expected: bytes,
    actual: bytes,
    *,
    substitutions: Substitutions | None = None,
    expected_keys: KeyStore | None = None,
    actual_keys: KeyStore | None = None,
) -> Comparison:
    """Compare a device's response (or alert) ``actual`` with the reference ``expected``.

    :param substitutions: reference EUIs and counters -> those of the replay.
    :param expected_keys: keys to decrypt the reference's encrypted data, if any.
    :param actual_keys: keys to decrypt the device's encrypted data, if any.
    :raises DecodeError: ``expected`` (the reference) does not decode.
    """
    exp_loc = frame.locate(expected)
    exp_inner = frame.signing_message(exp_loc.message)
    if exp_inner is None:
        raise DecodeError("the reference is a GBT block: reassemble it first", path="message")
    walk = _Walk(exp_inner.header.message_code, substitutions or Substitutions())
    try:
        act_loc = frame.locate(actual)
    except DecodeError as exc:
        walk.form("message", "a GBCS message", f"DecodeError: {exc}", "form")
        return _verdict(walk)
    act_inner = frame.signing_message(act_loc.message)
    if act_inner is None:
        walk.form("frame", "general-signing", "gbt-block", "form")
        return _verdict(walk)
    eh, ah = exp_inner.header, act_inner.header
    walk.form(
        "header.message_code", f"0x{eh.message_code:04X}", f"0x{ah.message_code:04X}", "value"
    )
    walk.form("header.cra", eh.cra.label, ah.cra.label, "value")
    walk.form("frame", _frame_kind(exp_loc.message), _frame_kind(act_loc.message), "form")
    walk.form(
        "header.signature_element", _signature_form(exp_inner), _signature_form(act_inner), "form"
    )
    walk.leaf("header.originator", "eui", eh.originator, ah.originator)
    walk.leaf("header.recipient", "eui", eh.recipient, ah.recipient)
    walk.leaf("header.counter", "counter", eh.originator_counter, ah.originator_counter)
    if walk.form(
        "header.date_time.present", eh.date_time is not None, ah.date_time is not None, "form"
    ):
        walk.leaf("header.date_time", "date-time", eh.date_time, ah.date_time)
    _compare_other_information(walk, exp_inner, act_inner)
    walk.leaf("header.signature", "signature", exp_inner.signature, act_inner.signature)
    exp_mac = getattr(exp_loc.message, "mac", None)
    act_mac = getattr(act_loc.message, "mac", None)
    walk.leaf("header.mac", "mac", exp_mac, act_mac)
    family = frame.payload_family(exp_inner.payload)
    if walk.form("payload.family", family, frame.payload_family(act_inner.payload), "form"):
        compare_payload(walk, family, eh.cra, exp_inner.payload, act_inner.payload)
        _decrypted(walk, family, exp_loc, act_loc, exp_keys=expected_keys, act_keys=actual_keys)
    return _verdict(walk)


def _compare_other_information(
    walk: _Walk, exp: GeneralSigningMessage, act: GeneralSigningMessage
) -> None:
    eo, ao = exp.header.other_information, act.header.other_information
    base = "header.other_information"
    for name in (
        "supplementary_remote_party_id",
        "supplementary_remote_party_counter",
        "supplementary_originator_counter",
    ):
        e, a = getattr(eo, name), getattr(ao, name)
        if walk.form(f"{base}.{name}.present", e is not None, a is not None, "form"):
            walk.leaf(f"{base}.{name}", name, e, a)
    walk.form(
        f"{base}.supplementary_remote_party_ka_certificate",
        eo.supplementary_remote_party_ka_certificate,
        ao.supplementary_remote_party_ka_certificate,
        "value",
    )


def _decrypted(
    walk: _Walk,
    family: str,
    exp_loc: Located,
    act_loc: Located,
    *,
    exp_keys: KeyStore | None,
    act_keys: KeyStore | None,
) -> None:
    if exp_keys is None or act_keys is None:
        return
    exp_state, exp_plain = decrypt_payload(exp_loc, exp_keys)
    act_state, act_plain = decrypt_payload(act_loc, act_keys)
    if exp_state == "not encrypted" and act_state == "not encrypted":
        return
    if exp_state == "decrypted" and act_state == "decrypted":
        _compare_plaintexts(walk, family, exp_plain, act_plain, exp_loc)
        return
    if act_state == "failed":
        walk.form(f"{family}.decryption", exp_state, act_state, "form")
        return
    walk.notes.append(f"plaintexts not compared (reference: {exp_state}, device: {act_state})")


def _verdict(walk: _Walk) -> Comparison:
    return Comparison(tuple(walk.differences), tuple(walk.tolerated), tuple(walk.notes))
