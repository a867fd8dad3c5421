"""Focal length of a photo from the card seen in it (a rectangle of known aspect).

The homography ``H`` from the card plane (width 1, height 1/aspect) to the
photo, with the principal point at the image centre and square pixels, is
``H ~ K [r1 r2 t]`` with ``K = diag(f, f, 1)``. The card's two axes are
orthonormal, which gives two equations linear in ``w = 1 / f^2``
(Hartley & Zisserman, sec. 8.8; Zhang 2000):

* ``h1' W h2 = 0``: the vanishing points of the two edge pairs are
  orthogonal directions, i.e. ``f^2 = -(v1 - c).(v2 - c)``;
* ``h1' W h1 = h2' W h2``: both axes have unit length (the known aspect).

The second equation still constrains ``f`` when one edge pair stays
parallel in the photo (a card turned about one of its axes), where the
vanishing-point formula alone is undetermined. Both are solved together by
least squares. The estimate is used only when it is well conditioned: ``f``
in a plausible range and stable under small corner errors (the corners are
perturbed by ``corner_sigma`` of the card's width and the spread of the
re-estimated ``f`` is measured); otherwise the caller's default is kept.

>>> import math
>>> f, w, h = 1500.0, 2000, 1500
>>> card = np.array([[0, 0], [1, 0], [1, 0.63], [0, 0.63]])
>>> a = math.radians(35)
>>> rot = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
>>> cam = (np.c_[card - [0.5, 0.315], np.zeros(4)]) @ rot.T + [0, 0, 2.0]
>>> corners = cam[:, :2] * f / cam[:, 2:] + [w / 2, h / 2]
>>> est = estimate_focal(corners, (w, h), 1 / 0.63, default_focal=1600.0)
>>> est.method, round(est.focal)
('rectangle', 1500)
"""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np

N_PERTURB = 12


@dataclasses.dataclass(frozen=True, slots=True)
class FocalEstimate:
    """The focal length used (pixels) and how it was obtained."""

    focal: float
    method: str  # "rectangle" (estimated from the card) or "default"
    estimate: float | None  # the card's estimate, also when rejected
    spread: float | None  # relative spread of the estimate under corner noise
    why_default: str | None = None  # "degenerate", "out_of_range", "unstable"

    def to_evidence(self, image_size: tuple[int, int]) -> dict[str, object]:
        """Short JSON-able summary for a check's evidence (focal also as a factor of the longer side)."""
        side = float(max(image_size))
        ev: dict[str, object] = {"focal_px": round(self.focal, 1), "focal_factor": round(self.focal / side, 3),
                                 "focal_method": self.method}
        if self.estimate is not None:
            ev["focal_estimate_factor"] = round(self.estimate / side, 3)
        if self.spread is not None:
            ev["focal_spread"] = round(self.spread, 3)
        if self.why_default:
            ev["focal_why_default"] = self.why_default
        return ev


def card_homography(corners: np.ndarray, aspect: float) -> np.ndarray | None:
    """Homography from the card plane (width 1, height 1/aspect) to the corners (TL, TR, BR, BL)."""
    obj = np.array([[0, 0], [1, 0], [1, 1 / aspect], [0, 1 / aspect]], np.float32)
    try:
        hom = cv2.getPerspectiveTransform(obj, np.asarray(corners, np.float32))
    except cv2.error:
        return None
    if hom is None or not np.all(np.isfinite(hom)) or abs(float(np.linalg.det(hom))) < 1e-12:
        return None
    return np.asarray(hom, np.float64)


def focal_from_homography(hom: np.ndarray, image_size: tuple[int, int]) -> float | None:
    """Least-squares focal length (pixels) from the two orthonormality constraints, or None.

    None when the equations do not determine ``f`` (a fronto-parallel card)
    or give a negative ``f^2``.
    """
    w, h = image_size
    m = np.array([[1.0, 0, -w / 2.0], [0, 1.0, -h / 2.0], [0, 0, 1.0]]) @ hom
    m = m / max(float(np.abs(m[:2, :2]).max()), 1e-12)  # scale the image terms to ~1
    (a1, b1, c1), (a2, b2, c2) = m[:, 0], m[:, 1]
    # rows: coefficient of w = 1/f^2 and constant term, each row normalised by its magnitude
    rows = [(a1 * a2 + b1 * b2, c1 * c2), (a1 * a1 + b1 * b1 - a2 * a2 - b2 * b2, c1 * c1 - c2 * c2)]
    scale = max(abs(a1 * a1 + b1 * b1), abs(a2 * a2 + b2 * b2), 1e-12)
    coef = np.array([r[0] for r in rows]) / scale
    const = np.array([r[1] for r in rows]) / scale
    den = float(coef @ coef)
    if den < 1e-12:
        return None
    inv_f2 = -float(coef @ const) / den
    if inv_f2 <= 0:
        return None
    return 1.0 / math.sqrt(inv_f2)


def estimate_focal(corners: np.ndarray, image_size: tuple[int, int], aspect: float, default_focal: float, *,
                   min_factor: float = 0.5, max_factor: float = 3.0, max_spread: float = 0.2,
                   corner_sigma: float = 0.004) -> FocalEstimate:
    """Focal length for the photo showing a card of ``aspect`` at ``corners``, or ``default_focal``.

    ``min_factor``/``max_factor``: plausible range as a factor of the
    image's longer side; ``max_spread``: largest accepted relative spread
    (half the 16-84 % range over the median) of the estimate when the
    corners move by ``corner_sigma`` of the card's width (deterministic).
    """
    corners = np.asarray(corners, np.float64).reshape(4, 2)
    hom = card_homography(corners, aspect)
    f = None if hom is None else focal_from_homography(hom, image_size)
    if f is None:
        return FocalEstimate(default_focal, "default", None, None, "degenerate")
    side = float(max(image_size))
    if not (min_factor * side <= f <= max_factor * side):
        return FocalEstimate(default_focal, "default", f, None, "out_of_range")
    width = float(np.linalg.norm(corners[1] - corners[0]) + np.linalg.norm(corners[2] - corners[3])) / 2
    noise = np.random.default_rng(0).normal(0.0, corner_sigma * width, (N_PERTURB, 4, 2))
    samples = []
    for d in noise:
        hp = card_homography(corners + d, aspect)
        fp = None if hp is None else focal_from_homography(hp, image_size)
        samples.append(fp if fp is not None else math.inf)  # a degenerate neighbour counts as unstable
    samples.sort()
    lo, hi = samples[round(0.16 * (N_PERTURB - 1))], samples[round(0.84 * (N_PERTURB - 1))]
    spread = (hi - lo) / 2 / f if math.isfinite(hi) else math.inf
    if spread > max_spread:
        return FocalEstimate(default_focal, "default", f, spread, "unstable")
    return FocalEstimate(f, "rectangle", f, spread)


__all__ = ["FocalEstimate", "card_homography", "estimate_focal", "focal_from_homography"]
