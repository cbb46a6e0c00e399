"""The Machine base: the lifecycle table, all-or-nothing steps, NVM views."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smemu.errors import DecodeError, LocalProtocolError
from smemu.firmware.common.machine import (
    TRANSITIONS,
    BootEvent,
    DeviceType,
    Event,
    EventKind,
    LineEvent,
    Machine,
    MachineState,
    MessageEvent,
    TimerEvent,
    Tx,
)
from smemu.protocols.gbcs.types import Eui64

T0 = datetime(2025, 1, 1, tzinfo=UTC)


class _Probe(Machine):
    """A machine whose handlers write, and fail on a message saying so."""

    device_type = DeviceType.ESME

    def classify(self, event: Event) -> EventKind:
        if isinstance(event, TimerEvent) and event.name in ("sleep", "wake"):
            return EventKind(event.name)
        return super().classify(event)

    def on_boot(self, tx: Tx) -> None:
        tx.put_int("boots", tx.get_int("boots") + 1)

    def on_message(self, tx: Tx, event: MessageEvent) -> None:
        tx.put("last", event.data)
        if event.data == b"fail":
            raise DecodeError("bad", path="x", offset=0)
        tx.send("han", event.data)


def _event(kind: EventKind) -> Event:
    return {
        EventKind.POWER_ON: BootEvent(),
        EventKind.POWER_OFF: LineEvent("power", False),
        EventKind.MESSAGE: MessageEvent("han", b"x"),
        EventKind.TIMER: TimerEvent("other"),
        EventKind.LINE: LineEvent("tamper", True),
        EventKind.SLEEP: TimerEvent("sleep"),
        EventKind.WAKE: TimerEvent("wake"),
    }[kind]


def _machine_in(state: MachineState) -> _Probe:
    machine = _Probe(Eui64(bytes(8)), {})
    if state is not MachineState.OFF:
        machine.step(BootEvent(), T0)
    if state is MachineState.ASLEEP:
        machine.step(TimerEvent("sleep"), T0)
    assert machine.state is state
    return machine


@pytest.mark.parametrize("state", list(MachineState))
@pytest.mark.parametrize("kind", list(EventKind))
def test_every_state_event_pair_follows_the_table(state: MachineState, kind: EventKind) -> None:
    machine = _machine_in(state)
    before = dict(machine.nvm)
    target = TRANSITIONS[state].get(kind)
    if target is None:
        with pytest.raises(LocalProtocolError, match=kind.value):
            machine.step(_event(kind), T0)
        assert machine.state is state
        assert dict(machine.nvm) == before
    else:
        step = machine.step(_event(kind), T0)
        assert machine.state is target is step.state


def test_a_failing_handler_commits_nothing() -> None:
    machine = _machine_in(MachineState.RUNNING)
    machine.step(MessageEvent("han", b"ok"), T0)
    before = dict(machine.nvm)
    with pytest.raises(DecodeError):
        machine.step(MessageEvent("han", b"fail"), T0)
    assert dict(machine.nvm) == before
    assert machine.nvm["last"] == b"ok"


def test_step_reports_writes_and_sends() -> None:
    machine = _machine_in(MachineState.RUNNING)
    step = machine.step(MessageEvent("han", b"hello"), T0)
    assert step.writes == {"last": b"hello"}
    assert [s.data for s in step.sends] == [b"hello"]


def test_tx_reads_its_own_writes_and_deletes() -> None:
    tx = Tx(T0, {"a/1": b"1", "a/2": b"2", "b": b"x"})
    tx.put("a/3", b"3")
    tx.delete("a/1")
    assert tx.keys("a/") == ["a/2", "a/3"]
    assert tx.get("a/1") is None
    tx.put_json("j", {"k": [1, 2]})
    assert tx.get_json("j") == {"k": [1, 2]}
    tx.put_int("n", 2**70)
    assert tx.get_int("n") == 2**70
