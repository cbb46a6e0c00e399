"""``smemu decode`` as a user runs it: the JSON contract, exit codes, input forms, errors."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from smemu.hil.demo import demo_keystore, demo_messages, write_keystore
from smemu.tools.cli import main

CONTRACT = {
    "message_code",
    "use_case",
    "cra",
    "counter",
    "originator",
    "recipient",
    "signature",
    "mac",
    "reencode",
    "errors",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[bytes]]:
    folder = tmp_path_factory.mktemp("demo")
    store = demo_keystore()
    write_keystore(store, folder / "keys")
    return folder / "keys", [m.data for m in demo_messages(store)]


def _run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.output


def test_json_contract(demo: tuple[Path, list[bytes]], tmp_path: Path) -> None:
    keys, messages = demo
    file = tmp_path / "two.hex"
    file.write_text(messages[2].hex(":") + "\n" + messages[3].hex(" "))  # back to back
    code, out = _run("decode", "--format", "json", "--keystore", str(keys), str(file))
    assert code == 0, out
    items = json.loads(out)
    assert isinstance(items, list) and len(items) == 2
    assert set(items[0]) >= CONTRACT
    first = items[0]
    assert first["message_code"] == "0x004F" and first["use_case"] == "ECS42"
    assert first["cra"] == "command" and items[1]["cra"] == "response"
    assert first["originator"] == "90-B3-D5-1F-30-01-00-00"
    assert (first["signature"], first["mac"]) == ("valid", "valid")
    assert (items[1]["signature"], items[1]["mac"]) == ("valid", "absent")
    assert first["reencode"] == "identical" and first["errors"] == []
    assert isinstance(first["counter"], int)


def test_json_has_the_use_case_and_the_typed_payload(
    demo: tuple[Path, list[bytes]], tmp_path: Path
) -> None:
    keys, messages = demo
    file = tmp_path / "ecs42.hex"
    file.write_text(messages[2].hex())
    code, out = _run("decode", "--format", "json", "--keystore", str(keys), str(file))
    assert code == 0, out
    (item,) = json.loads(out)
    info = item["use_case_info"]
    assert info["id"] == "ECS42" and info["criticality"] == "critical"
    assert info["security"]["signed"] and info["devices"] == ["ESME"]
    assert item["undecoded_bytes"] == 0
    payload = item["payload"]
    assert payload["family"] == "dlms" and payload["apdu"] == "access-request"
    (action,) = payload["items"]
    assert (action["access"], action["class_id"]) == ("action", 9)
    assert action["obis"] == "0-0:10.0.106.255"


def test_tree_shows_the_typed_payload(demo: tuple[Path, list[bytes]]) -> None:
    keys, messages = demo
    code, out = _run("decode", "--keystore", str(keys), "-", stdin=messages[2].hex())
    assert code == 0, out
    assert "typed payload  (undecoded bytes: 0)" in out
    assert "obis: 0-0:10.0.106.255" in out
    assert "use case     command, critical; devices ESME" in out


def test_without_keystore_security_reports_no_key(demo: tuple[Path, list[bytes]]) -> None:
    _, messages = demo
    code, out = _run("decode", "--format", "json", "-", stdin=messages[2].hex())
    assert code == 0
    (item,) = json.loads(out)
    assert (item["signature"], item["mac"]) == ("no key", "no key")


def test_base64_from_stdin_and_tree_output(demo: tuple[Path, list[bytes]]) -> None:
    keys, messages = demo
    text = base64.b64encode(messages[0]).decode()
    code, out = _run("decode", "--keystore", str(keys), "-", stdin=text)
    assert code == 0, out
    assert "ECS52" in out and "MAC          valid" in out
    assert "1 messages, 1 decoded, 0 with errors" in out


def test_malformed_input_exits_1_naming_field_and_offset(tmp_path: Path) -> None:
    bad = tmp_path / "bad.hex"
    bad.write_text("DF 09 07 00")
    code, out = _run("decode", "--format", "json", str(bad))
    assert code == 1
    (item,) = json.loads(out)
    assert "grouping_header.cra at byte 2" in item["errors"][0]
    assert "got 0x07" in item["errors"][0]


def test_text_that_is_neither_hex_nor_base64(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("hello, meter!")
    code, out = _run("decode", str(bad))
    assert code == 1
    assert "expected hex digits or base64" in out


def test_missing_keystore_is_a_usage_error(tmp_path: Path) -> None:
    code, out = _run("decode", "--keystore", str(tmp_path / "nope"), "-", stdin="DF")
    assert code == 2
    assert "key store folder not found" in out


def test_help_teaches_the_formats() -> None:
    code, out = _run("decode", "--help")
    assert code == 0
    assert "base64" in out and "--keystore" in out and "Exit status" in out
