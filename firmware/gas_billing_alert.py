"""GCS53 Push Billing Data Log as an Alert: the GSME's end-of-billing-period snapshot.

Layer: firmware. Use Case volume GCS53 (message code 0x008B, SME.A.C, sensitive; shared
description with ECS68: alert code 0x8F0A, "returns only the most recent entry from the
log") and its GBZ message template: one encrypted Publish Snapshot component (metering
0x0702, command 0x06, frame control 0b00011001) of Snapshot Payload Type 6 with the four
TOU registers and the four block counters (tiers and blocks 0x14), total snapshots 1.

Theory of operation
-------------------
The billing snapshots are the register engine's (:func:`smemu.firmware.gas_logs.billing_log`);
the GSME learns of one when it brings its registers up to date (on waking, after a
command). :func:`due` compares the newest entry taken by the billing calendar with the id
last pushed (NVM :data:`LAST_PUSHED`) -- a first look only records it, so a meter never
pushes history it had before -- and :func:`alert` builds the signed alert for the supplier,
the snapshot encrypted for it (gbcs-reference 4.5). Snapshots of other causes (a tariff or
payment mode change) are not pushed.
"""

from __future__ import annotations

from typing import Final

from smemu.firmware.common import respond
from smemu.firmware.common.credentials import Credentials, Role
from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_logs import Snapshot, billing_log, publish_snapshot
from smemu.firmware.gas_metering import CAUSE_BILLING_PERIOD
from smemu.protocols.gbcs.decrypt import encryption_key
from smemu.protocols.gbcs.frame import GeneralSigningMessage
from smemu.protocols.security import gcm
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.metering import (
    PublishSnapshot,
)
from smemu.protocols.zigbee.zcl import (
    FRAME_CLUSTER_SPECIFIC,
    FRAME_DIRECTION,
    FRAME_DISABLE_DEFAULT_RESPONSE,
)

GCS53: Final = 0x008B
#: Alert code of the billing data log push (the ECS68 / GCS53 code)
ALERT_BILLING_SNAPSHOT: Final = 0x8F0A
#: NVM: snapshot id of the billing entry last pushed (or seen at the first look)
LAST_PUSHED: Final = "gsme/gcs53/last"
METERING: Final = 0x0702
_FRAME_CONTROL: Final = FRAME_CLUSTER_SPECIFIC | FRAME_DIRECTION | FRAME_DISABLE_DEFAULT_RESPONSE


def due(tx: Tx) -> Snapshot | None:
    """The newest billing-calendar snapshot not pushed yet (recorded as pushed), if any."""
    periods = [s for s in billing_log(tx) if s.cause & CAUSE_BILLING_PERIOD]
    newest = periods[-1].snapshot_id if periods else 0
    if tx.get(LAST_PUSHED) is None:
        tx.put_int(LAST_PUSHED, newest)  # the first look: nothing older is pushed
        return None
    if newest <= tx.get_int(LAST_PUSHED):
        return None
    tx.put_int(LAST_PUSHED, newest)
    return periods[-1]


def alert(tx: Tx, credentials: Credentials, snap: Snapshot) -> bytes | None:
    """The signed GCS53 alert for the supplier (None: no supplier, or no key to encrypt)."""
    supplier = credentials.anchor(Role.SUPPLIER)
    if supplier is None:
        return None
    header = respond.alert_header(tx, credentials, supplier.eui, GCS53)
    key = encryption_key(GeneralSigningMessage(header, b"", None), credentials.keystore)
    if key is None:
        return None
    plaintext = publish_snapshot(snap).encode()
    block = gbz.GbzEncryption(0, 0, gcm.encrypt_block(key, bytes(credentials.eui), plaintext))
    component = gbz.GbzComponent(
        gbz.CONTROL_ENCRYPTED | gbz.CONTROL_LAST,
        METERING,
        _FRAME_CONTROL,
        0,
        PublishSnapshot.COMMAND_ID,
        encryption=block,
    )
    return respond.gbz_alert(
        tx,
        credentials,
        supplier.eui,
        gbz.GbzAlert(ALERT_BILLING_SNAPSHOT, respond.seconds_since_2000(tx.now)),
        message_code=GCS53,
        critical=True,
        components=(component,),
        header=header,
    )


__all__ = ["ALERT_BILLING_SNAPSHOT", "GCS53", "LAST_PUSHED", "alert", "due", "publish_snapshot"]
