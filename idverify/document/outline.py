"""Refine a card outline's sides on the image's edges.

The search finds a card's outline at a reduced size; these steps move each
side onto the card's edge at the decode's resolution: the strongest
gradient along the side's normals (:func:`refine_sides`), then the straight
edge that best covers the side (:func:`polish_sides`: a card's edge stays
straight where it lies on a white sheet, a sheet's edge beside it runs at an
angle, a printed line inside it is a ridge), then past a printed band along
the side to the card's edge (:func:`extend_to_card_edge`).

>>> import numpy as np
>>> is_convex(np.array([[0, 0], [10, 0], [10, 6], [0, 6]], float))
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

PARALLEL_SLOPE = math.tan(math.radians(0.7))  # a line this near a side's direction runs along the card ...
PARALLEL_SHARE = 0.7  # ... and is preferred when it covers the side at least this share as well as the best line
RIDGE_REACH = 4  # px: opposite gradients this close across a line are a thin printed line, not the card's edge
RIDGE_SHARE = 0.8  # ... on this share of the normals the line covers


def is_convex(q: np.ndarray) -> bool:
    """Whether the quadrilateral ``q`` (4, 2), in either winding, is convex."""
    signs = []
    for i in range(4):
        a, b, c = q[i], q[(i + 1) % 4], q[(i + 2) % 4]
        u, v = b - a, c - b
        signs.append(u[0] * v[1] - u[1] * v[0] > 0)
    return all(signs) or not any(signs)


def line_intersection(l1: tuple[np.ndarray, np.ndarray], l2: tuple[np.ndarray, np.ndarray]) -> np.ndarray | None:
    """Where two lines (point, direction) meet, or ``None`` when they are parallel."""
    (p, d), (q, e) = l1, l2
    det = float(e[0] * d[1] - d[0] * e[1])  # of [[d0, -e0], [d1, -e1]]; Cramer's rule (np.linalg is slow for 2x2)
    if abs(det) < 1e-9:
        return None
    rx, ry = float(q[0] - p[0]), float(q[1] - p[1])
    t = (e[0] * ry - rx * e[1]) / det
    return p + t * d


def corners_from_lines(lines: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray | None:
    """The four corners where consecutive edge lines (point, direction) meet, or ``None`` if two are parallel."""
    out = []
    for i in range(4):
        p = line_intersection(lines[(i - 1) % 4], lines[i])
        if p is None:
            return None
        out.append(p)
    return np.array(out)


def refine_sides(corners: np.ndarray, grad: np.ndarray, search: float) -> np.ndarray | None:
    """Move each side to the strongest gradient along its normals and intersect the fitted lines."""
    h, w = grad.shape
    lines = []
    centre = corners.mean(axis=0)
    offsets = np.arange(-search, search + 1e-6, 1.0)
    for i in range(4):
        a, b = corners[i], corners[(i + 1) % 4]
        d = b - a
        length = float(np.hypot(*d))
        if length < 8:
            return None
        d = d / length
        n = np.array([-d[1], d[0]])
        if np.dot(centre - a, n) > 0:  # normal points outwards
            n = -n
        ts = np.linspace(0.12, 0.88, max(8, min(60, int(length / 4))))
        pts = a[None, :] + ts[:, None] * (b - a)[None, :]
        samples = pts[:, None, :] + offsets[None, :, None] * n[None, None, :]
        xs = np.clip(samples[..., 0], 0, w - 1)
        ys = np.clip(samples[..., 1], 0, h - 1)
        vals = cv2.remap(grad, xs.astype(np.float32), ys.astype(np.float32), cv2.INTER_LINEAR)
        inside = ((samples[..., 0] >= 0) & (samples[..., 0] <= w - 1)
                  & (samples[..., 1] >= 0) & (samples[..., 1] <= h - 1))
        vals = np.where(inside, vals, 0)
        # the card's edge is its outer boundary: the outermost strong local maximum, not the strongest
        rowmax = vals.max(axis=1, keepdims=True)
        peak = np.zeros_like(vals, dtype=bool)
        peak[:, 1:-1] = (vals[:, 1:-1] >= vals[:, :-2]) & (vals[:, 1:-1] >= vals[:, 2:])
        peak &= vals >= 0.5 * rowmax
        last = vals.shape[1] - 1 - np.argmax(peak[:, ::-1], axis=1)
        best = np.where(peak.any(axis=1), last, vals.argmax(axis=1))
        strength = vals[np.arange(len(best)), best]
        keep = strength > 0.25 * max(float(np.median(strength)), 1e-6)
        # sub-pixel peak by a parabola through the neighbours
        sub = best.astype(np.float64)
        inner = (best > 0) & (best < len(offsets) - 1)
        idx = np.arange(len(best))[inner]
        y0, y1, y2 = vals[idx, best[inner] - 1], vals[idx, best[inner]], vals[idx, best[inner] + 1]
        den = y0 - 2 * y1 + y2
        sub[inner] += np.where(np.abs(den) > 1e-9, 0.5 * (y0 - y2) / np.where(np.abs(den) > 1e-9, den, 1), 0)
        edge_pts = pts + (offsets[0] + sub)[:, None] * n[None, :]
        edge_pts = edge_pts[keep]
        if len(edge_pts) < 5:
            return None
        vx, vy, x0, y0_ = cv2.fitLine(edge_pts.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append((np.array([x0, y0_], np.float64), np.array([vx, vy], np.float64)))
    refined = corners_from_lines(lines)
    if refined is None:
        return None
    if np.max(np.abs(refined - corners)) > 3 * search + 10:
        return None
    return refined


def polish_sides(corners: np.ndarray, gx: np.ndarray, gy: np.ndarray, window: float,
                  max_tilt_deg: float = 8.0) -> np.ndarray | None:
    """Each side moved to the straight edge best covering it, then the lines intersected.

    Along the side's normals (``window`` px either way) every local maximum
    of the gradient across the side is a candidate; a line is fitted through
    them by an exhaustive consensus (pairs of candidates), scored by the
    share of normals it passes within 1.5 px of a candidate. A card edge is
    straight over its whole length even where one stretch of it lies on a
    white sheet (faint there) and the sheet's own edge is stronger: the line
    that follows the card's edge at both ends wins over the pieces of the
    sheet. Lines parallel to the side given (within ``PARALLEL_SLOPE``) are
    preferred when one covers ``PARALLEL_SHARE`` as much as the best: the
    side given is the card's edge or a printed line along it, while a
    sheet's edge beside the card runs at an angle of its own. Among lines
    covering nearly as much (≥ 85 % of the best), the outermost step (not a
    ridge, see :func:`_ridge_flanks`: a printed border inside the card, a
    ruled line beside it) is the card's outline.
    """
    centre = corners.mean(axis=0)
    offsets = np.arange(-window, window + 1e-6, 1.0)
    rng = np.random.default_rng(0)
    lines = []
    for i in range(4):
        a, b = corners[i], corners[(i + 1) % 4]
        length = float(np.hypot(*(b - a)))
        if length < 16:
            return None
        d = (b - a) / length
        n = np.array([-d[1], d[0]])
        if np.dot(centre - a, n) > 0:
            n = -n  # outwards
        m = int(max(12, min(120, length / 4)))
        ts = np.linspace(0.08, 0.92, m) * length
        pts = a[None, :] + ts[:, None] * d[None, :]
        samples = pts[:, None, :] + offsets[None, :, None] * n[None, None, :]
        xs = samples[..., 0].astype(np.float32)
        ys = samples[..., 1].astype(np.float32)
        vx = cv2.remap(gx, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        vy = cv2.remap(gy, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        signed = vx * n[0] + vy * n[1]
        vals = np.abs(signed)
        rowmax = vals.max(axis=1, keepdims=True)
        peak = np.zeros_like(vals, dtype=bool)
        peak[:, 1:-1] = (vals[:, 1:-1] > vals[:, :-2]) & (vals[:, 1:-1] >= vals[:, 2:])
        peak &= (vals >= 0.15 * rowmax) & (vals >= 10.0)
        ridge = _ridge_flanks(signed, peak)
        ri, ci = np.nonzero(peak)
        if len(ri) < 4:
            return None
        # sub-pixel offsets
        y0, y1, y2 = vals[ri, ci - 1], vals[ri, ci], vals[ri, ci + 1]
        den = y0 - 2 * y1 + y2
        sub = ci + np.where(np.abs(den) > 1e-9, 0.5 * (y0 - y2) / np.where(np.abs(den) > 1e-9, den, 1), 0)
        off = offsets[0] + sub
        tt = ts[ri]
        # candidate lines through pairs of peaks on normals far apart
        k = len(ri)
        pi = rng.integers(0, k, 600)
        pj = rng.integers(0, k, 600)
        far = np.abs(tt[pi] - tt[pj]) > 0.3 * length
        pi, pj = pi[far], pj[far]
        slope = (off[pj] - off[pi]) / (tt[pj] - tt[pi])
        ok = np.abs(slope) <= math.tan(math.radians(max_tilt_deg))
        pi, pj, slope = pi[ok], pj[ok], slope[ok]
        if len(pi) == 0:
            return None
        icpt = off[pi] - slope * tt[pi]
        pred = icpt[:, None] + slope[:, None] * tt[None, :]  # (L, k)
        near = np.abs(pred - off[None, :]) <= 1.5
        cover = np.zeros((len(pi), m), bool)
        line_idx, peak_idx = np.nonzero(near)
        cover[line_idx, ri[peak_idx]] = True
        score = cover.mean(axis=1)
        if float(score.max()) < 0.5:
            return None
        mid = icpt + slope * (length / 2)
        # a side found on a straight edge (the card's, or a printed line along it) gives the card edge's direction;
        # a sheet's edge beside the card runs at an angle of its own
        parallel = np.abs(slope - mid * _convergence(corners, i, length)) <= PARALLEL_SLOPE
        on_side = parallel & (np.abs(mid) <= 2.0)
        if (on_side.any() and float(score[on_side].max()) >= 0.5
                and float(score[parallel].max()) >= PARALLEL_SHARE * float(score.max())):
            score = np.where(parallel, score, 0.0)
        best = float(score.max())
        cand = np.nonzero(score >= 0.85 * best)[0]
        # a thin printed line (a ruled line of the sheet beside the card, a line printed inside it) is a ridge:
        # two opposite gradients a few pixels apart; the card's edge is a step. The outermost step wins.
        flank = ridge[ri, ci]
        ridged = np.array([bool(near[j].any()) and float(flank[near[j]].mean()) >= RIDGE_SHARE for j in cand])
        if not ridged.all():
            cand = cand[~ridged]
        li = int(cand[np.argmax(mid[cand])])
        # least squares on the inliers (the nearest peak per normal)
        inl = near[li]
        t_in, o_in = tt[inl], off[inl]
        if len(t_in) >= 4:
            slope_f, icpt_f = np.polyfit(t_in, o_in, 1)
        else:
            slope_f, icpt_f = slope[li], icpt[li]
        p0 = a + icpt_f * n
        dir_ = d + slope_f * n
        lines.append((p0, dir_ / float(np.hypot(*dir_))))
    return corners_from_lines(lines)


def _convergence(corners: np.ndarray, i: int, length: float) -> float:
    """Slope per px of outward offset of lines parallel, on the card, to side ``i`` (of ``length`` px).

    They meet the side's line where the opposite side does (the vanishing point): a line ``m`` px outside the
    side at its middle has slope ``m / (length / 2 - t_v)`` across it, ``t_v`` the vanishing point along the side.
    """
    a, b = corners[i], corners[(i + 1) % 4]
    v = line_intersection((a, b - a), (corners[(i + 2) % 4], corners[(i + 3) % 4] - corners[(i + 2) % 4]))
    if v is None:
        return 0.0
    tv = float(np.dot(v - a, (b - a) / length))
    gap = length / 2 - tv
    return 1.0 / gap if abs(gap) > length else 0.0  # the vanishing point lies beyond the side's ends


def _ridge_flanks(signed: np.ndarray, peak: np.ndarray, reach: int = RIDGE_REACH) -> np.ndarray:
    """Which ``peak`` cells (rows: normals, columns: offsets) have a peak of the opposite sign, at least half as
    strong, within ``reach`` px on the same normal: the two sides of a thin line rather than a step."""
    mag = np.abs(signed)
    out = np.zeros_like(peak)
    for k in range(1, reach + 1):
        for a, b in ((slice(k, None), slice(None, -k)), (slice(None, -k), slice(k, None))):
            other = peak[:, b] & (signed[:, a] * signed[:, b] < 0) & (mag[:, b] >= 0.5 * mag[:, a])
            out[:, a] |= other
    return out & peak


def colour_gradients(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gx, gy) of the Lab channel with the strongest gradient per pixel (chroma weighted x2)."""
    lab = cv2.GaussianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB), (5, 5), 0)
    best = np.zeros(rgb.shape[:2], np.float32)
    gx_out = np.zeros_like(best)
    gy_out = np.zeros_like(best)
    for c, weight in ((0, 1.0), (1, 2.0), (2, 2.0)):
        gx = cv2.Sobel(lab[:, :, c], cv2.CV_32F, 1, 0, ksize=3) * weight
        gy = cv2.Sobel(lab[:, :, c], cv2.CV_32F, 0, 1, ksize=3) * weight
        mag = np.abs(gx) + np.abs(gy)
        stronger = mag > best
        best = np.where(stronger, mag, best)
        gx_out = np.where(stronger, gx, gx_out)
        gy_out = np.where(stronger, gy, gy_out)
    return gx_out, gy_out


def polish_in_crop(rgb: np.ndarray, corners: np.ndarray, window: float) -> np.ndarray | None:
    """:func:`polish_sides` on the colour gradients of the crop around ``corners`` (``rgb`` pixels)."""
    h, w = rgb.shape[:2]
    pad = window + 4
    x0 = max(0, int(corners[:, 0].min() - pad))
    y0 = max(0, int(corners[:, 1].min() - pad))
    x1 = min(w, int(corners[:, 0].max() + pad) + 1)
    y1 = min(h, int(corners[:, 1].max() + pad) + 1)
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None
    gx, gy = colour_gradients(np.ascontiguousarray(rgb[y0:y1, x0:x1]))
    origin = np.array([x0, y0], np.float64)
    out = polish_sides(corners - origin, gx, gy, window)
    return None if out is None else out + origin


def refine_outline(pix: np.ndarray, corners_dec: np.ndarray, gmag: np.ndarray, s: float) -> np.ndarray:
    """Corners found at search scale ``s`` refined on the decode: strongest gradient per side, then edge polish."""
    refined = refine_sides(corners_dec, gmag, search=max(3.0, 1.5 / s))
    if refined is not None and is_convex(refined) and np.max(np.abs(refined - corners_dec)) < 4 / s:
        corners_dec = refined
    span = max(float(np.hypot(*(corners_dec[1] - corners_dec[0]))), float(np.hypot(*(corners_dec[3] - corners_dec[0]))))
    window = max(4.0, 0.04 * span)
    polished = polish_in_crop(pix, corners_dec, window)
    if polished is not None and is_convex(polished) and np.max(np.abs(polished - corners_dec)) < 2.5 * window:
        corners_dec = polished
    return corners_dec
