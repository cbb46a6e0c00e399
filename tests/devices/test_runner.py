"""``smemu up`` as a process: ports announced, premises.json written, clean stop on signals."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)


def _wait_running(state: Path, proc: subprocess.Popen[bytes]) -> dict[str, object]:
    path = state / "premises.json"
    for _ in range(300):
        if proc.poll() is not None:
            raise AssertionError(f"smemu up exited early: {proc.communicate()}")
        if path.exists():
            data = json.loads(path.read_text())
            if data.get("running"):
                return data  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError("premises.json never said running")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_up_runs_until_a_signal_and_resumes(tmp_path: Path, sig: signal.Signals) -> None:
    argv = [
        str(Path(sys.executable).parent / "smemu"),
        "up",
        "--state",
        str(tmp_path),
        "--wan",
        "tcp://127.0.0.1:0",
        "--speed",
        "100",
    ]
    times = []
    for _ in range(2):
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        data = _wait_running(tmp_path, proc)
        devices = data["devices"]
        assert isinstance(devices, list) and len(devices) == 6
        assert data["wan"]["location"].startswith("127.0.0.1:")  # type: ignore[index]
        time.sleep(1.0)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err.decode()
        assert b"stopped" in out
        final = json.loads((tmp_path / "premises.json").read_text())
        assert final["running"] is False
        times.append(final["sim_time"])
    assert times[1] > times[0]  # the second run resumed where the first stopped
