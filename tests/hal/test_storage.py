"""Storage: schema version and migrations, transactions, and survival of SIGKILL."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from smemu.errors import HalError
from smemu.hal.storage import MIGRATIONS, SCHEMA_VERSION, Storage
from tests.hal._killed_writer import payload, write_to_pipe

pytestmark = pytest.mark.timeout(120)


def test_a_new_store_has_the_current_schema(tmp_path: Path) -> None:
    with Storage.open(tmp_path / "s.db") as store:
        assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
        assert store.meta()["created_by"] == "smemu"
        mode = sqlite3.connect(tmp_path / "s.db").execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"


def test_an_old_store_is_migrated_forward_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Storage.open(path, migrations=MIGRATIONS[:1]) as old:
        assert old.schema_version == 1
        with old.transaction() as tx:
            tx.put("k", b"v")
    calls: list[int] = []

    def third(db: sqlite3.Connection) -> None:
        calls.append(1)
        db.execute("CREATE TABLE extra (x)")

    with Storage.open(path, migrations=(*MIGRATIONS, third)) as new:
        assert new.schema_version == SCHEMA_VERSION + 1
        assert new.get("k") == b"v"
    with Storage.open(path, migrations=(*MIGRATIONS, third)) as again:
        assert again.schema_version == SCHEMA_VERSION + 1
    assert calls == [1]  # each migration runs once


def test_a_failed_migration_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    Storage.open(path).close()

    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half (x)")
        raise RuntimeError("migration bug")

    with pytest.raises(RuntimeError):
        Storage.open(path, migrations=(*MIGRATIONS, broken))
    with Storage.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
    tables = sqlite3.connect(path).execute("SELECT name FROM sqlite_master").fetchall()
    assert ("half",) not in tables


def test_a_store_from_a_newer_smemu_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    Storage.open(path, migrations=(*MIGRATIONS, lambda db: None)).close()
    with pytest.raises(HalError, match="newer"):
        Storage.open(path)


def test_a_file_that_is_not_a_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(HalError):
        Storage.open(path)


def test_a_transaction_commits_all_or_nothing(tmp_path: Path) -> None:
    with Storage.open(tmp_path / "s.db") as store:
        with store.transaction() as tx:
            tx.put("a/1", b"one")
            tx.put("a/2", b"two")
            tx.put("b", b"bee")
            assert tx.get("a/1") == b"one"
        with pytest.raises(ValueError), store.transaction() as tx:
            tx.put("a/1", b"changed")
            tx.delete("b")
            raise ValueError("step failed")
        assert store.get("a/1") == b"one"
        assert store.get("b") == b"bee"
        assert list(store.items("a/")) == [("a/1", b"one"), ("a/2", b"two")]
        assert [k for k, _ in store.items()] == ["a/1", "a/2", "b"]
        with store.transaction() as tx:
            tx.delete("a/1")
            tx.delete("absent")
            assert list(tx.items("a")) == [("a/2", b"two")]
        assert store.get("a/1") is None


def test_prefixes_select_exactly_their_keys(tmp_path: Path) -> None:
    keys = ["a", "a/", "a/b", "a0", "a\U0010ffff", "a\U0010ffffz", "b", "\U0010ffff"]
    with Storage.open(tmp_path / "s.db") as store:
        with store.transaction() as tx:
            for key in keys:
                tx.put(key, key.encode())
        for prefix in ["", "a", "a/", "a\U0010ffff", "\U0010ffff", "c"]:
            expected = sorted(k for k in keys if k.startswith(prefix))
            assert [k for k, _ in store.items(prefix)] == expected, prefix
        assert [k for k, _ in store.items("a", after="a/b")] == ["a0", "a\U0010ffff",
                                                                "a\U0010ffffz"]
        assert [k for k, _ in store.items(after="b")] == ["\U0010ffff"]


def test_transactions_do_not_nest_and_end_with_their_block(tmp_path: Path) -> None:
    with Storage.open(tmp_path / "s.db") as store:
        with store.transaction() as tx:
            with pytest.raises(HalError, match="nest"), store.transaction():
                pass
            tx.put("k", b"v")
        with pytest.raises(HalError):
            tx.put("k", b"late")
        with pytest.raises(TypeError), store.transaction() as tx2:
            tx2.put("k", "text")  # type: ignore[arg-type]
        assert store.get("k") == b"v"
    with pytest.raises(HalError, match="closed"):
        store.get("k")


def test_committed_data_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Storage.open(path) as store, store.transaction() as tx:
        tx.put("k", bytes(range(256)))
    with Storage.open(path) as store:
        assert store.get("k") == bytes(range(256))


def _check_store(path: Path, reported: set[int], *, since: int = 0) -> int:
    """Open the killed store, check its invariants, return its step count.

    Every step is checked; ``since`` limits the per-key comparison to the steps after it
    (the earlier ones were compared after an earlier kill).
    """
    with Storage.open(path) as store:
        count_raw = store.get("count")
        count = 0 if count_raw is None else int.from_bytes(count_raw, "big")
        steps = dict(store.items("step/", after="step/" + str(since).zfill(9)))
        total_raw = store.get("sum")
        total = 0 if total_raw is None else int.from_bytes(total_raw, "big")
    assert total == count * (count + 1) // 2, "sum does not match count: a torn step"
    expected = {
        n for n in range(since + 1, count + 1) if not (n + 3 <= count and (n + 3) % 7 == 0)
    }
    assert {int(k[5:]) for k in steps} == expected
    for key, value in steps.items():
        assert value == payload(int(key[5:]))
    lost = {n for n in reported if n > count}
    assert not lost, f"committed steps lost: {sorted(lost)[:5]}"
    return count


def _reports(conn: Connection) -> list[int]:
    """Every commit number the (dead) writer reported."""
    numbers = []
    with contextlib.suppress(EOFError, OSError):
        while True:
            numbers.append(int(conn.recv_bytes()))
    return numbers


def test_sigkill_at_random_instants_loses_nothing_committed(tmp_path: Path) -> None:
    """A writer process is SIGKILLed 200 times mid-write; every reported commit must be there.

    Writers are forked by multiprocessing's fork server: a fresh single-threaded process, so
    that forking is safe (the pytest process has threads) and a kill costs no interpreter start.
    """
    path = tmp_path / "killed.db"
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tests.hal._killed_writer"])
    rng = random.Random(2024)
    reported: set[int] = set()
    count = 0
    for kill in range(200):
        receiver, sender = context.Pipe(duplex=False)
        writer = context.Process(target=write_to_pipe, args=(str(path), sender), daemon=True)
        writer.start()
        sender.close()
        try:
            # Wait for the first commit so that the kill lands while writing, then a bit more.
            assert receiver.poll(30), "the writer did not commit within 30 s"
            time.sleep(rng.uniform(0.0, 0.02))
            writer.kill()  # SIGKILL
            writer.join(30)
            assert writer.exitcode == -signal.SIGKILL
            lines = _reports(receiver)
        finally:
            receiver.close()
        assert lines, "the writer reported nothing"
        reported.update(lines)
        # every key of every step is compared after every 20th kill; in between, the steps
        # since the previous kill (a kill can only tear what was being written)
        since = 0 if kill % 20 == 19 else max(0, count - 10)
        count = _check_store(path, reported, since=since)
        assert count >= max(reported)
    assert count > 200


def test_the_writer_also_runs_as_a_separate_program(tmp_path: Path) -> None:
    """The same writer, exec'd as its own interpreter, killed once (no shared state at all)."""
    path = tmp_path / "exec.db"
    writer = Path(__file__).with_name("_killed_writer.py")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path.cwd()), *sys.path])}
    proc = subprocess.Popen([sys.executable, str(writer), str(path)], stdout=subprocess.PIPE,
                            env=env)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first
    time.sleep(0.05)
    proc.kill()
    reported = {int(n) for n in (first + proc.stdout.read()).split()}
    proc.wait()
    assert _check_store(path, reported) >= max(reported)
