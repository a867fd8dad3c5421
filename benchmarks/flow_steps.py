"""Benchmark: non-biometric activation steps on SQLite (rate, median, p99), scrypt reported apart.

Runs complete activations through :class:`idverify.flow.ActivationService`
on a SQLite file (WAL) in a temporary folder with the real clock, the real
NIR parser (:func:`idverify.ocr.parse_nir`), the SQLite account directory and an
in-memory mailer. Timed steps: start, accept_terms, check_eligibility,
submit_carte_vitale (typed), send_email_code, submit_email_code (one wrong, one
right), pending_reviews and approve (which also deletes the evidence folder).
Not timed with them: the identity step (biometric: its verifier is replaced
by an instant pass here, so only its orchestration is measured, reported apart)
and set_secret_code, dominated by scrypt (reported apart, with the KDF
parameters). Baseline in the same process: a bare ``BEGIN IMMEDIATE; UPDATE;
INSERT; COMMIT`` on the same kind of file, i.e. the floor of one audited
transition.

    .venv/bin/python benchmarks/flow_steps.py --activations 200 [--threads 4]
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import data_arg, load_note
from idverify.config import FLOW
from idverify.flow import (
    Account,
    ActivationService,
    EvidenceVault,
    MemoryMailer,
    SqliteAccountDirectory,
    SqliteStore,
)
from idverify.results import Check, Report

NIR = "2 69 05 49 588 157 80"
JPEG = b"\xff\xd8\xff\xe0" + bytes(4000)
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(20000)


class InstantPass:
    """Stands in for verify_identity (biometric, benchmarked by the lead): an instant pass."""

    def verify(self, **kwargs: Any) -> Report:
        return Report("verify_identity", (Check("face_match", True, score=0.4, threshold=0.5),))


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000.0


def baseline(path: Path, n: int) -> list[float]:
    """The floor: one row update + one audit insert per IMMEDIATE transaction, same pragmas."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    conn.execute("CREATE TABLE a (seq INTEGER PRIMARY KEY AUTOINCREMENT, id INTEGER, v INTEGER, detail TEXT)")
    conn.executemany("INSERT INTO t VALUES (?, 0)", [(i,) for i in range(n)])
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE t SET v = v + 1 WHERE id = ? AND v = 0", (i,))
        conn.execute("INSERT INTO a (id, v, detail) VALUES (?, 1, '{}')", (i,))
        conn.execute("COMMIT")
        out.append(time.perf_counter() - t0)
    conn.close()
    return out


class Runner:
    """Runs one phase of the flow for a slice of activations, recording per-step latencies."""

    def __init__(self, service: ActivationService, mailer: MemoryMailer) -> None:
        self.service, self.mailer = service, mailer
        self.steps: dict[str, list[float]] = collections.defaultdict(list)
        self.ids: dict[int, str] = {}
        self.lock = threading.Lock()

    def timed(self, local: dict[str, list[float]], name: str, fn: Callable[..., Any], *args: Any,
              **kwargs: Any) -> Any:
        c0, t0 = time.thread_time(), time.perf_counter()
        result = fn(*args, **kwargs)
        local[name].append(time.perf_counter() - t0)
        local["cpu:" + name].append(time.thread_time() - c0)
        if getattr(result, "ok", True) is False and name != "submit_email_code (wrong)":
            raise SystemExit(f"{name} failed: {result}")
        return result

    def phase(self, which: int, indexes: range) -> None:
        s, local = self.service, collections.defaultdict(list)
        for i in indexes:
            email = f"user{i}@example.org"
            if which == 1:  # non-biometric: terms .. e-mail code
                a = self.timed(local, "start", s.start).activation_id
                with self.lock:
                    self.ids[i] = a
                self.timed(local, "accept_terms", s.accept_terms, a, "cgu-2024-01")
                self.timed(local, "check_eligibility", s.check_eligibility, a, "69", email)
                self.timed(local, "submit_carte_vitale (typed)", s.submit_carte_vitale, a, nir=NIR)
                self.timed(local, "send_email_code", s.send_email_code, a)
                msg = self.mailer.last_to(email)
                assert msg is not None
                code = msg.body.split(": ")[1][:6]
                wrong = "000000" if code != "000000" else "000001"
                self.timed(local, "submit_email_code (wrong)", s.submit_email_code, a, wrong)
                self.timed(local, "submit_email_code", s.submit_email_code, a, code)
            elif which == 2:  # not counted: identity (stubbed verifier) and scrypt
                a = self.ids[i]
                self.timed(local, "*identity (verifier stubbed)", s.submit_identity, a,
                           recto=JPEG, verso=JPEG, tilted=JPEG, video=MP4)
                self.timed(local, "*set_secret_code (scrypt)", s.set_secret_code, a, "507931")
            else:  # non-biometric: review
                a = self.ids[i]
                self.timed(local, "pending_reviews (20)", s.pending_reviews, 20)
                self.timed(local, "approve", s.approve, a, "reviewer-1", "coherent")
        with self.lock:
            for k, v in local.items():
                self.steps[k].extend(v)

    def run_phase(self, which: int, n: int, threads: int) -> float:
        """Wall time of one phase over ``n`` activations split across ``threads``."""
        per = n // threads
        ts = [threading.Thread(target=self.phase, args=(which, range(k * per, (k + 1) * per)))
              for k in range(threads)]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data_arg(parser)  # accepted for uniformity; this benchmark needs no data
    parser.add_argument("--activations", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    print(f"flow_steps: {args.activations} activations, {args.threads} thread(s); {load_note()}")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base = baseline(root / "baseline.db", 2000)
        store = SqliteStore(root / "flow.db")
        accounts = SqliteAccountDirectory(root / "accounts.db")
        accounts.add(*(Account(f"acc-{i}", f"user{i}@example.org", "MARTIN", "CAMILLE", "1969-05-17")
                       for i in range(args.activations)))
        mailer = MemoryMailer()
        service = ActivationService(store, mailer=mailer, accounts=accounts, vault=EvidenceVault(root / "ev"),
                                    verifier=InstantPass())
        service.purge()  # the first step would run it; keep it out of the samples
        runner = Runner(service, mailer)
        n = args.activations
        wall1 = runner.run_phase(1, n, args.threads)
        wall2 = runner.run_phase(2, n, args.threads)
        wall3 = runner.run_phase(3, n, args.threads)
        db_size = sum(p.stat().st_size for p in root.glob("flow.db*"))
        store.close()
        accounts.close()
    steps = runner.steps

    cpu = {k[4:]: v for k, v in steps.items() if k.startswith("cpu:")}
    steps = {k: v for k, v in steps.items() if not k.startswith("cpu:")}
    flow = [x for k, v in steps.items() if not k.startswith("*") for x in v]
    flow_cpu = [x for k, v in cpu.items() if not k.startswith("*") for x in v]
    print(f"\n{'step':32s} {'n':>6s} {'median ms':>10s} {'p99 ms':>8s} {'max ms':>8s} {'cpu p99 ms':>11s}")
    for name in sorted(steps, key=lambda k: (k.startswith("*"), k)):
        v = steps[name]
        print(f"{name:32s} {len(v):6d} {statistics.median(v) * 1000:10.2f} {pct(v, 0.99):8.2f} "
              f"{max(v) * 1000:8.2f} {pct(cpu[name], 0.99):11.2f}")
    print(f"{'baseline (bare audited UPDATE)':32s} {len(base):6d} {statistics.median(base) * 1000:10.2f} "
          f"{pct(base, 0.99):8.2f} {max(base) * 1000:8.2f}")
    wall = wall1 + wall3
    print(f"\nnon-biometric steps: {len(flow)} calls in {wall:.2f} s wall = {len(flow) / wall:.0f} steps/s "
          f"({args.threads} thread(s)); median {statistics.median(flow) * 1000:.2f} ms, "
          f"p99 {pct(flow, 0.99):.2f} ms; median / baseline median "
          f"{statistics.median(flow) / statistics.median(base):.1f}x")
    print(f"  CPU time of this thread per step (what the load cannot inflate): median "
          f"{statistics.median(flow_cpu) * 1000:.2f} ms, p99 {pct(flow_cpu, 0.99):.2f} ms")
    user = [x for k, v in steps.items() if not k.startswith("*") and k != "approve" for x in v]
    print(f"  without approve (which also unlinks the evidence files, synchronously): {len(user)} calls, "
          f"median {statistics.median(user) * 1000:.2f} ms, p99 {pct(user, 0.99):.2f} ms")
    print(f"identity + secret code phase (not counted): {2 * n} calls in {wall2:.2f} s; DB+WAL {db_size / 1e6:.1f} MB")
    kdf_n, kdf_r, kdf_p = FLOW.scrypt_n, FLOW.scrypt_r, FLOW.scrypt_p
    t = time.perf_counter()
    for _ in range(10):
        hashlib.scrypt(b"507931", salt=os.urandom(16), n=kdf_n, r=kdf_r, p=kdf_p, dklen=32,
                       maxmem=128 * kdf_r * (kdf_n + kdf_p + 2) + (1 << 21))
    print(f"scrypt alone: n=2**{kdf_n.bit_length() - 1}, r={kdf_r}, p={kdf_p}, dklen=32 "
          f"({128 * kdf_r * kdf_n / 2**20:.0f} MiB): {(time.perf_counter() - t) / 10 * 1000:.0f} ms per hash")
    print(load_note())


if __name__ == "__main__":
    main()
