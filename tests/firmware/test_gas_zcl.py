"""gas_zcl.serve: reply frame control per the use case's GBZ template (``quiet``); faults of
commands whose response has no status (``FAILED_REPLIES``)."""

from __future__ import annotations

from datetime import UTC, datetime

from smemu.firmware.common import faults
from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_zcl import FAILED_REPLIES, NO_SAMPLE_ID, AttributeStore, ZclReply, serve
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.events import ClearEventLogRequest, ClearEventLogResponse, LogId
from smemu.protocols.zigbee.metering import StartSampling, StartSamplingResponse
from smemu.protocols.zigbee.zcl import FRAME_CLUSTER_SPECIFIC, ZclStatus

STORE = AttributeStore({(0x0702, 0x0000): (0x25, bytes(6))})


def _publish(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
    return ZclReply(0x06, b"\x01", True)


def _message() -> gbz.GbzMessage:
    return gbz.GbzMessage(
        (
            gbz.GbzComponent(0, 0x0702, 0x00, 0, 0x00, b"\x00\x00"),
            gbz.GbzComponent(0, 0x0702, 0x01, 1, 0x06, b""),
            gbz.GbzComponent(gbz.CONTROL_LAST, 0x0702, 0x01, 2, 0x0D, b""),
        )
    )


def _controls(quiet: frozenset[tuple[int, int]] | None) -> list[int]:
    tx = Tx(datetime(2024, 1, 1, tzinfo=UTC), {})
    reply = serve(tx, _message(), STORE, {(0x0702, 0x06): _publish}, quiet=quiet)
    return [c.frame_control for c in reply.components]


def test_without_template_each_reply_keeps_its_own_flag() -> None:
    assert _controls(None) == [0x08, 0x19, 0x08]


def test_template_sets_the_disable_default_response_bit() -> None:
    assert _controls(frozenset({(0x0702, 0x01)})) == [0x18, 0x09, 0x08]
    assert _controls(frozenset({(0x0702, 0x06)})) == [0x08, 0x19, 0x08]


def test_default_responses_never_disable_it() -> None:
    assert _controls(frozenset({(0x0702, 0x0B)}))[2] == 0x08


# ------------------------------------------------- faults of commands answered without status

_EVENTS = 0x0709
_METERING = 0x0702


def _faulted(cluster_id: int, command_id: int) -> dict[str, bytes]:
    point = faults.ZclPoint(faults.ZclAccess.COMMAND, cluster_id, command_id)
    return faults.image([faults.Fault(faults.FaultKind.HARDWARE, point)])


def _one(tx: Tx, cluster_id: int, command: bytes, command_id: int) -> gbz.GbzComponent:
    message = gbz.GbzMessage(
        (gbz.GbzComponent(gbz.CONTROL_LAST, cluster_id, 0x01, 7, command_id, command),)
    )
    called: list[int] = []

    def handler(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
        called.append(comp.command_id)
        return ZclReply(0x42, b"\x01")

    reply = serve(tx, message, STORE, {(cluster_id, command_id): handler})
    assert called == ([] if tx.keys(faults.PREFIX) else [command_id])
    (component,) = reply.components
    return component


def test_a_failed_log_store_clears_no_log() -> None:
    request = ClearEventLogRequest(LogId.GENERAL_EVENT_LOG)
    tx = Tx(datetime(2024, 1, 1, tzinfo=UTC), _faulted(_EVENTS, request.COMMAND_ID))
    answer = _one(tx, _EVENTS, request.encode(), request.COMMAND_ID)
    assert answer.frame_control & 0x03 == FRAME_CLUSTER_SPECIFIC
    assert answer.command_id == ClearEventLogResponse.COMMAND_ID
    assert ClearEventLogResponse.decode_exact(answer.payload).cleared_events_logs == 0


def test_a_failed_sampler_starts_no_sampling() -> None:
    tx = Tx(datetime(2024, 1, 1, tzinfo=UTC), _faulted(_METERING, StartSampling.COMMAND_ID))
    answer = _one(tx, _METERING, b"", StartSampling.COMMAND_ID)
    assert answer.command_id == StartSamplingResponse.COMMAND_ID
    assert StartSamplingResponse.decode_exact(answer.payload).sample_id == NO_SAMPLE_ID


def test_without_fault_the_handler_answers() -> None:
    tx = Tx(datetime(2024, 1, 1, tzinfo=UTC), {})
    answer = _one(tx, _METERING, b"", StartSampling.COMMAND_ID)
    assert (answer.command_id, answer.payload) == (0x42, b"\x01")


def test_other_faulted_commands_answer_hardware_failure() -> None:
    tx = Tx(datetime(2024, 1, 1, tzinfo=UTC), _faulted(_METERING, 0x0B))
    answer = _one(tx, _METERING, b"", 0x0B)
    assert (answer.command_id, answer.payload) == (0x0B, bytes((0x0B, ZclStatus.HARDWARE_FAILURE)))
    assert set(FAILED_REPLIES) == {(_EVENTS, 0x01), (_METERING, 0x07)}
