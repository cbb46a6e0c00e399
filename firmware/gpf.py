"""GpfMachine: the gas proxy function hosted in the comms hub (minimal until issue 7).

Layer: firmware.

Theory of operation
-------------------
The GPF talks only to the CHF, over its ``chf`` port, in tunnel frames. A PUT addressed to
the GPF is a command it executes itself (none implemented yet: ECS100 answers). A PUT
addressed to the GSME it proxies is queued in NVM (``gpf/queue/<seq>``, oldest first,
at most :data:`QUEUE_LIMIT`), because the battery-powered GSME's radio is off most of the
time. When the GSME wakes it sends a GET (relayed by the CHF); the GPF answers with one
GET-RESPONSE carrying the oldest queued message and the count still waiting, and the GSME
keeps polling until that count is zero. Anything the GPF itself originates goes up as a
PUT on ``chf`` for the CHF to send over the WAN.

Reads addressed to the GPF are answered from the GSME's mirror (:mod:`gas_mirror`) with the
GSME's own attribute store, except the firmware version: GCS38 ("GPF (primary); GSME")
reports the version the GSME runs, as its last refresh gave it (:data:`GPF_STORE`), not
the hub's own (that is ECS52's, read on the CHF).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Final

from smemu.firmware import esme_han_zse, gas_messaging, gas_mirror
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.credentials import Credentials
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import DeviceType, MessageEvent, Tx
from smemu.firmware.common.security import Accepted
from smemu.firmware.esme_extensions import extend
from smemu.firmware.gas_handlers import CURRENT_METER_ID, METERING, STORE
from smemu.firmware.gas_joins import GPF_HANDLERS, dispatch
from smemu.firmware.gas_service import SYNCED, answer, gbz_codes
from smemu.firmware.gas_zcl import AttributeStore
from smemu.firmware.gsme import ZCL_SERVER
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.gbcs.use_case_types import Device

GSME_EUI: Final = "gpf/gsme"
QUEUE_PREFIX: Final = "gpf/queue/"
QUEUE_NEXT: Final = "gpf/queue_next"
#: most commands held for the GSME; older ones are dropped first (logged)
QUEUE_LIMIT: Final = 64
_EPOCH_2000: Final = datetime(2000, 1, 1, tzinfo=UTC)
#: ZCL data type octet string
_OCTETS: Final = 0x41


def mirrored_firmware_version(tx: Tx) -> bytes | None:
    """GCS38 on the GPF: the GSME's firmware version as last mirrored (ZCL octet string);
    None (unsupported attribute) before the GSME has sent one."""
    version = tx.get(gas_mirror.FIRMWARE_VERSION)
    if version is None:
        return None
    return bytes((_OCTETS, len(version[:254]))) + version[:254]


#: the GSME's attribute store as the GPF answers it: the firmware version is the mirror's
GPF_STORE: Final = AttributeStore(
    STORE.defaults,
    {**STORE.computed, (METERING, CURRENT_METER_ID): mirrored_firmware_version},
)


class GpfMachine(CommandMachine):
    """Gas proxy function."""

    device_type = DeviceType.GPF
    HANDLERS: ClassVar[Mapping[int, str]] = {
        **gbz_codes(Device.GPF, "gbz_command"),
        **dict.fromkeys(GPF_HANDLERS, "asn1_command"),
    }
    UPLINK: ClassVar = "chf"
    TUNNEL_PORTS: ClassVar = frozenset({"chf"})
    # CS02b future-dated replacements (credentials_update) run and alert in ASN.1 form.
    _, _, extension_future, future_alert = extend({}, CommandMachine.future_alert)

    def on_boot(self, tx: Tx) -> None:
        if tx.get(QUEUE_NEXT) is None:
            tx.put_int(QUEUE_NEXT, 0)

    def queued(self, tx: Tx) -> list[str]:
        return tx.keys(QUEUE_PREFIX)

    def on_message(self, tx: Tx, event: MessageEvent) -> None:
        han = decode_han(event.data)
        if han.command is TunnelCommand.GET:
            # The GSME is awake and has sent what changed: the mirror is current now.
            self._synced(tx)
            self._answer_poll(tx)
            return
        if han.command is not TunnelCommand.PUT:
            tx.log("trace", f"unexpected tunnel command {han.command.name}")
            return
        located = frame.locate(han.message)
        message = located.message
        recipient = (
            message.recipient
            if isinstance(message, frame.GbtBlockMessage)
            else message.header.recipient
        )
        gsme = tx.get(GSME_EUI)
        proxied = None if gsme is None else Eui64(gsme)
        inner = frame.signing_message(message)
        if inner is not None and gas_mirror.is_refresh(inner, proxied):
            applied = gas_mirror.apply(tx, gas_mirror.decode_changes(inner.payload))
            self._synced(tx)
            tx.log("trace", f"mirror refreshed: {applied} entries")
            gas_messaging.relay_to_ppmids(tx)  # GCS07: the supplier's message to the PPMIDs
            esme_han_zse.publish_gas(tx)  # the gas credit, EC and debt to the PPMIDs
            tx.tally("mirror_refreshes")
        elif recipient == proxied:
            self._enqueue(tx, han.message)
        else:
            tx.tally("received")
            self.execute(tx, "chf", located)

    def _synced(self, tx: Tx) -> None:
        tx.put_int(SYNCED, int((tx.now - _EPOCH_2000).total_seconds()))

    def _enqueue(self, tx: Tx, data: bytes) -> None:
        queued = self.queued(tx)
        if len(queued) >= QUEUE_LIMIT:
            tx.delete(queued[0])
            tx.log("event", "GSME queue full: oldest command dropped")
        seq = tx.get_int(QUEUE_NEXT)
        tx.put(f"{QUEUE_PREFIX}{seq:012d}", data)
        tx.put_int(QUEUE_NEXT, seq + 1)
        tx.tally("queued")

    def _answer_poll(self, tx: Tx) -> None:
        queued = self.queued(tx)
        if not queued:
            tx.send("chf", HanFrame(TunnelCommand.GET_RESPONSE, b"", 0).encode())
            return
        data = tx.get(queued[0]) or b""
        tx.delete(queued[0])
        remaining = min(len(queued) - 1, 0xFF)
        tx.send("chf", HanFrame(TunnelCommand.GET_RESPONSE, data, remaining).encode())
        tx.tally("delivered")

    def synced_at(self, tx: Tx) -> datetime:
        """When the GSME last refreshed the mirror (``tx.now`` if it never has)."""
        raw = tx.get(SYNCED)
        if raw is None:
            return tx.now
        return _EPOCH_2000 + timedelta(seconds=int.from_bytes(raw, "big"))

    def gbz_command(self, tx: Tx, accepted: Accepted) -> bytes:
        """Answer a GBZ command addressed to the GPF from the mirrored gas data."""
        return answer(
            tx,
            known_party(accepted, self.credentials),
            self.credentials,
            GPF_STORE,
            ZCL_SERVER,
            data_time=self.synced_at(tx),
        )

    def asn1_command(self, tx: Tx, accepted: Accepted) -> bytes | None:
        """Joins, unjoins, the device log and its restore, credentials (ASN.1 payloads)."""
        return dispatch(GPF_HANDLERS, self, tx, accepted)


def known_party(accepted: Accepted, credentials: Credentials) -> Accepted:
    """``accepted`` as seen for a supplementary remote party the device already trusts.

    A DCC-relayed command may carry the supplementary remote party's key agreement
    certificate for a party the device holds no anchor for (an unknown remote party: the
    response then derives its key with a Supplementary Originator Counter,
    gbcs-reference.md 4.5). When the device does hold that party's anchor, the party is
    known: its anchored key is used and the response header has no such counter, so the
    certificate is set aside.
    """
    command = accepted.command
    oi = command.header.other_information
    party = oi.supplementary_remote_party_id
    if oi.supplementary_remote_party_ka_certificate is None or party is None:
        return accepted
    if credentials.role_of(party) is None:
        return accepted
    known = dataclasses.replace(oi, supplementary_remote_party_ka_certificate=None)
    header = dataclasses.replace(command.header, other_information=known)
    return dataclasses.replace(accepted, command=dataclasses.replace(command, header=header))
