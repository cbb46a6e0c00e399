"""gas_zcl.serve: reply frame control per the use case's GBZ template (``quiet``)."""

from __future__ import annotations

from datetime import UTC, datetime

from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_zcl import AttributeStore, ZclReply, serve
from smemu.protocols.zigbee import gbz

STORE = AttributeStore({(0x0702, 0x0000): (0x25, bytes(6))})


def _publish(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
    return ZclReply(0x06, b"\x01", True)


def _message() -> gbz.GbzMessage:
    return gbz.GbzMessage(
        (
            gbz.GbzComponent(0, 0x0702, 0x00, 0, 0x00, b"\x00\x00"),
            gbz.GbzComponent(0, 0x0702, 0x01, 1, 0x06, b""),
            gbz.GbzComponent(gbz.CONTROL_LAST, 0x0702, 0x01, 2, 0x0D, b""),
        )
    )


def _controls(quiet: frozenset[tuple[int, int]] | None) -> list[int]:
    tx = Tx(datetime(2024, 1, 1, tzinfo=UTC), {})
    reply = serve(tx, _message(), STORE, {(0x0702, 0x06): _publish}, quiet=quiet)
    return [c.frame_control for c in reply.components]


def test_without_template_each_reply_keeps_its_own_flag() -> None:
    assert _controls(None) == [0x08, 0x19, 0x08]


def test_template_sets_the_disable_default_response_bit() -> None:
    assert _controls(frozenset({(0x0702, 0x01)})) == [0x18, 0x09, 0x08]
    assert _controls(frozenset({(0x0702, 0x06)})) == [0x08, 0x19, 0x08]


def test_default_responses_never_disable_it() -> None:
    assert _controls(frozenset({(0x0702, 0x0B)}))[2] == 0x08
