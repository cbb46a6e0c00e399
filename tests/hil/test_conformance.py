"""The conformance runner: discovery, device-type choice, and verdicts against fake devices."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from smemu.errors import ConfigError, DecodeError
from smemu.firmware.common.machine import DeviceType
from smemu.hil.conformance import (
    CommandInfo,
    ConformanceRunner,
    RunResult,
    Scenario,
    Verdict,
    device_type_for,
    discover,
    read_vector,
    recipient_types,
    split_folder,
)
from smemu.hil.dut import EMULATED_EUIS, EmulatedProvider, PreconditionUnsupportedError
from smemu.hil.headend import roles_from_keystore
from smemu.hil.preconditions import (
    FAILURES,
    Condition,
    Precondition,
    Prepared,
    derive,
    failure_row,
    request_points,
    response_results,
)
from smemu.hil.preconditions_state import earliest_date_time
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.keystore import DirectoryKeyStore
from smemu.tools.conformance import reference_clock
from tests.hil._fake_devices import (
    FakeDevice,
    FakeProvider,
    fail_actions,
    reference_answers,
    resecured_answers,
)

pytestmark = pytest.mark.timeout(120)

ESME_REF = Eui64.parse("00-DB-12-34-56-78-90-A0")
ESME_SECOND = Eui64.parse("00-DB-12-34-56-78-90-A6")  # reference 1.2: the SMETS-v5 ESME
OTHER = Eui64.parse("00-11-22-33-44-55-66-77")


def _touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text("DF 09\n")


# ------------------------------------------------------------------------------ discovery


def test_discover_groups_files_into_scenarios_and_attaches_alerts(tmp_path: Path) -> None:
    _touch(
        tmp_path / "9.9_XYZ01",
        "XYZ01_9.9_NOW_SUCCESS_COMMAND_GBCS.HEX",
        "XYZ01_9.9_NOW_SUCCESS_PRECOMMAND_GBCS.HEX",
        "XYZ01_9.9_NOW_SUCCESS_RESPONSE_GBCS.HEX",
        "XYZ01_9.9_LATER_SUCCESS_PRECOMMAND_GBCS.HEX",
        "XYZ01_9.9_LATER_SUCCESS_RESPONSE_GBCS.HEX",
        "XYZ01_9.9_8F66_LATER_SUCCESS_ALERT_THING_GBCS.HEX",
        "QQQ_ALERT_GBCS.HEX",
        "notes.txt",
    )
    _touch(tmp_path / "deeper" / "1.2_ABC", "ABC_1.2_NA_RESPONSE_GBCS.hex")
    suites = discover(tmp_path)
    assert [s.folder for s in suites] == ["9.9_XYZ01", "1.2_ABC"]  # by path
    xyz, abc = suites
    assert (abc.service, abc.use_case) == ("1.2", "ABC")
    assert abc.scenarios[0].input is None and abc.scenarios[0].response is not None
    names = {s.name: s for s in xyz.scenarios}
    assert set(names) == {"XYZ01_9.9_NOW_SUCCESS", "XYZ01_9.9_LATER_SUCCESS"}
    now, later = names["XYZ01_9.9_NOW_SUCCESS"], names["XYZ01_9.9_LATER_SUCCESS"]
    assert now.input == now.command and now.precommand is not None
    assert later.command is None and later.input == later.precommand
    assert [p.name for p in later.alerts] == ["XYZ01_9.9_8F66_LATER_SUCCESS_ALERT_THING_GBCS.HEX"]
    assert now.alerts == ()
    assert [p.name for p in xyz.loose_alerts] == ["QQQ_ALERT_GBCS.HEX"]
    assert now.id == "9.9_XYZ01/XYZ01_9.9_NOW_SUCCESS"


def test_discover_filters_by_pattern_on_folder_use_case_or_scenario(tmp_path: Path) -> None:
    _touch(tmp_path / "1_AA1", "AA1_1_X_COMMAND_GBCS.HEX", "AA1_1_Y_COMMAND_GBCS.HEX")
    _touch(tmp_path / "2_BB2", "BB2_2_X_COMMAND_GBCS.HEX")
    assert [s.folder for s in discover(tmp_path, pattern="AA*")] == ["1_AA1"]
    assert [s.folder for s in discover(tmp_path, pattern="2_*")] == ["2_BB2"]
    only = discover(tmp_path, pattern="*_Y")
    assert [[x.name for x in s.scenarios] for s in only] == [["AA1_1_Y"]]
    assert discover(tmp_path, pattern="nothing") == []


def test_discover_rejects_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        discover(tmp_path / "absent")


def test_split_folder() -> None:
    assert split_folder("6.2.7_ECS40") == ("6.2.7", "ECS40")
    assert split_folder("NA_CS02bAnyByContingency") == ("NA", "CS02bAnyByContingency")
    assert split_folder("plain") == ("", "plain")


def test_read_vector_ignores_whitespace_and_rejects_non_hex(tmp_path: Path) -> None:
    good, bad = tmp_path / "a", tmp_path / "b"
    good.write_text("DF 09\n01\t02\n")
    bad.write_text("DF0G")
    assert read_vector(good) == bytes.fromhex("DF090102")
    with pytest.raises(DecodeError):
        read_vector(bad)


def test_device_type_from_registry_and_from_the_recipients_other_commands() -> None:
    ecs17b = CommandInfo(0x0027, ESME_REF, OTHER, 1)  # ECS17b: ESME only
    cs02e = CommandInfo(0x000C, ESME_REF, OTHER, 2)  # CS02e: any device type
    cs02e_unknown = CommandInfo(0x000C, OTHER, OTHER, 3)
    known = recipient_types([ecs17b, cs02e, cs02e_unknown])
    assert known == {ESME_REF: DeviceType.ESME}
    assert device_type_for(ecs17b, {}) is DeviceType.ESME
    assert device_type_for(cs02e, known) is DeviceType.ESME
    assert device_type_for(cs02e_unknown, known) is None


def test_run_result_summary_and_ok() -> None:
    assert RunResult((), "x", "y").summary() == "0 passed, 0 failed"
    assert not RunResult((), "x", "y").ok


# --------------------------------------------------------------------- against references


def _reference(rtds_dir: Path, keystore_dir: Path) -> tuple[DirectoryKeyStore, dict[Eui64, int]]:
    return DirectoryKeyStore.load(keystore_dir), roles_from_keystore(keystore_dir)


def _parties(store: DirectoryKeyStore, roles: dict[Eui64, int]) -> dict[int, Eui64]:
    parties: dict[int, Eui64] = {}
    for eui, role in sorted(roles.items()):
        if store.ds_private(eui) is not None or store.ka_private(eui) is not None:
            parties.setdefault(role, eui)
    return parties


def _run(runner: ConformanceRunner, rtds_dir: Path, pattern: str | None) -> RunResult:
    return asyncio.run(runner.run(discover(rtds_dir, pattern=pattern), vectors=str(rtds_dir)))


def test_a_device_answering_the_reference_passes_every_esme_command(
    rtds_dir: Path, keystore_dir: Path
) -> None:
    store, roles = _reference(rtds_dir, keystore_dir)
    scenarios = [s for suite in discover(rtds_dir) for s in suite.scenarios]
    answer = reference_answers(scenarios)
    device = FakeDevice(ESME_REF, DeviceType.ESME, answer)
    second = FakeDevice(ESME_SECOND, DeviceType.ESME, answer)
    provider = FakeProvider(
        store, _parties(store, roles), {DeviceType.ESME: device}, by_eui={ESME_SECOND: second}
    )
    runner = ConformanceRunner(provider, store, roles, keep_counters=True, timeout=1)
    result = _run(runner, rtds_dir, None)
    # a fake that only knows the reference answers cannot answer the earlier use cases a
    # JOINED / PENDING_KEY precondition sends (hil.setup): those scenarios err, saying so
    by_command = [
        r
        for r in result.results
        if any(p.startswith(("joined", "pending-key")) for p in r.preconditions)
    ]
    assert by_command and all(
        r.verdict is Verdict.ERROR and r.message.startswith("precondition:") for r in by_command
    )
    ran = [
        r for r in result.results if r.verdict is not Verdict.SKIPPED and r not in by_command
    ]
    bad = [
        (r.scenario.id, r.verdict.value, r.message) for r in ran if r.verdict is not Verdict.PASSED
    ]
    assert bad == [], "\n".join(map(str, bad))
    assert len(ran) > 100
    assert all(r.device_type is DeviceType.ESME for r in ran)
    # every non-ESME command was skipped (no such fake device), never failed
    skipped = [r for r in result.results if r.verdict is Verdict.SKIPPED]
    assert skipped and all("ESME" not in r.message for r in skipped)


def test_a_wrong_answer_fails_with_its_first_difference(rtds_dir: Path, keystore_dir: Path) -> None:
    store, roles = _reference(rtds_dir, keystore_dir)
    provider = EmulatedProvider()
    try:
        suite = discover(rtds_dir, pattern="7.1_ECS42")
        success = next(s for s in suite[0].scenarios if s.name.endswith("_SUCCESS"))
        assert success.response is not None
        reference = read_vector(success.response)
        esme = EMULATED_EUIS[DeviceType.ESME]
        right = FakeDevice(esme, DeviceType.ESME, resecured_answers(reference, provider.keystore))
        wrong = FakeDevice(
            esme, DeviceType.ESME, resecured_answers(reference, provider.keystore, fail_actions)
        )
        results = {}
        for label, device in (("right", right), ("wrong", wrong)):
            fake = FakeProvider(provider.keystore, provider.parties, {DeviceType.ESME: device})
            runner = ConformanceRunner(fake, store, roles, timeout=1)
            results[label] = asyncio.run(runner.run_one(success))
    finally:
        provider.close()
    assert results["right"].verdict is Verdict.PASSED, results["right"].message
    wrong_result = results["wrong"]
    assert wrong_result.verdict is Verdict.FAILED
    first = wrong_result.comparison.first_difference if wrong_result.comparison else None
    assert first is not None
    assert first.path == "dlms.access_response.specifications[0].result"
    assert (first.expected, first.actual) == ("0", "1")
    assert wrong_result.first_difference == str(first)
    assert wrong_result.message == str(first)
    assert wrong_result.sent and wrong_result.actual and wrong_result.expected


@pytest.mark.parametrize("raises", [False, True])
def test_a_device_that_never_answers_times_out(
    rtds_dir: Path, keystore_dir: Path, raises: bool
) -> None:
    store, roles = _reference(rtds_dir, keystore_dir)
    device = FakeDevice(ESME_REF, DeviceType.ESME, lambda _command: [], raises=raises)
    provider = FakeProvider(store, _parties(store, roles), {DeviceType.ESME: device})
    result = _run(ConformanceRunner(provider, store, roles, timeout=0.1), rtds_dir, "7.*_ECS4[23]")
    assert result.results
    assert {r.verdict for r in result.results} == {Verdict.TIMEOUT}
    assert device.commands  # it was asked
    assert result.failed == len(result.results) and not result.ok
    assert "timed out" in result.summary()


def test_the_emulated_esme_answers_what_it_implements(rtds_dir: Path, keystore_dir: Path) -> None:
    store, roles = _reference(rtds_dir, keystore_dir)
    provider = EmulatedProvider()
    try:
        runner = ConformanceRunner(
            provider, store, roles, timeout=1, device_types=frozenset({DeviceType.ESME})
        )
        result = _run(runner, rtds_dir, "7.*_ECS4[2-5]")
    finally:
        provider.close()
    assert result.results
    assert all(r.device_type is DeviceType.ESME for r in result.results)
    assert all(r.properties.get("smemu.rig") == "emulated" for r in result.results)
    assert result.passed >= 1, [(r.scenario.id, r.message) for r in result.results]
    for r in result.results:
        if r.verdict is Verdict.PASSED:
            assert r.actual and r.comparison is not None and r.comparison.passed


# --------------------------------------------------------------------------- preconditions


def _scenario(rtds_dir: Path, pattern: str, suffix: str) -> Scenario:
    suites = discover(rtds_dir, pattern=pattern)
    return next(s for suite in suites for s in suite.scenarios if s.name.endswith(suffix))


def test_error_scenarios_evidence_a_hardware_fault_at_the_failed_instruction(
    rtds_dir: Path,
) -> None:
    derived = 0
    for suite in discover(rtds_dir):
        for s in suite.scenarios:
            if s.input is None or s.response is None:
                continue
            command, response = read_vector(s.input), read_vector(s.response)
            results = response_results(response)
            found = derive(command, response)
            if not any(r == 1 for r in results):
                if results and not any(results):  # all-success answers evidence nothing
                    assert found == (), s.id
                continue
            index = next(i for i, r in enumerate(results) if r)
            assert len(found) == 1, s.id
            assert found[0].condition is Condition.HARDWARE_FAULT
            assert found[0].point == request_points(command)[index]
            derived += 1
    assert derived > 60


def test_every_failure_row_has_a_reason() -> None:
    assert all(row.reason for row in FAILURES)
    assert failure_row("dlms", 1, 0x004F) is not None
    assert failure_row("dlms", 250, 0x004F) is not None
    assert failure_row("dlms", 250, 0x004F).condition is None  # type: ignore[union-attr]
    assert failure_row("asn1", 3, 0x000A) is not None
    # a refused join (incompatibleWithExistingEntry) evidences an earlier join, not a fault
    assert failure_row("asn1", 3, 0x000D).condition is Condition.JOINED  # type: ignore[union-attr]
    assert failure_row("asn1", 1, 0x000D) is None  # device logic


def test_the_emulated_esme_answers_an_error_scenario_once_faulted(
    rtds_dir: Path, keystore_dir: Path
) -> None:
    store, roles = _reference(rtds_dir, keystore_dir)
    provider = EmulatedProvider()
    try:
        runner = ConformanceRunner(provider, store, roles, timeout=1)
        error = asyncio.run(runner.run_one(_scenario(rtds_dir, "7.1_ECS42", "_ERROR")))
        success = asyncio.run(runner.run_one(_scenario(rtds_dir, "7.1_ECS42", "_SUCCESS")))
    finally:
        provider.close()
    assert error.verdict is Verdict.PASSED, error.message
    assert error.preconditions and "hardware-fault" in error.preconditions[0]
    assert success.verdict is Verdict.PASSED, success.message
    assert success.preconditions == ()


def test_a_device_that_cannot_enter_a_precondition_is_skipped(
    rtds_dir: Path, keystore_dir: Path
) -> None:
    store, roles = _reference(rtds_dir, keystore_dir)

    class Rig(FakeDevice):
        async def prepare(self, preconditions: Sequence[Precondition]) -> Prepared:
            raise PreconditionUnsupportedError("precondition not supported on the rig")

    device = Rig(ESME_REF, DeviceType.ESME, lambda _command: [])
    provider = FakeProvider(store, _parties(store, roles), {DeviceType.ESME: device})
    runner = ConformanceRunner(provider, store, roles, timeout=0.1)
    result = asyncio.run(runner.run_one(_scenario(rtds_dir, "7.1_ECS42", "_ERROR")))
    assert result.verdict is Verdict.SKIPPED
    assert result.message == "precondition not supported on the rig"
    assert device.commands == []  # nothing was sent


def test_a_configuration_read_replays_the_sets_write_first(rtds_dir: Path) -> None:
    scenarios = [s for suite in discover(rtds_dir) for s in suite.scenarios]
    index = ConformanceRunner.index_writes(scenarios, {ESME_REF: DeviceType.ESME})
    read = _scenario(rtds_dir, "6.2.3_ECS26d", "_SUCCESS")
    assert read.input is not None
    setups = index.setup_for(DeviceType.ESME, read.id, read_vector(read.input))
    assert setups and all("ECS30" in w.key for w in setups)
    # a write is no read: nothing to set up for it
    write = next(s for s in scenarios if s.id == setups[0].key)
    assert write.input is not None
    assert index.setup_for(DeviceType.ESME, write.id, read_vector(write.input)) == ()
    # another device type's writes are not used
    assert index.setup_for(DeviceType.GSME, read.id, read_vector(read.input)) == ()


def test_the_reference_clock_is_the_earliest_dated_answer(rtds_dir: Path) -> None:
    clock = reference_clock(discover(rtds_dir))
    assert clock is not None and clock.year >= 2010
    assert earliest_date_time([]) is None
    assert earliest_date_time([b"\x00\x01"]) is None  # not a message: ignored
