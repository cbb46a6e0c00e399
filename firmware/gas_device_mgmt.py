"""The gas meter's Device Management cluster (0x0708): site id, CIN, supplier, tenancy, PIN, events.

Layer: firmware. Use Case volume GCS09 (Set Change of Tenancy date on GPF), GCS11 (Disable
Privacy PIN Protection), GCS20 / GCS20r (Set / Read non-critical event and alert behaviours),
GCS36 (Send CIN), GCS41 / GCS46 (Set / Read MPRN), GCS44 (Write Contact Details); ZigBee SE
1.4 Device Management cluster for the commands and attribute sets.

Theory of operation
-------------------
Every command here is a server-to-client Publish / Update the supplier sends; its effect is
stored in NVM and each is answered by a Default Response (SUCCESS), except GCS20r, answered
by Report Event Configuration (0x04, frame control client-to-server, default response
allowed, as the GBZ message template draws it). A client-to-server frame with one of these
command ids is not a command the meter serves (UNSUP_CLUSTER_COMMAND).

* GCS41 Update Site ID: the MPRN (1-32 octets, mapping row 1531) becomes Metering SiteID
  (0x0307), the attribute GCS46 reads -- on the GSME, and on the GPF through the mirror (the
  attribute is NVM ``gsme/attr/...``, which :mod:`smemu.firmware.gas_mirror` carries).
* GCS36 Update CIN: the Customer Identification Number (1-4 octets, mapping row 82) becomes
  Metering CustomerIDNumber (0x0311).
* GCS44 Publish Change of Supplier: the supplier's name (1-15 octets) and telephone number
  (1-18 octets, SMETS ContactDetails). They are the proposed provider (Device Management
  0x0110-0x0114) until the implementation time, the provider (0x0100-0x0102) from then on:
  the attributes are computed from NVM :data:`SUPPLIER` and the time of the read, so no timer
  is needed. The volume asks for no snapshot here: GCS44 only writes contact details.
* GCS09 Publish Change of Tenancy (on the GPF): the date-time from which the consumer's data
  is restricted (restrictDataDateTime, mapping row 75) and the tenancy change control
  (0x00000200: clear the IHD's consumer data). Stored in the GPF's own NVM
  (:data:`TENANCY`, outside the mirrored prefixes) and readable as Device Management
  0x0200 / 0x0201; :func:`restricted_from` gives it to the parts that show consumer data.
* GCS11 Request New Password Response: a zero-length password for a password type turns
  PIN protection of that type off (type 2: the consumer menu); a non-empty one sets it as
  the new PIN and turns protection back on. :func:`pin_protected` answers for a type; a new
  meter protects every type (SMETS "disable privacy PIN protection" implies it is on).
* GCS20 Set Event Configuration: the event configuration bitmap for the events the
  configuration control selects (by list; by event group -- 0x81FF is every 0x81xx code the
  meter supports, GCS20r's reading of the group id; by log type -- the events whose log
  action is that log; by configuration match) is stored per event id (:data:`EVENT_CONFIG`).
  An id given by list that the meter did not know is added to what it supports.
* GCS20r Get Event Configuration: the configuration of the event asked, or for a group id
  (low byte 0xFF) of every supported code of that group, in one Report Event Configuration
  (command index 0 of 1). An event the meter does not support is NOT_FOUND.

The meter's built-in non-critical events (:data:`DEFAULT_EVENTS`) are the 0x81xx codes the
gas firmware's prepayment and supply functions raise, each logged in the general event log
and not alerted (:data:`DEFAULT_CONFIGURATION`, a manufacturer default until GCS20 changes
it).

The configuration is applied where the GSME raises an event (:func:`event_behaviour`, used
by :func:`smemu.firmware.gas_events.raise_event`): the log action bits name the log the
event goes to (0: not logged), bit 3 (:data:`ALERT_TO_WAN`) whether it is alerted. GCS20 is
the volume's "non-critical event and alert behaviours" (SMETS Alerts Configuration Settings
cover the 0x81 || n codes only): a critical code (0x8Fxx, any code outside 0x81xx) is
always logged in the general event log and alerted whatever was stored for it, and so is
a 0x81xx code the configuration does not hold (the firmware raises it, so it is sent).

Start and implementation times of 0 mean "now"; a Set Event Configuration or Update
Site ID dated in the future is applied at once (the emulator does not hold them pending).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_zcl import (
    CommandHandler,
    ComputedAttribute,
    ZclRefusedError,
    ZclReply,
    attr_key,
    decode_request,
)
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee._fields import EPOCH_2000
from smemu.protocols.zigbee.device_management import (
    ApplyByConfigurationMatch,
    ApplyByEventGroup,
    ApplyByList,
    ApplyByLogType,
    EventConfigurationEntry,
    GetEventConfiguration,
    PublishChangeOfSupplier,
    PublishChangeOfTenancy,
    ReportEventConfiguration,
    RequestNewPasswordResponse,
    SetEventConfiguration,
    UpdateCin,
    UpdateSiteId,
)
from smemu.protocols.zigbee.zcl import FRAME_DIRECTION, ZclStatus

DEVICE_MANAGEMENT: Final = 0x0708
METERING: Final = 0x0702
#: Metering Formatting SiteID (GCS41 / GCS46) and CustomerIDNumber (GCS36)
SITE_ID: Final = 0x0307
CUSTOMER_ID_NUMBER: Final = 0x0311
#: Device Management supplier control attributes: provider id / name / contact details,
#: and the proposed provider's (id, name, change date-time, change control, contact)
PROVIDER_ID: Final = 0x0100
PROVIDER_NAME: Final = 0x0101
PROVIDER_CONTACT: Final = 0x0102
PROPOSED_PROVIDER_ID: Final = 0x0110
PROPOSED_PROVIDER_NAME: Final = 0x0111
PROPOSED_PROVIDER_CHANGE_TIME: Final = 0x0112
PROPOSED_PROVIDER_CHANGE_CONTROL: Final = 0x0113
PROPOSED_PROVIDER_CONTACT: Final = 0x0114
#: Device Management tenancy control attributes
TENANCY_CHANGE_TIME: Final = 0x0200
TENANCY_CHANGE_CONTROL: Final = 0x0201
#: Proposed Tenancy Change Control bit: clear the IHD's consumer data (GCS09 template)
CLEAR_IHD_CONSUMER_DATA: Final = 0x0000_0200

#: NVM (mirrored to the GPF): the GCS44 supplier contact details, JSON
SUPPLIER: Final = "gsme/dm/supplier"
#: NVM: the PIN of a password type (absent: the PIN protection of that type is as new)
PIN_PREFIX: Final = "gsme/dm/pin/"
#: NVM: the event configuration bitmaps changed by GCS20, JSON ``{"81aa": 75, ...}``
EVENT_CONFIG: Final = "gsme/dm/events"
#: NVM of the GPF (not mirrored): the GCS09 change of tenancy, JSON
TENANCY: Final = "gpf/dm/tenancy"

#: GCS11 password type of the consumer menu
CONSUMER_MENU: Final = 2
#: a PIN value meaning "protection disabled" (GCS11 sends a zero-length password)
_DISABLED: Final = b""
#: Event configuration: log action bits 0-2 (3: the general event log), bit 3 alert to WAN
LOG_ACTION_MASK: Final = 0x07
#: Event configuration bit 3: push the event to the WAN (alert the supplier)
ALERT_TO_WAN: Final = 0x08
#: the manufacturer default of a built-in event: logged in the general event log, no alert
DEFAULT_CONFIGURATION: Final = 0x03
#: what an event the configuration does not govern gets: general event log and alert
_ALWAYS: Final = 0x03 | ALERT_TO_WAN
#: Non-critical (0x81xx) event codes the emulated gas meter supports from new: low credit,
#: credit added locally, emergency credit available / exhausted / activated, supply armed or
#: enabled by the consumer (the prepayment and supply functions' events).
DEFAULT_EVENTS: Final = (0x810D, 0x810E, 0x8119, 0x81AA, 0x81AB, 0x81C5)
#: the group id GCS20r sends for every 0x81xx code (the volume's reading of ZSE D-174)
NON_CRITICAL_GROUP: Final = 0x81FF
MAX_SITE_ID: Final = 32
MAX_CIN: Final = 4
MAX_SUPPLIER_NAME: Final = 15
MAX_SUPPLIER_CONTACT: Final = 18

_OCTETS: Final = 0x41
_U32: Final = 0x23
_BITMAP32: Final = 0x1B
_UTC: Final = 0xE2


class Reader(Protocol):
    """What the readers here need of NVM: a :class:`Tx` or a committed NVM mapping."""

    def get(self, key: str, /) -> bytes | None: ...


def _seconds(at: datetime) -> int:
    return int((at - EPOCH_2000).total_seconds())


def _when(tx: Tx, utc: int) -> int:
    """A ZCL UTC time of a command (0: now) as seconds since 2000."""
    return utc if utc else _seconds(tx.now)


def _server_to_client(comp: gbz.GbzComponent) -> None:
    if not comp.frame_control & FRAME_DIRECTION:
        raise ZclRefusedError(ZclStatus.UNSUP_CLUSTER_COMMAND, "a meter does not serve it")


def _octets(value: bytes) -> bytes:
    return bytes((_OCTETS, len(value))) + value


def _sized(value: bytes, most: int, what: str) -> bytes:
    if not 1 <= len(value) <= most:
        raise ZclRefusedError(ZclStatus.INVALID_VALUE, f"{what} of {len(value)} octets")
    return value


# ------------------------------------------------------------------ GCS41 / GCS36


def update_site_id(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS41 (0x03 Update Site ID): the MPRN becomes Metering SiteID (GCS46 reads it)."""
    _server_to_client(comp)
    request = decode_request(UpdateSiteId, comp)
    site_id = _sized(request.site_id, MAX_SITE_ID, "site id")
    tx.put(attr_key(METERING, SITE_ID), _octets(site_id))


def update_cin(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS36 (0x06 Update CIN): the CIN becomes Metering CustomerIDNumber."""
    _server_to_client(comp)
    request = decode_request(UpdateCin, comp)
    cin = _sized(request.customer_id_number, MAX_CIN, "CIN")
    tx.put(attr_key(METERING, CUSTOMER_ID_NUMBER), _octets(cin))


def site_id(nvm: Reader) -> bytes:
    """The MPRN held (empty when none was set)."""
    raw = nvm.get(attr_key(METERING, SITE_ID)) or b""
    return raw[2:] if len(raw) >= 2 else b""


# ------------------------------------------------------------------ GCS44


@dataclass(frozen=True, slots=True)
class Supplier:
    """The supplier's contact details (GCS44) and when they take effect."""

    provider_id: int
    name: bytes
    contact: bytes
    #: implementation time, seconds since 2000
    at: int
    change_control: int


def publish_change_of_supplier(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS44 (0x01 Publish Change of Supplier): the supplier's name and telephone number."""
    _server_to_client(comp)
    request = decode_request(PublishChangeOfSupplier, comp)
    name = _sized(request.proposed_provider_name, MAX_SUPPLIER_NAME, "supplier name")
    contact = _sized(
        request.proposed_provider_contact_details, MAX_SUPPLIER_CONTACT, "contact details"
    )
    previous = supplier(tx, tx.now)  # in force now; a pending proposal is replaced
    record = {
        "provider_id": request.proposed_provider_id,
        "name": name.hex(),
        "contact": contact.hex(),
        "at": _when(tx, request.provider_change_implementation_time),
        "control": request.provider_change_control,
        "previous": None if previous is None else _supplier_json(previous),
    }
    tx.put(SUPPLIER, json.dumps(record, sort_keys=True).encode())


def _supplier_json(s: Supplier) -> dict[str, object]:
    return {
        "provider_id": s.provider_id,
        "name": s.name.hex(),
        "contact": s.contact.hex(),
        "at": s.at,
        "control": s.change_control,
    }


def _supplier_of(raw: Mapping[str, object]) -> Supplier:
    return Supplier(
        int(str(raw["provider_id"])),
        bytes.fromhex(str(raw["name"])),
        bytes.fromhex(str(raw["contact"])),
        int(str(raw["at"])),
        int(str(raw["control"])),
    )


def _supplier_record(nvm: Reader) -> dict[str, object] | None:
    raw = nvm.get(SUPPLIER)
    if raw is None:
        return None
    found = json.loads(raw)
    return found if isinstance(found, dict) else None


def supplier(nvm: Reader, now: datetime | None) -> Supplier | None:
    """The supplier in force at ``now`` (``None``: the latest one published, in force or
    proposed); None when no contact details are held."""
    record = _supplier_record(nvm)
    while record is not None:
        found = _supplier_of(record)
        if now is None or found.at <= _seconds(now):
            return found
        previous = record.get("previous")
        record = previous if isinstance(previous, dict) else None
    return None


def proposed_supplier(nvm: Reader, now: datetime) -> Supplier | None:
    """The supplier published with an implementation time still ahead of ``now``."""
    record = _supplier_record(nvm)
    if record is None:
        return None
    found = _supplier_of(record)
    return found if found.at > _seconds(now) else None


def _supplier_attribute(kind: str, *, proposed: bool) -> ComputedAttribute:
    def read(tx: Tx) -> bytes | None:
        snap = tx
        found = proposed_supplier(snap, tx.now) if proposed else supplier(snap, tx.now)
        if found is None:
            return None
        if kind == "id":
            return bytes((_U32,)) + found.provider_id.to_bytes(4, "little")
        if kind == "name":
            return _octets(found.name)
        if kind == "contact":
            return _octets(found.contact)
        if kind == "time":
            return bytes((_UTC,)) + found.at.to_bytes(4, "little")
        return bytes((_BITMAP32,)) + found.change_control.to_bytes(4, "little")

    return read


# ------------------------------------------------------------------ GCS09


@dataclass(frozen=True, slots=True)
class Tenancy:
    """A change of tenancy (GCS09) the GPF holds."""

    #: restrictDataDateTime, seconds since 2000
    at: int
    change_control: int
    tariff_type: int


def publish_change_of_tenancy(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS09 (0x00 Publish Change of Tenancy): the date-time the consumer's data is
    restricted from, and what the change clears."""
    _server_to_client(comp)
    request = decode_request(PublishChangeOfTenancy, comp)
    record = {
        "at": _when(tx, request.implementation_date_time),
        "control": request.proposed_tenancy_change_control,
        "tariff_type": request.tariff_type,
    }
    tx.put(TENANCY, json.dumps(record, sort_keys=True).encode())


def tenancy(nvm: Reader) -> Tenancy | None:
    """The change of tenancy held, if any."""
    raw = nvm.get(TENANCY)
    if raw is None:
        return None
    found = json.loads(raw)
    return Tenancy(int(found["at"]), int(found["control"]), int(found["tariff_type"]))


def restricted_from(nvm: Reader, now: datetime) -> datetime | None:
    """When the consumer's data shown on the IHD starts, once a change of tenancy that
    clears it has taken effect (None: nothing restricted)."""
    found = tenancy(nvm)
    if found is None or not found.change_control & CLEAR_IHD_CONSUMER_DATA:
        return None
    at = EPOCH_2000 + timedelta(seconds=found.at)
    return at if at <= now else None


def _tenancy_attribute(time: bool) -> ComputedAttribute:
    def read(tx: Tx) -> bytes | None:
        found = tenancy(tx)
        if found is None:
            return None
        if time:
            return bytes((_UTC,)) + found.at.to_bytes(4, "little")
        return bytes((_BITMAP32,)) + found.change_control.to_bytes(4, "little")

    return read


# ------------------------------------------------------------------ GCS11


def request_new_password_response(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS11 (0x02 Request New Password Response): an empty password disables the PIN
    protection of its type; another sets the PIN and enables it again."""
    _server_to_client(comp)
    request = decode_request(RequestNewPasswordResponse, comp)
    if not 1 <= request.password_type <= 4:
        raise ZclRefusedError(ZclStatus.INVALID_VALUE, f"password type {request.password_type}")
    tx.put(f"{PIN_PREFIX}{request.password_type}", request.password)


def pin_protected(nvm: Reader, password_type: int = CONSUMER_MENU) -> bool:
    """Whether access of ``password_type`` asks for a PIN (GCS11 disables it)."""
    return nvm.get(f"{PIN_PREFIX}{password_type}") != _DISABLED


# ------------------------------------------------------------------ GCS20 / GCS20r


def event_configuration(nvm: Reader) -> dict[int, int]:
    """Every supported event id -> its configuration bitmap, in id order."""
    config = dict.fromkeys(DEFAULT_EVENTS, DEFAULT_CONFIGURATION)
    raw = nvm.get(EVENT_CONFIG)
    if raw is not None:
        config.update({int(k, 16): int(v) for k, v in json.loads(raw).items()})
    return dict(sorted(config.items()))


def is_configurable(event_id: int) -> bool:
    """True for a non-critical (0x81xx) event code, the codes GCS20 may govern."""
    return event_id >> 8 == NON_CRITICAL_GROUP >> 8


def event_behaviour(nvm: Reader, event_id: int) -> tuple[int, bool]:
    """(log id, 0 for none; alert to the WAN?) for an event the GSME raises: as GCS20
    configured a non-critical code, else the general event log and an alert."""
    config = event_configuration(nvm).get(event_id) if is_configurable(event_id) else None
    bitmap = _ALWAYS if config is None else config
    return bitmap & LOG_ACTION_MASK, bool(bitmap & ALERT_TO_WAN)


def _in_group(event_id: int, group_id: int) -> bool:
    return event_id >> 8 == group_id >> 8


def set_event_configuration(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS20 (0x04 Set Event Configuration): store the bitmap for the events selected."""
    _server_to_client(comp)
    request = decode_request(SetEventConfiguration, comp)
    config = event_configuration(tx)
    selector = request.payload
    chosen: list[int]
    if isinstance(selector, ApplyByList):
        chosen = list(selector.event_ids)
    elif isinstance(selector, ApplyByEventGroup):
        chosen = [e for e in config if _in_group(e, selector.event_group_id)]
    elif isinstance(selector, ApplyByLogType):
        chosen = [e for e, c in config.items() if c & LOG_ACTION_MASK == selector.log_id]
    elif isinstance(selector, ApplyByConfigurationMatch):
        chosen = [e for e, c in config.items() if c == selector.configuration_value_match]
    else:
        raise ZclRefusedError(ZclStatus.INVALID_FIELD, "unknown configuration control")
    for event_id in chosen:
        config[event_id] = request.event_configuration
    changed = {f"{e:04x}": c for e, c in config.items()}
    tx.put(EVENT_CONFIG, json.dumps(changed, sort_keys=True).encode())


def get_event_configuration(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
    """GCS20r (0x05 Get Event Configuration): Report Event Configuration of the event, or
    of every supported event of a group id (low byte 0xFF: 0x81FF is every 0x81xx code)."""
    _server_to_client(comp)
    request = decode_request(GetEventConfiguration, comp)
    config = event_configuration(tx)
    wanted = request.event_id
    if wanted & 0xFF == 0xFF:
        ids = [e for e in config if _in_group(e, wanted)]
    else:
        ids = [wanted] if wanted in config else []
    if not ids:
        raise ZclRefusedError(ZclStatus.NOT_FOUND, f"event 0x{wanted:04X} not supported")
    report = ReportEventConfiguration(
        0, 1, tuple(EventConfigurationEntry(e, config[e]) for e in ids)
    )
    return ZclReply(report.COMMAND_ID, report.encode(), disable_default_response=False)


#: (cluster, command) -> handler, for :data:`smemu.firmware.gas_handlers.HANDLERS`
HANDLERS: Final[Mapping[tuple[int, int], CommandHandler]] = {
    (DEVICE_MANAGEMENT, 0x00): publish_change_of_tenancy,
    (DEVICE_MANAGEMENT, 0x01): publish_change_of_supplier,
    (DEVICE_MANAGEMENT, 0x02): request_new_password_response,
    (DEVICE_MANAGEMENT, 0x03): update_site_id,
    (DEVICE_MANAGEMENT, 0x04): set_event_configuration,
    (DEVICE_MANAGEMENT, 0x05): get_event_configuration,
    (DEVICE_MANAGEMENT, 0x06): update_cin,
}

#: attributes computed from what these commands stored, for the attribute store
COMPUTED: Final[Mapping[tuple[int, int], ComputedAttribute]] = {
    (DEVICE_MANAGEMENT, PROVIDER_ID): _supplier_attribute("id", proposed=False),
    (DEVICE_MANAGEMENT, PROVIDER_NAME): _supplier_attribute("name", proposed=False),
    (DEVICE_MANAGEMENT, PROVIDER_CONTACT): _supplier_attribute("contact", proposed=False),
    (DEVICE_MANAGEMENT, PROPOSED_PROVIDER_ID): _supplier_attribute("id", proposed=True),
    (DEVICE_MANAGEMENT, PROPOSED_PROVIDER_NAME): _supplier_attribute("name", proposed=True),
    (DEVICE_MANAGEMENT, PROPOSED_PROVIDER_CHANGE_TIME): _supplier_attribute(
        "time", proposed=True
    ),
    (DEVICE_MANAGEMENT, PROPOSED_PROVIDER_CHANGE_CONTROL): _supplier_attribute(
        "control", proposed=True
    ),
    (DEVICE_MANAGEMENT, PROPOSED_PROVIDER_CONTACT): _supplier_attribute(
        "contact", proposed=True
    ),
    (DEVICE_MANAGEMENT, TENANCY_CHANGE_TIME): _tenancy_attribute(time=True),
    (DEVICE_MANAGEMENT, TENANCY_CHANGE_CONTROL): _tenancy_attribute(time=False),
}
