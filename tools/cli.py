"""The ``smemu`` command group: entry point of the console script.

Layer: tools. Each subcommand lives in its own module and stays thin (style rule I36).
"""

from __future__ import annotations

import click

from smemu import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="smemu")
def main() -> None:
    """smemu: an emulator of GB smart metering devices (SMETS2 / GBCS).

    It decodes, verifies and builds real GBCS messages, and (as it grows) runs virtual
    electricity and gas meters, comms hubs, PPMIDs and HCALCs that answer them.
    """


# Subcommands live in their own modules; they import this group's siblings, not the group.
from smemu.tools.bench import bench_group  # noqa: E402
from smemu.tools.decode import decode_command  # noqa: E402
from smemu.tools.demo import demo_command  # noqa: E402

main.add_command(bench_group)
main.add_command(decode_command)
main.add_command(demo_command)
