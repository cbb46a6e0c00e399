"""Responses to an unknown remote party (URP): the Supplementary Originator Counter."""

from __future__ import annotations

from datetime import UTC, datetime

from smemu.firmware.common import respond
from smemu.firmware.common.machine import Tx
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader, OtherInformation
from smemu.protocols.gbcs.types import Cra, Eui64

DEVICE = Eui64.parse("00-53-4D-45-4D-55-00-01")
ACB = Eui64.parse("90-B3-D5-1F-30-00-00-02")
SUPPLIER = Eui64.parse("90-B3-D5-1F-30-01-00-00")
CERT = bytes.fromhex("3003020101")  # stands for the party's KA certificate (opaque here)


def _command(oi: OtherInformation) -> GeneralSigningMessage:
    return GeneralSigningMessage(GroupingHeader(Cra.COMMAND, 1302, ACB, DEVICE, None, oi), b"", b"")


def test_a_urp_response_carries_a_fresh_originator_counter_and_no_certificate() -> None:
    command = _command(OtherInformation(0x0034, SUPPLIER, 1004, None, CERT))
    tx = Tx(datetime(2015, 1, 1, tzinfo=UTC), {})
    first = respond.response_header(command, DEVICE, tx)
    again = respond.response_header(command, DEVICE, tx)  # same step: same counter
    oi = first.other_information
    assert oi.supplementary_remote_party_ka_certificate is None
    assert (oi.supplementary_remote_party_id, oi.supplementary_remote_party_counter) == (
        SUPPLIER,
        1004,
    )
    assert oi.supplementary_originator_counter is not None
    assert again == first
    assert first.originator_counter == 1302 and first.recipient == ACB
    # the counter is the device's own: the next alert's counter is above it
    assert respond.next_alert_counter(tx) > oi.supplementary_originator_counter
    # a later step takes a greater one
    later = Tx(tx.now, {k: v for k, v in tx.writes.items() if k != "urp/counter" and v})
    next_oi = respond.response_header(command, DEVICE, later).other_information
    assert (next_oi.supplementary_originator_counter or 0) > oi.supplementary_originator_counter


def test_other_commands_echo_their_other_information() -> None:
    oi = OtherInformation(0x0034, SUPPLIER, 1004)
    tx = Tx(datetime(2015, 1, 1, tzinfo=UTC), {})
    assert respond.response_header(_command(oi), DEVICE, tx).other_information == oi
    assert tx.writes == {}
    urp = OtherInformation(0x0034, SUPPLIER, 1004, None, CERT)
    assert respond.response_header(_command(urp), DEVICE).other_information == urp  # no tx
