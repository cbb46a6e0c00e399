"""Inspect a GBCS message: decode it, check its security, decrypt what the keys allow, re-encode.

Layer: protocols (sans-IO). This is the engine behind ``smemu decode`` and the conformance
checks: one :class:`Inspection` per message, whose :meth:`Inspection.to_json` is the stable
JSON contract documented in the README (later tools read it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from smemu.errors import DecodeError, SmemuError
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.decrypt import decrypt_payload
from smemu.protocols.gbcs.frame import (
    GbcsMessage,
    GbtBlockMessage,
    GeneralSigningMessage,
    Located,
    MacProtectedMessage,
    payload_family,
)
from smemu.protocols.gbcs.message_codes import lookup
from smemu.protocols.gbcs.payload import TypedPayload, decode_payload
from smemu.protocols.gbcs.secure import DEFAULT_ACBS, Verdict
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.gbcs.use_cases import UseCase, by_message_code
from smemu.protocols.security.keystore import KeyStore


def _frame_kind(message: GbcsMessage) -> str:
    if isinstance(message, MacProtectedMessage):
        return "mac-header"
    if isinstance(message, GeneralSigningMessage):
        return "general-signing"
    return "gbt-block"


@dataclass(slots=True)
class Inspection:
    """What ``smemu decode`` found out about one message."""

    source: str  #: where the bytes came from (file name and position)
    length: int  #: bytes of the message as received
    message: GbcsMessage | None = None
    signature: str = Verdict.ABSENT
    mac: str = Verdict.ABSENT
    decryption: str = "not encrypted"
    plaintexts: list[bytes] = field(default_factory=list)
    reencode: str = "differs"
    errors: list[str] = field(default_factory=list)
    #: The typed payload (from the decrypted payload where decrypted); ``None`` when typed
    #: decoding was not asked for (``inspect_bytes(typed=False)``) or failed.
    payload: TypedPayload | None = None

    @property
    def ok(self) -> bool:
        return self.message is not None and not self.errors

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this message (stable keys; see the README for the contract)."""
        out: dict[str, Any] = {"source": self.source, "length": self.length}
        message = self.message
        if message is None:
            out.update(
                message_code=None,
                use_case=None,
                cra=None,
                counter=None,
                originator=None,
                recipient=None,
                signature=self.signature,
                mac=self.mac,
                reencode=self.reencode,
                errors=self.errors,
            )
            return out
        if isinstance(message, GbtBlockMessage):
            code, cra, counter = message.message_code, message.cra, message.originator_counter
            originator, recipient = message.originator, message.recipient
        else:
            header = message.header
            code, cra, counter = header.message_code, header.cra, header.originator_counter
            originator, recipient = header.originator, header.recipient
        info = lookup(code)
        out.update(
            message_code=f"0x{code:04X}",
            use_case=info.use_case if info else None,
            use_case_name=info.name if info else None,
            cra=cra.label,
            counter=counter,
            originator=str(originator),
            recipient=str(recipient),
            frame=_frame_kind(message),
            signature=self.signature,
            mac=self.mac,
            decryption=self.decryption,
            reencode=self.reencode,
            errors=self.errors,
        )
        registered = by_message_code(code)
        out["use_case_info"] = None if registered is None else use_case_json(registered)
        out["payload"] = None if self.payload is None else self.payload.to_json()
        out["undecoded_bytes"] = None if self.payload is None else self.payload.undecoded_bytes
        inner = frame.signing_message(message)
        if inner is not None:
            oi = inner.header.other_information
            out["date_time"] = (
                None if inner.header.date_time is None else inner.header.date_time.hex()
            )
            out["other_information"] = {
                "supplementary_remote_party_id": _eui_or_none(oi.supplementary_remote_party_id),
                "supplementary_remote_party_counter": oi.supplementary_remote_party_counter,
                "supplementary_originator_counter": oi.supplementary_originator_counter,
                "supplementary_remote_party_ka_certificate": (
                    None
                    if oi.supplementary_remote_party_ka_certificate is None
                    else oi.supplementary_remote_party_ka_certificate.hex()
                ),
            }
            out["signature_element"] = (
                "omitted"
                if inner.signature is None
                else "empty"
                if not inner.signature
                else "present"
            )
            out["payload_family"] = payload_family(inner.payload)
            out["payload_hex"] = inner.payload.hex()
            out["decrypted_hex"] = [p.hex() for p in self.plaintexts]
        else:
            assert isinstance(message, GbtBlockMessage)
            out["block"] = {
                "number": message.block_number,
                "ack": message.block_number_ack,
                "last": message.last_block,
                "data_hex": message.block_data.hex(),
            }
        return out


def use_case_json(use_case: UseCase) -> dict[str, Any]:
    """The registry entry of a use case as JSON (the ``use_case_info`` object)."""
    security = use_case.security
    return {
        "id": use_case.id,
        "name": use_case.name,
        "kind": use_case.kind.value,
        "message_type": use_case.message_type,
        "criticality": None if use_case.criticality is None else use_case.criticality.value,
        "security": None
        if security is None
        else {
            "signed": security.signed,
            "mac": security.mac,
            "response_signed": security.response_signed,
            "response_mac": security.response_mac,
            "encrypted": security.encrypted,
        },
        "devices": [d.value for d in use_case.devices],
        "roles": None if use_case.roles is None else [r.value for r in use_case.roles],
        "future_dated": use_case.future_dated,
        "families": [f.value for f in use_case.families],
    }


def _eui_or_none(eui: Eui64 | None) -> str | None:
    return None if eui is None else str(eui)


def inspect_bytes(
    data: bytes,
    store: KeyStore | None,
    *,
    source: str = "",
    acbs: Sequence[Eui64] = DEFAULT_ACBS,
    decrypt: bool = True,
    typed: bool = False,
) -> list[Inspection]:
    """Inspect every message in ``data`` (messages may follow one another directly).

    With ``decrypt=False`` encrypted payloads are left alone (``decryption`` then reads
    ``not checked``); the codec benchmark uses this to time exactly decode, verify and
    re-encode. With ``typed=True`` the payload is also decoded into its family's typed
    payload (:attr:`Inspection.payload`; ``smemu decode`` asks for it, the benchmark not).

    A malformed message ends the walk: its inspection carries the error with field path and
    byte offset (relative to that message's first byte), and no later bytes are guessed at.
    """
    results: list[Inspection] = []
    rest = data
    index = 0
    while rest:
        index += 1
        where = source if index == 1 else f"{source}#{index}"
        try:
            located = frame.locate(rest)
        except DecodeError as exc:
            results.append(Inspection(where, len(rest), errors=[str(exc)]))
            break
        consumed = len(rest) - len(located.rest)
        result = _inspect_located(located, rest[:consumed], where, store, acbs, decrypt)
        if typed:
            _add_typed_payload(result)
        results.append(result)
        rest = located.rest
    return results


def _inspect_located(  # noqa: PLR0917 - private, called from one place
    located: Located,
    raw: bytes,
    source: str,
    store: KeyStore | None,
    acbs: Sequence[Eui64],
    decrypt: bool,
) -> Inspection:
    message = located.message
    reencode = "identical" if message.encode() == raw else "differs"
    errors: list[str] = []
    decryption: str = "not encrypted" if decrypt else "not checked"
    plaintexts: list[bytes] = []
    try:
        if store is None:
            signature = _unchecked(located, signature=True)
            mac = _unchecked(located, signature=False)
        else:
            signature = secure.verify_signature(located, store)
            mac = secure.verify_mac(located, store, acbs)
        if decrypt:
            decryption, plaintexts = decrypt_payload(located, store)
    except SmemuError as exc:  # a key of the wrong kind, say: report, do not crash
        signature = mac = Verdict.NO_KEY
        errors.append(f"security check failed: {exc}")
    return Inspection(
        source, len(raw), message, signature, mac, decryption, plaintexts, reencode, errors
    )


def _add_typed_payload(result: Inspection) -> None:
    message = result.message
    inner = None if message is None else frame.signing_message(message)
    if inner is None:
        return
    header = inner.header
    try:
        result.payload = decode_payload(
            inner.payload,
            message_code=header.message_code,
            cra=header.cra,
            plaintexts=result.plaintexts,
        )
    except DecodeError as exc:
        result.errors.append(f"payload: {exc}")


def _unchecked(located: Located, *, signature: bool) -> str:
    message = located.message
    inner = frame.signing_message(message)
    present = (
        bool(inner and inner.signature) if signature else isinstance(message, MacProtectedMessage)
    )
    return Verdict.NO_KEY if present else Verdict.ABSENT


__all__ = ["DEFAULT_ACBS", "Inspection", "inspect_bytes", "payload_family"]
