"""Run Wireshark's GBCS dissector (tshark) over GBCS messages and read back what it found.

Messages go into a pcap through :mod:`smemu.hil.capture` (link type 252, dissector
``gbcs_message``), tshark runs once with ``-T json``, and each packet comes back as a flat
map from field name to every value of that field in tree order (tshark's JSON repeats keys
within an object, so it is read with an ``object_pairs_hook``, never as a plain dict).

Field names of the dissector (Wireshark 4.0, ``tshark -G fields``), used here:
``gbcs_message.grouping_header.{cra_flag,originator_counter,business_originator_id,
business_target_id,message_code,supplementary_remote_party_id,
supplementary_remote_party_counter}``, ``gbcs_message.routing_header.*`` (the same names, for
GBT blocks), ``gbcs_message.gbt_header.{block_number,block_number_ack,block_control.last_block}``,
``gbcs_message.krp`` (the signature), ``gbcs_message.mac``, ``gbcs_message.gbt.reassembled.length``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smemu.hil.capture import write_pcap

#: Wireshark expert severities (epan/proto.h PI_WARN and PI_ERROR)
PI_WARN = 0x00600000
PI_ERROR = 0x00800000


def tshark_executable() -> str | None:
    """Path of tshark on PATH, or None."""
    return shutil.which("tshark")


@dataclass(frozen=True)
class TsharkPacket:
    """One dissected packet: every field tshark reported, in tree order."""

    fields: dict[str, list[str]]

    def values(self, name: str) -> list[str]:
        return self.fields.get(name, [])

    def one(self, name: str) -> str:
        """The single value of ``name``; raises AssertionError when absent or repeated."""
        found = self.values(name)
        assert len(found) == 1, f"expected one {name}, tshark gave {found}"
        return found[0]

    @property
    def malformed(self) -> bool:
        return "_ws.malformed" in self.fields

    def expert_problems(self, threshold: int = PI_WARN) -> list[str]:
        """Expert-info messages at ``threshold`` severity or above (malformed included)."""
        messages = self.values("_ws.expert.message")
        severities = self.values("_ws.expert.severity")
        return [m for m, s in zip(messages, severities, strict=False) if int(s, 0) >= threshold]


def _collect(node: Any, out: dict[str, list[str]]) -> None:
    if isinstance(node, list):  # object as its (key, value) pairs, or a JSON array
        for item in node:
            if isinstance(item, tuple):
                key, value = item
                if isinstance(value, str):
                    out.setdefault(key, []).append(value)
                else:
                    out.setdefault(key, [])
                    _collect(value, out)
            else:
                _collect(item, out)


def parse_tshark_json(text: str) -> list[TsharkPacket]:
    """Turn ``tshark -T json`` output into one :class:`TsharkPacket` per frame."""
    document = json.loads(text, object_pairs_hook=list)
    packets = []
    for frame in document:
        fields: dict[str, list[str]] = {}
        _collect(frame, fields)
        packets.append(TsharkPacket(fields))
    return packets


def dissect(
    messages: Sequence[bytes], workdir: Path, *, name: str = "capture"
) -> list[TsharkPacket]:
    """Write ``messages`` to ``workdir/<name>.pcap`` and return tshark's view of each."""
    executable = tshark_executable()
    if executable is None:
        raise RuntimeError("tshark is not on PATH")
    pcap = workdir / f"{name}.pcap"
    write_pcap(pcap, messages)
    result = subprocess.run(
        [executable, "-r", str(pcap), "-T", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"tshark failed ({result.returncode}): {result.stderr.strip()}")
    packets = parse_tshark_json(result.stdout)
    if len(packets) != len(messages):
        raise RuntimeError(f"wrote {len(messages)} packets, tshark read {len(packets)}")
    return packets


def eui(value: str) -> bytes:
    """tshark's ``00:db:12:...`` EUI-64 (or byte string) as bytes."""
    return bytes.fromhex(value.replace(":", ""))
