"""Face comparison: a reference image (typically a card portrait) against a probe image or clip.

For a clip, frames are sampled evenly (skipped frames are decoded but not
converted), ranked cheaply by sharpness, searched for exactly one face, scored
for quality (face sharpness, frontal pose, eyes open, size), and the best few
are encoded in one batch. Their embeddings are fused (mean) and compared with
the reference; the per-frame distances stay in the result as evidence.

>>> from idverify.face.fake import FakeEngine, fake_frame
>>> r = compare_faces(fake_frame(3), fake_frame(3), engine=FakeEngine())
>>> r.match, r.distance
(True, 0.0)
>>> compare_faces(fake_frame(3), fake_frame(4), engine=FakeEngine()).reasons
('face_mismatch',)
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import cv2
import numpy as np

from idverify.config import FACE, FaceConfig
from idverify.face.engine import Box, FaceEngine, default_engine
from idverify.face.geometry import mean_eye_aspect_ratio, yaw_proxy
from idverify.media import Clip, ImageSource, VideoSource, downscale, is_video, load_clip, load_image
from idverify.results import Check, to_jsonable

Source = ImageSource | VideoSource | Clip

_IMAGE_SIDE = 1600  # images are decoded at most this large (card portraits and selfies need no more)
_SECONDARY_FACE = 0.5  # faces smaller than this fraction of the largest one are ignored (ghost portraits, background)


@dataclasses.dataclass(frozen=True, slots=True)
class FaceComparison:
    """The outcome of :func:`compare_faces`.

    ``distance`` is the Euclidean distance between the reference embedding and
    the fused probe embedding (``nan`` when no comparison was possible);
    ``match`` is ``distance < threshold`` and every check passed.
    """

    match: bool
    distance: float
    threshold: float
    reasons: tuple[str, ...]
    checks: tuple[Check, ...]
    reference_faces: int
    probe_faces: int  # most faces seen at once in the probe (image, or any examined frame)
    probe_kind: str  # "image" or "clip"
    frames_examined: tuple[int, ...]  # clip frame indexes searched for a face
    frames_used: tuple[int, ...]  # clip frame indexes encoded and fused
    frame_distances: tuple[float, ...]  # distance of each used frame to the reference
    engine: str
    timings_ms: dict[str, float]

    @property
    def passed(self) -> bool:
        return self.match

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = to_jsonable({f.name: getattr(self, f.name) for f in dataclasses.fields(self)})
        data["checks"] = [c.to_dict() for c in self.checks]
        return data


@dataclasses.dataclass(frozen=True, slots=True)
class _Candidate:
    """A frame (or image) with exactly one usable face."""

    index: int
    pixels: np.ndarray
    box: Box
    quality: float
    eyes_open: bool


class _Timer:
    def __init__(self) -> None:
        self.ms: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.ms[name] = self.ms.get(name, 0.0) + (time.perf_counter() - start) * 1000.0


def _sharpness(gray: np.ndarray) -> float:
    return float(cv2.Laplacian(gray, cv2.CV_32F).var())


def _gray(rgb: np.ndarray) -> np.ndarray:
    return rgb if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _main_faces(boxes: list[Box]) -> list[Box]:
    """The faces that count: those at least half the size of the largest one."""
    if not boxes:
        return []
    largest = max(b.side for b in boxes)
    return sorted((b for b in boxes if b.side >= _SECONDARY_FACE * largest), key=lambda b: -b.side)


def _find_faces(engine: FaceEngine, pixels: np.ndarray, config: FaceConfig, single_image: bool,
                timer: _Timer, upsample: int = 0) -> list[Box]:
    """Faces in full-resolution coordinates, detected on a reduced grey copy.

    For a single image (not a clip frame), what HOG misses is searched again
    with upsampling, then with the CNN detector.
    """
    small, factor = downscale(_gray(pixels), config.clip_detect_side)
    with timer.stage("detect"):
        boxes = engine.detect(small, upsample)
        if not boxes and single_image:
            boxes = engine.detect(small, config.reference_upsample)
        if not boxes and single_image:  # expressions, hair, glasses: the slower CNN detector, once
            return _main_faces(engine.detect_precise(pixels))
    return [b.scaled(1.0 / factor) for b in _main_faces(boxes)]


def _quality(engine: FaceEngine, pixels: np.ndarray, box: Box, timer: _Timer) -> tuple[float, bool]:
    """Face quality in [0, 1] (sharpness, frontal pose, size), and whether the eyes are open."""
    with timer.stage("landmarks"):
        points = engine.landmarks(pixels, box)
    crop = _gray(pixels[max(box.top, 0):box.bottom, max(box.left, 0):box.right])
    sharp = _sharpness(cv2.resize(crop, (128, 128), interpolation=cv2.INTER_AREA)) if crop.size else 0.0
    sharp_score = min(1.0, math.log1p(sharp) / math.log1p(400.0))
    frontal = max(0.0, 1.0 - abs(yaw_proxy(points)) / 0.25)
    size_score = min(1.0, box.side / 160.0)
    eyes_open = mean_eye_aspect_ratio(points) > 0.18
    quality = (0.2 + 0.8 * sharp_score) * (0.3 + 0.7 * frontal) * (0.5 + 0.5 * size_score) * (1.0 if eyes_open else 0.4)
    return quality, eyes_open


def _reference(engine: FaceEngine, source: ImageSource, config: FaceConfig,
               timer: _Timer) -> tuple[np.ndarray | None, int, Check | None]:
    """Embedding of the reference face, the number of faces, or a failed check."""
    with timer.stage("decode"):
        pixels = load_image(source, max_side=_IMAGE_SIDE).pixels
    faces = _find_faces(engine, pixels, config, single_image=True, timer=timer)
    if not faces:
        return None, 0, Check("reference_face", False, "no_face_reference")
    if len(faces) > 1:
        return None, len(faces), Check("reference_face", False, "multiple_faces_reference",
                                       evidence={"boxes": [b.to_dict() for b in faces]})
    box = faces[0]
    if box.side < config.min_face_px:
        return None, 1, Check("reference_face", False, "face_too_small_reference", score=box.side,
                              threshold=config.min_face_px, evidence={"box": box.to_dict()})
    with timer.stage("encode"):
        chip = engine.align(pixels, box)
        embedding = engine.encode([chip], config.reference_jitters - 1 if config.reference_jitters > 1 else 0)[0]
    return embedding, 1, Check("reference_face", True, None, score=box.side, threshold=config.min_face_px,
                               evidence={"box": box.to_dict()})


def _probe_image(engine: FaceEngine, source: ImageSource, config: FaceConfig,
                 timer: _Timer) -> tuple[list[_Candidate], int, Check]:
    with timer.stage("decode"):
        pixels = load_image(source, max_side=_IMAGE_SIDE).pixels
    faces = _find_faces(engine, pixels, config, single_image=True, timer=timer)
    if not faces:
        return [], 0, Check("probe_face", False, "no_face_probe")
    if len(faces) > 1:
        return [], len(faces), Check("probe_face", False, "multiple_faces_probe",
                                     evidence={"boxes": [b.to_dict() for b in faces]})
    if faces[0].side < config.min_face_px:
        return [], 1, Check("probe_face", False, "face_too_small_probe", score=faces[0].side,
                            threshold=config.min_face_px)
    candidate = _Candidate(0, pixels, faces[0], 1.0, True)
    return [candidate], 1, Check("probe_face", True, None, score=faces[0].side, threshold=config.min_face_px)


def _probe_clip(engine: FaceEngine, clip: Clip, config: FaceConfig,
                timer: _Timer) -> tuple[list[_Candidate], int, tuple[int, ...], Check]:
    """Best frames of a clip: sharpest first, exactly one face, ranked by quality."""
    step = max(1, len(clip.frames) // config.clip_candidates)
    sampled = list(range(0, len(clip.frames), step))[: config.clip_candidates]
    with timer.stage("rank"):
        order = sorted(sampled, key=lambda i: -_sharpness(downscale(_gray(clip.frames[i]), 320)[0]))
    wanted = config.clip_encoded * 2
    candidates: list[_Candidate] = []
    examined: list[int] = []
    most_faces = 0
    several = small = 0
    for i in order:
        if sum(c.eyes_open for c in candidates) >= wanted:
            break
        examined.append(clip.indexes[i])
        faces = _find_faces(engine, clip.frames[i], config, single_image=False, timer=timer)
        most_faces = max(most_faces, len(faces))
        if len(faces) > 1:
            several += 1
            continue
        if not faces:
            continue
        if faces[0].side < config.min_face_px:
            small += 1
            continue
        quality, eyes_open = _quality(engine, clip.frames[i], faces[0], timer)
        candidates.append(_Candidate(clip.indexes[i], clip.frames[i], faces[0], quality, eyes_open))
    if not candidates and not several:  # small faces (far from the camera): the sharpest frames, upsampled
        for i in order[:2]:
            faces = _find_faces(engine, clip.frames[i], config, single_image=False, timer=timer, upsample=1)
            if len(faces) == 1 and faces[0].side >= config.min_face_px:
                quality, eyes_open = _quality(engine, clip.frames[i], faces[0], timer)
                candidates.append(_Candidate(clip.indexes[i], clip.frames[i], faces[0], quality, eyes_open))
    evidence = {"frames_examined": examined, "frames_with_several_faces": several, "frames_face_too_small": small}
    if several and several >= len(candidates):
        return [], most_faces, tuple(examined), Check("probe_face", False, "multiple_faces_probe", evidence=evidence)
    if not candidates:
        reason = "face_too_small_probe" if small else "no_face_probe"
        return [], most_faces, tuple(examined), Check("probe_face", False, reason, evidence=evidence)
    best = sorted(candidates, key=lambda c: -c.quality)[: config.clip_encoded]
    evidence["quality"] = {c.index: round(c.quality, 3) for c in best}
    return best, most_faces, tuple(examined), Check("probe_face", True, None, score=len(best),
                                                    threshold=1, evidence=evidence)


def compare_faces(reference: ImageSource, probe: Source, *, engine: FaceEngine | None = None,
                  config: FaceConfig = FACE) -> FaceComparison:
    """Compare the face in ``reference`` (an image) with ``probe`` (an image, a clip, or a decoded Clip).

    Inputs are paths, bytes or RGB arrays (images). Missing, several or too
    small faces give ``match=False`` with a reason; unusable files raise
    :class:`idverify.errors.InputError`.
    """
    engine = engine or default_engine()
    timer = _Timer()
    checks: list[Check] = []
    ref_embedding, ref_faces, ref_check = _reference(engine, reference, config, timer)
    if ref_check is not None:
        checks.append(ref_check)
    examined: tuple[int, ...] = ()
    if isinstance(probe, Clip) or (not isinstance(probe, np.ndarray) and is_video(probe)):
        kind = "clip"
        if isinstance(probe, Clip):
            clip = probe
        else:
            with timer.stage("decode"):
                clip = load_clip(probe, max_side=None, target_frames=config.clip_candidates)
        candidates, probe_faces, examined, probe_check = _probe_clip(engine, clip, config, timer)
    else:
        kind = "image"
        candidates, probe_faces, probe_check = _probe_image(engine, probe, config, timer)
    checks.append(probe_check)

    distance = math.nan
    frame_distances: tuple[float, ...] = ()
    if ref_embedding is not None and candidates:
        with timer.stage("encode"):
            chips = [engine.align(c.pixels, c.box) for c in candidates]
            probe_embeddings = engine.encode(chips)
        frame_distances = tuple(float(np.linalg.norm(e - ref_embedding)) for e in probe_embeddings)
        fused = probe_embeddings.mean(axis=0)
        distance = float(np.linalg.norm(fused - ref_embedding))
        if len(probe_embeddings) > 1:
            spread = max(float(np.linalg.norm(a - b)) for a in probe_embeddings for b in probe_embeddings)
            checks.append(Check("probe_consistency", spread < config.threshold,
                                None if spread < config.threshold else "probe_identity_inconsistent",
                                score=spread, threshold=config.threshold))
        checks.append(Check("face_match", distance < config.threshold,
                            None if distance < config.threshold else "face_mismatch", score=distance,
                            threshold=config.threshold,
                            evidence={"frames_used": [c.index for c in candidates],
                                      "frame_distances": [round(d, 4) for d in frame_distances],
                                      "threshold_provenance": config.threshold_provenance}))
    reasons = tuple(c.reason for c in checks if not c.passed and c.reason)
    match = not reasons and not math.isnan(distance)
    return FaceComparison(
        match=match, distance=distance, threshold=config.threshold, reasons=reasons, checks=tuple(checks),
        reference_faces=ref_faces, probe_faces=probe_faces, probe_kind=kind, frames_examined=examined,
        frames_used=tuple(c.index for c in candidates) if kind == "clip" else (),
        frame_distances=frame_distances, engine=engine.version,
        timings_ms={k: round(v, 2) for k, v in timer.ms.items()})
