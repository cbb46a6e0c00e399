"""Emulated devices under test: fresh firmware machines from a seeded test PKI.

Layer: hil. An :class:`EmulatedDevice` is a firmware machine (``smemu.firmware``) of the
wanted type, provisioned from a test PKI and stepped directly at the instants of a
:class:`~smemu.hal.clock.VirtualClock`: deterministic and fast (no sockets). It enters the
preconditions of error scenarios as a lab would (faults in NVM, an image delivered). An
:class:`EmulatedProvider` hands them out, with the keys a head-end needs and a CA that issues
device certificates (a replayed CS02d must name the device under test and its new key).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from smemu.devices.keys import PKI_FILE, Pki, init_pki, load_pki
from smemu.errors import DecodeError
from smemu.firmware import (
    credentials_use_cases,
    esme_twin,
    firmware_image,
    gas_joins,
    gas_mirror,
    gpf,
    gsme,
    ppmid_firmware,
)
from smemu.firmware.common import faults
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.han import TunnelCommand, decode_han
from smemu.firmware.common.machine import BootEvent, DeviceType, MessageEvent, TimerEvent
from smemu.firmware.common.registry import MACHINES
from smemu.hal.clock import VirtualClock
from smemu.hil.certificates import DeviceAuthority
from smemu.hil.dut_api import DeviceUnavailableError, PreconditionUnsupportedError
from smemu.hil.preconditions import BY_COMMAND, Condition, Precondition, Prepared
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.keys import PrivateKey, public_point
from smemu.protocols.security.keystore import KeyKind, KeyStore

#: EUI-64s of the emulated devices (one per type; distinct from any reference identity so
#: that a replay really re-addresses the command).
EMULATED_EUIS: Final[Mapping[DeviceType, Eui64]] = {
    DeviceType.ESME: Eui64.parse("00-53-4D-45-4D-55-00-01"),
    DeviceType.GSME: Eui64.parse("00-53-4D-45-4D-55-00-02"),
    DeviceType.CHF: Eui64.parse("00-53-4D-45-4D-55-00-03"),
    DeviceType.GPF: Eui64.parse("00-53-4D-45-4D-55-00-04"),
    DeviceType.PPMID: Eui64.parse("00-53-4D-45-4D-55-00-05"),
    DeviceType.HCALC: Eui64.parse("00-53-4D-45-4D-55-00-06"),
}
#: Remote parties of the emulated PKI: the DCC test identities of reference 1.2 (every role
#: a reference command may come from, so that replays find a party of the same role).
EMULATED_PARTIES: Final[Mapping[Role, Eui64]] = {
    Role.RECOVERY: Eui64.parse("90-B3-D5-1F-30-00-00-01"),
    Role.SUPPLIER: Eui64.parse("90-B3-D5-1F-30-01-00-00"),
    Role.NETWORK_OPERATOR: Eui64.parse("90-B3-D5-1F-30-02-00-00"),
    Role.ACCESS_CONTROL_BROKER: Eui64.parse("90-B3-D5-1F-30-00-00-02"),
    Role.TRANSITIONAL_COS: Eui64.parse("90-B3-D5-1F-30-00-00-04"),
    Role.WAN_PROVIDER: Eui64.parse("90-B3-D5-1F-30-00-00-07"),
    Role.OTHER_USER: Eui64.parse("90-B3-D5-1F-30-04-00-00"),
    # the SMETS v5 load controller (reference 1.2: role 8 of the DCC key store)
    Role.LOAD_CONTROLLER: Eui64.parse("90-B3-D5-1F-30-01-00-08"),
}
#: Default start of an emulated device's clock (overridable per provider).
DEFAULT_START: Final = datetime(2020, 1, 1, tzinfo=UTC)
#: How long an emulated meter has been installed when it is handed out (overridable per
#: provider): its logs hold that much history, as a lab's installed device's would.
DEFAULT_HISTORY: Final = timedelta(days=40)
#: Device types installed :data:`DEFAULT_HISTORY` before the clock's start (the GPF gets the
#: mirror of such a GSME).
#: (not the ESME: on its first command it catches up and alerts the 40 days' billing
#: snapshots, extra messages a head-end test does not expect)
HISTORY_TYPES: Final = frozenset({DeviceType.GSME})
#: Precondition -> the firmware fault that realises it in an emulated device.
_FAULT_KINDS: Final[Mapping[Condition, faults.FaultKind]] = {
    Condition.HARDWARE_FAULT: faults.FaultKind.HARDWARE,
    Condition.TEMPORARY_FAILURE: faults.FaultKind.TEMPORARY,
}
#: Device type -> the ASN.1 use cases whose function as a whole the emulated firmware can be
#: made to fail (a fault at a :class:`~smemu.firmware.common.faults.UseCasePoint`): each
#: firmware module's own ``FAULTABLE_USE_CASES`` -- the credential stores of the meters and
#: the GPF (CS02b-e, CS02g), the GSME's and GPF's device log (CS07 readFailure), the PPMID's
#: and HCALCS's store of the running firmware version (CS08 readFailure)
_USE_CASE_FAULTS: Final[Mapping[DeviceType, frozenset[int]]] = {
    DeviceType.ESME: credentials_use_cases.FAULTABLE_USE_CASES,
    DeviceType.GSME: credentials_use_cases.FAULTABLE_USE_CASES | gas_joins.FAULTABLE_USE_CASES,
    DeviceType.GPF: credentials_use_cases.FAULTABLE_USE_CASES | gas_joins.FAULTABLE_USE_CASES,
    DeviceType.PPMID: ppmid_firmware.FAULTABLE_USE_CASES,
    DeviceType.HCALC: ppmid_firmware.FAULTABLE_USE_CASES,
}
#: Seed of the emulated PKI: the same keys on every run, so reports are reproducible.
PKI_SEED: Final = b"smemu conformance"
#: Device type -> the port its firmware images are delivered on (the end of a firmware
#: distribution: the CH hands the image over the HAN).
_IMAGE_PORTS: Final[Mapping[DeviceType, str]] = {DeviceType.ESME: "ota"}
#: The emulated manufacturer's identifier and the version of the test image it delivers.
MANUFACTURER_ID: Final = 0x1234
TEST_IMAGE_VERSION: Final = bytes.fromhex("02000001")



@dataclass(slots=True)
class EmulatedDevice:
    """A fresh firmware machine stepped in process (see the module docstring)."""

    machine: CommandMachine
    clock: VirtualClock
    rig: str = "emulated"
    #: the manufacturer key the device trusts (its images are signed with it); None: none
    manufacturer: PrivateKey | None = None

    @property
    def eui(self) -> Eui64:
        return self.machine.eui

    @property
    def device_type(self) -> DeviceType:
        return self.machine.device_type

    def properties(self) -> Mapping[str, str]:
        firmware = self.machine.nvm.get("fw/version")
        return {
            "smemu.rig": self.rig,
            "smemu.device.type": self.device_type.value,
            "smemu.device.eui": str(self.eui),
            "smemu.firmware.machine": type(self.machine).__name__,
            "smemu.firmware.version": "unknown" if firmware is None else firmware.hex(),
        }

    def start(self) -> None:
        """Power the machine on at the clock's time."""
        self.machine.step(BootEvent(), self.clock.now())

    async def prepare(self, preconditions: Sequence[Precondition]) -> Prepared:
        """Put the device into ``preconditions`` as a lab would.

        ELAPSED lets that much device time pass (:meth:`elapse`), after the faults.
        A fault (hardware / temporary) becomes a flag in NVM (:mod:`smemu.firmware.common.
        faults`) on the DLMS or ZCL access point it concerns, entered with the power off:
        the machine is rebuilt from its NVM image (all state it had so far is kept) and
        booted again. An image to hold is delivered as a firmware distribution ends: a test
        image signed by the manufacturer the device trusts, on its image port. JOINED and
        PENDING_KEY are the runner's (:mod:`smemu.hil.setup`) and left alone.

        :raises PreconditionUnsupportedError: a fault naming no access point, or a use case
            whose function the device's firmware does not let fail (the firmware models
            faults per COSEM attribute or method, per ZCL command or attribute, and per ASN.1
            use case where :data:`_USE_CASE_FAULTS` says so), or an image the device cannot
            take.
        """
        found: list[faults.Fault] = []
        image = False
        wait = 0
        for precondition in preconditions:
            if precondition.condition in BY_COMMAND:
                continue
            if precondition.condition is Condition.IMAGE_HELD:
                image = True
                continue
            if precondition.condition is Condition.ELAPSED:
                wait = max(wait, precondition.elapsed or 0)
                continue
            kind = _FAULT_KINDS.get(precondition.condition)
            point = precondition.point
            if isinstance(point, faults.UseCasePoint) and point.message_code not in (
                _USE_CASE_FAULTS.get(self.device_type, frozenset())
            ):
                point = None  # a flag the firmware would not consult
            if kind is None or point is None:
                raise self._unsupported(precondition)
            found.append(faults.Fault(kind, point))
        if found:
            nvm = dict(self.machine.nvm)
            nvm.update(faults.image(found))
            self.machine = type(self.machine)(self.machine.eui, nvm)
            self.start()
        if wait:
            self.elapse(timedelta(seconds=wait))
        if not image:
            return Prepared()
        return Prepared(image_hash=self._deliver_image(preconditions))

    def elapse(self, span: timedelta) -> None:
        """Let ``span`` of device time pass: the clock moves on, and a battery meter (the
        GSME) wakes at the new instant as its own wake timer would wake it, its register
        engine catching up; a mains device catches up at its next command."""
        self.clock.advance(span)
        if self.device_type is DeviceType.GSME:
            self.machine.step(TimerEvent(gsme.WAKE), self.clock.now())

    def _unsupported(self, precondition: Precondition) -> PreconditionUnsupportedError:
        return PreconditionUnsupportedError(
            f"precondition not supported by the emulated {self.device_type.value}: {precondition}"
        )

    def _deliver_image(self, preconditions: Sequence[Precondition]) -> bytes:
        """Deliver a test image; its manufacturer image hash."""
        wanted = next(p for p in preconditions if p.condition is Condition.IMAGE_HELD)
        port = _IMAGE_PORTS.get(self.device_type)
        if port is None or self.manufacturer is None:
            raise self._unsupported(wanted)
        data = firmware_image.build_image(
            MANUFACTURER_ID, TEST_IMAGE_VERSION, b"smemu test image", self.manufacturer
        )
        self.machine.step(MessageEvent(port, data), self.clock.now())
        if self.machine.nvm.get(firmware_image.PENDING_IMAGE) != data:
            raise PreconditionUnsupportedError(
                f"the emulated {self.device_type.value} did not keep the delivered test image"
            )
        return firmware_image.FirmwareImage.decode(data).image_hash

    async def exchange(self, command: bytes, *, timeout: float) -> list[bytes]:
        """Deliver ``command`` on the port facing the head-end; collect what it sends back.

        A machine answers within the step (or not at all), so ``timeout`` is not waited.
        Input the machine refuses by raising (malformed, illegal in its state) yields no
        answer, as a real device would stay silent.
        """
        machine = self.machine
        port = machine.UPLINK
        data = command
        if port in machine.TUNNEL_PORTS:
            data = bytes((TunnelCommand.PUT,)) + command
        step = machine.step(MessageEvent(port, data), self.clock.now())
        out: list[bytes] = []
        for sent in step.sends:
            payload = sent.data
            if sent.port in machine.TUNNEL_PORTS:
                try:
                    han = decode_han(payload)
                except DecodeError:
                    continue
                if not han.message:
                    continue
                payload = han.message
            out.append(payload)
        await asyncio.sleep(0)
        return out

    async def close(self) -> None:
        return None


@dataclass(slots=True)
class EmulatedProvider:
    """Fresh emulated devices of every type, from one test PKI (seeded: reproducible).

    :param folder: where the PKI lives (a temporary folder by default, removed by
        :meth:`close`); an existing PKI folder (``pki.json``) is reused as it is.
    :param start: the instant every fresh device's clock starts at.
    :param history: how long before ``start`` a gas meter was installed: it boots then with
        the default gas flow and wakes at ``start``, so that its registers and logs (profile,
        daily, billing) hold that history, and the GPF holds its mirror (the refresh the
        GSME sent on that wake). Per-device history, not per-vector values.
    """

    folder: Path | None = None
    start: datetime = DEFAULT_START
    #: how long a meter of :data:`HISTORY_TYPES` has been installed at ``start`` (0: none)
    history: timedelta = DEFAULT_HISTORY
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)
    _pki: Pki | None = field(default=None, repr=False)
    _authority: DeviceAuthority | None = field(default=None, repr=False)

    def _load(self) -> Pki:
        if self._pki is not None:
            return self._pki
        folder = self.folder
        if folder is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="smemu-conformance-")
            folder = Path(self._tmp.name)
        if (folder / PKI_FILE).exists():
            pki = load_pki(folder)
        else:
            pki = init_pki(
                folder,
                {eui: kind for kind, eui in EMULATED_EUIS.items()},
                remote_parties=EMULATED_PARTIES,
                seed=PKI_SEED,
            )
            # the seeded PKI's CA can be derived again; an existing folder's cannot
            self._authority = DeviceAuthority.seeded(PKI_SEED)
        self._pki = pki
        return pki

    @property
    def keystore(self) -> KeyStore:
        return self._load().keystore

    @property
    def parties(self) -> Mapping[int, Eui64]:
        return {int(role): eui for role, eui in self._load().remote_parties.items()}

    @property
    def rig(self) -> str:
        return "emulated"

    @property
    def han_party(self) -> Eui64 | None:
        """The emulated PPMID of the PKI (its private keys are in :attr:`keystore`)."""
        return next((e for e, t in self._load().devices.items() if t is DeviceType.PPMID), None)

    def han_party_certificate(self) -> bytes | None:
        """The emulated PPMID's key agreement certificate from the PKI."""
        party = self.han_party
        return None if party is None else self._load().certificate(party, KeyKind.KA)

    async def device(
        self, device_type: DeviceType, *, reference: Eui64 | None = None,
        variant: str | None = None,
    ) -> EmulatedDevice:
        pki = self._load()
        eui = next((e for e, t in pki.devices.items() if t is device_type), None)
        machine_class = MACHINES.get(device_type)
        if eui is None or machine_class is None:
            raise DeviceUnavailableError(f"no emulated {device_type.value} in the PKI {pki.folder}")
        manufacturer = DeviceAuthority.manufacturer_key(PKI_SEED)
        nvm = pki.provisioning(eui)
        nvm.update(
            firmware_image.manufacturer_writes(public_point(manufacturer), MANUFACTURER_ID)
        )
        if variant is not None:
            if device_type is not DeviceType.ESME:
                raise DeviceUnavailableError(f"no {variant} variant of the {device_type.value}")
            nvm.update(esme_twin.configuration(variant))  # h32: the ESME variant, in NVM
        gsme_eui = next((e for e, t in pki.devices.items() if t is DeviceType.GSME), None)
        history = self.history if self.history > timedelta(0) else None
        if device_type is DeviceType.GPF and history is not None and gsme_eui is not None:
            nvm[gpf.GSME_EUI] = bytes(gsme_eui)
        machine = machine_class(eui, nvm)
        clock = VirtualClock(self.start, speed=0)
        device = EmulatedDevice(machine, clock, manufacturer=manufacturer)
        if device_type in HISTORY_TYPES and history is not None:
            _install(machine, self.start, history)
        else:
            device.start()
        if device_type is DeviceType.GPF and history is not None and gsme_eui is not None:
            meter = MACHINES[DeviceType.GSME](gsme_eui, pki.provisioning(gsme_eui))
            for data in _install(meter, self.start, history):
                machine.step(MessageEvent(machine.UPLINK, data), self.start)
        return device

    def issue_certificate(self, template: bytes, subject: Eui64, public_key: bytes | None) -> bytes:
        """See :meth:`DeviceProvider.issue_certificate` (the seeded test PKI's CA)."""
        self._load()
        if self._authority is None:
            raise PreconditionUnsupportedError(
                f"the CA of the PKI in {self.folder} is not known; cannot issue a certificate"
            )
        return self._authority.issue(template, subject, public_key)

    def close(self) -> None:
        """Remove the temporary PKI folder, if one was made."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
            self._pki = None


def _install(machine: CommandMachine, start: datetime, history: timedelta) -> list[bytes]:
    """Boot a meter ``history`` before ``start``; a gas meter also wakes at ``start`` (its
    engine catches up over the whole span). The mirror refresh frames sent at boot and at
    that wake (HAN tunnel payloads, as the comms hub hands them to the GPF)."""
    booted = machine.step(BootEvent(), start - history)
    if machine.device_type is not DeviceType.GSME:
        return []  # a mains meter's registers catch up at its next command
    woke = machine.step(TimerEvent(gsme.WAKE), start)
    out: list[bytes] = []
    for sent in (*booted.sends, *woke.sends):
        try:
            han = decode_han(sent.data)
        except DecodeError:
            continue
        if han.command is TunnelCommand.PUT and han.message:
            inner = frame.signing_message(frame.locate(han.message).message)
            if inner is not None and inner.header.other_information.message_code == (
                gas_mirror.MIRROR_CODE
            ):
                out.append(sent.data)
    return out
