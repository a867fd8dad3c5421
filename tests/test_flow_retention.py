"""Retention (injected clock): nothing biometric survives, decisions stay; no secret in DB or logs."""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_flow_support import EMBEDDING_MARK, EVIDENCE, TEST_CONFIG, Env, make_env

from idverify.flow import PurgeResult, State
from idverify.flow.vault import EvidenceVault

DAY = 24 * 3600.0


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    e = make_env(tmp_path, outcomes=[True, True, False, True, True])
    yield e
    e.store.close()
    e.accounts.close()


def _vault_files(e: Env) -> list[Path]:
    return [p for p in e.vault.root.rglob("*") if p.is_file()]


def _numeric_runs(value: Any) -> int:
    """Longest list of numbers anywhere in a JSON value (an embedding is 128)."""
    if isinstance(value, dict):
        return max((_numeric_runs(v) for v in value.values()), default=0)
    if isinstance(value, list):
        here = len(value) if value and all(isinstance(v, (int, float)) for v in value) else 0
        return max([here, *(_numeric_runs(v) for v in value)])
    return 0


def _db_dump(path: Path) -> list[tuple[str, Any]]:
    conn = sqlite3.connect(path)
    try:
        out = []
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            for row in conn.execute(f"SELECT * FROM {table}"):
                out += [(table, v) for v in row]
        return out
    finally:
        conn.close()


def test_biometric_material_is_deleted_at_decision_or_deadline(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="idverify.flow")
    s = env.service
    decided = env.walk_to(State.PENDING_REVIEW)           # decided at once
    waiting = env.walk_to(State.PENDING_REVIEW)           # nobody reviews it for 7 days
    failed = env.walk_to(State.IDENTITY)                  # one failed attempt, then the user vanishes
    assert s.submit_identity(failed, **EVIDENCE).reason == "identity_failed"
    pins_and_codes = {"507931"} | {m.body.split(": ")[1][:6] for m in env.mailer.messages}
    assert len(pins_and_codes) >= 4

    # while pending, the reviewer has the files and the (scrubbed) full report
    bundle = s.evidence(waiting)
    assert bundle.reports[1]["checks"][0]["evidence"]["crop"] == "portrait_crop.png"
    assert "embedding" not in json.dumps(bundle.reports[1]) and "encodings" not in json.dumps(bundle.reports[1])
    assert (env.vault.root / waiting / "attempt-1" / "portrait_crop.png").is_file()

    assert s.approve(decided, "rev-1", "coherent").ok
    assert not env.vault.has_files(decided)                # decision time: the data goes at once
    assert s.evidence(decided).biometric is not None and s.evidence(decided).biometric.purge_reason == "decided"
    assert env.vault.has_files(waiting) and env.vault.has_files(failed)

    orphan = env.vault.root / "orphanfolder0001"          # e.g. left by a crash before any row existed
    orphan.mkdir()
    (orphan / "clip.mp4").write_bytes(b"orphan clip")

    env.clock.advance(TEST_CONFIG.activation_ttl)         # the abandoned session expires (terminal)...
    r = s.purge()
    assert r.expired == (failed,) and failed in r.purged and "orphanfolder0001" in r.orphans
    assert s.status(failed).state is State.EXPIRED
    assert env.vault.has_files(waiting)                   # ...the pending file keeps its evidence < 7 days

    env.clock.advance(7 * DAY)                            # no explicit purge: the next step runs it
    s.start()
    assert not env.vault.has_files(waiting)
    assert s.status(waiting).state is State.PENDING_REVIEW  # the file is still reviewable...
    bundle = s.evidence(waiting)
    assert bundle.reports == {} and bundle.evidence_dir is None  # ...on its kept scores and reasons
    assert bundle.attempts[0].checks[0] == {"name": "face_match", "passed": True, "reason": None,
                                            "score": 0.41, "threshold": 0.5}
    assert bundle.biometric is not None and bundle.biometric.purge_reason == "retention_deadline"
    assert s.reject(waiting, "rev-2", "overdue, evidence expired").ok

    # nothing biometric survives: no file on disk, and the purge job removes even the empty folders...
    assert _vault_files(env) == []
    s.purge()
    assert list(env.vault.root.iterdir()) == []
    # ...nor in any database row (no embedding-like arrays, no media bytes), and no code in clear
    for path in (env.root / "flow.db", env.root / "accounts.db"):
        for table, value in _db_dump(path):
            assert not isinstance(value, bytes) or len(value) <= 32, (table, len(value))  # salts/digests only
            if isinstance(value, str):
                assert str(EMBEDDING_MARK)[:8] not in value, table
                assert "fake" not in value, table
                assert not any(code in value for code in pins_and_codes), table
                try:
                    parsed = json.loads(value)
                except ValueError:
                    continue
                assert _numeric_runs(parsed) < 16, table
    raw = b"".join(p.read_bytes() for p in env.root.glob("flow.db*"))
    assert str(EMBEDDING_MARK)[:8].encode() not in raw and b"fake portrait" not in raw and b"fake jpeg" not in raw
    assert not any(code.encode() in raw for code in pins_and_codes)
    # the audit log and the logs: every transition, no code, no NIR
    log_text = "\n".join(r.getMessage() for r in caplog.records)
    assert "review_approved" in log_text and "biometric material deleted" in log_text
    audit = json.dumps([e.to_dict() for e in s.audit()])
    for text in (log_text, audit):
        assert not any(code in text for code in pins_and_codes)
        assert "269054958815780" not in text and str(EMBEDDING_MARK)[:8] not in text
    states = {e.activation_id: e.to_state for e in s.audit()}
    assert states[decided] == "approved" and states[waiting] == "rejected" and states[failed] == "expired"


def test_retention_deadline_runs_from_the_first_upload(tmp_path: Path) -> None:
    e = make_env(tmp_path, outcomes=[False, True])
    a = e.walk_to(State.IDENTITY)
    e.service.submit_identity(a, **EVIDENCE)
    first = e.service.evidence(a).biometric
    e.clock.advance(3600)
    e.service.submit_identity(a, **EVIDENCE)
    assert e.service.evidence(a).biometric == first  # a later upload does not push the deadline back
    assert first is not None and first.delete_after - first.stored_at == TEST_CONFIG.biometric_retention
    e.store.close()


def test_files_left_by_a_crash_after_the_decision_are_swept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    e = make_env(tmp_path)
    a = e.walk_to(State.PENDING_REVIEW)
    with monkeypatch.context() as m:  # the process "dies" between the decision's commit and the unlink
        m.setattr(e.vault, "purge", lambda activation_id: 0)
        assert e.service.reject(a, "rev", "portrait mismatch").ok
    assert e.vault.has_files(a)
    bio = e.service.evidence(a).biometric
    assert bio is not None and bio.purged_at is not None  # recorded atomically with the decision
    result = e.service.purge()
    assert a in result.orphans and not e.vault.has_files(a) and not (e.vault.root / a).exists()
    e.store.close()


def test_purge_job_racing_a_submission_leaves_its_evidence_alone(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    e = make_env(tmp_path)
    a = e.walk_to(State.IDENTITY)
    real_put, real_verify = e.vault.put, e.verifier.verify
    ran: list[PurgeResult] = []

    def put_after_purge(*args: Any, **kwargs: Any) -> Path:  # the job runs between mkdir and the writes
        ran.append(e.service.purge())
        return real_put(*args, **kwargs)

    def verify_after_purge(**kwargs: Any) -> Any:  # ...and again while the checks run
        ran.append(e.service.purge())
        return real_verify(**kwargs)

    monkeypatch.setattr(e.vault, "put", put_after_purge)
    monkeypatch.setattr(e.verifier, "verify", verify_after_purge)
    assert e.service.submit_identity(a, **EVIDENCE).ok
    assert len(ran) == 5 and all(r.orphans == () and r.purged == () for r in ran)
    assert e.vault.has_files(a)
    e.store.close()


def test_vault_walks_survive_folders_removed_by_another_process(tmp_path: Path) -> None:
    """Several processes share one vault: while one sweeps an activation's folders, another one's purge,
    ``has_files``, ``files`` and ``sweep_empty`` must not fail (``Path.rglob`` raised ``FileNotFoundError``
    here about once in 500 walks, which failed the three-process store test now and then)."""
    vault = EvidenceVault(tmp_path / "evidence")
    activation = "activation-0001"
    stop = threading.Event()

    def churn() -> None:  # creates and removes the folders as fast as it can, like a concurrent sweep
        while not stop.is_set():
            try:
                deep = vault.root / activation / "attempt-1" / "frames"
                deep.mkdir(parents=True, exist_ok=True)
                (deep / "f.jpg").write_bytes(b"x")
            except FileNotFoundError:
                pass
            shutil.rmtree(vault.root / activation, ignore_errors=True)

    worker = threading.Thread(target=churn)
    worker.start()
    walks = 0
    try:
        deadline = time.perf_counter() + 1.0
        while time.perf_counter() < deadline:
            vault.has_files(activation)
            vault.files(vault.root / activation)
            vault.purge(activation)
            vault.sweep_empty([activation])
            walks += 1
    finally:
        stop.set()
        worker.join()
    assert walks > 1000
