"""The activation service: the state machine plus storage, e-mail, time, checks and retention.

One method per step. Each returns a :class:`StepResult`: ``ok`` and the new
state, or a reason code with the state unchanged (bad input never moves or
breaks a session). Calling a step the current state does not allow raises
:class:`idverify.errors.InvalidTransition` and changes nothing.

Every write is one ``BEGIN IMMEDIATE`` transaction that also appends the
audit row of the transition. Slow work (account lookup, OCR, scrypt, the
identity checks, SMTP) runs outside transactions; the transaction then
re-checks the state.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from idverify.config import FLOW, FlowConfig
from idverify.errors import EngineError, InputError, InvalidNIR, UsageError
from idverify.flow import otp, pin
from idverify.flow.clock import Clock, SystemClock
from idverify.flow.eligibility import Account, AccountDirectory, SqliteAccountDirectory, check_departement
from idverify.flow.machine import (
    INITIAL_STATE,
    TERMINAL_STATES,
    USER_PHASE_STATES,
    Abandoned,
    CarteVitaleRecorded,
    EligibilityConfirmed,
    EmailCodeRejected,
    EmailCodeSendFailed,
    EmailCodeSent,
    EmailCodeVerified,
    Event,
    IdentityAttemptFailed,
    IdentityAttemptsExhausted,
    IdentityVerified,
    Locked,
    ReviewApproved,
    ReviewRejected,
    SecretCodeSet,
    SessionExpired,
    State,
    TermsAccepted,
    require,
    transition,
)
from idverify.flow.mail import Mailer
from idverify.flow.ports import (
    CarteVitaleReader,
    IdentityReport,
    IdentityVerifier,
    NirParser,
    VerifyIdentity,
    nir_text,
    parse_nir,
    read_carte_vitale,
)
from idverify.flow.records import (
    ActivationRecord,
    AttemptRecord,
    AuditEntry,
    EvidenceBundle,
    PurgeResult,
    ReviewItem,
    StepResult,
)
from idverify.flow.store import ConcurrentUpdate, SqliteStore, Store, StoreTx
from idverify.flow.vault import EvidenceVault, Source
from idverify.reasons import REASONS

log = logging.getLogger("idverify.flow")

# What a step's decision function returns: a refusal (a StepResult, nothing written) or
# (event, row changes incl. "actor", reason or None, result details).
_Outcome = StepResult | tuple[Event, dict[str, Any], str | None, dict[str, Any]]

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TEXT_MAX = 500


class ActivationService:
    """Runs carte Vitale activations (DESIGN §1) on injected ports.

    ``store`` (:class:`Store`), ``mailer`` (:class:`Mailer`), ``accounts``
    (:class:`AccountDirectory`) and ``vault`` (:class:`EvidenceVault`) are
    required; ``clock``, ``verifier`` (default :func:`idverify.verify.verify_identity`),
    ``carte_vitale_reader`` and ``nir_parser`` (default :mod:`idverify.ocr`) are
    optional. ``pepper`` is an optional server secret mixed into e-mail code digests.
    """

    def __init__(self, store: Store, *, mailer: Mailer, accounts: AccountDirectory, vault: EvidenceVault,
                 clock: Clock | None = None, verifier: IdentityVerifier | None = None,
                 carte_vitale_reader: CarteVitaleReader | None = None, nir_parser: NirParser | None = None,
                 config: FlowConfig = FLOW, pepper: bytes = b"") -> None:
        self.store = store
        self.mailer = mailer
        self.accounts = accounts
        self.vault = vault
        self.clock: Clock = clock or SystemClock()
        self.verifier: IdentityVerifier = verifier or VerifyIdentity()
        self.read_carte_vitale: CarteVitaleReader = carte_vitale_reader or read_carte_vitale
        self.parse_nir: NirParser = nir_parser or parse_nir
        self.config = config
        self._pepper = pepper
        self._last_purge: float | None = None
        self._purge_lock = threading.Lock()

    @classmethod
    def open(cls, directory: str | Path, *, mailer: Mailer, accounts: AccountDirectory | None = None,
             config: FlowConfig = FLOW, **kwargs: Any) -> ActivationService:
        """A service on ``directory``: ``flow.db`` (SQLite), ``evidence/`` (vault), ``accounts.db``."""
        root = Path(directory)
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        store = SqliteStore(root / "flow.db", busy_timeout=config.sqlite_busy_timeout,
                            synchronous=config.sqlite_synchronous)
        return cls(store, mailer=mailer, accounts=accounts or SqliteAccountDirectory(root / "accounts.db"),
                   vault=EvidenceVault(root / "evidence"), config=config, **kwargs)

    # ------------------------------------------------------------------ plumbing
    def _load(self, tx: StoreTx, activation_id: str) -> ActivationRecord:
        rec = tx.get(activation_id) if isinstance(activation_id, str) else None
        if rec is None:
            raise UsageError("activation_not_found", f"no activation {activation_id!r}")
        return rec

    def _apply(self, tx: StoreTx, rec: ActivationRecord, event: Event, actor: str, now: float,
               done: list[AuditEntry], **changes: Any) -> ActivationRecord:
        """Transition + row update (version checked) + audit row, in the caller's transaction."""
        new_state = transition(rec.state, event)
        new = dataclasses.replace(rec, state=new_state, version=rec.version + 1, updated_at=now, **changes)
        tx.update(new, expected_version=rec.version)
        if new_state in TERMINAL_STATES:
            # Retention: the biometric material goes with the decision. Recorded here, atomically
            # with it; the files are unlinked right after the commit (a crash in between leaves
            # files without a live row, which the purge job's orphan sweep deletes).
            tx.mark_purged(rec.id, now, "decided")
        entry = AuditEntry(rec.id, now, actor, event.name, rec.state.value, new_state.value, new.version,
                           event.detail())
        tx.append_audit(entry)
        done.append(entry)
        return new

    def _expire_if_due(self, tx: StoreTx, rec: ActivationRecord, now: float,
                       done: list[AuditEntry]) -> ActivationRecord | None:
        if rec.state in USER_PHASE_STATES and now >= rec.expires_at:
            return self._apply(tx, rec, SessionExpired(), "system", now, done,
                               closed_reason="activation_expired", otp_digest=None)
        return None

    @staticmethod
    def _result(step: str, rec: ActivationRecord, reason: str | None = None, **details: Any) -> StepResult:
        return StepResult(rec.id, step, reason is None, rec.state, reason, details)

    def _after(self, done: list[AuditEntry]) -> None:
        """After a commit: log the transitions, purge what a terminal state frees, maybe run the purge job."""
        for e in done:
            log.info("activation %s: %s %s -> %s (v%d) by %s", e.activation_id, e.event, e.from_state,
                     e.to_state, e.version, e.actor)
        for e in done:
            if State(e.to_state) in TERMINAL_STATES and self.vault.purge(e.activation_id):
                log.info("activation %s: biometric material deleted (decided)", e.activation_id)
        self._maybe_purge()

    def _simple(self, step: str, activation_id: str, event_type: type[Event],
                make: Callable[[StoreTx, ActivationRecord, float], _Outcome]) -> StepResult:
        """Run a step whose work is cheap: one transaction; ``make(rec, now)`` returns
        ``(event, changes)`` or a ``(reason, details)`` refusal."""
        done: list[AuditEntry] = []
        try:
            with self.store.transaction() as tx:
                rec = self._load(tx, activation_id)
                now = self.clock.now()
                expired = self._expire_if_due(tx, rec, now, done)
                if expired is not None:
                    result = self._result(step, expired, "activation_expired")
                else:
                    require(rec.state, event_type)
                    outcome = make(tx, rec, now)
                    if isinstance(outcome, StepResult):
                        result = outcome
                    else:
                        event, changes, reason, details = outcome
                        new = self._apply(tx, rec, event, changes.pop("actor"), now, done, **changes)
                        result = self._result(step, new, reason, **details)
        except ConcurrentUpdate:
            return self._result(step, self.status(activation_id), "concurrent_update")
        self._after(done)
        return result

    def _peek(self, activation_id: str, event_type: type[Event]) -> ActivationRecord:
        """Read-only check before slow work: raises ``InvalidTransition`` early (expiry is left to the write)."""
        with self.store.read() as tx:
            rec = self._load(tx, activation_id)
        if not (rec.state in USER_PHASE_STATES and self.clock.now() >= rec.expires_at):
            require(rec.state, event_type)
        return rec

    # ------------------------------------------------------------------ steps
    def start(self, *, actor: str = "user") -> StepResult:
        """Open an activation (state ``terms``)."""
        now = self.clock.now()
        rec = ActivationRecord(id=secrets.token_urlsafe(16), state=INITIAL_STATE, version=1, created_at=now,
                               updated_at=now, expires_at=now + self.config.activation_ttl, otp_salt=otp.new_salt())
        entry = AuditEntry(rec.id, now, actor, "created", "", rec.state.value, 1, {})
        with self.store.transaction() as tx:
            tx.insert(rec)
            tx.append_audit(entry)
        self._after([entry])
        return self._result("start", rec)

    def accept_terms(self, activation_id: str, terms_version: str, *, actor: str = "user") -> StepResult:
        """Step 1: the user accepted the terms of use (``terms_version`` identifies the text)."""
        def make(tx: StoreTx, rec: ActivationRecord, now: float) -> _Outcome:
            if not isinstance(terms_version, str) or not terms_version.strip() or len(terms_version) > 64:
                return self._result("accept_terms", rec, "terms_version_missing")
            v = terms_version.strip()
            return TermsAccepted(terms_version=v), {"actor": actor, "terms_version": v}, None, {}
        return self._simple("accept_terms", activation_id, TermsAccepted, make)

    def check_eligibility(self, activation_id: str, departement: str, login: str, *,
                          actor: str = "user") -> StepResult:
        """Step 2: département in the configured list and an online account for ``login``."""
        rec = self._peek(activation_id, EligibilityConfirmed)
        code, reason = check_departement(departement, self.config.eligible_departements)
        account: Account | None = None
        if reason is None:
            account = self.accounts.lookup(login) if isinstance(login, str) else None
            if account is None:
                reason = "account_not_found"
            elif not account.email or "@" not in account.email:
                reason = "account_email_missing"
        if reason is not None:
            return self._result("check_eligibility", rec, reason, departement=code)

        def make(tx: StoreTx, rec: ActivationRecord, now: float) -> _Outcome:
            assert account is not None and code is not None
            return (EligibilityConfirmed(departement=code),
                    {"actor": actor, "departement": code, "account_id": account.account_id,
                     "email": account.email, "birth_date": account.birth_date}, None, {"departement": code})
        return self._simple("check_eligibility", activation_id, EligibilityConfirmed, make)

    def submit_carte_vitale(self, activation_id: str, *, image: Any = None, nir: str | None = None,
                            actor: str = "user") -> StepResult:
        """Step 3: the carte Vitale scanned (``image``: read by the OCR) or its NIR typed (``nir``)."""
        if (image is None) == (nir is None):
            raise UsageError("usage_error", "give exactly one of image= (scanned) or nir= (typed)")
        rec = self._peek(activation_id, CarteVitaleRecorded)
        step = "submit_carte_vitale"
        surname = given = None
        try:
            if nir is not None:
                method = "typed"
                if not isinstance(nir, str):
                    raise InvalidNIR("nir_invalid", "the NIR must be text")
                value = nir_text(self.parse_nir(nir))
            else:
                method = "scanned"
                scan = self.read_carte_vitale(image)
                raw = getattr(scan, "nir", None)
                if raw is None:
                    return self._result(step, rec, "carte_vitale_unreadable")
                try:
                    value = nir_text(raw)
                except InvalidNIR:
                    return self._result(step, rec, "carte_vitale_unreadable")
                surname, given = getattr(scan, "surname", None), getattr(scan, "given_names", None)
        except InputError as exc:  # InvalidNIR included
            return self._result(step, rec, exc.reason)
        account = self.accounts.lookup(rec.account_id) if rec.account_id else None
        if account is not None and account.nir and account.nir.replace(" ", "").upper() != value:
            return self._result(step, rec, "nir_account_mismatch")

        def make(tx: StoreTx, rec: ActivationRecord, now: float) -> _Outcome:
            return (CarteVitaleRecorded(method=method),
                    {"actor": actor, "nir": value, "nir_source": method, "card_surname": surname,
                     "card_given_names": given}, None, {"method": method})
        return self._simple(step, activation_id, CarteVitaleRecorded, make)

    def send_email_code(self, activation_id: str, *, actor: str = "user") -> StepResult:
        """Step 4a: e-mail a fresh 6-digit code (also the resend; throttled and capped)."""
        step = "send_email_code"
        code = otp.new_code()
        cfg = self.config

        def make(tx: StoreTx, rec: ActivationRecord, now: float) -> _Outcome:
            if rec.otp_sends >= cfg.email_max_sends:
                return self._result(step, rec, "email_send_limit", sends=rec.otp_sends)
            if rec.otp_sent_at is not None and now - rec.otp_sent_at < cfg.email_resend_interval:
                wait = round(cfg.email_resend_interval - (now - rec.otp_sent_at), 3)
                return self._result(step, rec, "email_resend_too_soon", retry_after=wait)
            n = rec.otp_sends + 1
            return (EmailCodeSent(send_count=n),
                    {"actor": actor, "otp_digest": otp.code_digest(code, rec.otp_salt, self._pepper),
                     "otp_sent_at": now, "otp_expires_at": now + cfg.email_code_ttl, "otp_sends": n},
                    None, {"sends": n, "expires_in": cfg.email_code_ttl})
        result = self._simple(step, activation_id, EmailCodeSent, make)
        if not result.ok:
            return result
        with self.store.read() as tx:
            rec = self._load(tx, activation_id)
        minutes = max(1, round(cfg.email_code_ttl / 60))
        try:
            self.mailer.send(rec.email or "", "Votre code d'activation carte Vitale",
                             f"Bonjour,\n\nVotre code de vérification est : {code}\n"
                             f"Il est valable {minutes} minutes et ne sert qu'une fois.\n"
                             "Si vous n'avez pas demandé ce code, ignorez ce message.\n")
        except EngineError:
            return self._undo_send(activation_id, rec, actor)
        return result

    def _undo_send(self, activation_id: str, sent: ActivationRecord, actor: str) -> StepResult:
        """The mail failed: void the code and give the send back (only if nothing happened since)."""
        done: list[AuditEntry] = []
        with self.store.transaction() as tx:
            rec = self._load(tx, activation_id)
            if rec.version == sent.version and rec.state is State.EMAIL_CODE:
                rec = self._apply(tx, rec, EmailCodeSendFailed(), actor, self.clock.now(), done,
                                  otp_digest=None, otp_sent_at=None, otp_expires_at=None,
                                  otp_sends=rec.otp_sends - 1)
        self._after(done)
        return self._result("send_email_code", rec, "mail_send_failed")

    def submit_email_code(self, activation_id: str, code: str, *, actor: str = "user") -> StepResult:
        """Step 4b: the code typed back. Single use, expires, 5 wrong codes lock the activation."""
        step = "submit_email_code"
        cfg = self.config

        def make(tx: StoreTx, rec: ActivationRecord, now: float) -> _Outcome:
            if not otp.is_well_formed(code):
                return self._result(step, rec, "email_code_format")
            if rec.otp_digest is None:
                return self._result(step, rec, "email_code_not_sent")
            if rec.otp_expires_at is None or now >= rec.otp_expires_at:
                return self._result(step, rec, "email_code_expired")
            if otp.code_matches(code, rec.otp_digest, rec.otp_salt, self._pepper):
                return (EmailCodeVerified(), {"actor": actor, "otp_digest": None, "otp_expires_at": None},
                        None, {})
            failures = rec.otp_failures + 1
            if failures >= cfg.email_code_max_failures:
                return (Locked(reason="email_code_locked"),
                        {"actor": actor, "otp_failures": failures, "otp_digest": None,
                         "closed_reason": "email_code_locked"}, "email_code_locked", {"failures": failures})
            return (EmailCodeRejected(failures=failures), {"actor": actor, "otp_failures": failures},
                    "email_code_wrong", {"tries_left": cfg.email_code_max_failures - failures})
        return self._simple(step, activation_id, EmailCodeVerified, make)

    def submit_identity(self, activation_id: str, *, recto: Source, verso: Source, tilted: Source,
                        video: Source, actor: str = "user") -> StepResult:
        """Step 5: ID card recto, verso, tilted and the selfie clip (bytes or paths).

        The files go to the activation's vault folder (biometric, purged by
        retention); the verifier's report summary (scores, reasons) is kept
        per attempt for the reviewer. At most ``identity_max_attempts``.
        """
        step = "submit_identity"
        cfg = self.config
        inputs = {"recto": recto, "verso": verso, "tilted": tilted, "video": video}
        rec = self._peek(activation_id, IdentityVerified)
        missing = [k for k, v in inputs.items() if v is None or (isinstance(v, (bytes, bytearray, str)) and not v)]
        if missing:
            return self._result(step, rec, "evidence_missing", missing=missing)

        # phase 1: reserve the attempt number and the retention deadline
        done: list[AuditEntry] = []
        refusal: StepResult | None = None
        with self.store.transaction() as tx:
            rec = self._load(tx, activation_id)
            now = self.clock.now()
            expired = self._expire_if_due(tx, rec, now, done)
            if expired is not None:
                refusal = self._result(step, expired, "activation_expired")
            else:
                require(rec.state, IdentityVerified)
                attempts = tx.attempts(activation_id)
                for a in attempts:
                    if a.status == "running" and now - a.started_at >= cfg.identity_attempt_timeout:
                        tx.put_attempt(dataclasses.replace(a, status="interrupted", finished_at=now,
                                                           reasons=("identity_attempt_interrupted",)))
                    elif a.status == "running":
                        refusal = self._result(step, rec, "identity_attempt_in_progress")
                n = len(attempts) + 1
                if refusal is None and n > cfg.identity_max_attempts:
                    new = self._apply(tx, rec, IdentityAttemptsExhausted(attempt=n - 1,
                                                                         reasons=("identity_attempt_interrupted",)),
                                      "system", now, done, decided_at=now, decided_by="system",
                                      decision_reason="identity_attempts_exhausted")
                    refusal = self._result(step, new, "identity_attempts_exhausted")
                elif refusal is None:
                    tx.put_attempt(AttemptRecord(activation_id, n, now, "running"))
                    tx.hold_biometrics(activation_id, now, now + cfg.biometric_retention)
        if refusal is not None:
            self._after(done)
            return refusal

        # phase 2: store the evidence and run the checks, outside any transaction
        folder = self.vault.attempt_dir(activation_id, n)
        try:
            paths = {k: self.vault.put(folder, k, v, cfg.max_clip_bytes if k == "video" else cfg.max_evidence_bytes)
                     for k, v in inputs.items()}
            account = self.accounts.lookup(rec.account_id) if rec.account_id else None
            report = self.verifier.verify(recto=paths["recto"], verso=paths["verso"], tilted=paths["tilted"],
                                          video=paths["video"], nir=rec.nir, account=account,
                                          evidence_dir=folder)
            full = report.to_dict()
            self.vault.write_report(folder, full)
        except InputError as exc:
            self._cancel_attempt(activation_id, n)
            return self._result(step, rec, exc.reason)
        except BaseException:
            self._cancel_attempt(activation_id, n)
            raise
        passed = bool(report.passed)
        reasons = tuple(str(r) for r in report.reasons)
        checks = _check_summaries(full)
        files = self.vault.files(folder)
        birth = _find_birth_date(full)

        # phase 3: record the outcome and move the state, atomically
        done = []
        with self.store.transaction() as tx:
            rec = self._load(tx, activation_id)
            now = self.clock.now()
            current = next((a for a in tx.attempts(activation_id) if a.n == n), None)
            if current is None or current.status != "running":
                return self._result(step, rec, "identity_attempt_interrupted")
            tx.put_attempt(dataclasses.replace(current, status="passed" if passed else "failed",
                                               finished_at=now, reasons=reasons, checks=checks, files=files))
            if rec.state is not State.IDENTITY:  # abandoned, locked or expired meanwhile: keep the attempt only
                result = self._result(step, rec, "invalid_transition")
            elif passed:
                rec = self._apply(tx, rec, IdentityVerified(attempt=n), actor, now, done,
                                  identity_attempts=n, birth_date=birth or rec.birth_date)
                result = self._result(step, rec, attempt=n)
            elif n >= cfg.identity_max_attempts:
                rec = self._apply(tx, rec, IdentityAttemptsExhausted(attempt=n, reasons=reasons), actor, now, done,
                                  identity_attempts=n, decided_at=now, decided_by="system",
                                  decision_reason="identity_attempts_exhausted")
                result = self._result(step, rec, "identity_attempts_exhausted", attempt=n, reasons=list(reasons))
            else:
                rec = self._apply(tx, rec, IdentityAttemptFailed(attempt=n, reasons=reasons), actor, now, done,
                                  identity_attempts=n)
                result = self._result(step, rec, "identity_failed", attempt=n, reasons=list(reasons),
                                      attempts_left=cfg.identity_max_attempts - n)
        self._after(done)
        return result

    def _cancel_attempt(self, activation_id: str, n: int) -> None:
        """Unusable input or a broken engine: the attempt does not count and its files go."""
        with self.store.transaction() as tx:
            tx.delete_attempt(activation_id, n)
        self.vault.remove_attempt(activation_id, n)

    def set_secret_code(self, activation_id: str, code: str, *, birth_date: str | None = None,
                        actor: str = "user") -> StepResult:
        """Step 6: the personal 6-digit code (rules in :mod:`idverify.flow.pin`; stored as scrypt)."""
        step = "set_secret_code"
        rec = self._peek(activation_id, SecretCodeSet)
        births = [d for d in (rec.birth_date, birth_date) if d]
        account = self.accounts.lookup(rec.account_id) if rec.account_id else None
        if account is not None and account.birth_date:
            births.append(account.birth_date)
        reason = pin.check_secret_code(code, birth_dates=births, extra_forbidden=pin.nir_birth_forms(rec.nir))
        if reason is not None:
            return self._result(step, rec, reason)
        cfg = self.config
        digest = pin.hash_secret_code(code, n=cfg.scrypt_n, r=cfg.scrypt_r, p=cfg.scrypt_p)

        def make(tx: StoreTx, rec: ActivationRecord, now: float) -> _Outcome:
            return (SecretCodeSet(), {"actor": actor, "secret_hash": digest, "submitted_at": now,
                                      "review_deadline": now + cfg.review_deadline},
                    None, {"review_deadline": now + cfg.review_deadline})
        return self._simple(step, activation_id, SecretCodeSet, make)

    # ------------------------------------------------------------------ review
    def pending_reviews(self, limit: int | None = None) -> list[ReviewItem]:
        """Files waiting for a reviewer, oldest first (at most ``limit``), with the 48 h deadline
        and an overdue flag."""
        now = self.clock.now()
        with self.store.read() as tx:
            recs = tx.pending_review(limit)
        return [self._review_item(r, now) for r in recs]

    @staticmethod
    def _review_item(rec: ActivationRecord, now: float) -> ReviewItem:
        submitted = rec.submitted_at if rec.submitted_at is not None else rec.updated_at
        deadline = rec.review_deadline if rec.review_deadline is not None else submitted
        return ReviewItem(rec.id, submitted, deadline, now - submitted, deadline - now, now > deadline,
                          rec.identity_attempts)

    def evidence(self, activation_id: str) -> EvidenceBundle:
        """The reviewer's bundle: activation (no secrets), every attempt, full reports until purged."""
        with self.store.read() as tx:
            rec = self._load(tx, activation_id)
            attempts = tuple(tx.attempts(activation_id))
            bio = tx.biometric(activation_id)
        live = bio is not None and bio.purged_at is None
        reports: dict[int, Mapping[str, Any]] = {}
        if live:
            for a in attempts:
                full = self.vault.read_report(activation_id, a.n)
                if full is not None:
                    reports[a.n] = full
        review = self._review_item(rec, self.clock.now()) if rec.state is State.PENDING_REVIEW else None
        folder = str(self.vault.activation_dir(activation_id)) if live else None
        return EvidenceBundle(rec, attempts, reports, folder, bio, review)

    def approve(self, activation_id: str, reviewer: str, note: str) -> StepResult:
        """Step 7: a reviewer approves (``note`` says why); biometric material is deleted now."""
        return self._decide(activation_id, reviewer, note, approve=True)

    def reject(self, activation_id: str, reviewer: str, reason: str) -> StepResult:
        """Step 7: a reviewer rejects with a reason; biometric material is deleted now."""
        return self._decide(activation_id, reviewer, reason, approve=False)

    def _decide(self, activation_id: str, reviewer: str, text: str, *, approve: bool) -> StepResult:
        step = "approve" if approve else "reject"
        event_type: type[Event] = ReviewApproved if approve else ReviewRejected

        def make(tx: StoreTx, rec: ActivationRecord, now: float) -> _Outcome:
            if not isinstance(reviewer, str) or not reviewer.strip():
                return self._result(step, rec, "reviewer_missing")
            if not isinstance(text, str) or not text.strip():
                return self._result(step, rec, "review_reason_missing")
            clean = text.strip()[:_TEXT_MAX]
            event = ReviewApproved(note=clean) if approve else ReviewRejected(reason=clean)
            return (event, {"actor": reviewer.strip(), "decided_at": now, "decided_by": reviewer.strip(),
                            "decision_reason": clean}, None, {})
        return self._simple(step, activation_id, event_type, make)

    # ------------------------------------------------------------------ other events
    def abandon(self, activation_id: str, *, actor: str = "user") -> StepResult:
        """The user gives up (any user-phase state)."""
        def make(tx: StoreTx, rec: ActivationRecord, now: float) -> _Outcome:
            return Abandoned(), {"actor": actor, "closed_reason": "abandoned_by_user", "otp_digest": None}, None, {}
        return self._simple("abandon", activation_id, Abandoned, make)

    def lock(self, activation_id: str, *, actor: str, reason: str = "locked_by_operator") -> StepResult:
        """An operator locks a non-terminal activation (``reason`` must be a known reason code)."""
        if reason not in REASONS:
            raise UsageError("usage_error", f"unknown reason code {reason!r}")

        def make(tx: StoreTx, rec: ActivationRecord, now: float) -> _Outcome:
            return Locked(reason=reason), {"actor": actor, "closed_reason": reason, "otp_digest": None}, None, {}
        return self._simple("lock", activation_id, Locked, make)

    def status(self, activation_id: str) -> ActivationRecord:
        """The activation as stored (secrets are never in its repr or to_dict)."""
        with self.store.read() as tx:
            return self._load(tx, activation_id)

    def audit(self, activation_id: str | None = None) -> list[AuditEntry]:
        """The audit log (one activation, or all), in order."""
        with self.store.read() as tx:
            return tx.audit_log(activation_id)

    # ------------------------------------------------------------------ retention
    def purge(self) -> PurgeResult:
        """The retention job: expire stale sessions, delete biometric material that is due
        (decided/closed activations, or past ``biometric_retention``), sweep orphan folders."""
        now = self.clock.now()
        with self.store.read() as tx:
            stale = tx.stale_sessions(now, sorted(USER_PHASE_STATES, key=lambda s: s.value))
        expired: list[str] = []
        files = 0
        for activation_id in stale:
            done: list[AuditEntry] = []
            with self.store.transaction() as tx:
                rec = tx.get(activation_id)
                if rec is not None and self._expire_if_due(tx, rec, now, done) is not None:
                    expired.append(activation_id)
            for e in done:
                log.info("activation %s: %s by system", e.activation_id, e.event)
                removed = self.vault.purge(e.activation_id)
                files += removed
                if removed:
                    log.info("activation %s: biometric material deleted (decided)", e.activation_id)
        with self.store.read() as tx:
            due = [b.activation_id for b in tx.biometric_due(now, sorted(TERMINAL_STATES, key=lambda s: s.value))]
        files += self._purge_ids(due, now)
        due = [*expired, *due]
        # Orphans: folders without a live retention row. List the disk BEFORE reading the rows:
        # a submission commits its row before creating its folder, so a folder seen here
        # belongs to a row that the read below sees (no in-flight evidence is taken for an orphan).
        on_disk = self.vault.activation_ids()
        with self.store.read() as tx:
            live = tx.live_biometric_ids()
        dead = [a for a in on_disk if a not in live]
        orphans = [a for a in dead if self.vault.has_files(a)]
        for a in orphans:
            files += self.vault.purge(a)
        self.vault.sweep_empty(dead)
        self._last_purge = now
        return PurgeResult(tuple(due), tuple(expired), tuple(orphans), files)

    def _purge_ids(self, activation_ids: list[str], now: float) -> int:
        """Delete the files first, then record the purge (a crash in between is redone next run)."""
        files = 0
        for activation_id in activation_ids:
            with self.store.read() as tx:
                rec = tx.get(activation_id)
                bio = tx.biometric(activation_id)
            if bio is None or bio.purged_at is not None or rec is None:
                continue
            files += self.vault.purge(activation_id)
            why = "decided" if rec.state in TERMINAL_STATES else "retention_deadline"
            with self.store.transaction() as tx:
                tx.mark_purged(activation_id, now, why)
            log.info("activation %s: biometric material deleted (%s)", activation_id, why)
        return files

    def _maybe_purge(self) -> None:
        now = self.clock.now()
        if self._last_purge is not None and now - self._last_purge < self.config.purge_interval:
            return
        if not self._purge_lock.acquire(blocking=False):
            return
        try:
            self._last_purge = now
            self.purge()
        except Exception:
            log.exception("opportunistic purge failed")
        finally:
            self._purge_lock.release()


def _check_summaries(report: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    """Name, passed, reason, score, threshold of each check: the part of a report kept after retention."""
    out = []
    for c in report.get("checks") or ():
        if isinstance(c, Mapping):
            out.append({k: c.get(k) for k in ("name", "passed", "reason", "score", "threshold")
                        if isinstance(c.get(k), (str, int, float, bool, type(None)))})
    return tuple(out)


def _find_birth_date(value: Any, depth: int = 0) -> str | None:
    """The first ISO ``birth_date`` in a report (the MRZ's), if any."""
    if depth > 6:
        return None
    if isinstance(value, Mapping):
        found = value.get("birth_date")
        if isinstance(found, str) and _ISO_DATE.match(found):
            return found
        value = list(value.values())
    if isinstance(value, list):
        for v in value:
            hit = _find_birth_date(v, depth + 1)
            if hit:
                return hit
    return None


__all__ = ["ActivationService", "IdentityReport"]
