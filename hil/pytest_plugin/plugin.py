"""Entry module of the smemu pytest plugin (``pytest11`` entry point ``smemu``).

Layer: hil. pytest registers the hooks and fixtures named in this module; they live in
:mod:`.hooks` (options, configuration, markers) and :mod:`.fixtures`.
"""

from __future__ import annotations

from smemu.hil.pytest_plugin.fixtures import (
    HeadEndSession,
    smemu_capture,
    smemu_clock,
    smemu_config,
    smemu_device,
    smemu_head_end,
    smemu_loop,
    smemu_premises,
    smemu_provider,
)
from smemu.hil.pytest_plugin.hooks import (
    SMEMU_CONFIG,
    SmemuConfig,
    pytest_addoption,
    pytest_configure,
    pytest_report_header,
    pytest_runtest_setup,
)

__all__ = [
    "SMEMU_CONFIG",
    "HeadEndSession",
    "SmemuConfig",
    "pytest_addoption",
    "pytest_configure",
    "pytest_report_header",
    "pytest_runtest_setup",
    "smemu_capture",
    "smemu_clock",
    "smemu_config",
    "smemu_device",
    "smemu_head_end",
    "smemu_loop",
    "smemu_premises",
    "smemu_provider",
]
