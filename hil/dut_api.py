"""What the conformance runner and the pytest plugin need of a device under test.

Layer: hil. :class:`DeviceUnderTest` (one device a secured GBCS command can be sent to) and
:class:`DeviceProvider` (hands devices out by type, with the keys a head-end needs), and the
two errors a provider or a device raises. The emulated implementation is
:mod:`smemu.hil.dut_emulated`, the real-device one :mod:`smemu.hil.dut_rig`;
:mod:`smemu.hil.dut` gathers all three.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from smemu.errors import SmemuError
from smemu.firmware.common.machine import DeviceType
from smemu.hil.preconditions import Precondition, Prepared
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.keystore import KeyStore


class DeviceUnavailableError(SmemuError):
    """No device of the wanted type can be had: raised by :meth:`DeviceProvider.device`.

    Scenarios: a real rig that is not connected, a device type the rig does not have. The
    runner and the pytest plugin turn it into a skip, not a failure.
    """


class PreconditionUnsupportedError(SmemuError):
    """The device cannot be put into a precondition: raised by :meth:`DeviceUnderTest.prepare`.

    Scenarios: a real rig (its faults are made by hand, not by the runner), a condition the
    emulated firmware does not model for that use case. The runner skips the scenario with
    the message as the reason.
    """


class DeviceUnderTest(Protocol):
    """One device a command can be sent to."""

    @property
    def eui(self) -> Eui64:
        """The device's entity identifier (the recipient of commands)."""
        ...

    @property
    def device_type(self) -> DeviceType: ...

    def properties(self) -> Mapping[str, str]:
        """Rig and firmware identities, for JUnit properties and reports."""
        ...

    async def exchange(self, command: bytes, *, timeout: float) -> list[bytes]:
        """Send ``command``; return the response (if any) and alerts, in arrival order.

        :raises HalTimeout: a real device said nothing at all within ``timeout`` seconds.
        """
        ...

    async def prepare(self, preconditions: Sequence[Precondition]) -> Prepared:
        """Enter ``preconditions`` (all but those the runner realises by commands,
        :data:`~smemu.hil.preconditions.BY_COMMAND`) before the next command; what was
        established. ELAPSED: let its ``elapsed`` seconds of device time pass (an emulated
        clock moves on; a rig would wait that long, or say it cannot).

        :raises PreconditionUnsupportedError: the device cannot enter one of them.
        """
        ...

    async def close(self) -> None: ...


class DeviceProvider(Protocol):
    """Hands out devices by type, and the keys and parties a head-end uses with them."""

    @property
    def keystore(self) -> KeyStore:
        """Remote parties' private keys and the devices' public keys."""
        ...

    @property
    def parties(self) -> Mapping[int, Eui64]:
        """The EUI-64 the head-end uses for each RemotePartyRole number."""
        ...

    @property
    def rig(self) -> str:
        """``emulated`` or the URL of the real device."""
        ...

    async def device(
        self, device_type: DeviceType, *, reference: Eui64 | None = None,
        variant: str | None = None,
    ) -> DeviceUnderTest:
        """A device of ``device_type`` in a known starting state.

        :param reference: the recipient the reference command was made for; a provider
            whose devices carry the reference identities picks the one with this EUI.
        :param variant: the device variant the scenario needs (``twin``: a twin-element
            ESME); None for the type's default. A rig's devices are what they are.
        :raises DeviceUnavailableError: see the class.
        """
        ...

    @property
    def han_party(self) -> Eui64 | None:
        """A HAN device whose keys :attr:`keystore` holds, to send HAN-only commands
        (PCS01 / PCS02, a PPMID's) as; None: none."""
        ...

    def han_party_certificate(self) -> bytes | None:
        """The key agreement certificate (DER) of :attr:`han_party`, to join it to the
        device under test before a HAN-only command (CS03C); None: the provider has none
        (a rig's PPMID is joined by the lab)."""
        ...

    def issue_certificate(self, template: bytes, subject: Eui64, public_key: bytes | None) -> bytes:
        """A device certificate like ``template`` (DER) for ``subject``, from the devices' CA.

        :param public_key: SubjectPublicKeyInfo DER of the certified key (None: the
            template's key).
        :raises PreconditionUnsupportedError: the provider holds no CA of its devices.
        """
        ...
