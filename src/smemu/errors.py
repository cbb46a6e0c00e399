"""The exception root of smemu and its branches (style rule D17).

Every layer raises only these (or subclasses of them), converting foreign exceptions at its
boundary with ``raise ... from``. This module imports nothing, so every layer may use it.
"""

from __future__ import annotations


class SmemuError(Exception):
    """Root of every error smemu raises on purpose.

    Catch this to handle anything the emulator reports, without catching programming errors.
    """


class DecodeError(SmemuError, ValueError):
    """Bytes that do not decode as the structure expected.

    Raised by every codec in ``smemu.protocols`` (GBCS framing, payloads, UTRN, hex input).
    It names the field ``path`` (dotted, outermost first) and the byte ``offset`` into the
    input where the problem was found, and says what was expected and what arrived.

    Scenarios: a truncated message; a CRA flag of 0x07; a length running past the end of
    the input; trailing bytes given to ``decode_exact``; a UTRN whose check digit is wrong.
    """

    def __init__(self, message: str, *, path: str = "", offset: int | None = None) -> None:
        self.reason = message
        self.path = path
        self.offset = offset
        where = []
        if path:
            where.append(path)
        if offset is not None:
            where.append(f"byte {offset}")
        text = f"{' at '.join(where)}: {message}" if where else message
        super().__init__(text)

    def within(self, outer: str, base: int = 0) -> DecodeError:
        """Return this error with ``outer`` prefixed to its path and ``base`` added to its offset.

        Used when a nested decoder's error travels out through the decoder that called it.
        """
        path = f"{outer}.{self.path}" if self.path else outer
        offset = None if self.offset is None else self.offset + base
        return DecodeError(self.reason, path=path, offset=offset)


class SecurityError(SmemuError):
    """A cryptographic operation could not be carried out.

    Raised by ``smemu.protocols.security`` when a key is missing, malformed or of the wrong
    curve, or when a key store directory cannot be read. A signature or MAC that simply does
    not verify is not an error: the verify functions return ``False``.
    """


class LocalProtocolError(SmemuError):
    """Our side tried to do something the protocol does not allow.

    Scenarios: a firmware machine given an event that is illegal in its state; encoding a
    message whose fields are out of range (a counter above 2**64 - 1, a 9-byte EUI).
    """


class RemoteProtocolError(SmemuError):
    """The peer did something the protocol does not allow (valid bytes, wrong behaviour).

    Scenarios: a response whose counter matches no outstanding command; a GBT block number
    repeated with different data.
    """


class HalError(SmemuError):
    """A port, clock or store of the hardware abstraction layer failed.

    Scenarios: an unknown URL scheme; a serial device that cannot be opened; a closed port.
    """


class HalTimeout(HalError, TimeoutError):  # noqa: N818 - name fixed by style rule D17
    """A read or write on a port did not complete within its timeout."""


class ConfigError(SmemuError):
    """A configuration file, option or environment value is invalid.

    Scenarios: an unreadable premises TOML file; a keystore path that does not exist.
    """
