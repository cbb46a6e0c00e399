"""Device fault states kept in NVM: what a test lab puts a meter into before an error test.

Layer: firmware. A real meter answers ``hardware-fault`` when the part behind a COSEM object
(the load switch, a register bank, the clock chip) has failed, and ``temporary-failure``
when that part is busy. Firmware cannot be told "answer an error"; a lab makes the part fail.
The emulator models the failed part as an NVM flag, one per COSEM access point, ZCL access
point (a cluster's command, or one of its attributes) or ASN.1 use case::

    fault/<kind>/<class id>/<logical name hex>/<get|set|action>/<attribute or method id>
    fault/<kind>/zcl/<cluster id hex>/<command|attribute>/<command or attribute id hex>[.<n>]
    fault/<kind>/usecase/<message code hex>

:func:`serve <smemu.firmware.common.cosem.serve>` consults :func:`active` before calling a
handler; a faulted access point is not executed and answers the DLMS result code of its
:class:`FaultKind` (gbcs-reference.md, Data-Access-Result / Action-Result values). The gas
meter's ZCL server (:func:`smemu.firmware.gas_zcl.serve`) consults :func:`active_zcl` the
same way and answers the kind's ZCL status (ZCL r8 2.6.3: ``HARDWARE_FAILURE`` 0xC0) in a
Default Response, or per attribute in a Read Attributes Response.

An ASN.1 use case (security credentials, device log, firmware version) touches no COSEM
object nor ZCL attribute: the part behind it -- the key store, the certificate store, the
trust anchor store, the device log -- serves the use case's function as a whole, so its
fault sits at a :class:`UseCasePoint` (the message code). The use case's handler consults
:func:`active` and answers the response code its schema names for that part's failure
(gbcs-reference.md 7.8: CS02c ``crProductionFailed``, CS07 ``readFailure``, ...); which
use cases a firmware consults is that firmware's declaration (``FAULTABLE_USE_CASES``). The
flags persist like any
NVM: a device built from an image holding them is faulty until they are cleared
(:func:`clear`).
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

    @property
    def zcl_status(self) -> int | None:
        """The ZCL status a faulted ZCL access point answers (None: ZCL has no such status).

        ZCL r8 2.6.3 names ``HARDWARE_FAILURE`` (0xC0) for a failed part; it has no status
        for a part that is merely busy, so a temporary fault is not modelled on ZCL points.
        """
        return _ZCL_STATUSES.get(self)


_RESULTS: Final[Mapping[FaultKind, int]] = {FaultKind.HARDWARE: 1, FaultKind.TEMPORARY: 2}
_ZCL_STATUSES: Final[Mapping[FaultKind, int]] = {FaultKind.HARDWARE: 0xC0}


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


class ZclAccess(enum.StrEnum):
    """How a ZCL frame touches a cluster."""

    COMMAND = "command"  #: a cluster-specific command (answered by a Default Response)
    ATTRIBUTE = "attribute"  #: one attribute of a Read Attributes


@dataclass(frozen=True, slots=True)
class ZclPoint:
    """One command or one attribute of one ZCL cluster.

    A GBZ payload may carry the same command several times, each acting on another part
    through its fields (GCS04: one Change Debt per debt register). Without a model of every
    command's fields, ``occurrence`` tells them apart by order: the n-th (from 0) frame of
    this command in one GBZ payload. None: every occurrence.
    """

    access: ZclAccess
    cluster_id: int
    index: int  #: command id or attribute id
    occurrence: int | None = None

    def __str__(self) -> str:
        text = f"zcl cluster 0x{self.cluster_id:04X} {self.access.value} 0x{self.index:04X}"
        return text if self.occurrence is None else f"{text} (occurrence {self.occurrence})"


_ZCL: Final = "zcl"


@dataclass(frozen=True, slots=True)
class UseCasePoint:
    """The function of one ASN.1 use case as a whole, named by its message code."""

    message_code: int

    def __str__(self) -> str:
        return f"use case 0x{self.message_code:04X}"


_USE_CASE: Final = "usecase"
#: any point a fault can sit at
Point = AccessPoint | ZclPoint | UseCasePoint


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault of ``kind`` at ``point``."""

    kind: FaultKind
    point: Point

    @property
    def key(self) -> str:
        """The NVM key holding this fault's flag."""
        p = self.point
        if isinstance(p, UseCasePoint):
            return f"{PREFIX}{self.kind.value}/{_USE_CASE}/{p.message_code:04x}"
        if isinstance(p, ZclPoint):
            nth = "" if p.occurrence is None else f".{p.occurrence}"
            return (
                f"{PREFIX}{self.kind.value}/{_ZCL}/{p.cluster_id:04x}/{p.access.value}/"
                f"{p.index:04x}{nth}"
            )
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
        use_case = len(parts) == 4 and parts[2] == _USE_CASE
        if (len(parts) != 6 and not use_case) or parts[0] + "/" != PREFIX:
            raise DecodeError(f"not a fault key: {key!r}", path="nvm")
        try:
            if use_case:
                code = int(parts[3], 16)
                if not 0 <= code <= 0xFFFF:
                    raise ValueError("message code out of range")
                return cls(FaultKind(parts[1]), UseCasePoint(code))
            if parts[2] == _ZCL:
                index, _, nth = parts[5].partition(".")
                return cls(
                    FaultKind(parts[1]),
                    ZclPoint(
                        ZclAccess(parts[4]),
                        int(parts[3], 16),
                        int(index, 16),
                        int(nth) if nth else None,
                    ),
                )
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


def active(nvm: Readable, point: Point) -> FaultKind | None:
    """The fault at ``point``, if any (hardware first: a dead part is not merely busy)."""
    for kind in FaultKind:
        if nvm.get(Fault(kind, point).key):
            return kind
    return None


def active_zcl(
    nvm: Readable, access: ZclAccess, cluster_id: int, index: int, occurrence: int = 0
) -> int | None:
    """The ZCL status a fault at this ZCL access point answers, or None (no modelled fault).

    :param index: the command id (``COMMAND``) or the attribute id (``ATTRIBUTE``).
    :param occurrence: the frame's rank among the frames of this command in its GBZ payload
        (a fault of every occurrence, or of this one, applies).
    """
    points = (
        ZclPoint(access, cluster_id, index),
        ZclPoint(access, cluster_id, index, occurrence),
    )
    for kind in FaultKind:
        status = kind.zcl_status
        if status is not None and any(nvm.get(Fault(kind, p).key) for p in points):
            return status
    return None


def listed(keys: Iterable[str]) -> list[Fault]:
    """Every fault among NVM ``keys`` (other keys are ignored)."""
    return [Fault.parse(k) for k in keys if k.startswith(PREFIX)]


def clear(nvm: Mapping[str, bytes]) -> dict[str, bytes]:
    """``nvm`` without its fault flags (the part repaired)."""
    return {k: v for k, v in nvm.items() if not k.startswith(PREFIX)}
