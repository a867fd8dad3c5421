"""The carte Vitale activation flow (DESIGN §1): a pure state machine and the service around it.

Quick start (the host provides the mailer, the account directory and, later,
the real checks; here a fake verifier and an in-memory mailer)::

    from idverify.flow import ActivationService, MemoryMailer
    service = ActivationService.open("/var/lib/idverify", mailer=MemoryMailer())
    a = service.start().activation_id
    service.accept_terms(a, "cgu-2024-01")
    service.check_eligibility(a, "69", "user@example.org")
    service.submit_carte_vitale(a, nir="2 69 05 49 588 157 80")
    service.send_email_code(a)
    service.submit_email_code(a, "123456")   # the code from the e-mail
    service.submit_identity(a, recto=..., verso=..., tilted=..., video=...)
    service.set_secret_code(a, "507931")
    service.pending_reviews(); service.evidence(a); service.approve(a, "reviewer-7", "all checks coherent")

Modules: :mod:`~idverify.flow.machine` (states, events, the table),
:mod:`~idverify.flow.service`, :mod:`~idverify.flow.store` (SQLite, migrations),
:mod:`~idverify.flow.otp`, :mod:`~idverify.flow.pin`, :mod:`~idverify.flow.eligibility`,
:mod:`~idverify.flow.mail`, :mod:`~idverify.flow.clock`, :mod:`~idverify.flow.vault`,
:mod:`~idverify.flow.ports`, :mod:`~idverify.flow.records`.
"""

from __future__ import annotations

from idverify.flow.clock import Clock, FakeClock, SystemClock
from idverify.flow.eligibility import Account, AccountDirectory, SqliteAccountDirectory
from idverify.flow.machine import TRANSITIONS, Event, State, transition
from idverify.flow.mail import FileMailer, Mailer, MemoryMailer, SmtpMailer
from idverify.flow.ports import IdentityReport, IdentityVerifier, VerifyIdentity
from idverify.flow.records import (
    ActivationRecord,
    AttemptRecord,
    AuditEntry,
    EvidenceBundle,
    PurgeResult,
    ReviewItem,
    StepResult,
)
from idverify.flow.service import ActivationService
from idverify.flow.store import SqliteStore, Store
from idverify.flow.vault import EvidenceVault

__all__ = [
    "TRANSITIONS",
    "Account",
    "AccountDirectory",
    "ActivationRecord",
    "ActivationService",
    "AttemptRecord",
    "AuditEntry",
    "Clock",
    "Event",
    "EvidenceBundle",
    "EvidenceVault",
    "FakeClock",
    "FileMailer",
    "IdentityReport",
    "IdentityVerifier",
    "Mailer",
    "MemoryMailer",
    "PurgeResult",
    "ReviewItem",
    "SmtpMailer",
    "SqliteAccountDirectory",
    "SqliteStore",
    "State",
    "StepResult",
    "Store",
    "SystemClock",
    "VerifyIdentity",
    "transition",
]
