"""SQLite store: migrations, 200 concurrent activations, concurrent writers on one activation, SIGKILL mid-step."""

from __future__ import annotations

import collections
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from test_flow_support import EVIDENCE, NIR, Env, make_env

from idverify.errors import InvalidTransition
from idverify.flow import Account, SqliteStore, State
from idverify.flow.store import LATEST_VERSION, MIGRATIONS, SchemaTooNew

HERE = Path(__file__).resolve().parent


def test_migrations_are_versioned_ordered_and_atomic(tmp_path: Path) -> None:
    db = tmp_path / "flow.db"
    SqliteStore(db).close()
    v2 = (*MIGRATIONS, (LATEST_VERSION + 1, "reviewer notes", "ALTER TABLE activations ADD COLUMN note TEXT"))
    store = SqliteStore(db, migrations=v2)
    assert store.schema_version() == LATEST_VERSION + 1
    store.close()
    with pytest.raises(SchemaTooNew):  # older code refuses a newer database instead of corrupting it
        SqliteStore(db)
    broken = (*v2, (LATEST_VERSION + 2, "broken", "CREATE TABLE extra (x INT); SELECT * FROM no_such_table"))
    with pytest.raises(sqlite3.OperationalError):
        SqliteStore(db, migrations=broken)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == LATEST_VERSION + 1
    assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'extra'").fetchone()[0] == 0
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def _activate(e: Env, i: int, barrier: threading.Barrier, errors: list[BaseException]) -> None:
    s = e.service
    email = f"user{i}@example.org"
    try:
        barrier.wait()
        a = s.start(actor=f"user{i}").activation_id
        assert s.accept_terms(a, "cgu").ok
        assert s.check_eligibility(a, "38", email).ok
        assert s.submit_carte_vitale(a, nir=NIR).ok
        assert s.send_email_code(a).ok
        msg = e.mailer.last_to(email)
        assert msg is not None
        wrong = s.submit_email_code(a, "000000" if "000000" not in msg.body else "000001")
        assert wrong.reason == "email_code_wrong"
        assert s.submit_email_code(a, msg.body.split(": ")[1][:6]).ok
        assert s.submit_identity(a, **EVIDENCE).ok
        assert s.set_secret_code(a, "507931").ok
        if i % 2:
            assert s.approve(a, "rev", "ok").ok
        else:
            assert s.reject(a, "rev", "no").ok
    except BaseException as exc:  # noqa: BLE001 - collected and re-raised by the test
        errors.append(exc)


def test_200_concurrent_activations_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    e = make_env(tmp_path)
    e.accounts.add(*(Account(f"acc-{i}", f"user{i}@example.org", "DOE", "ALEX", None, NIR) for i in range(200)))
    barrier = threading.Barrier(200)
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_activate, args=(e, i, barrier, errors)) for i in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    audit = e.service.audit()
    per = collections.defaultdict(list)
    for entry in audit:
        per[entry.activation_id].append(entry)
    assert len(per) == 200
    for activation_id, entries in per.items():
        assert [x.version for x in entries] == list(range(1, 11)), activation_id  # none lost or repeated
        rec = e.service.status(activation_id)
        assert rec.version == 10 and rec.state.value == entries[-1].to_state
        assert rec.otp_failures == 1 and rec.otp_sends == 1
    with e.store.read() as tx:
        assert tx.count_by_state() == {"approved": 100, "rejected": 100}
    assert len(audit) == 2000 and len({x.seq for x in audit}) == 2000
    assert len(e.mailer.messages) == 200
    assert [p for p in e.vault.root.rglob("*") if p.is_file()] == []  # all decided: all purged
    e.store.close()


def test_concurrent_writers_on_one_activation(tmp_path: Path) -> None:
    e = make_env(tmp_path)
    a = e.walk_to(State.EMAIL_CODE)
    results: list[object] = []
    lock = threading.Lock()

    def hammer(fn: object) -> None:
        barrier.wait()
        try:
            r = fn()  # type: ignore[operator]
        except InvalidTransition as exc:
            r = exc.reason
        with lock:
            results.append(r)

    barrier = threading.Barrier(20)
    threads = [threading.Thread(target=hammer, args=(lambda: e.service.send_email_code(a),)) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(getattr(r, "ok", False) for r in results) == 1  # throttle holds under a race
    assert len(e.mailer.messages) == 1 and e.service.status(a).otp_sends == 1

    code = e.code()
    bad = f"{(int(code) + 1) % 10**6:06d}"
    barrier = threading.Barrier(20)
    results.clear()
    threads = [threading.Thread(target=hammer, args=(lambda: e.service.submit_email_code(a, bad),))
               for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reasons = collections.Counter(getattr(r, "reason", r) for r in results)
    assert reasons == {"email_code_wrong": 4, "email_code_locked": 1, "invalid_transition": 15}
    rec = e.service.status(a)
    assert rec.state is State.LOCKED and rec.otp_failures == 5
    events = collections.Counter(x.event for x in e.service.audit(a))
    assert events["email_code_rejected"] == 4 and events["locked"] == 1
    e.store.close()


CHILD = """
import os, signal, sys
sys.path.insert(0, {tests!r})
from pathlib import Path
from test_flow_support import make_env, EVIDENCE, NIR
from idverify.flow import State
e = make_env(Path({root!r}))
a = e.walk_to(State[{target!r}])
if {target!r} == "EMAIL_CODE":
    e.service.send_email_code(a)
print(a, flush=True)
commits = []
def die(label):
    commits.append(label)
    if len(commits) == {nth}:
        os.kill(os.getpid(), signal.SIGKILL)
e.store.fault_hook = die
step = {step!r}
s = e.service
if step == "accept_terms": s.accept_terms(a, "v1")
elif step == "submit_email_code": s.submit_email_code(a, e.code())
elif step == "submit_identity": s.submit_identity(a, **EVIDENCE)
elif step == "set_secret_code": s.set_secret_code(a, "507931")
elif step == "approve": s.approve(a, "rev", "ok")
print("not killed", flush=True)
"""


@pytest.mark.parametrize("target, step, nth", [
    ("TERMS", "accept_terms", 1),
    ("EMAIL_CODE", "submit_email_code", 1),
    ("IDENTITY", "submit_identity", 1),  # killed while reserving the attempt
    ("IDENTITY", "submit_identity", 2),  # killed while recording the verifier's result
    ("SECRET_CODE", "set_secret_code", 1),
    ("PENDING_REVIEW", "approve", 1),
])
def test_sigkill_mid_step_leaves_the_previous_state(tmp_path: Path, target: str, step: str, nth: int) -> None:
    code = CHILD.format(tests=str(HERE), root=str(tmp_path), target=target, step=step, nth=nth)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(HERE.parent)})
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    activation_id = proc.stdout.split()[0]
    assert "not killed" not in proc.stdout
    e = make_env(tmp_path)  # reopen: WAL recovery, migrations are a no-op
    conn = sqlite3.connect(tmp_path / "flow.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == LATEST_VERSION
    conn.close()
    rec = e.service.status(activation_id)
    assert rec.state is State[target]
    audit = e.service.audit(activation_id)
    assert [x.version for x in audit] == list(range(1, rec.version + 1))
    assert audit[-1].to_state == State[target].value
    # the session is still usable after the crash
    if target == "PENDING_REVIEW":
        assert e.service.approve(activation_id, "rev", "ok").ok
    elif target == "IDENTITY" and nth == 1:
        assert e.service.evidence(activation_id).attempts == ()
        assert e.service.submit_identity(activation_id, **EVIDENCE).ok
    elif target == "IDENTITY":
        assert [a.status for a in e.service.evidence(activation_id).attempts] == ["running"]
        busy = e.service.submit_identity(activation_id, **EVIDENCE)
        assert busy.reason == "identity_attempt_in_progress"
        e.clock.advance(e.service.config.identity_attempt_timeout)  # the crashed check is deemed interrupted
        assert e.service.submit_identity(activation_id, **EVIDENCE).ok
        attempts = e.service.evidence(activation_id).attempts
        assert [(a.n, a.status) for a in attempts] == [(1, "interrupted"), (2, "passed")]
    elif target == "SECRET_CODE":
        assert e.service.set_secret_code(activation_id, "507931").ok
    e.store.close()


WORKER = """
import sys, threading
sys.path.insert(0, {tests!r})
from pathlib import Path
from test_flow_support import make_env
import test_flow_store as T
e = make_env(Path({root!r}))
errors = []
barrier = threading.Barrier(1)
for i in range({first}, {first} + {count}):
    T._activate(e, i, barrier, errors)
assert not errors, errors
print("done", flush=True)
"""


def test_concurrent_processes_on_one_file(tmp_path: Path) -> None:
    e = make_env(tmp_path)
    e.accounts.add(*(Account(f"acc-{i}", f"user{i}@example.org", "DOE", "ALEX", None, NIR) for i in range(30)))
    procs = [subprocess.Popen([sys.executable, "-c", WORKER.format(tests=str(HERE), root=str(tmp_path),
                                                                  first=10 * k, count=10)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(HERE.parent)}) for k in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and "done" in out, err
    audit = e.service.audit()
    per = collections.Counter(x.activation_id for x in audit)
    assert len(per) == 30 and set(per.values()) == {10}
    assert len({(x.activation_id, x.version) for x in audit}) == 300
    e.store.close()
