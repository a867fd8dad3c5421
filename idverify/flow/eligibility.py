"""Eligibility: the département list and the online-account lookup port (with a SQLite directory).

>>> normalize_departement(" 6 "), normalize_departement("2a"), normalize_departement("974")
('06', '2A', '974')
>>> normalize_departement("20") is None, normalize_departement("99") is None
(True, True)
>>> check_departement("13", ("13", "69"))
('13', None)
>>> check_departement("75", ("13", "69"))
('75', 'departement_not_eligible')
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from idverify.results import to_jsonable

_OVERSEAS = {"971", "972", "973", "974", "976"}


def normalize_departement(text: object) -> str | None:
    """The canonical code (``01``-``95`` but ``20``, ``2A``, ``2B``, ``971``-``976``) or ``None``."""
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str):
        return None
    code = text.strip().upper()
    if code in ("2A", "2B") or code in _OVERSEAS:
        return code
    if code.isascii() and code.isdigit() and len(code) <= 2:
        code = code.zfill(2)
        return code if 1 <= int(code) <= 95 and code != "20" else None
    return None


def check_departement(text: object, eligible: Iterable[str]) -> tuple[str | None, str | None]:
    """``(canonical code, None)`` when eligible, else a reason (``departement_invalid`` / ``_not_eligible``)."""
    code = normalize_departement(text)
    if code is None:
        return None, "departement_invalid"
    return code, None if code in set(eligible) else "departement_not_eligible"


@dataclasses.dataclass(frozen=True, slots=True)
class Account:
    """An online insurance account as the host knows it."""

    account_id: str
    email: str
    surname: str
    given_names: str
    birth_date: str | None = None  # ISO YYYY-MM-DD when known
    nir: str | None = None  # 15 characters when the account has one

    def to_dict(self) -> dict[str, Any]:
        return {f.name: to_jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}


@runtime_checkable
class AccountDirectory(Protocol):
    """The host's account lookup: by account id or e-mail login; ``None`` when there is none."""

    def lookup(self, login: str) -> Account | None: ...


class SqliteAccountDirectory:
    """Reference :class:`AccountDirectory` on an ``accounts`` table (a file of its own or the flow's)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        conn = self._conn()
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        with conn:
            conn.execute("CREATE TABLE IF NOT EXISTS accounts (account_id TEXT PRIMARY KEY,"
                         " email TEXT NOT NULL, surname TEXT NOT NULL, given_names TEXT NOT NULL,"
                         " birth_date TEXT, nir TEXT)")
            conn.execute("CREATE UNIQUE INDEX IF NOT EXISTS accounts_email ON accounts(lower(email))")

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60.0)
            self._local.conn = conn
        return conn

    def add(self, *accounts: Account) -> None:
        """Insert or replace accounts (one transaction)."""
        with self._conn() as conn:
            conn.executemany("INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?, ?, ?)",
                             [(a.account_id, a.email, a.surname, a.given_names, a.birth_date, a.nir)
                              for a in accounts])

    def lookup(self, login: str) -> Account | None:
        if not isinstance(login, str) or not login.strip():
            return None
        key = login.strip()
        row = self._conn().execute(
            "SELECT account_id, email, surname, given_names, birth_date, nir FROM accounts"
            " WHERE account_id = ? OR lower(email) = lower(?)", (key, key)).fetchone()
        return None if row is None else Account(*row)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
            self._local.conn = None
