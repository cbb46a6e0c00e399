"""Vocabulary of the per-use-case COSEM object table: objects, their fields, OBIS text.

Layer: protocols (sans-IO). :class:`CosemObject` is one attribute or method a GBCS use case
accesses (GBCS Use Case volume, "DLMS COSEM specific content"); :class:`Field` is one element
of its value as the volume lists it (a path through the value's structures and arrays, the
DLMS data type, a constant where GBCS fixes one). :func:`o` and :func:`F` are the compact
constructors the table modules are written with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["CosemObject", "F", "Field", "format_ref", "o", "parse_obis"]

_OBIS: Final = re.compile(r"^(\d+)-(\d+):(\d+)\.(\d+)\.(\d+)\.(\d+)$")
_RANGE: Final = re.compile(r"\[(\d+)(?:of\d+)?\.\.(\d+)\]")
_DOT: Final = re.compile(r"\.(?![^\[]*\])")


def parse_obis(text: str) -> bytes:
    """``0-0:94.44.42.255`` -> the six logical-name octets.

    :raises ValueError: not an OBIS code in ``A-B:C.D.E.F`` form.
    """
    match = _OBIS.match(text)
    if match is None:
        raise ValueError(f"not an OBIS code: {text!r}")
    return bytes(int(g) for g in match.groups())


def _obis_text(obis: bytes) -> str:
    a, b, c, d, e, f = obis
    return f"{a}-{b}:{c}.{d}.{e}.{f}"


def format_ref(class_id: int, obis: bytes, method: bool, index: int) -> str:
    """``3/1-0:1.8.0.255/a2`` (attribute) or ``30/0-0:43.2.8.255/m1`` (method)."""
    return f"{class_id}/{_obis_text(obis)}/{'m' if method else 'a'}{index}"


@dataclass(frozen=True, slots=True)
class Field:
    """One element of an object's value as the Use Case volume lists it.

    ``path`` walks the value: dot-separated member names, ``name[lo..hi]`` for an array of
    lo..hi elements, e.g. ``buffer[1..100].entry_eventLogEntry8.timestamp``.
    """

    path: str
    type: str  #: DLMS data type as the volume spells it, e.g. ``octet-string(12)``
    constant: str | None = None  #: the value GBCS fixes, where it does
    condition: str | None = None  #: e.g. ``TWIN_ELEMENT_ESME_ONLY``, ``OPTIONAL``
    label: str = ""  #: the SMETS / CHTS data item name

    @property
    def segments(self) -> tuple[tuple[str, tuple[int, int] | None], ...]:
        """The path as (member name, array bounds or None) pairs."""
        out: list[tuple[str, tuple[int, int] | None]] = []
        for part in _DOT.split(self.path):
            match = _RANGE.search(part)
            if match is None:
                out.append((part, None))
            else:
                out.append((part[: match.start()], (int(match.group(1)), int(match.group(2)))))
        return tuple(out)


@dataclass(frozen=True, slots=True)
class CosemObject:
    """One COSEM attribute or method a use case accesses."""

    class_id: int  #: interface class (0: the alert body of a data-notification)
    obis: bytes  #: logical name (six octets)
    method: bool  #: a method (action) rather than an attribute
    index: int  #: attribute or method id
    name: str  #: attribute / method name, e.g. ``buffer``, ``threshold_normal``
    label: str  #: the SMETS / CHTS object, e.g. ``LoadLimitCounter``
    fields: tuple[Field, ...] = ()  #: elements of a structured value
    type: str | None = None  #: DLMS data type of a simple value
    condition: str | None = None  #: e.g. ``OPTIONAL``: the object may be left out
    rows: int | None = None  #: Profile generic buffers: the most entries a read returns
    selective: bool = False  #: read with selective access (range_descriptor, selector 1)
    protected: bool = False  #: travels inside the Data Protection response, not the request

    @property
    def ref(self) -> str:
        """``class/OBIS/aN`` or ``class/OBIS/mN``."""
        return format_ref(self.class_id, self.obis, self.method, self.index)

    def matches(self, class_id: int, obis: bytes, method: bool, index: int) -> bool:
        """Whether an access addresses this object's attribute / method."""
        return (self.class_id, self.obis, self.method, self.index) == (
            class_id, obis, method, index,
        )  # fmt: skip


def F(  # noqa: N802 - table shorthand
    path: str,
    type: str,
    *,
    constant: str | None = None,
    condition: str | None = None,
    label: str = "",
) -> Field:
    """Table shorthand for :class:`Field`."""
    return Field(path, type, constant, condition, label)


def o(  # noqa: PLR0917 - table shorthand: the six columns of the volume's rows
    class_id: int,
    obis: str,
    kind: str,
    index: int,
    name: str,
    label: str,
    *fields: Field,
    type: str | None = None,
    condition: str | None = None,
    rows: int | None = None,
    selective: bool = False,
    protected: bool = False,
) -> CosemObject:
    """Table shorthand for :class:`CosemObject`; ``kind`` is ``A`` (attribute) or ``M``."""
    return CosemObject(
        class_id, parse_obis(obis), kind == "M", index, name, label, fields, type, condition,
        rows, selective, protected,
    )  # fmt: skip
