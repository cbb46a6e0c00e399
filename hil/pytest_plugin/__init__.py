"""The smemu pytest plugin: emulated devices or a real rig, chosen by configuration.

Layer: hil. Registered through the ``pytest11`` entry point as ``smemu`` (module
:mod:`smemu.hil.pytest_plugin.plugin`); options in :mod:`.hooks`, fixtures in
:mod:`.fixtures`.
"""
