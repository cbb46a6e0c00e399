"""Fixtures of the smemu pytest plugin: loop, clock, capture, device, head-end, premises.

Layer: hil. Fixtures are synchronous (no asyncio plugin needed): each test gets its own event
loop (:func:`smemu_loop`) and the fixtures run coroutines on it. A device comes from the
configured provider -- fresh emulated devices by default, or the rig behind
``--smemu-device URL`` -- and a configured rig that cannot be reached skips the test rather
than failing it. Rig and firmware identities go into the test's JUnit properties.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pytest

from smemu.devices.config import load_config
from smemu.devices.keys import load_pki
from smemu.devices.premises import Premises
from smemu.errors import ConfigError, SecurityError
from smemu.firmware.common.machine import DeviceType
from smemu.hal.clock import VirtualClock
from smemu.hil.capture import PcapWriter
from smemu.hil.dut import (
    DeviceProvider,
    DeviceUnavailableError,
    DeviceUnderTest,
    EmulatedProvider,
    RigProvider,
)
from smemu.hil.headend import HeadEnd, OutgoingCommand, Received
from smemu.hil.pytest_plugin.hooks import SMEMU_CONFIG, SmemuConfig

DEFAULT_DEVICE_TYPE: Final = DeviceType.ESME
_WAN_NAMES: Final = itertools.count(1)

#: records a JUnit property of the running test: (name, value)
RecordProperty = Callable[[str, object], None]


def _config(request: pytest.FixtureRequest) -> SmemuConfig:
    return request.config.stash[SMEMU_CONFIG]


@pytest.fixture(scope="session")
def smemu_config(request: pytest.FixtureRequest) -> SmemuConfig:
    """The plugin configuration (``--smemu-*`` options, environment, ini)."""
    return _config(request)


@pytest.fixture
def smemu_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop of the test's own, closed after it."""
    loop = asyncio.new_event_loop()
    try:
        yield loop
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


@pytest.fixture
def smemu_clock(smemu_config: SmemuConfig) -> VirtualClock:
    """A virtual clock standing still at the configured start (advance it explicitly)."""
    return VirtualClock(smemu_config.start, speed=0)


@pytest.fixture
def smemu_capture(smemu_config: SmemuConfig, tmp_path: Path) -> Iterator[PcapWriter]:
    """A pcap writer for the test's traffic (``<capture dir or tmp_path>/<test>.pcap``)."""
    folder = smemu_config.capture or tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    with PcapWriter.open(folder / f"{tmp_path.name}.pcap") as writer:
        yield writer


def _rig_provider(smemu: SmemuConfig) -> RigProvider:
    if smemu.pki is None:
        pytest.skip(f"the rig {smemu.device} needs --smemu-pki (its PKI folder)")
    try:
        pki = load_pki(smemu.pki)
    except (ConfigError, SecurityError, OSError) as exc:
        pytest.skip(f"the rig's PKI {smemu.pki} cannot be read: {exc}")
    return RigProvider(
        pki.keystore,
        {int(role): eui for role, eui in pki.remote_parties.items()},
        {kind: (smemu.device, eui) for eui, kind in pki.devices.items()},
        smemu.firmware or "unknown",
    )


@pytest.fixture
def smemu_provider(smemu_config: SmemuConfig) -> Iterator[DeviceProvider]:
    """Where devices come from: emulated (a seeded test PKI) or the configured rig."""
    if smemu_config.emulated:
        provider = EmulatedProvider(None, smemu_config.start)
        try:
            yield provider
        finally:
            provider.close()
        return
    yield _rig_provider(smemu_config)


def _device_type(request: pytest.FixtureRequest) -> DeviceType:
    marker = request.node.get_closest_marker("smemu_device_type")
    if marker is None or not marker.args:
        return DEFAULT_DEVICE_TYPE
    try:
        return DeviceType(str(marker.args[0]).lower())
    except ValueError:
        names = ", ".join(t.value for t in DeviceType)
        raise pytest.UsageError(f"smemu_device_type: expected one of {names}") from None


@pytest.fixture
def smemu_device(
    request: pytest.FixtureRequest,
    smemu_config: SmemuConfig,
    smemu_provider: DeviceProvider,
    smemu_loop: asyncio.AbstractEventLoop,
    record_property: RecordProperty,
) -> Iterator[DeviceUnderTest]:
    """A device under test of the marked type (``@pytest.mark.smemu_device_type("esme")``).

    Skips when the configured rig has no such device or cannot be reached.
    """
    kind = _device_type(request)
    try:
        device = smemu_loop.run_until_complete(smemu_provider.device(kind))
    except DeviceUnavailableError as exc:
        pytest.skip(str(exc))
    for name, value in sorted(device.properties().items()):
        record_property(name, value)
    if smemu_config.rig_name is not None:
        record_property("smemu.rig.name", smemu_config.rig_name)
    try:
        yield device
    finally:
        smemu_loop.run_until_complete(device.close())


@dataclass(slots=True)
class HeadEndSession:
    """A head-end bound to one device: send commands, get what came back (synchronously)."""

    head_end: HeadEnd
    device: DeviceUnderTest
    loop: asyncio.AbstractEventLoop
    timeout: float
    capture: PcapWriter | None = None
    received: list[Received] = field(default_factory=list)

    def send(self, command: OutgoingCommand) -> Received | None:
        """Send a secured command; return its correlated response (``None``: none came).

        Every other message (alerts, unmatched answers) is kept in :attr:`received`.
        """
        if self.capture is not None:
            self.capture.write(command.data)
        answers = self.loop.run_until_complete(
            self.device.exchange(command.data, timeout=self.timeout)
        )
        response: Received | None = None
        for raw in answers:
            if self.capture is not None:
                self.capture.write(raw)
            for received in self.head_end.accept(raw):
                if response is None and received.command is command:
                    response = received
                else:
                    self.received.append(received)
        return response

    def request(
        self, use_case: str, params: dict[str, str] | None = None, *, role: int = 2
    ) -> Received | None:
        """Build ``use_case`` for the device (as ``role``, supplier by default) and send it."""
        return self.send(self.head_end.build(use_case, self.device.eui, params, role=role))


@pytest.fixture
def smemu_head_end(
    smemu_config: SmemuConfig,
    smemu_provider: DeviceProvider,
    smemu_device: DeviceUnderTest,
    smemu_loop: asyncio.AbstractEventLoop,
) -> HeadEndSession:
    """A head-end playing every remote party of the provider's PKI, bound to the device."""
    head_end = HeadEnd(smemu_provider.keystore, dict(smemu_provider.parties))
    return HeadEndSession(head_end, smemu_device, smemu_loop, smemu_config.timeout)


@pytest.fixture
def smemu_premises(
    smemu_config: SmemuConfig,
    smemu_loop: asyncio.AbstractEventLoop,
    smemu_clock: VirtualClock,
    tmp_path: Path,
    record_property: RecordProperty,
) -> Iterator[Premises]:
    """A started emulated premises (the default one of ``smemu up``) on a virtual WAN port.

    Skipped on a real rig: the rig is the premises there.
    """
    if not smemu_config.emulated:
        pytest.skip(f"smemu_premises is emulated; the rig {smemu_config.device} is configured")
    premises = Premises(
        load_config(None),
        tmp_path / "premises",
        wan=f"virtual://smemu-wan-{next(_WAN_NAMES)}",
        clock=smemu_clock,
    )
    smemu_loop.run_until_complete(premises.start())
    record_property("smemu.rig", "emulated premises")
    try:
        yield premises
    finally:
        smemu_loop.run_until_complete(premises.stop())
