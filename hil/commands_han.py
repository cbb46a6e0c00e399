"""Command payloads for the HAN devices that are not DLMS meters: PPMID, HCALCS and the GSME.

Layer: hil. CS08 Read PPMID/HCALCS Firmware Version is an ASN.1 command (gbcs-reference.md
7.8: the payload is ``NULL``, the answer ``SEQUENCE { firmwareVersion, responseCode }``);
GCS38 Read GSME Firmware Version is a GBZ payload (Use Case volume, GCS38 message template:
one Read Attributes of Metering's Meter Status CurrentMeterID, 0x0206). Both are
non-critical. The functions return payload bytes; :mod:`smemu.hil.commands` lists them in
its builder table.
"""

from __future__ import annotations

from typing import Final

from smemu.protocols.asn1 import ReadFirmwareVersionCommand
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.typed import GbzPayload
from smemu.protocols.zigbee.zcl import ReadAttributes, ReadAttributesResponse

#: Metering cluster (ZigBee SE) and its CurrentMeterID attribute, used for the firmware
#: version (GCS38 template)
METERING_CLUSTER: Final = 0x0702
CURRENT_METER_ID: Final = 0x0206


def cs08_payload() -> bytes:
    """CS08: the ASN.1 ``NULL`` command (``05 00``)."""
    return ReadFirmwareVersionCommand().encode()


def gbz_read_attributes(cluster: int, attributes: tuple[int, ...], sequence: int = 0) -> bytes:
    """A GBZ payload of one Read Attributes component (client to server, one command)."""
    command = ReadAttributes(attributes)
    header = command.header(sequence, direction=0)
    component = gbz.GbzComponent(
        gbz.CONTROL_LAST,
        cluster,
        header.frame_control,
        header.sequence,
        header.command_id,
        command.encode(),
    )
    return gbz.encode(gbz.GbzMessage((component,)))


def gcs38_payload() -> bytes:
    """GCS38: read Metering CurrentMeterID, which carries the GSME's firmware version."""
    return gbz_read_attributes(METERING_CLUSTER, (CURRENT_METER_ID,))


def gbz_firmware_version(payload: GbzPayload) -> bytes | None:
    """The firmware version a GCS38 response carries (successful CurrentMeterID read), if any.

    The value is an octet string of the 4-octet version (GCS38 template: "length is 5, the
    first octet having the value 0x04"); a value still carrying that length octet is cut.
    """
    for component in payload.components:
        command = component.command
        if not isinstance(command, ReadAttributesResponse):
            continue
        for record in command.records:
            if record.attribute_id != CURRENT_METER_ID or record.status != 0:
                continue
            value = None if record.value is None else record.value.value
            if isinstance(value, bytes):
                return value[1:] if len(value) == 5 and value[0] == 4 else value
    return None
