"""Real devices under test: a device (or a premises started by ``smemu up``) behind a hal URL.

Layer: hil. A :class:`PortDevice` writes the command to its port and reads whole messages
back until a response arrives or the timeout expires; a :class:`RigProvider` hands one out
per device type, with the keys of the rig's PKI. A rig's faults, joins to other HAN devices
and certificates are the lab's: the runner skips what it would have to make.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from smemu.errors import ConfigError, DecodeError, HalError, HalTimeout
from smemu.firmware.common.machine import DeviceType
from smemu.hil.dut_api import DeviceUnavailableError, PreconditionUnsupportedError
from smemu.hil.preconditions import BY_COMMAND, Precondition, Prepared, describe
from smemu.protocols.framing.wan import WanFramer
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.security.keystore import KeyStore


class _PortLike(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def read(self, max_bytes: int = 65536, *, timeout: float | None = None) -> bytes: ...
    async def write(self, data: bytes, *, timeout: float | None = None) -> None: ...


def _is_response(message: bytes) -> bool:
    try:
        located = frame.locate(message)
    except DecodeError:
        return False
    inner = frame.signing_message(located.message)
    return inner is not None and inner.header.cra is Cra.RESPONSE


@dataclass(slots=True)
class PortDevice:
    """A real device behind a hal port (see the module docstring).

    :param url: the hal URL (``tcp://HOST:PORT``, ``serial:///dev/ttyUSB0``, ``ichi://…``).
    :param eui: the device's EUI-64.
    :param device_type: what the device is.
    :param firmware: the firmware identity to report (as configured for the rig).
    """

    url: str
    eui: Eui64
    device_type: DeviceType
    firmware: str = "unknown"
    port: _PortLike | None = None
    _framer: WanFramer = field(default_factory=WanFramer)

    def properties(self) -> Mapping[str, str]:
        return {
            "smemu.rig": self.url,
            "smemu.device.type": self.device_type.value,
            "smemu.device.eui": str(self.eui),
            "smemu.firmware.version": self.firmware,
        }

    async def open(self) -> None:
        """Open the port.

        :raises DeviceUnavailableError: the port cannot be opened (no rig attached).
        """
        from smemu.hal.ports import open_port

        try:
            port = open_port(self.url) if self.port is None else self.port
            await port.open()
        except (HalError, ConfigError, OSError) as exc:
            raise DeviceUnavailableError(f"cannot reach the device at {self.url}: {exc}") from exc
        self.port = port

    async def prepare(self, preconditions: Sequence[Precondition]) -> Prepared:
        """A real device is put into a fault (or given an image) by hand, not by the runner.

        :raises PreconditionUnsupportedError: whenever ``preconditions`` holds any but the
            conditions the runner realises by commands.
        """
        left = [p for p in preconditions if p.condition not in BY_COMMAND]
        if left:
            raise PreconditionUnsupportedError(
                f"precondition not supported on the rig {self.url}: {describe(left)}"
            )
        return Prepared()

    async def exchange(self, command: bytes, *, timeout: float) -> list[bytes]:
        """Write ``command``; read messages until a response or until ``timeout``.

        :raises HalTimeout: nothing at all came back in time.
        """
        if self.port is None:
            raise HalError(f"the port to {self.url} is not open")
        await self.port.write(command, timeout=timeout)
        deadline = time.monotonic() + timeout
        got: list[bytes] = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                self._framer.feed(await self.port.read(timeout=left))
            except HalTimeout:
                break
            messages = list(self._framer)
            got.extend(messages)
            if any(_is_response(m) for m in messages):
                return got
        if not got:
            raise HalTimeout(f"no answer from {self.eui} at {self.url} within {timeout:g} s")
        return got

    async def close(self) -> None:
        if self.port is not None:
            await self.port.close()
            self.port = None


@dataclass(slots=True)
class RigProvider:
    """Real devices behind hal URLs, one per type, with the keys of the rig's PKI.

    :param keystore: the head-end's keys for the rig (remote parties, device public keys).
    :param parties: the EUI-64 the head-end plays per role.
    :param devices: device type -> (URL, EUI-64).
    :param firmware: the firmware identity to record for the rig's devices.
    """

    keystore: KeyStore
    parties: Mapping[int, Eui64]
    devices: Mapping[DeviceType, tuple[str, Eui64]]
    firmware: str = "unknown"

    @property
    def rig(self) -> str:
        urls = sorted({url for url, _ in self.devices.values()})
        return ", ".join(urls) or "none"

    @property
    def han_party(self) -> Eui64 | None:
        """The rig's PPMID, when the head-end holds its key agreement key (a test PPMID)."""
        entry = self.devices.get(DeviceType.PPMID)
        if entry is None or self.keystore.ka_private(entry[1]) is None:
            return None
        return entry[1]

    def han_party_certificate(self) -> bytes | None:
        """None: the lab joins the rig's PPMID to its meters itself."""
        return None

    async def device(
        self, device_type: DeviceType, *, reference: Eui64 | None = None,
        variant: str | None = None,
    ) -> PortDevice:
        entry = self.devices.get(device_type)
        if entry is None:
            raise DeviceUnavailableError(f"the rig has no {device_type.value}")
        url, eui = entry
        device = PortDevice(url, eui, device_type, self.firmware)
        await device.open()
        return device

    def issue_certificate(self, template: bytes, subject: Eui64, public_key: bytes | None) -> bytes:
        """A rig's device certificates come from its own SMKI, not from the runner.

        :raises PreconditionUnsupportedError: always.
        """
        raise PreconditionUnsupportedError(
            f"the rig {self.rig} issues its device certificates itself; cannot re-issue one"
        )
