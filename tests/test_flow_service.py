"""The activation service step by step: happy path, bad input at every step, limits, review."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_flow_support import ACCOUNT, EVIDENCE, NIR, TEST_CONFIG, Env, make_env

from idverify.errors import EngineError, InvalidTransition, UsageError
from idverify.flow import State
from idverify.reasons import REASONS


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    e = make_env(tmp_path)
    yield e
    e.store.close()
    e.accounts.close()


def _unchanged(e: Env, a: str, state: State, version: int) -> None:
    rec = e.service.status(a)
    assert (rec.state, rec.version) == (state, version)


def test_full_activation_is_approved_and_audited(env: Env) -> None:
    a = env.walk_to(State.PENDING_REVIEW)
    queue = env.service.pending_reviews()
    assert [q.activation_id for q in queue] == [a]
    assert queue[0].deadline - queue[0].submitted_at == 48 * 3600 and not queue[0].overdue
    bundle = env.service.evidence(a)
    assert bundle.attempts[0].status == "passed"
    assert {c["name"] for c in bundle.attempts[0].checks} == {"face_match", "liveness"}
    assert "attempt-1/portrait_crop.png" in bundle.attempts[0].files
    assert bundle.reports[1]["checks"][0]["score"] == 0.41
    assert bundle.evidence_dir is not None
    result = env.service.approve(a, "reviewer-7", "documents and face coherent")
    assert result.ok and result.state is State.APPROVED
    events = [e.event for e in env.service.audit(a)]
    assert events == ["created", "terms_accepted", "eligibility_confirmed", "carte_vitale_recorded",
                      "email_code_sent", "email_code_verified", "identity_verified", "secret_code_set",
                      "review_approved"]
    assert [e.version for e in env.service.audit(a)] == list(range(1, 10))
    assert env.service.audit(a)[-1].actor == "reviewer-7"
    rec = env.service.status(a)
    assert rec.decided_by == "reviewer-7" and rec.birth_date == "1969-05-17"
    assert rec.secret_hash is not None and rec.secret_hash.startswith("scrypt$1024$8$1$")
    assert "secret_hash" not in rec.to_dict() and "otp_digest" not in rec.to_dict()
    assert "507931" not in repr(rec)


def test_every_result_reason_is_in_the_reason_table(env: Env) -> None:
    a = env.service.start().activation_id
    results = [env.service.accept_terms(a, ""), env.service.accept_terms(a, "v1")]
    results += [env.service.check_eligibility(a, "xx", "nobody"), env.service.check_eligibility(a, "75", "x")]
    for r in results:
        assert r.reason is None or r.reason in REASONS, r.reason


def test_terms_bad_input(env: Env) -> None:
    a = env.service.start().activation_id
    for bad in ("", "   ", "x" * 65, None):
        r = env.service.accept_terms(a, bad)  # type: ignore[arg-type]
        assert (r.ok, r.reason) == (False, "terms_version_missing")
        _unchanged(env, a, State.TERMS, 1)
    assert env.service.accept_terms(a, "cgu-2024").state is State.ELIGIBILITY


@pytest.mark.parametrize("dep, login, reason", [
    ("75", ACCOUNT.email, "departement_not_eligible"),
    ("20", ACCOUNT.email, "departement_invalid"),
    ("999", ACCOUNT.email, "departement_invalid"),
    ("", ACCOUNT.email, "departement_invalid"),
    ("69", "nobody@example.org", "account_not_found"),
    ("69", "", "account_not_found"),
    ("69", "acc-0002", "account_email_missing"),
])
def test_eligibility_bad_input(env: Env, dep: str, login: str, reason: str) -> None:
    a = env.walk_to(State.ELIGIBILITY)
    r = env.service.check_eligibility(a, dep, login)
    assert (r.ok, r.reason, r.state) == (False, reason, State.ELIGIBILITY)
    _unchanged(env, a, State.ELIGIBILITY, 2)
    ok = env.service.check_eligibility(a, "6", ACCOUNT.account_id)  # 6 -> 06; login by account id
    assert ok.ok and ok.details["departement"] == "06"


def test_eligibility_list_is_configurable(tmp_path: Path) -> None:
    from dataclasses import replace
    e = make_env(tmp_path, config=replace(TEST_CONFIG, eligible_departements=("75",)))
    a = e.walk_to(State.ELIGIBILITY)
    assert e.service.check_eligibility(a, "69", ACCOUNT.email).reason == "departement_not_eligible"
    assert e.service.check_eligibility(a, "75", ACCOUNT.email).ok


def test_carte_vitale_typed_scanned_and_bad_input(env: Env) -> None:
    a = env.walk_to(State.CARTE_VITALE)
    for kwargs, reason in [({"nir": "269054958815781"}, "nir_invalid"),      # wrong key
                           ({"nir": "12"}, "nir_invalid"),
                           ({"image": b"unreadable"}, "carte_vitale_unreadable"),
                           ({"image": b"corrupt"}, "image_corrupt"),
                           ({"nir": "295109912611193"}, "nir_account_mismatch")]:  # valid, not the account's
        r = env.service.submit_carte_vitale(a, **kwargs)
        assert (r.ok, r.reason) == (False, reason), kwargs
        _unchanged(env, a, State.CARTE_VITALE, 3)
    with pytest.raises(UsageError):
        env.service.submit_carte_vitale(a)
    with pytest.raises(UsageError):
        env.service.submit_carte_vitale(a, nir=NIR, image=b"x")
    r = env.service.submit_carte_vitale(a, image=b"photo of the card")
    assert r.ok and r.details["method"] == "scanned"
    rec = env.service.status(a)
    assert (rec.nir, rec.nir_source, rec.card_surname) == (NIR, "scanned", "MARTIN")


def test_typed_nir_with_spaces(env: Env) -> None:
    a = env.walk_to(State.CARTE_VITALE)
    assert env.service.submit_carte_vitale(a, nir="2 69 05 49 588 157 80").ok


def test_email_code_single_use_and_bad_input(env: Env) -> None:
    a = env.walk_to(State.EMAIL_CODE)
    assert env.service.submit_email_code(a, "123456").reason == "email_code_not_sent"
    assert env.service.send_email_code(a).ok
    code = env.code()
    v = env.service.status(a).version
    for bad in ("12345", "abcdef", "", "1234567", None):
        r = env.service.submit_email_code(a, bad)  # type: ignore[arg-type]
        assert (r.ok, r.reason) == (False, "email_code_format")
    _unchanged(env, a, State.EMAIL_CODE, v)
    assert env.service.status(a).otp_failures == 0  # malformed input does not burn a try
    assert env.service.submit_email_code(a, code).state is State.IDENTITY
    with pytest.raises(InvalidTransition):  # single use: the step is over
        env.service.submit_email_code(a, code)
    assert env.service.status(a).otp_digest is None


def test_email_code_brute_force_locks_at_the_limit(env: Env) -> None:
    a = env.walk_to(State.EMAIL_CODE)
    env.service.send_email_code(a)
    code = env.code()
    wrong = [f"{(int(code) + k) % 10**6:06d}" for k in range(1, 10)]
    for i in range(4):
        r = env.service.submit_email_code(a, wrong[i])
        assert (r.reason, r.details["tries_left"], r.state) == ("email_code_wrong", 4 - i, State.EMAIL_CODE)
    r = env.service.submit_email_code(a, wrong[4])
    assert (r.reason, r.state) == ("email_code_locked", State.LOCKED)
    with pytest.raises(InvalidTransition):
        env.service.submit_email_code(a, code)  # even the right code: locked is terminal
    assert env.service.status(a).state is State.LOCKED
    assert [e.event for e in env.service.audit(a)][-5:] == ["email_code_rejected"] * 4 + ["locked"]


def test_email_code_expires(env: Env) -> None:
    a = env.walk_to(State.EMAIL_CODE)
    env.service.send_email_code(a)
    code = env.code()
    env.clock.advance(600)
    assert env.service.submit_email_code(a, code).reason == "email_code_expired"
    assert env.service.status(a).state is State.EMAIL_CODE
    assert env.service.send_email_code(a).ok
    fresh = env.code()
    if fresh != code:  # 1 chance in a million that the new code is the old one
        assert env.service.submit_email_code(a, code).reason == "email_code_wrong"  # void after a resend
    assert env.service.submit_email_code(a, fresh).ok


def test_email_resend_is_throttled_and_capped(env: Env) -> None:
    a = env.walk_to(State.EMAIL_CODE)
    assert env.service.send_email_code(a).ok
    r = env.service.send_email_code(a)
    assert r.reason == "email_resend_too_soon" and 0 < r.details["retry_after"] <= 60
    env.clock.advance(30)
    assert env.service.send_email_code(a).details["retry_after"] == pytest.approx(30)
    for _ in range(4):
        env.clock.advance(60)
        assert env.service.send_email_code(a).ok
    env.clock.advance(60)
    assert env.service.send_email_code(a).reason == "email_send_limit"
    assert len(env.mailer.messages) == 5


def test_mail_failure_undoes_the_send(env: Env) -> None:
    a = env.walk_to(State.EMAIL_CODE)
    env.mailer.fail = True
    r = env.service.send_email_code(a)
    assert (r.ok, r.reason, r.state) == (False, "mail_send_failed", State.EMAIL_CODE)
    rec = env.service.status(a)
    assert rec.otp_sends == 0 and rec.otp_digest is None and rec.otp_sent_at is None
    env.mailer.fail = False
    assert env.service.send_email_code(a).ok  # no throttle after a failed send
    assert env.service.submit_email_code(a, env.code()).ok


def test_identity_attempts_are_kept_and_capped(tmp_path: Path) -> None:
    e = make_env(tmp_path, outcomes=[False, False, True])
    a = e.walk_to(State.IDENTITY)
    r1 = e.service.submit_identity(a, **EVIDENCE)
    assert (r1.reason, r1.details["attempts_left"], r1.details["reasons"]) == ("identity_failed", 2, ["face_mismatch"])
    r2 = e.service.submit_identity(a, **EVIDENCE)
    assert r2.details["attempts_left"] == 1
    r3 = e.service.submit_identity(a, **EVIDENCE)
    assert r3.ok and r3.state is State.SECRET_CODE
    bundle = e.service.evidence(a)
    assert [x.status for x in bundle.attempts] == ["failed", "failed", "passed"]
    assert bundle.attempts[0].reasons == ("face_mismatch",)
    assert set(bundle.reports) == {1, 2, 3}
    assert e.verifier.calls[0]["nir"] == NIR and e.verifier.calls[0]["account"].account_id == ACCOUNT.account_id


def test_identity_three_failures_reject(tmp_path: Path) -> None:
    e = make_env(tmp_path, outcomes=[False, False, False])
    a = e.walk_to(State.IDENTITY)
    e.service.submit_identity(a, **EVIDENCE)
    e.service.submit_identity(a, **EVIDENCE)
    r = e.service.submit_identity(a, **EVIDENCE)
    assert (r.reason, r.state) == ("identity_attempts_exhausted", State.REJECTED)
    assert e.service.status(a).decided_by == "system"
    assert len(e.service.evidence(a).attempts) == 3  # results kept for the record
    assert not e.vault.has_files(a)  # decision: biometric material deleted at once


def test_identity_bad_input_does_not_burn_an_attempt(tmp_path: Path) -> None:
    e = make_env(tmp_path, outcomes=["bad_input", True])
    a = e.walk_to(State.IDENTITY)
    v = e.service.status(a).version
    r = e.service.submit_identity(a, recto=b"", verso=b"x", tilted=b"x", video=b"x")
    assert (r.reason, r.details["missing"]) == ("evidence_missing", ["recto"])
    r = e.service.submit_identity(a, recto=tmp_path / "missing.jpg", verso=b"x", tilted=b"x", video=b"x")
    assert r.reason == "file_not_found"
    r = e.service.submit_identity(a, recto=b"x", verso=b"x", tilted=b"x", video=12)  # type: ignore[arg-type]
    assert r.reason == "input_type"
    r = e.service.submit_identity(a, **EVIDENCE)  # the verifier finds the clip corrupt
    assert r.reason == "video_corrupt"
    _unchanged(e, a, State.IDENTITY, v)
    assert e.service.evidence(a).attempts == ()
    assert not any((e.vault.root / a).rglob("*.*"))  # the refused files were removed
    path = tmp_path / "recto.jpg"
    path.write_bytes(EVIDENCE["recto"])
    assert e.service.submit_identity(a, **{**EVIDENCE, "recto": path}).ok
    assert e.service.evidence(a).attempts[0].n == 1


def test_identity_engine_failure_propagates_and_cancels_the_attempt(env: Env) -> None:
    a = env.walk_to(State.IDENTITY)

    def broken(**kwargs: object) -> None:
        raise EngineError("model_missing", "no model")
    env.service.verifier.verify = broken  # type: ignore[method-assign]
    with pytest.raises(EngineError):
        env.service.submit_identity(a, **EVIDENCE)
    assert env.service.evidence(a).attempts == () and env.service.status(a).state is State.IDENTITY


def test_secret_code_rules_in_the_service(env: Env) -> None:
    a = env.walk_to(State.SECRET_CODE)
    v = env.service.status(a).version
    for code, reason in [("111111", "secret_code_repeated"), ("123456", "secret_code_sequential"),
                         ("170569", "secret_code_birth_date"),   # birth date from the report / account
                         ("051969", "secret_code_birth_date"),   # NIR birth month
                         ("020304", "secret_code_birth_date"),   # explicit birth date below
                         ("12345", "secret_code_format")]:
        r = env.service.set_secret_code(a, code, birth_date="2004-03-02")
        assert (r.ok, r.reason) == (False, reason), code
    _unchanged(env, a, State.SECRET_CODE, v)
    r = env.service.set_secret_code(a, "507931")
    assert r.ok and r.state is State.PENDING_REVIEW and r.details["review_deadline"] > 0


def test_review_queue_order_deadline_and_bad_input(env: Env) -> None:
    first = env.walk_to(State.PENDING_REVIEW)
    env.clock.advance(3600)
    second = env.walk_to(State.PENDING_REVIEW)
    env.clock.advance(47 * 3600 + 1)
    queue = env.service.pending_reviews()
    assert [q.activation_id for q in queue] == [first, second]
    assert [q.activation_id for q in env.service.pending_reviews(limit=1)] == [first]
    assert queue[0].overdue and not queue[1].overdue
    assert queue[0].remaining_seconds < 0 < queue[1].remaining_seconds
    v = env.service.status(first).version
    assert env.service.reject(first, "", "bad").reason == "reviewer_missing"
    assert env.service.reject(first, "rev-1", "  ").reason == "review_reason_missing"
    assert env.service.approve(first, "rev-1", "").reason == "review_reason_missing"
    _unchanged(env, first, State.PENDING_REVIEW, v)
    r = env.service.reject(first, "rev-1", "portrait does not match the selfie")
    assert r.state is State.REJECTED
    assert env.service.status(first).decision_reason == "portrait does not match the selfie"
    assert [q.activation_id for q in env.service.pending_reviews()] == [second]
    with pytest.raises(InvalidTransition):
        env.service.approve(first, "rev-2", "changed my mind")


def test_out_of_order_steps_raise_and_change_nothing(env: Env) -> None:
    a = env.service.start().activation_id
    calls = [lambda: env.service.check_eligibility(a, "69", ACCOUNT.email),
             lambda: env.service.submit_carte_vitale(a, nir=NIR),
             lambda: env.service.send_email_code(a),
             lambda: env.service.submit_email_code(a, "123456"),
             lambda: env.service.submit_identity(a, **EVIDENCE),
             lambda: env.service.set_secret_code(a, "507931"),
             lambda: env.service.approve(a, "rev", "ok")]
    for call in calls:
        with pytest.raises(InvalidTransition):
            call()
        _unchanged(env, a, State.TERMS, 1)
    with pytest.raises(UsageError) as info:
        env.service.accept_terms("no-such-activation", "v1")
    assert info.value.reason == "activation_not_found"


def test_session_expiry_abandon_and_lock(env: Env) -> None:
    a = env.walk_to(State.CARTE_VITALE)
    env.clock.advance(TEST_CONFIG.activation_ttl)
    r = env.service.submit_carte_vitale(a, nir=NIR)
    assert (r.reason, r.state) == ("activation_expired", State.EXPIRED)
    b = env.walk_to(State.EMAIL_CODE)
    assert env.service.abandon(b).state is State.ABANDONED
    c = env.walk_to(State.PENDING_REVIEW)
    with pytest.raises(InvalidTransition):
        env.service.abandon(c)
    assert env.service.lock(c, actor="fraud-desk").state is State.LOCKED
    with pytest.raises(UsageError):
        env.service.lock(a, actor="x", reason="not a code")
