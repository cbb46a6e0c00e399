"""Device fault states kept in NVM: what a test lab puts a meter into before an error test.

Layer: firmware. A real meter answers ``hardware-fault`` when the part behind a COSEM object
(the load switch, a register bank, the clock chip) has failed, and ``temporary-failure``
when that part is busy. Firmware cannot be told "answer an error"; a lab makes the part fail.
The emulator models the failed part as an NVM flag, one per COSEM access point::

    fault/<kind>/<class id>/<logical name hex>/<get|set|action>/<attribute or method id>

:func:`serve <smemu.firmware.common.cosem.serve>` consults :func:`active` before calling a
handler; a faulted access point is not executed and answers the DLMS result code of its
:class:`FaultKind` (gbcs-reference.md, Data-Access-Result / Action-Result values). The flags
persist like any NVM: a device built from an image holding them is faulty until they are
cleared (:func:`clear`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from smemu.errors import DecodeError

PREFIX: Final = "fault/"


class FaultKind(enum.StrEnum):
    """A failure a lab can induce; the value is the NVM key segment."""

    #: the part behind the object has failed (result 1 hardware-fault)
    HARDWARE = "hardware"
    #: the part is momentarily unable to serve (result 2 temporary-failure)
    TEMPORARY = "temporary"

    @property
    def result(self) -> int:
        """The Data-Access-Result / Action-Result value (the same numbers in both)."""
        return _RESULTS[self]


_RESULTS: Final[Mapping[FaultKind, int]] = {FaultKind.HARDWARE: 1, FaultKind.TEMPORARY: 2}


class Access(enum.StrEnum):
    """How a request touches an object."""

    GET = "get"
    SET = "set"
    ACTION = "action"


@dataclass(frozen=True, slots=True)
class AccessPoint:
    """One attribute (for get / set) or method (for action) of one COSEM object."""

    access: Access
    class_id: int
    logical_name: bytes
    index: int  #: attribute id or method id

    def __str__(self) -> str:
        return (
            f"{self.access.value} class {self.class_id} "
            f"{'.'.join(str(b) for b in self.logical_name)} #{self.index}"
        )


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault of ``kind`` at ``point``."""

    kind: FaultKind
    point: AccessPoint

    @property
    def key(self) -> str:
        """The NVM key holding this fault's flag."""
        p = self.point
        return (
            f"{PREFIX}{self.kind.value}/{p.class_id}/{p.logical_name.hex()}/"
            f"{p.access.value}/{p.index}"
        )

    @classmethod
    def parse(cls, key: str) -> Fault:
        """The fault an NVM key names.

        :raises DecodeError: ``key`` is not a fault key.
        """
        parts = key.split("/")
        if len(parts) != 6 or parts[0] + "/" != PREFIX:
            raise DecodeError(f"not a fault key: {key!r}", path="nvm")
        try:
            return cls(
                FaultKind(parts[1]),
                AccessPoint(
                    Access(parts[4]), int(parts[2]), bytes.fromhex(parts[3]), int(parts[5])
                ),
            )
        except ValueError as exc:
            raise DecodeError(f"bad fault key {key!r}: {exc}", path="nvm") from exc


#: the flag's value: present means faulty
FLAG: Final = b"\x01"


def image(faults: Iterable[Fault]) -> dict[str, bytes]:
    """The NVM entries that put a device into ``faults``."""
    return {fault.key: FLAG for fault in faults}


class Readable(Protocol):
    """An NVM view: a committed image or a step's :class:`~smemu.firmware.common.machine.Tx`."""

    def get(self, key: str, /) -> bytes | None: ...


def active(nvm: Readable, point: AccessPoint) -> FaultKind | None:
    """The fault at ``point``, if any (hardware first: a dead part is not merely busy)."""
    for kind in FaultKind:
        if nvm.get(Fault(kind, point).key):
            return kind
    return None


def listed(keys: Iterable[str]) -> list[Fault]:
    """Every fault among NVM ``keys`` (other keys are ignored)."""
    return [Fault.parse(k) for k in keys if k.startswith(PREFIX)]


def clear(nvm: Mapping[str, bytes]) -> dict[str, bytes]:
    """``nvm`` without its fault flags (the part repaired)."""
    return {k: v for k, v in nvm.items() if not k.startswith(PREFIX)}
