"""Whole-use-case faults, recipient typing and the CHF Sub GHz reads against the reference set.

hil/preconditions.py (ASN.1 rows name a UseCasePoint), hil/dut.py (which use cases an emulated
firmware lets fail), hil/conformance_types.py (typing a recipient by narrowing), and
hil/compare_rules.py (DBCH02 / DBCH03 rules).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from smemu.firmware.common.faults import UseCasePoint, ZclAccess, ZclPoint
from smemu.firmware.common.machine import DeviceType
from smemu.hil.compare_rules import Allow, find_rule
from smemu.hil.conformance import (
    CommandInfo,
    ConformanceRunner,
    Scenario,
    Verdict,
    discover,
    read_vector,
    recipient_types,
)
from smemu.hil.dut import EmulatedProvider, PreconditionUnsupportedError
from smemu.hil.headend import roles_from_keystore
from smemu.hil.preconditions import Condition, Precondition, derive
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.keystore import DirectoryKeyStore

pytestmark = pytest.mark.timeout(120)

ACB = Eui64.parse("90-B3-D5-1F-30-00-00-02")
A, B, C = (Eui64.parse(f"00-11-22-33-44-55-66-0{n}") for n in (1, 2, 3))
CS08, CS03A2, PCS01, ECS17B, CS02E = 0x0129, 0x00AB, 0x009B, 0x0027, 0x000C


# ------------------------------------------------------------------------- recipient types


def test_a_recipient_of_multi_type_use_cases_only_is_typed_by_what_they_allow() -> None:
    infos = [
        CommandInfo(CS08, A, ACB, 1),  # PPMID or HCALCS
        CommandInfo(PCS01, C, A, 2),  # A sends PCS01 to the GSME C: A is a PPMID
        CommandInfo(CS08, B, ACB, 3),  # PPMID or HCALCS, and nothing else says which
        CommandInfo(CS03A2, B, ACB, 4),  # any device type: constrains nothing
    ]
    # the set's PPMID is A; B answers a PPMID / HCALCS use case too: the HCALCS
    assert recipient_types(infos) == {
        A: DeviceType.PPMID,
        B: DeviceType.HCALC,
        C: DeviceType.GSME,
    }


def test_a_recipient_stays_untyped_when_the_evidence_leaves_a_choice() -> None:
    only_cs08 = [CommandInfo(CS08, B, ACB, 1), CommandInfo(CS08, C, ACB, 2)]
    assert recipient_types(only_cs08) == {}  # two devices, two types, nothing tells which
    assert recipient_types([CommandInfo(CS02E, C, ACB, 1)]) == {}  # any type at all


def test_single_target_evidence_outweighs_narrowing() -> None:
    infos = [CommandInfo(ECS17B, A, ACB, 1), CommandInfo(CS08, A, ACB, 2)]
    assert recipient_types(infos) == {A: DeviceType.ESME}


# ---------------------------------------------------------------------- reference vectors


def _scenario(rtds_dir: Path, pattern: str, suffix: str) -> Scenario:
    suites = discover(rtds_dir, pattern=pattern)
    return next(s for suite in suites for s in suite.scenarios if s.name.endswith(suffix))


@pytest.mark.parametrize(
    ("folder", "code"),
    [
        ("6.17_CS02c", 0x000A),
        ("6.24.2_CS02e", 0x000C),
        ("6.15.1_CS02gLoadControllerBySupplier", 0x0126),
    ],
)
def test_credential_error_scenarios_evidence_a_fault_of_the_use_case(
    rtds_dir: Path, folder: str, code: int
) -> None:
    s = _scenario(rtds_dir, folder, "IMMEDIATE_ERROR" if "CS02g" in folder else "_ERROR")
    assert s.input is not None and s.response is not None
    found = derive(read_vector(s.input), read_vector(s.response))
    assert [(p.condition, p.point) for p in found] == [
        (Condition.HARDWARE_FAULT, UseCasePoint(code))
    ]
    assert "use case 0x" in str(found[0])


@pytest.mark.parametrize(
    ("folder", "cluster", "command"),
    [("3.3_CS11", 0x0709, 0x01), ("14.1_GCS31", 0x0702, 0x07)],
)
def test_a_reply_that_fails_in_its_own_fields_evidences_a_fault_of_its_command(
    rtds_dir: Path, folder: str, cluster: int, command: int
) -> None:
    """CS11 (no log cleared) and GCS31 (sample id 0xFFFF) carry no status; their ERROR
    responses still name the failed part, and their SUCCESS twins name none."""
    failed = _scenario(rtds_dir, folder, "_ERROR")
    assert failed.input is not None and failed.response is not None
    found = derive(read_vector(failed.input), read_vector(failed.response))
    assert [(p.condition, p.point) for p in found] == [
        (Condition.HARDWARE_FAULT, ZclPoint(ZclAccess.COMMAND, cluster, command))
    ]
    good = _scenario(rtds_dir, folder, "_SUCCESS")
    assert good.input is not None and good.response is not None
    assert derive(read_vector(good.input), read_vector(good.response)) == ()


def test_the_emulated_hcalc_cannot_fail_a_use_case_it_does_not_model() -> None:
    provider = EmulatedProvider()
    try:
        device = asyncio.run(provider.device(DeviceType.HCALC))
        wanted = Precondition(Condition.HARDWARE_FAULT, CS03A2, UseCasePoint(CS03A2), "test")
        with pytest.raises(PreconditionUnsupportedError, match="use case 0x00AB"):
            asyncio.run(device.prepare([wanted]))
    finally:
        provider.close()


@pytest.mark.parametrize("kind", [DeviceType.HCALC, DeviceType.PPMID])
def test_the_emulated_ppmid_and_hcalc_take_a_cs08_fault(kind: DeviceType) -> None:
    """CS08 readFailure (the store of the running version failed) is a fault they model."""
    provider = EmulatedProvider()
    try:
        device = asyncio.run(provider.device(kind))
        wanted = Precondition(Condition.HARDWARE_FAULT, CS08, UseCasePoint(CS08), "test")
        asyncio.run(device.prepare([wanted]))
        assert any(k.endswith("/usecase/0129") for k in device.machine.nvm)
    finally:
        provider.close()


def test_the_cs08_error_scenario_passes_on_the_emulated_hcalc(
    rtds_dir: Path, keystore_dir: Path
) -> None:
    provider = EmulatedProvider()
    try:
        runner = _runner(keystore_dir, provider)
        known = {Eui64.parse("00-DB-12-34-56-78-90-A5"): DeviceType.HCALC}
        result = asyncio.run(runner.run_one(_scenario(rtds_dir, "11.2_CS08", "_ERROR"), known))
    finally:
        provider.close()
    assert result.verdict is Verdict.PASSED, result.message
    assert result.preconditions == ("hardware-fault for use case 0x0129",)


def _runner(keystore_dir: Path, provider: EmulatedProvider) -> ConformanceRunner:
    store = DirectoryKeyStore.load(keystore_dir)
    return ConformanceRunner(provider, store, roles_from_keystore(keystore_dir), timeout=1)


@pytest.mark.parametrize(
    ("pattern", "suffix"),
    [
        ("6.17_CS02c", "_ERROR"),
        ("6.24.2_CS02e", "_ERROR"),
        # the replacing key id repeats the existing one, which a rule lets be the device's
        ("6.15.1_CS02gLoadControllerBySupplier", "IMMEDIATE_ERROR"),
    ],
)
def test_the_emulated_esme_answers_a_credential_error_once_its_store_failed(
    rtds_dir: Path, keystore_dir: Path, pattern: str, suffix: str
) -> None:
    provider = EmulatedProvider()
    try:
        runner = _runner(keystore_dir, provider)
        known = {Eui64.parse("00-DB-12-34-56-78-90-A0"): DeviceType.ESME}
        result = asyncio.run(runner.run_one(_scenario(rtds_dir, pattern, suffix), known))
    finally:
        provider.close()
    assert result.verdict is Verdict.PASSED, result.message
    assert len(result.preconditions) == 1
    assert result.preconditions[0].startswith("hardware-fault for use case 0x0")


def test_the_chf_sub_ghz_reads_pass_with_their_reviewed_rules(
    rtds_dir: Path, keystore_dir: Path
) -> None:
    provider = EmulatedProvider()
    try:
        runner = _runner(keystore_dir, provider)
        result = asyncio.run(runner.run(discover(rtds_dir, pattern="6.[23]*_DBCH0[234]")))
    finally:
        provider.close()
    verdicts = {c.scenario.name: c.verdict for c in result.results}
    assert len(verdicts) == 6
    assert set(verdicts.values()) == {Verdict.PASSED}, result
    tolerated = {
        d.path
        for c in result.results
        if c.comparison is not None
        for d in c.comparison.tolerated
    }
    assert "dlms.access_response.list_of_data[0]" in tolerated  # DBCH02: the hub's history
    assert any(p.endswith(".structure[0]") for p in tolerated)  # DBCH03: configured outside


def test_the_chf_rules_never_hide_status_or_other_use_cases() -> None:
    config = "dlms.access_response.list_of_data[0].structure[4]"
    assert find_rule("dlms", config, Allow.VALUE, 0x010C, "long-unsigned") is not None
    assert find_rule("dlms", config, Allow.VALUE, 0x010C, "structure") is None
    assert find_rule("dlms", config, Allow.VALUE, 0x010A, "bit-string") is None  # DBCH01
    log = "dlms.access_response.list_of_data[0]"
    assert find_rule("dlms", log, Allow.LENGTH, 0x010B, "compact-array") is not None
    assert find_rule("dlms", log, Allow.VALUE, 0x010B, "compact-array") is None
