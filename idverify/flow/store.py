"""Store port and its SQLite implementation (one file, WAL, versioned migrations).

Each service step runs in one ``BEGIN IMMEDIATE`` transaction: a crash in the
middle leaves the previous committed state. Updates of an activation check its
``version`` column (optimistic concurrency) and the audit log has one row per
``(activation, version)``, so a transition can be neither lost nor duplicated.

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as d:
...     store = SqliteStore(pathlib.Path(d) / "flow.db")
...     v = store.schema_version()
...     store.close()
>>> v == LATEST_VERSION
True
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from idverify.errors import IdVerifyError, UsageError
from idverify.flow.machine import State
from idverify.flow.records import ActivationRecord, AttemptRecord, AuditEntry, BiometricRecord


class ConcurrentUpdate(IdVerifyError):
    """The activation's version changed under us: another writer committed first."""

    default_reason = "concurrent_update"


class SchemaTooNew(IdVerifyError):
    """The database has a schema version this code does not know."""

    default_reason = "schema_too_new"


# --- migrations: ordered, each applied once, recorded in schema_version ------------------
MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (1, "activations, attempts, audit log, biometric retention", """
CREATE TABLE activations (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    otp_salt BLOB NOT NULL,
    terms_version TEXT, departement TEXT, account_id TEXT, email TEXT,
    nir TEXT, nir_source TEXT, card_surname TEXT, card_given_names TEXT, birth_date TEXT,
    otp_digest BLOB, otp_sent_at REAL, otp_expires_at REAL,
    otp_sends INTEGER NOT NULL DEFAULT 0, otp_failures INTEGER NOT NULL DEFAULT 0,
    identity_attempts INTEGER NOT NULL DEFAULT 0,
    secret_hash TEXT,
    submitted_at REAL, review_deadline REAL,
    decided_at REAL, decided_by TEXT, decision_reason TEXT, closed_reason TEXT
);
CREATE INDEX activations_state_submitted ON activations(state, submitted_at);
CREATE INDEX activations_state_expires ON activations(state, expires_at);
CREATE TABLE identity_attempts (
    activation_id TEXT NOT NULL REFERENCES activations(id),
    n INTEGER NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,
    status TEXT NOT NULL,
    reasons TEXT NOT NULL DEFAULT '[]',
    checks TEXT NOT NULL DEFAULT '[]',
    files TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (activation_id, n)
);
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    activation_id TEXT NOT NULL REFERENCES activations(id),
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    event TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    version INTEGER NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    UNIQUE (activation_id, version)
);
CREATE TABLE biometrics (
    activation_id TEXT PRIMARY KEY REFERENCES activations(id),
    stored_at REAL NOT NULL,
    delete_after REAL NOT NULL,
    purged_at REAL,
    purge_reason TEXT
);
CREATE INDEX biometrics_due ON biometrics(purged_at, delete_after);
"""),
)
LATEST_VERSION = MIGRATIONS[-1][0]

_COLUMNS = ("id", "state", "version", "created_at", "updated_at", "expires_at", "otp_salt",
            "terms_version", "departement", "account_id", "email", "nir", "nir_source", "card_surname",
            "card_given_names", "birth_date", "otp_digest", "otp_sent_at", "otp_expires_at", "otp_sends",
            "otp_failures", "identity_attempts", "secret_hash", "submitted_at", "review_deadline",
            "decided_at", "decided_by", "decision_reason", "closed_reason")
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM activations"


class StoreTx(Protocol):
    """Operations inside one transaction (read-only for :meth:`Store.read`)."""

    def get(self, activation_id: str) -> ActivationRecord | None: ...
    def insert(self, record: ActivationRecord) -> None: ...
    def update(self, record: ActivationRecord, expected_version: int) -> None: ...
    def append_audit(self, entry: AuditEntry) -> None: ...
    def attempts(self, activation_id: str) -> list[AttemptRecord]: ...
    def put_attempt(self, attempt: AttemptRecord) -> None: ...
    def delete_attempt(self, activation_id: str, n: int) -> None: ...
    def audit_log(self, activation_id: str | None = None) -> list[AuditEntry]: ...
    def pending_review(self, limit: int | None = None) -> list[ActivationRecord]: ...
    def stale_sessions(self, now: float, states: Sequence[State]) -> list[str]: ...
    def biometric(self, activation_id: str) -> BiometricRecord | None: ...
    def hold_biometrics(self, activation_id: str, stored_at: float, delete_after: float) -> None: ...
    def biometric_due(self, now: float, terminal: Sequence[State]) -> list[BiometricRecord]: ...
    def live_biometric_ids(self) -> set[str]: ...
    def mark_purged(self, activation_id: str, at: float, reason: str) -> None: ...
    def count_by_state(self) -> dict[str, int]: ...


class Store(Protocol):
    """Where activations live. ``transaction()`` is atomic and serialised; ``read()`` a snapshot."""

    def transaction(self) -> contextlib.AbstractContextManager[StoreTx]: ...
    def read(self) -> contextlib.AbstractContextManager[StoreTx]: ...
    def close(self) -> None: ...


def _to_record(row: Sequence[Any]) -> ActivationRecord:
    values = dict(zip(_COLUMNS, row, strict=True))
    values["state"] = State(values["state"])
    return ActivationRecord(**values)


def _to_params(record: ActivationRecord) -> list[Any]:
    return [record.state.value if c == "state" else getattr(record, c) for c in _COLUMNS]


class _SqliteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def get(self, activation_id: str) -> ActivationRecord | None:
        row = self.conn.execute(f"{_SELECT} WHERE id = ?", (activation_id,)).fetchone()
        return None if row is None else _to_record(row)

    def insert(self, record: ActivationRecord) -> None:
        marks = ", ".join("?" * len(_COLUMNS))
        self.conn.execute(f"INSERT INTO activations ({', '.join(_COLUMNS)}) VALUES ({marks})", _to_params(record))

    def update(self, record: ActivationRecord, expected_version: int) -> None:
        sets = ", ".join(f"{c} = ?" for c in _COLUMNS[1:])
        cur = self.conn.execute(f"UPDATE activations SET {sets} WHERE id = ? AND version = ?",
                                [*_to_params(record)[1:], record.id, expected_version])
        if cur.rowcount != 1:
            raise ConcurrentUpdate("concurrent_update", f"activation {record.id} is not at version {expected_version}")

    def append_audit(self, entry: AuditEntry) -> None:
        self.conn.execute(
            "INSERT INTO audit_log (activation_id, at, actor, event, from_state, to_state, version, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (entry.activation_id, entry.at, entry.actor, entry.event, entry.from_state, entry.to_state,
             entry.version, json.dumps(dict(entry.detail), sort_keys=True)))

    def attempts(self, activation_id: str) -> list[AttemptRecord]:
        rows = self.conn.execute(
            "SELECT activation_id, n, started_at, status, finished_at, reasons, checks, files"
            " FROM identity_attempts WHERE activation_id = ? ORDER BY n", (activation_id,)).fetchall()
        return [AttemptRecord(r[0], r[1], r[2], r[3], r[4], tuple(json.loads(r[5])),
                              tuple(json.loads(r[6])), tuple(json.loads(r[7]))) for r in rows]

    def put_attempt(self, attempt: AttemptRecord) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO identity_attempts"
            " (activation_id, n, started_at, status, finished_at, reasons, checks, files)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (attempt.activation_id, attempt.n, attempt.started_at, attempt.status, attempt.finished_at,
             json.dumps(list(attempt.reasons)), json.dumps([dict(c) for c in attempt.checks]),
             json.dumps(list(attempt.files))))

    def delete_attempt(self, activation_id: str, n: int) -> None:
        self.conn.execute("DELETE FROM identity_attempts WHERE activation_id = ? AND n = ?", (activation_id, n))

    def audit_log(self, activation_id: str | None = None) -> list[AuditEntry]:
        sql = "SELECT activation_id, at, actor, event, from_state, to_state, version, detail, seq FROM audit_log"
        rows = (self.conn.execute(sql + " WHERE activation_id = ? ORDER BY seq", (activation_id,))
                if activation_id is not None else self.conn.execute(sql + " ORDER BY seq")).fetchall()
        return [AuditEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]), r[8]) for r in rows]

    def pending_review(self, limit: int | None = None) -> list[ActivationRecord]:
        rows = self.conn.execute(f"{_SELECT} WHERE state = ? ORDER BY submitted_at, id LIMIT ?",
                                 (State.PENDING_REVIEW.value, -1 if limit is None else int(limit))).fetchall()
        return [_to_record(r) for r in rows]

    def stale_sessions(self, now: float, states: Sequence[State]) -> list[str]:
        marks = ", ".join("?" * len(states))
        rows = self.conn.execute(f"SELECT id FROM activations WHERE state IN ({marks}) AND expires_at <= ?",
                                 [*(s.value for s in states), now]).fetchall()
        return [r[0] for r in rows]

    def biometric(self, activation_id: str) -> BiometricRecord | None:
        row = self.conn.execute("SELECT activation_id, stored_at, delete_after, purged_at, purge_reason"
                                " FROM biometrics WHERE activation_id = ?", (activation_id,)).fetchone()
        return None if row is None else BiometricRecord(*row)

    def hold_biometrics(self, activation_id: str, stored_at: float, delete_after: float) -> None:
        # The first storage sets the deadline; later uploads never push it back.
        self.conn.execute(
            "INSERT INTO biometrics (activation_id, stored_at, delete_after) VALUES (?, ?, ?)"
            " ON CONFLICT (activation_id) DO UPDATE SET"
            " delete_after = MIN(delete_after, excluded.delete_after), purged_at = NULL, purge_reason = NULL",
            (activation_id, stored_at, delete_after))

    def biometric_due(self, now: float, terminal: Sequence[State]) -> list[BiometricRecord]:
        marks = ", ".join("?" * len(terminal))
        rows = self.conn.execute(
            "SELECT b.activation_id, b.stored_at, b.delete_after, b.purged_at, b.purge_reason"
            " FROM biometrics b JOIN activations a ON a.id = b.activation_id"
            f" WHERE b.purged_at IS NULL AND (b.delete_after <= ? OR a.state IN ({marks}))",
            [now, *(s.value for s in terminal)]).fetchall()
        return [BiometricRecord(*r) for r in rows]

    def live_biometric_ids(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT activation_id FROM biometrics WHERE purged_at IS NULL")}

    def mark_purged(self, activation_id: str, at: float, reason: str) -> None:
        self.conn.execute("UPDATE biometrics SET purged_at = ?, purge_reason = ? WHERE activation_id = ?"
                          " AND purged_at IS NULL", (at, reason, activation_id))

    def count_by_state(self) -> dict[str, int]:
        return dict(self.conn.execute("SELECT state, COUNT(*) FROM activations GROUP BY state").fetchall())


class SqliteStore:
    """The reference :class:`Store`: one SQLite file in WAL mode, a connection per thread.

    Connections are kept until :meth:`close` (use a bounded thread pool, not a
    thread per request). Writers of one process queue on a lock; other
    processes on SQLite's ``BEGIN IMMEDIATE`` with ``busy_timeout``.

    ``fault_hook(label)`` is a test seam called inside every write transaction
    just before ``COMMIT`` (label ``"before_commit"``), e.g. to kill the process there.
    """

    def __init__(self, path: str | Path, *, busy_timeout: float = 60.0, synchronous: str = "NORMAL",
                 fault_hook: Callable[[str], None] | None = None,
                 migrations: Sequence[tuple[int, str, str]] = MIGRATIONS) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise UsageError("usage_error", "synchronous must be NORMAL or FULL")
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.synchronous = synchronous
        self.fault_hook = fault_hook
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        # Writers of this process queue here instead of spinning on SQLite's busy handler;
        # other processes are still serialised by BEGIN IMMEDIATE.
        self._write_lock = threading.Lock()
        self._closed = False
        self._migrate(migrations)

    # -- connections --------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise UsageError("usage_error", "the store is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection this store opened."""
        self._closed = True
        with self._conns_lock:
            for conn in self._conns:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._conns.clear()

    # -- schema -------------------------------------------------------------------------
    def _migrate(self, migrations: Sequence[tuple[int, str, str]]) -> None:
        versions = [v for v, _, _ in migrations]
        if versions != sorted(set(versions)) or not versions or versions[0] != 1:
            raise UsageError("usage_error", "migrations must be numbered 1, 2, ... in order")
        known = versions[-1]
        conn = self._conn()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("CREATE TABLE IF NOT EXISTS schema_version"
                             " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)")
                current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
                if current > known:
                    raise SchemaTooNew("schema_too_new", f"{self.path} has schema {current}, this code knows {known}")
                for version, name, sql in migrations:
                    if version <= current:
                        continue
                    for statement in _statements(sql):
                        conn.execute(statement)
                    conn.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                                 (version, name, time.time()))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def schema_version(self) -> int:
        return int(self._conn().execute("SELECT MAX(version) FROM schema_version").fetchone()[0])

    # -- transactions -------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[StoreTx]:
        """One atomic write transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``); rolled back on error."""
        conn = self._conn()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTx(conn)
                if self.fault_hook is not None:
                    self.fault_hook("before_commit")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @contextlib.contextmanager
    def read(self) -> Iterator[StoreTx]:
        """A consistent read-only snapshot (``BEGIN`` deferred; writes are a misuse)."""
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            yield _SqliteTx(conn)
        finally:
            conn.execute("ROLLBACK")


def _statements(sql: str) -> list[str]:
    """Split a migration script into statements (no ``;`` inside our DDL literals)."""
    return [s.strip() for s in sql.split(";") if s.strip()]
