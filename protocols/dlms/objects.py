"""The COSEM objects each GBCS DLMS use case accesses, and what to read each one through.

Layer: protocols (sans-IO). :data:`USE_CASE_OBJECTS` maps a use case id to the objects its
request lists, in order (GBCS 19.2.1; the Use Case volume's "DLMS COSEM specific content").
The rows come from the volume's tables (modules ``objects_*``); the few use cases the volume
gives no table for are written here from gbcs-reference.md 7.5, reusing the rows of the use
case they mirror. :data:`NO_OBJECTS` says why the remaining DLMS use cases need no list.

DLMS responses carry no class or OBIS: item *i* of a response answers item *i* of the
request, so :func:`answered_objects` and the use case's list type a response.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final

from smemu.protocols.dlms import objects_chf, objects_config, objects_reads, objects_tariff
from smemu.protocols.dlms.object_types import CosemObject, format_ref, o

__all__ = [
    "NO_OBJECTS",
    "USE_CASE_OBJECTS",
    "CosemObject",
    "answered_objects",
    "check_request",
    "objects_for",
]

_VOLUME: Final = {
    **objects_tariff.OBJECTS, **objects_reads.OBJECTS, **objects_config.OBJECTS,
    **objects_chf.OBJECTS,
}  # fmt: skip


def _pick(use_case: str, *refs: str) -> tuple[CosemObject, ...]:
    """The rows with these ``class/OBIS/aN`` refs, in the order given: those of
    ``use_case``, else the first of any use case (read and write share an object's type)."""
    rows = {obj.ref: obj for objs in reversed(_VOLUME.values()) for obj in objs}
    rows.update({obj.ref: obj for obj in _VOLUME[use_case]})
    return tuple(rows[ref] for ref in refs)


def _labels(*obis_e: int) -> tuple[CosemObject, ...]:
    """Auxiliary controller labels (0.11-0.15) and configurations (0.21-0.25), as ECS61d."""
    return _pick("ECS61d", *(f"1/0-0:94.44.0.{e}/a2" for e in obis_e))


def _switch_states() -> tuple[CosemObject, ...]:
    return tuple(
        o(70, f"0-{b}:96.3.10.255", "A", 2, "output_state", f"AuxiliaryLoadControlSwitch[{b}]",
          type="boolean", condition="OPTIONAL")
        for b in range(1, 6)
    )  # fmt: skip


#: Use cases without a table in the Use Case volume (gbcs-reference.md 7.5).
_WRITTEN: Final[dict[str, tuple[CosemObject, ...]]] = {
    "CCS05": _VOLUME["CCS06"],  # older code of the same read: ZigBee network control a4
    "ECS26d": _VOLUME["ECS26l"],  # billing calendar single action schedule a4
    "ECS30": _VOLUME["ECS30a"],
    "ECS35f": _VOLUME["ECS35g"],  # ALCS event log 0-17:99.98.2.255
    "ECS26i": (
        o(1, "0-0:96.1.1.255", "A", 2, "value", "DeviceIdentity", type="octet-string"),
        *_pick("ECS26n", "1/0-0:96.1.4.255/a2", "1/0-0:96.1.6.255/a2"),
    ),
    "ECS46c": (
        *_labels(21, 22, 23, 24, 25),
        *_pick("ECS46d", "11/0-1:11.0.3.255/a2", "10/0-1:12.0.2.255/a2"),
        o(9000, "0-0:94.44.128.26", "A", 6, "activate_passive_value_time",
          "AuxiliaryControllerCalendar", type="octet-string(12)"),
        o(9000, "0-0:94.44.128.35", "A", 6, "activate_passive_value_time",
          "AuxiliaryControllerConfiguration", type="octet-string(12)"),
    ),
    "ECS61a": (
        *_labels(11, 12, 13, 14, 15, 21, 22, 23, 24, 25),
        *_pick("ECS61d", "11/0-0:11.0.3.255/a2", "10/0-0:12.0.2.255/a2"),
        *_switch_states(),
    ),
}

_ALERT: Final = "alert: the body is the alert code and time stamp (gbcs-reference.md 7.9)"

#: DLMS use cases without an object list, and why.
NO_OBJECTS: Final[Mapping[str, str]] = MappingProxyType({
    "ECS08": "superseded by ECS08a (0x00DE); not in the Use Case volume, no object list",
    "ECS47": "older code of ECS47a whose values differ; not in the Use Case volume",
    "ECS26e": "not in the Use Case volume (device identity exc MPAN); no object list",
    "ECS25r": "umbrella of ECS25r1 (0x00EE) and ECS25r2 (0x00EF), which have the lists",
    "PECS01": "HAN-only: a ZSE command the ESME logs; no DLMS objects",
    "PECS02": "HAN-only: a ZSE command the ESME logs; no DLMS objects",
    "PECS03": "HAN-only: a ZSE command the ESME logs; no DLMS objects",
    "HECS01": "HAN-only: a ZSE command the ESME logs; no DLMS objects",
    **{uc: _ALERT for uc in (
        "FDEIA-DLMS", "FDRA-DLMS", "FTDRPMA", "MIIWA-DLMS", "DBCH06", "DBCH07", "DBCH08",
        "DBCH10", "DBCH11", "ECS100", "ECS200", "GCA", "GNCA",
    )},
})  # fmt: skip

#: use case id -> the COSEM objects its request lists, in order.
USE_CASE_OBJECTS: Final[Mapping[str, tuple[CosemObject, ...]]] = MappingProxyType(
    {uc: objs for uc, objs in {**_VOLUME, **_WRITTEN}.items() if objs}
)


def objects_for(use_case: str | None) -> tuple[CosemObject, ...] | None:
    """The use case's object list (None: unknown use case or none defined)."""
    return None if use_case is None else USE_CASE_OBJECTS.get(use_case)


def request_objects(objects: Sequence[CosemObject]) -> tuple[CosemObject, ...]:
    """The objects that travel in the request (not inside a protected response)."""
    return tuple(obj for obj in objects if not obj.protected and obj.class_id != 0)


def check_request(
    objects: Sequence[CosemObject], accesses: Sequence[tuple[int, bytes, bool, int]]
) -> list[str]:
    """Notes where a request's accesses are not an ordered selection of the use case's objects.

    ``accesses`` are (class id, OBIS, is-method, index) in wire order. Optional objects may
    be left out; an access the use case does not define, or out of order, is noted.
    """
    wanted = request_objects(objects)
    notes = []
    position = 0
    for number, (class_id, obis, method, index) in enumerate(accesses):
        found = next(
            (i for i in range(position, len(wanted))
             if wanted[i].matches(class_id, obis, method, index)),
            None,
        )  # fmt: skip
        if found is None:
            ref = format_ref(class_id, obis, method, index)
            where = "out of order" if any(
                w.matches(class_id, obis, method, index) for w in wanted
            ) else "not defined by the use case"
            notes.append(f"item {number}: {ref} {where}")
            continue
        position = found + 1
    return notes


def answered_objects(objects: Sequence[CosemObject]) -> tuple[CosemObject, ...]:
    """The objects a response answers, one per response item, in order."""
    return request_objects(objects)
