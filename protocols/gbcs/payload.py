"""The typed payload contract of GBCS and the dispatcher from a payload to its family's decoder.

Layer: protocols (sans-IO). Every family's top-level decoded payload (DLMS, GBZ, ASN.1)
implements :class:`TypedPayload`; :func:`decode_payload` picks the family by the payload's
first bytes (gbcs-reference.md 7.1). GBZ and ASN.1 fall back to minimal wrappers until their
typed decoders are connected: those count the bytes they leave untyped in ``undecoded_bytes``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, cast, runtime_checkable

from smemu.protocols.dlms.views import DlmsPayload
from smemu.protocols.gbcs.frame import payload_family
from smemu.protocols.gbcs.types import Cra
from smemu.protocols.zigbee import gbz

__all__ = ["GbzFallbackPayload", "OpaquePayload", "TypedPayload", "decode_payload"]


@runtime_checkable
class TypedPayload(Protocol):
    """What every family's decoded payload offers."""

    @property
    def family(self) -> str:
        """``dlms``, ``gbz`` or ``asn1``."""
        ...

    @property
    def undecoded_bytes(self) -> int:
        """Payload bytes not decoded into typed fields (0 when fully typed; an opaque
        octet-string where GBCS defines one counts as decoded)."""
        ...

    def encode(self) -> bytes:
        """The payload bytes again, byte-identical to what was decoded."""
        ...

    def to_json(self) -> Any:
        """A JSON-ready tree with values rendered as people read them."""
        ...


@dataclass(frozen=True, slots=True)
class OpaquePayload:
    """A payload kept as bytes (no typed decoder connected): every byte is undecoded."""

    family: str
    raw: bytes

    @property
    def undecoded_bytes(self) -> int:
        return len(self.raw)

    def encode(self) -> bytes:
        return self.raw

    def to_json(self) -> Any:
        return {"family": self.family, "opaque_hex": self.raw.hex()}


@dataclass(frozen=True, slots=True)
class GbzFallbackPayload:
    """The GBZ container decoded, its ZCL payloads still bytes (counted as undecoded)."""

    family: ClassVar[str] = "gbz"
    message: gbz.GbzMessage
    plaintexts: tuple[bytes, ...] = ()

    @property
    def undecoded_bytes(self) -> int:
        count = len(self.message.alert.data) if self.message.alert else 0
        for component in self.message.components:
            if component.encryption is not None:
                count += len(component.encryption.block)
            count += len(component.payload)
        return count

    def encode(self) -> bytes:
        return gbz.encode(self.message)

    def to_json(self) -> Any:
        message = self.message
        out: dict[str, Any] = {"family": "gbz"}
        if message.alert is not None:
            out["alert_code"] = f"0x{message.alert.alert_code:04X}"
            out["alert_timestamp"] = message.alert.timestamp
            if message.alert.data:
                out["alert_data_hex"] = message.alert.data.hex()
        out["components"] = [
            {
                "cluster_id": f"0x{c.cluster_id:04X}",
                "frame_control": f"0x{c.frame_control:02X}",
                "command_id": f"0x{c.command_id:02X}",
                "encrypted": c.encryption is not None,
                "payload_hex": c.payload.hex(),
            }
            for c in message.components
        ]
        return out


def _asn1_decoder() -> Callable[..., Any] | None:
    """``smemu.protocols.asn1.decode`` once helper h3's typed decoder provides it."""
    module = importlib.import_module("smemu.protocols.asn1")
    decoder = getattr(module, "decode", None)
    return cast("Callable[..., Any] | None", decoder if callable(decoder) else None)


def decode_payload(
    payload: bytes, *, message_code: int, cra: Cra, plaintexts: Sequence[bytes] = ()
) -> TypedPayload:
    """Decode a grouping-header payload into its family's typed payload.

    :param payload: the grouping header's content.
    :param message_code: the message code (selects the ASN.1 schema).
    :param cra: command, response or alert (GBZ alerts have another header).
    :param plaintexts: the decrypted ciphered blocks of the payload, in wire order (see
        :func:`smemu.protocols.gbcs.decrypt.decrypt_payload`); their content is typed too.
    :raises DecodeError: the payload is malformed for its family.
    """
    family = payload_family(payload)
    if family == "dlms":
        return DlmsPayload.decode(payload, plaintexts)
    if family == "gbz":
        message = gbz.decode_exact(payload, alert=cra is Cra.ALERT)
        return GbzFallbackPayload(message, tuple(plaintexts))
    decoder = _asn1_decoder()
    if decoder is not None:
        return cast(TypedPayload, decoder(payload, message_code=message_code, cra=cra))
    return OpaquePayload("asn1", bytes(payload))
