"""ChfMachine: the comms hub function -- WAN endpoint, HAN coordinator, router (minimal).

Layer: firmware. Architecture step 3.

Theory of operation
-------------------
The CHF has four ports: ``wan`` (whole GBCS messages to and from the DCC side), ``han``
(tunnel frames to and from the joined HAN devices, see
:mod:`~smemu.firmware.common.han`), ``gpf`` (tunnel frames to and from the gas proxy
function hosted in the same hub) and ``ota`` (firmware images to distribute, in; to their
HAN device, out). It decodes a WAN message's headers only far enough to
read the recipient, then routes it by :data:`ROUTES` on the recipient's kind:

* itself -- executes the command (ECS52 firmware version; others get ECS100);
* the GPF, or the GSME the GPF proxies -- a tunnel PUT on ``gpf`` (the GPF answers or
  queues it until the battery-powered GSME next wakes and polls);
* a HAN device in the CHF device log -- a tunnel PUT on ``han`` addressed to it;
* anyone else -- dropped and logged.

From the HAN, only devices in the CHF device log are heard. A PUT is routed the same way
(a HAN device's response or alert goes to the WAN unless it is addressed to another HAN
device); a GET from the GSME is passed to the GPF, and the GPF's GET-RESPONSE back to the
GSME. From the GPF, a PUT goes up the WAN.

Waits (:mod:`~smemu.firmware.chf_delivery`): a command forwarded from the WAN to an ESME
is answered within a window or the CHF alerts 0x8F84 (failure to deliver, service 21); an
image arriving on the ``ota`` port is distributed to its HAN device
(:mod:`~smemu.firmware.chf_firmware`, CS05) and its outcome reported by CCS08.

NVM: ``chf/devices`` JSON {EUI hex: device type} is the CHF device log (the whitelist);
``chf/gpf`` and ``chf/gsme`` the EUIs of the hosted GPF and of the GSME it proxies.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import ClassVar, Final

from smemu.firmware import chf_delivery, chf_firmware, chf_log, chf_ota, chf_subghz
from smemu.firmware.common import respond
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.cosem import CosemContext, CosemObject, ObjectTable, serve
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import DeviceType, MessageEvent, TimerEvent, Tx
from smemu.firmware.common.security import Accepted
from smemu.firmware.cosem_model import build_model, device_use_cases, generic_table, overlay
from smemu.firmware.esme_extensions import extend
from smemu.protocols.asn1.firmware import FirmwareTransferResponseCode
from smemu.protocols.dlms import apdu
from smemu.protocols.dlms.apdu import DataAccessResult, parse_obis
from smemu.protocols.dlms.axdr import Data
from smemu.protocols.dlms.data import NullData, OctetString
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.gbcs.use_cases import USE_CASES, Device

DEVICE_LOG: Final = chf_log.DEVICE_LOG
GPF_EUI: Final = "chf/gpf"
GSME_EUI: Final = chf_ota.GSME_EUI
FIRMWARE_VERSION: Final = "fw/version"
DEFAULT_FIRMWARE: Final = bytes.fromhex("02000000")


#: security log code of a HAN frame from a device not in the CHF device log
_UNKNOWN_DEVICE: Final = 0x8F3F


class Route(enum.Enum):
    """Where the CHF sends a message, by what its recipient is."""

    SELF = "self"
    GPF = "gpf"
    HAN = "han"
    WAN = "wan"
    NOWHERE = "nowhere"


def _message_recipient(data: bytes) -> Eui64:
    """The recipient EUI of a GBCS message (decoding only the outer headers)."""
    message = frame.locate(data).message
    if isinstance(message, frame.GbtBlockMessage):
        return message.recipient
    return message.header.recipient


_OWN: Final[ObjectTable] = {
    (1, parse_obis("0-0:0.2.1.255")): CosemObject(
        get={2: lambda ctx: OctetString(ctx.tx.get(FIRMWARE_VERSION) or DEFAULT_FIRMWARE)}
    ),
    (1, parse_obis("0-0:96.1.1.255")): CosemObject(
        get={2: lambda ctx: OctetString(bytes(ctx.credentials.eui))}
    ),
}

#: every attribute and method the CHF use cases access (Use Case volume object lists)
CHF_MODEL: Final = build_model(device_use_cases(Device.CHF))
#: the model's NVM-backed objects with the CHF's own handlers over them
GENERIC: Final[ObjectTable] = overlay(generic_table(CHF_MODEL), _OWN)


class ChfMachine(CommandMachine):
    """Comms hub function."""

    device_type = DeviceType.CHF
    HANDLERS: ClassVar = {
        code: "dlms_command"
        for uc in device_use_cases(Device.CHF)
        for code in USE_CASES[uc].message_codes
    }
    HANDLERS, extension, extension_future, future_alert = extend(HANDLERS, CommandMachine.future_alert)  # noqa: E501 - ASN.1 use cases (credentials, joins, firmware)
    UPLINK: ClassVar = "wan"
    TUNNEL_PORTS: ClassVar = frozenset({"han", "gpf"})

    def on_boot(self, tx: Tx) -> None:
        if tx.get(FIRMWARE_VERSION) is None:
            tx.put(FIRMWARE_VERSION, DEFAULT_FIRMWARE)
        if tx.get(DEVICE_LOG) is None:
            tx.put_json(DEVICE_LOG, {})
        chf_delivery.arm(tx)  # timers do not survive a restart: re-arm the waits

    # ------------------------------------------------------------------- routing

    def _eui(self, tx: Tx, key: str) -> Eui64 | None:
        raw = tx.get(key)
        return None if raw is None or len(raw) != 8 else Eui64(raw)

    def device_log(self, tx: Tx) -> dict[str, str]:
        return chf_log.device_log(tx)

    def route(self, tx: Tx, recipient: Eui64) -> Route:
        if recipient == self.eui:
            return Route.SELF
        if recipient in (self._eui(tx, GPF_EUI), self._eui(tx, GSME_EUI)):
            return Route.GPF
        if recipient.hex() in self.device_log(tx):
            return Route.HAN
        return Route.NOWHERE

    def forward(self, tx: Tx, data: bytes, recipient: Eui64, route: Route) -> None:
        if route is Route.GPF:
            tx.send("gpf", HanFrame(TunnelCommand.PUT, data).encode())
        elif route is Route.HAN:
            tx.send("han", HanFrame(TunnelCommand.PUT, data).encode(), recipient)
        elif route is Route.WAN:
            tx.send("wan", data)
        else:
            tx.log("event", f"no route to {recipient}: message dropped")
            tx.tally("unroutable")
            return
        tx.tally(f"routed_{route.value}")

    def on_message(self, tx: Tx, event: MessageEvent) -> None:
        handler: Callable[[Tx, MessageEvent], None] = getattr(self, f"_from_{event.port}")
        start = len(tx.sends)
        handler(tx, event)
        chf_subghz.account(tx, tx.sends[start:], self.subghz_alert)  # DBCH06 duty cycle

    def on_timer(self, tx: Tx, event: TimerEvent) -> None:
        if event.name != chf_delivery.TIMER:
            super().on_timer(tx, event)
            return
        start = len(tx.sends)
        self._delivery_due(tx)
        chf_subghz.account(tx, tx.sends[start:], self.subghz_alert)  # DBCH06 duty cycle

    def _delivery_due(self, tx: Tx) -> None:
        for item in chf_delivery.take_due(tx):
            if item.kind == chf_delivery.COMMAND:
                # Service 21: the ESME did not answer in time.
                tx.log("event", f"no response from {item.target_eui} to counter {item.counter}")
                detail = OctetString(chf_delivery.not_delivered_detail(item))
                self.wan_alert(
                    tx,
                    chf_delivery.ALERT_NOT_DELIVERED,
                    (detail,),
                    chf_delivery.NOT_DELIVERED_MESSAGE_CODE,
                )
            else:
                self.transfer_alert(
                    tx,
                    item.target_eui,
                    bytes.fromhex(item.version),
                    FirmwareTransferResponseCode.FILE_TRANSFER_FAILURE,
                )

    def _from_wan(self, tx: Tx, event: MessageEvent) -> None:
        tx.tally("received")
        recipient = _message_recipient(event.data)
        route = self.route(tx, recipient)
        if route is Route.SELF:
            self.execute(tx, "wan", frame.locate(event.data))
            return
        if route is Route.HAN and not chf_subghz.may_send(tx, bytes(recipient)):
            chf_subghz.discard(tx, event.data, bytes(recipient), self.subghz_alert)  # DBCH10
            return
        self.forward(tx, event.data, recipient, route)
        if route is Route.HAN and self.device_log(tx).get(recipient.hex()) == DeviceType.ESME:
            chf_delivery.track_command(tx, recipient, event.data)

    def _from_ota(self, tx: Tx, event: MessageEvent) -> None:
        """CS05: an image to distribute to a HAN device (see :mod:`chf_firmware`), or a
        device's OTA request, answered only for the device the medium says sent it."""
        target, version, outcome = chf_firmware.distribute(tx, event.data, event.source)
        if outcome is not FirmwareTransferResponseCode.SUCCESS and target is not None:
            self.transfer_alert(tx, target, version, outcome)

    def _from_han(self, tx: Tx, event: MessageEvent) -> None:
        source = event.source
        admitted = None if source is None else self._admit(tx, source)
        if source is None or admitted is None:
            tx.log("security", f"HAN frame from unknown device {source}: dropped")
            other = b"" if source is None else bytes(source)
            chf_subghz.record(tx, "security", _UNKNOWN_DEVICE, other)
            tx.tally("rejected")
            return
        chf_log.heard(tx, source)
        if admitted:
            self.device_log_changed(tx, chf_log.backup(tx))
        han = decode_han(event.data)
        if han.command is TunnelCommand.GET:
            if source == self._eui(tx, GSME_EUI):
                tx.send("gpf", event.data)
            return
        if han.command is not TunnelCommand.PUT:
            tx.log("trace", f"unexpected tunnel command {han.command.name} from {source}")
            return
        chf_log.learn_kind(tx, source, han.message)  # a restored entry's type (CCS03)
        for item in chf_delivery.answered(tx, source, han.message):
            if item.kind == chf_delivery.IMAGE:
                version = bytes.fromhex(item.version)
                self.transfer_alert(tx, source, version, FirmwareTransferResponseCode.SUCCESS)
        recipient = _message_recipient(han.message)
        route = self.route(tx, recipient)
        if route is Route.NOWHERE:
            route = Route.WAN  # responses and alerts to remote parties
        if route is Route.SELF:
            self.execute(tx, "han", frame.locate(han.message))
        else:
            self.forward(tx, han.message, recipient, route)

    def _admit(self, tx: Tx, source: Eui64) -> bool | None:
        """The hub-side join check, refusing with DBCH11 beyond the Sub GHz capacity."""
        capacity = chf_subghz.capacity(tx, chf_log.CAPACITY)

        def refuse(t: Tx, eui: Eui64) -> None:
            chf_subghz.no_capacity(t, bytes(eui), self.subghz_alert)

        return chf_log.admit(tx, source, capacity, refuse)

    def _from_gpf(self, tx: Tx, event: MessageEvent) -> None:
        han = decode_han(event.data)
        if han.command is TunnelCommand.GET_RESPONSE:
            gsme = self._eui(tx, GSME_EUI)
            if gsme is not None:
                tx.send("han", event.data, gsme)
            return
        if han.command is TunnelCommand.PUT:
            self.forward(tx, han.message, _message_recipient(han.message), Route.WAN)

    def send(self, tx: Tx, port: str, data: bytes) -> None:
        # The CHF's own answers go out raw on the WAN.
        if port == "han":
            super().send(tx, port, data)
        else:
            tx.send("wan", data)

    # ------------------------------------------------------------------ commands

    def objects(self) -> ObjectTable:
        """The objects served: the generic model, the device log and the Sub GHz radio."""
        table = overlay(GENERIC, chf_log.objects(self.device_log_changed))
        return overlay(table, chf_subghz.objects(self.subghz_alert, GENERIC))

    def dlms_command(self, tx: Tx, accepted: Accepted) -> bytes:
        command = accepted.command
        request = apdu.decode_exact(command.payload)
        if not isinstance(request, apdu.AccessRequestMessage):
            body = apdu.AccessResponseMessage(
                respond.invoke_id(command.header.originator_counter),
                b"",
                (NullData(),),
                (apdu.AccessResponseGet(DataAccessResult.OTHER_REASON),),
            )
        else:
            body = serve(self.objects(), CosemContext(tx, command, self.credentials), request)
        critical = accepted.critical or bool(command.signature)
        return respond.dlms_response(command, body, self.credentials, critical=critical)

    # -------------------------------------------------------------------- alerts

    def acb(self) -> Eui64 | None:
        """Where the CHF's alerts go: the Access Control Broker."""
        acbs = self.credentials.acbs
        if acbs:
            return acbs[0]
        anchor = self.credentials.anchor(Role.ACCESS_CONTROL_BROKER)
        return None if anchor is None else anchor.eui

    def wan_alert(self, tx: Tx, code: int, extra: tuple[Data, ...], message_code: int) -> None:
        """Send a non-critical DLMS alert to the ACB over the WAN."""
        recipient = self.acb()
        if recipient is None:
            tx.log("trace", f"alert 0x{code:04X} not sent: no access control broker")
            return
        alert = respond.dlms_alert(
            tx, self.credentials, recipient, code, extra, message_code=message_code,
            critical=False,
        )  # fmt: skip
        tx.send("wan", alert)
        tx.tally("sent")

    def transfer_alert(
        self, tx: Tx, target: Eui64, version: bytes, outcome: FirmwareTransferResponseCode
    ) -> None:
        """CCS08: the outcome of distributing an image to ``target``, to the ACB."""
        recipient = self.acb()
        if recipient is None:
            tx.log("trace", f"CCS08 ({outcome.name}) not sent: no access control broker")
            return
        alert = chf_firmware.transfer_alert(
            tx, self.credentials, recipient, target, version=version, outcome=outcome
        )
        tx.send("wan", alert)
        tx.tally("sent")

    def device_log_changed(self, tx: Tx, backup: Data) -> None:
        """CS14: the CHF device log changed; alert with its backup."""
        chf_subghz.record(tx, "event", chf_log.CS14_ALERT)
        self.wan_alert(tx, chf_log.CS14_ALERT, (backup,), chf_log.CS14_MESSAGE_CODE)

    def subghz_alert(self, tx: Tx, code: int, extra: tuple[Data, ...]) -> None:
        """DBCH06-DBCH11: a Sub GHz alert."""
        chf_subghz.record(tx, "event", code)
        self.wan_alert(tx, code, extra, chf_subghz.MESSAGE_CODES[code])


def join_writes(devices: Mapping[Eui64, str], gpf: Eui64, gsme: Eui64 | None) -> dict[str, bytes]:
    """NVM entries that commission a CHF: its device log and the GPF/GSME pairing."""
    import json

    log = {eui.hex(): kind for eui, kind in devices.items()}
    writes = {DEVICE_LOG: json.dumps(log, sort_keys=True).encode(), GPF_EUI: bytes(gpf)}
    if gsme is not None:
        writes[GSME_EUI] = bytes(gsme)
    return writes
