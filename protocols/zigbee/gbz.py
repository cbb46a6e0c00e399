"""GBZ container of GBCS ZigBee payloads: header, extended-header components, ZCL frame headers.

Protocol layer (sans-IO); GBCS ref. §7.7 (layout), §7.9 (alert form), §4.5 (encrypted
components). ZCL payloads are kept as bytes; encrypted components keep their ciphered block
(``31 | IC(4) | ciphertext | tag(12)``) for :func:`encrypted_components` and :func:`with_plaintext`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from typing import Final

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.dlms.protection import check_ciphered_block

__all__ = [
    "COMPONENT_ALERT_CODES",
    "CONTROL_ENCRYPTED",
    "CONTROL_FROM_DATE_TIME",
    "CONTROL_LAST",
    "GBZ_PROFILE_ID",
    "ZCL_MANUFACTURER_SPECIFIC",
    "GbzAlert",
    "GbzComponent",
    "GbzEncryption",
    "GbzMessage",
    "decode",
    "decode_exact",
    "encode",
    "encrypted_components",
    "with_plaintext",
]

#: Profile ID opening every GBZ payload (ZigBee Smart Energy), big-endian.
GBZ_PROFILE_ID: Final = 0x0109
#: Extended header control bit: this is the last component.
CONTROL_LAST: Final = 0x01
#: Extended header control bit: the ZCL payload is encrypted (§4.5).
CONTROL_ENCRYPTED: Final = 0x02
#: Extended header control bit: a From Date Time (4 bytes, big-endian) follows the length.
CONTROL_FROM_DATE_TIME: Final = 0x10
#: ZCL frame control bit: a 2-byte manufacturer code follows the frame control.
ZCL_MANUFACTURER_SPECIFIC: Final = 0x04
#: Alert codes whose use-case-specific part is extended-header components (8F0A Billing
#: Data Log Updated, GCS53: one encrypted PublishSnapshot). Every other alert's part after
#: the timestamp is an alert-specific layout (§7.9), kept whole in :attr:`GbzAlert.data`.
COMPONENT_ALERT_CODES: Final = frozenset({0x8F0A})

_HEADER: Final = struct.Struct(">HB")
_ALERT: Final = struct.Struct(">HI")
_EXT_HEADER: Final = struct.Struct(">BHH")
_U16: Final = struct.Struct(">H")
_U16_LE: Final = struct.Struct("<H")
_U32: Final = struct.Struct(">I")


@dataclass(frozen=True, slots=True)
class GbzEncryption:
    """The parts an encrypted component (control bit 0x02) adds around its ZCL header::

    ... | additional header control(1) | frame counter(1) | ZCL header |
    ciphered length(2, BE) | 31 | invocation counter(4) | ciphertext | tag(12)

    """

    #: Additional Header Control (0x00 in RTDS).
    additional_control: int
    #: Additional Header Frame Counter (RTDS: 0, 1, 2... over the payload's encrypted
    #: components, in order).
    frame_counter: int
    #: The ciphered block, security control byte first; decrypt it with the GBCS
    #: payload-encryption key (§4.5) to get the ZCL payload.
    block: bytes


@dataclass(frozen=True, slots=True)
class GbzComponent:
    """One GBZ use-case-specific component: extended header + ZCL frame (§7.7)::

        control(1) | cluster id(2, BE) | command length(2, BE) |
        [from date time(4, BE) if control & 0x10] |
        [additional control(1) | frame counter(1) if control & 0x02] |
        ZCL frame control(1) | [manufacturer code(2, LE) if frame control & 0x04] |
        ZCL sequence(1) | ZCL command id(1) |
        ZCL payload  -- or, if control & 0x02: ciphered length(2, BE) | ciphered block

    The command length counts every byte after it; it is derived when encoding.
    """

    #: Extended Header Control Field, kept whole: bit 0x01 last component, 0x02 encrypted,
    #: 0x10 From Date Time present (the last two must agree with the fields below).
    control: int
    #: Extended Header Cluster ID (e.g. 0x0702 Metering).
    cluster_id: int
    #: ZCL frame control (bits 0-1 frame type, 2 manufacturer specific, 3 direction,
    #: 4 disable default response).
    frame_control: int
    #: ZCL transaction sequence number.
    sequence: int
    #: ZCL command identifier.
    command_id: int
    #: ZCL payload (little-endian ZCL fields), empty for an encrypted component.
    payload: bytes = b""
    #: From Date Time, UTC seconds since 2000-01-01 (0 = now, 0xFFFFFFFF = cancel).
    from_date_time: int | None = None
    #: ZCL manufacturer code, present iff ``frame_control & 0x04``.
    manufacturer_code: int | None = None
    #: Present iff the component is encrypted (``control & 0x02``).
    encryption: GbzEncryption | None = None

    @property
    def is_last(self) -> bool:
        """The control field's last-component bit."""
        return bool(self.control & CONTROL_LAST)

    @property
    def is_encrypted(self) -> bool:
        """Whether the ZCL payload travels as a ciphered block."""
        return self.encryption is not None


@dataclass(frozen=True, slots=True)
class GbzAlert:
    """Alert-form header fields (CRA flag 3), after the component count::

        alert code(2, BE) | timestamp(4, BE) | use-case-specific part

    For alert codes in :data:`COMPONENT_ALERT_CODES` the use-case-specific part is the
    message's components. For every other code it is an alert-specific layout (§7.9, e.g.
    8F66 ``0E | message code(2) | counter(8) | cluster(2) | frame control | command``)
    kept whole in ``data``, with the header's count byte in ``data_count``.
    """

    #: Alert code, e.g. 0x8F30.
    alert_code: int
    #: UTC seconds since 2000-01-01 (big-endian on the wire).
    timestamp: int
    #: The bytes after the timestamp, for alert codes without extended-header components.
    data: bytes = b""
    #: The header's component count for those alert codes (0 or 1 in RTDS).
    data_count: int = 0


@dataclass(frozen=True, slots=True)
class GbzMessage:
    """A GBZ payload (§7.7)::

        profile id 0x0109(2, BE) | component count(1) | [GbzAlert fields] | component...

    The profile ID is checked when decoding and written when encoding; the count is
    derived from ``components`` (plus :attr:`GbzAlert.data_count`).
    """

    #: The components, in wire order.
    components: tuple[GbzComponent, ...] = ()
    #: Alert-form header fields; present iff the payload was decoded with ``alert=True``.
    alert: GbzAlert | None = None

    @property
    def component_count(self) -> int:
        """The header's "Total number of GBZ Use Case Specific Components"."""
        return len(self.components) + (self.alert.data_count if self.alert else 0)


# ----------------------------------------------------------------------------- decoding


def _read_component(data: bytes, pos: int) -> tuple[GbzComponent, int]:
    if pos + 5 > len(data):
        raise DecodeError(
            f"expected a 5-byte extended header, got {len(data) - pos} bytes",
            path="extended_header",
            offset=pos,
        )
    control, cluster_id, length = _EXT_HEADER.unpack_from(data, pos)
    start = pos + 5
    end = start + length
    if end > len(data):
        raise DecodeError(
            f"expected {length} command bytes, got {len(data) - start}",
            path="command_length",
            offset=pos + 3,
        )
    pos = start
    from_date_time = None
    if control & CONTROL_FROM_DATE_TIME:
        if pos + 4 > end:
            raise DecodeError(
                "expected a 4-byte from date time within the command length",
                path="from_date_time",
                offset=pos,
            )
        from_date_time = _U32.unpack_from(data, pos)[0]
        pos += 4
    encrypted = control & CONTROL_ENCRYPTED
    additional = 0
    if encrypted:
        if pos + 2 > end:
            raise DecodeError(
                "expected a 2-byte additional header within the command length",
                path="additional_header",
                offset=pos,
            )
        additional = pos
        pos += 2
    if pos + 3 > end:
        raise DecodeError(
            f"expected a 3-byte ZCL header within the command length, got {end - pos} bytes",
            path="zcl_header",
            offset=pos,
        )
    frame_control = data[pos]
    manufacturer_code = None
    if frame_control & ZCL_MANUFACTURER_SPECIFIC:
        if pos + 5 > end:
            raise DecodeError(
                "expected a 5-byte manufacturer-specific ZCL header within the command length",
                path="zcl_header",
                offset=pos,
            )
        manufacturer_code = _U16_LE.unpack_from(data, pos + 1)[0]
        pos += 2
    sequence = data[pos + 1]
    command_id = data[pos + 2]
    pos += 3
    if not encrypted:
        return GbzComponent(
            control,
            cluster_id,
            frame_control,
            sequence,
            command_id,
            data[pos:end],
            from_date_time,
            manufacturer_code,
        ), end
    if pos + 2 > end:
        raise DecodeError(
            "expected a 2-byte ciphered length within the command length",
            path="ciphered_length",
            offset=pos,
        )
    size = _U16.unpack_from(data, pos)[0]
    if pos + 2 + size != end:
        raise DecodeError(
            f"expected a ciphered length of {end - pos - 2} (the rest of the command), got {size}",
            path="ciphered_length",
            offset=pos,
        )
    block = data[pos + 2 : end]
    try:
        check_ciphered_block(block)
    except DecodeError as exc:
        raise exc.within("ciphered_block", pos + 2) from None
    encryption = GbzEncryption(data[additional], data[additional + 1], block)
    return GbzComponent(
        control,
        cluster_id,
        frame_control,
        sequence,
        command_id,
        b"",
        from_date_time,
        manufacturer_code,
        encryption,
    ), end


def _decode_at(data: bytes, pos: int, alert: bool) -> tuple[GbzMessage, int]:
    if pos + 3 > len(data):
        raise DecodeError(
            f"expected a 3-byte GBZ header, got {len(data) - pos} bytes", path="header", offset=pos
        )
    profile, count = _HEADER.unpack_from(data, pos)
    if profile != GBZ_PROFILE_ID:
        raise DecodeError(
            f"expected profile ID 0x{GBZ_PROFILE_ID:04X}, got 0x{profile:04X}",
            path="profile_id",
            offset=pos,
        )
    pos += 3
    alert_header = None
    if alert:
        if pos + 6 > len(data):
            raise DecodeError(
                f"expected a 6-byte alert code and timestamp, got {len(data) - pos} bytes",
                path="alert",
                offset=pos,
            )
        alert_code, timestamp = _ALERT.unpack_from(data, pos)
        pos += 6
        if alert_code not in COMPONENT_ALERT_CODES:
            data_part = data[pos:]
            message = GbzMessage((), GbzAlert(alert_code, timestamp, data_part, count))
            return message, len(data)
        alert_header = GbzAlert(alert_code, timestamp)
    components: list[GbzComponent] = []
    try:
        for _ in range(count):
            component, pos = _read_component(data, pos)
            components.append(component)
    except DecodeError as exc:
        raise exc.within(f"component[{len(components)}]") from None
    return GbzMessage(tuple(components), alert_header), pos


def decode(data: bytes, *, alert: bool = False) -> tuple[GbzMessage, bytes]:
    """Decode a GBZ payload from the start of ``data``.

    :param data: the payload (the grouping header's content).
    :param alert: ``True`` for the alert form (CRA flag 3): the header then carries an
        alert code and a timestamp. The payload itself does not say which form it is.
    :returns: ``(message, rest)``; for alerts without components ``rest`` is always empty
        (the alert-specific part runs to the end of ``data``).
    :raises DecodeError: path prefixed ``gbz``; offsets into ``data``.
    """
    data = bytes(data)
    try:
        message, end = _decode_at(data, 0, alert)
    except DecodeError as exc:
        raise exc.within("gbz") from None
    return message, data[end:]


def decode_exact(data: bytes, *, alert: bool = False) -> GbzMessage:
    """Decode ``data`` as exactly one GBZ payload (see :func:`decode`).

    :raises DecodeError: malformed payload or bytes after the last component.
    """
    data = bytes(data)
    try:
        message, end = _decode_at(data, 0, alert)
    except DecodeError as exc:
        raise exc.within("gbz") from None
    if end != len(data):
        raise DecodeError(
            f"expected end of data after {message.component_count} components, "
            f"got {len(data) - end} trailing bytes",
            path="gbz",
            offset=end,
        )
    return message


# ----------------------------------------------------------------------------- encoding


def _write_component(component: GbzComponent, out: list[bytes]) -> None:
    control = component.control
    if bool(control & CONTROL_FROM_DATE_TIME) != (component.from_date_time is not None):
        raise LocalProtocolError(
            "control bit 0x10 must be set exactly when from_date_time is given"
        )
    if bool(control & CONTROL_ENCRYPTED) != (component.encryption is not None):
        raise LocalProtocolError("control bit 0x02 must be set exactly when encryption is given")
    manufacturer = bool(component.frame_control & ZCL_MANUFACTURER_SPECIFIC)
    if manufacturer != (component.manufacturer_code is not None):
        raise LocalProtocolError(
            "frame control bit 0x04 must be set exactly when manufacturer_code is given"
        )
    body: list[bytes] = []
    if component.from_date_time is not None:
        body.append(_U32.pack(component.from_date_time))
    encryption = component.encryption
    if encryption is not None:
        if component.payload:
            raise LocalProtocolError("an encrypted component carries its payload in the block")
        body.append(bytes((encryption.additional_control, encryption.frame_counter)))
    body.append(bytes((component.frame_control,)))
    if component.manufacturer_code is not None:
        body.append(_U16_LE.pack(component.manufacturer_code))
    body.append(bytes((component.sequence, component.command_id)))
    if encryption is not None:
        body.append(_U16.pack(len(encryption.block)))
        body.append(encryption.block)
    else:
        body.append(component.payload)
    joined = b"".join(body)
    out.append(_EXT_HEADER.pack(control, component.cluster_id, len(joined)))
    out.append(joined)


def encode(message: GbzMessage) -> bytes:
    """Encode a GBZ payload.

    :raises LocalProtocolError: a field is out of range, a control bit disagrees with the
        fields present, or the alert fields do not fit the alert code (see :class:`GbzAlert`).
    """
    alert = message.alert
    if alert is not None and alert.alert_code in COMPONENT_ALERT_CODES:
        if alert.data or alert.data_count:
            raise LocalProtocolError(
                f"alert 0x{alert.alert_code:04X} carries components, not alert data"
            )
    elif alert is not None and message.components:
        raise LocalProtocolError(
            f"alert 0x{alert.alert_code:04X} carries alert data, not components"
        )
    try:
        out = [_HEADER.pack(GBZ_PROFILE_ID, message.component_count)]
        if alert is not None:
            out.append(_ALERT.pack(alert.alert_code, alert.timestamp))
            out.append(alert.data)
        for component in message.components:
            _write_component(component, out)
    except (struct.error, ValueError, OverflowError) as exc:
        raise LocalProtocolError(f"GBZ field out of range: {exc}") from exc
    return b"".join(out)


# ------------------------------------------------------------------ encrypted components


def encrypted_components(message: GbzMessage) -> tuple[int, ...]:
    """Indices of the components whose ZCL payload is a ciphered block (§4.5).

    The block is ``message.components[i].encryption.block``; the key is derived from the
    grouping header (device originator, counter, recipient or supplementary remote party).
    """
    return tuple(i for i, c in enumerate(message.components) if c.encryption is not None)


def with_plaintext(message: GbzMessage, index: int, zcl_payload: bytes) -> GbzMessage:
    """The plaintext view: component ``index`` with its decrypted ZCL payload in place.

    The component loses its encryption fields and control bit 0x02, so the result encodes
    as the payload would have been sent unencrypted (command length recomputed).

    :param message: a decoded payload.
    :param index: an index from :func:`encrypted_components`.
    :param zcl_payload: the decrypted ZCL payload.
    :raises LocalProtocolError: component ``index`` is not encrypted.
    """
    component = message.components[index]
    if component.encryption is None:
        raise LocalProtocolError(f"component {index} is not encrypted")
    plain = replace(
        component,
        control=component.control & ~CONTROL_ENCRYPTED,
        payload=bytes(zcl_payload),
        encryption=None,
    )
    components = (*message.components[:index], plain, *message.components[index + 1 :])
    return replace(message, components=components)
