"""``smemu send``: options, errors that say what was expected, and a real exchange over TCP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from smemu.hil.demo import demo_keystore, write_keystore
from smemu.tools.cli import main
from tests.hil import _responder

ESME = "00-DB-12-34-56-78-90-A0"


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    folder = tmp_path / "keys"
    write_keystore(demo_keystore(), folder)
    return folder


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["send", *args])
    return result.exit_code, result.stdout, result.stderr


def test_help_has_examples() -> None:
    code, out, _ = _run("--help")
    assert code == 0 and "Examples:" in out and "--use-case" in out and "--as" in out


def test_usage_errors_name_the_option(keys: Path) -> None:
    code, _, err = _run("--to", "zz", "--use-case", "ECS52", "--keystore", str(keys))
    assert code == 2 and "--to" in err and "16 hex digits" in err
    code, _, err = _run("--to", ESME, "--use-case", "ECS46d", "--wan", "tcp://127.0.0.1:1")
    assert code == 2 and "ECS46d" in err and "no command builder" in err
    code, _, err = _run("--to", ESME, "--use-case", "NOPE", "--wan", "tcp://127.0.0.1:1")
    assert code == 2 and "unknown use case" in err
    code, _, err = _run("--to", ESME, "--use-case", "ECS52", "--keystore", str(keys))
    assert code == 2 and "--wan" in err
    code, _, err = _run("--to", ESME, "--use-case", "ECS52", "--wan", "tcp://127.0.0.1:1")
    assert code == 2 and "--keystore" in err
    code, _, err = _run(
        "--to", ESME, "--use-case", "ECS70", "--wan", "tcp://127.0.0.1:1", "--keystore", str(keys)
    )
    assert code == 2 and "start" in err
    code, _, err = _run("--to", ESME, "--use-case", "ECS52", "--param", "oops")
    assert code == 2 and "NAME=VALUE" in err


def test_state_without_premises_says_where_it_looked(tmp_path: Path) -> None:
    code, _, err = _run("--to", ESME, "--use-case", "ECS52", "--state", str(tmp_path))
    assert code == 2 and "premises.json" in err


def test_sends_and_prints_the_verified_response_as_json(keys: Path) -> None:
    with _responder.in_thread(demo_keystore()) as url:
        code, out, err = _run(
            "--to", ESME, "--use-case", "ECS52", "--wan", url, "--keystore", str(keys),
            "--format", "json", "--timeout", "5",
        )  # fmt: skip
    assert code == 0, err
    (message,) = json.loads(out)
    assert message["message_code"] == "0x0059" and message["cra"] == "response"
    assert message["mac"] == "valid" and message["recipient"] == "90-B3-D5-1F-30-01-00-00"


def test_state_folder_gives_wan_keys_and_counters(keys: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    with _responder.in_thread(demo_keystore()) as url:
        premises = {"wan": url, "keystore": str(keys), "devices": [{"eui": ESME, "type": "ESME"}]}
        (state / "premises.json").write_text(json.dumps(premises))
        code, out, err = _run("--to", ESME, "--use-case", "ECS42", "--state", str(state))
        assert code == 0, err
        assert "signature" in out and "response verified" in out
        stranger = "00DB1234567890A9"
        code, _, err = _run("--to", stranger, "--use-case", "ECS42", "--state", str(state))
        assert code == 2 and "not a device of this premises" in err
    counters = json.loads((state / "headend-counters.json").read_text())
    assert list(counters) == ["90B3D51F30010000/00DB1234567890A0"]


def test_no_answer_exits_1(keys: Path) -> None:
    with _responder.in_thread(demo_keystore(), answer=False) as url:
        code, _, err = _run(
            "--to", ESME, "--use-case", "ECS52", "--wan", url, "--keystore", str(keys),
            "--timeout", "0.3",
        )  # fmt: skip
    assert code == 1 and "no response to ECS52" in err
