"""Typed GBZ payloads: every component's ZCL command and every alert's detail decoded.

Protocol layer (sans-IO); builds on :mod:`gbz` (the container, GBCS ref. §7.7, §7.9) and the
ZCL registry. :func:`decode_typed` is the entry point the GBCS dispatcher uses; the result's
``encode()`` rebuilds the payload from the typed values, byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Final

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee._fields import RestBytes, UInt, ZclRecord, render_utc
from smemu.protocols.zigbee.attributes import attribute_name
from smemu.protocols.zigbee.gbz import GbzAlert, GbzComponent, GbzEncryption, GbzMessage
from smemu.protocols.zigbee.registry import CLUSTER_NAMES, command_name, decode_command
from smemu.protocols.zigbee.zcl import ZclCommand, ZclHeader

__all__ = [
    "ALERT_DETAILS",
    "FirmwareHashAlert",
    "FutureDatedOutcome",
    "GbzPayload",
    "MeterIntegrityAlert",
    "RawAlertDetail",
    "ZclComponent",
    "decode_typed",
]

_BE_U16 = Annotated[int, UInt(2, big=True, hex=True)]


@dataclass(frozen=True, slots=True)
class FutureDatedOutcome(ZclRecord):
    """8F66 / 8F67 detail (big-endian, GBCS §7.9)::

        0E | message code(2) | originator counter(8) | cluster(2) | frame control | command

    """

    #: Length of what follows (always 14).
    length: Annotated[int, UInt(1)]
    message_code: _BE_U16
    originator_counter: Annotated[int, UInt(8, big=True)]
    cluster_id: _BE_U16
    frame_control: Annotated[int, UInt(1, hex=True)]
    command_id: Annotated[int, UInt(1, hex=True)]


@dataclass(frozen=True, slots=True)
class FirmwareHashAlert(ZclRecord):
    """8F72 / 8F1C detail: ``09 20`` (octet-string of 32) + the calculated image hash."""

    tag: Annotated[int, UInt(1, hex=True)]
    length: Annotated[int, UInt(1)]
    image_hash: Annotated[bytes, RestBytes(opaque=True)]


@dataclass(frozen=True, slots=True)
class MeterIntegrityAlert(ZclRecord):
    """81A0 detail: the other-information code (0 other, 1 NVM ... 9 unspecified)."""

    code: Annotated[int, UInt(2, big=True)]


@dataclass(frozen=True, slots=True)
class RawAlertDetail(ZclRecord):
    """An alert-specific part of an alert code without a typed layout (counted undecoded)."""

    data: Annotated[bytes, RestBytes()]


#: Alert code -> typed layout of its alert-specific part (GBCS §7.9).
ALERT_DETAILS: Final[Mapping[int, type[ZclRecord]]] = {
    0x8F66: FutureDatedOutcome,
    0x8F67: FutureDatedOutcome,
    0x8F72: FirmwareHashAlert,
    0x8F1C: FirmwareHashAlert,
    0x81A0: MeterIntegrityAlert,
}


@dataclass(frozen=True, slots=True)
class ZclComponent:
    """One GBZ component with its ZCL header and typed command.

    ``command`` is ``None`` only for an encrypted component whose plaintext was not given;
    an encrypted component keeps its ciphered block, which ``encode`` writes back.
    """

    #: Extended header control (0x01 last, 0x02 encrypted, 0x10 From Date Time).
    control: int
    cluster_id: int
    header: ZclHeader
    command: ZclCommand | None
    #: UTC seconds since 2000 (big-endian on the wire), iff control bit 0x10.
    from_date_time: int | None = None
    #: Iff control bit 0x02.
    encryption: GbzEncryption | None = None

    @classmethod
    def build(
        cls,
        command: ZclCommand,
        sequence: int,
        *,
        last: bool,
        cluster_id: int | None = None,
        from_date_time: int | None = None,
        disable_default_response: bool = False,
        direction: int | None = None,
    ) -> ZclComponent:
        """A plaintext component for ``command`` (header derived from its class).

        :param cluster_id: required for profile-wide commands (Read Attributes...).
        :param direction: for profile-wide commands: 0 client -> server, 1 the reverse.
        """
        cluster = command.CLUSTER_ID if command.CLUSTER_ID is not None else cluster_id
        if cluster is None:
            raise LocalProtocolError("a profile-wide command needs cluster_id")
        control = (gbz.CONTROL_LAST if last else 0) | (
            gbz.CONTROL_FROM_DATE_TIME if from_date_time is not None else 0
        )
        header = command.header(
            sequence, disable_default_response=disable_default_response, direction=direction
        )
        return cls(control, cluster, header, command, from_date_time)

    def to_component(self) -> GbzComponent:
        """The container view (payload bytes encoded from the typed command)."""
        payload = b""
        if self.encryption is None:
            if self.command is None:
                raise LocalProtocolError("a plaintext component needs a command")
            payload = self.command.encode()
        header = self.header
        return GbzComponent(
            self.control,
            self.cluster_id,
            header.frame_control,
            header.sequence,
            header.command_id,
            payload,
            self.from_date_time,
            header.manufacturer_code,
            self.encryption,
        )

    @property
    def undecoded_bytes(self) -> int:
        """Untyped bytes: a raw command's payload, or a ciphered block never decrypted."""
        if self.command is None:
            return len(self.encryption.block) if self.encryption is not None else 0
        return self.command.undecoded_bytes

    def to_json(self) -> dict[str, Any]:
        """Readable component: cluster, header, command name and typed payload."""
        out: dict[str, Any] = {
            "cluster": CLUSTER_NAMES.get(self.cluster_id, f"0x{self.cluster_id:04X}"),
            "cluster_id": f"0x{self.cluster_id:04X}",
            "control": f"0x{self.control:02X}",
            "zcl_header": self.header.to_json(),
        }
        if self.from_date_time is not None:
            out["from_date_time"] = render_utc(self.from_date_time)
        if self.encryption is not None:
            out["encrypted"] = {
                "additional_control": self.encryption.additional_control,
                "frame_counter": self.encryption.frame_counter,
                "ciphered_length": len(self.encryption.block),
            }
        if self.command is None:
            out["command"] = None
        else:
            out["command"] = command_name(self.command)
            out["payload"] = _name_attributes(self.command.to_json(), self.cluster_id)
        return out


def _name_attributes(tree: Any, cluster_id: int) -> Any:
    # Attribute ids of profile-wide commands mean nothing without the cluster: add names.
    if isinstance(tree, list):
        return [_name_attributes(item, cluster_id) for item in tree]
    if isinstance(tree, dict):
        out = {k: _name_attributes(v, cluster_id) for k, v in tree.items()}
        ident = tree.get("attribute_id")
        if isinstance(ident, str) and ident.startswith("0x"):
            name = attribute_name(cluster_id, int(ident, 16))
            if name is not None:
                out["attribute"] = name
        ids = tree.get("attribute_ids")
        if isinstance(ids, list):
            out["attributes"] = [
                attribute_name(cluster_id, int(i, 16)) or i for i in ids if isinstance(i, str)
            ]
        return out
    return tree


@dataclass(frozen=True, slots=True)
class GbzPayload:
    """A fully typed GBZ payload: components with typed ZCL commands, typed alert detail.

    For an alert (``alert`` set), ``alert.data`` is empty when ``alert_detail`` holds the
    alert-specific part; ``encode()`` writes ``alert_detail`` there.
    """

    #: Payload family, for the GBCS dispatcher.
    family: ClassVar[str] = "gbz"

    components: tuple[ZclComponent, ...] = ()
    #: The alert-form header fields (alert code, timestamp, header count for detail-only
    #: alerts); present iff decoded with ``alert=True``.
    alert: GbzAlert | None = None
    #: Typed alert-specific part (alert codes without components).
    alert_detail: ZclRecord | None = None

    def to_message(self) -> GbzMessage:
        """The container view (:class:`gbz.GbzMessage`) this payload encodes as."""
        alert = self.alert
        if alert is not None and self.alert_detail is not None:
            if alert.data:
                raise LocalProtocolError("give the alert part as alert_detail or data, not both")
            alert = GbzAlert(
                alert.alert_code, alert.timestamp, self.alert_detail.encode(), alert.data_count
            )
        return GbzMessage(tuple(c.to_component() for c in self.components), alert)

    def encode(self) -> bytes:
        """The GBZ payload, rebuilt from the typed values.

        :raises LocalProtocolError: a value does not fit, or flags disagree with fields.
        """
        return gbz.encode(self.to_message())

    @property
    def undecoded_bytes(self) -> int:
        """Payload bytes not decoded into typed fields (0 when fully typed)."""
        total = sum(c.undecoded_bytes for c in self.components)
        if self.alert_detail is not None:
            total += self.alert_detail.undecoded_bytes
        elif self.alert is not None:
            total += len(self.alert.data)
        return total

    def to_json(self) -> dict[str, Any]:
        """JSON-ready readable tree."""
        out: dict[str, Any] = {"family": "gbz", "profile_id": "0x0109"}
        if self.alert is not None:
            out["alert_code"] = f"0x{self.alert.alert_code:04X}"
            out["timestamp"] = render_utc(self.alert.timestamp)
            if self.alert_detail is not None:
                out["alert_detail"] = self.alert_detail.to_json()
            elif self.alert.data:
                out["alert_data"] = self.alert.data.hex().upper()
        out["components"] = [c.to_json() for c in self.components]
        out["undecoded_bytes"] = self.undecoded_bytes
        return out


def _typed_component(
    component: GbzComponent, plaintext: bytes | None, index: int
) -> ZclComponent:
    header = ZclHeader(
        component.frame_control,
        component.sequence,
        component.command_id,
        component.manufacturer_code,
    )
    payload = component.payload if component.encryption is None else plaintext
    command = None
    if payload is not None:
        try:
            command = decode_command(component.cluster_id, header, payload)
        except DecodeError as exc:
            # offsets of a decrypted payload count from its plaintext start
            raise exc.within(f"gbz.component[{index}].zcl") from None
    return ZclComponent(
        component.control,
        component.cluster_id,
        header,
        command,
        component.from_date_time,
        component.encryption,
    )


def decode_typed(
    payload: bytes, *, alert: bool, plaintexts: Sequence[bytes] = ()
) -> GbzPayload:
    """Decode a GBZ payload with every ZCL command and alert detail typed.

    :param payload: the GBCS payload (starts ``01 09``).
    :param alert: ``True`` for the alert form (CRA flag 3).
    :param plaintexts: decrypted ZCL payloads of the encrypted components, in order (as
        ``smemu.protocols.gbcs.decrypt.decrypt_payload`` returns them); encrypted components
        without one keep ``command=None`` and count as undecoded.
    :raises DecodeError: malformed container or ZCL payload (path ``gbz...``); offsets of a
        plain component's fields are within its ZCL payload.
    """
    message = gbz.decode_exact(payload, alert=alert)
    encrypted = gbz.encrypted_components(message)
    if len(plaintexts) > len(encrypted):
        raise DecodeError(
            f"{len(plaintexts)} plaintexts given for {len(encrypted)} encrypted components",
            path="gbz",
        )
    plain_for = dict(zip(encrypted, plaintexts, strict=False))
    components = tuple(
        _typed_component(c, plain_for.get(i), i) for i, c in enumerate(message.components)
    )
    detail: ZclRecord | None = None
    header = message.alert
    if header is not None and header.data:
        layout = ALERT_DETAILS.get(header.alert_code, RawAlertDetail)
        try:
            detail = layout.decode_exact(header.data)
        except DecodeError as exc:
            raise exc.within("gbz.alert_detail") from None
        header = GbzAlert(header.alert_code, header.timestamp, b"", header.data_count)
    return GbzPayload(components, header, detail)

