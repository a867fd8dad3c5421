"""Card-shaped quadrilaterals in a photo, and the card between four corners.

Edges of the luminance and colour channels are closed into contours, their
convex hulls simplified to quadrilaterals; long straight edges are also
paired into quads of lines. A candidate is scored by the edge support of its
four sides, the aspect of the rectangle it projects from (estimated through
the perspective, Zhang & He's whiteboard method, so a card tilted by 45° is
still an ID-1 card) and its area. :mod:`idverify.document.locate` decides
which candidate is the card.

>>> import numpy as np
>>> find_quads(np.full((480, 640, 3), 128, np.uint8))
[]
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import cv2
import numpy as np

from idverify.config import DOCUMENT, DocumentConfig
from idverify.document.outline import is_convex, line_intersection, refine_sides

ID1_ASPECT = 85.60 / 53.98
CNI_1995_ASPECT = 105.0 / 74.0
KNOWN_ASPECTS = (ID1_ASPECT, CNI_1995_ASPECT)

EdgeMaps = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # binary edges, gradient magnitude, gx, gy


@dataclasses.dataclass(frozen=True, slots=True)
class Quad:
    """A card candidate: corners (TL, TR, BR, BL of the landscape card) in search-image pixels."""

    corners: np.ndarray  # (4, 2) float64
    support: float  # fraction of the four sides backed by image edges (mean; no side below 0.2)
    aspect: float  # estimated width / height of the physical rectangle
    aspect_error: float  # |log(aspect / nearest known card aspect)|
    area_fraction: float  # of the image
    score: float
    touches_border: bool = False
    aspect_range: tuple[float, float] | None = None  # the aspects over the phone focal lengths (lowest, highest)


# ------------------------------------------------------------------------------------ geometry


def order_corners(pts: np.ndarray) -> np.ndarray:
    """Order 4 points clockwise from the top-left (image y down).

    >>> order_corners(np.array([[10, 0], [0, 0], [0, 5], [10, 5]], float)).tolist()
    [[0.0, 0.0], [10.0, 0.0], [10.0, 5.0], [0.0, 5.0]]
    """
    pts = np.asarray(pts, np.float64).reshape(4, 2)
    xy = pts.tolist()  # in Python floats: this runs per candidate quad, where numpy's per-call cost dominates
    cx, cy = sum(x for x, _ in xy) / 4, sum(y for _, y in xy) / 4
    ang = [math.atan2(y - cy, x - cx) for x, y in xy]
    order = sorted(range(4), key=ang.__getitem__)  # clockwise on screen (y down), starting anywhere
    start = min(range(4), key=lambda i: xy[order[i]][0] + xy[order[i]][1])
    return pts[order[start:] + order[:start]]


Vector3 = tuple[float, float, float]
SideVectors = tuple[Vector3, Vector3]  # Zhang & He's n2, n3


def _triple(a: Vector3, b: Vector3, c: Vector3) -> float:
    """(a x b) . c for 3-vectors (in Python floats: this runs per candidate quad, where numpy's per-call cost
    dominates)."""
    ax, ay, az = a
    bx, by, bz = b
    return (ay * bz - az * by) * c[0] + (az * bx - ax * bz) * c[1] + (ax * by - ay * bx) * c[2]


def _side_vectors(corners: np.ndarray, image_size: tuple[int, int]) -> SideVectors | None:
    """Zhang & He's n2, n3 (the rectangle's width and height directions, up to the focal length) or ``None``."""
    w, h = image_size
    u0, v0 = w / 2.0, h / 2.0
    tl, tr, br, bl = ((x - u0, y - v0, 1.0) for x, y in corners.tolist())
    m1, m2, m3, m4 = tl, tr, bl, br
    den2 = _triple(m2, m4, m3)
    den3 = _triple(m3, m4, m2)
    if abs(den2) < 1e-9 or abs(den3) < 1e-9:
        return None
    k2 = _triple(m1, m4, m3) / den2
    k3 = _triple(m1, m4, m2) / den3
    return ((k2 * m2[0] - m1[0], k2 * m2[1] - m1[1], k2 * m2[2] - m1[2]),
            (k3 * m3[0] - m1[0], k3 * m3[1] - m1[1], k3 * m3[2] - m1[2]))


def rectangle_aspect(corners: np.ndarray, image_size: tuple[int, int],
                     default_focal: float) -> tuple[float, float]:
    """Estimated (width / height, focal) of the rectangle seen as ``corners`` (TL, TR, BR, BL).

    Zhang & He, "Whiteboard scanning and image enhancement" (2007): the
    perspective gives the focal length when it is strong enough, otherwise
    ``default_focal`` is used.

    >>> sq = np.array([[0, 0], [200, 0], [200, 100], [0, 100]], float) + 300
    >>> round(rectangle_aspect(sq, (800, 600), 700.0)[0], 3)
    2.0
    """
    return _aspect_and_focal(_side_vectors(corners, image_size), default_focal)


def _aspect_and_focal(terms: SideVectors | None, default_focal: float) -> tuple[float, float]:
    """:func:`rectangle_aspect` from the side vectors."""
    if terms is None:
        return 0.0, default_focal
    n2, n3 = terms
    f = default_focal
    zz = n2[2] * n3[2]
    if abs(zz) > 1e-6:
        f2 = -(n2[0] * n3[0] + n2[1] * n3[1]) / zz
        if f2 > 0:
            f_est = math.sqrt(f2)
            if 0.5 * default_focal <= f_est <= 2.0 * default_focal:
                f = f_est
    return _ratio(n2, n3, f), f


def focal_prior(cfg: DocumentConfig = DOCUMENT) -> tuple[tuple[float, float], ...]:
    """(multiple of the default focal length, its cost in aspect error) pairs a card's aspect is tried at."""
    return tuple((k, cfg.aspect_focal_cost * abs(math.log(k))) for k in cfg.aspect_focal_factors)


def aspects_over_focals(corners: np.ndarray, image_size: tuple[int, int], default_focal: float,
                        prior: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """(width / height, cost) of the rectangle seen as ``corners`` at each focal length ``default_focal x k`` of
    ``prior`` (degenerate ones left out): a steep view's aspect depends on the focal length, which the
    perspective alone gives only roughly."""
    return _aspects_at(_side_vectors(corners, image_size), default_focal, prior)


def aspect_range(corners: np.ndarray, image_size: tuple[int, int], default_focal: float,
                 prior: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """(lowest, highest) long side / short side of the rectangle seen as ``corners``, at the focal length its
    perspective gives (0 if degenerate) and at each of ``prior``'s (:func:`aspects_over_focals`).

    >>> sq = np.array([[0, 0], [200, 0], [200, 100], [0, 100]], float) + 300
    >>> [round(a, 3) for a in aspect_range(sq, (800, 600), 700.0, focal_prior())]
    [2.0, 2.0]
    """
    terms = _side_vectors(corners, image_size)
    return _range_of(_aspect_and_focal(terms, default_focal)[0], _aspects_at(terms, default_focal, prior))


def _range_of(estimate: float, at_focals: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """:func:`aspect_range` from the perspective's estimate and the (aspect, cost) pairs over the prior's focals."""
    seen = [max(estimate, 1 / estimate) if estimate > 0 else 0.0]
    seen += [max(r, 1 / r) for r, _ in at_focals]
    return min(seen), max(seen)


def _aspects_at(terms: SideVectors | None, default_focal: float,
                prior: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """:func:`aspects_over_focals` from the side vectors."""
    if terms is None:
        return []
    return [(r, cost) for k, cost in prior if (r := _ratio(*terms, default_focal * k)) > 0]


def _ratio(n2: Vector3, n3: Vector3, f: float) -> float:
    """The rectangle's width / height from Zhang & He's side vectors at focal length ``f`` (0.0 if degenerate)."""
    num = (n2[0] ** 2 + n2[1] ** 2) / f**2 + n2[2] ** 2
    den = (n3[0] ** 2 + n3[1] ** 2) / f**2 + n3[2] ** 2
    return math.sqrt(num / den) if num > 0 and den > 0 else 0.0


def aspect_error(aspect: float) -> float:
    if aspect <= 0:
        return 9.0
    return min(abs(math.log(aspect / a)) for a in KNOWN_ASPECTS)


LINE_PIECE_MIN = 0.03  # the look for lines alone joins straight pieces from this share of the frame's shorter side
LINES_PER_DIRECTION = 4  # ... and keeps at most this many lines within LINE_DIRECTION_BIN of one another's direction
LINE_DIRECTION_BIN = math.radians(4)
_SUPPORT_T = np.linspace(0.1, 0.9, 48)
_SUPPORT_OFF = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])


def across_sides(corners: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points at fractions ``t`` along each side (4, T, 2), probes across them at ``_SUPPORT_OFF`` px
    (4, T, O, 2) and the sides' unit normals (4, 2; the sign does not matter for |cos|)."""
    a = corners
    b = np.roll(corners, -1, axis=0)
    d = b - a
    d = d / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None]
    n = np.stack([-d[:, 1], d[:, 0]], axis=1)
    pts = a[:, None, :] + t[None, :, None] * (b - a)[:, None, :]
    return pts, pts[:, :, None, :] + _SUPPORT_OFF[None, None, :, None] * n[:, None, None, :], n


def _side_support(corners: np.ndarray, gx: np.ndarray, gy: np.ndarray, thresh: float) -> tuple[float, float]:
    """(weakest side's, mean) fraction of sample points on a strong edge running along the side.

    A point counts when, within 2 px along the side's normal, the gradient is
    above ``thresh`` and points across the side (|cos| >= 0.85): textured
    backgrounds have edges everywhere but not aligned along a straight line.
    """
    h, w = gx.shape
    _, q, n = across_sides(corners, _SUPPORT_T)
    xs = np.round(q[..., 0]).astype(np.intp)
    ys = np.round(q[..., 1]).astype(np.intp)
    ok = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
    xs = np.clip(xs, 0, w - 1)
    ys = np.clip(ys, 0, h - 1)
    vx = np.where(ok, gx[ys, xs], 0.0)
    vy = np.where(ok, gy[ys, xs], 0.0)
    mag = np.hypot(vx, vy)
    cos = np.abs(vx * n[:, None, None, 0] + vy * n[:, None, None, 1]) / np.maximum(mag, 1e-6)
    hits = ((mag >= thresh) & (cos >= 0.85)).any(axis=2)  # (4, T)
    per_side = hits.mean(axis=1)
    return float(per_side.min()), float(per_side.mean())


@dataclasses.dataclass(frozen=True)
class LabGradients:
    """3x3 Sobel gradients of the blurred Lab channels (chroma weighted x2): per channel its image and gradient
    magnitude, and per pixel the strongest channel's magnitude, gx and gy (float32)."""

    channels: tuple[tuple[np.ndarray, np.ndarray], ...]  # (blurred channel, weighted magnitude) for L, a, b
    magnitude: np.ndarray
    gx: np.ndarray
    gy: np.ndarray


def lab_gradients(rgb: np.ndarray) -> LabGradients:
    """The gradients :func:`edge_maps` finds its edges on (computed once for both of its thresholds)."""
    lab = cv2.GaussianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB), (5, 5), 0)
    channels = []
    mag_total: np.ndarray = np.empty(0, np.float32)
    gx_total: np.ndarray = mag_total
    gy_total: np.ndarray = mag_total
    for c, weight in ((0, 1.0), (1, 2.0), (2, 2.0)):
        ch = lab[:, :, c]
        gx = cv2.Sobel(ch, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(ch, cv2.CV_32F, 0, 1, ksize=3)
        mag = cv2.magnitude(gx, gy) * weight
        if weight != 1.0:
            gx, gy = gx * weight, gy * weight
        if c == 0:
            mag_total, gx_total, gy_total = mag.copy(), gx, gy
        else:  # the strongest channel per pixel, selected in place
            stronger = cv2.compare(mag, mag_total, cv2.CMP_GT)
            for src, dst in ((mag, mag_total), (gx, gx_total), (gy, gy_total)):
                cv2.copyTo(src, stronger, dst)
        channels.append((ch, mag))
    return LabGradients(tuple(channels), mag_total, gx_total, gy_total)


def edge_maps(rgb: np.ndarray, sensitive: bool = False, gradients: LabGradients | None = None) -> EdgeMaps:
    """(binary edges, gradient magnitude, gx, gy) from luminance and chroma (strongest channel per pixel);
    ``sensitive``: lower Canny thresholds. ``gradients``: ``lab_gradients(rgb)`` when already computed."""
    grads = gradients if gradients is not None else lab_gradients(rgb)
    edges = np.zeros(rgb.shape[:2], np.uint8)
    for (ch, mag), weight in zip(grads.channels, (1.0, 2.0, 2.0), strict=True):
        hi = float(np.percentile(mag[::4, ::4], 80 if sensitive else 92))
        hi = max(hi, (20.0 if sensitive else 40.0) * weight)
        edges = np.bitwise_or(edges, cv2.Canny(ch, hi / weight * 0.5, hi / weight))
    return edges, grads.magnitude, grads.gx, grads.gy


def _contour_lines(contours: list[np.ndarray], size: tuple[int, int], max_lines: int = 14,
                   pieces: bool = False) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Long straight runs of the edge contours as (point, unit direction, length), longest first.

    A card partly hidden by clutter (a pen across an edge, a sheet of paper
    under a corner) still shows long straight pieces of its four edges.
    ``pieces``: the runs are joined from pieces down to ``LINE_PIECE_MIN``
    (a ruled sheet's lines running into a small card's edges break it into
    short pieces), and at most ``LINES_PER_DIRECTION`` lines of one direction
    are kept (the sheet's many parallel lines would take every place).
    """
    w, h = size
    min_len = 0.12 * min(w, h)
    min_piece = LINE_PIECE_MIN * min(w, h) if pieces else min_len
    raw: list[list[float]] = []
    for cnt in contours:
        if len(cnt) < 8 or cv2.arcLength(cnt, False) < min_len:
            continue
        poly = cv2.approxPolyDP(cnt, 2.5, True).reshape(-1, 2).astype(np.float64)
        for i in range(len(poly)):
            p0, p1 = poly[i], poly[(i + 1) % len(poly)]
            length = float(np.hypot(*(p1 - p0)))
            if length < min_piece:
                continue
            theta = math.atan2(p1[1] - p0[1], p1[0] - p0[0]) % math.pi
            nx, ny = -math.sin(theta), math.cos(theta)
            raw.append([theta, p0[0] * nx + p0[1] * ny, length])
    raw.sort(key=lambda ln: -ln[2])
    lines: list[list[float]] = []
    for theta, rho, length in raw:
        for ln in lines:
            dth = abs(ln[0] - theta)
            if min(dth, math.pi - dth) < math.radians(3):
                rho2 = rho if dth < math.pi / 2 else -rho
                if abs(ln[1] - rho2) < 5.0:
                    ln[2] += length
                    break
        else:
            lines.append([theta, rho, length])
    lines.sort(key=lambda ln: -ln[2])
    if pieces:
        kept: list[list[float]] = []
        for ln in lines:
            if ln[2] < min_len:
                break
            same = sum(min(abs(k[0] - ln[0]), math.pi - abs(k[0] - ln[0])) < LINE_DIRECTION_BIN for k in kept)
            if same < LINES_PER_DIRECTION:
                kept.append(ln)
        lines = kept
    out = []
    for theta, rho, length in lines[:max_lines]:
        d = np.array([math.cos(theta), math.sin(theta)])
        n = np.array([-d[1], d[0]])
        out.append((n * rho, d, length))
    return out


def _line_quads(lines: list[tuple[np.ndarray, np.ndarray, float]], size: tuple[int, int]) -> list[np.ndarray]:
    """Quadrilaterals from two roughly parallel pairs of long lines, inside the frame."""
    w, h = size
    pairs = []
    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            cos = abs(float(np.dot(lines[i][1], lines[j][1])))
            if cos > math.cos(math.radians(40)):
                # opposite sides must be apart
                dist = abs(float(np.dot(lines[j][0] - lines[i][0], np.array([-lines[i][1][1], lines[i][1][0]]))))
                if dist > 0.1 * min(w, h):
                    pairs.append((i, j))
    quads = []
    for a in range(len(pairs)):
        for b in range(a + 1, len(pairs)):
            i, j = pairs[a]
            k, m = pairs[b]
            if len({i, j, k, m}) < 4:
                continue
            cos = abs(float(np.dot(lines[i][1], lines[k][1])))
            if cos > math.cos(math.radians(45)):
                continue
            pts = []
            for p_, q_ in ((i, k), (k, j), (j, m), (m, i)):
                x = line_intersection((lines[p_][0], lines[p_][1]), (lines[q_][0], lines[q_][1]))
                if x is None:
                    break
                pts.append(x)
            if len(pts) < 4:
                continue
            q = np.array(pts)
            if any(not (-0.05 * w <= x <= 1.05 * w and -0.05 * h <= y <= 1.05 * h) for x, y in q.tolist()):
                continue
            quads.append(order_corners(q))
    return quads


def find_quads(rgb: np.ndarray, cfg: DocumentConfig = DOCUMENT, max_quads: int = 6,
               sensitive: bool = False, line_quads: bool = True, lines_only: bool = False,
               maps: EdgeMaps | None = None, memo: dict[tuple[str, bytes], Quad | None] | None = None,
               ) -> list[Quad]:
    """Card candidates in ``rgb`` (search resolution), best first.

    ``sensitive`` lowers the edge thresholds (a white card on white paper):
    the second attempt when the first finds nothing. Quads from long straight
    edge lines are added when ``line_quads`` and no closed outline is a
    confident card; ``lines_only``: only those, whatever the closed outlines.
    ``maps``: ``edge_maps(rgb, sensitive)`` when already computed. ``memo``:
    candidates already refined and scored by an earlier call on the same
    image and gradients (both thresholds' edges share them), filled in here.
    """
    h, w = rgb.shape[:2]
    edges, grad, gx, gy = maps if maps is not None else edge_maps(rgb, sensitive)
    thresh = 24.0
    img_area = float(w * h)
    default_f = cfg.focal_factor * max(w, h)
    prior = focal_prior(cfg)
    found: list[Quad] = []
    seen: set[tuple[int, ...]] = set()  # candidates already scored, by corners on a 4-pixel grid
    line_contours: list[np.ndarray] = []
    for closing in (1,) if lines_only else (1, 2):
        work = cv2.dilate(edges, np.ones((3, 3), np.uint8), iterations=closing)
        contours, _ = cv2.findContours(work, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        if closing == 1:
            line_contours = list(contours)
        if lines_only:
            continue
        for cnt in contours:
            hull = cv2.convexHull(cnt)
            area = cv2.contourArea(hull)
            if area < cfg.min_area_fraction * 0.5 * img_area:
                continue
            peri = cv2.arcLength(hull, True)
            approx = None
            for eps in (0.02, 0.035, 0.05, 0.07, 0.1):
                a = cv2.approxPolyDP(hull, eps * peri, True)
                if len(a) == 4:
                    approx = a
                    break
                if len(a) < 4:
                    break
            if approx is None:
                continue
            q = order_corners(approx.reshape(4, 2).astype(np.float64))
            key = tuple(np.round(q / 4).astype(int).ravel())
            if key in seen:
                continue
            seen.add(key)
            exact = ("outline", q.tobytes())  # the memo's key: exactly this candidate, not one near it
            if memo is not None and exact in memo:
                quad = memo[exact]
            else:
                refined = refine_sides(q, grad, search=max(4.0, 0.012 * max(w, h)))
                if refined is not None and is_convex(refined):
                    q = order_corners(refined)
                quad = score_quad(q, (gx, gy, thresh), (w, h), default_f, cfg.border_side_support, prior)
                if memo is not None:
                    memo[exact] = quad
            if quad is not None:
                found.append(quad)
    # a small confident quad may be a strip of a ruled sheet while the card's outline merged with the sheet's
    confident = any(q.support >= 0.9 and q.aspect_error <= 0.06 and q.area_fraction >= cfg.small_card_area
                    for q in found)
    wanted = lines_only or (line_quads and not confident)
    # the look for lines alone takes more of them (a ruled sheet's lines can take the first 14)
    from_lines = _line_quads(_contour_lines(line_contours, (w, h), max_lines=24 if lines_only else 14,
                                            pieces=lines_only),
                             (w, h)) if wanted else []
    for q in from_lines:
        key = tuple(np.round(q / 4).astype(int).ravel())
        if key in seen:
            continue
        if cv2.contourArea(q.astype(np.float32)) < cfg.min_area_fraction * 0.5 * img_area:
            continue
        seen.add(key)
        exact = ("lines", q.tobytes())
        if memo is not None and exact in memo:
            quad = memo[exact]
        else:
            quad = score_quad(q, (gx, gy, thresh), (w, h), default_f, cfg.border_side_support, prior)
            if memo is not None:
                memo[exact] = quad
        if quad is not None:
            found.append(quad)
    found.sort(key=lambda x: -x.score)
    return found[:max_quads]


def score_quad(q: np.ndarray, grads: tuple[np.ndarray, np.ndarray, float], size: tuple[int, int],
                default_f: float, seen_side: float = DOCUMENT.border_side_support,
                prior: Sequence[tuple[float, float]] = ()) -> Quad | None:
    w, h = size
    if not is_convex(q):
        return None
    sides = [float(np.hypot(*(q[(i + 1) % 4] - q[i]))) for i in range(4)]
    if min(sides) < 10:
        return None
    # landscape: make the first side the long one
    if sides[0] + sides[2] < sides[1] + sides[3]:
        q = np.roll(q, -1, axis=0)
    terms = _side_vectors(q, size)
    aspect, _ = _aspect_and_focal(terms, default_f)
    if 0 < aspect < 1:
        q = np.roll(q, -1, axis=0)
        aspect = 1 / aspect
        terms = _side_vectors(q, size)
    err = aspect_error(aspect)
    # the focal length estimated from the quad's own perspective is sensitive to corner noise (and a steep view's
    # aspect depends on it): the aspect error is the smallest over phone focal lengths, each with a cost for its
    # distance from the default (the error reported includes that cost)
    at_focals = _aspects_at(terms, default_f, prior)
    for other, cost in at_focals:
        other = max(other, 1 / other)
        e = aspect_error(other) + cost
        if e < err:
            aspect, err = other, e
    if err > 0.2:
        return None
    area = float(cv2.contourArea(q.astype(np.float32))) / float(w * h)
    weakest, support = _side_support(q, *grads)
    if weakest < 0.2:  # a card edge can be faint against a white sheet, not absent
        return None
    margin = 3.0
    pts = np.vstack([q, (q + np.roll(q, -1, axis=0)) / 2])  # corners and side midpoints
    touches = bool(np.any(pts[:, 0] < margin) or np.any(pts[:, 1] < margin)
                   or np.any(pts[:, 0] > w - 1 - margin) or np.any(pts[:, 1] > h - 1 - margin))
    # close to the frame but every side seen as an edge inside the image (a scan with a thin margin): whole.
    # A side cut by the frame has no edge of its own there (the gradient stops at the frame).
    touches = touches and weakest < seen_side
    score = support - 4.0 * err + 0.4 * math.sqrt(min(area, 0.9))
    seen = _range_of(_aspect_and_focal(terms, default_f)[0], at_focals) if prior else None  # aspect_range(q, ...)
    return Quad(q, support, aspect, err, area, score, touches, seen)


def find_cut_off(rgb: np.ndarray, cfg: DocumentConfig = DOCUMENT,
                 edges: np.ndarray | None = None) -> tuple[np.ndarray, float] | None:
    """A card-like region running off the frame: (polygon, area fraction) or ``None``.

    The frame's border is added to the edges so a card cut by it closes
    into a polygon with a side on the border; the sides inside the frame
    must be straight, aligned image edges. ``edges``: ``edge_maps(rgb)[0]`` when already computed.
    """
    h, w = rgb.shape[:2]
    if edges is None:
        edges = edge_maps(rgb)[0]
    work = cv2.dilate(edges, np.ones((3, 3), np.uint8), iterations=2)
    work[0, :] = work[-1, :] = 255
    work[:, 0] = work[:, -1] = 255
    contours, _ = cv2.findContours(work, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    best: tuple[np.ndarray, float] | None = None
    for cnt in contours:
        hull = cv2.convexHull(cnt)
        area = cv2.contourArea(hull) / float(w * h)
        if not cfg.small_card_area <= area <= 0.85:  # a small object at the frame's edge is not a cut-off card
            continue
        poly = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True).reshape(-1, 2).astype(np.float64)
        if not 4 <= len(poly) <= 6:
            continue
        on_border = (poly[:, 0] <= 3) | (poly[:, 1] <= 3) | (poly[:, 0] >= w - 4) | (poly[:, 1] >= h - 4)
        if on_border.sum() < 2 or on_border.all():
            continue
        inner_sides = []
        for i in range(len(poly)):
            if on_border[i] and on_border[(i + 1) % len(poly)]:
                continue  # a side along the frame
            inner_sides.append(i)
        if len(inner_sides) < 2:
            continue
        near = cv2.dilate(edges, np.ones((13, 13), np.uint8)) > 0
        supports = []
        for i in inner_sides:
            a, b = poly[i], poly[(i + 1) % len(poly)]
            ts = np.linspace(0.1, 0.9, 40)[:, None]
            pts = np.round(a[None, :] + ts * (b - a)[None, :]).astype(int)
            pts[:, 0] = np.clip(pts[:, 0], 0, w - 1)
            pts[:, 1] = np.clip(pts[:, 1], 0, h - 1)
            supports.append(float(near[pts[:, 1], pts[:, 0]].mean()) if np.hypot(*(b - a)) > 10 else 0.0)
        if float(np.mean(supports)) >= cfg.min_edge_support and (best is None or area > best[1]):
            best = (poly, area)
    return best



# ------------------------------------------------------------------------------------- warping


def card_width(corners: np.ndarray, aspect: float) -> float:
    """The card's physical resolution in ``corners``' pixels: its width, or its height times ``aspect`` (width /
    height) when it is seen tilted sideways."""
    return max(float(np.hypot(*(corners[1] - corners[0])) + np.hypot(*(corners[2] - corners[3]))) / 2,
               float(np.hypot(*(corners[3] - corners[0])) + np.hypot(*(corners[2] - corners[1]))) / 2 * aspect)


def runs_off_frame(corners: np.ndarray, size: tuple[int, int], cfg: DocumentConfig = DOCUMENT) -> bool:
    """Whether a corner lies beyond the frame of ``size`` = (w, h) by more than ``cfg.border_margin`` of it."""
    w, h = size
    margin = cfg.border_margin * max(w, h)
    return bool(np.any(corners[:, 0] < -margin) or np.any(corners[:, 1] < -margin)
                or np.any(corners[:, 0] > w - 1 + margin) or np.any(corners[:, 1] > h - 1 + margin))


def warp_card(rgb: np.ndarray, corners: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The card between ``corners`` (TL, TR, BR, BL, in ``rgb`` pixels) warped to ``size`` = (w, h)."""
    w, h = size
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    m = cv2.getPerspectiveTransform(corners.astype(np.float32), dst)
    return cv2.warpPerspective(rgb, m, (w, h), flags=cv2.INTER_AREA if _shrinks(corners, w) else cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)


CHECK_WIDTH = 512  # px: the rectified card's width for the quality, recapture and template checks


def card_at_check_width(rectified: np.ndarray) -> np.ndarray:
    """The rectified card reduced to ``CHECK_WIDTH`` (as is when it already has that width): compute it once and
    hand it to each check, which reads it as is."""
    h, w = rectified.shape[:2]
    if w == CHECK_WIDTH:
        return rectified
    return cv2.resize(rectified, (CHECK_WIDTH, max(8, round(h * CHECK_WIDTH / w))), interpolation=cv2.INTER_AREA)


def _shrinks(corners: np.ndarray, width: int) -> bool:
    return float(np.hypot(*(corners[1] - corners[0]))) > 1.5 * width



def quad_overlap(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Intersection over union of two convex quads (0 when either is missing)."""
    if a is None or b is None:
        return 0.0
    pa, pb = a.astype(np.float32), b.astype(np.float32)
    inter, _ = cv2.intersectConvexConvex(pa, pb)
    union = cv2.contourArea(pa) + cv2.contourArea(pb) - inter
    return float(inter / union) if union > 0 else 0.0


__all__ = ["CHECK_WIDTH", "CNI_1995_ASPECT", "ID1_ASPECT", "KNOWN_ASPECTS", "EdgeMaps", "LabGradients", "Quad",
           "across_sides", "aspect_error", "aspect_range", "aspects_over_focals", "card_at_check_width", "card_width",
           "edge_maps", "find_cut_off", "find_quads", "focal_prior", "lab_gradients", "order_corners", "quad_overlap",
           "rectangle_aspect", "runs_off_frame", "score_quad", "warp_card"]
