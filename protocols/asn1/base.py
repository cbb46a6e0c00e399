"""The base of every typed DER payload: decode, encode, JSON view, driven by field types.

Layer: protocols (sans-IO). A payload class is a frozen dataclass whose fields are the
members of one type in the module of :mod:`smemu.protocols.asn1._der` (member name = the
camelCase of the field name). Values are converted by their annotated type, so adding a
schema means writing its ASN.1 text and its dataclass, nothing else.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import UTC, datetime
from typing import Any, ClassVar, Final, Self

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.asn1._der import (
    apply_length_forms,
    decode_value,
    encode_value,
    length_forms,
)
from smemu.protocols.asn1.values import (
    AlertCode,
    Certificate,
    CertificationRequest,
    KeyUsage,
    certificate_summary,
    certification_request_summary,
)
from smemu.protocols.gbcs.types import Eui64

#: Shapes of the ASN.1 type behind a payload class.
SEQUENCE: Final = "sequence"  #: fields are the members of a SEQUENCE
VALUE: Final = "value"  #: the one field is the whole value (INTEGER, OCTET STRING, SEQUENCE OF)
NULL: Final = "null"  #: no fields: the payload is NULL
CHOICE: Final = "choice"  #: one field set, or none for the NULL alternative (``_variants``)

_LENGTH_FORMS_FIELD: Final = "der_length_octets"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


#: Resolved fields per dataclass; filled on first use of each class (a cache, not a registry).
_MEMBERS: Final[dict[type, tuple[tuple[str, str, Any], ...]]] = {}


def _members(cls: type) -> tuple[tuple[str, str, Any], ...]:
    """(field name, ASN.1 member name, annotated type) of a dataclass, in order."""
    found = _MEMBERS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = _MEMBERS[cls] = tuple(
            (f.name, _camel(f.name), hints[f.name])
            for f in dataclasses.fields(cls)
            if f.name != _LENGTH_FORMS_FIELD
        )
    return found


def _is_record(tp: Any) -> bool:
    """Whether an annotation is a dataclass (a SEQUENCE of members)."""
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _optional_inner(tp: Any) -> Any | None:
    """``X`` for an annotation ``X | None``, else None."""
    if typing.get_origin(tp) in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return None


def from_value(tp: Any, value: Any, path: str) -> Any:
    """Typed Python value of annotation ``tp`` from asn1tools' plain ``value``.

    :raises DecodeError: a value the type does not allow (an undefined enumeration value,
        a fractional second).
    """
    inner = _optional_inner(tp)
    if inner is not None:
        return None if value is None else from_value(inner, value, path)
    if typing.get_origin(tp) is tuple:
        item = typing.get_args(tp)[0]
        return tuple(from_value(item, v, f"{path}[{i}]") for i, v in enumerate(value))
    if _is_record(tp):
        kwargs = {
            name: from_value(ftp, value.get(member), f"{path}.{name}")
            for name, member, ftp in _members(tp)
        }
        return tp(**kwargs)
    if tp in (bytes, Certificate, CertificationRequest):
        return bytes(value)
    if tp is Eui64:
        return Eui64(bytes(value))
    if tp in (int, AlertCode):
        return int(value)
    if tp is datetime:
        if value.microsecond:
            raise DecodeError("expected whole seconds (YYYYMMDDhhmmssZ)", path=path)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if tp is KeyUsage:
        try:
            return KeyUsage.from_bits(bytes(value[0]), value[1])
        except ValueError as exc:
            raise DecodeError(str(exc), path=path) from exc
    if isinstance(tp, type) and issubclass(tp, enum.IntEnum):
        try:
            return tp(value)
        except ValueError:
            raise DecodeError(f"{value} is not a defined {tp.__name__}", path=path) from None
    raise TypeError(f"no ASN.1 conversion for {tp!r} at {path}")  # a schema defect


def to_value(tp: Any, value: Any, path: str) -> Any:
    """asn1tools' plain value for a typed Python ``value`` of annotation ``tp``.

    :raises LocalProtocolError: a value of the wrong type, or a time that is naive or has a
        fraction of a second.
    """
    inner = _optional_inner(tp)
    if inner is not None:
        return None if value is None else to_value(inner, value, path)
    if typing.get_origin(tp) is tuple:
        item = typing.get_args(tp)[0]
        return [to_value(item, v, f"{path}[{i}]") for i, v in enumerate(_sequence(value, path))]
    if _is_record(tp):
        if not isinstance(value, tp):
            raise LocalProtocolError(f"{path}: expected {tp.__name__}, got {value!r}")
        out = {}
        for name, member, ftp in _members(tp):
            v = to_value(ftp, getattr(value, name), f"{path}.{name}")
            if v is not None:
                out[member] = v
        return out
    if tp in (bytes, Certificate, CertificationRequest, Eui64):
        if not isinstance(value, bytes | bytearray):
            raise LocalProtocolError(f"{path}: expected bytes, got {value!r}")
        return bytes(value)
    if tp is datetime:
        if not isinstance(value, datetime) or value.tzinfo is None or value.microsecond:
            raise LocalProtocolError(f"{path}: expected an aware datetime in whole seconds")
        return value.astimezone(UTC).replace(tzinfo=None)
    if tp is KeyUsage:
        if not isinstance(value, KeyUsage):
            raise LocalProtocolError(f"{path}: expected KeyUsage, got {value!r}")
        return value.to_bits()
    if isinstance(tp, type) and issubclass(tp, enum.IntEnum):
        if not isinstance(value, tp):
            raise LocalProtocolError(f"{path}: expected {tp.__name__}, got {value!r}")
        return int(value)
    if tp in (int, AlertCode):
        if not isinstance(value, int) or isinstance(value, bool):
            raise LocalProtocolError(f"{path}: expected an integer, got {value!r}")
        return value
    raise TypeError(f"no ASN.1 conversion for {tp!r} at {path}")  # a schema defect


def _sequence(value: Any, path: str) -> tuple[Any, ...]:
    if not isinstance(value, tuple | list):
        raise LocalProtocolError(f"{path}: expected a tuple, got {value!r}")
    return tuple(value)


def to_json(tp: Any, value: Any) -> Any:
    """A JSON-ready rendering of a typed value, as people read it.

    Enumerations by name, EUI-64s dashed, times ISO 8601, alert codes in hex, certificates
    summarised (subject, serial, key usage) with their DER in hex, other bytes in hex.
    Absent OPTIONAL members are left out.
    """
    if value is None:
        return None
    inner = _optional_inner(tp)
    if inner is not None:
        return to_json(inner, value)
    if typing.get_origin(tp) is tuple:
        item = typing.get_args(tp)[0]
        return [to_json(item, v) for v in value]
    if _is_record(tp):
        out = {}
        for name, _member, ftp in _members(tp):
            v = getattr(value, name)
            if v is not None:
                out[name] = to_json(ftp, v)
        return out
    if tp is Certificate:
        return certificate_summary(value)
    if tp is CertificationRequest:
        return certification_request_summary(value)
    if tp is Eui64:
        return str(value)
    if tp is bytes:
        return value.hex()
    if tp is AlertCode:
        return f"{value:04X}"
    if tp is datetime:
        return value.isoformat().replace("+00:00", "Z")
    if tp is KeyUsage:
        return value.names
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return value.name.lower()
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class Asn1Payload:
    """Base of the typed DER payloads; ``decode_exact`` / ``encode`` / ``to_json``.

    Subclasses set ``schema`` (the ASN.1 type name, also the registry's name for them) and
    ``shape``. ``der_length_octets`` records elements whose length arrived in a longer form
    than DER's shortest (as ``(pre-order element index, length octets)``), so that decoding
    and encoding give back the very bytes that were signed; builders leave it empty.
    """

    family: ClassVar[str] = "asn1"
    schema: ClassVar[str] = ""
    shape: ClassVar[str] = SEQUENCE
    #: for CHOICE shapes: (first byte, ASN.1 type, field name or "" for NULL) per alternative
    _variants: ClassVar[tuple[tuple[int, str, str], ...]] = ()
    #: SEQUENCE members of type NULL (no field: their value is always NULL)
    _null_members: ClassVar[tuple[str, ...]] = ()

    der_length_octets: tuple[tuple[int, int], ...] = dataclasses.field(
        default=(), kw_only=True, repr=False
    )

    @property
    def undecoded_bytes(self) -> int:
        """Payload bytes not decoded into typed fields: always 0 for these schemas."""
        return 0

    # -- encoding -------------------------------------------------------------------------

    def _asn1(self) -> tuple[str, Any]:
        """(ASN.1 type name, asn1tools value) for this payload."""
        cls = type(self)
        members = _members(cls)
        path = cls.schema
        if cls.shape == SEQUENCE:
            value = to_value(cls, self, path)
            value.update(dict.fromkeys(cls._null_members))
            return cls.schema, value
        if cls.shape == NULL:
            return cls.schema, None
        if cls.shape == VALUE:
            name, _member, ftp = members[0]
            return cls.schema, to_value(ftp, getattr(self, name), f"{path}.{name}")
        chosen = [(n, t) for n, _m, t in members if getattr(self, n) is not None]
        if len(chosen) > 1:
            raise LocalProtocolError(f"{path}: set at most one of {[n for n, _ in chosen]}")
        wanted = chosen[0][0] if chosen else ""
        for _first, type_name, field_name in cls._variants:
            if field_name == wanted:
                if not chosen:
                    return type_name, None
                ftp = chosen[0][1]
                return type_name, to_value(ftp, getattr(self, wanted), f"{path}.{wanted}")
        raise LocalProtocolError(f"{path}: no alternative carries {wanted or 'nothing'}")

    def encode(self) -> bytes:
        """The DER payload (with any recorded long length forms).

        :raises LocalProtocolError: a field value the schema does not allow.
        """
        type_name, value = self._asn1()
        der = encode_value(type_name, value, path=self.schema)
        return apply_length_forms(der, self.der_length_octets, path=self.schema)

    # -- decoding -------------------------------------------------------------------------

    @classmethod
    def _from_asn1(cls, type_name: str, value: Any) -> Self:
        path = cls.schema
        members = _members(cls)
        if cls.shape == SEQUENCE:
            result: Self = from_value(cls, value, path)
            return result
        if cls.shape == NULL:
            return cls()
        if cls.shape == VALUE:
            name, _member, ftp = members[0]
            return cls(**{name: from_value(ftp, value, f"{path}.{name}")})
        field_name = next(f for _b, t, f in cls._variants if t == type_name)
        if not field_name:
            return cls()
        ftp = next(t for n, _m, t in members if n == field_name)
        return cls(**{field_name: from_value(ftp, value, f"{path}.{field_name}")})

    @classmethod
    def decode_exact(cls, data: bytes) -> Self:
        """Decode a whole payload of this schema.

        :raises DecodeError: malformed DER, trailing bytes, a value the schema does not define,
            or an encoding other than DER (apart from long length forms, which are kept).
        """
        path = cls.schema
        type_name = cls.schema
        if cls.shape == CHOICE:
            first = data[0] if data else None
            for byte, name, _field in cls._variants:
                if byte == first:
                    type_name = name
                    break
            else:
                expected = " or ".join(f"0x{b:02X}" for b, _n, _f in cls._variants)
                got = "end of data" if first is None else f"0x{first:02X}"
                raise DecodeError(f"expected tag {expected}, got {got}", path=path, offset=0)
        value = decode_value(type_name, data, path=path)
        obj = cls._from_asn1(type_name, value)
        try:
            canonical = encode_value(*obj._asn1(), path=path)
        except LocalProtocolError as exc:
            raise DecodeError(str(exc), path=path, offset=0) from exc
        if canonical == data:
            return obj
        forms = length_forms(data)
        again = apply_length_forms(canonical, forms, path=path) if forms else canonical
        if again != data:
            at = next(
                (i for i, (a, b) in enumerate(zip(again, data, strict=False)) if a != b),
                min(len(again), len(data)),
            )
            raise DecodeError("expected the DER encoding (X.690 section 10)", path=path, offset=at)
        return dataclasses.replace(obj, der_length_octets=forms)

    def to_json(self) -> Any:
        """The payload as a JSON-ready tree (see :func:`to_json`); ``{}`` for a NULL payload."""
        return to_json(type(self), self)
