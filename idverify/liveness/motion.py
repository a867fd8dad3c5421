"""Head movement and 3-D structure from the landmark track.

* ``head_pose``: yaw / pitch / roll over time (range and smoothness), evidence only.
* ``structure``: does the face move like a head or like a flat picture? For
  pairs of frames, a homography is fitted on the outer face points (upper
  contour, eye corners) and used to predict the nose; a flat picture (held,
  tilted, bent a little, or on a screen seen at an angle) is explained by the
  homography, a real head turning is not: the nose tip shows parallax against
  the contour. ``motion`` is how much the outer points moved beyond a
  similarity (rotation, scale, shift), i.e. how informative the pair is.

>>> import numpy as np
>>> from idverify.liveness.signals import MODEL_POINTS
>>> flat = np.random.default_rng(0).uniform(0, 100, (68, 2))
>>> tilt = np.array([[1.1, 0.1, 5.0], [0.05, 0.9, 3.0], [1e-3, 5e-4, 1.0]])
>>> moved = np.c_[flat, np.ones(68)] @ tilt.T
>>> moved = moved[:, :2] / moved[:, 2:]
>>> motion, parallax = pair_structure(flat, moved)
>>> motion > 0.05, parallax < 1e-6
(True, True)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from idverify.config import LIVENESS, LivenessConfig
from idverify.face.geometry import interocular_distance
from idverify.liveness.signals import Signals
from idverify.results import Check

OUTER = [0, 1, 2, 3, 13, 14, 15, 16, 36, 39, 42, 45]  # upper contour and eye corners
NOSE = [30, 31, 33, 35, 29]  # tip, nostrils, lower bridge


def _similarity_residual(src: np.ndarray, dst: np.ndarray) -> float:
    """RMS error of the best similarity (rotation, uniform scale, shift) taking ``src`` to ``dst`` (Umeyama)."""
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - mu_s, dst - mu_d
    var = float(np.sum(a * a))
    if var <= 0:
        return float("nan")
    # complex form: b ~ z * a with z = scale * exp(i * angle)
    za, zb = a[:, 0] + 1j * a[:, 1], b[:, 0] + 1j * b[:, 1]
    z = np.vdot(za, zb) / var
    residual = zb - z * za
    return float(np.sqrt(np.mean(np.abs(residual) ** 2)))


def homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray | None:
    """Least-squares homography (normalised DLT) taking ``src`` to ``dst``; ``None`` if degenerate."""
    def normaliser(points: np.ndarray) -> np.ndarray:
        centre = points.mean(axis=0)
        spread = np.sqrt(np.mean(np.sum((points - centre) ** 2, axis=1))) or 1.0
        k = np.sqrt(2.0) / spread
        return np.array([[k, 0.0, -k * centre[0]], [0.0, k, -k * centre[1]], [0.0, 0.0, 1.0]])

    ts, td = normaliser(src), normaliser(dst)
    s = src @ ts[:2, :2].T + ts[:2, 2]
    d = dst @ td[:2, :2].T + td[:2, 2]
    n = len(s)
    rows = np.zeros((2 * n, 9))
    rows[0::2, 0:2], rows[0::2, 2] = s, 1.0
    rows[0::2, 6:8], rows[0::2, 8] = -d[:, :1] * s, -d[:, 0]
    rows[1::2, 3:5], rows[1::2, 5] = s, 1.0
    rows[1::2, 6:8], rows[1::2, 8] = -d[:, 1:] * s, -d[:, 1]
    _, _, vt = np.linalg.svd(rows)
    h = vt[-1].reshape(3, 3)
    h = np.linalg.inv(td) @ h @ ts
    return None if abs(h[2, 2]) < 1e-12 else h / h[2, 2]


def pair_structure(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(motion, parallax) between two 68-point shapes, in inter-ocular distances.

    ``motion``: RMS residual of the outer points after the best similarity.
    ``parallax``: RMS error of the nose predicted by the homography of the outer points.
    """
    iod = max((interocular_distance(a) + interocular_distance(b)) / 2.0, 1e-6)
    src, dst = a[OUTER].astype(np.float64), b[OUTER].astype(np.float64)
    motion = _similarity_residual(src, dst) / iod
    fitted = homography(src, dst)
    if fitted is None:
        return motion, float("nan")
    nose = np.c_[a[NOSE], np.ones(len(NOSE))] @ fitted.T
    predicted = nose[:, :2] / nose[:, 2:]
    parallax = float(np.sqrt(np.mean(np.sum((predicted - b[NOSE]) ** 2, axis=1)))) / iod
    return motion, parallax


def structure_check(landmarks: np.ndarray, config: LivenessConfig = LIVENESS,
                    indexes: Sequence[int] | None = None, samples: int = 24) -> Check:
    """``structure``: 3-D parallax of the nose when the face moved out of plane.

    Passes when the nose parallax is that of a head: at least
    ``min_parallax`` and not a small fraction (``planar_ratio``) of the
    outer-shape motion. Fails with ``planar_motion`` when the outer shape
    changed by at least ``min_motion`` but the nose followed the plane, with
    ``no_head_motion`` otherwise (too little movement to judge).
    """
    valid = np.flatnonzero(~np.isnan(landmarks[:, 0, 0]))
    picks = np.linspace(0, len(valid) - 1, min(samples, len(valid))).round().astype(int)
    chosen = valid[picks] if len(valid) else valid
    motions, parallaxes, pairs = [], [], []
    for i, a in enumerate(chosen):
        for b in chosen[i + 1:]:
            m, p = pair_structure(landmarks[a], landmarks[b])
            if np.isfinite(m) and np.isfinite(p):
                motions.append(m)
                parallaxes.append(p)
                pairs.append((int(a), int(b)))
    def frame(pos: int) -> int:
        return int(indexes[pos]) if indexes is not None else pos

    if not motions:
        return Check("structure", passed=False, reason="no_head_motion", score=0.0, threshold=config.min_parallax,
                     evidence={"pairs": 0})
    mo, pa = np.asarray(motions), np.asarray(parallaxes)
    motion = float(np.percentile(mo, 90))
    # parallax where the face moved most: among the top 20 % most informative pairs
    top = mo >= np.percentile(mo, 80)
    # landmark noise alone gives some "parallax": measure it on the pairs that moved least and subtract it
    floor = float(np.median(pa[mo <= np.percentile(mo, 30)]))
    parallax = max(float(np.median(pa[top])) - floor, 0.0)
    best = int(np.argmax(np.where(top, pa, -1.0)))
    ratio = parallax / motion if motion > 0 else 0.0
    evidence = {
        "motion_iod": round(motion, 4),
        "parallax_iod": round(parallax, 4),
        "parallax_noise_floor_iod": round(floor, 4),
        "parallax_over_motion": round(ratio, 3),
        "pairs": len(pairs),
        "frames": [frame(pairs[best][0]), frame(pairs[best][1])],
        "min_motion": config.min_motion,
        "planar_ratio": config.planar_ratio,
    }
    if parallax >= config.min_parallax and ratio >= config.planar_ratio:
        return Check("structure", passed=True, score=parallax, threshold=config.min_parallax, evidence=evidence)
    reason = "planar_motion" if motion >= config.min_motion and ratio < config.planar_ratio else "no_head_motion"
    return Check("structure", passed=False, reason=reason, score=parallax, threshold=config.min_parallax,
                 evidence=evidence)


def head_pose_check(signals: Signals, timestamps: Sequence[float] | np.ndarray, config: LivenessConfig = LIVENESS,
                    indexes: Sequence[int] | None = None) -> Check:
    """``head_pose``: yaw/pitch/roll range (5th-95th percentile) and smoothness, in degrees.

    Passes when yaw or pitch spans at least ``challenge_pitch / 2`` degrees;
    the smoothness (median absolute second difference per frame) and the
    frames of the extreme poses are evidence.
    """
    ok = ~np.isnan(signals.yaw)
    stamps = np.asarray(timestamps, dtype=np.float64)
    if ok.sum() < 3:
        return Check("head_pose", passed=False, reason="no_head_motion", score=0.0,
                     threshold=config.challenge_pitch / 2.0, evidence={"frames": []})

    def frame(pos: int) -> int:
        return int(indexes[pos]) if indexes is not None else pos

    ranges = {}
    for name in ("yaw", "pitch", "roll"):
        values = getattr(signals, name)[ok]
        ranges[name] = float(np.percentile(values, 95) - np.percentile(values, 5))
    yaw = signals.yaw[ok]
    jitter = float(np.median(np.abs(np.diff(yaw, 2)))) if len(yaw) > 3 else 0.0
    speed = np.abs(np.diff(yaw)) / np.maximum(np.diff(stamps[ok]), 1e-3)
    score = max(ranges["yaw"], ranges["pitch"])
    positions = np.flatnonzero(ok)
    evidence = {
        "yaw_range": round(ranges["yaw"], 2), "pitch_range": round(ranges["pitch"], 2),
        "roll_range": round(ranges["roll"], 2), "yaw_jitter": round(jitter, 3),
        "max_yaw_speed_dps": round(float(speed.max()) if len(speed) else 0.0, 1),
        "frames": [frame(int(positions[np.argmin(yaw)])), frame(int(positions[np.argmax(yaw)]))],
    }
    threshold = config.challenge_pitch / 2.0
    passed = score >= threshold
    return Check("head_pose", passed=passed, reason=None if passed else "no_head_motion", score=score,
                 threshold=threshold, evidence=evidence)
