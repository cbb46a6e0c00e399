"""``smemu capture`` as a user runs it: inputs like ``smemu decode``, the file, exit codes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from smemu.hil.capture import decode_pcap, encode_pcap
from smemu.hil.demo import demo_keystore, demo_messages
from smemu.tools.cli import main


def _run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.output


def test_files_and_stdin_in_every_text_form(tmp_path: Path) -> None:
    messages = [m.data for m in demo_messages(demo_keystore())]
    hex_file = tmp_path / "two.hex"
    hex_file.write_text(messages[0].hex(":") + "\n" + messages[1].hex(" "))  # back to back
    b64_file = tmp_path / "one.b64"
    b64_file.write_text(base64.b64encode(messages[2]).decode())
    out = tmp_path / "out.pcap"
    code, text = _run(
        "capture", "--out", str(out), str(hex_file), str(b64_file), "-", stdin=messages[3].hex()
    )
    assert code == 0, text
    assert "wrote 4 messages" in text
    assert out.read_bytes() == encode_pcap(messages)


def test_start_sets_the_first_timestamp(tmp_path: Path) -> None:
    message = demo_messages(demo_keystore())[0].data
    out = tmp_path / "t.pcap"
    code, text = _run(
        "capture", "--out", str(out), "--start", "2024-05-01T12:00:00", "-", stdin=message.hex()
    )
    assert code == 0, text
    assert "wrote 1 message " in text
    [packet] = decode_pcap(out.read_bytes())
    assert packet.timestamp == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert packet.data == message


def test_bad_input_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "bad.pcap"
    code, text = _run("capture", "--out", str(out), "-", stdin="DF 09 01 02")
    assert code == 1
    assert "<stdin>" in text and "originator_counter" in text
    assert not out.exists()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    code, text = _run("capture", "--out", str(tmp_path / "x.pcap"), str(tmp_path / "missing"))
    assert code == 2 and "cannot read" in text
    code, text = _run(
        "capture", "--out", str(tmp_path / "x.pcap"), "--start", "soon", "-", stdin="DF"
    )
    assert code == 2 and "ISO 8601" in text
    code, _ = _run("capture", "-")
    assert code == 2  # --out is required


def test_help_teaches_with_an_example() -> None:
    code, text = _run("capture", "--help")
    assert code == 0
    assert "smemu capture --out" in text and "tshark" in text
