"""smemu: an emulator of GB smart metering devices (SMETS2 / GBCS).

The root package holds only the version and the exception root; everything else lives in
the role subpackages (protocols, firmware, hal, devices, hil, tools), see architecture.md.
"""

from __future__ import annotations

from smemu.errors import (
    ConfigError,
    DecodeError,
    HalError,
    HalTimeout,
    LocalProtocolError,
    RemoteProtocolError,
    SecurityError,
    SmemuError,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DecodeError",
    "HalError",
    "HalTimeout",
    "LocalProtocolError",
    "RemoteProtocolError",
    "SecurityError",
    "SmemuError",
    "__version__",
]
