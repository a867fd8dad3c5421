"""The default ports: the real NIR parser (idverify.ocr), the lazy verify_identity adapter, eligibility lists."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from test_flow_support import ACCOUNT, NIR, make_env

from idverify.config import DEFAULT_DEPARTEMENTS, FlowConfig
from idverify.errors import InvalidNIR, UsageError
from idverify.flow import ActivationService, State, VerifyIdentity
from idverify.flow.eligibility import check_departement
from idverify.flow.ports import nir_text
from idverify.reasons import REASONS
from idverify.results import Check, Report


def test_default_nir_parser_is_the_real_one(tmp_path: Path) -> None:
    pytest.importorskip("idverify.ocr.nir", reason="idverify.ocr.parse_nir not written yet")
    e = make_env(tmp_path)
    service = ActivationService(e.store, mailer=e.mailer, accounts=e.accounts, vault=e.vault, clock=e.clock,
                                config=e.service.config)  # nir_parser and reader left to their defaults
    a = e.walk_to(State.CARTE_VITALE)
    bad = service.submit_carte_vitale(a, nir="2 69 05 49 588 157 81")
    assert (bad.ok, bad.state) == (False, State.CARTE_VITALE)
    assert bad.reason in REASONS and bad.reason.startswith("nir_")  # the OCR's own code (e.g. nir_key)
    assert service.submit_carte_vitale(a, nir="2 69 05 49 588 157 80").ok
    assert service.status(a).nir == NIR
    e.store.close()


def test_nir_text_accepts_parsed_values_and_corsica() -> None:
    assert nir_text(types.SimpleNamespace(value="253072B07300470")) == "253072B07300470"
    assert nir_text(types.SimpleNamespace(compact=lambda: "295109912611193")) == "295109912611193"
    with pytest.raises(InvalidNIR):
        nir_text("2530X2B07300470")


def test_verify_identity_adapter_imports_lazily_and_passes_evidence_dir(monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    def verify_identity(*, recto: Path, verso: Path, tilted: Path, video: Path, nir: str | None = None,
                        account: object = None, evidence_dir: Path | None = None) -> Report:
        seen.update(recto=recto, nir=nir, account=account, evidence_dir=evidence_dir)
        return Report("verify_identity", (Check("face_match", True),))

    fake = types.ModuleType("idverify.verify")
    fake.verify_identity = verify_identity  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "idverify.verify", fake)
    report = VerifyIdentity().verify(recto=tmp_path / "r", verso=tmp_path / "v", tilted=tmp_path / "t",
                                     video=tmp_path / "c", nir=NIR, account=ACCOUNT, evidence_dir=tmp_path)
    assert report.passed and seen == {"recto": tmp_path / "r", "nir": NIR, "account": ACCOUNT,
                                      "evidence_dir": tmp_path}

    def older(*, recto: Path, verso: Path, tilted: Path, video: Path, nir: str | None = None,
              account: object = None) -> Report:  # no evidence_dir parameter: not passed
        return Report("verify_identity", (Check("face_match", False, "face_mismatch"),))

    fake.verify_identity = older  # type: ignore[attr-defined]
    report = VerifyIdentity().verify(recto=tmp_path, verso=tmp_path, tilted=tmp_path, video=tmp_path, nir=None,
                                     account=None, evidence_dir=tmp_path)
    assert report.reasons == ["face_mismatch"]


def test_default_departements_follow_design() -> None:
    assert len(DEFAULT_DEPARTEMENTS) == 21 and "69" in DEFAULT_DEPARTEMENTS and "75" not in DEFAULT_DEPARTEMENTS
    assert check_departement("2B", ("2B",)) == ("2B", None)
    with pytest.raises(UsageError):
        FlowConfig(eligible_departements=("Rhône",))


def test_open_wires_a_working_service_on_a_folder(tmp_path: Path) -> None:
    from test_flow_support import EVIDENCE, FakeVerifier, mod97_nir

    from idverify.flow import Account, FileMailer

    service = ActivationService.open(tmp_path / "flow", mailer=FileMailer(tmp_path / "mail"),
                                     config=FlowConfig(scrypt_n=2**10), verifier=FakeVerifier(),
                                     nir_parser=mod97_nir)
    service.accounts.add(Account("acc-1", "a@example.org", "MARTIN", "CAMILLE"))  # type: ignore[attr-defined]
    a = service.start().activation_id
    service.accept_terms(a, "v1")
    service.check_eligibility(a, "13", "a@example.org")
    service.submit_carte_vitale(a, nir=NIR)
    service.send_email_code(a)
    (eml,) = (tmp_path / "mail").iterdir()
    code = eml.read_text().split("est : ")[1][:6]
    assert service.submit_email_code(a, code).ok
    assert service.submit_identity(a, **EVIDENCE).ok
    assert service.set_secret_code(a, "507931").state is State.PENDING_REVIEW
    assert (tmp_path / "flow" / "accounts.db").is_file()
    assert (tmp_path / "flow" / "evidence" / a).is_dir() and (tmp_path / "flow" / "flow.db").is_file()
    service.store.close()
