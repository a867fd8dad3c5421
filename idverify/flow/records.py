"""Frozen records the flow persists and returns (activation row, attempts, audit, results).

Secrets never appear in a record's ``repr`` or ``to_dict``: the e-mail code
digest and the secret-code hash are ``repr=False`` and left out of dicts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from idverify.flow.machine import State
from idverify.results import frozen_mapping, to_jsonable

_SECRET_FIELDS = frozenset({"otp_salt", "otp_digest", "secret_hash"})


@dataclasses.dataclass(frozen=True, slots=True)
class ActivationRecord:
    """One activation as stored: its state, version (optimistic concurrency) and step data."""

    id: str
    state: State
    version: int
    created_at: float
    updated_at: float
    expires_at: float
    otp_salt: bytes = dataclasses.field(repr=False, default=b"")
    terms_version: str | None = None
    departement: str | None = None
    account_id: str | None = None
    email: str | None = None
    nir: str | None = None
    nir_source: str | None = None
    card_surname: str | None = None
    card_given_names: str | None = None
    birth_date: str | None = None
    otp_digest: bytes | None = dataclasses.field(repr=False, default=None)
    otp_sent_at: float | None = None
    otp_expires_at: float | None = None
    otp_sends: int = 0
    otp_failures: int = 0
    identity_attempts: int = 0
    secret_hash: str | None = dataclasses.field(repr=False, default=None)
    submitted_at: float | None = None
    review_deadline: float | None = None
    decided_at: float | None = None
    decided_by: str | None = None
    decision_reason: str | None = None
    closed_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Everything but the secrets (code digest, salt, secret-code hash)."""
        out = {f.name: to_jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)
               if f.name not in _SECRET_FIELDS}
        out["secret_code_set"] = self.secret_hash is not None
        return out


@dataclasses.dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One identity evidence submission: its outcome and a biometric-free summary of the report."""

    activation_id: str
    n: int
    started_at: float
    status: str  # running | passed | failed | interrupted
    finished_at: float | None = None
    reasons: tuple[str, ...] = ()
    checks: tuple[Mapping[str, Any], ...] = ()  # name, passed, reason, score, threshold
    files: tuple[str, ...] = ()  # refs (relative names) of the evidence files in the vault

    def to_dict(self) -> dict[str, Any]:
        return {f.name: to_jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}


@dataclasses.dataclass(frozen=True, slots=True)
class AuditEntry:
    """One transition: who, what, when (no codes, no NIR, no biometric data)."""

    activation_id: str
    at: float
    actor: str
    event: str
    from_state: str
    to_state: str
    version: int
    detail: Mapping[str, Any] = dataclasses.field(default_factory=frozen_mapping)
    seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: to_jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}


@dataclasses.dataclass(frozen=True, slots=True)
class BiometricRecord:
    """Where an activation's biometric material stands: its deletion deadline and purge."""

    activation_id: str
    stored_at: float
    delete_after: float
    purged_at: float | None = None
    purge_reason: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class StepResult:
    """What a service step did: ``ok`` or a reason code; ``state`` is the state after the step."""

    activation_id: str
    step: str
    ok: bool
    state: State
    reason: str | None = None
    details: Mapping[str, Any] = dataclasses.field(default_factory=frozen_mapping)

    def __post_init__(self) -> None:
        object.__setattr__(self, "details", frozen_mapping(self.details))

    def to_dict(self) -> dict[str, Any]:
        return {"activation_id": self.activation_id, "step": self.step, "ok": self.ok,
                "state": self.state.value, "reason": self.reason, "details": to_jsonable(self.details)}


@dataclasses.dataclass(frozen=True, slots=True)
class ReviewItem:
    """A file waiting for a reviewer, with its deadline."""

    activation_id: str
    submitted_at: float
    deadline: float
    age_seconds: float
    remaining_seconds: float
    overdue: bool
    attempts: int

    def to_dict(self) -> dict[str, Any]:
        return {f.name: to_jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}


@dataclasses.dataclass(frozen=True, slots=True)
class EvidenceBundle:
    """What a reviewer sees: the activation (no secrets), every attempt, the full reports while kept."""

    activation: ActivationRecord
    attempts: tuple[AttemptRecord, ...]
    reports: Mapping[int, Mapping[str, Any]]  # attempt n -> full report (until biometric purge)
    evidence_dir: str | None  # folder of the files refs (None once purged)
    biometric: BiometricRecord | None
    review: ReviewItem | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "activation": self.activation.to_dict(),
            "attempts": [a.to_dict() for a in self.attempts],
            "reports": {str(k): to_jsonable(v) for k, v in self.reports.items()},
            "evidence_dir": self.evidence_dir,
            "biometric": to_jsonable(self.biometric),
            "review": None if self.review is None else self.review.to_dict(),
        }


@dataclasses.dataclass(frozen=True, slots=True)
class PurgeResult:
    """What a purge run did."""

    purged: tuple[str, ...]  # activation ids whose biometric material was deleted
    expired: tuple[str, ...]  # user-phase sessions closed by the activation deadline
    orphans: tuple[str, ...]  # vault folders without a live retention row, deleted
    files_deleted: int

    def to_dict(self) -> dict[str, Any]:
        return {f.name: to_jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}
