"""Writer for the kill -9 test: commits numbered steps and reports each one afterwards.

Every step n (continuing from the store's count) writes ``count`` = n, ``step/<n>`` =
payload(n), rewrites ``sum`` and sometimes deletes an older step, in one transaction; then it
reports n, only after ``transaction()`` returned (the commit is durable). The test runs it in
processes forked by a fresh single-threaded fork server (or as ``python _killed_writer.py
STORE``, reporting on stdout).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from multiprocessing.connection import Connection

from smemu.hal.storage import Storage


def payload(n: int) -> bytes:
    return n.to_bytes(8, "big") * (1 + n % 50)


def write_forever(path: str, report: Callable[[int], None]) -> None:
    store = Storage.open(path, synchronous="normal")
    raw = store.get("count")
    n = 0 if raw is None else int.from_bytes(raw, "big")
    while True:
        n += 1
        with store.transaction() as tx:
            total = int.from_bytes(tx.get("sum") or b"\0", "big")
            tx.put("step/" + str(n).zfill(9), payload(n))
            tx.put("sum", (total + n).to_bytes(16, "big"))
            tx.put("count", n.to_bytes(8, "big"))
            if n % 7 == 0:
                tx.delete("step/" + str(n - 3).zfill(9))
        report(n)


def write_to_pipe(path: str, conn: Connection) -> None:
    """Child-process entry: write forever, reporting each commit on ``conn``."""
    write_forever(path, lambda n: conn.send_bytes(b"%d" % n))


def _print(n: int) -> None:
    sys.stdout.write(f"{n}\n")
    sys.stdout.flush()


if __name__ == "__main__":
    write_forever(sys.argv[1], _print)
