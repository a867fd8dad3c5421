"""Shared fixtures and fakes for the flow tests (no tests here)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from idverify.config import FlowConfig
from idverify.errors import InputError, InvalidNIR
from idverify.flow import (
    Account,
    ActivationService,
    EvidenceVault,
    FakeClock,
    MemoryMailer,
    SqliteAccountDirectory,
    SqliteStore,
    State,
)
from idverify.results import Check, Report

NIR = "269054958815780"  # DESIGN §3 carte Vitale example
EMBEDDING_MARK = 0.0123456789  # a value that appears only in the fake embeddings
EMBEDDING = [EMBEDDING_MARK + i * 1e-6 for i in range(128)]
ACCOUNT = Account("acc-0001", "camille.martin@example.org", "MARTIN", "CAMILLE", "1969-05-17", NIR)
TEST_CONFIG = FlowConfig(scrypt_n=2**10, purge_interval=3600.0)

JPEG = b"\xff\xd8\xff\xe0" + b"fake jpeg pixels " * 20
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"fake video frames " * 50
EVIDENCE = {"recto": JPEG, "verso": JPEG + b"v", "tilted": JPEG + b"t", "video": MP4}


def mod97_nir(text: str) -> str:
    """Test NIR parser: the DESIGN §3 key rule (the real one is idverify.ocr.parse_nir)."""
    s = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(s) != 15:
        raise InvalidNIR("nir_invalid", "length")
    body = s[:13].replace("2A", "19").replace("2B", "18")
    if not body.isdigit() or not s[13:].isdigit() or 97 - int(body) % 97 != int(s[13:]):
        raise InvalidNIR("nir_invalid", "key")
    return s


@dataclasses.dataclass
class FakeScan:
    nir: str | None
    surname: str | None = "MARTIN"
    given_names: str | None = "CAMILLE"


def fake_reader(image: Any) -> FakeScan:
    if image == b"unreadable":
        return FakeScan(None)
    if image == b"corrupt":
        raise InputError("image_corrupt", "fake corrupt image")
    return FakeScan("2 69 05 49 588 157 80")


class FakeVerifier:
    """Passes or fails per the scripted outcomes; writes a fake crop; reports an embedding."""

    def __init__(self, outcomes: list[bool | str] | None = None) -> None:
        self.outcomes = list(outcomes or [])
        self.calls: list[dict[str, Any]] = []

    def verify(self, *, recto: Path, verso: Path, tilted: Path, video: Path, nir: str | None,
               account: Account | None, evidence_dir: Path) -> Report:
        self.calls.append({"recto": recto, "video": video, "nir": nir, "account": account})
        outcome = self.outcomes.pop(0) if self.outcomes else True
        if outcome == "bad_input":
            raise InputError("video_corrupt", "fake corrupt clip")
        for p in (recto, verso, tilted, video):
            assert p.is_file() and p.parent == evidence_dir
        (evidence_dir / "portrait_crop.png").write_bytes(b"\x89PNG fake portrait crop")
        (evidence_dir / "frame_0012.png").write_bytes(b"\x89PNG fake video frame")
        passed = bool(outcome)
        checks = (
            Check("face_match", passed, None if passed else "face_mismatch", score=0.41 if passed else 0.72,
                  threshold=0.5, evidence={"embedding": EMBEDDING, "crop": "portrait_crop.png"}),
            Check("liveness", True, None, score=0.93, threshold=0.5, evidence={"curve": [0.1, 0.5, 0.9]}),
        )
        return Report("verify_identity", checks, {"mrz": {"fields": {"birth_date": "1969-05-17"}},
                                                  "face": {"encodings": [EMBEDDING]}})


@dataclasses.dataclass
class Env:
    service: ActivationService
    clock: FakeClock
    mailer: MemoryMailer
    verifier: FakeVerifier
    store: SqliteStore
    vault: EvidenceVault
    accounts: SqliteAccountDirectory
    root: Path

    def code(self) -> str:
        msg = self.mailer.last_to(ACCOUNT.email)
        assert msg is not None
        return next(tok.strip(".") for tok in msg.body.split() if tok.strip(".").isdigit() and len(tok) == 6)

    def walk_to(self, target: State, activation_id: str | None = None) -> str:
        """Drive a new (or the given) activation forward until ``target``."""
        s = self.service
        a = activation_id or s.start().activation_id
        steps = [
            (State.TERMS, lambda: s.accept_terms(a, "cgu-2024")),
            (State.ELIGIBILITY, lambda: s.check_eligibility(a, "69", ACCOUNT.email)),
            (State.CARTE_VITALE, lambda: s.submit_carte_vitale(a, nir=NIR)),
            (State.EMAIL_CODE, lambda: (s.send_email_code(a), s.submit_email_code(a, self.code()))[1]),
            (State.IDENTITY, lambda: s.submit_identity(a, **EVIDENCE)),
            (State.SECRET_CODE, lambda: s.set_secret_code(a, "507931")),
        ]
        for state, action in steps:
            if s.status(a).state is target:
                return a
            assert s.status(a).state is state
            result = action()
            assert result.ok, result
        assert s.status(a).state is target
        return a


def make_env(root: Path, *, config: FlowConfig = TEST_CONFIG, outcomes: list[bool | str] | None = None,
             **store_kwargs: Any) -> Env:
    clock = FakeClock()
    mailer = MemoryMailer()
    verifier = FakeVerifier(outcomes)
    store = SqliteStore(root / "flow.db", **store_kwargs)
    vault = EvidenceVault(root / "evidence")
    accounts = SqliteAccountDirectory(root / "accounts.db")
    accounts.add(ACCOUNT)
    accounts.add(Account("acc-0002", "", "NOMAIL", "X"))
    service = ActivationService(store, mailer=mailer, accounts=accounts, vault=vault, clock=clock,
                                verifier=verifier, carte_vitale_reader=fake_reader, nir_parser=mod97_nir,
                                config=config)
    return Env(service, clock, mailer, verifier, store, vault, accounts, root)
