"""The typed payload contract of GBCS and the dispatcher from a payload to its family's decoder.

Layer: protocols (sans-IO). Every family's top-level decoded payload (DLMS, GBZ, ASN.1)
implements :class:`TypedPayload`; :func:`decode_payload` picks the family by the payload's
first bytes (gbcs-reference.md 7.1). :class:`OpaquePayload` is
for callers that hold bytes no family decoder claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, runtime_checkable

from smemu.protocols import asn1, zigbee
from smemu.protocols.dlms.objects import USE_CASE_OBJECTS
from smemu.protocols.dlms.views import DlmsPayload
from smemu.protocols.gbcs.frame import payload_family
from smemu.protocols.gbcs.types import Cra
from smemu.protocols.gbcs.use_cases import USE_CASES

__all__ = ["OpaquePayload", "TypedPayload", "decode_payload"]


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


#: message code -> the DLMS use case whose object list types its payload.
_DLMS_USE_CASES: Final[dict[int, str]] = {
    code: case.id
    for case in USE_CASES.values()
    if case.id in USE_CASE_OBJECTS
    for code in case.message_codes
}


def dlms_use_case(message_code: int) -> str | None:
    """The use case whose COSEM object list types a DLMS payload of this message code."""
    return _DLMS_USE_CASES.get(message_code)


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
        return DlmsPayload.decode(payload, plaintexts, use_case=dlms_use_case(message_code))
    if family == "gbz":
        return zigbee.decode_typed(payload, alert=cra is Cra.ALERT, plaintexts=plaintexts)
    return asn1.decode_typed(payload, message_code=message_code, cra=cra)
