"""The committed synthetic sample set: ``generate_samples(out, seed)``.

Writes, under ``out``:

* ``documents/<id>.jpg`` — simulated phone photos of fictional persons' cards
  (CNIe 2021 recto / verso / tilted, old CNI 1995, carte Vitale), genuine and
  attacked or defective, and ``documents/<id>.json`` — the ground truth of
  each: persona fields, printed fields, MRZ lines drawn, card corners in the
  image, camera parameters, attack type, expected outcome and reason codes per
  check (codes of :mod:`idverify.reasons`);
* the selfie clips of :func:`idverify.synth.clips.generate_clip_samples` when
  that module is installed (made in a second process while the documents
  are drawn: ~35 s of CPU for the clips, ~10 s for the documents);
* ``index.json`` — every sample (id, kind, paths, ground-truth path,
  expected outcome) and the document *sets* (recto + verso + tilted of one
  card) that ``check_document`` takes.

Same ``seed`` → the same bytes on the same platform (a numpy ``Generator``
seeded by (seed, sample id) for each sample; OpenCV's JPEG encoder).

Persona ``genuine`` (astronaut portrait) owns a valid CNIe and a carte
Vitale; persona ``spoof`` (grace_hopper) shows photocopies of her card;
persona ``legacy`` has a valid old card, ``expired`` an expired one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import multiprocessing
import shutil
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from idverify.document.layout import CardType, Side
from idverify.errors import UsageError
from idverify.reasons import REASONS
from idverify.synth import attacks
from idverify.synth.camera import CameraParams, Capture, Glare, Subject, capture, fit_in_frame, sample_params
from idverify.synth.cards import CardRender, mrz_lines_for, render_card
from idverify.synth.persona import Persona, make_persona
from idverify.synth.portraits import load_portrait

GENERATOR_VERSION = 1
REFERENCE_DATE = "2026-11-01"  # "today" for the expected validity outcomes
RECAPTURES = ("photocopy", "photocopy_colour", "print", "screen")


@dataclasses.dataclass(frozen=True)
class SampleEntry:
    """One line of ``index.json``."""

    id: str
    kind: str  # "document" | "clip" | ...
    paths: tuple[str, ...]  # relative to the set's root
    ground_truth: str
    expected_outcome: str  # "pass" | "fail"
    attack: str
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "paths": list(self.paths), "ground_truth": self.ground_truth,
                "expected_outcome": self.expected_outcome, "attack": self.attack, "reasons": list(self.reasons)}


@dataclasses.dataclass(frozen=True)
class SampleSet:
    """What :func:`generate_samples` wrote."""

    root: str
    seed: int
    samples: tuple[SampleEntry, ...]
    sets: tuple[dict[str, Any], ...]
    clip_entries: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"passed": True, "root": self.root, "seed": self.seed, "generator_version": GENERATOR_VERSION,
                "reference_date": REFERENCE_DATE, "documents": [s.to_dict() for s in self.samples],
                "sets": list(self.sets), "clips": list(self.clip_entries),
                "counts": {"documents": len(self.samples), "sets": len(self.sets), "clips": len(self.clip_entries)}}


# --- the plan ------------------------------------------------------------------------------------

Expected = dict[str, tuple[bool, str | None]]  # check name -> (passed, reason)


@dataclasses.dataclass(frozen=True)
class _Spec:
    id: str
    persona: str
    card_type: CardType
    side: Side
    attack: str = "none"
    tilt: float = 0.0  # out-of-plane angle of the capture, degrees (sign = direction)
    camera: dict[str, Any] = dataclasses.field(default_factory=dict)
    expected: Expected = dataclasses.field(default_factory=dict)
    fit: bool = True


def _ok(*names: str) -> Expected:
    return {n: (True, None) for n in names}


_BASE = ("card_found", "capture_quality", "recapture")


def _plan() -> list[_Spec]:
    c, o, v = CardType.CNIE_2021, CardType.CNI_1995, CardType.CARTE_VITALE
    r, s = Side.RECTO, Side.VERSO
    mp2 = {"megapixels": 2.0, "portrait": False}
    flat = {**mp2, "yaw": 3.0, "pitch": -2.0, "glare": ()}
    verso_checks = {**_ok(*_BASE), "mrz": (True, None), "validity": (True, None)}
    recto_checks = {**_ok(*_BASE), "portrait": (True, None)}

    def tilted(deg: float, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {**mp2, "yaw": deg, "pitch": 4.0, "glare": (), **(extra or {})}

    copy_fail = {**_ok("card_found", "capture_quality"), "recapture": (False, "photocopy")}
    print_fail = {**_ok("card_found", "capture_quality"), "recapture": (False, "print_recapture")}
    screen_fail = {**_ok("card_found", "capture_quality"), "recapture": (False, "screen_recapture")}
    no_ovd = {"hologram": (False, "no_hologram_response")}
    return [
        # persona "genuine": one valid CNIe, flat recto / verso, tilted at 15-45 degrees, a relit flat, a Vitale
        _Spec("genuine_cnie_recto", "genuine", c, r, camera=flat, expected=recto_checks),
        _Spec("genuine_cnie_verso", "genuine", c, s, camera=flat, expected=verso_checks),
        _Spec("genuine_cnie_tilted", "genuine", c, r, tilt=30.0, camera=tilted(30.0),
              expected={**recto_checks, "hologram": (True, None)}),
        _Spec("genuine_cnie_tilted_15", "genuine", c, r, tilt=-15.0, camera=tilted(-15.0, {"pitch": -3.0}),
              expected={**recto_checks, "hologram": (True, None)}),
        _Spec("genuine_cnie_tilted_50", "genuine", c, r, tilt=50.0, camera=tilted(4.0, {"pitch": 50.0}),
              expected={**recto_checks, "hologram": (True, None)}),
        _Spec("genuine_cnie_tilted_verso_45", "genuine", c, s, tilt=45.0, camera=tilted(45.0, {"roll": -8.0}),
              expected={**verso_checks, "hologram": (True, None)}),
        _Spec("genuine_cnie_recto_relit", "genuine", c, r,
              camera={**flat, "gain": 0.82, "white_balance": (1.08, 1.0, 0.88), "uneven_light": 0.35},
              expected=recto_checks),
        _Spec("genuine_cnie_recto_upside_down_12mp", "genuine", c, r,
              camera={"megapixels": 12.0, "portrait": False, "roll": 183.0, "card_scale": 0.55, "jpeg_quality": 65,
                      "noise": 1.5, "clutter": 4}, expected=recto_checks),
        _Spec("genuine_cnie_verso_rotated", "genuine", c, s,
              camera={"megapixels": 3.0, "portrait": True, "roll": 90.0, "card_scale": 0.75, "clutter": 3},
              expected=verso_checks),
        _Spec("genuine_cnie_verso_far", "genuine", c, s,
              camera={"megapixels": 4.0, "portrait": False, "card_scale": 0.3, "center": (0.4, 0.6), "clutter": 5,
                      "roll": 12.0}, expected=verso_checks),
        _Spec("genuine_vitale", "genuine", v, r, camera={**flat, "roll": -4.0}, expected=_ok(*_BASE)),
        # persona "spoof": photocopies of her CNIe (no hologram response when tilted)
        _Spec("spoof_photocopy_recto", "spoof", c, r, "photocopy", camera=flat, expected=copy_fail),
        _Spec("spoof_photocopy_verso", "spoof", c, s, "photocopy", camera=flat, expected=copy_fail),
        _Spec("spoof_photocopy_tilted", "spoof", c, r, "photocopy", tilt=30.0, camera=tilted(30.0),
              expected={**copy_fail, **no_ovd}),
        _Spec("colour_photocopy_recto", "genuine", c, r, "photocopy_colour", camera=flat,
              expected={**copy_fail}),
        # a colour print and a phone screen showing the genuine persona's card
        _Spec("print_recto", "genuine", c, r, "print", camera=flat, expected=print_fail),
        _Spec("print_verso", "genuine", c, s, "print", camera=flat, expected=print_fail),
        _Spec("print_tilted", "genuine", c, r, "print", tilt=30.0, camera=tilted(30.0),
              expected={**print_fail, **no_ovd}),
        _Spec("screen_recto", "genuine", c, r, "screen", camera={**flat, "card_scale": 0.8}, expected=screen_fail),
        _Spec("screen_verso", "genuine", c, s, "screen", camera={**flat, "card_scale": 0.8}, expected=screen_fail),
        _Spec("screen_tilted", "genuine", c, r, "screen", tilt=30.0, camera=tilted(30.0, {"card_scale": 0.75}),
              expected={**screen_fail, **no_ovd}),
        # content defects on the genuine persona's card
        _Spec("portrait_substituted_recto", "genuine", c, r, "portrait_substituted", camera=flat,
              expected={**_ok(*_BASE), "portrait": (False, "portrait_substituted")}),
        _Spec("portrait_substituted_tilted", "genuine", c, r, "portrait_substituted", tilt=30.0, camera=tilted(30.0),
              expected={**_ok(*_BASE), "portrait": (False, "portrait_substituted"), "hologram": (True, None)}),
        _Spec("mrz_altered_verso", "genuine", c, s, "mrz_altered", camera=flat,
              expected={**_ok(*_BASE), "mrz": (False, "mrz_check_digit")}),
        _Spec("fields_mismatch_recto", "genuine", c, r, "fields_mismatch", camera=flat,
              expected={**recto_checks, "fields_mrz": (False, "mrz_birth_date_mismatch")}),
        _Spec("fields_mismatch_tilted", "genuine", c, r, "fields_mismatch", tilt=30.0, camera=tilted(30.0),
              expected={**recto_checks, "fields_mrz": (False, "mrz_birth_date_mismatch"), "hologram": (True, None)}),
        # the old card (1995-2021): valid (persona "legacy") and expired (persona "expired")
        _Spec("legacy_cni_recto", "legacy", o, r, camera=flat,
              expected={**recto_checks, "mrz": (True, None), "validity": (True, None)}),
        _Spec("legacy_cni_verso", "legacy", o, s, camera=flat, expected={**_ok(*_BASE), "validity": (True, None)}),
        _Spec("legacy_cni_tilted", "legacy", o, r, tilt=35.0, camera=tilted(35.0),
              expected={**recto_checks, "mrz": (True, None), "hologram": (True, None), "validity": (True, None)}),
        _Spec("expired_cni_recto", "expired", o, r, "expired", camera=flat,  # MRZ: issued YYMM + birth date
              expected={**recto_checks, "mrz": (True, None), "validity": (False, "document_expired")}),
        _Spec("expired_cni_verso", "expired", o, s, "expired", camera=flat,
              expected={**_ok(*_BASE), "validity": (False, "document_expired")}),
        _Spec("expired_cni_tilted", "expired", o, r, "expired", tilt=30.0, camera=tilted(30.0),
              expected={**recto_checks, "mrz": (True, None), "hologram": (True, None),
                        "validity": (False, "document_expired")}),
        # capture defects
        _Spec("cut_off_recto", "genuine", c, r, "cut_off", camera={**flat, "card_scale": 0.7, "center": (0.86, 0.5)},
              fit=False, expected={"card_found": (True, None), "capture_quality": (False, "card_cut_off")}),
        _Spec("blurry_verso", "genuine", c, s, "too_blurry", camera={**flat, "defocus": 5.0, "motion": 6.0},
              expected={"card_found": (True, None), "capture_quality": (False, "too_blurry")}),
        _Spec("glare_mrz_verso", "genuine", c, s, "glare_on_mrz", camera=flat,
              expected={"card_found": (True, None), "capture_quality": (False, "glare_on_mrz")}),
        _Spec("no_card", "genuine", c, r, "no_card", camera={**flat, "clutter": 5},
              expected={"card_found": (False, "card_not_found")}),
    ]


# (set id, recto, verso, tilted); the expected outcome is the union of the members' failures
_SETS = (
    ("genuine_cnie", "genuine_cnie_recto", "genuine_cnie_verso", "genuine_cnie_tilted"),
    ("spoof_photocopy", "spoof_photocopy_recto", "spoof_photocopy_verso", "spoof_photocopy_tilted"),
    ("print", "print_recto", "print_verso", "print_tilted"),
    ("screen", "screen_recto", "screen_verso", "screen_tilted"),
    ("portrait_substituted", "portrait_substituted_recto", "genuine_cnie_verso", "portrait_substituted_tilted"),
    ("mrz_altered", "genuine_cnie_recto", "mrz_altered_verso", "genuine_cnie_tilted"),
    ("fields_mismatch", "fields_mismatch_recto", "genuine_cnie_verso", "fields_mismatch_tilted"),
    ("legacy_cni", "legacy_cni_recto", "legacy_cni_verso", "legacy_cni_tilted"),
    ("expired_cni", "expired_cni_recto", "expired_cni_verso", "expired_cni_tilted"),
)


def _personas(seed: int) -> dict[str, Persona]:
    def rng(k: int) -> np.random.Generator:
        return np.random.default_rng([seed, 1000 + k])

    return {
        "genuine": make_persona(rng(0), sex="F", portrait="astronaut", birth_date=None,
                                cnie_issue_date=dt.date(2023, 3, 14) + dt.timedelta(days=seed % 300)),
        "spoof": make_persona(rng(1), sex="F", portrait="grace_hopper",
                              cnie_issue_date=dt.date(2022, 9, 5) + dt.timedelta(days=seed % 300)),
        "legacy": make_persona(rng(2), sex="F", portrait="grace_hopper", birth_date=dt.date(1961, 4, 2),
                               cni95_issue_date=dt.date(2016, 6, 20) + dt.timedelta(days=seed % 200)),
        "expired": make_persona(rng(3), sex="F", portrait="astronaut", birth_date=dt.date(1958, 10, 23),
                                cni95_issue_date=dt.date(2002, 5, 13) + dt.timedelta(days=seed % 200)),
    }


# --- building one sample -------------------------------------------------------------------------


def _shift_birth_day(iso: str) -> str:
    d = dt.date.fromisoformat(iso)
    return (d + dt.timedelta(days=3 if d.day < 25 else -3)).isoformat()


def _render(spec: _Spec, p: Persona, width_px: int, ovd_angle: float) -> tuple[CardRender, tuple[str, ...]]:
    """The flat card for ``spec`` and the card's own (valid) MRZ lines."""
    card_mrz = mrz_lines_for(p, spec.card_type)
    kw: dict[str, Any] = {"width_px": width_px, "ovd_angle": ovd_angle}
    if spec.attack == "portrait_substituted":
        other = "grace_hopper" if p.portrait == "astronaut" else "astronaut"
        kw["portrait"] = load_portrait(other)
    elif spec.attack == "mrz_altered" and card_mrz:
        fmt = "TD1" if spec.card_type is CardType.CNIE_2021 else "FRA_CNI_1995"
        kw["mrz_lines"] = attacks.alter_mrz(card_mrz, fmt, "document_number")
    elif spec.attack == "fields_mismatch":
        from idverify.synth.cards import printed_fields

        shown = dataclasses.replace(p, birth_date=_shift_birth_day(p.birth_date))
        kw["printed_overrides"] = {"birth_date": printed_fields(shown, spec.card_type, spec.side)["birth_date"]}
    return render_card(p, spec.card_type, spec.side, **kw), card_mrz


def _subject(spec: _Spec, card: CardRender, rng: np.random.Generator) -> Subject:
    if spec.attack in ("photocopy", "photocopy_colour"):
        return attacks.photocopy(card, rng, colour=spec.attack == "photocopy_colour")
    if spec.attack == "print":
        return attacks.print_copy(card, rng)
    if spec.attack == "screen":
        return attacks.screen(card, rng)
    if spec.attack == "no_card":
        return Subject(card.image, np.zeros(card.alpha.shape, np.uint8))
    return Subject(card.image, card.alpha)


def _visible_fraction(corners: np.ndarray, size: tuple[int, int]) -> float:
    w, h = size
    quad = corners.astype(np.float32)
    frame = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    area = abs(cv2.contourArea(quad))
    inter, _ = cv2.intersectConvexConvex(quad, frame)
    return float(inter / area) if area > 0 else 0.0


SET_LEVEL_CHECKS = ("hologram", "portrait", "fields_mrz")
"""Checks that need the other images of the card's set: ``hologram`` compares the tilted capture with a flat
one, ``portrait`` compares the recto photo with the verso's ghost portrait, ``fields_mrz`` compares the recto's
printed fields with the verso's MRZ (CNIe)."""


def _expected_block(expected: Expected) -> dict[str, Any]:
    reasons = [r for ok, r in expected.values() if not ok and r]
    for r in reasons:
        if r not in REASONS:
            raise KeyError(f"reason code {r!r} is not in idverify.reasons.REASONS")
    return {"outcome": "fail" if reasons else "pass", "reasons": reasons,
            "checks": {k: {"passed": ok, "reason": r, "needs_set": k in SET_LEVEL_CHECKS}
                       for k, (ok, r) in expected.items()}}


def _build(spec: _Spec, seed: int, personas: dict[str, Persona]) -> tuple[Capture, dict[str, Any]]:
    rng = np.random.default_rng([seed, zlib.crc32(spec.id.encode())])  # by id: adding a sample changes no other
    p = personas[spec.persona]
    cam = dict(spec.camera)
    params: CameraParams = sample_params(rng, **cam)
    recapture = spec.attack in RECAPTURES
    ovd_angle = 0.0 if recapture else abs(spec.tilt)
    width_px = int(np.clip(params.card_scale * params.width * 1.05, 1011, 2400))
    if spec.attack == "screen":
        width_px = 1011  # shown on a phone: the screen's own pixels
    card, card_mrz = _render(spec, p, width_px, ovd_angle)
    if spec.attack == "glare_on_mrz":
        x0, y0, x1, y1 = card.layout.zone("mrz").box
        params = dataclasses.replace(params, glare=(Glare((x0 + x1) / 2, (y0 + y1) / 2, 0.14, 1.2),))
    subject = _subject(spec, card, rng)
    if spec.fit:
        params = fit_in_frame(params, (subject.image.shape[1], subject.image.shape[0]))
    shot = capture(subject, params, seed=int(rng.integers(2**31)))
    size = (params.width, params.height)
    has_card = spec.attack != "no_card"
    gt: dict[str, Any] = {
        "id": spec.id, "kind": "document", "generator_version": GENERATOR_VERSION, "seed": seed,
        "reference_date": REFERENCE_DATE, "card_type": spec.card_type.value, "side": spec.side.value,
        "capture": "tilted" if spec.tilt else "flat", "tilt_deg": abs(spec.tilt),
        "view_angle_deg": round(math.degrees(math.acos(math.cos(math.radians(params.yaw))
                                                       * math.cos(math.radians(params.pitch)))), 2),
        "ovd_angle_deg": card.ovd_angle, "ovd_response": not recapture and has_card,
        "attack": spec.attack, "persona_id": spec.persona, "persona": p.to_dict(),
        "portrait_shown": ("grace_hopper" if p.portrait == "astronaut" else "astronaut")
        if spec.attack == "portrait_substituted" else p.portrait,
        "printed_fields": dict(card.printed) if has_card else {},
        "mrz_format": card.layout.mrz_format, "mrz_lines": list(card.mrz_lines) if has_card else [],
        "card_mrz_lines": list(card_mrz),
        "corners": shot.corners.round(2).tolist() if has_card else None,
        "corner_order": "top-left, top-right, bottom-right, bottom-left of the upright card (sharp corners "
                        "of its rounded outline), in image pixels",
        "card_visible_fraction": round(_visible_fraction(shot.corners, size), 4) if has_card else 0.0,
        "image_size": list(size), "rectified_size": [card.image.shape[1], card.image.shape[0]],
        "camera": params.to_dict(), "expected": _expected_block(spec.expected),
    }
    if spec.card_type is CardType.CNI_1995:
        gt["validity"] = {"printed_expiry": p.cni95_printed_expiry, "valid_until": p.cni95_valid_until,
                          "expired": p.cni95_valid_until < REFERENCE_DATE}
    elif spec.card_type is CardType.CNIE_2021:
        gt["validity"] = {"printed_expiry": p.cnie_expiry_date, "valid_until": p.cnie_expiry_date,
                          "expired": p.cnie_expiry_date < REFERENCE_DATE}
    return shot, gt


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")


def _clip_generator() -> Callable[[Path, int], list[dict[str, Any]]] | None:
    """``idverify.synth.clips.generate_clip_samples`` if the clips generator is installed."""
    try:
        from idverify.synth.clips import generate_clip_samples
    except ImportError:
        return None
    return generate_clip_samples


def generate_samples(out: str | Path, seed: int = 0, *, clips: bool = True,
                     only: Callable[[str], bool] | None = None) -> SampleSet:
    """Write the synthetic sample set to ``out`` (see the module docstring) and return its index.

    ``clips=False`` skips the selfie clips; ``only`` (a predicate on sample
    ids) writes a subset, for tests. An ``out`` that cannot be written raises
    :class:`~idverify.errors.UsageError`.
    """
    root = Path(out)
    docs = root / "documents"
    if root.exists() and not root.is_dir():
        raise UsageError("usage_error", f"{root} exists and is not a folder")
    try:
        if docs.exists():
            shutil.rmtree(docs)
        docs.mkdir(parents=True)
    except OSError as exc:
        raise UsageError("usage_error", f"cannot write the samples to {root}: {exc.strerror}") from exc
    clip_gen = _clip_generator() if clips else None
    # the clips (ffmpeg, ~3/4 of the time) are made in a second process while this one draws the documents
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) if clip_gen else None
    clip_job = pool.submit(clip_gen, root, seed) if pool is not None and clip_gen is not None else None
    try:
        entries, sets, personas = _write_documents(root, seed, only)
        clip_entries: list[dict[str, Any]] = clip_job.result() if clip_job is not None else []
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    result = SampleSet(str(root), seed, tuple(entries), tuple(sets), tuple(clip_entries))
    index = {"generator": "idverify.synth.generate_samples", "generator_version": GENERATOR_VERSION, "seed": seed,
             "reference_date": REFERENCE_DATE,
             "samples": [e.to_dict() for e in entries] + list(clip_entries), "sets": sets,
             "personas": {k: v.to_dict() for k, v in personas.items()}}
    _write_json(root / "index.json", index)
    return result


def _write_documents(root: Path, seed: int, only: Callable[[str], bool] | None
                     ) -> tuple[list[SampleEntry], list[dict[str, Any]], dict[str, Persona]]:
    personas = _personas(seed)
    entries: list[SampleEntry] = []
    written: dict[str, dict[str, Any]] = {}
    for spec in _plan():
        if only is not None and not only(spec.id):
            continue
        shot, gt = _build(spec, seed, personas)
        image_rel, gt_rel = f"documents/{spec.id}.jpg", f"documents/{spec.id}.json"
        gt["image"] = image_rel
        (root / image_rel).write_bytes(shot.jpeg)
        _write_json(root / gt_rel, gt)
        written[spec.id] = gt
        exp = gt["expected"]
        entries.append(SampleEntry(spec.id, "document", (image_rel,), gt_rel, exp["outcome"], spec.attack,
                                   tuple(exp["reasons"])))
    sets = []
    for set_id, recto, verso, tilted in _SETS:
        if not all(k in written for k in (recto, verso, tilted)):
            continue
        reasons = sorted({r for k in (recto, verso, tilted) for r in written[k]["expected"]["reasons"]})
        sets.append({"id": set_id, "kind": "document_set", "recto": recto, "verso": verso, "tilted": tilted,
                     "persona_id": written[recto]["persona_id"], "expected_outcome": "fail" if reasons else "pass",
                     "reasons": reasons})
    return entries, sets, personas
