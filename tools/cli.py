"""The ``smemu`` command group: entry point of the console script.

Layer: tools. Each subcommand lives in its own module and stays thin (style rule I36). The
group loads a subcommand's module only when that subcommand runs (or help lists it), so
``smemu decode`` never pays for importing the device stack. The table below is the one place
a subcommand is registered.
"""

from __future__ import annotations

import importlib

import click

from smemu import __version__

#: subcommand name -> "module:attribute" of its click command. Keep it sorted.
COMMANDS: dict[str, str] = {
    "bench": "smemu.tools.bench:bench_group",
    "capture": "smemu.tools.capture:capture_command",
    "conformance": "smemu.tools.conformance:conformance_group",
    "decode": "smemu.tools.decode:decode_command",
    "demo": "smemu.tools.demo:demo_command",
    "keys": "smemu.tools.keys:keys_group",
    "send": "smemu.tools.send:send_command",
    "up": "smemu.tools.up:up_command",
}


class _LazyGroup(click.Group):
    """A click group whose subcommands are imported from :data:`COMMANDS` on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(super().list_commands(ctx)))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="smemu")
def main() -> None:
    """smemu: an emulator of GB smart metering devices (SMETS2 / GBCS).

    It decodes, verifies and builds real GBCS messages, and (as it grows) runs virtual
    electricity and gas meters, comms hubs, PPMIDs and HCALCs that answer them.
    """
