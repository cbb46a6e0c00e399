"""`smemu demo` (what `make demo` runs): the story runs, verifies, and leaves a usable capture."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from smemu.hil.capture import decode_pcap
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.inspect import inspect_bytes
from smemu.protocols.security.keystore import DirectoryKeyStore
from smemu.tools.cli import main


def test_demo_tells_its_story_and_every_answer_verifies(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Summary" in result.output
    assert "replayed counter" in result.output  # the replay is refused, not answered
    assert "[NOT VERIFIED]" not in result.output

    pcaps = list(out.rglob("*.pcap"))
    assert len(pcaps) == 1, pcaps
    packets = decode_pcap(pcaps[0].read_bytes())
    assert len(packets) >= 10
    keys = next(p.parent for p in out.rglob("*-ds.*"))
    store = DirectoryKeyStore.load(keys)
    for packet in packets:
        assert packet.dissector == "gbcs_message"
        frame.decode_exact(packet.data)
        (inspection,) = inspect_bytes(packet.data, store, typed=True)
        assert inspection.ok, inspection.errors
        assert inspection.reencode == "identical"
        assert "invalid" not in (inspection.signature, inspection.mac)
