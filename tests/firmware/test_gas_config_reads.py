"""GSME configuration reads of a new meter (GCS21j): the values a meter holds before any write."""

from __future__ import annotations

from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_handlers import HANDLERS, STORE
from smemu.firmware.gas_metering import registers
from smemu.firmware.gas_prepayment import CREDIT_CONFIGURATIONS, PREPAYMENT_CONFIGURATIONS
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.prepayment import ChangePaymentMode

from ._support import T0

_BITMAP16 = 0x19


def _payment_control(tx: Tx) -> int:
    raw = STORE.read(tx, 0x0705, 0x0000)
    assert raw is not None and raw[0] == _BITMAP16
    return int.from_bytes(raw[1:3], "little")


def test_a_new_meter_reports_the_credit_mode_configuration() -> None:
    """GCS21j's response lists five Payment Control Configuration values; a meter that no
    GCS02 / GCS03 has changed is in credit mode (its engine starts so), the one credit value."""
    tx = Tx(T0, {})
    assert not registers(tx).prepayment
    value = _payment_control(tx)
    assert value in CREDIT_CONFIGURATIONS | PREPAYMENT_CONFIGURATIONS
    assert value == 0b0000110010010100


def test_a_configured_mode_replaces_the_default() -> None:
    tx = Tx(T0, {})
    payload = ChangePaymentMode(0, 1, 0, 0b0000100010010111, 0).encode()
    comp = gbz.GbzComponent(gbz.CONTROL_LAST, 0x0705, 0x01, 0, 0x06, payload)
    HANDLERS[(0x0705, 0x06)](tx, comp)
    assert _payment_control(tx) == 0b0000100010010111
