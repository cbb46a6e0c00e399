"""GBCS outer framing: MAC header, grouping header (general-signing), GBT routing blocks.

Layer: protocols (sans-IO). Implements GBCS section 7.2 as laid out in gbcs-reference.md
sections 0-3 and 11: the DLMS general-ciphering "MAC header" (``DD 00``), the general-signing
"grouping header" (``DF 09``) with its Other Information variants and signature element, and
the general-block-transfer routing header (``DD 09``). Payloads stay opaque bytes here.
Hand-written on ``bytes`` slicing: this is the hot path of every message (performance.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.gbcs._wire import decode_length, encode_length, expect_byte, take
from smemu.protocols.gbcs.types import Cra, Eui64

GENERAL_CIPHERING: Final = 0xDD
GENERAL_SIGNING: Final = 0xDF
GENERAL_BLOCK_TRANSFER: Final = 0xE0
TRANSACTION_ID_LENGTH: Final = 9
SYSTEM_TITLE_LENGTH: Final = 8
DATE_TIME_LENGTH: Final = 12
SIGNATURE_LENGTH: Final = 64
MAC_LENGTH: Final = 12
SECURITY_CONTROL_AUTHENTICATED: Final = 0x11
#: The five empty octet strings (transaction id, system titles, date-time, other information)
#: and the absent key-info of the MAC header; also the tail of the MAC's AAD prefix.
_MAC_HEADER_EMPTY: Final = b"\x00\x00\x00\x00\x00\x00"
#: Names of those six elements, for error paths.
_MAC_HEADER_FIELDS: Final = (
    "transaction_id",
    "originator_system_title",
    "recipient_system_title",
    "date_time",
    "other_information",
    "key_info",
)
_MAX_U64: Final = (1 << 64) - 1


def _u64(value: int, what: str) -> bytes:
    if not 0 <= value <= _MAX_U64:
        raise LocalProtocolError(f"{what} must be 0..2**64-1, got {value}")
    return value.to_bytes(8, "big")


@dataclass(frozen=True, slots=True)
class OtherInformation:
    """The grouping header's Other Information element (GBCS 7.2.7), chosen by its length.

    ::

        length 2     message_code(2)
        length 10    + supplementary_remote_party_id(8)
        length 18    + supplementary_remote_party_counter(8)
        length 26    + supplementary_originator_counter(8)
        other > 18   + supplementary_remote_party_ka_certificate (DER X.509), placed either
                     directly after the remote party counter (as in the reference set) or
                     after a supplementary originator counter

    A certificate is recognised at offset 18 by its DER SEQUENCE tag 0x30; otherwise the 8
    bytes there are a supplementary originator counter and the certificate follows it.
    """

    message_code: int  #: use case message code (GBCS 7.2.7, section 8 table)
    #: Entity Identifier of the remote party a DCC-originated command acts for
    supplementary_remote_party_id: Eui64 | None = None
    #: that remote party's own counter
    supplementary_remote_party_counter: int | None = None
    #: counter used to derive the encryption key for an unknown remote party (URP) response
    supplementary_originator_counter: int | None = None
    #: key agreement certificate of an unknown remote party (DER bytes, kept opaque here)
    supplementary_remote_party_ka_certificate: bytes | None = None

    def encode(self) -> bytes:
        """Encode the element's content (without its length byte)."""
        if not 0 <= self.message_code <= 0xFFFF:
            raise LocalProtocolError(f"message code must be 0..0xFFFF, got {self.message_code}")
        out = self.message_code.to_bytes(2, "big")
        srp_id = self.supplementary_remote_party_id
        srp_counter = self.supplementary_remote_party_counter
        orig_counter = self.supplementary_originator_counter
        cert = self.supplementary_remote_party_ka_certificate
        if srp_id is None:
            if srp_counter is not None or orig_counter is not None or cert is not None:
                raise LocalProtocolError(
                    "supplementary counters and certificate need a supplementary remote party id"
                )
            return out
        out += bytes(srp_id)
        if srp_counter is None:
            if orig_counter is not None or cert is not None:
                raise LocalProtocolError(
                    "a supplementary originator counter or certificate needs a supplementary "
                    "remote party counter"
                )
            return out
        out += _u64(srp_counter, "supplementary remote party counter")
        if orig_counter is not None:
            if cert is not None and orig_counter >> 56 == 0x30:
                raise LocalProtocolError(
                    "a supplementary originator counter whose first byte is 0x30 cannot be "
                    "followed by a certificate: a decoder would read it as the certificate"
                )
            out += _u64(orig_counter, "supplementary originator counter")
        if cert is not None:
            if not cert or cert[0] != 0x30:
                raise LocalProtocolError("the certificate must be a DER SEQUENCE (first byte 0x30)")
            if orig_counter is None and len(cert) == 8:
                raise LocalProtocolError(
                    "an 8-byte certificate right after the remote party counter would read back "
                    "as a supplementary originator counter"
                )
            out += cert
        return out

    @classmethod
    def decode_content(cls, content: bytes, base: int) -> OtherInformation:
        """Decode the element's content; ``base`` is its offset in the input, for errors."""
        n = len(content)
        path = "grouping_header.other_information"
        if n not in (2, 10) and n < 18:
            raise DecodeError(
                f"expected a length of 2, 10, 18, 26 or more than 18 with a certificate, got {n}",
                path=path,
                offset=base,
            )
        code = int.from_bytes(content[0:2], "big")
        if n == 2:
            # The common case; instances are immutable, so one per code is shared.
            known = _PLAIN_OTHER_INFORMATION.get(code)
            if known is None:
                known = _PLAIN_OTHER_INFORMATION[code] = cls(code)
            return known
        srp_id = Eui64(content[2:10])
        if n == 10:
            return cls(code, srp_id)
        srp_counter = int.from_bytes(content[10:18], "big")
        if n == 18:
            return cls(code, srp_id, srp_counter)
        if n == 26:
            return cls(code, srp_id, srp_counter, int.from_bytes(content[18:26], "big"))
        if content[18] == 0x30:
            return cls(code, srp_id, srp_counter, None, content[18:])
        if n > 26 and content[26] == 0x30:
            orig = int.from_bytes(content[18:26], "big")
            return cls(code, srp_id, srp_counter, orig, content[26:])
        raise DecodeError(
            "expected a DER certificate (0x30) after the supplementary counters, "
            f"got 0x{content[18]:02X}",
            path=path + ".supplementary_remote_party_ka_certificate",
            offset=base + 18,
        )


_PLAIN_OTHER_INFORMATION: dict[int, OtherInformation] = {}


@dataclass(frozen=True, slots=True)
class GroupingHeader:
    """The grouping header of a GBCS message (general-signing header, GBCS 7.2.5-7.2.7).

    ::

        DF 09 | CRA(1) originator_counter(8) | 08 originator(8) | 08 recipient(8)
           | 00 or 0C date_time(12) | L other_information | ...
    """

    cra: Cra  #: Command, Response or Alert (GBCS 7.2.4)
    originator_counter: int  #: 64-bit counter of the originator (GBCS 4.3.2)
    originator: Eui64  #: Business Originator ID
    recipient: Eui64  #: Business Target ID
    #: 12-byte DLMS date-time (COSEM, no type tag), or ``None`` when the element is empty
    date_time: bytes | None
    other_information: OtherInformation

    @property
    def message_code(self) -> int:
        """The use case message code from Other Information."""
        return self.other_information.message_code

    @property
    def transaction_id(self) -> bytes:
        """The 9-byte transaction id (CRA + counter): part of the KDF OtherInfo and MAC input."""
        return bytes((self.cra,)) + _u64(self.originator_counter, "originator counter")

    def encode(self) -> bytes:
        """Encode from the ``DF`` tag through Other Information."""
        dt = self.date_time
        if dt is not None and len(dt) != DATE_TIME_LENGTH:
            raise LocalProtocolError(f"date_time must be 12 bytes, got {len(dt)}")
        oi = self.other_information.encode()
        return b"".join(
            (
                b"\xdf\x09",
                self.transaction_id,
                b"\x08",
                self.originator,
                b"\x08",
                self.recipient,
                b"\x00" if dt is None else b"\x0c" + dt,
                encode_length(len(oi)),
                oi,
            )
        )


@dataclass(frozen=True, slots=True)
class GeneralSigningMessage:
    """A GBCS message in general-signing form: grouping header, payload, signature element.

    ::

        DF 09 CRA CTR(8) 08 ORIG(8) 08 RECIP(8) DT OI | L payload | signature element

    ``signature`` holds the signature element's three states: ``None`` when the element is
    omitted (a pre-command handed to a remote party for signing), ``b""`` when it is the
    single byte ``00`` (unsigned), or the 64-byte raw ECDSA r||s when it is ``40`` + 64 bytes.
    Critical responses and alerts travel in this form alone; MAC-protected messages wrap it.
    """

    header: GroupingHeader
    payload: bytes  #: DLMS, GBZ or ASN.1 payload (typed by the payload codecs)
    signature: bytes | None  #: see the class docstring

    @property
    def cra(self) -> Cra:
        return self.header.cra

    @property
    def message_code(self) -> int:
        return self.header.other_information.message_code

    def signed_part(self) -> bytes:
        """Encode from the ``DF`` tag through the payload (the signed data is this minus byte 0)."""
        return self.header.encode() + encode_length(len(self.payload)) + self.payload

    def encode(self) -> bytes:
        """Encode the whole APDU including its signature element."""
        return self.signed_part() + _signature_element(self.signature)


def _signature_element(signature: bytes | None) -> bytes:
    if signature is None:
        return b""
    if not signature:
        return b"\x00"
    if len(signature) != SIGNATURE_LENGTH:
        raise LocalProtocolError(f"a signature is 64 bytes (r||s), got {len(signature)}")
    return b"\x40" + signature


@dataclass(frozen=True, slots=True)
class MacProtectedMessage:
    """A GBCS message behind the MAC header (DLMS general-ciphering, GBCS 7.2.3).

    ::

        DD 00 00 00 00 00 00 | L | security_control(1) invocation_counter(4)
           | general-signing APDU | MAC(12)

    The five empty octet strings and absent key-info are fixed by GBCS; ``L`` counts
    everything after it. The MAC is a GMAC tag truncated to 12 bytes (GBCS 4.3.3.4).
    """

    inner: GeneralSigningMessage
    mac: bytes  #: 12-byte truncated GMAC tag
    security_control: int = SECURITY_CONTROL_AUTHENTICATED  #: 0x11 in GBCS
    invocation_counter: int = 0  #: always 0: keys are derived per message

    @property
    def header(self) -> GroupingHeader:
        return self.inner.header

    @property
    def cra(self) -> Cra:
        return self.inner.header.cra

    @property
    def message_code(self) -> int:
        return self.inner.header.other_information.message_code

    def security_header(self) -> bytes:
        """The 5 bytes before the general-signing APDU: security control + invocation counter."""
        if not 0 <= self.security_control <= 0xFF:
            raise LocalProtocolError(
                f"security control must be one byte, got {self.security_control}"
            )
        if not 0 <= self.invocation_counter <= 0xFFFFFFFF:
            raise LocalProtocolError(
                f"invocation counter must be 0..2**32-1, got {self.invocation_counter}"
            )
        return bytes((self.security_control,)) + self.invocation_counter.to_bytes(4, "big")

    def encode(self) -> bytes:
        if len(self.mac) != MAC_LENGTH:
            raise LocalProtocolError(f"a MAC is {MAC_LENGTH} bytes, got {len(self.mac)}")
        content = self.security_header() + self.inner.encode() + self.mac
        return b"\xdd" + _MAC_HEADER_EMPTY + encode_length(len(content)) + content


@dataclass(frozen=True, slots=True)
class GbtBlockMessage:
    """One block of a GBCS message segmented by General Block Transfer (GBCS 7.3).

    ::

        DD | 09 CRA CTR(8) | 08 ORIG(8) | 08 RECIP(8) | 00 | 02 CODE(2) | 00 | L
           | security_header(5) | E0 block_control(1) block_number(2) block_number_ack(2)
           | L block_data

    ``block_control``: bit 7 last block, bit 6 streaming, bits 5..0 window. The block data are
    consecutive slices of a whole ``DD 00`` or ``DF`` message; MAC and signature cover the
    reassembled message, not the blocks. The 5-byte security header is carried opaquely.
    """

    cra: Cra
    originator_counter: int
    originator: Eui64
    recipient: Eui64
    message_code: int
    block_number: int  #: first block is 1
    block_number_ack: int
    last_block: bool
    block_data: bytes
    streaming: bool = False
    window: int = 1  #: 0..63
    security_header: bytes = b"\x11\x00\x00\x00\x00"

    def encode(self) -> bytes:
        if len(self.security_header) != 5:
            raise LocalProtocolError(
                f"the GBT security header is 5 bytes, got {len(self.security_header)}"
            )
        if not 0 <= self.window <= 0x3F:
            raise LocalProtocolError(f"window must be 0..63, got {self.window}")
        for name, value in (
            ("block_number", self.block_number),
            ("block_number_ack", self.block_number_ack),
        ):
            if not 0 <= value <= 0xFFFF:
                raise LocalProtocolError(f"{name} must be 0..65535, got {value}")
        if not 0 <= self.message_code <= 0xFFFF:
            raise LocalProtocolError(f"message code must be 0..0xFFFF, got {self.message_code}")
        control = (0x80 if self.last_block else 0) | (0x40 if self.streaming else 0) | self.window
        gbt = b"".join(
            (
                bytes((GENERAL_BLOCK_TRANSFER, control)),
                self.block_number.to_bytes(2, "big"),
                self.block_number_ack.to_bytes(2, "big"),
                encode_length(len(self.block_data)),
                self.block_data,
            )
        )
        content = self.security_header + gbt
        return b"".join(
            (
                b"\xdd\x09",
                bytes((self.cra,)),
                _u64(self.originator_counter, "originator counter"),
                b"\x08",
                self.originator,
                b"\x08",
                self.recipient,
                b"\x00\x02",
                self.message_code.to_bytes(2, "big"),
                b"\x00",
                encode_length(len(content)),
                content,
            )
        )


#: Any outer GBCS structure the framing decoder returns.
GbcsMessage = MacProtectedMessage | GeneralSigningMessage | GbtBlockMessage


@dataclass(frozen=True, slots=True)
class Located:
    """A decoded message together with the exact input bytes its security covers.

    Signature and MAC are checked over the bytes as received (not a re-encoding), so a
    message with, say, a non-shortest length still verifies and merely re-encodes differently.
    """

    message: GbcsMessage
    #: bytes the signature covers: the general-signing APDU from its second byte through the
    #: payload (GBCS 4.3.2.3); empty for a GBT block
    signed_data: bytes
    #: the general-signing APDU as received, including its signature element (MAC input)
    signing_apdu: bytes
    rest: bytes  #: input after this message


def _cra(buf: bytes, pos: int, path: str) -> Cra:
    if pos >= len(buf):
        raise DecodeError("expected the CRA flag, got end of input", path=path, offset=pos)
    value = buf[pos]
    if value not in (1, 2, 3):
        raise DecodeError(
            f"expected 0x01 (command), 0x02 (response) or 0x03 (alert), got 0x{value:02X}",
            path=path,
            offset=pos,
        )
    return Cra(value)


def _system_title(buf: bytes, pos: int, path: str) -> tuple[Eui64, int]:
    pos = expect_byte(buf, pos, SYSTEM_TITLE_LENGTH, path, "system title length 8")
    return Eui64(take(buf, pos, 8, path)), pos + 8


_CRA_BY_BYTE: Final = {int(c): c for c in Cra}
_OI_PATH: Final = "grouping_header.other_information"
_CIPHERED_PATH: Final = "mac_header.ciphered_content"
_new_eui = bytes.__new__  # Eui64 from a slice already known to be 8 bytes


def _decode_grouping_header(buf: bytes, pos: int) -> tuple[GroupingHeader, int]:
    p = "grouping_header"
    # Fast path: the fixed 29 bytes in their only well-formed shape, checked at once.
    cra_or_none = _CRA_BY_BYTE.get(buf[pos + 2]) if len(buf) > pos + 29 else None
    if (
        cra_or_none is not None
        and buf[pos] == GENERAL_SIGNING
        and buf[pos + 1] == TRANSACTION_ID_LENGTH
        and buf[pos + 11] == SYSTEM_TITLE_LENGTH
        and buf[pos + 20] == SYSTEM_TITLE_LENGTH
    ):
        cra = cra_or_none
        counter = int.from_bytes(buf[pos + 3 : pos + 11], "big")
        originator = _new_eui(Eui64, buf[pos + 12 : pos + 20])
        recipient = _new_eui(Eui64, buf[pos + 21 : pos + 29])
        pos += 29
    else:
        pos = expect_byte(buf, pos, GENERAL_SIGNING, p, "general-signing tag")
        pos = expect_byte(buf, pos, TRANSACTION_ID_LENGTH, p + ".transaction_id", "length 9")
        cra = _cra(buf, pos, p + ".cra")
        counter = int.from_bytes(take(buf, pos + 1, 8, p + ".originator_counter"), "big")
        originator, pos = _system_title(buf, pos + 9, p + ".originator")
        recipient, pos = _system_title(buf, pos, p + ".recipient")
    if pos >= len(buf):
        raise DecodeError(
            "expected the date-time element, got end of input", path=p + ".date_time", offset=pos
        )
    dt_len = buf[pos]
    if dt_len == 0:
        date_time = None
        pos += 1
    elif dt_len == DATE_TIME_LENGTH:
        date_time = take(buf, pos + 1, DATE_TIME_LENGTH, p + ".date_time")
        pos += 1 + DATE_TIME_LENGTH
    else:
        raise DecodeError(
            f"expected a date-time length of 0x00 or 0x0C, got 0x{dt_len:02X}",
            path=p + ".date_time",
            offset=pos,
        )
    oi_len = buf[pos] if pos < len(buf) else 0x80
    if oi_len < 0x80:
        oi_pos = pos + 1
    else:
        oi_len, oi_pos = decode_length(buf, pos, _OI_PATH)
    content = buf[oi_pos : oi_pos + oi_len]
    if len(content) != oi_len:
        take(buf, oi_pos, oi_len, _OI_PATH)  # raises, naming the shortfall
    oi = OtherInformation.decode_content(content, oi_pos)
    header = GroupingHeader(cra, counter, originator, recipient, date_time, oi)
    return header, oi_pos + oi_len


def _decode_general_signing(
    buf: bytes, pos: int, limit: int | None
) -> tuple[GeneralSigningMessage, int, int]:
    """Decode a general-signing APDU at ``pos``.

    ``limit`` is where the APDU must end (inside a MAC header), or ``None`` for a bare APDU
    that may be followed by other bytes. Returns (message, end of payload, end of APDU).
    """
    header, pos = _decode_grouping_header(buf, pos)
    length = buf[pos] if pos < len(buf) else 0x80
    if length < 0x80:
        pos += 1
    else:
        length, pos = decode_length(buf, pos, "payload")
    content_end = pos + length
    payload = buf[pos:content_end]
    if len(payload) != length:
        take(buf, pos, length, "payload")  # raises, naming the shortfall
    if limit is not None and content_end > limit:
        raise DecodeError(
            f"payload runs {content_end - limit} bytes into the MAC", path="payload", offset=pos
        )
    end = len(buf) if limit is None else limit
    signature: bytes | None
    if content_end == end:
        signature, apdu_end = None, content_end
    else:
        tag = buf[content_end]
        if tag == 0x00:
            signature, apdu_end = b"", content_end + 1
        elif tag == SIGNATURE_LENGTH:
            signature = take(buf, content_end + 1, SIGNATURE_LENGTH, "signature")
            apdu_end = content_end + 1 + SIGNATURE_LENGTH
        elif limit is None:
            signature, apdu_end = None, content_end
        else:
            raise DecodeError(
                f"expected a signature length of 0x00 or 0x40, got 0x{tag:02X}",
                path="signature",
                offset=content_end,
            )
        if limit is not None and apdu_end != limit:
            raise DecodeError(
                f"expected the MAC right after the signature element, found {limit - apdu_end} "
                "more bytes",
                path="signature",
                offset=apdu_end,
            )
    return GeneralSigningMessage(header, payload, signature), content_end, apdu_end


def _decode_mac_protected(buf: bytes, pos: int) -> tuple[Located, int]:
    p = "mac_header"
    if buf[pos + 1 : pos + 7] == _MAC_HEADER_EMPTY:
        pos += 7
    else:
        pos = expect_byte(buf, pos, GENERAL_CIPHERING, p, "general-ciphering tag")
        for name in _MAC_HEADER_FIELDS:
            pos = expect_byte(buf, pos, 0x00, f"{p}.{name}", "empty in a GBCS MAC header")
    length, pos = decode_length(buf, pos, _CIPHERED_PATH)
    end = pos + length
    if end > len(buf):
        take(buf, pos, length, _CIPHERED_PATH)  # raises, naming the shortfall
    if length < 5 + MAC_LENGTH:
        raise DecodeError(
            f"expected at least {5 + MAC_LENGTH} bytes of ciphered content, got {length}",
            path=p + ".ciphered_content",
            offset=pos,
        )
    security_control = buf[pos]
    invocation_counter = int.from_bytes(buf[pos + 1 : pos + 5], "big")
    apdu_start = pos + 5
    mac_start = end - MAC_LENGTH
    try:
        inner, content_end, _ = _decode_general_signing(buf, apdu_start, mac_start)
    except DecodeError as exc:
        raise exc.within(p) from None
    message = MacProtectedMessage(inner, buf[mac_start:end], security_control, invocation_counter)
    located = Located(
        message, buf[apdu_start + 1 : content_end], buf[apdu_start:mac_start], buf[end:]
    )
    return located, end


def _decode_gbt(buf: bytes, pos: int) -> tuple[Located, int]:
    p = "gbt"
    pos = expect_byte(buf, pos, GENERAL_CIPHERING, p, "general-ciphering tag")
    pos = expect_byte(buf, pos, TRANSACTION_ID_LENGTH, p + ".transaction_id", "length 9")
    cra = _cra(buf, pos, p + ".cra")
    counter = int.from_bytes(take(buf, pos + 1, 8, p + ".originator_counter"), "big")
    originator, pos = _system_title(buf, pos + 9, p + ".originator")
    recipient, pos = _system_title(buf, pos, p + ".recipient")
    pos = expect_byte(buf, pos, 0x00, p + ".date_time", "empty date-time")
    pos = expect_byte(buf, pos, 0x02, p + ".other_information", "length 2: message code")
    code = int.from_bytes(take(buf, pos, 2, p + ".message_code"), "big")
    pos = expect_byte(buf, pos + 2, 0x00, p + ".key_info", "absent key-info")
    length, pos = decode_length(buf, pos, p + ".ciphered_content")
    content = take(buf, pos, length, p + ".ciphered_content")
    end = pos + length
    if len(content) < 11:
        raise DecodeError(
            f"expected at least 11 bytes (security header and GBT header), got {len(content)}",
            path=p + ".ciphered_content",
            offset=pos,
        )
    security_header = content[0:5]
    q = pos + 5
    q = expect_byte(buf, q, GENERAL_BLOCK_TRANSFER, p + ".apdu", "general-block-transfer tag")
    control = buf[q]
    block_number = int.from_bytes(buf[q + 1 : q + 3], "big")
    block_ack = int.from_bytes(buf[q + 3 : q + 5], "big")
    data_len, q = decode_length(buf, q + 5, p + ".block_data")
    if q + data_len != end:
        raise DecodeError(
            f"expected block data of {end - q} bytes to fill the ciphered content, got {data_len}",
            path=p + ".block_data",
            offset=q,
        )
    block = GbtBlockMessage(
        cra=cra,
        originator_counter=counter,
        originator=originator,
        recipient=recipient,
        message_code=code,
        block_number=block_number,
        block_number_ack=block_ack,
        last_block=bool(control & 0x80),
        block_data=buf[q:end],
        streaming=bool(control & 0x40),
        window=control & 0x3F,
        security_header=security_header,
    )
    return Located(block, b"", b"", buf[end:]), end


def locate(data: bytes) -> Located:
    """Decode the GBCS message at the start of ``data`` and say which bytes its security covers.

    Dispatches on the first bytes (gbcs-reference.md section 14.1): ``DD 00`` MAC header,
    ``DD 09`` GBT block, ``DF`` bare general-signing APDU.

    :raises DecodeError: naming the field and byte offset of the first problem.
    """
    buf = bytes(data)
    if not buf:
        raise DecodeError("expected a GBCS message, got no bytes", path="message", offset=0)
    first = buf[0]
    if first == GENERAL_CIPHERING:
        if len(buf) < 2:
            raise DecodeError(
                "expected 0x00 or 0x09 after 0xDD, got end of input", path="message", offset=1
            )
        if buf[1] == 0x00:
            return _decode_mac_protected(buf, 0)[0]
        if buf[1] == TRANSACTION_ID_LENGTH:
            return _decode_gbt(buf, 0)[0]
        raise DecodeError(
            f"expected 0x00 (MAC header) or 0x09 (GBT block) after 0xDD, got 0x{buf[1]:02X}",
            path="message",
            offset=1,
        )
    if first == GENERAL_SIGNING:
        inner, content_end, end = _decode_general_signing(buf, 0, None)
        return Located(inner, buf[1:content_end], buf[:end], buf[end:])
    raise DecodeError(
        f"expected 0xDD (MAC header or GBT block) or 0xDF (grouping header), got 0x{first:02X}",
        path="message",
        offset=0,
    )


def decode(data: bytes) -> tuple[GbcsMessage, bytes]:
    """Decode one GBCS message from the start of ``data``; return it and the bytes after it."""
    located = locate(data)
    return located.message, located.rest


def decode_exact(data: bytes) -> GbcsMessage:
    """Decode ``data`` as exactly one GBCS message.

    :raises DecodeError: also when bytes follow the message.
    """
    located = locate(data)
    if located.rest:
        raise DecodeError(
            f"expected the end of input, got {len(located.rest)} more bytes",
            path="message",
            offset=len(data) - len(located.rest),
        )
    return located.message


def encode(message: GbcsMessage) -> bytes:
    """Encode any outer GBCS structure (shortest-form lengths, GBCS section 2)."""
    return message.encode()


def payload_family(payload: bytes) -> str:
    """``dlms``, ``gbz`` or ``asn1`` by the first payload bytes (gbcs-reference.md 7.1)."""
    if payload[:1] in (b"\xd9", b"\xda", b"\x0f"):
        return "dlms"
    if payload[:2] == b"\x01\x09":
        return "gbz"
    return "asn1"


def signing_message(message: GbcsMessage) -> GeneralSigningMessage | None:
    """The general-signing APDU inside ``message`` (``None`` for a GBT block)."""
    if isinstance(message, MacProtectedMessage):
        return message.inner
    if isinstance(message, GeneralSigningMessage):
        return message
    return None
