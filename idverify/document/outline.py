"""Refine a card outline's sides on the image's edges.

The search finds a card's outline at a reduced size; these steps move each
side onto the card's edge at the decode's resolution: the strongest
gradient along the side's normals (:func:`refine_sides`), then the straight
edge that best covers the side (:func:`polish_sides`: a card's edge stays
straight where it lies on a white sheet, a sheet's edge beside it runs at an
angle, a printed line inside it is a ridge), then past a printed band along
the side, or to where the adjacent sides' edges stop or begin, to the
card's edge (:func:`extend_to_card_edge`).

>>> import numpy as np
>>> is_convex(np.array([[0, 0], [10, 0], [10, 6], [0, 6]], float))
True
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import cv2
import numpy as np

PARALLEL_SLOPE = math.tan(math.radians(0.7))  # a line this near a side's direction runs along the card ...
PARALLEL_SHARE = 0.7  # ... and is preferred when it covers the side at least this share as well as the best line
RIDGE_REACH = 4  # px: opposite gradients this close across a line are a thin printed line, not the card's edge
RIDGE_SHARE = 0.8  # ... on this share of the normals the line covers
# a side on the inner edge of a band printed along it, moved out to the card's edge (extend_to_card_edge)
BAND_REACH = 0.10  # the card's edge looked for this far beyond the side (share of the card's longer side) ...
BAND_MIN_GAP = 0.008  # ... and at least this far (nearer is the polish's business)
BAND_COVER = 0.6  # share of the side's normals the card's edge covers
BAND_STRENGTH = 0.4  # the card's edge at least this strong, relative to the step the side lies on
BAND_CONTRAST = 0.5  # the strip between, against what lies beyond the adjacent side: this share of the card's contrast
BAND_MIN_CONTRAST = 30.0  # Lab units: an end of the side where the card hardly stands out tells nothing
# ... or a fainter step, where an adjacent side's edge runs on past the corner up to it and stops there
REACH_HOLD = 0.5  # the adjacent side's step, past the corner, at least this share of its step along the card ...
REACH_STOP = 0.3  # ... and beyond the place it stops, at most this share
REACH_MIN_STEP = 30.0  # the adjacent side's step along the card at least this strong (colour gradient)
REACH_COVER = 0.9  # the faint step then covers nearly the whole side ...
REACH_STRENGTH = 0.15  # ... at least this strong relative to the side's step ...
REACH_AGREE = 3  # canvas px: ... and meets the adjacent side where its edge stops, within this ...
REACH_ROUND = 0.035  # ... or up to this much further out (share of the longer side): a card's corners are rounded
# where an adjacent side's edge stops at a line, the line may cover less of the side (its stretch over a white sheet
# is faint) and the card stand out less at that end (a pale card on a pale table)
REACHED_COVER = 0.45
REACHED_MIN_CONTRAST = 15.0
CUT_MIN = 0.045  # both adjacent sides beginning this far inside a side (share of the longer side) move it in ...
CUT_REACH = 0.15  # ... from up to this far (a sheet's edge beside the card, further out than a band's reach)
SOFT_REACH = 16  # px: a gradient peak's width is measured this far either way ...
SOFT_RATIO = 2.5  # ... and a peak this many times wider than the normal's strongest (a ramp) is no edge ...
SOFT_MIN_WIDTH = 6  # ... when wider than this (px)
SHADOW_CONTRAST = 2.5  # ... nor a peak that far outside a step this many times stronger ...
SHADOW_WIDTH_RATIO = 1.5  # ... and this many times sharper (a shadow too narrow for a ramp beyond the card's edge)
SHADOW_LINE_CONTRAST = 2.0  # a line this many times weaker than a sharper one of opposite contrast inside it
PATTERN_FLIPS = 3  # a line whose contrast changes sign this many times along it is a pattern's edge (a checkerboard)
# a side whose best lines are all ridges, ramps or patterns' edges (a ruled line of a sheet under a card's faint side)
WIDE_WINDOWS = 3.0  # ... looks for a step this many polish windows either way ...
WIDE_STEP_SHARE = 0.85  # ... covering at least this share of what the best line covers ...
WIDE_RIDGE_SHARE = 0.5  # ... and a ridge's flank on under this share of the normals it passes (a ruled line running
# into the card's edge is a ridge there only where the two part)
EXTEND_PASSES = 2  # the move out to the card's edge is tried again from where it lands, up to this many times in all
_CANVAS = 400  # px: the card's longer side in the rectified canvas of that search
_DRIFTS = np.arange(-0.02, 0.0201, 0.005)  # a candidate line's drift across the side, share of the longer side


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
    centre = corners.mean(axis=0)
    offsets = np.arange(-search, search + 1e-6, 1.0)
    # the four sides' sample rows, stacked: one remap and one pass of the per-row work for all of them
    starts, normals, points = [], [], []
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
        points.append(a[None, :] + ts[:, None] * (b - a)[None, :])
        normals.append(np.repeat(n[None, :], len(ts), axis=0))
        starts.append(len(ts))
    pts, nrm = np.concatenate(points), np.concatenate(normals)
    samples = pts[:, None, :] + offsets[None, :, None] * nrm[:, None, :]
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
    # sub-pixel peak by a parabola through the neighbours
    sub = best.astype(np.float64)
    inner = (best > 0) & (best < len(offsets) - 1)
    idx = np.arange(len(best))[inner]
    y0, y1, y2 = vals[idx, best[inner] - 1], vals[idx, best[inner]], vals[idx, best[inner] + 1]
    den = y0 - 2 * y1 + y2
    sub[inner] += np.where(np.abs(den) > 1e-9, 0.5 * (y0 - y2) / np.where(np.abs(den) > 1e-9, den, 1), 0)
    edge_all = pts + (offsets[0] + sub)[:, None] * nrm
    lines = []
    for lo, hi in itertools.pairwise(np.cumsum([0, *starts])):
        side_strength = strength[lo:hi]
        keep = side_strength > 0.25 * max(float(np.median(side_strength)), 1e-6)
        edge_pts = edge_all[lo:hi][keep]
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


class _SideLine(NamedTuple):
    """A side's polished line: a point and a unit direction; its offset out from the side at the side's middle
    and its slope across it; the share of the side's normals the best line covered; and whether every line
    covering nearly as much was a ridge, a ramp or a pattern's edge (the outermost of them was taken)."""

    point: np.ndarray
    direction: np.ndarray
    mid: float
    slope: float
    best_cover: float
    stepless: bool


def polish_sides(corners: np.ndarray, gx: np.ndarray, gy: np.ndarray, window: float,
                  max_tilt_deg: float = 12.0, wide: float | None = None,
                  wide_gradients: Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
                  ) -> np.ndarray | None:
    """Each side moved to the straight edge best covering it, then the lines intersected.

    Along the side's normals (``window`` px either way) every local maximum
    of the gradient across the side is a candidate; a line is fitted through
    them by an exhaustive consensus (pairs of candidates), scored by the
    share of normals it passes within 1.5 px of a candidate. A card edge is
    straight over its whole length even where one stretch of it lies on a
    white sheet (faint there) and the sheet's own edge is stronger: the line
    that follows the card's edge at both ends wins over the pieces of the
    sheet. Lines up to ``max_tilt_deg`` off the side are candidates: a
    search outline's corner can lie two windows off, on a foreshortened
    side. Lines parallel to the side given (within ``PARALLEL_SLOPE``) are
    preferred when one covers ``PARALLEL_SHARE`` as much as the best: the
    side given is the card's edge or a printed line along it, while a
    sheet's edge beside the card runs at an angle of its own. Among lines
    covering nearly as much (≥ 85 % of the best), the outermost step (not a
    ridge, see :func:`_ridge_flanks`: a printed border inside the card, a
    ruled line beside it) is the card's outline. A peak topping a ramp (see
    :func:`_soft_peaks`: the blurred outer edge of the card's shadow on a
    sheet) is no candidate, nor a line that is as a whole a shadow's outer
    edge beyond the card's (:func:`_shadow_beyond`), nor a line whose
    contrast changes sign at every square (:func:`_sign_flips`: the edge
    between two columns of a checkerboard beside the card). A side with no
    straight edge in reach (a white card's side over a white sheet) stays
    as given; ``None`` when no side has one.

    When every line covering nearly as much is a ridge, a ramp or a
    pattern's edge, the outermost is taken (a card's own edge can look so:
    a thin shadow along it) unless, with ``wide``, a step within ``wide`` px
    either way (a ridge's flank on under ``WIDE_RIDGE_SHARE`` of the normals
    it passes) covers ``WIDE_STEP_SHARE`` as much and runs at an angle to
    the ridge: a card's faint side over a ruled sheet lies beside a ruled
    line, or crosses it, further out than the window at one end. A step
    parallel to the ridge (on the card) is a line printed along the card's
    edge, and the ridge the card's edge. ``wide_gradients`` gives the
    gradients reaching that far and where the origin of ``corners`` lies in
    them (by default ``gx`` and ``gy``).
    """
    offsets = np.arange(-window, window + 1e-6, 1.0)
    rng = np.random.default_rng(0)
    lines = []
    polished = 0
    for i in range(4):
        a, b = corners[i], corners[(i + 1) % 4]
        length = float(np.hypot(*(b - a)))
        if length < 16:
            return None
        line = _polish_side(corners, i, gx, gy, offsets, rng, max_tilt_deg)
        if line is not None and line.stepless and wide is not None and wide > window:
            wgx, wgy, shift = wide_gradients() if wide_gradients is not None else (gx, gy, np.zeros(2))
            step = _polish_side(corners + shift, i, wgx, wgy, np.arange(-wide, wide + 1e-6, 1.0), rng,
                                max_tilt_deg, steps_only=True)
            if (step is not None and not step.stepless and step.best_cover >= WIDE_STEP_SHARE * line.best_cover
                    and abs(step.slope - line.slope - (step.mid - line.mid) * _convergence(corners, i, length))
                    > PARALLEL_SLOPE):
                line = step._replace(point=step.point - shift)
        polished += line is not None
        # no edge to follow: the side stays
        lines.append((line.point, line.direction) if line is not None else (a, (b - a) / length))
    return corners_from_lines(lines) if polished else None


def _polish_side(corners: np.ndarray, i: int, gx: np.ndarray, gy: np.ndarray, offsets: np.ndarray,
                 rng: np.random.Generator, max_tilt_deg: float, steps_only: bool = False) -> _SideLine | None:
    """Side ``i`` of ``corners`` moved to the straight edge best covering it (see :func:`polish_sides`), or
    ``None`` when no line covers half the side. ``steps_only``: ridges, ramps and patterns' edges are no lines."""
    centre = corners.mean(axis=0)
    a, b = corners[i], corners[(i + 1) % 4]
    length = float(np.hypot(*(b - a)))
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
    width = _peak_widths(vals)
    soft = _soft_peaks(vals, peak, ridge, width)
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
    # a thin printed line (a ruled line of the sheet beside the card, a line printed inside it) is a ridge:
    # two opposite gradients a few pixels apart; the card's edge is a step. Nor is a ramp (the blurred outer edge
    # of the card's shadow on a sheet, see _soft_peaks).
    flank = ridge[ri, ci] | soft[ri, ci]
    if steps_only:
        ridged_share = (near & flank[None, :]).sum(axis=1) / np.maximum(near.sum(axis=1), 1)
        score = np.where(ridged_share >= WIDE_RIDGE_SHARE, 0.0, score)
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
    # The outermost step wins: not a ridge or a ramp, nor a pattern's edge (see _sign_flips), checked from the
    # outermost line in only as far as needed.
    counts = near[cand].sum(axis=1)
    ridged = (counts > 0) & ((near[cand] & flank[None, :]).sum(axis=1) / np.maximum(counts, 1) >= RIDGE_SHARE)
    sign = np.sign(signed[ri, ci])
    order = np.argsort(-mid[cand], kind="stable")  # outermost first
    li = int(cand[order[0]])  # when every line is a ridge, a ramp or a pattern's edge
    stepless = True
    for o in order:
        if (not ridged[o] and (counts[o] == 0 or _sign_flips(sign[near[cand[o]]]) < PATTERN_FLIPS)
                and not _shadow_beyond(cand[o], cand, mid, near, vals[ri, ci], width[ri, ci], sign)):
            li = int(cand[o])
            stepless = False
            break
    # least squares on the inliers (the nearest peak per normal)
    inl = near[li]
    t_in, o_in = tt[inl], off[inl]
    if len(t_in) >= 4:
        slope_f, icpt_f = np.polyfit(t_in, o_in, 1)
    else:
        slope_f, icpt_f = slope[li], icpt[li]
    p0 = a + icpt_f * n
    dir_ = d + slope_f * n
    return _SideLine(p0, dir_ / float(np.hypot(*dir_)), float(icpt_f + slope_f * length / 2), float(slope_f), best,
                     stepless)


def _shadow_beyond(line: int, cand: np.ndarray, mid: np.ndarray, near: np.ndarray, strength: np.ndarray,
                   width: np.ndarray, sign: np.ndarray) -> bool:
    """Whether candidate ``line`` is the outer edge of a shadow: within ``SOFT_REACH`` px inside it lies another
    candidate of the opposite contrast (the card's cut edge against the shadow), ``SHADOW_LINE_CONTRAST`` times
    stronger and ``SHADOW_WIDTH_RATIO`` times sharper, by the medians over the peaks each line passes through
    (``strength``, ``width``, ``sign`` per peak). The per-peak test (:func:`_soft_peaks`) misses a shadow whose
    peaks vary along the side; a card's faint edge beyond a printed line of its own is as sharp as the print."""
    own = near[line]
    inner = cand[(mid[cand] < mid[line]) & (mid[cand] >= mid[line] - SOFT_REACH)]
    if len(inner) == 0 or not own.any():
        return False
    own_sign = float(np.mean(sign[own]))
    own_strength = float(np.median(strength[own]))
    own_width = float(np.median(width[own]))
    # many candidates are the same line (drawn from different pairs of peaks): each set of peaks is weighed once
    for theirs in {near[j].tobytes(): near[j] for j in inner}.values():
        if not theirs.any() or own_sign * float(np.mean(sign[theirs])) >= 0:
            continue
        if (float(np.median(strength[theirs])) >= SHADOW_LINE_CONTRAST * own_strength
                and own_width >= SHADOW_WIDTH_RATIO * float(np.median(width[theirs]))):
            return True
    return False


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


def _sign_flips(signs: np.ndarray) -> int:
    """How often the contrast's sign changes along a line (``signs`` in order along it; runs of one are noise).

    A card's edge keeps its sign, or changes it once or twice where the card crosses from a table onto a sheet;
    the edge between two columns of a checkerboard changes it at every square.

    >>> _sign_flips(np.array([1, 1, -1, -1, 1, 1, -1, -1, 1, 1]))
    4
    >>> _sign_flips(np.array([1, 1, 1, -1, 1, 1, -1, -1, -1]))
    1
    """
    if len(signs) == 0:
        return 0
    edges = np.flatnonzero(np.diff(signs)) + 1
    starts = np.concatenate(([0], edges))
    lengths = np.diff(np.concatenate((starts, [len(signs)])))
    kept = signs[starts[lengths >= 2]]
    return int(np.count_nonzero(np.diff(kept)))


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


def _peak_widths(vals: np.ndarray, reach: int = SOFT_REACH) -> np.ndarray:
    """Per cell (rows: normals, columns: offsets), over how many px the gradient stays above half its value,
    looked for ``reach`` px either way along the normal: a step's peak is narrow, a ramp's wide."""
    half = 0.5 * vals
    width = np.ones(vals.shape, np.int32)
    for direction in (1, -1):
        going = np.ones(vals.shape, bool)
        for k in range(1, reach + 1):
            shifted = np.full(vals.shape, -1.0, vals.dtype)
            if direction > 0:
                shifted[:, :-k] = vals[:, k:]
            else:
                shifted[:, k:] = vals[:, :-k]
            going &= shifted >= half
            width += going
    return width


def _soft_peaks(vals: np.ndarray, peak: np.ndarray, ridge: np.ndarray, width: np.ndarray,
                reach: int = SOFT_REACH) -> np.ndarray:
    """Which ``peak`` cells (rows: normals, columns: offsets, outwards) top a ramp, not a step: the gradient stays
    above half the peak over more than ``SOFT_RATIO`` times the width it does at the normal's strongest step (not a
    ``ridge``: a thin printed line is sharper than any edge), and over more than ``SOFT_MIN_WIDTH`` px. A shadow's
    blurred outer edge beside the card's cut edge is such a ramp; a blurred photo blurs both alike. A narrower
    shadow's outer edge is no ramp by that measure, but it lies within ``reach`` px outside a step at least
    ``SHADOW_CONTRAST`` times stronger and ``SHADOW_WIDTH_RATIO`` times sharper (the card's cut edge): it is
    soft too. A card's own edge outside a printed step is as sharp as the print."""
    steps = peak & ~ridge
    strongest = np.argmax(np.where(np.where(steps.any(axis=1, keepdims=True), steps, peak), vals, -1.0), axis=1)
    sharp = width[np.arange(len(vals)), strongest][:, None]
    soft = peak & (width > np.maximum(SOFT_MIN_WIDTH, SOFT_RATIO * sharp))
    for k in range(1, reach + 1):  # a shadow's outer edge a few px outside the card's (columns run outwards)
        beside = np.zeros(vals.shape, bool)
        beside[:, k:] = (peak[:, :-k] & (vals[:, :-k] >= SHADOW_CONTRAST * vals[:, k:])
                         & (width[:, k:] >= SHADOW_WIDTH_RATIO * width[:, :-k]))
        soft |= peak & beside
    return soft


def colour_gradients(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gx, gy) of the Lab channel with the strongest gradient per pixel (chroma weighted x2)."""
    lab = cv2.GaussianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB), (5, 5), 0)
    best: np.ndarray = np.empty(0, np.int16)
    gx_out: np.ndarray = best
    gy_out: np.ndarray = best
    for c, weight in ((0, 1), (1, 2), (2, 2)):  # 3x3 Sobel of uint8, x2: within int16, and exact
        gx = cv2.Sobel(lab[:, :, c], cv2.CV_16S, 1, 0, ksize=3, scale=weight)
        gy = cv2.Sobel(lab[:, :, c], cv2.CV_16S, 0, 1, ksize=3, scale=weight)
        mag = np.abs(gx) + np.abs(gy)
        if c == 0:
            best, gx_out, gy_out = mag, gx, gy
        else:  # the strongest channel per pixel, selected in place
            stronger = cv2.compare(mag, best, cv2.CMP_GT)
            for src, dst in ((mag, best), (gx, gx_out), (gy, gy_out)):
                cv2.copyTo(src, stronger, dst)
    return gx_out.astype(np.float32), gy_out.astype(np.float32)


def polish_in_crop(rgb: np.ndarray, corners: np.ndarray, window: float,
                   wide: float | None = None) -> np.ndarray | None:
    """:func:`polish_sides` on the colour gradients of the crop around ``corners`` (``rgb`` pixels); those of a
    crop reaching ``wide`` px beyond them only for a side that looks that far."""
    crop = _crop_gradients(rgb, corners, window + 4)
    if crop is None:
        return None
    gx, gy, origin = crop

    @functools.cache
    def wide_gradients() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        far = _crop_gradients(rgb, corners, wide + 4) if wide is not None else None
        return (gx, gy, np.zeros(2)) if far is None else (far[0], far[1], origin - far[2])

    out = polish_sides(corners - origin, gx, gy, window, wide=wide, wide_gradients=wide_gradients)
    return None if out is None else out + origin


def _crop_gradients(rgb: np.ndarray, corners: np.ndarray,
                    pad: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The colour gradients of the crop of ``rgb`` reaching ``pad`` px beyond ``corners``, and its origin; None
    when it is under 16 px either way."""
    h, w = rgb.shape[:2]
    x0 = max(0, int(corners[:, 0].min() - pad))
    y0 = max(0, int(corners[:, 1].min() - pad))
    x1 = min(w, int(corners[:, 0].max() + pad) + 1)
    y1 = min(h, int(corners[:, 1].max() + pad) + 1)
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None
    gx, gy = colour_gradients(np.ascontiguousarray(rgb[y0:y1, x0:x1]))
    return gx, gy, np.array([x0, y0], np.float64)


def polish_outline(pix: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """``corners`` (``pix`` pixels) with their sides polished (:func:`polish_in_crop`) in a window of 4 % of the
    card's longer side (a side on a ridge looks for a step ``WIDE_WINDOWS`` as far); as given when the polish
    finds no side or would move a corner over 2.5 windows."""
    span = max(float(np.hypot(*(corners[1] - corners[0]))), float(np.hypot(*(corners[3] - corners[0]))))
    window = max(4.0, 0.04 * span)
    polished = polish_in_crop(pix, corners, window, wide=WIDE_WINDOWS * window)
    if polished is not None and is_convex(polished) and np.max(np.abs(polished - corners)) < 2.5 * window:
        return polished
    return corners


def refine_outline(pix: np.ndarray, corners_dec: np.ndarray, gmag: np.ndarray, s: float) -> np.ndarray:
    """Corners found at search scale ``s`` refined on the decode: strongest gradient per side, straight-edge
    polish, then past a printed band to the card's edge (again from there: a side found on a line printed further in
    than the band search reaches, such as a carte Vitale's portrait edge, moves out one step at a time)."""
    refined = refine_sides(corners_dec, gmag, search=max(3.0, 1.5 / s))
    if refined is not None and is_convex(refined) and np.max(np.abs(refined - corners_dec)) < 4 / s:
        corners_dec = refined
    corners_dec = polish_outline(pix, corners_dec)
    for _ in range(EXTEND_PASSES):
        extended = extend_to_card_edge(pix, corners_dec)
        if extended is corners_dec or not is_convex(extended):
            break
        settled = refine_sides(extended, gmag, search=max(3.0, 1.5 / s))
        if settled is not None and is_convex(settled) and np.max(np.abs(settled - extended)) < 4 / s:
            extended = settled
        corners_dec = extended
    return corners_dec


def extend_to_card_edge(rgb: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """``corners`` with each side that lies on a printed band's inner edge moved out to the card's edge.

    Cards print bands along a side (the tinted band 3.5-4.5 % inside the
    old card's and the CNIe's edge, a portrait near the carte Vitale's edge)
    whose inner edge is a straight step over the side's whole length: when
    the card's own edge lies beyond the polish window, the outline takes it.
    In a canvas rectified on the outline, a candidate is a straight step
    beyond the side (up to ``BAND_REACH``), covering ``BAND_COVER`` of it, at
    least ``BAND_STRENGTH`` as strong as the side's step. It is the card's
    edge when the strip between is card: at each end of the side where the
    adjacent side parts card from background, the strip differs from what
    lies beyond the adjacent side near the corner (by ``BAND_CONTRAST`` of
    the card's own contrast there) and looks like the strip at the other end.
    The outermost candidate that passes is taken.

    A side found on a line printed inside the card (a portrait's edge) may
    have no band beyond it, and the card's edge may be faint where it lies on
    a white sheet. There an adjacent side's edge runs on past the corner,
    straight and as strong, and stops at the card's edge (see
    :func:`_adjacent_reach`): a line where it stops covering ``REACH_COVER``
    of the side is taken at ``REACH_STRENGTH``, when the strip stands out
    at such an end. Such a line is a candidate from ``REACHED_COVER`` of the
    side (its stretch over a white sheet is faint), its strength is read
    where it shows, and at such an end the card need stand out by
    ``REACHED_MIN_CONTRAST`` only (a pale card on a pale table). Where it
    stands out by less at both ends (a white card on a white sheet), a
    line both adjacent sides' edges run on to covering ``REACH_COVER`` of
    the side is taken on their word alone.

    When no side moves out, a side found on a straight line of the
    background beyond the card (a table's grain) is moved in: both adjacent
    sides' edges begin well inside it (see :func:`_adjacent_start`), up to
    ``CUT_REACH``, where a straight step covers ``BAND_COVER`` of the side.
    A side on a line crossing the card's edge at an angle (a sheet's edge
    under the card) is turned onto it: one adjacent side's edge begins
    inside, the other runs on past the corner (see :func:`_crossing_edge`).
    Returns ``corners`` itself when no side moves.
    """
    lengths = [float(np.hypot(*(corners[(i + 1) % 4] - corners[i]))) for i in range(4)]
    longer = max(lengths[0] + lengths[2], lengths[1] + lengths[3]) / 2
    if longer < 60 or not is_convex(corners):
        return corners
    k = _CANVAS / longer
    w, h = round((lengths[0] + lengths[2]) / 2 * k), round((lengths[1] + lengths[3]) / 2 * k)
    if min(w, h) < 0.25 * _CANVAS:  # no card's outline
        return corners
    m = round((BAND_REACH + 0.02) * _CANVAS)
    target = np.array([[m, m], [m + w, m], [m + w, m + h], [m, m + h]], np.float32)
    to_canvas = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    canvas = cv2.warpPerspective(rgb, to_canvas, (w + 2 * m, h + 2 * m), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
    gx, gy = colour_gradients(canvas)
    lab = cv2.cvtColor(canvas, cv2.COLOR_RGB2LAB).astype(np.float32)
    # each side seen from the left of a view of the canvas: (view of |gradient across|, view of Lab, its two ends)
    ax, ay, lab_t = np.abs(gx), np.abs(gy).T, lab.transpose(1, 0, 2)
    ay_rows, ax_rows = np.abs(gy), np.abs(gx).T  # |gradient across the adjacent sides|, in the same views
    views = {3: (ax, ay_rows, lab, 0, 3), 1: (ax[:, ::-1], ay_rows[:, ::-1], lab[:, ::-1], 1, 2),
             0: (ay, ax_rows, lab_t, 0, 1), 2: (ay[:, ::-1], ax_rows[:, ::-1], lab_t[:, ::-1], 3, 2)}
    outward = {3: (-1.0, 0.0), 1: (1.0, 0.0), 0: (0.0, -1.0), 2: (0.0, 1.0)}
    moved = target.astype(np.float64)
    gaps = {i: _band_outer_edge(grad, adjacent, vlab, m) for i, (grad, adjacent, vlab, _, _) in views.items()}
    if all(g is None for g in gaps.values()):  # a side moved out leaves the adjacent sides' rows off the card's edge
        gaps = {i: _card_edge_inside(grad, adjacent, m) for i, (grad, adjacent, _, _, _) in views.items()}
    for i, (_, _, _, top_corner, bottom_corner) in views.items():
        found = gaps[i]
        if found is not None:
            gap_top, gap_bottom = found
            moved[top_corner] += np.array(outward[i]) * gap_top
            moved[bottom_corner] += np.array(outward[i]) * gap_bottom
    if np.array_equal(moved, target):
        return corners
    back = cv2.perspectiveTransform(moved.reshape(-1, 1, 2), np.linalg.inv(to_canvas))
    return np.asarray(back, np.float64).reshape(4, 2)


def _strip_differs(lab: np.ndarray, strip: np.ndarray, beyond_rows: tuple[float, float],
                   strip_cols: tuple[float, float], col: int, m: int) -> float:
    """How far (Lab) the ``strip`` between a side at column ``m`` and a candidate at ``col`` differs from what lies
    beyond the adjacent side (rows ``beyond_rows``): there, past the candidate, and off the card's corner."""
    yo0, yo1 = beyond_rows
    beyond = [_mean_colour(lab, xa, xb, yo0, yo1)
              for xa, xb in (strip_cols, (col - 0.05 * _CANVAS, col - 0.01 * _CANVAS), (m, m + 0.05 * _CANVAS))]
    return min(float(np.linalg.norm(strip - b)) for b in beyond)


def _mean_colour(lab: np.ndarray, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    """Mean Lab colour of the box [x0, x1) x [y0, y1) (at least one pixel, clipped to the image)."""
    h, w = lab.shape[:2]
    xa, ya = min(max(0, round(x0)), w - 1), min(max(0, round(y0)), h - 1)
    xb, yb = min(w, max(xa + 1, round(x1))), min(h, max(ya + 1, round(y1)))
    return np.asarray(lab[ya:yb, xa:xb].reshape(-1, 3).mean(axis=0))


def _adjacent_profile(adjacent: np.ndarray, row: int) -> np.ndarray:
    """The adjacent side's step along a view's columns: the strongest |gradient across it| within 2 px of ``row``."""
    return np.asarray(adjacent[max(0, row - 2):min(adjacent.shape[0], row + 3)].max(axis=0))


def _adjacent_reach(adjacent: np.ndarray, row: int, m: int) -> float | None:
    """How far past the corner (canvas px) the adjacent side at ``row`` keeps its step before it stops, in a view
    with the side at column ``m`` (``adjacent``: |gradient across the adjacent side|). None when it does not.

    A side found on a line printed inside the card cuts the adjacent sides short: their edges run on, straight
    and as strong, to the card's corner beyond.
    """
    band = _adjacent_profile(adjacent, row)
    along = float(np.median(band[m + round(0.01 * _CANVAS):m + round(0.06 * _CANVAS)]))
    if along < REACH_MIN_STEP:
        return None
    lo = max(0, m - round(BAND_REACH * _CANVAS))
    held = band[lo:m] >= REACH_HOLD * along
    if not held[-1]:
        return None
    stop = m - int(np.argmin(held[::-1])) if not held.all() else lo  # first column, going out, where it fails
    reach = m - stop
    beyond = band[max(0, stop - round(0.03 * _CANVAS)):max(0, stop - 2)]
    if reach < BAND_MIN_GAP * _CANVAS or len(beyond) == 0 or float(np.median(beyond)) > REACH_STOP * along:
        return None
    return float(reach)


def _side_rows(top: int, bottom: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows sampled along a side from ``top`` to ``bottom`` (its middle 80 %), and where they lie on it (-0.5..0.5)."""
    length = bottom - top
    rows = np.arange(top + int(0.1 * length), top + int(0.9 * length), 2)
    return rows, (rows - (top + bottom) / 2) / length


def _peaks_near(grad: np.ndarray, rows: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Where, on ``rows`` of a view and within a pixel, columns ``lo..hi-1`` meet a gradient peak (at least 10, and
    0.15 of the row's strongest)."""
    g = grad[rows, lo - 1:hi + 1]
    inner = g[:, 1:-1]
    peak = (inner > g[:, :-2]) & (inner >= g[:, 2:]) & (inner >= 10.0) & (inner >= 0.15 * g.max(axis=1, keepdims=True))
    near = peak.copy()
    near[:, 1:] |= peak[:, :-1]
    near[:, :-1] |= peak[:, 1:]
    return near


def _straight_steps(grad: np.ndarray, rows: np.ndarray, rel: np.ndarray, lo: int,
                    hi: int) -> tuple[np.ndarray, np.ndarray]:
    """For each column ``lo..hi-1`` of a view: the share of ``rows`` on which a straight line through it (drifting
    across the side by up to ``_DRIFTS``) meets a gradient peak, and the drift that does best."""
    near = _peaks_near(grad, rows, lo, hi)
    ncol = near.shape[1]
    cover, drift = np.zeros(ncol), np.zeros(ncol)
    for d in _DRIFTS * _CANVAS:  # straight lines slightly off the view's vertical
        idx = np.arange(ncol)[None, :] + np.round(d * rel).astype(np.intp)[:, None]
        inside = (idx >= 0) & (idx < ncol)
        c = (np.take_along_axis(near, np.clip(idx, 0, ncol - 1), axis=1) & inside).mean(axis=0)
        better = c > cover
        cover, drift = np.where(better, c, cover), np.where(better, d, drift)
    return cover, drift


def _adjacent_start(adjacent: np.ndarray, row: int, m: int) -> float | None:
    """How far inside the side (canvas px) the adjacent side at ``row`` begins its step, when it begins well
    inside and nothing comes before, in a view with the side at column ``m``. None otherwise.

    A side found on a straight line of the background beyond the card (a table's grain, a shadow) runs the
    adjacent sides out past the card's corner, over background where they have no edge.
    """
    band = _adjacent_profile(adjacent, row)
    along = float(np.median(band[m + round(0.12 * _CANVAS):m + round(0.25 * _CANVAS)]))
    if along < REACH_MIN_STEP:
        return None
    run = round(0.03 * _CANVAS)
    span = band[m:m + round(CUT_REACH * _CANVAS) + run]
    held = span >= REACH_HOLD * along
    starts = [s for s in range(len(held) - run + 1) if held[s:s + run].all()]
    if not starts:
        return None
    start = starts[0]
    before = span[:max(0, start - 2)]
    if start < CUT_MIN * _CANVAS or float(np.median(before)) > REACH_STOP * along:
        return None
    return float(start)


def _card_edge_inside(grad: np.ndarray, adjacent: np.ndarray, m: int) -> tuple[float, float] | None:
    """For the side at column ``m`` of a canvas view (as in :func:`_band_outer_edge`): how far inside the card's
    edge lies at the top and bottom ends, as negative outward gaps, when both adjacent sides begin there (see
    :func:`_adjacent_start`) and a straight step there covers ``BAND_COVER`` of the side; when they begin inside at
    one end only, the card's edge may cross the side (see :func:`_crossing_edge`)."""
    height = grad.shape[0]
    top, bottom = m, height - m
    starts = (_adjacent_start(adjacent, top, m), _adjacent_start(adjacent, bottom, m))
    if starts[0] is None and starts[1] is None:
        return None
    if starts[0] is None or starts[1] is None:
        return _crossing_edge(grad, adjacent, m, starts)
    rows, rel = _side_rows(top, bottom)
    lo, hi = m + 1, m + round(CUT_REACH * _CANVAS)
    cover, drift = _straight_steps(grad, rows, rel, lo, hi)
    fits = []
    for j in range(len(cover)):
        depth = j + 1
        at_ends = (depth - 0.5 * drift[j], depth + 0.5 * drift[j])
        if cover[j] >= BAND_COVER and all(-REACH_AGREE <= s - d <= REACH_AGREE + REACH_ROUND * _CANVAS
                                          for s, d in zip(starts, at_ends, strict=True)):
            fits.append((float(cover[j]), at_ends))
    if not fits:
        return None
    best = max(c for c, _ in fits)
    plateau = [ends for c, ends in fits if c == best]  # peaks are matched within a pixel: a plateau of lines
    least_drift = min(abs(t - b) for t, b in plateau)
    tops, bottoms = zip(*[(t, b) for t, b in plateau if abs(t - b) == least_drift], strict=True)
    return -float(np.mean(tops)), -float(np.mean(bottoms))


def _crossing_edge(grad: np.ndarray, adjacent: np.ndarray, m: int,
                   starts: tuple[float | None, float | None]) -> tuple[float, float] | None:
    """For the side at column ``m`` of a canvas view (as in :func:`_card_edge_inside`): the outward gaps at the top
    and bottom ends of the card's edge when the side lies on a straight line crossing it at an angle (a sheet's
    edge running under the card): one adjacent side's edge begins well inside the side (see
    :func:`_adjacent_start`), the other runs on past the corner and stops (:func:`_adjacent_reach`), or runs on
    too faint to tell, up to ``CUT_MIN`` (the side is then inside the card there). The straight step through where
    they begin and stop covering the most of the side, at least ``BAND_COVER``, is taken; None when there is
    none. ``starts``: where the adjacent sides' edges begin at the top and bottom ends (one of them None)."""
    height = grad.shape[0]
    ends = (m, height - m)
    inner = 0 if starts[0] is not None else 1
    start = next(s for s in starts if s is not None)
    reach = _adjacent_reach(adjacent, ends[1 - inner], m)
    rounding = REACH_AGREE + REACH_ROUND * _CANVAS  # an edge stops short of a rounded corner
    inner_gaps = np.arange(-(start + REACH_AGREE), -(start - rounding) + 1e-6)
    # the line crosses the card's edge: out at the other end, where the adjacent edge stops or, where it does not
    # tell (running on over a pale sheet, it is too faint to), up to a move-in's least
    outer_gaps = (np.arange(max(1.0, reach - REACH_AGREE), reach + rounding + 1e-6) if reach is not None
                  else np.arange(1.0, CUT_MIN * _CANVAS + 1e-6))
    rows, rel = _side_rows(*ends)
    lo = max(1, m - round(BAND_REACH * _CANVAS) - round(rounding))
    hi = min(grad.shape[1] - 1, m + round(CUT_REACH * _CANVAS) + round(rounding))
    near = _peaks_near(grad, rows, lo, hi)
    at = (rel + 0.5) if inner == 0 else (0.5 - rel)  # 0 at the inner end, 1 at the other
    gi, go = (a.ravel() for a in np.meshgrid(inner_gaps, outer_gaps, indexing="ij"))
    cols = np.round(m - (gi[:, None] + (go - gi)[:, None] * at[None, :])).astype(np.intp) - lo
    inside = (cols >= 0) & (cols < near.shape[1])
    cover = (near[np.arange(len(rows))[None, :], np.clip(cols, 0, near.shape[1] - 1)] & inside).mean(axis=1)
    if float(cover.max()) < BAND_COVER:
        return None
    plateau = cover == cover.max()  # peaks are matched within a pixel: a plateau of lines
    gap_in, gap_out = float(gi[plateau].mean()), float(go[plateau].mean())
    return (gap_in, gap_out) if inner == 0 else (gap_out, gap_in)


def _band_outer_edge(grad: np.ndarray, adjacent: np.ndarray, lab: np.ndarray,
                     m: int) -> tuple[float, float] | None:
    """For the side at column ``m`` of a canvas view (the card to its right, the adjacent sides at rows ``m`` and
    ``height - m``; ``adjacent``: |gradient across them|): how far out the card's edge lies at the top and bottom
    ends, when the side is on a band or on a line printed inside the card."""
    height = grad.shape[0]
    top, bottom = m, height - m
    reaches = (_adjacent_reach(adjacent, top, m), _adjacent_reach(adjacent, bottom, m))
    rows, rel = _side_rows(top, bottom)
    lo, hi = max(1, m - round(BAND_REACH * _CANVAS)), m - max(2, round(BAND_MIN_GAP * _CANVAS))
    cover, drift = _straight_steps(grad, rows, rel, lo, hi)

    def ends_reached(j: int) -> list[int]:
        """The ends where an adjacent side's edge runs on to line ``j``, and stops there."""
        gap = m - (lo + j)
        at_ends = (gap + 0.5 * drift[j], gap - 0.5 * drift[j])
        return [e for e in range(2) if reaches[e] is not None
                and -REACH_AGREE <= at_ends[e] - reaches[e] <= REACH_AGREE + REACH_ROUND * _CANVAS]

    cand = [j for j in range(len(cover)) if cover[j] >= cover[max(0, j - 1):j + 2].max()
            and (cover[j] >= BAND_COVER or (cover[j] >= REACHED_COVER and ends_reached(j)))]
    if not cand:
        return None
    a0, a1 = 0.02 * _CANVAS, 0.06 * _CANVAS
    ends = ((top + a0, top + a1, top - a1, top - a0), (bottom - a1, bottom - a0, bottom + a0, bottom + a1))
    card_x = (m + 0.01 * _CANVAS, m + 0.06 * _CANVAS)
    card_contrast = [float(np.linalg.norm(_mean_colour(lab, *card_x, yi0, yi1) - _mean_colour(lab, *card_x, yo0, yo1)))
                     for yi0, yi1, yo0, yo1 in ends]
    mute = max(card_contrast) < (REACHED_MIN_CONTRAST if reaches != (None, None) else BAND_MIN_CONTRAST)
    if mute and None in reaches:
        return None  # the card stands out at neither end enough to tell
    side_step = float(np.median(grad[rows, m - 2:m + 3].max(axis=1)))
    for j in sorted(cand):  # outermost first
        col = lo + j
        gap = m - col
        line = np.clip(col + np.round(drift[j] * rel).astype(np.intp), 1, grad.shape[1] - 2)
        line_step = np.maximum.reduce([grad[rows, line + o] for o in (-1, 0, 1)])
        at_ends = (gap + 0.5 * drift[j], gap - 0.5 * drift[j])
        reached = ends_reached(j)
        # a line where an adjacent side's edge stops is as strong as it is where it shows (the median of the share
        # of the rows it covers, the strongest); another line, over the whole side
        step = float(np.percentile(line_step, 100 * (1 - cover[j] / 2)) if reached else np.median(line_step))
        telling = [e for e in range(2)
                   if card_contrast[e] >= (REACHED_MIN_CONTRAST if e in reached else BAND_MIN_CONTRAST)]
        near_whole = cover[j] >= REACH_COVER
        if mute:
            # a white card on a white sheet at both ends: the adjacent sides' edges, running on to a line covering
            # nearly the whole side at both ends and stopping there, tell alone
            if len(reached) == 2 and near_whole and step >= REACH_STRENGTH * side_step:
                return at_ends
            continue
        if not telling:
            continue
        if reaches != (None, None) and not reached and not near_whole:
            continue  # an adjacent side's edge runs on past the corner, and stops elsewhere
        if step < (REACH_STRENGTH if reached and near_whole else BAND_STRENGTH) * side_step:
            continue
        x0, x1 = m - 0.75 * gap, m - 0.25 * gap
        strips = [_mean_colour(lab, x0, x1, yi0, yi1) for yi0, yi1, _, _ in ends]
        along = float(np.linalg.norm(strips[0] - strips[1]))  # a band is alike at both ends (an object is not)
        card_like = {}
        for e in telling:
            differs = _strip_differs(lab, strips[e], ends[e][2:], (x0, x1), col, m)
            card_like[e] = differs >= BAND_CONTRAST * card_contrast[e] and along <= 0.5 * differs
        # where an adjacent side's edge runs on to the line, the strip there is card when it stands out at one
        # such end (at the other, a white card on a white sheet may look like what lies beyond it)
        checked = [e for e in telling if e in reached]
        ok = any(card_like[e] for e in checked) if checked else all(card_like.values())
        if ok:
            return at_ends  # the line runs at col + drift * rel
    return None
