"""CS08 Read PPMID/HCALCS Firmware Version: the answer both HAN devices give.

Layer: firmware. gbcs-reference.md 7.8: the command payload is ASN.1 NULL; the response is
``SEQUENCE { firmwareVersion OCTET STRING, responseCode INTEGER }`` (0 read success). The
command is non-critical and MAC'd by the DCC; the response is MAC'd by the device.
"""

from __future__ import annotations

from typing import Final

from smemu.firmware.asn1_respond import asn1_response, command_payload
from smemu.firmware.common.credentials import Credentials
from smemu.firmware.common.machine import Tx
from smemu.firmware.common.security import Accepted
from smemu.protocols.asn1 import ReadFirmwareVersionCommand, ReadFirmwareVersionResponse
from smemu.protocols.asn1.firmware import FirmwareReadResponseCode

#: message code of CS08
CS08: Final = 0x0129
#: NVM key of the running firmware version (octets)
FIRMWARE_VERSION: Final = "fw/version"


def read_firmware_version(credentials: Credentials, tx: Tx, accepted: Accepted) -> bytes:
    """The CS08 response: the version in NVM, read success (failure when none is held).

    :raises DecodeError: the payload is not the CS08 NULL.
    """
    payload = command_payload(accepted)
    if not isinstance(payload, ReadFirmwareVersionCommand):  # pragma: no cover - registry
        raise TypeError(f"CS08 payload decoded as {type(payload).__name__}")
    version = tx.get(FIRMWARE_VERSION)
    code = FirmwareReadResponseCode.READ_SUCCESS
    if version is None:
        version, code = b"\x00\x00\x00\x00", FirmwareReadResponseCode.READ_FAILURE
    tx.log("event", f"firmware version read: {version.hex()}")
    answer = ReadFirmwareVersionResponse(version, code)
    return asn1_response(credentials, tx, accepted, answer, critical=False)
