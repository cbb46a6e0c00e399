"""History a log read needs: derived from the reference answer, made by the runner's commands.

hil/preconditions_history.py (derive_history, sampling_span, elapsed_for), hil/setup.py
(send_rejected, top_up), hil/dut_emulated.py (ELAPSED), hil/conformance.py (the set's GCS31 /
GCS04 replayed first) and the CS10a/b and GCS18 rows of hil/compare_rules.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from smemu.firmware.common.machine import DeviceType
from smemu.firmware.gas_handlers import EVENT_LOG_PREFIX
from smemu.hil.compare import compare_responses
from smemu.hil.compare_rules import Allow, find_rule
from smemu.hil.conformance import (
    CaseResult,
    ConformanceRunner,
    Scenario,
    Verdict,
    discover,
    read_vector,
)
from smemu.hil.dut import DEFAULT_START, EmulatedDevice, EmulatedProvider
from smemu.hil.headend import HeadEnd, roles_from_keystore
from smemu.hil.preconditions import Condition, Precondition
from smemu.hil.preconditions_history import derive_history, elapsed_for, sampling_span
from smemu.hil.setup import send_rejected, top_up
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.frame import GeneralSigningMessage, MacProtectedMessage
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.keystore import DirectoryKeyStore
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.events import LogId, PublishEventLog
from smemu.tools.conformance import reference_clock

pytestmark = pytest.mark.timeout(120)

#: the reference GSME (the recipient of CS10b, GCS18, GCS15d, GCS31, GCS04)
GSME = Eui64.parse("00-DB-12-34-56-78-90-A1")
KNOWN = {GSME: DeviceType.GSME}
CS10B, GCS18 = 0x00A1, 0x0079


def _scenarios(rtds_dir: Path, *patterns: str) -> list[Scenario]:
    return [
        s
        for pattern in patterns
        for suite in discover(rtds_dir, pattern=pattern)
        for s in suite.scenarios
    ]


def _vectors(rtds_dir: Path, folder: str, suffix: str) -> tuple[bytes, bytes]:
    scenario = next(s for s in _scenarios(rtds_dir, folder) if s.name.endswith(suffix))
    assert scenario.input is not None and scenario.response is not None
    return read_vector(scenario.input), read_vector(scenario.response)


# ------------------------------------------------------------------------------- derive


@pytest.mark.parametrize(
    ("folder", "condition"),
    [
        ("6.13_CS10b", Condition.SECURITY_LOGGED),
        ("4.10_GCS18", Condition.SAMPLED),
        ("4.4.4_GCS15d", Condition.TOPPED_UP),
    ],
)
def test_a_read_answered_with_entries_evidences_its_history(
    rtds_dir: Path, folder: str, condition: Condition
) -> None:
    command, response = _vectors(rtds_dir, folder, "_SUCCESS")
    assert [p.condition for p in derive_history(command, response)] == [condition]
    # the same read answered NOT_FOUND, or failing, evidences none: the log stays empty
    for suffix in ("_NOT_FOUND", "_ERROR"):
        assert derive_history(*_vectors(rtds_dir, folder, suffix)) == ()


def test_a_read_of_another_use_case_evidences_no_history(rtds_dir: Path) -> None:
    command, response = _vectors(rtds_dir, "4.4.3_GCS15c", "_SUCCESS")
    assert derive_history(command, response) == ()


def test_the_sampling_span_comes_from_the_start_sampling_fields(rtds_dir: Path) -> None:
    command, _ = _vectors(rtds_dir, "14.1_GCS31", "_SUCCESS")
    # the GCS31 template: Sample Request Interval 360 s, Max Number of Samples 41
    assert sampling_span(command) == 360 * 41
    elapsed = elapsed_for([command])
    assert elapsed is not None and elapsed.condition is Condition.ELAPSED
    assert elapsed.elapsed == 360 * 41
    read, _ = _vectors(rtds_dir, "4.10_GCS18", "_SUCCESS")
    assert sampling_span(read) is None and elapsed_for([read]) is None


# ------------------------------------------------------------------ the runner's commands


def _device(kind: DeviceType = DeviceType.GSME) -> tuple[EmulatedProvider, EmulatedDevice]:
    provider = EmulatedProvider()
    return provider, asyncio.run(provider.device(kind))


def test_a_command_failing_its_mac_is_rejected_and_security_logged() -> None:
    provider, device = _device()
    try:
        head_end = HeadEnd(provider.keystore, dict(provider.parties))
        step = asyncio.run(send_rejected(device, head_end, timeout=1))
    finally:
        provider.close()
    prefix = f"{EVENT_LOG_PREFIX}{int(LogId.SECURITY_EVENT_LOG)}/"
    logged = [device.machine.nvm[k] for k in device.machine.nvm if k.startswith(prefix)]
    assert "rejected" in step
    assert logged, "the device logged no security event"
    assert logged[-1][:2] == bytes.fromhex("8F3D")  # trusted source authentication failure


def test_a_top_up_is_made_for_the_device_and_accepted() -> None:
    provider, device = _device()
    try:
        head_end = HeadEnd(provider.keystore, dict(provider.parties))
        step = asyncio.run(top_up(device, head_end, 5000, timeout=1))
    finally:
        provider.close()
    assert step == "topped up 5000 pence (CS01b)"


def test_an_emulated_device_lets_elapsed_time_pass() -> None:
    provider, device = _device()
    try:
        before = device.clock.now()
        wait = Precondition(Condition.ELAPSED, 0x0080, None, "test", elapsed=3600)
        asyncio.run(device.prepare([wait]))
    finally:
        provider.close()
    assert device.clock.now() - before == timedelta(hours=1)


# ----------------------------------------------------------------------------- the runner


def _run(rtds_dir: Path, keystore_dir: Path, patterns: tuple[str, ...]) -> list[CaseResult]:
    """Run every scenario of ``patterns`` on emulated devices at the reference clock, the
    set's commands indexed as the whole run indexes them."""
    provider = EmulatedProvider(start=reference_clock(discover(rtds_dir)) or DEFAULT_START)
    store = DirectoryKeyStore.load(keystore_dir)
    runner = ConformanceRunner(provider, store, roles_from_keystore(keystore_dir), timeout=1)
    scenarios = _scenarios(rtds_dir, *patterns)
    runner.writes = runner.index_writes(scenarios, KNOWN)
    try:
        return [
            asyncio.run(runner.run_one(s, KNOWN))
            for s in scenarios
            if s.folder in {p for p in patterns if "GCS31" not in p and "GCS04" not in p}
        ]
    finally:
        provider.close()


def _by_name(results: list[CaseResult]) -> dict[str, CaseResult]:
    return {r.scenario.name.rsplit("_", 1)[-1]: r for r in results}


def test_the_security_log_read_finds_the_rejected_command(
    rtds_dir: Path, keystore_dir: Path
) -> None:
    results = _by_name(_run(rtds_dir, keystore_dir, ("6.13_CS10b",)))
    success, not_found = results["SUCCESS"], results["FOUND"]
    assert success.verdict is Verdict.PASSED, success.message
    assert success.preconditions == ("security-logged for the use case 0x00A1",)
    assert success.comparison is not None
    tolerated = {d.path for d in success.comparison.tolerated}
    assert any(p.endswith("publish_event_log.entries") for p in tolerated)
    assert not_found.verdict is Verdict.PASSED and not_found.preconditions == ()


def test_the_network_data_log_read_follows_the_sets_start_sampling(
    rtds_dir: Path, keystore_dir: Path
) -> None:
    results = _by_name(_run(rtds_dir, keystore_dir, ("4.10_GCS18", "14.1_GCS31")))
    success, not_found = results["SUCCESS"], results["FOUND"]
    assert success.verdict is Verdict.PASSED, success.message
    assert success.setup == ("14.1_GCS31/GCS31_14.1_SUCCESS",)
    assert success.preconditions == ("sampled for the use case 0x0079", "elapsed 14760 s")
    # the same command answered NOT_FOUND by the reference: no sampling is started
    assert not_found.verdict is Verdict.PASSED, not_found.message
    assert not_found.setup == () and not_found.preconditions == ()


def test_a_history_without_its_starting_command_in_the_set_is_an_error(
    rtds_dir: Path, keystore_dir: Path
) -> None:
    results = _by_name(_run(rtds_dir, keystore_dir, ("4.10_GCS18",)))
    assert results["SUCCESS"].verdict is Verdict.ERROR
    assert "holds no GCS31" in results["SUCCESS"].message


def test_the_debt_repayment_log_read_follows_the_debt_and_a_top_up(
    rtds_dir: Path, keystore_dir: Path
) -> None:
    results = _by_name(_run(rtds_dir, keystore_dir, ("4.4.4_GCS15d", "2.3_GCS04")))
    success, not_found = results["SUCCESS"], results["FOUND"]
    assert success.setup == ("2.3_GCS04/GCS04_2.3_SUCCESS",)
    assert success.preconditions == ("topped-up for the use case 0x00C4",)
    inner = frame.signing_message(frame.locate(success.actual).message)
    assert inner is not None
    answered = [(c.cluster_id, c.command_id) for c in gbz.decode_exact(inner.payload).components]
    assert answered == [(0x0705, 0x06)]  # Publish Debt Log, not NOT_FOUND
    assert not_found.verdict is Verdict.PASSED, not_found.message


# ---------------------------------------------------------------------------- the rules


def _edit_log(data: bytes, **changes: object) -> bytes:
    """``data`` (a CS10b response) with its Publish Event Log's entries changed."""
    located = frame.locate(data).message
    inner = frame.signing_message(located)
    assert isinstance(inner, GeneralSigningMessage)
    message = gbz.decode_exact(inner.payload)
    component = message.components[0]
    log = PublishEventLog.decode_exact(component.payload)
    entries = tuple(replace(e, **changes) for e in log.entries[:3])  # type: ignore[arg-type]
    log = replace(log, entries=entries, total_number_of_matching_events=len(entries))
    changed = replace(message, components=(replace(component, payload=log.encode()),))
    signed = replace(inner, payload=gbz.encode(changed))
    if isinstance(located, MacProtectedMessage):
        return replace(located, inner=signed).encode()
    return signed.encode()


def test_the_event_log_rule_tolerates_the_devices_entries_but_not_another_log(
    rtds_dir: Path,
) -> None:
    _, reference = _vectors(rtds_dir, "6.13_CS10b", "_SUCCESS")
    own = _edit_log(reference, event_id=0x8F3D, event_time=473385600)
    assert compare_responses(reference, own).passed
    other_log = _edit_log(reference, log_id=int(LogId.GENERAL_EVENT_LOG))
    result = compare_responses(reference, other_log)
    assert not result.passed
    assert result.first_difference is not None
    assert str(result.first_difference.path).endswith("log_id")


def test_the_log_rules_stay_within_their_use_cases_and_fields() -> None:
    entry = "gbz.components[0].publish_event_log.entries[0]"
    assert find_rule("gbz", f"{entry}.event_id", Allow.VALUE, CS10B, "uint16") is not None
    assert find_rule("gbz", f"{entry}.log_id", Allow.VALUE, CS10B, "enum8") is None
    assert find_rule("gbz", f"{entry}.event_id", Allow.VALUE, 0x0078, "uint16") is None
    sampled = "gbz.plaintext[0].get_sampled_data_response"
    assert find_rule("gbz", f"{sampled}.sample_start_time", Allow.VALUE, GCS18, "") is not None
    assert find_rule("gbz", f"{sampled}.samples[3]", Allow.VALUE, GCS18, "") is not None
    for strict in ("sample_id", "sample_type", "sample_request_interval"):
        assert find_rule("gbz", f"{sampled}.{strict}", Allow.VALUE, GCS18, "") is None
    assert find_rule("gbz", f"{sampled}.samples", Allow.LENGTH, GCS18, "") is None
    # GCS17's start time is the profile's own and stays strict
    assert find_rule("gbz", f"{sampled}.sample_start_time", Allow.VALUE, 0x0078, "") is None
