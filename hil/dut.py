"""Devices under test for the conformance runner and the pytest plugin: emulated or real.

Layer: hil. A :class:`DeviceUnderTest` is anything that takes one secured GBCS command and
gives back what the device sent in answer (its response plus any alerts). Two kinds exist:

* :class:`EmulatedDevice` -- a fresh firmware machine (``smemu.firmware``) of the wanted
  type, provisioned from a test PKI and stepped directly at the instants of a
  :class:`~smemu.hal.clock.VirtualClock`; deterministic and fast (no sockets).
* :class:`PortDevice` -- a real device (or a premises started by ``smemu up``) behind a hal
  URL: the command is written to the port and whole messages are read back until a response
  arrives or the timeout expires.

A :class:`DeviceProvider` hands out devices by type and holds the keys a head-end needs to
talk to them (remote parties' private keys, devices' public keys); the emulated one can also
issue device certificates from its test PKI's CA (a replayed CS02d must carry a certificate
naming the device under test and its own new key).

The protocols and errors live in :mod:`smemu.hil.dut_api`, the emulated devices in
:mod:`smemu.hil.dut_emulated`, the real ones in :mod:`smemu.hil.dut_rig`; this module
gathers them (import from here).
"""

from smemu.hil.dut_api import (
    DeviceProvider,
    DeviceUnavailableError,
    DeviceUnderTest,
    PreconditionUnsupportedError,
)
from smemu.hil.dut_emulated import (
    DEFAULT_HISTORY,
    DEFAULT_START,
    EMULATED_EUIS,
    EMULATED_PARTIES,
    HISTORY_TYPES,
    MANUFACTURER_ID,
    PKI_SEED,
    TEST_IMAGE_VERSION,
    EmulatedDevice,
    EmulatedProvider,
)
from smemu.hil.dut_rig import PortDevice, RigProvider

__all__ = [
    "DEFAULT_HISTORY",
    "DEFAULT_START",
    "EMULATED_EUIS",
    "EMULATED_PARTIES",
    "HISTORY_TYPES",
    "MANUFACTURER_ID",
    "PKI_SEED",
    "TEST_IMAGE_VERSION",
    "DeviceProvider",
    "DeviceUnavailableError",
    "DeviceUnderTest",
    "EmulatedDevice",
    "EmulatedProvider",
    "PortDevice",
    "PreconditionUnsupportedError",
    "RigProvider",
]
