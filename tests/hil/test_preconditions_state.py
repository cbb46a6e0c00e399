"""Which commands of a vector set the runner replays as configuration (hil.preconditions_state)."""

from __future__ import annotations

from pathlib import Path

import pytest

from smemu.hil.conformance import discover, read_vector
from smemu.hil.preconditions_state import WriteIndex, _takes_effect_later
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.prepayment import ChangePaymentMode

_NOW = 0
_FUTURE = 0x3881_8890  # 2030-01-15 09:00 UTC
_NEVER = 0xFFFF_FFFF
_CANCEL = 0xFFFF_FFFE


def _change_payment_mode(implementation: int) -> gbz.GbzComponent:
    payload = ChangePaymentMode(0, 473_385_600, implementation, 0x0897, 0).encode()
    return gbz.GbzComponent(0x01, 0x0705, 0x01, 0, ChangePaymentMode.COMMAND_ID, payload)


@pytest.mark.parametrize(
    ("implementation", "later"),
    [(_NOW, False), (_FUTURE, True), (_NEVER, True), (_CANCEL, True)],
)
def test_an_activation_time_in_the_zcl_payload_decides(implementation: int, later: bool) -> None:
    assert _takes_effect_later(_change_payment_mode(implementation)) is later


def test_commands_without_an_activation_time_take_effect_now() -> None:
    read = gbz.GbzComponent(0x01, 0x0705, 0x00, 0, 0x00, b"\x00\x00")  # Read Attributes
    assert not _takes_effect_later(read)
    odd = gbz.GbzComponent(0x01, 0x0705, 0x01, 0, ChangePaymentMode.COMMAND_ID, b"\x00")
    assert not _takes_effect_later(odd)  # undecodable: left to the reference answer


def test_a_tariff_read_is_preceded_by_the_immediate_tariff_not_its_cancel(
    rtds_dir: Path,
) -> None:
    """GCS01a / GCS01b CANCELLATION send a calendar with Start Time 'cancel' (0xFFFFFFFE)
    and succeed: replayed, they configure nothing. The tariff a GCS21f read reports is the
    immediate one."""
    index = WriteIndex()
    for pattern in ("GCS01a", "GCS01b"):
        for suite in discover(rtds_dir, pattern=pattern):
            for scenario in suite.scenarios:
                if scenario.input is None or scenario.response is None:
                    continue
                command, response = read_vector(scenario.input), read_vector(scenario.response)
                index.add("gsme", scenario.id, command, response)
    gcs21f = read_vector(next(rtds_dir.glob("*_GCS21f/*_SUCCESS_COMMAND_GBCS.HEX")))
    keys = [w.key for w in index.setup_for("gsme", "GCS21f", gcs21f)]
    assert keys == [
        "1.1.1_GCS01a/GCS01a_1.1.1_IMMEDIATE_TOU_SUCCESS",
        "1.2.1_GCS01b/GCS01b_1.2.1_IMMEDIATE_TOU_SUCCESS",
    ]
