"""``idverify demo``: complete carte Vitale activations on the bundled synthetic samples.

Two personas go through every step of the flow (terms, eligibility, carte
Vitale, e-mail code, identity evidence, secret code, review) on a fresh
SQLite store: a genuine one whose file a scripted reviewer approves, and a
spoofer (photocopied card, printed-photo and replayed clips) whose attempts
are refused until the file is rejected. Each step is printed with its
timing; a JSON report and an HTML evidence report are written to ``out``.

The samples are fictional persons on public-domain portraits (see
``samples/README.md``). The HTML report embeds card crops and face frames
for the reader: it is a demo artefact, unlike the flow's own evidence store
it has no retention of its own.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from idverify.demo_report import write_html_report
from idverify.errors import IdVerifyError
from idverify.results import to_jsonable

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@dataclasses.dataclass(frozen=True, slots=True)
class Scenario:
    """One scripted activation: which samples the persona submits and what should happen."""

    persona: str
    login: str
    departement: str
    vitale_image: str | None  # sample id of a carte Vitale photo, or None to type the NIR
    attempts: tuple[tuple[str, str], ...]  # (document set id, clip sample id) per identity attempt
    secret_codes: tuple[str, ...]  # tried in order: the refused ones first
    expected: str  # final state: "approved" or "rejected"


SCENARIOS = (
    Scenario("genuine", "lea.aubry@example.org", "05", "genuine_vitale",
             (("genuine_cnie", "bona_fide_astronaut_1"),), ("123456", "190999", "480726"), "approved"),
    Scenario("spoof", "g.lemaitre@example.org", "13", None,
             (("spoof_photocopy", "attack_printed_photo"), ("screen", "attack_screen_replay"),
              ("print", "attack_static_photo")), ("917364",), "rejected"),
)


@dataclasses.dataclass(frozen=True, slots=True)
class StepLog:
    persona: str
    step: str
    ok: bool
    state: str
    reason: str | None
    ms: float
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True, slots=True)
class DemoResult:
    """What the demo did: every step, each persona's final state, the report paths."""

    steps: tuple[StepLog, ...]
    outcomes: dict[str, str]
    expected: dict[str, str]
    attempts: dict[str, list[dict[str, Any]]]
    json_report: str
    html_report: str

    @property
    def passed(self) -> bool:
        return self.outcomes == self.expected

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "outcomes": self.outcomes, "expected": self.expected,
                "steps": [s.to_dict() for s in self.steps], "json_report": self.json_report,
                "html_report": self.html_report}


class _RecordingVerifier:
    """The real verifier, keeping a copy of each report and its evidence images for the demo's HTML."""

    def __init__(self) -> None:
        from idverify.flow import VerifyIdentity

        self._inner = VerifyIdentity()
        self.records: list[dict[str, Any]] = []

    def verify(self, **kwargs: Any) -> Any:
        report = self._inner.verify(**kwargs)
        evidence_dir = Path(kwargs["evidence_dir"])
        written: dict[str, str] = dict(getattr(report, "evidence", {}))
        images = {name: (evidence_dir / file).read_bytes() for name, file in written.items()
                  if (evidence_dir / file).is_file()}
        self.records.append({"report": report.to_dict(), "images": images})
        return report


def _index() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / "index.json").read_text(encoding="utf-8"))
    return data


def _sample_path(index: dict[str, Any], sample_id: str) -> Path:
    for sample in index["samples"]:
        if sample["id"] == sample_id:
            return SAMPLES / sample["paths"][0]
    raise IdVerifyError("usage_error", f"no sample {sample_id!r} in samples/index.json")


def _document_set(index: dict[str, Any], set_id: str) -> dict[str, Path]:
    for entry in index["sets"]:
        if entry["id"] == set_id:
            return {side: _sample_path(index, entry[side]) for side in ("recto", "verso", "tilted")}
    raise IdVerifyError("usage_error", f"no document set {set_id!r} in samples/index.json")


def _accounts(index: dict[str, Any]) -> list[Any]:
    from idverify.flow import Account

    accounts = []
    for scenario in SCENARIOS:
        p = index["personas"][scenario.persona]
        accounts.append(Account(account_id=f"acc-{scenario.persona}", email=scenario.login, surname=p["surname"],
                                given_names=" ".join(p["given_names"]), birth_date=p["birth_date"], nir=p["nir"]))
    return accounts


class _Steps:
    """Runs flow steps, timing and printing each one."""

    def __init__(self, persona: str, say: Callable[[str], None], log: list[StepLog]) -> None:
        self.persona, self.say, self.log = persona, say, log

    def __call__(self, name: str, fn: Callable[..., Any], *args: Any, note: str = "", **kwargs: Any) -> Any:
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        ms = (time.perf_counter() - start) * 1000.0
        self.log.append(StepLog(self.persona, name, result.ok, result.state.value, result.reason, round(ms, 1), note))
        outcome = "ok" if result.ok else f"refused: {result.reason}"
        self.say(f"  {name:<22s} {outcome:<40s} -> {result.state.value:<15s} {ms:8.1f} ms  {note}")
        return result


def _activate(service: Any, mailer: Any, index: dict[str, Any], scenario: Scenario, say: Callable[[str], None],
              log: list[StepLog]) -> str:
    """One persona through the whole flow; returns the final state."""
    step = _Steps(scenario.persona, say, log)
    persona = index["personas"][scenario.persona]
    say(f"\n== persona '{scenario.persona}' ({persona['surname']}) ==")
    a = step("start", service.start).activation_id
    step("accept_terms", service.accept_terms, a, "cgu-2024-01")
    step("check_eligibility", service.check_eligibility, a, scenario.departement, scenario.login,
         note=f"département {scenario.departement}")
    scanned = None
    if scenario.vitale_image:
        scanned = step("carte_vitale (scanned)", service.submit_carte_vitale, a,
                       image=_sample_path(index, scenario.vitale_image))
    if scanned is None or not scanned.ok:  # typed, or the app's fallback when the scan is not read
        step("carte_vitale (typed)", service.submit_carte_vitale, a, nir=persona["nir_formatted"])
    step("send_email_code", service.send_email_code, a)
    message = mailer.last_to(scenario.login)
    found = re.search(r"\b(\d{6})\b", message.body) if message is not None else None
    step("submit_email_code", service.submit_email_code, a, found.group(1) if found else "000000",
         note="code read from the e-mail")
    for set_id, clip_id in scenario.attempts:
        result = step("submit_identity", service.submit_identity, a, video=_sample_path(index, clip_id),
                      note=f"{set_id} + {clip_id}", **_document_set(index, set_id))
        if not result.ok:
            say(f"      reasons: {', '.join(result.details.get('reasons', [])) or result.reason}")
        if result.ok or result.state.value != "identity":
            break
    if service.status(a).state.value == "secret_code":
        for code in scenario.secret_codes:
            if step("set_secret_code", service.set_secret_code, a, code, note=f"tries {code}").ok:
                break
    if service.status(a).state.value == "pending_review":
        pending = service.pending_reviews()
        bundle = service.evidence(a)
        item = next(p for p in pending if p.activation_id == a)
        say(f"  reviewer: {len(pending)} file(s) pending, this one due in {item.remaining_seconds / 3600:.0f} h; "
            f"attempt reasons {[list(x.reasons) for x in bundle.attempts]}")
        if bundle.reports.get(len(bundle.attempts), {}).get("passed"):
            step("approve", service.approve, a, "reviewer-demo", "checks coherent, portrait matches")
        else:
            step("reject", service.reject, a, "reviewer-demo", "automated checks failed")
    final = service.status(a)
    kept = service.evidence(a).evidence_dir is not None
    say(f"  final state: {final.state.value} ({final.decision_reason}); biometric material kept: {kept}")
    return str(final.state.value)


def run_demo(out: str | Path = "out/demo", quiet: bool = False) -> DemoResult:
    """Run the scripted activations; write ``report.json`` and ``report.html`` into ``out``."""
    from idverify.flow import ActivationService, MemoryMailer, SqliteAccountDirectory

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    index = _index()
    say: Callable[[str], None] = (lambda _: None) if quiet else (lambda s: print(s, flush=True))
    workdir = Path(tempfile.mkdtemp(prefix="idverify-demo-"))
    steps: list[StepLog] = []
    outcomes: dict[str, str] = {}
    attempts: dict[str, list[dict[str, Any]]] = {}
    try:
        mailer = MemoryMailer()
        accounts = SqliteAccountDirectory(workdir / "accounts.db")
        accounts.add(*_accounts(index))
        verifier = _RecordingVerifier()
        service = ActivationService.open(workdir, mailer=mailer, accounts=accounts, verifier=verifier)
        say(f"idverify demo: activation store {workdir / 'flow.db'} (SQLite), samples {SAMPLES}")
        for scenario in SCENARIOS:
            first = len(verifier.records)
            outcomes[scenario.persona] = _activate(service, mailer, index, scenario, say, steps)
            attempts[scenario.persona] = verifier.records[first:]
        purge = service.purge()
        say(f"\npurge job: {len(purge.purged)} activation(s) purged now; audit rows: {len(service.audit())}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    json_path = out_dir / "report.json"
    html_path = out_dir / "report.html"
    expected = {s.persona: s.expected for s in SCENARIOS}
    reports = {p: [r["report"] for r in recs] for p, recs in attempts.items()}
    payload = {"outcomes": outcomes, "expected": expected, "steps": [s.to_dict() for s in steps], "attempts": reports}
    json_path.write_text(json.dumps(to_jsonable(payload), ensure_ascii=False, indent=1), encoding="utf-8")
    write_html_report(html_path, steps=[s.to_dict() for s in steps], attempts=attempts, outcomes=outcomes,
                      expected=expected)
    result = DemoResult(tuple(steps), outcomes, expected, reports, str(json_path), str(html_path))
    say(f"\nreports: {json_path}  {html_path}")
    say("demo " + ("PASSED: genuine approved, spoof rejected" if result.passed else
                   f"FAILED: outcomes {outcomes}, expected {expected}"))
    return result


if __name__ == "__main__":
    sys.exit(0 if run_demo().passed else 1)
