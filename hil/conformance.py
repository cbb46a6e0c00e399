"""The conformance runner: replay every reference COMMAND against a device and judge its answer.

Layer: hil. Theory of operation: the vectors come from :func:`discover`
(:mod:`smemu.hil.conformance_vectors`: scenarios per use-case folder). :class:`ConformanceRunner`
takes each scenario's COMMAND (or its PRECOMMAND when no COMMAND exists), picks the device type
(:mod:`smemu.hil.conformance_types`: the use-case registry, or for use cases that several
device types serve, what the other vectors addressed to the same recipient are), asks a
:class:`~smemu.hil.dut.DeviceProvider` for a fresh device of that type, configures it with the
set's own configuring commands (:mod:`smemu.hil.preconditions_state`), puts it into the
condition the reference answer evidences (:mod:`smemu.hil.preconditions`), joins the stand-in
PPMID first when the command is a HAN-only one (PCS01 / PCS02: :func:`~smemu.hil.setup.
join_han_party`), re-keys the command
for it (:class:`~smemu.hil.replay.Replayer`), sends it, correlates and verifies the answer
(:class:`~smemu.hil.headend.HeadEnd`) and compares it with the reference RESPONSE
(:func:`~smemu.hil.compare.compare_responses`). Each scenario ends in one :class:`CaseResult`
with a :class:`Verdict`.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from smemu.errors import DecodeError, HalTimeout, SmemuError
from smemu.firmware.common.machine import DeviceType
from smemu.hil.compare import Comparison, Substitutions, compare_responses
from smemu.hil.conformance_types import (
    CommandInfo,
    command_info,
    device_type_for,
    originator_device_type,
    recipient_types,
    registry_device_types,
)
from smemu.hil.conformance_vectors import (
    Scenario,
    UseCaseVectors,
    discover,
    read_vector,
    scenario_variant,
    split_folder,
)
from smemu.hil.dut import (
    DeviceProvider,
    DeviceUnavailableError,
    DeviceUnderTest,
    PreconditionUnsupportedError,
)
from smemu.hil.headend import HeadEnd, Outcome, Received
from smemu.hil.preconditions import Precondition, Prepared, derive
from smemu.hil.preconditions_history import REPLAYED_FIRST, derive_history, elapsed_for
from smemu.hil.preconditions_state import Write, WriteIndex
from smemu.hil.replay import ReplayedCommand, Replayer, ReplayError
from smemu.hil.setup import SetupError, join_han_party, realise
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.message_codes import lookup
from smemu.protocols.gbcs.secure import DEVICE_ORIGINATED_COMMANDS
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.keystore import KeyStore

#: the discovery and typing names, re-exported: callers import the runner's API from here
__all__ = [
    "DEFAULT_TIMEOUT",
    "CaseResult",
    "CommandInfo",
    "ConformanceRunner",
    "Progress",
    "RunResult",
    "Scenario",
    "UseCaseVectors",
    "Verdict",
    "command_info",
    "device_type_for",
    "discover",
    "originator_device_type",
    "read_vector",
    "recipient_types",
    "registry_device_types",
    "scenario_variant",
    "split_folder",
]

DEFAULT_TIMEOUT: Final = 10.0


class Verdict(enum.StrEnum):
    """How one scenario ended."""

    PASSED = "passed"  #: answered, verified, equal to the reference up to the allowed rules
    FAILED = "failed"  #: answered wrongly (or not verifiably)
    TIMEOUT = "timeout"  #: no answer within the time allowed (counted as failed)
    ERROR = "error"  #: the runner could not run it (a reference that does not replay)
    SKIPPED = "skipped"  #: nothing to run, filtered out, or no such device on the rig

    @property
    def failed(self) -> bool:
        return self in (Verdict.FAILED, Verdict.TIMEOUT)


# ---------------------------------------------------------------------------------- runner


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One scenario's outcome, with everything a report shows."""

    scenario: Scenario
    verdict: Verdict
    message: str  #: one line: why (the first difference, the error, the skip reason)
    device_type: DeviceType | None = None
    message_code: int | None = None
    use_case_id: str | None = None  #: the registry's id for the message code
    command: bytes = b""  #: the reference command (or pre-command)
    sent: bytes = b""  #: the re-keyed command sent to the device
    expected: bytes = b""  #: the reference response
    actual: bytes = b""  #: the device's response
    alerts: tuple[bytes, ...] = ()  #: other messages the device sent (alerts, unmatched)
    reference_alerts: tuple[bytes, ...] = ()
    comparison: Comparison | None = None
    problems: tuple[str, ...] = ()  #: verification problems of the response
    rewritten: tuple[str, ...] = ()  #: payload fields the replay rewrote
    properties: Mapping[str, str] = field(default_factory=dict)  #: rig and firmware ids
    #: the device conditions entered before the command (``hardware-fault for …``)
    preconditions: tuple[str, ...] = ()
    #: scenarios whose commands were replayed first to configure the device
    setup: tuple[str, ...] = ()
    duration: float = 0.0

    @property
    def first_difference(self) -> str | None:
        if self.comparison is None or self.comparison.first_difference is None:
            return None
        return str(self.comparison.first_difference)


@dataclass(frozen=True, slots=True)
class RunResult:
    """Every scenario's result, in run order."""

    results: tuple[CaseResult, ...]
    rig: str
    vectors: str
    duration: float = 0.0

    def count(self, verdict: Verdict) -> int:
        return sum(1 for r in self.results if r.verdict is verdict)

    @property
    def passed(self) -> int:
        return self.count(Verdict.PASSED)

    @property
    def failed(self) -> int:
        """Failures, timeouts included."""
        return sum(1 for r in self.results if r.verdict.failed)

    @property
    def ok(self) -> bool:
        """Something passed and nothing failed, timed out or erred (skips are no failure)."""
        return self.passed > 0 and all(
            r.verdict in (Verdict.PASSED, Verdict.SKIPPED) for r in self.results
        )

    def summary(self) -> str:
        """``N passed, N failed`` plus timeouts, errors and skips when there are any."""
        parts = [f"{self.passed} passed", f"{self.failed} failed"]
        timeouts = self.count(Verdict.TIMEOUT)
        if timeouts:
            parts[-1] += f" ({timeouts} timed out)"
        for verdict, word in ((Verdict.ERROR, "errors"), (Verdict.SKIPPED, "skipped")):
            n = self.count(verdict)
            if n:
                parts.append(f"{n} {word}")
        return ", ".join(parts)

    def by_use_case(self) -> dict[str, list[CaseResult]]:
        """Results grouped by use-case folder, in run order."""
        groups: dict[str, list[CaseResult]] = {}
        for result in self.results:
            groups.setdefault(result.scenario.folder, []).append(result)
        return groups


#: called after each scenario: (result, number done, total)
Progress = Callable[[CaseResult, int, int], None]


@dataclass(slots=True)
class ConformanceRunner:
    """Runs scenarios against devices from ``provider`` (see the module docstring).

    :param provider: hands out a fresh device per scenario and the head-end's keys.
    :param reference_keys: the key store the reference vectors were made with.
    :param reference_roles: reference remote-party EUI -> RemotePartyRole number.
    :param timeout: seconds to wait for each answer.
    :param device_types: run only commands for these device types (empty: all).
    :param keep_counters: re-use the reference counters instead of fresh ones (for a device
        that carries the reference identities and has seen no commands, so that its answers
        can equal the reference byte for byte).
    """

    provider: DeviceProvider
    reference_keys: KeyStore
    reference_roles: Mapping[Eui64, int]
    timeout: float = DEFAULT_TIMEOUT
    device_types: frozenset[DeviceType] = frozenset()
    keep_counters: bool = False
    #: the run's configuring commands (see :class:`~smemu.hil.preconditions_state.WriteIndex`)
    writes: WriteIndex = field(default_factory=WriteIndex)

    async def run(
        self,
        suites: Sequence[UseCaseVectors],
        *,
        progress: Progress | None = None,
        vectors: str = "",
        context: Sequence[UseCaseVectors] | None = None,
    ) -> RunResult:
        """Run every scenario of ``suites`` in order.

        :param context: the whole set when ``suites`` is a selection of it: recipients are
            typed, and the configuring commands preconditions replay are found, in the whole
            set, so a selected read still gets its device type and its writes.
        """
        start = time.perf_counter()
        scenarios = [s for suite in suites for s in suite.scenarios]
        every = scenarios if context is None else [s for u in context for s in u.scenarios]
        known = recipient_types(self._infos(every))
        self.writes = self.index_writes(every, known)
        results: list[CaseResult] = []
        for index, scenario in enumerate(scenarios, 1):
            result = await self.run_one(scenario, known)
            results.append(result)
            if progress is not None:
                progress(result, index, len(scenarios))
        return RunResult(tuple(results), self.provider.rig, vectors, time.perf_counter() - start)

    @staticmethod
    def _infos(scenarios: Iterable[Scenario]) -> list[CommandInfo]:
        infos = []
        for scenario in scenarios:
            path = scenario.input
            if path is None:
                continue
            try:
                infos.append(command_info(read_vector(path)))
            except (DecodeError, OSError):
                continue
        return infos

    @staticmethod
    def index_writes(
        scenarios: Iterable[Scenario], known: Mapping[Eui64, DeviceType]
    ) -> WriteIndex:
        """The configuring commands among ``scenarios``, per device type."""
        index = WriteIndex()
        for scenario in scenarios:
            path = scenario.input
            if path is None or scenario.response is None:
                continue
            try:
                command = read_vector(path)
                device_type = device_type_for(command_info(command), known)
                response = read_vector(scenario.response)
            except (DecodeError, OSError):
                continue
            if device_type is not None:
                index.add(device_type, scenario.id, command, response)
        return index

    async def run_one(
        self, scenario: Scenario, known: Mapping[Eui64, DeviceType] | None = None
    ) -> CaseResult:
        """Run one scenario; never raises for anything the scenario or device does."""
        start = time.perf_counter()
        result = await self._run(scenario, known or {})
        return replace(result, duration=time.perf_counter() - start)

    async def _run(self, scenario: Scenario, known: Mapping[Eui64, DeviceType]) -> CaseResult:
        path = scenario.input
        if path is None:
            return CaseResult(scenario, Verdict.SKIPPED, "no COMMAND or PRECOMMAND to replay")
        if scenario.response is None:
            return CaseResult(scenario, Verdict.SKIPPED, "no reference RESPONSE to compare with")
        try:
            command = read_vector(path)
            expected = read_vector(scenario.response)
            reference_alerts = tuple(read_vector(p) for p in scenario.alerts)
            info = command_info(command)
        except (DecodeError, OSError) as exc:
            return CaseResult(scenario, Verdict.ERROR, f"reference vector: {exc}")
        registered = lookup(info.message_code)
        base = CaseResult(
            scenario,
            Verdict.ERROR,
            "",
            message_code=info.message_code,
            use_case_id=None if registered is None else registered.use_case,
            command=command,
            expected=expected,
            reference_alerts=reference_alerts,
        )
        device_type = device_type_for(info, known)
        if device_type is None:
            return _but(base, Verdict.SKIPPED, "no device type known for this recipient")
        base = replace(base, device_type=device_type)
        if self.device_types and device_type not in self.device_types:
            return _but(base, Verdict.SKIPPED, f"{device_type.value} not selected")
        try:
            device = await self.provider.device(
                device_type, reference=info.recipient, variant=scenario_variant(scenario)
            )
        except DeviceUnavailableError as exc:
            return _but(base, Verdict.SKIPPED, str(exc))
        try:
            return await self._exchange(base, device, command, expected, info)
        finally:
            await device.close()

    async def _exchange(
        self,
        base: CaseResult,
        device: DeviceUnderTest,
        command: bytes,
        expected: bytes,
        info: CommandInfo,
    ) -> CaseResult:
        base = replace(base, properties=dict(device.properties()))
        head_end = HeadEnd(self.provider.keystore, dict(self.provider.parties))
        replayer = Replayer(
            head_end,
            self.reference_keys,
            self.reference_roles,
            issuer=self.provider.issue_certificate,
            han_party=self.provider.han_party,
        )
        # 1. configure: replay the set's writes of the attributes this command reads
        setups = self.writes.setup_for(device.device_type, base.scenario.id, command)
        if setups:
            base = replace(base, setup=tuple(w.key for w in setups))
            problem = await self._configure(device, replayer, head_end, setups)
            if problem is not None:
                return _but(base, Verdict.ERROR, problem)
        # 2. enter the condition the reference answer evidences: the device enters faults
        # (and takes an image); the earlier use cases leading to a state are sent here,
        # the set's commands a log's history starts from first (then time passes)
        preconditions = derive(command, expected, self.reference_keys)
        preconditions += derive_history(command, expected)
        prepared = Prepared()
        if preconditions:
            base = replace(base, preconditions=tuple(str(p) for p in preconditions))
            firsts, problem = self._history_setup(device, base.scenario.id, preconditions)
            if problem is None and firsts:
                base = replace(base, setup=(*base.setup, *(w.key for w in firsts)))
                problem = await self._configure(device, replayer, head_end, firsts)
            if problem is not None:
                return _but(base, Verdict.ERROR, f"precondition: {problem}")
            elapsed = elapsed_for([w.command for w in firsts])
            if elapsed is not None:
                preconditions += (elapsed,)
                base = replace(base, preconditions=(*base.preconditions, str(elapsed)))
            try:
                held = await device.prepare(preconditions)
                reached = await realise(device, head_end, preconditions, timeout=self.timeout)
            except PreconditionUnsupportedError as exc:
                return _but(base, Verdict.SKIPPED, str(exc))
            except (SetupError, SmemuError) as exc:
                return _but(base, Verdict.ERROR, f"precondition: {exc}")
            prepared = replace(reached, image_hash=held.image_hash)
        # 3. a HAN-only command (PCS01 / PCS02) comes from a PPMID the device log must hold
        if info.message_code in DEVICE_ORIGINATED_COMMANDS:
            try:
                step = await self._join_han_party(device, head_end)
            except (SetupError, SmemuError) as exc:
                return _but(base, Verdict.ERROR, f"precondition: {exc}")
            if step is not None:
                base = replace(base, preconditions=(*base.preconditions, step))
        try:
            replayed = self._rekey(replayer, command, device.eui, prepared)
        except (ReplayError, SmemuError) as exc:
            return _but(base, Verdict.ERROR, f"replay: {exc}")
        sent = replayed.command
        base = replace(base, sent=sent.data, rewritten=replayed.rewritten)
        try:
            answers = await device.exchange(sent.data, timeout=self.timeout)
        except HalTimeout as exc:
            return _but(base, Verdict.TIMEOUT, f"no answer: {exc}")
        except SmemuError as exc:
            return _but(base, Verdict.FAILED, f"device error: {exc}")
        response: Received | None = None
        others: list[bytes] = []
        for raw in answers:
            for received in head_end.accept(raw):
                if response is None and received.command is sent:
                    response = received
                else:
                    others.append(received.data)
        base = replace(base, alerts=tuple(others))
        if response is None:
            if not answers:
                return _but(base, Verdict.TIMEOUT, f"no response within {self.timeout:g} s")
            return _but(
                base,
                Verdict.FAILED,
                f"no response to the command; the device sent {_describe(others)}",
            )
        comparison = compare_responses(
            expected,
            response.data,
            substitutions=Substitutions(
                {bytes(k): bytes(v) for k, v in replayed.identities.items()},
                dict(replayed.counters),
            ),
            expected_keys=self.reference_keys,
            actual_keys=self.provider.keystore,
        )
        base = replace(
            base, actual=response.data, comparison=comparison, problems=response.problems
        )
        if response.outcome is not Outcome.RESPONSE:
            return _but(
                base, Verdict.FAILED, "response not verified: " + "; ".join(response.problems)
            )
        if not comparison.passed:
            return _but(base, Verdict.FAILED, str(comparison.first_difference))
        return _but(base, Verdict.PASSED, "matches the reference")


    def _history_setup(
        self, device: DeviceUnderTest, key: str, preconditions: Sequence[Precondition]
    ) -> tuple[tuple[Write, ...], str | None]:
        """The set's commands the history ``preconditions`` start from
        (:data:`~smemu.hil.preconditions_history.REPLAYED_FIRST`), in order; or why there
        are none to replay (the set, as filtered, holds no such command)."""
        found: list[Write] = []
        for precondition in preconditions:
            for code in REPLAYED_FIRST.get(precondition.condition, ()):
                write = self.writes.first(device.device_type, code, key)
                if write is None:
                    name = lookup(code)
                    label = f"0x{code:04X}" if name is None else name.use_case
                    return (), f"{precondition}: the vector set holds no {label} to replay"
                found.append(write)
        return tuple(found), None

    async def _join_han_party(self, device: DeviceUnderTest, head_end: HeadEnd) -> str | None:
        """Join the provider's stand-in PPMID to ``device`` (:func:`~smemu.hil.setup.
        join_han_party`); the step taken, or None when the provider has no certificate of
        it (a rig: the lab joined it).

        :raises SetupError: the join was refused or not answered.
        """
        party = self.provider.han_party
        certificate = self.provider.han_party_certificate()
        if party is None or certificate is None:
            return None
        return await join_han_party(device, head_end, party, certificate, timeout=self.timeout)

    def _rekey(
        self,
        replayer: Replayer,
        command: bytes,
        eui: Eui64,
        prepared: Prepared | None = None,
    ) -> ReplayedCommand:
        """``command`` for the device: fresh counters, or the reference's (keep_counters)."""
        if not self.keep_counters:
            return replayer.rekey(command, eui, prepared=prepared)
        info = command_info(command)
        return replayer.rekey(
            command, eui, counter=info.counter, srp_counter=info.srp_counter, prepared=prepared
        )

    async def _configure(
        self,
        device: DeviceUnderTest,
        replayer: Replayer,
        head_end: HeadEnd,
        setups: Sequence[Write],
    ) -> str | None:
        """Replay ``setups``; None when each was answered, else why not."""
        for write in setups:
            try:
                replayed = self._rekey(replayer, write.command, device.eui)
                answers = await device.exchange(replayed.command.data, timeout=self.timeout)
            except (ReplayError, SmemuError) as exc:
                return f"setup {write.key}: {exc}"
            answered = False
            for raw in answers:
                for received in head_end.accept(raw):
                    answered = answered or received.command is replayed.command
            if not answered:
                return f"setup {write.key}: no response"
        return None


def _describe(messages: Sequence[bytes]) -> str:
    if not messages:
        return "nothing"
    names = []
    for raw in messages:
        try:
            inner = frame.signing_message(frame.locate(raw).message)
        except DecodeError:
            names.append("a malformed message")
            continue
        if inner is None:
            names.append("a GBT block")
            continue
        header = inner.header
        names.append(f"{header.cra.label} 0x{header.message_code:04X}")
    return ", ".join(names)


def _but(result: CaseResult, verdict: Verdict, message: str) -> CaseResult:
    return replace(result, verdict=verdict, message=message)
