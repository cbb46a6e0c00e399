"""Replay with re-keying: a reference COMMAND or PRECOMMAND, re-addressed and re-secured.

Layer: hil. A reference command is decoded and checked with the keys that made it, then
rebuilt for the device under test: the head-end party of the same role as the reference
originator (its role read from the reference certificates' OU), the device's EUI, fresh
originator counters, the head-end's signature (when the reference was signed, or is a
pre-command: the unsigned form GBCS hands a remote party to sign, gbcs-reference.md 3.3)
and the ACB's MAC. The payload is kept byte for byte except the fields GBCS derives from the
identities or the counter:

* DLMS long-invoke-id: ``0x20`` and the low 24 bits of the originator counter (ref. 7.2);
* DLMS get_protection_parameters (Data Protection, class 30): transaction id ``04`` and the
  counter, originator (remote party) and recipient (device) system titles (ref. 4.5, 7.6);
* the UTRN of a top-up (CS01a, CS01b): it authenticates supplier, device and counter and the
  counter must have its low 32 bits zero (GBCS 14.3; ref. 6.1); value and class are kept;
* the originatorCounter of Activate Firmware (CS06), the command's own counter (ref. 7.8),
  and its manufacturerImageHash when the device was given an image to hold (the image a
  device holds is its own: :class:`~smemu.hil.preconditions.Prepared`);
* the certificate of Update Device Certificate (CS02d): it names the reference meter and
  certifies its key, so it is issued again (by the device provider's CA, ``issuer``) for the
  device under test and the key pair it made on an earlier CS02c, when it did.

HAN-only commands (PCS01, PCS02: "SME.C.PPMID-GSME") are sent as a HAN device would: the
originator is the stand-in HAN device whose keys the head-end holds (``han_party``, the
emulated PPMID), the command is MAC'd with the key agreed between it and the device (GBCS
4.3.3; no ACB), and PCS01's UTRN is made afresh by the supplier for the device, with a UTRN
counter of the supplier's own (the UTRN authenticates the supplier, not the PPMID).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

from smemu.errors import DecodeError, SmemuError
from smemu.hil.headend import HeadEnd, OutgoingCommand
from smemu.hil.preconditions import Prepared, certificate_usage
from smemu.protocols import utrn
from smemu.protocols.dlms import apdu
from smemu.protocols.dlms.apdu import AccessRequestMessage
from smemu.protocols.dlms.axdr import Array, Data, Structure
from smemu.protocols.dlms.protection import ProtectionParameters
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.frame import (
    GeneralSigningMessage,
    GroupingHeader,
    MacProtectedMessage,
    OtherInformation,
    payload_family,
)
from smemu.protocols.gbcs.secure import DEFAULT_ACBS, Verdict
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.security.keystore import KeyStore

#: Top-up use cases whose payload carries a UTRN (GBCS 14): CS01a (DLMS), CS01b (GBZ) and
#: PCS01 (GBZ, from a PPMID).
TOP_UP_CODES: Final = frozenset({0x0007, 0x0097, 0x009B})
#: Activate Firmware (CS06): its ASN.1 payload repeats the command's originator counter.
ACTIVATE_FIRMWARE: Final = 0x0012
#: Update Device Certificate (CS02d): its payload is the device's new certificate.
UPDATE_DEVICE_CERTIFICATE: Final = 0x000B
#: (template certificate DER, device, SubjectPublicKeyInfo DER or None) -> certificate DER
Issuer = Callable[[bytes, Eui64, bytes | None], bytes]
#: A UTRN in a payload: an octet string of 20 ASCII digits (DLMS and ZCL both prefix 0x14).
_UTRN_FIELD: Final = re.compile(rb"\x14([0-9]{20})")
_PROTECTION_MODE: Final = 0x04


class ReplayError(SmemuError):
    """A reference message that cannot be replayed: raised by :meth:`Replayer.rekey`.

    Scenarios: not a command, a HAN-only command, a reference that fails its own signature or
    MAC, an originator whose role is unknown or not played by the head-end, a missing key.
    """


@dataclass(frozen=True, slots=True)
class ReplayedCommand:
    """A re-keyed command and what changed."""

    reference: GeneralSigningMessage  #: the reference as decoded (general-signing form)
    precommand: bool  #: the reference was a pre-command
    command: OutgoingCommand  #: the re-keyed, secured command (pending in the head-end)
    identities: Mapping[Eui64, Eui64]  #: reference EUI -> EUI used in the replay
    counters: Mapping[int, int]  #: reference counter -> counter used in the replay
    rewritten: tuple[str, ...]  #: payload fields rewritten (empty: payload kept as is)


@dataclass(slots=True)
class Replayer:
    """Re-keys reference commands for a device under test through a :class:`HeadEnd`.

    :param head_end: the head-end whose parties, keys and counters the replay uses.
    :param reference_keys: the key store the reference messages were made with.
    :param roles: reference remote-party EUI -> role (see :func:`~.headend.roles_from_keystore`).
    :param reference_acbs: ACBs that may have MAC'd the reference messages.
    :param issuer: issues device certificates for CS02d (None: CS02d cannot be replayed).
    :param han_party: a HAN device (its keys in the head-end's store) to send PCS01 / PCS02 as.
    """

    head_end: HeadEnd
    reference_keys: KeyStore
    roles: Mapping[Eui64, int]
    reference_acbs: Sequence[Eui64] = DEFAULT_ACBS
    issuer: Issuer | None = None
    #: the HAN device device-originated commands (PCS01, PCS02) are sent as (None: refused)
    han_party: Eui64 | None = None

    def rekey(
        self,
        data: bytes,
        device: Eui64,
        *,
        counter: int | None = None,
        srp_counter: int | None = None,
        prepared: Prepared | None = None,
    ) -> ReplayedCommand:
        """Re-address and re-secure one reference command for ``device``.

        :param data: the reference COMMAND or PRECOMMAND bytes.
        :param device: the device under test.
        :param counter: force the new originator counter (default: the next fresh one).
        :param srp_counter: force the new supplementary remote party counter.
        :param prepared: what preparing the device established (an image it holds, key
            pairs awaiting certificates).
        :raises ReplayError: see the class.
        """
        try:
            located = frame.locate(data)
        except DecodeError as exc:
            raise ReplayError(f"reference does not decode: {exc}") from exc
        message = located.message
        inner = frame.signing_message(message)
        if inner is None:
            raise ReplayError("a GBT block cannot be replayed; reassemble it first")
        header = inner.header
        if header.cra is not Cra.COMMAND:
            raise ReplayError(f"expected a command, got a {header.cra.label}")
        code = header.message_code
        han = code in secure.DEVICE_ORIGINATED_COMMANDS
        if han and self.han_party is None:
            raise ReplayError(
                f"message code 0x{code:04X} is a HAN-only command (a PPMID to a GSME) and no "
                "HAN device is known to send it as"
            )
        precommand = isinstance(message, GeneralSigningMessage) and inner.signature is None
        self._check_reference(located)

        head_end = self.head_end
        if han and self.han_party is not None:
            originator = self.han_party
        else:
            originator = self._party_for(header.originator, "originator")
        identities: dict[Eui64, Eui64] = {header.originator: originator, header.recipient: device}
        new_counter = counter
        if new_counter is None:
            utrn_counter = code in TOP_UP_CODES and not han
            new_counter = head_end.counters.next(originator, device, utrn=utrn_counter)
        counters = {header.originator_counter: new_counter}
        oi = self._other_information(
            header.other_information, device, identities, counters, srp_counter
        )

        rewritten: list[str] = []
        payload = self._payload(
            inner, code, identities, counters, rewritten, prepared=prepared or Prepared()
        )
        new_header = GroupingHeader(
            Cra.COMMAND, new_counter, originator, device, header.date_time, oi
        )
        unsigned = GeneralSigningMessage(new_header, payload, None)
        signed = not han and (precommand or bool(inner.signature))
        mac = precommand or isinstance(message, MacProtectedMessage)
        try:
            command = head_end.submit(unsigned, use_case=_use_case_name(code), sign=signed, mac=mac)
        except SmemuError as exc:
            raise ReplayError(f"cannot secure the re-keyed command: {exc}") from exc
        return ReplayedCommand(inner, precommand, command, identities, counters, tuple(rewritten))

    # ------------------------------------------------------------------ parts

    def _check_reference(self, located: frame.Located) -> None:
        for name, verdict in (
            ("signature", secure.verify_signature(located, self.reference_keys)),
            ("MAC", secure.verify_mac(located, self.reference_keys, self.reference_acbs)),
        ):
            if verdict == Verdict.INVALID:
                raise ReplayError(f"the reference's {name} does not verify with its keys")

    def _party_for(self, eui: Eui64, what: str) -> Eui64:
        role = self.roles.get(eui)
        if role is None:
            raise ReplayError(f"the reference {what} {eui} has no known remote party role")
        try:
            return self.head_end.party(role)
        except SmemuError as exc:
            raise ReplayError(f"reference {what} {eui}: {exc}") from exc

    def _other_information(
        self,
        oi: OtherInformation,
        device: Eui64,
        identities: dict[Eui64, Eui64],
        counters: dict[int, int],
        srp_counter: int | None,
    ) -> OtherInformation:
        srp = oi.supplementary_remote_party_id
        if srp is None:
            return oi
        # A supplementary remote party with its own KA certificate is an "unknown remote
        # party" (URP): outside the head-end's PKI, so it keeps its identity and certificate.
        if oi.supplementary_remote_party_ka_certificate is None:
            new_srp = self._party_for(srp, "supplementary remote party")
        else:
            new_srp = srp
        identities.setdefault(srp, new_srp)
        old_counter = oi.supplementary_remote_party_counter
        new_count = old_counter
        if old_counter is not None:
            new_count = srp_counter
            if new_count is None:
                new_count = self.head_end.counters.next(new_srp, device)
            counters.setdefault(old_counter, new_count)
        return replace(
            oi, supplementary_remote_party_id=new_srp, supplementary_remote_party_counter=new_count
        )

    def _payload(
        self,
        inner: GeneralSigningMessage,
        code: int,
        identities: Mapping[Eui64, Eui64],
        counters: Mapping[int, int],
        rewritten: list[str],
        *,
        prepared: Prepared,
    ) -> bytes:
        payload = inner.payload
        header = inner.header
        new_counter = counters[header.originator_counter]
        family = payload_family(payload)
        if family == "dlms":
            payload = _rewrite_dlms(payload, new_counter, identities, counters, rewritten)
        elif family == "asn1" and code == ACTIVATE_FIRMWARE:
            payload = _rewrite_activate_firmware(
                payload, header.originator_counter, new_counter, prepared.image_hash
            )
            rewritten.append("activate_firmware.originator_counter")
            if prepared.image_hash is not None:
                rewritten.append("activate_firmware.manufacturer_image_hash")
        elif family == "asn1" and code == UPDATE_DEVICE_CERTIFICATE:
            payload = self._reissue(payload, identities[header.recipient], prepared)
            rewritten.append("device_certificate")
        if code in TOP_UP_CODES:
            if code in secure.DEVICE_ORIGINATED_COMMANDS:
                # the supplier made the UTRN the consumer keys in: its own counter
                supplier = self._party_for_role(2)
                utrn_counter = self.head_end.counters.next(
                    supplier, identities[header.recipient], utrn=True
                )
            else:
                supplier, utrn_counter = identities[header.originator], new_counter
            payload = self._rewrite_utrn(
                payload, supplier, identities[header.recipient], utrn_counter
            )
            rewritten.append("utrn")
        return payload

    def _reissue(self, certificate: bytes, device: Eui64, prepared: Prepared) -> bytes:
        """CS02d's certificate issued again for ``device`` (and its pending key, if any)."""
        if self.issuer is None:
            raise ReplayError("CS02d needs a certificate for the device; no issuer is known")
        usage = certificate_usage(certificate)
        key = None if usage is None else prepared.pending_keys.get(usage)
        try:
            return self.issuer(certificate, device, key)
        except SmemuError as exc:
            raise ReplayError(f"cannot issue the CS02d certificate: {exc}") from exc

    def _party_for_role(self, role: int) -> Eui64:
        try:
            return self.head_end.party(role)
        except SmemuError as exc:
            raise ReplayError(str(exc)) from exc

    def _rewrite_utrn(
        self, payload: bytes, supplier: Eui64, device: Eui64, new_counter: int
    ) -> bytes:
        found = list(_UTRN_FIELD.finditer(payload))
        if len(found) != 1:
            raise ReplayError(f"expected one UTRN in the top-up payload, found {len(found)}")
        match = found[0]
        try:
            token = utrn.decode_utrn(match.group(1).decode("ascii"))
        except DecodeError as exc:
            raise ReplayError(f"the reference UTRN is malformed: {exc}") from exc
        secret = self.head_end.keystore.prepayment_secret(supplier, device)
        if secret is None:
            raise ReplayError(f"no prepayment key pair for supplier {supplier} and {device}")
        fresh = utrn.encode_utrn(
            prepayment_secret=secret,
            originator=bytes(supplier),
            target=bytes(device),
            counter=new_counter,
            value=token.value,
            value_class=token.value_class,
        )
        start, end = match.span(1)
        return payload[:start] + fresh.encode("ascii") + payload[end:]


def _use_case_name(code: int) -> str:
    from smemu.protocols.gbcs.message_codes import lookup

    info = lookup(code)
    return info.use_case if info else f"0x{code:04X}"


# ------------------------------------------------------------------------------ DLMS


def _rewrite_dlms(
    payload: bytes,
    new_counter: int,
    identities: Mapping[Eui64, Eui64],
    counters: Mapping[int, int],
    rewritten: list[str],
) -> bytes:
    message = apdu.decode_exact(payload)
    if not isinstance(message, AccessRequestMessage):
        raise ReplayError("a DLMS command payload must be an access-request")
    ids = {bytes(k): bytes(v) for k, v in identities.items()}
    changed: list[int] = []

    def fix(value: Data) -> Data:
        params = ProtectionParameters.from_data(value)
        if (
            params is not None
            and params.mode == _PROTECTION_MODE
            and len(params.transaction_id) == 9
        ):
            count = params.counter
            fresh = replace(
                params,
                transaction_id=bytes((_PROTECTION_MODE,))
                + counters.get(count, count).to_bytes(8, "big"),
                originator=ids.get(params.originator, params.originator),
                recipient=ids.get(params.recipient, params.recipient),
            )
            changed.append(1)
            return fresh.to_data()
        if isinstance(value, Structure):
            return Structure(tuple(fix(v) for v in value.items))
        if isinstance(value, Array):
            return Array(tuple(fix(v) for v in value.items))
        return value

    data = tuple(fix(item) for item in message.list_of_data)
    invoke = (message.invoke_id_and_priority & 0xFF000000) | (new_counter & 0xFFFFFF)
    if invoke != message.invoke_id_and_priority:
        rewritten.append("access_request.invoke_id")
    if changed:
        rewritten.append("get_protection_parameters")
    return apdu.encode(replace(message, invoke_id_and_priority=invoke, list_of_data=data))


# ---------------------------------------------------------------------------- ASN.1 (DER)


def _der_header(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER item at ``pos``."""
    if pos + 2 > len(data):
        raise ReplayError("truncated DER item")
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first < 0x80:
        return tag, pos, pos + first
    count = first & 0x7F
    length = int.from_bytes(data[pos : pos + count], "big")
    return tag, pos + count, pos + count + length


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(raw),)) + raw


def _der_integer(value: int) -> bytes:
    raw = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return b"\x02" + _der_length(len(raw)) + raw


def _rewrite_activate_firmware(
    payload: bytes, old: int, new: int, image_hash: bytes | None = None
) -> bytes:
    """Replace ``originatorCounter``, the INTEGER after the image hash, in CS06's SEQUENCE
    (and the manufacturerImageHash, when ``image_hash`` is given)."""
    tag, start, end = _der_header(payload, 0)
    if tag != 0x30 or end != len(payload):
        raise ReplayError("expected the Activate Firmware SEQUENCE")
    hash_tag, hash_start, hash_end = _der_header(payload, start)
    if image_hash is not None:
        if hash_tag != 0x04 or hash_end - hash_start != len(image_hash):
            raise ReplayError("expected manufacturerImageHash (OCTET STRING(32)) first")
        payload = payload[:hash_start] + image_hash + payload[hash_end:]
    int_tag, int_start, int_end = _der_header(payload, hash_end)
    if int_tag != 0x02:
        raise ReplayError("expected originatorCounter (INTEGER) after the image hash")
    if int.from_bytes(payload[int_start:int_end], "big", signed=True) != old:
        raise ReplayError("the Activate Firmware originatorCounter differs from the command's")
    body = payload[start:hash_end] + _der_integer(new) + payload[int_end:end]
    return b"\x30" + _der_length(len(body)) + body
