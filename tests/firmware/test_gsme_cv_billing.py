"""GCS23 (CV and conversion factor) through the register engine; GCS25a (0x00D8) on the GSME."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from smemu.firmware import gas_logs, gas_metering, gas_tariff_engine
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import DeviceType, MessageEvent, Tx
from smemu.firmware.gas_handlers import HANDLERS
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.types import Cra
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.price import (
    PriceMatrixEntry,
    PublishBillingPeriod,
    PublishBlockPeriod,
    PublishCalorificValue,
    PublishConversionFactor,
    PublishPriceMatrix,
)
from smemu.protocols.zigbee.zcl import ZclCommand

from ._support import GSME, T0, booted, command, make_pki

PRICE = 0x0700
GCS25A = 0x00D8
_Y2K = datetime(2000, 1, 1, tzinfo=UTC)


def _publish(
    cluster: int, message: ZclCommand, seq: int = 0, *, last: bool = True
) -> gbz.GbzComponent:
    control = gbz.CONTROL_LAST if last else 0
    cid = type(message).COMMAND_ID
    return gbz.GbzComponent(control, cluster, 0x09, seq, cid, message.encode())


def _later(tx: Tx, hours: int) -> Tx:
    base = dict(tx.base)
    for key, value in tx.writes.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    out = Tx(tx.now + timedelta(hours=hours), base)
    gas_metering.catch_up(out)
    return out


def test_gcs23_changes_the_energy_and_the_cost_of_the_same_volume() -> None:
    tx = Tx(T0, {})
    tx.put_json(gas_metering.FLOW, {"litres_per_hour": 100})
    gas_metering.catch_up(tx)
    # GCS01b: one TOU tier all day (the tariff the engine runs comes from the ZCL one)
    prices = PublishPriceMatrix(0, 1, 0, 1, 0, 1, 1, (PriceMatrixEntry(1, 2000),))
    HANDLERS[(PRICE, 0x05)](tx, _publish(PRICE, prices))
    start = gas_metering.registers(tx)
    tx = _later(tx, 10)
    before = gas_metering.registers(tx)
    used = before.volume_litres - start.volume_litres
    paid = before.accumulated_cost - start.accumulated_cost
    assert used == 1000 and paid > 0
    cv, cf = gas_metering.conversion(tx)
    assert before.energy_wh == gas_metering.energy_wh(before.volume_litres, cv, cf)

    # GCS23: CV 79.0 MJ/m3 (twice the default 39.5), conversion factor 1.022640 (unchanged)
    HANDLERS[(PRICE, 0x03)](tx, _publish(PRICE, PublishCalorificValue(1, 0, 790, 1, 0x10)))
    HANDLERS[(PRICE, 0x02)](tx, _publish(PRICE, PublishConversionFactor(1, 0, 1_022_640, 0x60)))
    assert gas_metering.conversion(tx) == (79_000, 1_022_640)
    now = gas_metering.registers(tx)
    assert now.volume_litres == before.volume_litres  # the volume is what was measured
    assert now.energy_wh == gas_metering.energy_wh(now.volume_litres, 79_000, 1_022_640)
    assert abs(now.energy_wh - 2 * before.energy_wh) <= 1

    tx = _later(tx, 10)
    after = gas_metering.registers(tx)
    assert after.volume_litres - now.volume_litres == used
    # the same litres cost twice as much: the engine's price per m3 follows the CV
    assert abs((after.accumulated_cost - now.accumulated_cost) - 2 * paid) <= paid // 1000

    # a conversion factor change alone moves the energy too
    HANDLERS[(PRICE, 0x02)](tx, _publish(PRICE, PublishConversionFactor(2, 0, 1_000_000, 0x60)))
    assert gas_metering.registers(tx).energy_wh == gas_metering.energy_wh(
        after.volume_litres, 79_000, 1_000_000
    )


def test_gcs25a_sets_the_billing_calendar_and_block_period(tmp_path: Path) -> None:
    pki = make_pki(tmp_path, {GSME: DeviceType.GSME})
    machine = booted(pki, GSME, DeviceType.GSME)
    first = T0 + timedelta(days=10)  # 2025-01-16 00:00 local (GMT)
    start = int((first - _Y2K).total_seconds())
    billing = PublishBillingPeriod(0, 7, start, 1, 0x03, 0)  # monthly from the 16th
    block = PublishBlockPeriod(0, 7, start, 1, 0, 0x03, 0, 0)
    body = gbz.GbzMessage((_publish(PRICE, billing, 0, last=False), _publish(PRICE, block, 1)))
    data = command(pki, GSME, GCS25A, 71, gbz.encode(body), sign=True)
    step = machine.step(MessageEvent("han", HanFrame(TunnelCommand.PUT, data).encode()), T0)
    answers = [m for s in step.sends if s.port == "han" and (m := decode_han(s.data).message)]
    [inner] = [frame.signing_message(frame.locate(a).message) for a in answers]
    assert inner is not None and inner.header.cra is Cra.RESPONSE
    assert inner.header.other_information.message_code == GCS25A
    reply = gbz.decode_exact(inner.payload)
    assert [(c.command_id, c.payload) for c in reply.components] == [
        (0x0B, b"\x09\x00"),
        (0x0B, b"\x01\x00"),
    ]

    tx = Tx(T0, machine.nvm)
    assert gas_tariff_engine.billing_period(tx) == billing  # what GCS21d reads back
    settings = gas_metering.settings(tx)
    assert (settings.billing_day, settings.block_reset) == (16, "billing")
    # the engine bills at the first billing instant, not before
    tx = Tx(first - timedelta(hours=1), dict(machine.nvm))
    gas_metering.catch_up(tx)
    cause = gas_metering.CAUSE_BILLING_PERIOD
    assert [s for s in gas_logs.billing_log(tx) if s.cause == cause] == []
    tx = Tx(first + timedelta(hours=1), dict(machine.nvm))
    gas_metering.catch_up(tx)
    assert len([s for s in gas_logs.billing_log(tx) if s.cause == cause]) == 1
