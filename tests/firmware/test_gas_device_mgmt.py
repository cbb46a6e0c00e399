"""Gas Device Management (gas_device_mgmt): GCS09, GCS11, GCS20 / GCS20r, GCS36, GCS41 / GCS46,
GCS44 -- each set, then read back or its effect seen."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.firmware import gas_device_mgmt as dm
from smemu.firmware import gas_mirror
from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_handlers import HANDLERS, STORE
from smemu.firmware.gas_zcl import ZclRefusedError, serve
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
from smemu.protocols.zigbee.zcl import ZclCommand, ZclStatus

from ._support import T0

DM = 0x0708
S2C = 0x09  # cluster-specific, server-to-client, default response allowed (the templates)
C2S = 0x01


def _comp(command: ZclCommand, *, fc: int = S2C, seq: int = 0) -> gbz.GbzComponent:
    return gbz.GbzComponent(
        gbz.CONTROL_LAST, DM, fc, seq, type(command).COMMAND_ID, command.encode()
    )


def _serve(tx: Tx, *commands: ZclCommand) -> gbz.GbzMessage:
    comps = tuple(_comp(c, seq=i) for i, c in enumerate(commands))
    return serve(tx, gbz.GbzMessage(comps), STORE, HANDLERS, abandon_after_failure=True)


def _status(reply: gbz.GbzMessage, index: int = 0) -> int:
    comp = reply.components[index]
    assert comp.command_id == 0x0B  # a Default Response
    return comp.payload[1]


def _read(tx: Tx, cluster: int, attribute: int) -> bytes | None:
    return STORE.read(tx, cluster, attribute)


def _seconds(delta: timedelta) -> int:
    return int((T0 + delta - EPOCH_2000).total_seconds())


# ------------------------------------------------------------------ GCS41 / GCS46, GCS36


def test_gcs41_mprn_is_read_back_by_gcs46_on_the_meter_and_through_the_gpf() -> None:
    tx = Tx(T0, {})
    assert _read(tx, 0x0702, 0x0307) == b"\x41\x00"  # a new meter: empty site id
    reply = _serve(tx, UpdateSiteId(1, 0, 0, b"1234567890"))
    assert _status(reply) == ZclStatus.SUCCESS
    assert _read(tx, 0x0702, 0x0307) == b"\x41\x0a1234567890"
    assert dm.site_id(tx) == b"1234567890"
    # GCS46 is answered by the GPF from its mirror: the site id travels with a refresh
    meter = {k: v for k, v in tx.writes.items() if v is not None}
    gpf = Tx(T0, {})
    gas_mirror.apply(gpf, [p for p in gas_mirror.whole(meter)])
    assert _read(gpf, 0x0702, 0x0307) == b"\x41\x0a1234567890"


@pytest.mark.parametrize("site_id", [b"", bytes(33)])
def test_gcs41_refuses_an_mprn_outside_1_to_32_octets_and_keeps_the_old(site_id: bytes) -> None:
    tx = Tx(T0, {})
    _serve(tx, UpdateSiteId(1, 0, 0, b"42"))
    reply = _serve(tx, UpdateSiteId(2, 0, 0, site_id))
    assert _status(reply) == ZclStatus.INVALID_VALUE
    assert dm.site_id(tx) == b"42"


def test_gcs36_cin_becomes_customer_id_number() -> None:
    tx = Tx(T0, {})
    assert _status(_serve(tx, UpdateCin(1, 0, 0, b"1234"))) == ZclStatus.SUCCESS
    assert _read(tx, 0x0702, 0x0311) == b"\x41\x041234"
    assert _status(_serve(tx, UpdateCin(2, 0, 0, b"12345"))) == ZclStatus.INVALID_VALUE
    assert _read(tx, 0x0702, 0x0311) == b"\x41\x041234"


def test_a_client_to_server_frame_is_not_served_as_the_instruction() -> None:
    tx = Tx(T0, {})
    comp = _comp(UpdateSiteId(1, 0, 0, b"99"), fc=C2S)
    reply = serve(tx, gbz.GbzMessage((comp,)), STORE, HANDLERS)
    assert _status(reply) == ZclStatus.UNSUP_CLUSTER_COMMAND
    assert dm.site_id(tx) == b""


# ------------------------------------------------------------------ GCS44


def test_gcs44_contact_details_now_are_the_providers() -> None:
    tx = Tx(T0, {})
    command = PublishChangeOfSupplier(0, 1, 0, 7, 0, 0x1800, b"E-ON", b"0333 202 4650")
    assert _status(_serve(tx, command)) == ZclStatus.SUCCESS
    assert _read(tx, DM, dm.PROVIDER_NAME) == b"\x41\x04E-ON"
    assert _read(tx, DM, dm.PROVIDER_CONTACT) == b"\x41\x0d0333 202 4650"
    assert _read(tx, DM, dm.PROVIDER_ID) == b"\x23" + (7).to_bytes(4, "little")
    assert _read(tx, DM, dm.PROPOSED_PROVIDER_NAME) is None


def test_gcs44_dated_in_the_future_is_proposed_until_its_time() -> None:
    tx = Tx(T0, {})
    _serve(tx, PublishChangeOfSupplier(0, 1, 0, 1, 0, 0, b"Old", b"01"))
    at = _seconds(timedelta(days=2))
    _serve(tx, PublishChangeOfSupplier(1, 2, 0, 2, at, 0, b"New", b"02"))
    assert _read(tx, DM, dm.PROVIDER_NAME) == b"\x41\x03Old"
    assert _read(tx, DM, dm.PROPOSED_PROVIDER_NAME) == b"\x41\x03New"
    assert _read(tx, DM, dm.PROPOSED_PROVIDER_CHANGE_TIME) == b"\xe2" + at.to_bytes(4, "little")
    later = Tx(T0 + timedelta(days=3), {k: v for k, v in tx.writes.items() if v is not None})
    assert _read(later, DM, dm.PROVIDER_NAME) == b"\x41\x03New"
    assert _read(later, DM, dm.PROPOSED_PROVIDER_NAME) is None


@pytest.mark.parametrize(
    ("name", "contact"), [(b"", b"01"), (bytes(16), b"01"), (b"X", b""), (b"X", bytes(19))]
)
def test_gcs44_refuses_contact_details_too_long_or_empty(name: bytes, contact: bytes) -> None:
    tx = Tx(T0, {})
    reply = _serve(tx, PublishChangeOfSupplier(0, 1, 0, 1, 0, 0, name, contact))
    assert _status(reply) == ZclStatus.INVALID_VALUE
    assert dm.supplier(tx, None) is None


# ------------------------------------------------------------------ GCS09


def test_gcs09_change_of_tenancy_restricts_the_ihd_data_from_its_date() -> None:
    tx = Tx(T0, {})
    at = _seconds(timedelta(hours=6))
    command = PublishChangeOfTenancy(0, 1, 0, at, dm.CLEAR_IHD_CONSUMER_DATA)
    assert _status(_serve(tx, command)) == ZclStatus.SUCCESS
    assert _read(tx, DM, dm.TENANCY_CHANGE_TIME) == b"\xe2" + at.to_bytes(4, "little")
    assert _read(tx, DM, dm.TENANCY_CHANGE_CONTROL) == b"\x1b\x00\x02\x00\x00"
    assert dm.restricted_from(tx, T0) is None  # not yet
    assert dm.restricted_from(tx, T0 + timedelta(hours=7)) == T0 + timedelta(hours=6)
    # the GPF's own record: not a mirrored key the GSME could overwrite
    assert not any(k.startswith(gas_mirror.MIRRORED_PREFIXES) for k in tx.writes)


def test_gcs09_without_the_clear_bit_restricts_nothing() -> None:
    tx = Tx(T0, {})
    _serve(tx, PublishChangeOfTenancy(0, 1, 0, 0, 0))
    assert dm.tenancy(tx) is not None
    assert dm.restricted_from(tx, T0 + timedelta(days=1)) is None


# ------------------------------------------------------------------ GCS11


def test_gcs11_empty_password_disables_the_pin_and_a_new_one_enables_it() -> None:
    tx = Tx(T0, {})
    assert dm.pin_protected(tx)
    assert _status(_serve(tx, RequestNewPasswordResponse(1, 0, 0, 2, b""))) == 0
    assert not dm.pin_protected(tx)
    assert dm.pin_protected(tx, 1)  # another password type is untouched
    _serve(tx, RequestNewPasswordResponse(2, 0, 0, 2, b"1234"))
    assert dm.pin_protected(tx)
    reply = _serve(tx, RequestNewPasswordResponse(3, 0, 0, 9, b""))
    assert _status(reply) == ZclStatus.INVALID_VALUE


# ------------------------------------------------------------------ GCS20 / GCS20r


def _report(reply: gbz.GbzMessage) -> ReportEventConfiguration:
    [comp] = reply.components
    assert comp.command_id == 0x04
    # the template: cluster-specific, client-to-server, default response allowed
    assert comp.frame_control == 0x01
    return ReportEventConfiguration.decode_exact(comp.payload)


def test_gcs20r_reads_every_supported_0x81_event_with_its_defaults() -> None:
    tx = Tx(T0, {})
    report = _report(_serve(tx, GetEventConfiguration(dm.NON_CRITICAL_GROUP)))
    assert (report.command_index, report.total_commands) == (0, 1)
    assert report.entries == tuple(
        EventConfigurationEntry(e, dm.DEFAULT_CONFIGURATION) for e in dm.DEFAULT_EVENTS
    )


def test_gcs20_by_list_is_read_back_by_gcs20r() -> None:
    tx = Tx(T0, {})
    reply = _serve(
        tx,
        SetEventConfiguration(1, 0, 0x5B, 0, ApplyByList((0x81AA, 0x81AB))),
        SetEventConfiguration(1, 0, 0x08, 0, ApplyByList((0x81F0,))),  # not built in: added
    )
    assert [_status(reply, i) for i in range(2)] == [0, 0]
    config = dict((e.event_id, e.event_configuration) for e in _report(
        _serve(tx, GetEventConfiguration(0x81FF))
    ).entries)
    assert config[0x81AA] == config[0x81AB] == 0x5B
    assert config[0x81F0] == 0x08
    assert config[0x810E] == dm.DEFAULT_CONFIGURATION
    single = _report(_serve(tx, GetEventConfiguration(0x81AB)))
    assert single.entries == (EventConfigurationEntry(0x81AB, 0x5B),)


def test_gcs20_by_group_log_type_and_match_select_the_right_events() -> None:
    tx = Tx(T0, {})
    _serve(tx, SetEventConfiguration(1, 0, 0x0B, 0, ApplyByList((0x81AA,))))
    _serve(tx, SetEventConfiguration(1, 0, 0x13, 3, ApplyByConfigurationMatch(0x0B)))
    assert dm.event_configuration(tx)[0x81AA] == 0x13
    assert dm.event_configuration(tx)[0x810E] == dm.DEFAULT_CONFIGURATION
    _serve(tx, SetEventConfiguration(1, 0, 0x00, 2, ApplyByLogType(3)))  # every logged one
    assert set(dm.event_configuration(tx).values()) == {0x00}
    _serve(tx, SetEventConfiguration(1, 0, 0x4B, 1, ApplyByEventGroup(0x81FF)))
    assert set(dm.event_configuration(tx).values()) == {0x4B}
    stored = json.loads(tx.get(dm.EVENT_CONFIG) or b"{}")
    assert "81aa" in stored


def test_gcs20r_of_an_unsupported_event_is_not_found() -> None:
    tx = Tx(T0, {})
    reply = _serve(tx, GetEventConfiguration(0x8123))
    assert _status(reply) == ZclStatus.NOT_FOUND
    reply = _serve(tx, GetEventConfiguration(0x82FF))  # a group with nothing in it
    assert _status(reply) == ZclStatus.NOT_FOUND


@given(st.sampled_from(sorted(dm.HANDLERS)), st.binary(max_size=40))
def test_random_payloads_are_refused_with_a_status_never_an_exception(
    key: tuple[int, int], payload: bytes
) -> None:
    tx = Tx(T0, {})
    comp = gbz.GbzComponent(gbz.CONTROL_LAST, key[0], S2C, 0, key[1], payload)
    try:
        dm.HANDLERS[key](tx, comp)
    except ZclRefusedError as refused:
        assert refused.status != ZclStatus.SUCCESS


def test_gcs44_a_new_proposal_replaces_a_pending_one_and_keeps_the_one_in_force() -> None:
    tx = Tx(T0, {})
    _serve(tx, PublishChangeOfSupplier(0, 1, 0, 1, 0, 0, b"Old", b"01"))
    _serve(tx, PublishChangeOfSupplier(1, 2, 0, 2, _seconds(timedelta(days=2)), 0, b"Next", b"02"))
    _serve(tx, PublishChangeOfSupplier(1, 3, 0, 3, _seconds(timedelta(days=1)), 0, b"Newer", b"03"))
    nvm = {k: v for k, v in tx.writes.items() if v is not None}
    assert _read(Tx(T0, nvm), DM, dm.PROVIDER_NAME) == b"\x41\x03Old"
    assert _read(Tx(T0 + timedelta(hours=36), nvm), DM, dm.PROVIDER_NAME) == b"\x41\x05Newer"
    assert _read(Tx(T0 + timedelta(days=3), nvm), DM, dm.PROVIDER_NAME) == b"\x41\x05Newer"
