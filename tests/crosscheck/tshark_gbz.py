"""Compare tshark's reading of a GBZ payload (``gbcs_gbz`` and ``zbee_zcl*``) with ours.

Wireshark 4.0's GBCS dissector hands a GBZ payload (profile ``0x0109``) to ``gbcs_gbz``,
which reports, per use-case-specific component and in wire order,
``gbcs_gbz.{extended_header_control,extended_header_cluster,extended_header_length,
frame_control,transaction,command_id}``; for an encrypted component also
``gbcs_gbz.{additional_header_control,additional_frame_counter,length_of_ciphered_information,
security_control,invocation_counter,encrypted_payload,mac}``; for an alert
``gbcs_gbz.alert_code``. A plaintext ZCL frame goes on to ZigBee's ZCL dissector:
``zbee_zcl.cmd.tsn`` (every frame), ``zbee_zcl.cmd.id`` (profile-wide commands),
``zbee_zcl.cmd.id.rsp`` (the command a Default Response answers), ``zbee_zcl.attr.status``
(statuses of Default / Read / Write Attributes Responses), and per-cluster fields such as
``zbee_zcl_se.met.attr_id`` or ``zbee_zcl_se.pp.cmd.srv_tx.id``.

Values of one field name come back in tree order, so lists of the same field are compared
in order; fields whose names depend on the cluster (attribute ids, cluster-specific command
ids) are gathered over every name with that suffix and compared as multisets.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from smemu.errors import DecodeError
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.frame import GbcsMessage
from smemu.protocols.gbcs.types import Cra
from smemu.protocols.zigbee import gbz, zcl
from smemu.protocols.zigbee.gbz import GbzAlert, GbzComponent, GbzMessage
from smemu.protocols.zigbee.registry import decode_command
from smemu.protocols.zigbee.zcl import ZclHeader
from tests.crosscheck.tshark import TsharkPacket, eui

GBZ = "gbcs_gbz."
ZCL = "zbee_zcl."
#: An encrypted component's ciphered block (GBCS §4.5) is ``security control |
#: invocation counter(4) | ciphertext | tag(12)``; tshark shows the last two as
#: ``encrypted_payload`` and ``mac``
_TAG_LENGTH = 12
#: GBZ times count seconds from here
GBCS_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def gbz_payload(message: GbcsMessage) -> GbzMessage | None:
    """Our decoding of ``message``'s GBZ payload, or ``None`` when it carries DLMS / ASN.1."""
    inner = frame.signing_message(message)
    if inner is None or frame.payload_family(inner.payload) != "gbz":
        return None
    return gbz.decode_exact(inner.payload, alert=inner.header.cra is Cra.ALERT)


def _command_length(component: GbzComponent) -> int:
    """The extended header's command length our encoder writes for ``component``."""
    return len(gbz.encode(GbzMessage((component,)))) - 3 - 5


def _future_dated_alert(alert: GbzAlert) -> dict[str, object]:
    """The fields tshark reads from a future-dated alert's specific part (GBCS §7.9)::

        0E | message code(2) | originator counter(8) | cluster(2) | frame control | command

    (8F66 / 8F67, which carry it instead of components); {} for other alerts.
    """
    data = alert.data
    if alert.alert_code not in (0x8F66, 0x8F67) or len(data) != 15 or data[0] != 0x0E:
        return {}
    return {
        "future_alert_start": [data[0]],
        "message_code": [int.from_bytes(data[1:3], "big")],
        "originator_counter": [int.from_bytes(data[3:11], "big")],
        "extended_header_cluster": [int.from_bytes(data[11:13], "big")],
        "frame_control": [data[13]],
        "command_id": [data[14]],
    }


def _tshark_time(value: str) -> datetime:
    """tshark's absolute time (``Jan 15, 2030 09:00:00.000000000 UTC``) as a datetime."""
    text = value.removesuffix(" UTC").split(".")[0]
    return datetime.strptime(text, "%b %d, %Y %H:%M:%S").replace(tzinfo=UTC)


def _gbcs_time(seconds: int) -> datetime:
    """GBZ UTC time: seconds since 2000-01-01."""
    return GBCS_EPOCH + timedelta(seconds=seconds)


def _ints(values: Iterable[str]) -> list[int]:
    return [int(v, 0) for v in values]


def _suffixed(packet: TsharkPacket, suffix: str, *, exclude: str = "") -> Counter[int]:
    """Every value of every field named ``*<suffix>`` (but not ``exclude``), as a multiset."""
    found: Counter[int] = Counter()
    for name, values in packet.fields.items():
        if name.endswith(suffix) and name != exclude:
            found.update(_ints(values))
    return found


def _zcl_expectations(components: Iterable[GbzComponent]) -> dict[str, object]:
    """What the ZCL dissector should report for the plaintext components, by our decoder."""
    sequences: list[int] = []
    general_ids: list[int] = []
    specific_ids: Counter[int] = Counter()
    answered: list[int] = []
    statuses: list[int] = []
    attribute_ids: Counter[int] = Counter()
    for c in components:
        if c.is_encrypted:
            continue
        header = ZclHeader(c.frame_control, c.sequence, c.command_id, c.manufacturer_code)
        sequences.append(c.sequence)
        if header.frame_type == zcl.FRAME_GENERAL:
            general_ids.append(c.command_id)
        else:
            specific_ids[c.command_id] += 1
        command = decode_command(c.cluster_id, header, c.payload)
        if isinstance(command, zcl.DefaultResponse):
            answered.append(command.command_id)
            statuses.append(command.status)
        elif isinstance(command, zcl.ReadAttributes):
            attribute_ids.update(command.attribute_ids)
        elif isinstance(command, zcl.ReadAttributesResponse):
            for record in command.records:
                attribute_ids[record.attribute_id] += 1
                statuses.append(record.status)
        elif isinstance(command, zcl.WriteAttributesResponse):
            for w in command.records:
                statuses.append(w.status)
                if w.attribute_id is not None:
                    attribute_ids[w.attribute_id] += 1
    return {
        "tsn": sequences,
        "general command ids": general_ids,
        "cluster-specific command ids": specific_ids,
        "answered command ids": answered,
        "statuses": statuses,
        "attribute ids": attribute_ids,
    }


def _zcl_observed(packet: TsharkPacket) -> dict[str, object]:
    return {
        "tsn": _ints(packet.values(ZCL + "cmd.tsn")),
        "general command ids": _ints(packet.values(ZCL + "cmd.id")),
        "cluster-specific command ids": _suffixed(packet, ".cmd.srv_tx.id")
        + _suffixed(packet, ".cmd.srv_rx.id"),
        "answered command ids": _ints(packet.values(ZCL + "cmd.id.rsp")),
        "statuses": _ints(packet.values(ZCL + "attr.status")),
        "attribute ids": _suffixed(packet, ".attr_id"),
    }


def gbz_disagreements(packet: TsharkPacket, message: GbcsMessage) -> list[str]:
    """Where tshark reads ``message``'s GBZ payload differently from us ([] when it agrees).

    Messages without a GBZ payload must not be dissected as GBZ either.
    """
    try:
        payload = gbz_payload(message)
    except DecodeError as exc:
        return [f"our GBZ decoder rejects the payload: {exc}"]
    if payload is None:
        return (
            ["tshark dissected a GBZ payload we do not see"]
            if GBZ + "profile_id" in (packet.fields)
            else []
        )
    components = payload.components
    encrypted = [c.encryption for c in components if c.encryption is not None]
    ours: dict[str, object] = {
        "profile_id": [gbz.GBZ_PROFILE_ID],
        "components": [payload.component_count],
        "extended_header_control": [c.control for c in components],
        "extended_header_cluster": [c.cluster_id for c in components],
        "extended_header_length": [_command_length(c) for c in components],
        "frame_control": [c.frame_control for c in components],
        "transaction": [c.sequence for c in components],
        "command_id": [c.command_id for c in components],
        "additional_header_control": [e.additional_control for e in encrypted],
        "additional_frame_counter": [e.frame_counter for e in encrypted],
        "length_of_ciphered_information": [len(e.block) for e in encrypted],
        "security_control": [e.block[0] for e in encrypted],
        "invocation_counter": [int.from_bytes(e.block[1:5], "big") for e in encrypted],
    }
    if payload.alert is not None:
        ours["alert_code"] = [payload.alert.alert_code]
        ours.update(_future_dated_alert(payload.alert))
    problems = []
    if payload.alert is not None:
        stamps = [_tshark_time(v) for v in packet.values(GBZ + "timestamp")]
        if stamps != [_gbcs_time(payload.alert.timestamp)]:
            problems.append(f"gbz timestamp: tshark {stamps}, ours {payload.alert.timestamp}")
    for name, expected in ours.items():
        theirs = _ints(packet.values(GBZ + name))
        if theirs != expected:
            problems.append(f"gbz {name}: tshark {theirs}, ours {expected}")
    ciphertexts = [eui(v) for v in packet.values(GBZ + "encrypted_payload")]
    if ciphertexts != [e.block[5:-_TAG_LENGTH] for e in encrypted]:
        problems.append("gbz encrypted_payload: tshark and our decoder differ")
    tags = [eui(v) for v in packet.values(GBZ + "mac")]
    if tags != [e.block[-_TAG_LENGTH:] for e in encrypted]:
        problems.append("gbz mac: tshark and our decoder differ")
    try:
        expected_zcl = _zcl_expectations(components)
    except DecodeError as exc:
        return [*problems, f"our ZCL decoder rejects a component: {exc}"]
    observed_zcl = _zcl_observed(packet)
    for name, expected in expected_zcl.items():
        if observed_zcl[name] != expected:
            problems.append(f"zcl {name}: tshark {observed_zcl[name]}, ours {expected}")
    return problems
