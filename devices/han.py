"""The premises' HAN medium: ZigBee SE Tunneling cluster frames between hub and devices.

Layer: devices. Machines exchange tunnel payloads (:class:`~smemu.firmware.common.han.HanFrame`)
on their ``han`` / ``gpf`` / ``chf`` ports; this medium is the ZigBee stack and the radio
between them. Every HAN device (ESME, GSME, PPMID, HCALC, and the GPF on its point-to-point
link) is a tunnel *client*, the comms hub the *server*:

1. when a device starts it sends Request Tunnel (GBCS protocol 6); the hub's side answers
   Request Tunnel Response with a tunnel id (the hub's tunnel table is volatile, as on
   the real radio: tunnels are requested again at every start);
2. each tunnel payload then travels as one Transfer Data frame -- client -> server from a
   device, server -> client (``TransferDataToClient``) from the hub -- with the tunnel id;
3. a payload sent before its tunnel exists waits in the sender's queue until the grant;
4. a Transfer Data naming a tunnel the receiver does not know is answered with Transfer
   Data Error ``NO_SUCH_TUNNEL`` and dropped; an undecodable frame is counted as bad input
   on the receiving device and dropped.

Frames are delivered on a later loop iteration (never re-entrantly); every frame put on the
medium is shown to :attr:`HanMedium.sniffers` first (tests, captures).

Beside the tunnels, :class:`ZseLink` carries the ZigBee Smart Energy application frames
between the ESME and its PPMIDs and HCALCs (``zse``: PECS01-03 and Publish Prepay
Snapshot; ``alc``: HECS01 load control), which GBCS leaves to the ZSE layer secured by the
HAN link. The ESME firmware serves them itself; the link only delivers them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from smemu.devices.device import Device
from smemu.errors import DecodeError, LocalProtocolError
from smemu.firmware.common import han
from smemu.firmware.common.machine import DeviceType, MachineState, Outgoing
from smemu.firmware.joins import PREFIX as JOIN_PREFIX
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.zigbee import tunnel

log = logging.getLogger(__name__)

#: Observer of the HAN: (sender EUI, receiver EUI, ZCL frame bytes).
HanSniffer = Callable[[Eui64, Eui64, bytes], None]
#: Observer of the ZSE application frames: (port, sender EUI, receiver EUI, frame bytes).
ZseSniffer = Callable[[str, Eui64, Eui64, bytes], None]

ZSE_PORT: Final = "zse"  #: prepayment frames, ``cluster id(2, BE) | ZCL frame``
ALC_PORT: Final = "alc"  #: HECS01 load control frames
OTA_PORT: Final = "ota"  #: OTA Upgrade cluster frames between the hub and a device (CS05)
#: Filter of the ZSE link: (port, sender EUI, receiver EUI, frame) -> True to lose the frame.
ZseLoss = Callable[[str, Eui64, Eui64, bytes], bool]


@dataclass(slots=True)
class _ClientLink:
    """A HAN device's end: its granted tunnel and what waits for it."""

    tunnel_id: int | None = None
    waiting: deque[bytes] = field(default_factory=deque)
    sequence: int = 0


class HanMedium:
    """The HAN of one premises: a hub (tunnel server) and its client devices."""

    def __init__(self, hub: Device, counters: Callable[[str], None]) -> None:
        self.hub = hub
        self.devices: dict[Eui64, Device] = {}
        self.sniffers: list[HanSniffer] = []
        self._count = counters
        self._clients: dict[Eui64, _ClientLink] = {}
        #: hub side: tunnel id -> client EUI, and back
        self._tunnels: dict[int, Eui64] = {}
        self._by_client: dict[Eui64, int] = {}
        self._hub_waiting: defaultdict[Eui64, deque[bytes]] = defaultdict(deque)
        self._hub_sequence = 0
        self._next_tunnel = 1
        self.inflight = 0

    def attach(self, device: Device) -> None:
        """Put a HAN device (or the GPF) on the medium."""
        self.devices[device.eui] = device
        self._clients[device.eui] = _ClientLink()

    def tunnel_of(self, eui: Eui64) -> int | None:
        """The tunnel id the hub granted to ``eui`` (None before the join)."""
        return self._by_client.get(eui)

    # ---------------------------------------------------------------- joining

    def join_all(self) -> None:
        """Every attached device asks the hub for its tunnel."""
        for eui in self.devices:
            self.join(eui)

    def join(self, eui: Eui64) -> None:
        """Device ``eui`` sends Request Tunnel (again, e.g. after its power returns).

        A tunnel it already holds stays usable until the new grant replaces it.
        """
        link = self._clients[eui]
        link.sequence = (link.sequence + 1) & 0xFF
        self._put(eui, self.hub.eui, han.request_tunnel(link.sequence))

    # ---------------------------------------------------------------- sending

    def from_hub(self, to: Eui64, payload: bytes) -> None:
        """The hub sends a tunnel payload to client ``to``."""
        if to not in self._clients:
            self._count("han_unroutable")
            return
        tunnel_id = self._by_client.get(to)
        if tunnel_id is None:
            self._hub_waiting[to].append(payload)
            return
        self._hub_sequence = (self._hub_sequence + 1) & 0xFF
        self._transfer(self.hub.eui, to, payload, tunnel_id, self._hub_sequence, to_client=True)

    def from_client(self, source: Eui64, payload: bytes) -> None:
        """Client ``source`` sends a tunnel payload to the hub."""
        link = self._clients[source]
        if link.tunnel_id is None:
            link.waiting.append(payload)
            return
        link.sequence = (link.sequence + 1) & 0xFF
        hub = self.hub.eui
        self._transfer(source, hub, payload, link.tunnel_id, link.sequence, to_client=False)

    def _transfer(
        self, source: Eui64, to: Eui64, payload: bytes, tunnel_id: int, seq: int, *, to_client: bool
    ) -> None:
        try:
            data = han.transfer_data(
                payload, tunnel_id=tunnel_id, sequence=seq, to_client=to_client
            )
        except LocalProtocolError as exc:
            self._count("han_oversize")
            log.warning("HAN %s -> %s: %s: dropped", source, to, exc)
            return
        self._count("han_frames")
        self._put(source, to, data)

    def _put(self, source: Eui64, to: Eui64, data: bytes) -> None:
        for sniffer in self.sniffers:
            sniffer(source, to, data)
        self.inflight += 1

        def run() -> None:
            self.inflight -= 1
            self.receive(source, to, data)

        asyncio.get_running_loop().call_soon(run)

    # --------------------------------------------------------------- receiving

    def receive(self, source: Eui64, to: Eui64, data: bytes) -> None:
        """A frame arrives at ``to`` (public so that tests can put raw bytes on the air)."""
        receiver = self.hub if to == self.hub.eui else self.devices.get(to)
        if receiver is None or receiver.closed:
            self._count("han_unroutable")
            return
        if receiver.machine.state is MachineState.OFF:
            receiver.stats["han_unpowered"] += 1  # its radio is off: the frame is lost
            return
        try:
            frame = han.decode_link(data)
        except DecodeError as exc:
            receiver.stats["bad_input"] += 1
            receiver.stats["han_bad_frames"] += 1
            log.info("%s: bad HAN frame from %s dropped: %s", receiver.label, source, exc)
            return
        command = frame.command
        if receiver is self.hub:
            self._hub_receives(source, frame.sequence, command)
        else:
            self._client_receives(receiver, frame.sequence, command)

    def _hub_port(self, source: Eui64) -> str:
        device = self.devices.get(source)
        return "gpf" if device is not None and device.spec.type is DeviceType.GPF else "han"

    def _hub_receives(self, source: Eui64, seq: int, command: han.LinkCommand) -> None:
        if isinstance(command, tunnel.RequestTunnel):
            self._grant(source, seq, command)
        elif isinstance(command, tunnel.TransferData):
            if self._tunnels.get(command.tunnel_id) != source:
                self._reject(self.hub.eui, source, seq, command.tunnel_id, to_client=True)
                return
            self.hub.message(self._hub_port(source), command.data, source)
        else:
            self.hub.stats["han_ignored"] += 1

    def _grant(self, source: Eui64, seq: int, request: tunnel.RequestTunnel) -> None:
        if source not in self._clients:
            status, tunnel_id = tunnel.TunnelStatus.BUSY, 0xFFFF
        elif request.protocol_id != tunnel.GB_HRGP_PROTOCOL_ID:
            status, tunnel_id = tunnel.TunnelStatus.PROTOCOL_NOT_SUPPORTED, 0xFFFF
        elif request.flow_control_support:
            status, tunnel_id = tunnel.TunnelStatus.FLOW_CONTROL_NOT_SUPPORTED, 0xFFFF
        else:
            status = tunnel.TunnelStatus.SUCCESS
            old = self._by_client.pop(source, None)
            if old is not None:
                self._tunnels.pop(old, None)
            tunnel_id = self._next_tunnel
            self._next_tunnel = self._next_tunnel % 0xFFFE + 1
            self._tunnels[tunnel_id] = source
            self._by_client[source] = tunnel_id
        self._put(self.hub.eui, source, han.request_tunnel_response(seq, tunnel_id, status))
        if status is tunnel.TunnelStatus.SUCCESS:
            waiting = self._hub_waiting.pop(source, deque())
            while waiting:
                self.from_hub(source, waiting.popleft())

    def _client_receives(self, device: Device, seq: int, command: han.LinkCommand) -> None:
        link = self._clients[device.eui]
        if isinstance(command, tunnel.RequestTunnelResponse):
            if command.tunnel_status != tunnel.TunnelStatus.SUCCESS:
                device.stats["han_tunnel_refused"] += 1
                return
            link.tunnel_id = command.tunnel_id
            while link.waiting and link.tunnel_id is not None:
                self.from_client(device.eui, link.waiting.popleft())
        elif isinstance(command, tunnel.TransferDataToClient):
            if command.tunnel_id != link.tunnel_id:
                self._reject(device.eui, self.hub.eui, seq, command.tunnel_id, to_client=False)
                return
            port = "chf" if device.spec.type is DeviceType.GPF else "han"
            device.message(port, command.data, self.hub.eui)
        elif isinstance(command, tunnel.TransferDataErrorToClient):
            # The hub lost our tunnel (it restarted): ask again.
            device.stats["han_tunnel_lost"] += 1
            self.join(device.eui)
        else:
            device.stats["han_ignored"] += 1

    def _reject(
        self, source: Eui64, to: Eui64, seq: int, tunnel_id: int, *, to_client: bool
    ) -> None:
        self._count("han_no_such_tunnel")
        status = tunnel.TransferDataStatus.NO_SUCH_TUNNEL
        frame = han.transfer_data_error(seq, tunnel_id, to_client=to_client, status=status)
        self._put(source, to, frame)


class ZseLink:
    """The ZSE application frames of one premises, delivered port to port.

    * a frame on ``zse`` or ``alc`` that names its destination goes to that device's port of
      the same name (a PPMID's requests to its ESME, the ESME's answers, snapshots and
      SetState commands);
    * an HCALC's ``alc`` frame names none: it goes to the ESME whose device log holds the
      HCALC (``join/<eui hex>``), else to the premises' first ESME;
    * ``ota`` carries the OTA Upgrade cluster (firmware distribution in blocks): the hub's
      frames name their device, a device's frame names none and goes to the comms hub. A
      frame over the HAN frame limit (:data:`~smemu.firmware.common.han.MAX_TRANSFER_SIZE`)
      is dropped (``han_oversize``).

    A frame for a device that is absent, closed or without power is lost (counted as
    ``zse_unroutable``); so is one any of :attr:`losses` picks (``zse_lost``: tests make
    the air lossy with it); every frame delivered is shown to :attr:`sniffers` first.
    Frames are delivered on a later loop iteration, never re-entrantly; :attr:`inflight`
    counts those not yet delivered, for :meth:`~smemu.devices.premises.Premises.settle`.
    """

    PORTS: Final = (ZSE_PORT, ALC_PORT, OTA_PORT)

    def __init__(self, devices: Mapping[Eui64, Device], count: Callable[[str], None]) -> None:
        self.devices = devices
        self.sniffers: list[ZseSniffer] = []
        self.losses: list[ZseLoss] = []
        self.inflight = 0
        self._count = count

    def route(self, device: Device, out: Outgoing) -> bool:
        """Take a device's output if it is a ZSE / load control frame; False otherwise."""
        if out.port not in self.PORTS:
            return False
        to = out.to
        if to is None and device.spec.type is DeviceType.HCALC:
            to = self.esme_of(device.eui)
        if to is None and out.port == OTA_PORT:
            to = self.hub_of()
        if out.port == OTA_PORT and len(out.data) > han.MAX_TRANSFER_SIZE:
            self._count("han_oversize")
        elif to is None:
            self._count("zse_unroutable")
        else:
            self._deliver(out.port, device.eui, to, out.data)
        return True

    def esme_of(self, eui: Eui64) -> Eui64 | None:
        """The ESME that joined device ``eui`` (else the first ESME of the premises)."""
        key = JOIN_PREFIX + bytes(eui).hex()
        esmes = [d for d in self.devices.values() if d.spec.type is DeviceType.ESME]
        for esme in esmes:
            if key in esme.machine.nvm:
                return esme.eui
        return esmes[0].eui if esmes else None

    def hub_of(self) -> Eui64 | None:
        """The comms hub of the premises (None without one)."""
        hubs = [d.eui for d in self.devices.values() if d.spec.type is DeviceType.CHF]
        return hubs[0] if hubs else None

    def _deliver(self, port: str, source: Eui64, to: Eui64, data: bytes) -> None:
        device = self.devices.get(to)
        if device is None or device.closed or not device.powered:
            self._count("zse_unroutable")
            return
        if any(loss(port, source, to, data) for loss in self.losses):
            self._count("zse_lost")
            return
        self._count("zse_frames")
        for sniffer in self.sniffers:
            sniffer(port, source, to, data)
        self.inflight += 1

        def run() -> None:
            self.inflight -= 1
            if not device.closed and device.powered:
                device.message(port, data, source)
            else:
                self._count("zse_unroutable")

        asyncio.get_running_loop().call_soon(run)
