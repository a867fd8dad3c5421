"""verify_identity on the bundled samples (real engines), bad input, evidence files; the demo end to end."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from idverify.demo import run_demo
from idverify.verify import verify_identity

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
DOCS = SAMPLES / "documents"
CLIPS = SAMPLES / "clips"
GENUINE = {"recto": DOCS / "genuine_cnie_recto.jpg", "verso": DOCS / "genuine_cnie_verso.jpg",
           "tilted": DOCS / "genuine_cnie_tilted.jpg"}
ACCOUNT = {"surname": "AUBRY", "given_names": "Léa Jeanne"}


def _persona_nir() -> str:
    return str(json.loads((SAMPLES / "index.json").read_text())["personas"]["genuine"]["nir"])


def test_genuine_file_passes_every_check(tmp_path: Path) -> None:
    report = verify_identity(**GENUINE, video=CLIPS / "bona_fide_astronaut_1.mp4", nir=_persona_nir(),
                             account=ACCOUNT, evidence_dir=tmp_path)
    assert report.passed, [c.to_dict() for c in report.checks if not c.passed]
    names = {c.name.split(".")[0] for c in report.checks}
    assert names >= {"document", "cross", "nir", "liveness", "face"}
    assert (tmp_path / report.evidence["document/recto/portrait"]).is_file()
    assert any(k.startswith("face/frame_") for k in report.evidence)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["sections"]["face"]["match"] is True
    assert "128" not in {str(len(v)) for v in data["sections"]["face"].values() if isinstance(v, list)}


def test_spoofed_file_fails_with_document_and_liveness_reasons() -> None:
    report = verify_identity(recto=DOCS / "spoof_photocopy_recto.jpg", verso=DOCS / "spoof_photocopy_verso.jpg",
                             tilted=DOCS / "spoof_photocopy_tilted.jpg", video=CLIPS / "attack_printed_photo.mp4")
    assert not report.passed
    failed = {c.name.split(".")[0] for c in report.checks if not c.passed}
    assert "document" in failed and "liveness" in failed


def test_old_card_is_read_on_its_recto_and_verified() -> None:
    """The old card carries its MRZ on the recto: the cross-checks run on it (its verso has none)."""
    index = json.loads((SAMPLES / "index.json").read_text())
    legacy = {side: DOCS / f"legacy_cni_{side}.jpg" for side in ("recto", "verso", "tilted")}
    report = verify_identity(**legacy, video=CLIPS / "bona_fide_grace_hopper_1.mp4",
                             nir=index["personas"]["legacy"]["nir"],
                             today=dt.date.fromisoformat(index["reference_date"]))
    assert report.passed, [c.to_dict() for c in report.checks if not c.passed]
    mrz = next(c for c in report.checks if c.name == "cross.mrz_valid")
    assert mrz.passed
    assert next(c for c in report.checks if c.name == "document.recto.mrz_document").passed


def test_other_persona_on_the_clip_fails_the_face_comparison() -> None:
    report = verify_identity(**GENUINE, video=CLIPS / "bona_fide_grace_hopper_1.mp4")
    assert "face_mismatch" in report.reasons


def test_bad_inputs_become_failed_checks_and_the_rest_still_runs(tmp_path: Path) -> None:
    broken = tmp_path / "clip.mp4"
    broken.write_bytes(b"\0\0\0\x18ftypmp42" + b"\0" * 100)
    report = verify_identity(**GENUINE, video=broken, nir="123")
    assert report.check("input.video") is not None and not report.check("input.video").passed  # type: ignore[union-attr]
    assert report.check("nir.valid").reason == "nir_length"  # type: ignore[union-attr]
    assert any(c.name.startswith("document.") for c in report.checks)
    bad_photo = verify_identity(recto=b"not an image", verso=GENUINE["verso"], tilted=GENUINE["tilted"],
                                video=CLIPS / "bona_fide_astronaut_1.mp4")
    assert "image_format_unsupported" in bad_photo.reasons
    assert any(c.name.startswith("liveness.") for c in bad_photo.checks)


@pytest.mark.slow
def test_demo_approves_the_genuine_persona_and_rejects_the_spoofer(tmp_path: Path) -> None:
    result = run_demo(out=tmp_path, quiet=True)
    assert result.passed, result.outcomes
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "data:image/jpeg;base64" in html and "Face comparison" in html
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["outcomes"] == {"genuine": "approved", "spoof": "rejected"}
    steps = {s["step"] for s in report["steps"] if s["persona"] == "genuine"}
    assert {"accept_terms", "check_eligibility", "submit_email_code", "submit_identity", "approve"} <= steps
