"""PpmidMachine: the prepayment interface device (PPMID).

Layer: firmware. Issue 7 "PPMID"; Use Case volume PECS01-03, PCS01/02; CS08 / CS09.

Theory of operation
-------------------
A mains-powered HAN device that stays ``RUNNING``, paired (NVM ``ppmid/esme``,
``ppmid/gsme``: :meth:`PpmidMachine.pair`) with the meters it serves. Three ports:

* ``keypad`` -- the consumer (:mod:`~smemu.firmware.ppmid_keypad`): a UTRN, emergency
  credit activation, supply enable. Electricity requests go to the ESME as ZigBee Smart
  Energy frames (PECS01 Consumer Top Up, PECS02 Select Available Emergency Credit, PECS03
  Local Change Supply "on": "ZSE specified", secured by the HAN link, not GBCS). Gas requests
  go to the GSME as GBCS commands MAC'd with the PPMID's own key agreement key (PCS01 /
  PCS02, "SME.C.PPMID-GSME"), GBZ payload, tunnelled on ``han``, with the PPMID's HAN
  command counter (``ppmid/counter``, strictly increasing).
* ``zse`` -- ZSE frames the meters publish to it, ``cluster id(2, BE) | ZCL frame``:
  Messaging Display Message (the supplier's message), Prepayment Publish Prepay Snapshot
  (credit, emergency credit, debt), Consumer Top Up Response (outcome of a top up) and a
  Default Response refusing an emergency credit or supply enable request. The sender picks
  the fuel whose figures change (:func:`fuel_of`): the ESME's are electricity's; the GPF's
  (it publishes the gas figures the GSME mirrored to it) and the GSME's are gas's.
* ``han`` -- GBCS: CS08 firmware version reads (answered), the joins and unjoins the ACB
  sends (CS03A2, CS03C, CS04AC: :mod:`~smemu.firmware.ppmid_joins`, which also decides the
  meters served), PCS01 / PCS02 responses from the GSME (their Consumer Top Up Response
  updates the gas figures; GBZ money is in 10^-5 currency units, shown in pence).
* ``ota`` -- a firmware image the hub distributes (CS05c): verified, activated at once and
  reported by the CS09 alert (:mod:`~smemu.firmware.ppmid_firmware`).

Everything shown goes through :func:`~smemu.firmware.ppmid_display.show`: the typed display
and its history are NVM, so tests read them (:func:`display`, :func:`display_history`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import ClassVar, Final

from smemu.errors import DecodeError
from smemu.firmware import joins, ppmid_display, ppmid_firmware, ppmid_joins, ppmid_keypad
from smemu.firmware.common import respond
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.credentials import Credentials
from smemu.firmware.common.machine import DeviceType, MessageEvent, Tx
from smemu.firmware.common.security import Accepted
from smemu.firmware.ppmid_display import Display
from smemu.firmware.ppmid_firmware import CS08, FIRMWARE_VERSION, read_firmware_version
from smemu.firmware.ppmid_keypad import Action, Fuel, KeypadEntry
from smemu.protocols.asn1.values import DeviceType as LogType
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader, OtherInformation
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.security.keys import public_key_from_point
from smemu.protocols.security.keystore import KeyKind
from smemu.protocols.zigbee import messaging, metering, prepayment
from smemu.protocols.zigbee.registry import ZclFrame, decode_frame
from smemu.protocols.zigbee.typed import GbzPayload, ZclComponent, decode_typed
from smemu.protocols.zigbee.zcl import DefaultResponse, ZclCommand, ZclStatus

ESME_KEY: Final = ppmid_joins.ESME_KEY
GSME_KEY: Final = ppmid_joins.GSME_KEY
COUNTER: Final = "ppmid/counter"
PEER_KA: Final = ppmid_joins.PEER_KA
OTA_PORT: Final = "ota"
SEQUENCE: Final = "ppmid/zcl_sequence"
ZSE_PORT: Final = "zse"
KEYPAD_PORT: Final = "keypad"
PECS01: Final = 0x0116
PECS02: Final = 0x0117
PECS03: Final = 0x0118
PCS01: Final = 0x009B
PCS02: Final = 0x0090
#: first HAN command counter of a new PPMID
_COUNTER_START: Final = 10000
_EPOCH_2000: Final = datetime(2000, 1, 1, tzinfo=UTC)
_IHD: Final = prepayment.OriginatingDevice.IN_HOME_DISPLAY
#: GBZ (GSME) money is in 10^-5 currency units; the display shows pence
_GBZ_PER_PENNY: Final = 1000
_R = prepayment.TopUpResult
#: Consumer Top Up Response results that credited the meter -> the status shown
_ACCEPTED: Final[dict[int, str]] = {
    _R.ACCEPTED: "Top up accepted",
    _R.ACCEPTED_SUPPLY_ENABLED: "Top up accepted, supply on",
    _R.ACCEPTED_SUPPLY_DISABLED: "Top up accepted, supply off",
    _R.ACCEPTED_SUPPLY_ARMED: "Top up accepted, press the meter's button",
}


def display(nvm: Mapping[str, bytes]) -> Display:
    """What the PPMID shows now."""
    return ppmid_display.current(nvm)


def display_history(nvm: Mapping[str, bytes]) -> tuple[Display, ...]:
    """Every screen shown (bounded), oldest first."""
    return ppmid_display.history(nvm)


def fuel_of(tx: Tx, source: Eui64 | None) -> Fuel:
    """The fuel whose figures a ZSE frame from ``source`` carries: gas from the GSME served
    or a device the log holds as a GSME or GPF, electricity otherwise (the ESME)."""
    if source is None:
        return Fuel.ELECTRICITY
    if tx.get(GSME_KEY) == bytes(source):
        return Fuel.GAS
    gas = joins.entry_type(tx, source) in (LogType.GSME, LogType.GPF)
    return Fuel.GAS if gas else Fuel.ELECTRICITY


def zse_frame(command: ZclCommand, sequence: int = 0) -> bytes:
    """A ``zse`` port frame: the command's cluster id, then its ZCL frame."""
    built = ZclFrame.build(command, sequence & 0xFF, disable_default_response=True)
    return built.cluster_id.to_bytes(2, "big") + built.encode()


class PpmidMachine(CommandMachine):
    """Prepayment interface device (in-home display)."""

    device_type = DeviceType.PPMID
    HANDLERS: ClassVar = {CS08: "cs08", **dict.fromkeys(ppmid_joins.HANDLERS, "asn1_join")}
    UPLINK: ClassVar = "han"

    @staticmethod
    def pair(
        tx: Tx,
        *,
        esme: Eui64 | None = None,
        gsme: Eui64 | None = None,
        gsme_ka_point: bytes | None = None,
    ) -> None:
        """Record the meters this PPMID serves (a commissioning step).

        ``gsme_ka_point``: the GSME's key agreement public key (X||Y), which the PPMID MACs
        PCS01 / PCS02 with (on a real HAN it arrives with the join).
        """
        if esme is not None:
            tx.put(ESME_KEY, bytes(esme))
        if gsme is not None:
            tx.put(GSME_KEY, bytes(gsme))
            if gsme_ka_point is not None:
                tx.put(PEER_KA + bytes(gsme).hex(), gsme_ka_point)

    @property
    def credentials(self) -> Credentials:
        """Own keys and anchors plus the key agreement keys of the paired meters."""
        creds = super().credentials
        for key, point in self.nvm.items():
            if key.startswith(PEER_KA):
                eui = bytes.fromhex(key[len(PEER_KA) :])
                if creds.keystore.ka_public(eui) is None:
                    creds.keystore.add_public_key(eui, KeyKind.KA, public_key_from_point(point))
        return creds

    def committed(self, writes: Mapping[str, bytes | None]) -> None:
        super().committed(writes)
        if any(k.startswith(PEER_KA) for k in writes):
            self._credentials = None

    def on_boot(self, tx: Tx) -> None:
        if tx.get(FIRMWARE_VERSION) is None:
            tx.put(FIRMWARE_VERSION, bytes.fromhex("03000000"))
        if tx.get(ppmid_display.DISPLAY) is None:
            ppmid_display.show(tx)

    # ------------------------------------------------------------------ ports

    def on_message(self, tx: Tx, event: MessageEvent) -> None:
        if event.port == KEYPAD_PORT:
            self.keypad(tx, ppmid_keypad.decode_exact(event.data))
        elif event.port == ZSE_PORT:
            self.zse(tx, event.data, event.source)
        elif event.port == OTA_PORT:
            ppmid_firmware.on_image(self, tx, event.data)
        else:
            super().on_message(tx, event)

    def on_located(self, tx: Tx, event: MessageEvent, located: frame.Located) -> None:
        inner = frame.signing_message(located.message)
        if inner is not None and inner.header.cra is Cra.RESPONSE:
            self.gsme_response(tx, inner)
            return
        super().on_located(tx, event, located)

    # ------------------------------------------------------------------ consumer

    def keypad(self, tx: Tx, entry: KeypadEntry) -> None:
        """Send the consumer's request to the meter of its fuel."""
        target_key = ESME_KEY if entry.fuel is Fuel.ELECTRICITY else GSME_KEY
        raw = tx.get(target_key)
        if raw is None:
            ppmid_display.show(tx, status=f"No {entry.fuel.name.lower()} meter")
            return
        target = Eui64(raw)
        now = int((tx.now - _EPOCH_2000).total_seconds())
        command: ZclCommand
        if entry.action is Action.TOP_UP:
            command = prepayment.ConsumerTopUp(_IHD, entry.utrn.encode("ascii"))
            status = "Top up sent"
        elif entry.action is Action.EMERGENCY_CREDIT:
            command = prepayment.SelectAvailableEmergencyCredit(now, _IHD)
            status = "Emergency credit requested"
        else:
            command = metering.LocalChangeSupply(metering.SupplyStatus.ON)
            status = "Supply enable requested"
        sequence = (tx.get_int(SEQUENCE) + 1) & 0xFF
        tx.put_int(SEQUENCE, sequence)
        if entry.fuel is Fuel.ELECTRICITY:
            code = {Action.TOP_UP: PECS01, Action.EMERGENCY_CREDIT: PECS02}.get(
                entry.action, PECS03
            )
            tx.send(ZSE_PORT, zse_frame(command, sequence), target)
        else:
            code = PCS01 if entry.action is Action.TOP_UP else PCS02
            self.send(tx, self.UPLINK, self._gsme_command(tx, target, code, command, sequence))
        tx.log("event", f"0x{code:04X} {entry.action.name.lower()} sent to {target}")
        tx.tally("sent")
        ppmid_display.show(tx, status=status)

    def _gsme_command(
        self, tx: Tx, gsme: Eui64, code: int, command: ZclCommand, sequence: int
    ) -> bytes:
        counter = tx.get_int(COUNTER, _COUNTER_START - 1) + 1
        tx.put_int(COUNTER, counter)
        component = ZclComponent.build(command, sequence, last=True)
        header = GroupingHeader(
            Cra.COMMAND, counter, self.eui, gsme, None, OtherInformation(code)
        )
        message = GeneralSigningMessage(header, GbzPayload((component,)).encode(), None)
        return respond.secure_message(message, self.credentials, critical=False)

    # ------------------------------------------------------------------ information

    def zse(self, tx: Tx, data: bytes, source: Eui64 | None = None) -> None:
        """A ZSE frame a meter (``source``) published to the PPMID."""
        if len(data) < 2:
            raise DecodeError("zse frame shorter than its cluster id", path="zse", offset=0)
        decoded = decode_frame(int.from_bytes(data[:2], "big"), data[2:])
        self.show_command(tx, decoded.command, fuel_of(tx, source))

    def show_command(
        self, tx: Tx, command: ZclCommand | None, fuel: Fuel = Fuel.ELECTRICITY, per_penny: int = 1
    ) -> None:
        """Show what ``command`` says; its figures are ``fuel``'s, money in 1/``per_penny``
        pence."""
        if isinstance(command, messaging.DisplayMessage):
            text = command.message.decode("utf-8", errors="replace")
            ppmid_display.show(tx, message=text)
        elif isinstance(command, messaging.CancelMessage | messaging.CancelAllMessages):
            ppmid_display.show(tx, message="")
        elif isinstance(command, prepayment.PublishPrepaySnapshot):
            snap = command.snapshot_payload
            if isinstance(snap, prepayment.DebtCreditStatus):
                ppmid_display.show(
                    tx,
                    fuel,
                    credit=snap.credit_remaining // per_penny,
                    emergency_credit=snap.emergency_credit_remaining // per_penny,
                    debt=snap.accumulated_debt // per_penny,
                )
        elif isinstance(command, prepayment.ConsumerTopUpResponse):
            status = _ACCEPTED.get(command.result_type)
            if status is None:
                ppmid_display.show(tx, status="Top up rejected")
            else:
                credit = command.credit_remaining // per_penny
                ppmid_display.show(tx, fuel, credit=credit, status=status)
        elif isinstance(command, DefaultResponse) and command.status != ZclStatus.SUCCESS:
            ppmid_display.show(tx, status="Request refused")
        else:
            tx.log("trace", f"ZSE {type(command).__name__} not shown")

    def gsme_response(self, tx: Tx, message: GeneralSigningMessage) -> None:
        """A GSME's answer to PCS01 / PCS02: show what it says."""
        header = message.header
        if header.recipient != self.eui or header.message_code not in (PCS01, PCS02):
            code = header.message_code
            tx.log("trace", f"response 0x{code:04X} from {header.originator} ignored")
            return
        payload = decode_typed(message.payload, alert=False)
        for component in payload.components:
            self.show_command(tx, component.command, Fuel.GAS, _GBZ_PER_PENNY)
        if header.message_code == PCS02 and not payload.components:
            ppmid_display.show(tx, status="Emergency credit activated")

    # ------------------------------------------------------------------ GBCS

    def cs08(self, tx: Tx, accepted: Accepted) -> bytes:
        return read_firmware_version(self.credentials, tx, accepted)

    def asn1_join(self, tx: Tx, accepted: Accepted) -> bytes | None:
        """CS03A2 / CS03C / CS04AC (:mod:`~smemu.firmware.ppmid_joins`)."""
        code = accepted.command.header.other_information.message_code
        return ppmid_joins.HANDLERS[code](self, tx, accepted)
