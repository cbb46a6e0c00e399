"""The state a device under test is set to before a run or a command: its clock and the
configuration the reference meter held.

Layer: hil. :func:`earliest_date_time` gives the reference devices' clock for a run;
:class:`WriteIndex` the set's own configuring commands, replayed before a read of what they
configure (DLMS attribute writes, and the GBZ configuring commands that a GBZ read reports).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from smemu.errors import DecodeError
from smemu.firmware.common.faults import Access, AccessPoint
from smemu.firmware.gas_zcl import FAILED_REPLIES
from smemu.hil.preconditions import request_points, response_results
from smemu.protocols.gbcs import frame
from smemu.protocols.zigbee import gbz, registry
from smemu.protocols.zigbee.zcl import ReadAttributesResponse, ZclHeader

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
    writes: frozenset[AccessPoint]  #: DLMS: the attributes set (empty for a GBZ command)
    message_code: int = 0


#: GBZ use cases whose response reports configuration -> the configuring use cases that set
#: it (Use Case volume: the objects the read reports as *Configuration data* are those the
#: configuring use case writes). Review like a spec change.
CONFIGURED_BY: Final[Mapping[int, tuple[int, ...]]] = {
    # GCS02 / GCS03 Set Payment Mode: the response reports the emergency credit limit and
    # threshold (EmergencyCreditLimit, EmergencyCreditThreshold), set by GCS05
    0x006C: (0x006F,),
    0x006D: (0x006F,),
    # GCS21a: CalorificValue / ConversionFactor (GCS23) and the UncontrolledGasFlowRate
    # threshold, stabilisation and measurement periods (GCS24, GCS24a)
    0x007B: (0x007C, 0x007D, 0x00FC),
    # GCS21m: SupplyTamperState (GCS24, GCS24a)
    0x00FB: (0x007D, 0x00FC),
    # GCS21b: emergency credit, low credit, max credit, debt recovery (GCS05, GCS04)
    0x00B5: (0x006F, 0x006E),
    # GCS21f: the tariff (GCS01a, GCS01b)
    0x009F: (0x006B, 0x00A3),
    # GCS21d / GCS21k: the billing calendar (GCS25 / GCS25a)
    0x009D: (0x007E,),
    0x00DA: (0x00D8,),
}
#: ZCL general commands whose status fields say whether a GBZ command succeeded
_READ_ATTRIBUTES_RESPONSE: Final = 0x01
_DEFAULT_RESPONSE: Final = 0x0B
#: ZCL command fields that say when an instruction takes effect. The Use Case volume's
#: templates set them to 0 for "now"; any other value is a future activation or the cancel
#: of a pending one (0xFFFFFFFF / 0xFFFFFFFE), which configures nothing when replayed.
_ACTIVATION_FIELDS: Final = (
    "start_time",
    "implementation_date_time",
    "implementation_time",
    "start_date_time",
)


def _takes_effect_later(component: gbz.GbzComponent) -> bool:
    """Whether the plaintext ZCL command of ``component`` is future-dated or a cancel by an
    activation time in its payload (not the GBZ From Date Time, checked separately)."""
    if component.encryption is not None:
        return False
    header = ZclHeader(
        component.frame_control,
        component.sequence,
        component.command_id,
        component.manufacturer_code,
    )
    try:
        command = registry.decode_command(component.cluster_id, header, component.payload)
    except DecodeError:
        return False
    for name in _ACTIVATION_FIELDS:
        value = getattr(command, name, 0)
        if isinstance(value, int) and value != 0:
            return True
    return False


def _gbz_immediate_success(command: bytes, response: bytes) -> int | None:
    """The message code of a GBZ ``command`` that is neither future-dated nor a cancel (by
    the GBZ From Date Time or a ZCL activation time) and whose reference ``response``
    reports no failure status (Default Response, or an attribute status);
    None otherwise."""
    try:
        inner = frame.signing_message(frame.locate(command).message)
        answer = frame.signing_message(frame.locate(response).message)
        if inner is None or answer is None:
            return None
        if frame.payload_family(inner.payload) != "gbz":
            return None
        sent = gbz.decode_exact(inner.payload)
        got = gbz.decode_exact(answer.payload)
    except DecodeError:
        return None
    if any(c.from_date_time not in (None, 0) for c in sent.components):
        return None
    if any(_takes_effect_later(c) for c in sent.components):
        return None
    for component in got.components:
        data = component.payload
        # a response reporting failure in its own fields (no log cleared, no sample id)
        if (
            component.encryption is None
            and component.frame_control & 0x03 == 0x01
            and any(
                (cluster, reply.command_id, reply.payload)
                == (component.cluster_id, component.command_id, data)
                for (cluster, _), reply in FAILED_REPLIES.items()
            )
        ):
            return None
        if component.encryption is not None or component.frame_control & 0x03:
            continue
        if component.command_id == _DEFAULT_RESPONSE and len(data) == 2 and data[1]:
            return None
        if component.command_id == _READ_ATTRIBUTES_RESPONSE:
            try:
                records = ReadAttributesResponse.decode_exact(data).records
            except DecodeError:
                return None
            if any(r.status for r in records):
                return None
    return inner.header.message_code


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
    _by_code: dict[tuple[object, int], list[Write]] = field(default_factory=dict)

    def add(self, group: object, key: str, command: bytes, response: bytes) -> None:
        """Index ``command`` (scenario ``key``, device group ``group``) if it qualifies."""
        code = _gbz_immediate_success(command, response)
        if code is not None:
            self._by_code.setdefault((group, code), []).append(
                Write(key, command, frozenset(), code)
            )
            return
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
        write = Write(key, command, writes, inner.header.message_code)
        for point in writes:
            self._by_point.setdefault((group, point), []).append(write)

    def first(self, group: object, message_code: int, key: str) -> Write | None:
        """The first indexed GBZ command of use case ``message_code`` for ``group`` that is
        not scenario ``key``'s own (None: the set holds none)."""
        indexed = self._by_code.get((group, message_code), ())
        return next((w for w in indexed if w.key != key), None)

    def setup_for(self, group: object, key: str, command: bytes) -> tuple[Write, ...]:
        """The writes to replay before the pure read ``command`` (empty for other commands).

        Each attribute read is covered by the first indexed write (in index order) that sets
        it; a write is replayed once, in index order. A GBZ command of a use case that
        :data:`CONFIGURED_BY` names is preceded by the first indexed command of each
        configuring use case (none when the set holds none for this device group).
        """
        code = _message_code(command)
        if code is not None and code in CONFIGURED_BY:
            found = []
            for configuring in CONFIGURED_BY[code]:
                indexed = self._by_code.get((group, configuring), ())
                candidates = [w for w in indexed if w.key != key]
                if candidates:
                    found.append(candidates[0])
            return tuple(found)
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


def _message_code(command: bytes) -> int | None:
    try:
        inner = frame.signing_message(frame.locate(command).message)
    except DecodeError:
        return None
    return None if inner is None else inner.header.message_code
