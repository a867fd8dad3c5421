"""verify_identity: every automated check of one identity file, in one report.

Runs the document capture checks on the three card photos, reads the MRZ and
the printed fields, cross-checks them (printed fields ↔ MRZ, expiry, MRZ ↔
NIR, card names ↔ account holder), decides liveness on the selfie clip and
compares the card portrait with the clip. Each input is decoded once: the
clip's frames serve both liveness and the face comparison. The document side
and the clip side run in two threads (the machine's two cores).

Unusable input (a corrupt photo, a truncated clip) does not stop the other
checks: it becomes a failed ``input.<name>`` check with its reason.

>>> from idverify.results import Check
>>> report = IdentityReport(checks=(Check("face.match", True),), sections={}, evidence={}, timings_ms={})
>>> report.passed, report.reasons
(True, [])
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np

from idverify.config import LIVENESS
from idverify.errors import InputError, InvalidNIR
from idverify.media import Clip, ImageSource, VideoSource, load_clip
from idverify.results import Check, CheckGroup, frozen_mapping, to_jsonable

T = TypeVar("T")


@dataclasses.dataclass(frozen=True, slots=True)
class IdentityReport(CheckGroup):
    """The outcome of :func:`verify_identity`.

    ``checks``: every check, named ``<stage>.<check>`` (``document.*``,
    ``mrz.*``, ``cross.*``, ``nir.*``, ``liveness.*``, ``face.*``,
    ``input.*``); ``sections``: each stage's own result as a dict;
    ``evidence``: the files written for the reviewer (name → path relative to
    ``evidence_dir``); ``timings_ms``: per stage.
    """

    checks: tuple[Check, ...]
    sections: Mapping[str, Any]
    evidence: Mapping[str, str]
    timings_ms: Mapping[str, float]

    def __post_init__(self) -> None:
        object.__setattr__(self, "sections", frozen_mapping(self.sections))
        object.__setattr__(self, "evidence", frozen_mapping(self.evidence))
        object.__setattr__(self, "timings_ms", frozen_mapping(self.timings_ms))

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "reasons": self.reasons,
            "checks": [c.to_dict() for c in self.checks],
            "sections": to_jsonable(self.sections),
            "evidence": dict(self.evidence),
            "timings_ms": dict(self.timings_ms),
        }


def _prefixed(prefix: str, checks: Any) -> list[Check]:
    return [dataclasses.replace(c, name=f"{prefix}.{c.name}") for c in checks]


def _timed(timings: dict[str, float], name: str, fn: Callable[[], T]) -> T:
    start = time.perf_counter()
    try:
        return fn()
    finally:
        timings[name] = round((time.perf_counter() - start) * 1000.0, 1)


def _account_names(account: Any) -> Mapping[str, str] | None:
    if account is None:
        return None
    if isinstance(account, Mapping):
        return {"surname": str(account.get("surname", "")), "given_names": str(account.get("given_names", ""))}
    return {"surname": str(getattr(account, "surname", "")), "given_names": str(getattr(account, "given_names", ""))}


def _document_side(recto: ImageSource, verso: ImageSource, tilted: ImageSource, nir: Any, account: Any,
                   today: _dt.date | None, timings: dict[str, float]) -> tuple[list[Check], dict[str, Any], Any]:
    """Document checks, OCR and the cross-checks. Returns (checks, sections, document report)."""
    from idverify.document import check_document
    from idverify.document.check import mrz_document_check, mrz_photo
    from idverify.ocr import cross_check, read_printed_fields
    from idverify.ocr.reader import read_mrz

    sections: dict[str, Any] = {}
    try:
        doc = _timed(timings, "document", lambda: check_document(recto=recto, verso=verso, tilted=tilted,
                                                                 read_fields=False))
    except InputError as exc:
        return [Check("input.document", False, exc.reason, evidence={"message": exc.message})], sections, None
    checks = _prefixed("document", doc.checks)
    sections["document"] = doc.to_dict()
    recto_card = doc.crops.get("recto/rectified")
    verso_card = doc.crops.get("verso/rectified")
    # the side whose layout carries the MRZ (the CNIe's verso, the old card's recto), else the verso as photographed
    with_mrz = mrz_photo(doc.locations) or (None if verso_card is None else ("verso", verso_card))
    if with_mrz is None:
        checks.append(Check("cross.mrz", False, "mrz_not_found",
                            evidence={"why": "no card side carrying an MRZ was found"}))
        return checks, sections, doc
    mrz_side, mrz_card = with_mrz
    mrz = _timed(timings, "mrz", lambda: read_mrz(mrz_card))
    sections["mrz"] = mrz.to_dict()
    same_document = mrz_document_check(mrz_side, getattr(doc.locations.get(mrz_side), "card_type", None),
                                       valid=mrz.valid, mrz_format=mrz.format,
                                       issuing_state=mrz.fields.get("issuing_state"))
    if same_document is not None:
        checks += _prefixed("document", (same_document,))
    printed = None
    recto_location = doc.locations.get("recto")
    card_type = getattr(recto_location, "card_type", None)
    if recto_card is not None and card_type:
        printed = _timed(timings, "printed_fields",
                         lambda: read_printed_fields(recto_card, card_type=card_type, side="recto"))
        sections["printed_fields"] = printed.to_dict()
    cross = _timed(timings, "cross_checks", lambda: cross_check(
        mrz, printed_fields=printed, nir=nir, account_names=_account_names(account), today=today))
    checks += _prefixed("cross", cross)
    return checks, sections, doc


def _clip_side(video: VideoSource, timings: dict[str, float]) -> tuple[list[Check], dict[str, Any], Clip | None]:
    """Decode the clip once and decide liveness on it."""
    from idverify.liveness import check_liveness

    try:
        clip = _timed(timings, "decode_clip", lambda: load_clip(video, max_side=LIVENESS.max_side))
    except InputError as exc:
        return [Check("input.video", False, exc.reason, evidence={"message": exc.message})], {}, None
    live = _timed(timings, "liveness", lambda: check_liveness(video, clip=clip))
    checks = [dataclasses.replace(c, name=f"liveness.{name}") for name, c in live.cues.items()]
    reason = None if live.live else (live.reasons[0] if live.reasons else "no_liveness_evidence")
    checks.append(Check("liveness.decision", live.live, reason, score=live.score, threshold=live.threshold,
                        evidence={"reasons": list(live.reasons), "hints": list(live.hints)}))
    return checks, {"liveness": live.to_dict()}, clip


def _write_evidence(evidence_dir: Path, doc: Any, clip: Clip | None, face: Any) -> dict[str, str]:
    """Card crops, the portrait and the frames that decided the face comparison, as JPEG files."""
    evidence_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}

    def save(name: str, rgb: np.ndarray) -> None:
        path = evidence_dir / f"{name.replace('/', '_')}.jpg"
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
        if ok:
            path.write_bytes(data.tobytes())
            written[name] = path.name

    if doc is not None:
        for name, crop in doc.crops.items():
            save(f"document/{name}", crop)
    if clip is not None and face is not None:
        positions = {index: pos for pos, index in enumerate(clip.indexes)}
        for index in face.frames_used:
            if index in positions:
                save(f"face/frame_{index:05d}", clip.frames[positions[index]])
    return written


def verify_identity(recto: ImageSource, verso: ImageSource, tilted: ImageSource, video: VideoSource,
                    nir: str | None = None, account: Any = None, *, evidence_dir: str | Path | None = None,
                    today: _dt.date | None = None) -> IdentityReport:
    """Run every automated check on one identity file and return one report.

    ``nir``: the social security number from the carte Vitale step (checked
    against the MRZ); ``account``: the account holder (an object or mapping
    with ``surname`` and ``given_names``), checked against the card names;
    ``evidence_dir``: where to write the crops and frames a reviewer needs
    (biometric material: the caller owns its retention).
    """
    from idverify.face.compare import compare_faces
    from idverify.ocr import parse_nir

    timings: dict[str, float] = {}
    started = time.perf_counter()
    checks: list[Check] = []
    sections: dict[str, Any] = {}
    nir_value: Any = None
    if nir is not None:
        try:
            nir_value = parse_nir(nir)
            checks.append(Check("nir.valid", True, None))
        except InvalidNIR as exc:
            checks.append(Check("nir.valid", False, exc.reason, evidence={"message": exc.message}))
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="idverify-verify") as pool:
        doc_future = pool.submit(_document_side, recto, verso, tilted, nir_value, account, today, timings)
        clip_future = pool.submit(_clip_side, video, timings)
        doc_checks, doc_sections, doc = doc_future.result()
        clip_checks, clip_sections, clip = clip_future.result()
    checks += doc_checks + clip_checks
    sections.update(doc_sections)
    sections.update(clip_sections)
    face = None
    portrait = getattr(doc, "portrait", None)
    if portrait is not None and clip is not None:
        face = _timed(timings, "face", lambda: compare_faces(portrait, clip))
        checks += _prefixed("face", face.checks)
        sections["face"] = face.to_dict()
    elif doc is not None and portrait is None:
        checks.append(Check("face.reference_face", False, "no_face_reference", evidence={"why": "no portrait crop"}))
    evidence = _write_evidence(Path(evidence_dir), doc, clip, face) if evidence_dir is not None else {}
    timings["total"] = round((time.perf_counter() - started) * 1000.0, 1)
    return IdentityReport(checks=tuple(checks), sections=sections, evidence=evidence, timings_ms=dict(timings))
