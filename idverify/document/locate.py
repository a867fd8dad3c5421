"""Find a card in a photo and rectify it.

The search runs on a reduced copy (``DocumentConfig.search_side`` pixels;
again at ``small_card_search_side`` when the card found is small or none is):
edges of the luminance and colour channels, closed contours, convex hulls
simplified to quadrilaterals, each side refined by fitting a line to the
strongest gradient along its normals (rounded corners are skipped, so the
corner is where the straight edges meet). A candidate is scored by the
edge support of its four sides, the aspect of the rectangle it projects
from (estimated through the perspective, Zhang & He's whiteboard method,
so a card tilted by 45° is still an ID-1 card) and its area. The 180°
ambiguity is resolved from the content (:mod:`idverify.document.side`).

>>> import numpy as np
>>> loc = locate_card(np.full((480, 640, 3), 128, np.uint8))
>>> loc.found, loc.reason
(False, 'card_not_found')
"""

from __future__ import annotations

import dataclasses
import io
import math
from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image

from idverify.config import DOCUMENT, MEDIA, DocumentConfig
from idverify.document.layout import CardLayout, CardType, get_layout
from idverify.document.outline import colour_gradients, is_convex, line_intersection, refine_outline, refine_sides
from idverify.document.print_seeds import print_seeded_outlines
from idverify.document.side import BY_ELIMINATION, UNKNOWN, Aspect, SideVerdict
from idverify.media import ImageSource, LoadedImage, load_image, read_source_bytes, sniff_image_format

ID1_ASPECT = 85.60 / 53.98
CNI_1995_ASPECT = 105.0 / 74.0
KNOWN_ASPECTS = (ID1_ASPECT, CNI_1995_ASPECT)
FULL_FRAME_MIN_SIDE = 0.55  # side score for the whole frame to be taken as a scan of the card alone
NESTED_SHARE = 0.7  # a quad within another and at most this share of its area lies on it (a card on a sheet)
EXTRA_KEPT = 4  # candidates from elsewhere than the edges the content pick also reads, after the best ...
EXTRA_READ_MARGIN = 0.05  # ... unless an outlined candidate reads as the same side this nearly as surely
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


@dataclasses.dataclass(frozen=True, slots=True)


class CardLocation:
    """Where the card is in a photo, and the card rectified.

    ``corners`` are in original-image pixels (EXIF orientation applied),
    ordered top-left, top-right, bottom-right, bottom-left of the card seen
    upright. ``rectified`` is RGB at a fixed width
    (``DocumentConfig.rectified_width``) and the card type's aspect;
    ``None`` when no card was found.
    """

    found: bool
    reason: str | None
    corners: np.ndarray | None = None
    rectified: np.ndarray | None = None
    score: float = 0.0
    aspect: float | None = None
    card_type: str | None = None  # from the content classifier, when known
    side: str | None = None
    side_score: float = 0.0
    rotated_180: bool = False
    image_size: tuple[int, int] = (0, 0)  # original (width, height)
    card_width_px: float = 0.0  # card width in original-image pixels
    area_fraction: float = 0.0
    image: LoadedImage | None = dataclasses.field(default=None, repr=False)  # the decode used
    full_frame: bool = False  # no card edge in the photo: a scan or crop of the card alone, taken whole
    edge_support: float = 0.0  # share of the outline's sides on aligned edges (of the best candidate if not found)
    matched: bool = False  # located by the content of the same card in another photo (match.locate_like)
    match_inliers: int = 0  # keypoints consistent with that match

    @property
    def label(self) -> str:
        """``type/side`` as read (:attr:`idverify.document.side.SideVerdict.label`), ``unknown`` when not."""
        return UNKNOWN if self.card_type is None else f"{self.card_type}/{self.side}"

    def to_dict(self) -> dict[str, object]:
        return {
            "found": self.found,
            "reason": self.reason,
            "corners": None if self.corners is None else [[round(float(x), 1), round(float(y), 1)]
                                                           for x, y in self.corners],
            "score": round(self.score, 3),
            "aspect": None if self.aspect is None else round(self.aspect, 3),
            "card_type": self.card_type,
            "side": self.side,
            "rotated_180": self.rotated_180,
            "image_size": list(self.image_size),
            "card_width_px": round(self.card_width_px, 1),
            "area_fraction": round(self.area_fraction, 4),
            "full_frame": self.full_frame,
            "matched": self.matched,
        }


# ------------------------------------------------------------------------------------ geometry


def order_corners(pts: np.ndarray) -> np.ndarray:
    """Order 4 points clockwise from the top-left (image y down).

    >>> order_corners(np.array([[10, 0], [0, 0], [0, 5], [10, 5]], float)).tolist()
    [[0.0, 0.0], [10.0, 0.0], [10.0, 5.0], [0.0, 5.0]]
    """
    pts = np.asarray(pts, np.float64).reshape(4, 2)
    c = pts.mean(axis=0)
    ang = np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0])
    pts = pts[np.argsort(ang)]  # clockwise on screen (y down), starting anywhere
    start = int(np.argmin(pts.sum(axis=1)))
    return np.roll(pts, -start, axis=0)


def _triple(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """(a x b) . c for 3-vectors (np.cross costs ~40 us a call; this runs per candidate quad)."""
    ax, ay, az = float(a[0]), float(a[1]), float(a[2])
    bx, by, bz = float(b[0]), float(b[1]), float(b[2])
    return (ay * bz - az * by) * float(c[0]) + (az * bx - ax * bz) * float(c[1]) + (ax * by - ay * bx) * float(c[2])


def _side_vectors(corners: np.ndarray, image_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray] | None:
    """Zhang & He's n2, n3 (the rectangle's width and height directions, up to the focal length) or ``None``."""
    w, h = image_size
    u0, v0 = w / 2.0, h / 2.0
    tl, tr, br, bl = (np.array([p[0] - u0, p[1] - v0, 1.0]) for p in corners)
    m1, m2, m3, m4 = tl, tr, bl, br
    den2 = _triple(m2, m4, m3)
    den3 = _triple(m3, m4, m2)
    if abs(den2) < 1e-9 or abs(den3) < 1e-9:
        return None
    k2 = _triple(m1, m4, m3) / den2
    k3 = _triple(m1, m4, m2) / den3
    return k2 * m2 - m1, k3 * m3 - m1


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
    terms = _side_vectors(corners, image_size)
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
    terms = _side_vectors(corners, image_size)
    if terms is None:
        return []
    return [(r, cost) for k, cost in prior if (r := _ratio(*terms, default_focal * k)) > 0]


def _ratio(n2: np.ndarray, n3: np.ndarray, f: float) -> float:
    """The rectangle's width / height from Zhang & He's side vectors at focal length ``f`` (0.0 if degenerate)."""
    num = (n2[0] ** 2 + n2[1] ** 2) / f**2 + n2[2] ** 2
    den = (n3[0] ** 2 + n3[1] ** 2) / f**2 + n3[2] ** 2
    return math.sqrt(num / den) if num > 0 and den > 0 else 0.0


def _aspect_error(aspect: float) -> float:
    if aspect <= 0:
        return 9.0
    return min(abs(math.log(aspect / a)) for a in KNOWN_ASPECTS)


_SUPPORT_T = np.linspace(0.1, 0.9, 48)
_SUPPORT_OFF = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])


def _across_sides(corners: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    _, q, n = _across_sides(corners, _SUPPORT_T)
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


def _edge_maps(rgb: np.ndarray, sensitive: bool = False) -> EdgeMaps:
    """(binary edges, gradient magnitude, gx, gy) from luminance and chroma (strongest channel per pixel)."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    lab = cv2.GaussianBlur(lab, (5, 5), 0)
    edges = np.zeros(rgb.shape[:2], np.uint8)
    mag_total = np.zeros(rgb.shape[:2], np.float32)
    gx_total = np.zeros(rgb.shape[:2], np.float32)
    gy_total = np.zeros(rgb.shape[:2], np.float32)
    for c, weight in ((0, 1.0), (1, 2.0), (2, 2.0)):
        ch = lab[:, :, c]
        gx = cv2.Sobel(ch, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(ch, cv2.CV_32F, 0, 1, ksize=3)
        mag = cv2.magnitude(gx, gy) * weight
        stronger = mag > mag_total
        mag_total = np.where(stronger, mag, mag_total)
        gx_total = np.where(stronger, gx * weight, gx_total)
        gy_total = np.where(stronger, gy * weight, gy_total)
        hi = float(np.percentile(mag[::4, ::4], 80 if sensitive else 92))
        hi = max(hi, (20.0 if sensitive else 40.0) * weight)
        edges = np.bitwise_or(edges, cv2.Canny(ch, hi / weight * 0.5, hi / weight))
    return edges, mag_total, gx_total, gy_total


def _contour_lines(contours: list[np.ndarray], size: tuple[int, int],
                   max_lines: int = 14) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Long straight runs of the edge contours as (point, unit direction, length), longest first.

    A card partly hidden by clutter (a pen across an edge, a sheet of paper
    under a corner) still shows long straight pieces of its four edges.
    """
    w, h = size
    min_len = 0.12 * min(w, h)
    raw: list[list[float]] = []
    for cnt in contours:
        if len(cnt) < 8 or cv2.arcLength(cnt, False) < min_len:
            continue
        poly = cv2.approxPolyDP(cnt, 2.5, True).reshape(-1, 2).astype(np.float64)
        for i in range(len(poly)):
            p0, p1 = poly[i], poly[(i + 1) % len(poly)]
            length = float(np.hypot(*(p1 - p0)))
            if length < min_len:
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
            if (q[:, 0] < -0.05 * w).any() or (q[:, 0] > 1.05 * w).any() or (q[:, 1] < -0.05 * h).any() \
                    or (q[:, 1] > 1.05 * h).any():
                continue
            quads.append(order_corners(q))
    return quads


def find_quads(rgb: np.ndarray, cfg: DocumentConfig = DOCUMENT, max_quads: int = 6,
               sensitive: bool = False, line_quads: bool = True, lines_only: bool = False,
               maps: EdgeMaps | None = None) -> list[Quad]:
    """Card candidates in ``rgb`` (search resolution), best first.

    ``sensitive`` lowers the edge thresholds (a white card on white paper):
    the second attempt when the first finds nothing. Quads from long straight
    edge lines are added when ``line_quads`` and no closed outline is a
    confident card; ``lines_only``: only those, whatever the closed outlines.
    ``maps``: ``_edge_maps(rgb, sensitive)`` when already computed.
    """
    h, w = rgb.shape[:2]
    edges, grad, gx, gy = maps if maps is not None else _edge_maps(rgb, sensitive)
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
            refined = refine_sides(q, grad, search=max(4.0, 0.012 * max(w, h)))
            if refined is not None and is_convex(refined):
                q = order_corners(refined)
            quad = _score_quad(q, (gx, gy, thresh), (w, h), default_f, cfg.border_side_support, prior)
            if quad is not None:
                found.append(quad)
    # a small confident quad may be a strip of a ruled sheet while the card's outline merged with the sheet's
    confident = any(q.support >= 0.9 and q.aspect_error <= 0.06 and q.area_fraction >= cfg.small_card_area
                    for q in found)
    wanted = lines_only or (line_quads and not confident)
    # the look for lines alone takes more of them (a ruled sheet's lines can take the first 14)
    from_lines = _line_quads(_contour_lines(line_contours, (w, h), max_lines=24 if lines_only else 14),
                             (w, h)) if wanted else []
    for q in from_lines:
        key = tuple(np.round(q / 4).astype(int).ravel())
        if key in seen:
            continue
        if cv2.contourArea(q.astype(np.float32)) < cfg.min_area_fraction * 0.5 * img_area:
            continue
        seen.add(key)
        quad = _score_quad(q, (gx, gy, thresh), (w, h), default_f, cfg.border_side_support, prior)
        if quad is not None:
            found.append(quad)
    found.sort(key=lambda x: -x.score)
    return found[:max_quads]


def _score_quad(q: np.ndarray, grads: tuple[np.ndarray, np.ndarray, float], size: tuple[int, int],
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
    aspect, _ = rectangle_aspect(q, size, default_f)
    if 0 < aspect < 1:
        q = np.roll(q, -1, axis=0)
        aspect = 1 / aspect
    err = _aspect_error(aspect)
    seen = [aspect]
    # the focal length estimated from the quad's own perspective is sensitive to corner noise (and a steep view's
    # aspect depends on it): the aspect error is the smallest over phone focal lengths, each with a cost for its
    # distance from the default (the error reported includes that cost)
    for other, cost in aspects_over_focals(q, size, default_f, prior):
        other = max(other, 1 / other)
        seen.append(other)
        e = _aspect_error(other) + cost
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
    return Quad(q, support, aspect, err, area, score, touches, (min(seen), max(seen)) if prior else None)


def find_cut_off(rgb: np.ndarray, cfg: DocumentConfig = DOCUMENT) -> tuple[np.ndarray, float] | None:
    """A card-like region running off the frame: (polygon, area fraction) or ``None``.

    The frame's border is added to the edges so a card cut by it closes
    into a polygon with a side on the border; the sides inside the frame
    must be straight, aligned image edges.
    """
    h, w = rgb.shape[:2]
    edges, _, _, _ = _edge_maps(rgb)
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


def _shrinks(corners: np.ndarray, width: int) -> bool:
    return float(np.hypot(*(corners[1] - corners[0]))) > 1.5 * width


def rectified_size(card_type: CardType | str | None, cfg: DocumentConfig = DOCUMENT) -> tuple[int, int]:
    """(width, height) of a rectified card of that type (ID-1 when unknown)."""
    aspect = CNI_1995_ASPECT if card_type == CardType.CNI_1995 else ID1_ASPECT
    return cfg.rectified_width, round(cfg.rectified_width / aspect)


def layout_for(card_type: str | None, side: str | None) -> CardLayout | None:
    """The layout of a classified side, or ``None``."""
    if card_type is None or side is None:
        return None
    try:
        return get_layout(card_type, side)
    except Exception:  # noqa: BLE001 - unknown combination: no layout
        return None


# ------------------------------------------------------------------------------------- decoding


def _header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the image header only (no decoding), ``None`` if unreadable."""
    if sniff_image_format(data) is None:
        return None
    try:
        with Image.open(io.BytesIO(data)) as im:
            return int(im.size[0]), int(im.size[1])
    except Exception:  # noqa: BLE001 - load_image reports the real error with its reason code
        return None


def decode_for_search(source: ImageSource | bytes, min_side: int) -> LoadedImage:
    """Decode at the largest power-of-two reduction (JPEG DCT scaling) whose longer side is >= ``min_side``.

    Asking the decoder for exactly ``original / 2**k`` avoids a resize after
    decoding: a 12 MP JPEG comes out at 1000 x 750 in ~30 ms.
    """
    if isinstance(source, np.ndarray):
        return load_image(source, max_side=None)
    size = _header_size(source) if isinstance(source, bytes) else None
    if size is None:
        return load_image(source, max_side=min_side)
    longest = max(size)
    factor = 1
    for k in (8, 4, 2):
        if longest / k >= min_side:
            factor = k
            break
    return load_image(source, max_side=math.ceil(longest / factor) if factor > 1 else None)


def read_image_source(image: ImageSource) -> ImageSource | bytes:
    """Paths and buffers as bytes (read once, with media's size caps); arrays unchanged."""
    if isinstance(image, np.ndarray):
        return image
    return read_source_bytes(image, MEDIA.max_file_bytes)


def _full_frame(loaded: LoadedImage, cfg: DocumentConfig, require_mrz: bool = False) -> CardLocation | None:
    """A scan or crop of the card alone (no background): the whole frame, if its content is a known card.

    ``require_mrz``: only an MRZ read in place (2+ lines) counts, not colour cues alone.
    """
    from idverify.document.side import classify_card

    pix = loaded.pixels
    h, w = pix.shape[:2]
    aspect = max(w, h) / min(w, h)
    if _aspect_error(aspect) > 0.1 or float(pix[::4, ::4].std()) < 20.0:
        return None
    if h > w:
        pix = np.ascontiguousarray(np.rot90(pix))
        h, w = w, h
    verdict = classify_card(pix)
    if verdict.card_type is None or verdict.score < FULL_FRAME_MIN_SIDE or verdict.label == BY_ELIMINATION:
        return None  # the old card's verso is the classifier's weakest, by-elimination answer
    if require_mrz and verdict.cues.get("mrz_lines", 0.0) < 2:
        return None
    from idverify.document.template import zone_tests

    layout = layout_for(verdict.card_type, verdict.side)
    tests = zone_tests(pix[::-1, ::-1] if verdict.rotated_180 else pix, layout) if layout is not None else {}
    if tests and sum(tests.values()) < 0.5 * len(tests):
        return None  # the cues matched by chance (noise, a photo): the zones do not hold what they should
    if verdict.rotated_180:
        pix = np.ascontiguousarray(pix[::-1, ::-1])
    corners_dec = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    if loaded.pixels.shape[0] > loaded.pixels.shape[1]:  # back to the frame's orientation
        corners_dec = np.array([[0, w], [0, 0], [h, 0], [h, w]], np.float64)
    if verdict.rotated_180:
        corners_dec = np.roll(corners_dec, 2, axis=0)
    size = rectified_size(verdict.card_type, cfg)
    rect = cv2.resize(pix, size, interpolation=cv2.INTER_AREA if w > size[0] else cv2.INTER_CUBIC)
    ow, oh = loaded.original_size
    return CardLocation(True, None, corners=corners_dec / loaded.scale, rectified=rect, score=0.0, aspect=aspect,
                        card_type=verdict.card_type, side=verdict.side, side_score=verdict.score,
                        rotated_180=verdict.rotated_180, image_size=(ow, oh), card_width_px=float(max(ow, oh)),
                        area_fraction=1.0, image=loaded, full_frame=True)


def _outline_contrast(corners: np.ndarray, gx: np.ndarray, gy: np.ndarray,
                      n: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """Points along the quad's outline and the gradient across the outline there (max within 2 px)."""
    pts, q, nrm = _across_sides(corners, np.linspace(0.0, 1.0, n, endpoint=False))
    h, w = gx.shape
    xs = np.clip(np.round(q[..., 0]).astype(np.intp), 0, w - 1)
    ys = np.clip(np.round(q[..., 1]).astype(np.intp), 0, h - 1)
    across = np.abs(gx[ys, xs] * nrm[:, None, None, 0] + gy[ys, xs] * nrm[:, None, None, 1])
    return pts.reshape(-1, 2), across.max(axis=2).reshape(-1)


def _seen_aspect(q: Quad) -> Aspect:
    """What the capture tells of the card's aspect, for the classifier: the range over phone focal lengths (a steep
    view's aspect depends on the focal length), else the estimate, else nothing."""
    if q.aspect_range is not None:
        return q.aspect_range
    return q.aspect if q.aspect > 0 else None


def _prefer_nested_card(small: np.ndarray, best: Quad, quads: list[Quad], cfg: DocumentConfig) -> Quad:
    """A candidate inside ``best`` that is the card, when ``best`` is the card plus what it lies on.

    A card lying across a white sheet can make the outline of card + sheet a
    clean quadrilateral of card aspect. The card's own edge then runs
    through that outline's interior, and the part of the outline beyond the
    card is paper or background: a much fainter boundary than the card's
    edge (a printed band inside a card, such as the old card's blue banner,
    is the other way round: the card's outline beyond it is the strong one).
    The inner candidate is taken when its edge inside ``best`` is at least
    ``1 / cfg.nested_edge_ratio`` times stronger than ``best``'s outline
    beyond it and the classifier reads it as the same card side, about as
    surely (a zone of the card, such as the portrait, reads otherwise).
    """
    from idverify.document.side import classify_card

    outer = best.corners.astype(np.float32).reshape(-1, 1, 2)
    tol = 0.012 * max(small.shape[:2])
    inner = [q for q in quads if q is not best and cfg.nested_min_area * best.area_fraction <= q.area_fraction
             < 0.97 * best.area_fraction
             and min(cv2.pointPolygonTest(outer, (float(x), float(y)), True) for x, y in q.corners) >= -tol]
    if not inner:
        return best
    gx, gy = colour_gradients(small)  # the gradients find_quads scored the outlines on
    size = (512, round(512 / ID1_ASPECT))
    verdict_best = None
    pts_o, mag_o = _outline_contrast(best.corners, gx, gy)
    for q in inner:
        pts_i, mag_i = _outline_contrast(q.corners, gx, gy)
        cand = q.corners.astype(np.float32).reshape(-1, 1, 2)
        beyond = np.array([abs(cv2.pointPolygonTest(cand, (float(x), float(y)), True)) > tol for x, y in pts_o])
        inside = np.array([abs(cv2.pointPolygonTest(outer, (float(x), float(y)), True)) > tol for x, y in pts_i])
        if beyond.sum() < 8 or inside.sum() < 8:
            continue
        if float(np.median(mag_o[beyond])) >= cfg.nested_edge_ratio * float(np.median(mag_i[inside])):
            continue
        if verdict_best is None:  # classified only when an inner edge stands out (rare: it costs ~5 ms)
            verdict_best = classify_card(warp_card(small, best.corners, size),
                                         aspect=_seen_aspect(best))
        if verdict_best.card_type is None:
            return best
        verdict = classify_card(warp_card(small, q.corners, size), aspect=_seen_aspect(q))
        if verdict.label == verdict_best.label and verdict.score >= verdict_best.score - 0.1:
            return q
    return best


def _extra_candidates(small: np.ndarray, maps: EdgeMaps, cfg: DocumentConfig, outlines: list[np.ndarray]) -> list[Quad]:
    """Candidates from elsewhere than the edge search (outlines seeded by the print,
    :mod:`idverify.document.print_seeds`; a quad an earlier search turned down for its size), scored like the
    others; the ``EXTRA_KEPT`` best that pass the search's filters, one per place."""
    h, w = small.shape[:2]
    default_f = cfg.focal_factor * max(w, h)
    prior = focal_prior(cfg)
    scored = [_score_quad(order_corners(q), (maps[2], maps[3], 24.0), (w, h), default_f, cfg.border_side_support,
                          prior) for q in outlines]
    kept: list[Quad] = []
    for q in sorted((q for q in scored if q is not None), key=lambda q: -q.score):
        if (q.support >= cfg.min_edge_support and q.aspect_error <= cfg.max_aspect_error and not q.touches_border
                and q.area_fraction >= cfg.min_area_fraction
                and all(_overlap(q.corners, k.corners) < 0.9 for k in kept)):
            kept.append(q)
    return kept[:EXTRA_KEPT]


def _pick_by_content(small: np.ndarray, quads: list[Quad], extra: Sequence[Quad] = ()) -> tuple[Quad, SideVerdict]:
    """Among close candidates (``quads`` the edges outlined, then ``extra`` ones: see :func:`_extra_candidates`),
    the one whose content looks most like a known card (then the larger), with the classifier's verdict on it.

    A print seed can stop at a line printed inside the card: a candidate the edges outlined that reads as the same
    card side about as surely, with its sides on edges at least as well, is taken instead.
    """
    from idverify.document.side import classify_card

    read = [(q, classify_card(warp_card(small, q.corners, (512, round(512 / ID1_ASPECT))))) for q in [*quads, *extra]]
    best, verdict = max(read, key=lambda qv: qv[0].score + (0.6 * qv[1].score if qv[1].card_type is not None else 0.0)
                        + 0.3 * math.sqrt(qv[0].area_fraction))
    if any(best is q for q in extra):
        same = [(q, v) for q, v in read[:len(quads)] if v.label == verdict.label
                and v.score >= verdict.score - EXTRA_READ_MARGIN and q.support >= best.support]
        if same:
            return max(same, key=lambda qv: qv[0].support)
    return best, verdict


# ------------------------------------------------------------------------------------- public


def locate_card(image: ImageSource | LoadedImage, *, cfg: DocumentConfig = DOCUMENT, classify: bool = True,
                min_source_width: float | None = None) -> CardLocation:
    """Find the card in ``image``; rectify it upright at a fixed resolution.

    When the card spans fewer than ``min_source_width`` pixels of the
    reduced decode (default ``cfg.min_warp_source_width``; 0 = never), the
    photo is decoded again larger before warping (for OCR).

    The first search looks for a card of at least ``cfg.small_card_area``
    of the frame. When it finds none, finds one cut off by the frame, takes
    the whole frame for a scan, or (with ``classify``) finds a quad that
    reads as no known card or only by elimination (the old card's verso),
    the photo is searched again at ``cfg.small_card_search_side`` for a card
    down to ``cfg.min_area_fraction``: a card 15 % of the frame wide has
    edges a few pixels long at the first size, and a larger object (a sheet,
    a coaster) may have been taken for it. A named card under
    ``cfg.recheck_area`` of the frame whose outline is not whole (edge support
    under ``cfg.outlined_support``) is searched again too, and replaced only
    by the same card side outlined whole. That finer search also reads
    outlines seeded by the card's print (:mod:`idverify.document.print_seeds`:
    a small card across a sheet may have no closed outline). A card the
    first search turned down for its size alone is looked for again at the
    first size, down to the smallest card, when the finer search names none.

    Expected failures come back as ``found=False`` with a reason code
    (``card_not_found``, ``card_cut_off``, ``card_too_small``); undecodable
    input raises :class:`~idverify.errors.InputError`.
    """
    source = image if isinstance(image, LoadedImage) else read_image_source(image)
    if isinstance(source, LoadedImage) or cfg.search_side >= cfg.small_card_search_side:
        return _locate_once(source, cfg, classify, min_source_width)  # one search, at the given size
    # first at the usual size for a card of at least small_card_area (smaller candidates at this size are
    # mostly zones, strips of a ruled sheet, coins)
    coarse = dataclasses.replace(cfg, min_area_fraction=max(cfg.min_area_fraction, cfg.small_card_area))
    first = _locate_once(source, coarse, classify, min_source_width)
    lost = first.reason in ("card_not_found", "card_too_small")
    unnamed = classify and first.found and _unnamed(first)  # a blank quad (a sheet) reads so too
    # a small card whose outline at this size is not whole may have merged with what lies around it (a
    # patterned background, a sheet's corner beside an edge): at the finer size its edges part
    partial = (classify and first.found and not first.full_frame and first.area_fraction < cfg.recheck_area
               and first.edge_support < cfg.outlined_support)
    if not (lost or unnamed or partial or first.full_frame or first.reason == "card_cut_off"):
        return first
    finer = dataclasses.replace(cfg, search_side=cfg.small_card_search_side,
                                decode_side=cfg.decode_side * cfg.small_card_search_side // cfg.search_side)
    # a scan of the card alone has print all over the frame: its seeds would be zones of the card
    again = _locate_once(source, finer, classify, min_source_width, by_content=True, seeds=not first.full_frame)
    if partial and not unnamed:
        # only the same card side, outlined whole, over the same place replaces a named card
        same = (again.found and again.card_type == first.card_type and again.side == first.side
                and again.edge_support >= cfg.outlined_support and _overlap(first.corners, again.corners) >= 0.5)
        return again if same else first
    if classify and first.reason == "card_too_small" and first.area_fraction >= cfg.min_area_fraction \
            and (not again.found or _unnamed(again)):
        # the first search turned its card down for its size alone, and the finer one found none or names none (a
        # card's faint edge over a sheet may not close at that size; the sheet is read by elimination or not at
        # all): the first size again, down to the smallest card, its candidates picked by content, wins with a
        # better reading
        near = _locate_once(source, cfg, classify, min_source_width, by_content=True, keep=first.corners)
        if near.found and (not again.found or _reading_rank(near) > _reading_rank(again)):
            return near
    # the finer search wins with a card it can name (or any card, when the first found none); over a quad the
    # first search outlined, only with a small card (the one that search could not consider) or with the same
    # quad, read better, or with a card lying on the first search's quad (a card on the sheet it outlined), or with
    # a card it names surely where the first search named none (a sheet read by elimination beside the card)
    named = again.card_type is not None or not classify or lost
    if again.found and named and (not first.found or (first.full_frame and not again.full_frame)
                                  or again.area_fraction < cfg.small_card_area
                                  or _overlap(first.corners, again.corners) >= 0.9
                                  or (_reading_rank(again) >= _reading_rank(first)
                                      and _lies_on(again.corners, first.corners))
                                  or (_unnamed(first) and _reading_rank(again) == 2
                                      and again.side_score >= cfg.sure_side_score)):
        return again
    return first


def _reading_rank(loc: CardLocation) -> int:
    """2 for a card named by its content, 1 for a reading by elimination, 0 for none."""
    return 0 if loc.card_type is None else 1 if loc.label == BY_ELIMINATION else 2


def _unnamed(loc: CardLocation) -> bool:
    """No card type read, or only by elimination (the old card's verso: a blank sheet reads so too)."""
    return loc.card_type is None or loc.label == BY_ELIMINATION


def _lies_on(inner: np.ndarray | None, outer: np.ndarray | None) -> bool:
    """Whether the quad ``inner`` lies mostly within ``outer`` (three quarters of it: a card on a sheet often
    overhangs it), at most ``NESTED_SHARE`` of its area: a card on the sheet the first search outlined."""
    if inner is None or outer is None:
        return False
    a, b = inner.astype(np.float32), outer.astype(np.float32)
    inter, _ = cv2.intersectConvexConvex(a, b)
    area_in, area_out = cv2.contourArea(a), cv2.contourArea(b)
    return area_in > 0 and inter >= 0.75 * area_in and area_in <= NESTED_SHARE * area_out


def _overlap(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Intersection over union of two convex quads (0 when either is missing)."""
    if a is None or b is None:
        return 0.0
    pa, pb = a.astype(np.float32), b.astype(np.float32)
    inter, _ = cv2.intersectConvexConvex(pa, pb)
    union = cv2.contourArea(pa) + cv2.contourArea(pb) - inter
    return float(inter / union) if union > 0 else 0.0


def _locate_once(image: ImageSource | LoadedImage | bytes, cfg: DocumentConfig, classify: bool,
                 min_source_width: float | None, by_content: bool = False, seeds: bool = False,
                 keep: np.ndarray | None = None) -> CardLocation:
    """One search at ``cfg.search_side`` (see :func:`locate_card`).

    ``by_content``: the content picks among the best candidates whatever their outline scores (the search
    again, after the first found no card it could name: a small card on a sheet scores below the sheet);
    ``seeds``: outlines seeded by the print are candidates too; so is ``keep`` (corners in the photo's pixels), a
    quad an earlier search turned down for its size alone (:func:`_extra_candidates`).
    """
    source: ImageSource | bytes | None = None
    if isinstance(image, LoadedImage):
        loaded = image
    else:
        source = image
        loaded = decode_for_search(source, cfg.decode_side)
    ow, oh = loaded.original_size
    pix = loaded.pixels
    h, w = pix.shape[:2]
    s = cfg.search_side / max(w, h)
    small = pix
    if s < 1:
        small = cv2.resize(pix, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    s = small.shape[1] / w
    maps = _edge_maps(small)
    quads = find_quads(small, cfg, maps=maps)
    good = [q for q in quads if q.support >= cfg.min_edge_support and q.aspect_error <= cfg.max_aspect_error
            and not q.touches_border]
    # a faint edge (a white card on a white sheet) may be missing from the first edge map; so may a card's
    # side over a sheet when the best whole quad is a zone (a portrait) inside a larger card-shaped outline
    # that the sheet runs into the frame
    enclosed = bool(good) and any(q.touches_border and q.area_fraction > 2.0 * good[0].area_fraction
                                  and cv2.pointPolygonTest(q.corners.astype(np.float32),
                                                           tuple(map(float, good[0].corners.mean(axis=0))), False) > 0
                                  for q in quads)
    if (not good or enclosed or good[0].area_fraction < cfg.min_area_fraction
            or good[0].support < cfg.resensitive_support):
        quads = find_quads(small, cfg, sensitive=True, line_quads=not good) + quads
        quads.sort(key=lambda q: -q.score)
        good = [q for q in quads if q.support >= cfg.min_edge_support and q.aspect_error <= cfg.max_aspect_error
                and not q.touches_border]
    # the print seeds outlines the edges may not close (a small card across a sheet); the content pick reads them,
    # and the quad an earlier search turned down for its size alone
    extra = print_seeded_outlines(small) if seeds and classify else []
    if keep is not None and classify:
        extra.append(keep * (loaded.scale * s))
    extra_quads = _extra_candidates(small, maps, cfg, extra) if extra else []
    edge_quads = good
    if extra_quads:
        good = sorted(good + extra_quads, key=lambda q: -q.score)
    if classify and not good:
        # a scan or crop of the card alone (no edge to find): the whole frame, if it reads as a card
        scan = _full_frame(loaded, cfg)
        if scan is not None:
            return scan
    cut = find_cut_off(small, cfg) if not good else None
    if cut is not None and classify and (scan := _full_frame(loaded, cfg)) is not None:
        return scan  # a scan of the card alone touches the frame everywhere: not a cut-off card
    if cut is not None:
        return CardLocation(False, "card_cut_off", score=0.0, image_size=(ow, oh), area_fraction=cut[1],
                            image=loaded)
    if not good:
        return CardLocation(False, "card_not_found", score=quads[0].score if quads else 0.0,
                            edge_support=quads[0].support if quads else 0.0, image_size=(ow, oh), image=loaded)
    gray = cv2.cvtColor(pix, cv2.COLOR_RGB2GRAY)
    gmag = cv2.magnitude(cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3))
    best = good[0]
    if len(good) > 1 and classify and (by_content or good[1].score >= best.score - 0.35):
        best, verdict = _pick_by_content(small, edge_quads[:5 if by_content else 3], extra_quads)
        if verdict.confidence < cfg.sure_side_score:
            # close candidates, none read surely as a card: the card's outline may have merged with what it lies
            # on (a sheet's edge closing the contour); its four straight edges still make a quad of lines
            lined = [q for q in find_quads(small, cfg, lines_only=True, maps=maps) if q.support >= cfg.min_edge_support
                     and q.aspect_error <= cfg.max_aspect_error and not q.touches_border
                     and q.area_fraction >= cfg.min_area_fraction]
            other, other_verdict = _pick_by_content(small, [best, *lined[:3]]) if lined else (best, verdict)
            if other_verdict.score >= cfg.sure_side_score:  # named surely (a read by elimination never is)
                best = other
            elif good[0].support >= cfg.outlined_support:
                best = good[0]  # none reads surely: a complete outline decides, not a weak read
    if classify and len(good) > 1:
        best = _prefer_nested_card(small, best, edge_quads, cfg)
    corners_dec = refine_outline(pix, best.corners / s, gmag, s)
    corners = corners_dec * (1.0 / loaded.scale)
    card_w = card_width(corners, best.aspect if best.aspect > 0 else ID1_ASPECT)
    base = CardLocation(False, None, corners=corners, score=best.score, edge_support=best.support,
                        aspect=best.aspect, image_size=(ow, oh),
                        card_width_px=card_w, area_fraction=best.area_fraction, image=loaded)
    if best.touches_border or runs_off_frame(corners, (ow, oh), cfg):
        return dataclasses.replace(base, reason="card_cut_off")
    if best.area_fraction < cfg.min_area_fraction or card_w < cfg.min_card_px:
        scan = _full_frame(loaded, cfg) if classify else None
        return scan if scan is not None else dataclasses.replace(base, reason="card_too_small")
    # decode again, larger, when the card is small in the decode
    work = loaded
    min_w = cfg.min_warp_source_width if min_source_width is None else min_source_width
    if card_w * loaded.scale < min_w and loaded.scale < 1.0 and source is not None:
        want = min_w / card_w
        work = decode_for_search(source, math.ceil(max(ow, oh) * min(1.0, want)))
    src = corners * work.scale
    if classify:
        from idverify.document.side import classify_card  # content decides the 180° turn and the type

        thumb_size = (256, round(256 / ID1_ASPECT))
        thumb = warp_card(work.pixels, src, thumb_size)
        verdict = classify_card(thumb, aspect=_seen_aspect(best))
        # read weakly: a reading by elimination barely over the "unknown" bar is one too (a block of text)
        weakly = verdict.confidence < (0.7 if verdict.label == BY_ELIMINATION else 0.55)
        if weakly and best.area_fraction < 0.25:
            # an inner zone (a portrait, a block of text) of a card that runs off the frame?
            cut = find_cut_off(small, cfg)
            if cut is not None and cut[1] > 1.5 * best.area_fraction and cv2.pointPolygonTest(
                    cut[0].astype(np.float32), tuple(map(float, best.corners.mean(axis=0))), False) >= 0:
                return CardLocation(False, "card_cut_off", score=0.0, image_size=(ow, oh), area_fraction=cut[1],
                                    image=loaded)
        weak = verdict.card_type is None or verdict.score < 0.6  # unknown or doubtful: a scan with an MRZ?
        # a card's whole outline, every side on an edge, that reads as a card: not a zone of a scan
        outlined = (best.support >= cfg.outlined_support and verdict.card_type is not None
                    and verdict.confidence >= 0.55)
        if not outlined and ((best.area_fraction < 0.2 and (verdict.card_type is None or verdict.score < 0.9))
                             or weak):
            # the rectangle found may be a zone of a scanned card (its portrait, a frame): try the whole frame
            scan = _full_frame(loaded, cfg, require_mrz=best.area_fraction >= 0.2)
            if (scan is not None and scan.side_score > (verdict.score if verdict.card_type else 0.0) + 0.1
                    and (best.area_fraction < 0.2 or scan.side_score >= 0.9)):
                return scan
        if verdict.rotated_180:
            corners = np.roll(corners, 2, axis=0)
            src = np.roll(src, 2, axis=0)
        rect = warp_card(work.pixels, src, rectified_size(verdict.card_type, cfg))
        return dataclasses.replace(base, found=True, corners=corners, rectified=rect, card_type=verdict.card_type,
                                   side=verdict.side, side_score=verdict.score, rotated_180=verdict.rotated_180,
                                   image=work)
    rect = warp_card(work.pixels, src, rectified_size(None, cfg))
    return dataclasses.replace(base, found=True, rectified=rect, image=work)


__all__ = ["FULL_FRAME_MIN_SIDE", "CardLocation", "Quad", "aspects_over_focals", "card_width", "find_quads",
           "focal_prior", "layout_for", "locate_card", "order_corners", "rectangle_aspect", "rectified_size",
           "runs_off_frame", "warp_card"]
