"""The ESME's ZigBee Smart Energy side toward the PPMID and the HCALC ("ZSE specified").

Layer: devices. GBCS leaves the local exchanges between the ESME and its HAN devices to the
ZigBee Smart Energy application layer, secured by the HAN link (PECS01-03 from the PPMID,
HECS01 to and from the HCALC). The ESME firmware models the meter side of them through
its local inputs -- a typed UTRN on ``keypad``, the ``enable_button`` and
``emergency_credit_button`` lines -- so this module is the ZSE server in front of them:

* a PPMID's ``zse`` frame to the ESME (Consumer Top Up, Select Available Emergency Credit,
  Local Change Supply) becomes that local input, one ESME step; the outcome goes back to
  the PPMID as Consumer Top Up Response;
* after every ESME step whose credit, emergency credit or debt changed, each PPMID paired
  with that ESME gets a Publish Prepay Snapshot (what its display shows);
* an HCALC's ``alc`` frames (override started / ended, state change results, refresh
  requests) are kept in :attr:`ZseLink.notices` and counted;
* frames the ESME itself sends on ``zse`` / ``alc`` with a destination (a firmware that
  speaks ZSE natively) go straight to that device's port of the same name.

Frames are delivered on a later loop iteration, never re-entrantly; :attr:`ZseLink.inflight`
counts those not yet delivered, for :meth:`~smemu.devices.premises.Premises.settle`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from smemu.devices.device import Device
from smemu.errors import DecodeError
from smemu.firmware import hcalc_frames, metering, ppmid
from smemu.firmware.common.machine import DeviceType, MessageEvent, Outgoing, Step, Tx
from smemu.firmware.prepayment import UtrnOutcome
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.zigbee import metering as zse_metering
from smemu.protocols.zigbee import prepayment as zse_prepayment
from smemu.protocols.zigbee.registry import decode_frame
from smemu.protocols.zigbee.zcl import ZclCommand

log = logging.getLogger(__name__)

ZSE_PORT: Final = "zse"
ALC_PORT: Final = "alc"
#: the ESME's local inputs (smemu.firmware.esme)
ESME_KEYPAD: Final = "keypad"
ESME_ENABLE: Final = "enable_button"
ESME_EMERGENCY_CREDIT: Final = "emergency_credit_button"
_EPOCH_2000: Final = datetime(2000, 1, 1, tzinfo=UTC)
#: money in the register engine is 10^-5 currency units; ZSE carries pence
_PER_PENNY: Final = 1000
_LOCAL_CREDIT_ADDED: Final = 0x810E  #: the ESME's event "credit added locally"
#: a UTRN rejection's alert code -> the Consumer Top Up Response result
_TOP_UP_RESULT: Final = {
    UtrnOutcome.DUPLICATE.value: zse_prepayment.TopUpResult.REJECTED_DUPLICATE_TOP_UP,
    UtrnOutcome.LOCKED_OUT.value: zse_prepayment.TopUpResult.REJECTED_KEYPAD_LOCK,
    UtrnOutcome.EXCEEDS_MAXIMUM.value: zse_prepayment.TopUpResult.REJECTED_MAX_CREDIT_REACHED,
    UtrnOutcome.NOT_AUTHENTIC.value: zse_prepayment.TopUpResult.REJECTED_INVALID_TOP_UP,
}

Credit = tuple[int, int, int]  #: (credit, emergency credit, debt) in pence


@dataclass(frozen=True, slots=True)
class AlcNotice:
    """A load control frame an HCALC sent to the ESME."""

    at: datetime
    hcalc: Eui64
    frame: hcalc_frames.AlcFrame


def esme_credit(esme: Device) -> Credit | None:
    """The ESME's credit, emergency credit and debt (pence) at its engine's last instant."""
    tx = Tx(esme.clock.now(), esme.machine.nvm)
    if not metering.has_state(tx):
        return None
    regs = metering.registers(tx)
    return (
        regs.meter_balance // _PER_PENNY,
        regs.emergency_credit_balance // _PER_PENNY,
        regs.accumulated_debt // _PER_PENNY,
    )


class ZseLink:
    """The ZSE exchanges of one premises (see the module docstring)."""

    def __init__(self, devices: Mapping[Eui64, Device], count: Callable[[str], None]) -> None:
        self.devices = devices
        self.notices: list[AlcNotice] = []
        self.inflight = 0
        self._count = count
        self._published: dict[Eui64, Credit] = {}
        self._sequence = 0

    # ------------------------------------------------------------------ plumbing

    def _later(self, action: Callable[[], None]) -> None:
        self.inflight += 1

        def run() -> None:
            self.inflight -= 1
            action()

        asyncio.get_running_loop().call_soon(run)

    def _to(self, eui: Eui64, port: str, data: bytes, source: Eui64 | None) -> None:
        device = self.devices.get(eui)
        if device is None or device.closed or not device.powered:
            self._count("zse_unroutable")
            return
        self._count("zse_frames")
        self._later(lambda: device.message(port, data, source))

    def _zse_frame(self, command: ZclCommand) -> bytes:
        self._sequence = (self._sequence + 1) & 0xFF
        return ppmid.zse_frame(command, self._sequence)

    def _paired(self, esme: Eui64) -> list[Device]:
        return [
            d
            for d in self.devices.values()
            if d.spec.type is DeviceType.PPMID and d.machine.nvm.get(ppmid.ESME_KEY) == bytes(esme)
        ]

    # ------------------------------------------------------------------ routing

    def route(self, device: Device, out: Outgoing) -> bool:
        """Take a device's output if it is a ZSE / load control frame; False otherwise."""
        kind = device.spec.type
        if kind is DeviceType.PPMID and out.port == ZSE_PORT:
            self._count("zse_frames")
            self._later(lambda: self.from_ppmid(device, out.to, out.data))
            return True
        if kind is DeviceType.HCALC and out.port == ALC_PORT:
            self.from_hcalc(device, out.data)
            return True
        if kind is DeviceType.ESME and out.port in (ZSE_PORT, ALC_PORT):
            if out.to is None:
                self._count("zse_unroutable")
            else:
                self._to(out.to, out.port, out.data, device.eui)
            return True
        return False

    # ------------------------------------------------------------------ PPMID -> ESME

    def from_ppmid(self, source: Device, to: Eui64 | None, data: bytes) -> None:
        """A PPMID's request arrives at the ESME it names."""
        esme = self.devices.get(to) if to is not None else None
        if esme is None or esme.spec.type is not DeviceType.ESME or not esme.powered:
            self._count("zse_unroutable")
            return
        try:
            if len(data) < 2:
                raise DecodeError("zse frame shorter than its cluster id", path="zse", offset=0)
            command = decode_frame(int.from_bytes(data[:2], "big"), data[2:]).command
        except DecodeError as exc:
            esme.stats["bad_input"] += 1
            log.info("%s: bad ZSE frame from %s dropped: %s", esme.label, source.label, exc)
            return
        esme.stats["in_zse"] += 1
        if isinstance(command, zse_prepayment.ConsumerTopUp):
            self._top_up(esme, source, command)
        elif isinstance(command, zse_prepayment.SelectAvailableEmergencyCredit):
            self._press(esme, ESME_EMERGENCY_CREDIT)
        elif isinstance(command, zse_metering.LocalChangeSupply):
            self._press(esme, ESME_ENABLE)
        else:
            esme.stats["zse_ignored"] += 1

    @staticmethod
    def _press(esme: Device, button: str) -> None:
        esme.line(button, True)
        esme.line(button, False)

    def _top_up(
        self, esme: Device, ppmid_device: Device, command: zse_prepayment.ConsumerTopUp
    ) -> None:
        before = esme_credit(esme)
        esme.stats[f"in_{ESME_KEYPAD}"] += 1
        step = esme.deliver(MessageEvent(ESME_KEYPAD, bytes(command.top_up_code)))
        after = esme_credit(esme)
        codes = [entry.code for entry in step.logs] if step is not None else []
        result = zse_prepayment.TopUpResult.REJECTED_ERROR
        if _LOCAL_CREDIT_ADDED in codes:
            result = zse_prepayment.TopUpResult.ACCEPTED
        else:
            for code in codes:
                if code in _TOP_UP_RESULT:
                    result = _TOP_UP_RESULT[code]
                    break
        added = after[0] - before[0] if after is not None and before is not None else 0
        credit = after[0] if after is not None else 0
        answer = zse_prepayment.ConsumerTopUpResponse(
            result, added, command.originating_device, credit
        )
        self._to(ppmid_device.eui, ZSE_PORT, self._zse_frame(answer), esme.eui)

    # ------------------------------------------------------------------ ESME -> PPMID

    def after_step(self, device: Device, step: Step) -> None:
        """After an ESME step: publish its credit to the paired PPMIDs if it changed."""
        if device.spec.type is not DeviceType.ESME or not step.writes:
            return
        credit = esme_credit(device)
        if credit is None:
            return
        for target in self._paired(device.eui):
            if not target.powered or self._published.get(target.eui) == credit:
                continue
            self._published[target.eui] = credit
            self._to(target.eui, ZSE_PORT, self._snapshot(device, credit), device.eui)

    def _snapshot(self, esme: Device, credit: Credit) -> bytes:
        balance, emergency, debt = credit
        now = int((esme.clock.now() - _EPOCH_2000).total_seconds())
        snapshot = zse_prepayment.PublishPrepaySnapshot(
            now & 0xFFFFFFFF,
            now,
            1,
            0,
            1,
            0,
            0,
            zse_prepayment.DebtCreditStatus(debt, 0, 0, 0, emergency, balance),
        )
        return self._zse_frame(snapshot)

    # ------------------------------------------------------------------ HCALC -> ESME

    def from_hcalc(self, hcalc: Device, data: bytes) -> None:
        """An HCALC's notice to the ESME: kept and counted (the ESME has no ALC model yet)."""
        try:
            frame = hcalc_frames.decode_exact(data)
        except DecodeError as exc:
            self._count("alc_bad_frames")
            log.info("%s: bad load control frame dropped: %s", hcalc.label, exc)
            return
        self._count("alc_notices")
        self.notices.append(AlcNotice(hcalc.clock.now(), hcalc.eui, frame))
