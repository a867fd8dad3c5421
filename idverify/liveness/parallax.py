"""Plane and parallax on the face's skin texture: does it move like a head or like a flat picture?

Corner points on the face (Shi-Tomasi, eyes and mouth masked out so blinks
and speech do not count) are followed by pyramidal Lucas-Kanade optical flow
through windows of about a second, on a crop around the face, at about 12
steps a second. A rigid flat picture (a print, a phone screen) moves its
points by a homography; a head turning shows parallax (the nose against the
cheeks). The RMS residual of the best homography, in inter-ocular distances
(IOD), divided by the head turn over the window (radians, from the landmark
yaw), is the **relief**. Sub-pixel flow on hundreds of pixels is far less
noisy than the 68 landmarks, so this tells a hand-moved print from a head
where the landmark parallax (:mod:`idverify.liveness.motion`) cannot.

Only windows where the head turned by at least ``parallax_min_turn`` degrees
are judged: a face that stays still says nothing either way.

The same flow checks the landmark nose parallax of
:mod:`idverify.liveness.motion` (:func:`confirm_structure`): between the two
frames that showed it, skin texture that follows one homography means the
parallax was landmark noise on a flat picture, not relief.

>>> windows = [Window(0, 25, residual=0.006, turn=8.0, points=40), Window(12, 37, residual=0.007, turn=9.0, points=41)]
>>> parallax_check(windows).reason
'planar_motion'
>>> parallax_check([Window(0, 25, residual=0.06, turn=8.0, points=40)] * 2).passed
True
>>> parallax_check([Window(0, 25, residual=0.06, turn=8.0, points=40)]).reason  # one window: no evidence yet
'no_head_motion'
>>> parallax_check([Window(0, 25, residual=0.003, turn=8.0, points=40)]).reason  # but a flat turn already shows
'planar_motion'
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence

import cv2
import numpy as np

from idverify.config import LIVENESS, LivenessConfig
from idverify.face.geometry import interocular_distance
from idverify.liveness.motion import homography
from idverify.results import Check

_OUTLINE = list(range(0, 17)) + list(range(26, 16, -1))  # jaw, then brows right to left: the face's outline
_MASKED = (range(36, 42), range(42, 48), range(48, 68))  # eyes and mouth move on their own


@dataclasses.dataclass(frozen=True, slots=True)
class Window:
    """One stretch of the clip: frame positions, homography residual (IOD), head turn (degrees), points used."""

    start: int
    end: int
    residual: float
    turn: float
    points: int

    @property
    def relief(self) -> float:
        """Residual per radian of head turn (IOD)."""
        return self.residual / max(math.radians(self.turn), 1e-6)


def _skin_mask(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(points[_OUTLINE].astype(np.float32)).astype(np.int32), 255)
    for part in _MASKED:
        region = points[list(part)].astype(np.float32)
        centre = region.mean(axis=0)
        cv2.fillConvexPoly(mask, cv2.convexHull(centre + (region - centre) * 1.6).astype(np.int32), 0)
    return mask


def _steps(stamps: np.ndarray, start: int, end: int, step_s: float) -> list[int]:
    """Frame positions from ``start`` to ``end`` about ``step_s`` apart."""
    chain = [start]
    while chain[-1] < end:
        nxt = int(np.searchsorted(stamps, stamps[chain[-1]] + step_s - 1e-9))
        chain.append(min(max(nxt, chain[-1] + 1), end))
    return chain


def flow_windows(greys: Sequence[np.ndarray], landmarks: np.ndarray, yaw: np.ndarray,
                 timestamps: Sequence[float] | np.ndarray, config: LivenessConfig = LIVENESS) -> list[Window]:
    """Follow skin texture through each window; windows where the face is lost on the way are skipped."""
    stamps = np.asarray(timestamps, dtype=np.float64)
    valid = ~np.isnan(landmarks[:, 0, 0])
    windows: list[Window] = []
    if len(stamps) < 2:
        return windows
    begin = float(stamps[0])
    while begin + config.parallax_window_s <= stamps[-1] + 1e-6:
        start = int(np.searchsorted(stamps, begin - 1e-9))
        end = min(int(np.searchsorted(stamps, begin + config.parallax_window_s - 1e-9)), len(stamps) - 1)
        begin += config.parallax_every_s
        chain = _steps(stamps, start, end, config.parallax_step_s)
        if end <= start or not all(valid[p] for p in chain):
            continue
        window = _follow(greys, landmarks, chain, config)
        if window is not None:
            turn = abs(_steady(yaw, end) - _steady(yaw, start))
            windows.append(dataclasses.replace(window, turn=turn if math.isfinite(turn) else 0.0))
    return windows


def _steady(values: np.ndarray, pos: int) -> float:
    """Median of the five values around ``pos`` (landmark yaw jitters by a few degrees from frame to frame)."""
    around = values[max(0, pos - 2):pos + 3]
    around = around[np.isfinite(around)]
    return float(np.median(around)) if len(around) else math.nan


def _follow(greys: Sequence[np.ndarray], landmarks: np.ndarray, chain: list[int],
            config: LivenessConfig) -> Window | None:
    corners = np.concatenate([landmarks[p] for p in chain])
    height, width = greys[chain[0]].shape[:2]
    x0, y0 = np.maximum(np.floor(corners.min(axis=0) - 8), 0).astype(int)  # a crop holding the face all along
    x1, y1 = np.minimum(np.ceil(corners.max(axis=0) + 8), (width, height)).astype(int)
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None
    first = landmarks[chain[0]]
    iod = interocular_distance(first)
    mask = _skin_mask(first - (x0, y0), (y1 - y0, x1 - x0))
    seeds = cv2.goodFeaturesToTrack(greys[chain[0]][y0:y1, x0:x1], config.parallax_max_points, 0.01,
                                    max(3.0, iod / 10.0), mask=mask)
    if seeds is None or len(seeds) < config.parallax_min_points or not iod > 0:
        return None
    points = seeds.astype(np.float32)
    kept = np.ones(len(points), bool)
    for a, b in itertools.pairwise(chain):
        moved, status, _ = cv2.calcOpticalFlowPyrLK(greys[a][y0:y1, x0:x1], greys[b][y0:y1, x0:x1], points,
                                                    np.empty_like(points), winSize=(15, 15), maxLevel=2)
        points = np.asarray(moved, np.float32)
        kept &= np.asarray(status).ravel() == 1
    if kept.sum() < config.parallax_min_points:
        return None
    src = seeds.reshape(-1, 2)[kept].astype(np.float64)
    dst = points.reshape(-1, 2)[kept].astype(np.float64)
    fitted = homography(src, dst)
    if fitted is None:
        return None
    moved = np.c_[src, np.ones(len(src))] @ fitted.T
    residual = np.linalg.norm(moved[:, :2] / moved[:, 2:] - dst, axis=1)
    return Window(start=chain[0], end=chain[-1], residual=float(np.sqrt(np.mean(residual ** 2))) / iod, turn=0.0,
                  points=int(kept.sum()))


def texture_residual(greys: Sequence[np.ndarray], landmarks: np.ndarray, timestamps: Sequence[float] | np.ndarray,
                     start: int, end: int, config: LivenessConfig = LIVENESS) -> float | None:
    """RMS residual (IOD) of the best homography of the skin texture followed from position ``start`` to ``end``;
    ``None`` when it cannot be followed (face lost on the way, too few points)."""
    valid = ~np.isnan(landmarks[:, 0, 0])
    if not 0 <= start < end < len(valid):
        return None
    chain = _steps(np.asarray(timestamps, dtype=np.float64), start, end, config.parallax_step_s)
    if not all(valid[p] for p in chain):
        return None
    window = _follow(greys, landmarks, chain, config)
    return None if window is None else window.residual


def confirm_structure(check: Check, residual: float | None, config: LivenessConfig = LIVENESS) -> Check:
    """The landmark nose parallax (``structure``) checked against the skin texture between the same two frames.

    68 landmarks on a tilting picture can show a nose parallax as large as a
    head's (fit noise, the model reading foreshortening as a turn); the
    texture flow between the two frames is far more precise. When it follows
    one homography (residual below ``structure_min_texture``) the parallax
    is not confirmed and the check gives no evidence (``no_head_motion``).
    When the texture cannot be followed the landmark verdict stands.

    >>> from idverify.results import Check
    >>> seen = Check("structure", True, score=0.07, threshold=0.045, evidence={"frames": [13, 52]})
    >>> confirm_structure(seen, 0.004).reason, confirm_structure(seen, 0.2).passed, confirm_structure(seen, None).passed
    ('no_head_motion', True, True)
    """
    if not check.passed:
        return check
    evidence = {**check.evidence, "texture_residual_iod": None if residual is None else round(residual, 4),
                "min_texture_residual_iod": config.structure_min_texture}
    if residual is None or residual >= config.structure_min_texture:
        return dataclasses.replace(check, evidence=evidence)
    return dataclasses.replace(check, passed=False, reason="no_head_motion", evidence=evidence)


def parallax_check(windows: Sequence[Window], config: LivenessConfig = LIVENESS,
                   indexes: Sequence[int] | None = None) -> Check:
    """``parallax``: the median relief of the windows where the head turned.

    Below ``min_relief`` the face turned like a flat picture
    (``planar_motion``, an attack; one turning window is enough). At
    ``min_relief`` or more it is liveness evidence, but only over
    ``parallax_min_windows`` turning windows or more (one window proves
    too little); otherwise ``no_head_motion``.
    """
    def frame(pos: int) -> int:
        return int(indexes[pos]) if indexes is not None else int(pos)

    turned = [w for w in windows if w.turn >= config.parallax_min_turn]
    evidence: dict[str, object] = {"windows": len(windows), "turned_windows": len(turned),
                                   "min_turn_deg": config.parallax_min_turn}
    relief = float(np.median([w.relief for w in turned])) if turned else 0.0
    if not turned or (relief >= config.min_relief and len(turned) < config.parallax_min_windows):
        return Check("parallax", passed=False, reason="no_head_motion", score=None, threshold=config.min_relief,
                     evidence={**evidence, "frames": []})
    best = max(turned, key=lambda w: w.turn)
    evidence.update({
        "relief_iod_per_rad": round(relief, 4),
        "residuals_iod": [round(w.residual, 4) for w in turned[:20]],
        "turns_deg": [round(w.turn, 1) for w in turned[:20]],
        "points": int(np.median([w.points for w in turned])),
        "frames": [frame(best.start), frame(best.end)],
    })
    passed = relief >= config.min_relief
    return Check("parallax", passed=passed, reason=None if passed else "planar_motion", score=relief,
                 threshold=config.min_relief, evidence=evidence)
