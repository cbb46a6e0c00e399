"""Preconditions of error scenarios: the device condition a reference ERROR response tests.

Layer: hil. The reference ERROR scenarios send the same command bytes as their SUCCESS twins;
only the answer differs (``hardware-fault`` where the SUCCESS answer says ``success``). A
meter built from the specification answers a good command successfully unless something is
wrong with it -- so the lab, before sending, puts the meter into the condition under test
(it breaks the load switch, fills the certificate store). This module derives that
condition, in generic terms, from the reference scenario:

* :data:`FAILURES` -- the one reviewed table from a response failure code to the
  :class:`Condition` it evidences (or to none: a code the device must produce from its own
  logic, which no precondition may force), with a reason per row;
* :func:`derive` -- reads the reference command and response and names the condition and
  the access point it concerns (the DLMS attribute or method of the first failed
  instruction; for an ASN.1 use case, the use case's function as a whole).

A :class:`~smemu.hil.dut.DeviceUnderTest` is then asked to enter each
:class:`Precondition` (``prepare``); a device that cannot (a real rig) says so, and the
runner skips the scenario with that reason. The firmware's answer under the condition is its
own (:mod:`smemu.firmware.common.faults`): nothing here tells a device what to answer.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from smemu.errors import DecodeError
from smemu.firmware.common.faults import Access, AccessPoint
from smemu.protocols.dlms import apdu
from smemu.protocols.gbcs import frame


class Condition(enum.StrEnum):
    """A device fault condition a lab can put a real meter into."""

    #: the part behind the touched object has failed (a broken switch, a dead register bank,
    #: a credential store that cannot be read or written)
    HARDWARE_FAULT = "hardware-fault"
    #: the part is momentarily unable to serve (busy, resources exhausted)
    TEMPORARY_FAILURE = "temporary-failure"


@dataclass(frozen=True, slots=True)
class Failure:
    """One row of :data:`FAILURES`."""

    family: str  #: payload family of the response: ``dlms`` or ``asn1``
    code: int  #: the result / response code
    condition: Condition | None  #: None: the device must produce this code by itself
    reason: str
    #: use cases the row applies to (ASN.1 response codes are per use case; empty: all)
    message_codes: frozenset[int] = frozenset()


#: Response failure code -> the device condition it evidences. Review like a spec change.
FAILURES: Final[tuple[Failure, ...]] = (
    Failure(
        "dlms",
        1,
        Condition.HARDWARE_FAULT,
        "hardware-fault (gbcs-reference.md, Data-Access-Result / Action-Result 1): only a "
        "failed part makes a conformant meter report it; the lab breaks that part",
    ),
    Failure(
        "dlms",
        2,
        Condition.TEMPORARY_FAILURE,
        "temporary-failure (result 2): the part is busy; the lab keeps it busy",
    ),
    Failure(
        "dlms",
        250,
        None,
        "other-reason: the consequence of an earlier failed instruction, or a check the Use "
        "Case volume defines (e.g. emergency credit not available) -- device logic",
    ),
    Failure(
        "dlms",
        3,
        None,
        "read-write-denied: the device's access rights decide it, not a fault",
    ),
    Failure("dlms", 4, None, "object-undefined: the device's object model decides it"),
    Failure("dlms", 11, None, "object-unavailable: the device's object model decides it"),
    Failure("dlms", 12, None, "type-unmatched: the command's data decides it"),
    Failure(
        "asn1",
        3,
        Condition.HARDWARE_FAULT,
        "CS02c crProductionFailed: the key store / signing engine failed to produce the "
        "certification request (gbcs-reference.md 7.8)",
        frozenset({0x000A}),
    ),
    Failure(
        "asn1",
        3,
        Condition.HARDWARE_FAULT,
        "CS02e certificateRetrievalFailure: the certificate store cannot be read",
        frozenset({0x000C}),
    ),
    Failure(
        "asn1",
        6,
        Condition.HARDWARE_FAULT,
        "CS02d certificateStorageFailed: the certificate store cannot be written",
        frozenset({0x000B}),
    ),
    Failure(
        "asn1",
        5,
        Condition.HARDWARE_FAULT,
        "CS03 writeFailure: the device log cannot be written",
        frozenset({0x000D, 0x00AB, 0x000E, 0x00AF}),
    ),
)


def failure_row(family: str, code: int, message_code: int) -> Failure | None:
    """The table's row for ``code`` in a ``family`` response to ``message_code``."""
    for row in FAILURES:
        if row.family != family or row.code != code:
            continue
        if row.message_codes and message_code not in row.message_codes:
            continue
        return row
    return None


@dataclass(frozen=True, slots=True)
class Precondition:
    """The device must be in ``condition`` for ``point`` before the command is sent."""

    condition: Condition
    message_code: int
    #: the DLMS attribute or method concerned; None: the use case's function as a whole
    point: AccessPoint | None
    reason: str  #: the table row's reason

    def __str__(self) -> str:
        target = (
            f"the use case 0x{self.message_code:04X}" if self.point is None else str(self.point)
        )
        return f"{self.condition.value} for {target}"


def _point(spec: apdu.AccessRequestSpecification) -> AccessPoint:
    if isinstance(spec, (apdu.AccessRequestGet, apdu.AccessRequestGetWithSelection)):
        return AccessPoint(Access.GET, spec.class_id, spec.instance_id, spec.attribute_id)
    if isinstance(spec, (apdu.AccessRequestSet, apdu.AccessRequestSetWithSelection)):
        return AccessPoint(Access.SET, spec.class_id, spec.instance_id, spec.attribute_id)
    return AccessPoint(Access.ACTION, spec.class_id, spec.instance_id, spec.method_id)


def _payload(message: bytes) -> tuple[int, str, bytes]:
    inner = frame.signing_message(frame.locate(message).message)
    if inner is None:
        raise DecodeError("a GBT block", path="message")
    return inner.header.message_code, frame.payload_family(inner.payload), inner.payload


def request_points(command: bytes) -> tuple[AccessPoint, ...]:
    """The access points a DLMS command touches, in order (empty for other payloads)."""
    try:
        _, family, payload = _payload(command)
        if family != "dlms":
            return ()
        request = apdu.decode_exact(payload)
    except DecodeError:
        return ()
    if not isinstance(request, apdu.AccessRequestMessage):
        return ()
    return tuple(_point(spec) for spec in request.specifications)


def response_results(response: bytes) -> tuple[int, ...]:
    """The result codes of a DLMS access-response, in order (empty for other payloads)."""
    try:
        _, family, payload = _payload(response)
        if family != "dlms":
            return ()
        message = apdu.decode_exact(payload)
    except DecodeError:
        return ()
    if not isinstance(message, apdu.AccessResponseMessage):
        return ()
    return tuple(spec.result for spec in message.specifications)


def _asn1_code(payload: bytes) -> int | None:
    """The response code of an ASN.1 response that is a bare INTEGER (``02 01 nn``)."""
    if len(payload) == 3 and payload[0] == 0x02 and payload[1] == 0x01:
        return payload[2]
    return None


def derive(command: bytes, response: bytes) -> tuple[Precondition, ...]:
    """The preconditions the reference ``response`` to ``command`` evidences.

    DLMS: the first non-success result names the failed instruction; its code's row gives
    the condition, the command's instruction at that index the access point (later results
    are ``other-reason`` by the stop-at-first-failure rule and evidence nothing). ASN.1: a
    bare INTEGER response code, looked up per use case. Codes whose row has no condition,
    and codes with no row, give no precondition: the device must answer them by itself.
    """
    try:
        message_code, family, payload = _payload(response)
    except DecodeError:
        return ()
    if family == "dlms":
        results = response_results(response)
        index = next((i for i, r in enumerate(results) if r != 0), None)
        if index is None:
            return ()
        row = failure_row("dlms", results[index], message_code)
        if row is None or row.condition is None:
            return ()
        points = request_points(command)
        point = points[index] if index < len(points) else None
        return (Precondition(row.condition, message_code, point, row.reason),)
    if family == "asn1":
        code = _asn1_code(payload)
        if code is None or code == 0:
            return ()
        row = failure_row("asn1", code, message_code)
        if row is None or row.condition is None:
            return ()
        return (Precondition(row.condition, message_code, None, row.reason),)
    return ()


def describe(preconditions: Sequence[Precondition]) -> str:
    """One line for reports: ``hardware-fault for get class 3 1.0.1.8.0.255 #2``."""
    return "; ".join(str(p) for p in preconditions)


# ------------------------------------------------------------------------ device clock


def _instant(octets: bytes) -> datetime | None:
    """A GBCS header date-time (COSEM date-time, 12 octets, UTC) as a datetime."""
    if len(octets) != 12:
        return None
    year = int.from_bytes(octets[0:2], "big")
    try:
        return datetime(year, octets[2], octets[3], octets[5], octets[6], octets[7], tzinfo=UTC)
    except ValueError:  # 0xFF "not specified" fields
        return None


def earliest_date_time(answers: Iterable[bytes]) -> datetime | None:
    """The reference devices' clock: the earliest header date-time among ``answers``.

    A lab sets the clock of a device under test before a run. The principled setting is
    the clock the reference devices had when the reference answers were recorded, which
    the answers carrying a GBCS header date-time (ref. 7.2.5) tell; time-bound commands
    (ECS70's validity window, future-dated execution times) were made for that clock.
    None when no answer carries one (the caller keeps its default epoch).
    """
    found: list[datetime] = []
    for answer in answers:
        try:
            inner = frame.signing_message(frame.locate(answer).message)
        except DecodeError:
            continue
        if inner is None or inner.header.date_time is None:
            continue
        instant = _instant(bytes(inner.header.date_time))
        if instant is not None:
            found.append(instant)
    return min(found, default=None)


# ------------------------------------------------------------------- configured state


@dataclass(frozen=True, slots=True)
class Write:
    """A successful immediate command of the vector set that writes attributes."""

    key: str  #: the scenario's id
    command: bytes
    writes: frozenset[AccessPoint]


@dataclass(slots=True)
class WriteIndex:
    """Which commands of a vector set configure which attributes, per device type.

    A read of configuration (MPAN, contact details, labels, thresholds) answers what the
    device was configured with, and the reference meter had been configured by the set's
    own write scenarios. The lab's way -- and the one used here -- is to configure the
    device first: before a pure read, the runner replays (re-keyed, fresh counters) the
    write commands of the same set that set the attributes read, so the device holds the
    configured values and the read is compared strictly. Only commands whose reference
    answer is all-success and which are not future-dated qualify. Where no write in the set
    sets an attribute, the read's values stay as the device has them, and
    :mod:`smemu.hil.compare_rules` says (per use case, with a reason) whether its values may
    differ.
    """

    _by_point: dict[tuple[object, AccessPoint], list[Write]] = field(default_factory=dict)

    def add(self, group: object, key: str, command: bytes, response: bytes) -> None:
        """Index ``command`` (scenario ``key``, device group ``group``) if it qualifies."""
        points = request_points(command)
        results = response_results(response)
        if not points or len(results) != len(points) or any(results):
            return
        try:
            inner = frame.signing_message(frame.locate(command).message)
        except DecodeError:
            return
        if inner is None or inner.header.date_time is not None:
            return
        writes = frozenset(p for p in points if p.access is Access.SET)
        if not writes:
            return
        write = Write(key, command, writes)
        for point in writes:
            self._by_point.setdefault((group, point), []).append(write)

    def setup_for(self, group: object, key: str, command: bytes) -> tuple[Write, ...]:
        """The writes to replay before the pure read ``command`` (empty for other commands).

        Each attribute read is covered by the first indexed write (in index order) that sets
        it; a write is replayed once, in index order.
        """
        points = request_points(command)
        if not points or any(p.access is not Access.GET for p in points):
            return ()
        chosen: dict[str, Write] = {}
        for point in points:
            target = AccessPoint(Access.SET, point.class_id, point.logical_name, point.index)
            candidates = [w for w in self._by_point.get((group, target), ()) if w.key != key]
            if candidates and not any(target in w.writes for w in chosen.values()):
                chosen.setdefault(candidates[0].key, candidates[0])
        return tuple(chosen.values())
