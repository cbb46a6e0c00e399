"""A device's non-volatile memory: a key -> bytes store in SQLite (WAL), atomic per step.

Layer: hal. Firmware state is serialised by the layers above into byte values under string
keys; one :meth:`Storage.transaction` per firmware step makes the step all-or-nothing, and a
process killed with SIGKILL at any instant reopens with every committed step and no partial one
(SQLite's write-ahead log does the recovery). The file carries a schema version (SQLite
``user_version``) and is migrated forward on open, one numbered step at a time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final, Literal

from smemu.errors import HalError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Migration", "Storage", "Transaction"]

#: One migration: brings the schema from version ``n`` to ``n + 1`` inside a transaction.
Migration = Callable[[sqlite3.Connection], None]


def _create_kv(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE kv (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL) WITHOUT ROWID")


def _create_meta(db: sqlite3.Connection) -> None:
    # Facts about the store itself (who created it, when it was last migrated), kept apart
    # from device state so that a firmware key can never collide with them.
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)")
    db.execute(
        "INSERT INTO meta (key, value) VALUES ('created_by', 'smemu'), "
        "('migrated_at', datetime('now'))"
    )


#: The schema history: ``MIGRATIONS[n]`` takes a store from version n to n + 1.
MIGRATIONS: Final[Sequence[Migration]] = (_create_kv, _create_meta)
#: The version a store has after :meth:`Storage.open`.
SCHEMA_VERSION: Final = len(MIGRATIONS)


def _prefix_end(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix``."""
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            return prefix[:-1] + chr(last + 1)
        prefix = prefix[:-1]
    return None


def _range_query(prefix: str, after: str | None) -> tuple[str, tuple[str, ...]]:
    conditions: list[str] = []
    args: list[str] = []
    if prefix:
        conditions.append("key >= ?")
        args.append(prefix)
        end = _prefix_end(prefix)
        if end is not None:
            conditions.append("key < ?")
            args.append(end)
    if after is not None:
        conditions.append("key > ?")
        args.append(after)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT key, value FROM kv{where} ORDER BY key", tuple(args)


class Transaction:
    """Reads and writes inside one :meth:`Storage.transaction` (valid only inside its block)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db: sqlite3.Connection | None = db

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise HalError("transaction used after its block ended")
        return self._db

    def get(self, key: str) -> bytes | None:
        """The value under ``key`` as this transaction sees it, or None."""
        row = self._conn().execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def put(self, key: str, value: bytes) -> None:
        """Set ``key`` to ``value``."""
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"storage values are bytes, got {type(value).__name__}")
        self._conn().execute(
            "INSERT INTO kv (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, bytes(value)),
        )

    def delete(self, key: str) -> None:
        """Remove ``key`` (no error if absent)."""
        self._conn().execute("DELETE FROM kv WHERE key = ?", (key,))

    def items(self, prefix: str = "", *, after: str | None = None) -> Iterator[tuple[str, bytes]]:
        """Every (key, value) whose key starts with ``prefix`` (and sorts after ``after``),
        in key order, as this transaction sees them."""
        sql, args = _range_query(prefix, after)
        for key, value in self._conn().execute(sql, args).fetchall():
            yield key, bytes(value)


class Storage:
    """The non-volatile memory of one device: ``Storage.open(path)``.

    ``synchronous="full"`` (the default) also survives power loss of the host; ``"normal"`` is
    faster and still survives the process being killed (SQLite WAL semantics). One
    connection, used from one thread (the device's event loop).
    """

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db: sqlite3.Connection | None = db
        self.path = path
        self._in_transaction = False

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        synchronous: Literal["full", "normal"] = "full",
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> Storage:
        """Open (creating if needed) the store at ``path`` and migrate it to the newest schema.

        :raises HalError: if the file is not a store, is from a newer smemu, or cannot be opened.
        """
        path = Path(path)
        try:
            db = sqlite3.connect(path, isolation_level=None, timeout=10.0)
        except sqlite3.Error as exc:
            raise HalError(f"cannot open store {path}: {exc}") from exc
        try:
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise HalError(f"store {path}: WAL journal not available (got {mode})")
            db.execute(f"PRAGMA synchronous={synchronous.upper()}")
            cls._migrate(db, path, migrations)
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise HalError(f"store {path} is corrupt: {check}")
        except sqlite3.DatabaseError as exc:
            db.close()
            raise HalError(f"store {path}: {exc}") from exc
        except HalError:
            db.close()
            raise
        return cls(db, path)

    @staticmethod
    def _migrate(db: sqlite3.Connection, path: Path, migrations: Sequence[Migration]) -> None:
        db.execute("BEGIN IMMEDIATE")
        try:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if version > len(migrations):
                raise HalError(
                    f"store {path} has schema version {version}, newer than this smemu "
                    f"understands ({len(migrations)})"
                )
            for step in range(version, len(migrations)):
                migrations[step](db)
                db.execute(f"PRAGMA user_version = {step + 1}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise HalError(f"store {self.path} is closed")
        return self._db

    @property
    def schema_version(self) -> int:
        """The schema version of the open file."""
        return int(self._conn().execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """``with store.transaction() as tx:`` — commits at the end, rolls back on an exception.

        Transactions do not nest: a firmware step is one transaction.
        """
        db = self._conn()
        if self._in_transaction:
            raise HalError("transactions do not nest")
        self._in_transaction = True
        tx = Transaction(db)
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield tx
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise HalError(f"store {self.path}: {exc}") from exc
        finally:
            tx._db = None
            self._in_transaction = False

    def get(self, key: str) -> bytes | None:
        """The committed value under ``key``, or None."""
        row = self._conn().execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def items(self, prefix: str = "", *, after: str | None = None) -> Iterator[tuple[str, bytes]]:
        """Every committed (key, value) whose key starts with ``prefix``, in key order.

        ``after`` skips keys up to and including it (resume a scan of log-like keys).
        """
        sql, args = _range_query(prefix, after)
        for key, value in self._conn().execute(sql, args).fetchall():
            yield key, bytes(value)

    def meta(self) -> dict[str, str]:
        """Facts about the store (creator, last migration time)."""
        return dict(self._conn().execute("SELECT key, value FROM meta").fetchall())

    def close(self) -> None:
        """Close the file (checkpointing the log). Closing twice does nothing."""
        if self._db is not None:
            db, self._db = self._db, None
            db.close()

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
