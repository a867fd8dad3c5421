"""Face tracking over a decoded clip: detect on a few frames, follow with landmarks in between.

Detection (the engine's HOG detector) runs at reduced resolution on the first
frame, every ``redetect_every`` frames, whenever the landmark fit jumps, and
while the face is lost; in between, the 68-point landmark predictor is run
from a box derived from the previous frame's landmarks. Detection frames also
count the faces in view (for ``multiple_faces``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import cv2
import numpy as np

from idverify.config import LIVENESS, LivenessConfig
from idverify.face.engine import Box, FaceEngine
from idverify.face.geometry import interocular_distance


@dataclasses.dataclass(frozen=True, slots=True)
class FaceTrack:
    """Landmarks of the tracked face in every frame (NaN where there was no face)."""

    landmarks: np.ndarray  # (n, 68, 2) float64, clip-frame pixels, NaN rows where lost
    boxes: tuple[Box | None, ...]
    detect_positions: tuple[int, ...]  # frame positions where the detector ran
    face_counts: tuple[int, ...]  # faces of comparable size found at each detection position
    redetections: int  # detections triggered by a degraded fit (not by the schedule)

    @property
    def valid(self) -> np.ndarray:
        """Boolean mask of the frames with a face."""
        return ~np.isnan(self.landmarks[:, 0, 0])

    @property
    def tracked_fraction(self) -> float:
        return float(self.valid.mean()) if len(self.landmarks) else 0.0

    def lost_segments(self) -> list[tuple[int, int]]:
        """(first, last) frame positions of each run without a face."""
        segments: list[tuple[int, int]] = []
        start: int | None = None
        for pos, ok in enumerate(self.valid):
            if not ok and start is None:
                start = pos
            elif ok and start is not None:
                segments.append((start, pos - 1))
                start = None
        if start is not None:
            segments.append((start, len(self.valid) - 1))
        return segments


def _grey(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame


def _iou(a: Box, b: Box) -> float:
    w = min(a.right, b.right) - max(a.left, b.left)
    h = min(a.bottom, b.bottom) - max(a.top, b.top)
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / float(a.width * a.height + b.width * b.height - inter)


class _Detector:
    """Detection at reduced size, escalating resolution/upsampling once when nothing is found."""

    LEVELS = ((None, 0), (None, 1), (640, 0), (640, 1))  # (long side or None = detect_side, upsample)

    def __init__(self, engine: FaceEngine, detect_side: int) -> None:
        self.engine = engine
        self.detect_side = detect_side
        self.level = 0  # the cheapest level that found a face so far

    def _run(self, grey: np.ndarray, level: int) -> list[Box]:
        side, upsample = self.LEVELS[level]
        side = side or self.detect_side
        height, width = grey.shape[:2]
        factor = min(1.0, side / max(height, width))
        small = grey if factor >= 1.0 else cv2.resize(grey, (round(width * factor), round(height * factor)),
                                                      interpolation=cv2.INTER_AREA)
        return [b.scaled(1.0 / factor) for b in self.engine.detect(small, upsample)]

    def __call__(self, grey: np.ndarray, escalate: bool) -> list[Box]:
        boxes = self._run(grey, self.level)
        if boxes or not escalate:
            return boxes
        for level in range(self.level + 1, len(self.LEVELS)):
            boxes = self._run(grey, level)
            if boxes:
                self.level = level
                return boxes
        return []


def _anchor(points: np.ndarray) -> tuple[float, float, float]:
    """(x, y, scale) of a landmark set: the centroid of the stable points and the inter-ocular distance."""
    stable = points[_STABLE]
    return float(stable[:, 0].mean()), float(stable[:, 1].mean()), max(interocular_distance(points), 1.0)


_STABLE = [0, 16, 27, 28, 29, 30, 36, 39, 42, 45]  # outer contour ends, nose bridge, eye corners


def _follow(box: Box, at_detection: tuple[float, float, float], now: tuple[float, float, float],
            shape: tuple[int, ...]) -> Box:
    """The detection ``box`` moved and scaled with the face since the detection.

    Keeping the detector's box (instead of re-deriving one from each frame's
    landmarks) keeps the landmark fit from drifting and jittering: a still
    face gets the same box, hence the same landmarks.
    """
    x0, y0, s0 = at_detection
    x1, y1, s1 = now
    factor = s1 / s0
    if abs(factor - 1.0) < 0.1:  # small scale changes wait for the next detection (no feedback loop)
        factor = 1.0
    dx, dy = x1 - x0, y1 - y0
    if abs(dx) < 0.02 * box.width and abs(dy) < 0.02 * box.height:  # dead band against jitter
        dx = dy = 0.0
    cx, cy = (box.left + box.right) / 2.0, (box.top + box.bottom) / 2.0
    half_w, half_h = box.width * factor / 2.0, box.height * factor / 2.0
    cx, cy = cx + dx + (cx - x0) * (factor - 1.0), cy + dy + (cy - y0) * (factor - 1.0)
    height, width = shape[:2]
    return Box(int(max(0, round(cx - half_w))), int(max(0, round(cy - half_h))), int(min(width, round(cx + half_w))),
               int(min(height, round(cy + half_h))))


def _plausible(points: np.ndarray, box: Box) -> bool:
    """Landmarks that sit inside their box with eyes apart: the fit did not collapse."""
    iod = interocular_distance(points)
    if not np.isfinite(iod) or iod < 0.15 * max(box.width, 1):
        return False
    cx, cy = points[27:36].mean(axis=0)  # nose
    return box.left - 0.2 * box.width <= cx <= box.right + 0.2 * box.width and \
        box.top - 0.2 * box.height <= cy <= box.bottom + 0.2 * box.height


def track_face(frames: Sequence[np.ndarray], engine: FaceEngine, config: LivenessConfig = LIVENESS) -> FaceTrack:
    """Track the main face through ``frames`` (RGB or grey uint8)."""
    count = len(frames)
    marks = np.full((count, 68, 2), np.nan)
    boxes: list[Box | None] = [None] * count
    detect_positions: list[int] = []
    face_counts: list[int] = []
    detector = _Detector(engine, config.detect_side)
    detected_box: Box | None = None
    detected_anchor = (0.0, 0.0, 1.0)
    current: Box | None = None
    previous: np.ndarray | None = None
    since_detect = 0
    redetections = 0
    lost_for = 0

    def detect(grey: np.ndarray, pos: int) -> Box | None:
        found = detector(grey, escalate=current is None and (pos < 15 or lost_for % 15 == 0))
        main = _choose(found, current)
        detect_positions.append(pos)
        face_counts.append(_comparable(found, main, config.second_face_ratio))
        return main

    for pos in range(count):
        if current is None and lost_for % 3 != 0:  # while lost, look again every third frame
            lost_for += 1
            continue
        grey = _grey(frames[pos])
        fresh = current is None or since_detect >= config.redetect_every
        if fresh:
            current = detect(grey, pos)
            since_detect = 0
        points = None if current is None else engine.landmarks(grey, current)
        if points is not None and current is not None and not fresh and previous is not None:
            jump = float(np.mean(np.linalg.norm(points - previous, axis=1))) / max(interocular_distance(points), 1.0)
            if jump > config.max_jump_iod or not _plausible(points, current):
                redetections += 1
                current = detect(grey, pos)
                since_detect = 0
                fresh = True
                points = None if current is None else engine.landmarks(grey, current)
        if points is None or current is None or not _plausible(points, current):
            current, previous = None, None
            lost_for = 1
            continue
        if fresh or detected_box is None:
            detected_box, detected_anchor = current, _anchor(points)
        lost_for = 0
        marks[pos] = points
        boxes[pos] = current
        previous = points
        current = _follow(detected_box, detected_anchor, _anchor(points), grey.shape)
        since_detect += 1
    return FaceTrack(landmarks=marks, boxes=tuple(boxes), detect_positions=tuple(detect_positions),
                     face_counts=tuple(face_counts), redetections=redetections)


def _choose(found: list[Box], current: Box | None) -> Box | None:
    if not found:
        return None
    if current is not None:
        best = max(found, key=lambda b: _iou(b, current))
        if _iou(best, current) > 0.2:
            return best
    return max(found, key=lambda b: b.side)


def _comparable(found: list[Box], main: Box | None, ratio: float) -> int:
    if main is None:
        return 0
    return sum(1 for b in found if b.side >= ratio * main.side)
