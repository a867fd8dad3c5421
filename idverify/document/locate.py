"""Find a card in a photo and rectify it.

The search runs on a reduced copy (``DocumentConfig.search_side`` pixels;
again at ``small_card_search_side`` when the card found is small or none is):
card-shaped quadrilaterals (:mod:`idverify.document.quads`), the card among
them chosen by outline and, when several are close, by content
(:mod:`idverify.document.side`), each side then refined on a larger decode
(:mod:`idverify.document.outline`: rounded corners are skipped, so the
corner is where the straight edges meet). The 180° ambiguity is resolved
from the content.

>>> import numpy as np
>>> loc = locate_card(np.full((480, 640, 3), 128, np.uint8))
>>> loc.found, loc.reason
(False, 'card_not_found')
"""

from __future__ import annotations

import dataclasses
import functools
import io
import math
from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image

from idverify.config import DOCUMENT, MEDIA, DocumentConfig
from idverify.document.layout import CardLayout, CardType, get_layout
from idverify.document.outline import colour_gradients, polish_outline, refine_outline
from idverify.document.print_seeds import WIDE_POLISH_WINDOW, print_regions, print_seeded_outlines
from idverify.document.quads import (
    CNI_1995_ASPECT,
    ID1_ASPECT,
    EdgeMaps,
    Quad,
    across_sides,
    aspect_error,
    aspect_range,
    card_width,
    edge_maps,
    find_cut_off,
    find_quads,
    focal_prior,
    lab_gradients,
    order_corners,
    quad_overlap,
    runs_off_frame,
    score_quad,
    warp_card,
)
from idverify.document.side import BY_ELIMINATION, UNKNOWN, Aspect, SideVerdict, read_confidence
from idverify.document.template import missing_key_zones, zone_tests
from idverify.media import ImageSource, LoadedImage, load_image, read_source_bytes, sniff_image_format

FULL_FRAME_MIN_SIDE = 0.55  # side score for the whole frame to be taken as a scan of the card alone
NESTED_SHARE = 0.7  # a quad within another and at most this share of its area lies on it (a card on a sheet)
EXTRA_KEPT = 4  # candidates from elsewhere than the edges the content pick also reads, after the best ...
EXTRA_READ_MARGIN = 0.05  # ... unless an outlined candidate reads as the same side this nearly as surely
OUTLINE_GAIN = 0.1  # edge support by which the finer search's outline beats a poor one of the same card side
_READ_SIZE = (512, round(512 / ID1_ASPECT))  # a candidate warped to this size for the classifier to read


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

    @property
    def confidence(self) -> float:
        """The side score as a share of the most its label's rule can give (:attr:`SideVerdict.confidence`)."""
        return read_confidence(self.label, self.side_score)

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
    if aspect_error(aspect) > 0.1 or float(pix[::4, ::4].std()) < 20.0:
        return None
    if h > w:
        pix = np.ascontiguousarray(np.rot90(pix))
        h, w = w, h
    verdict = classify_card(pix)
    if verdict.card_type is None or verdict.score < FULL_FRAME_MIN_SIDE or verdict.label == BY_ELIMINATION:
        return None  # the old card's verso is the classifier's weakest, by-elimination answer
    if require_mrz and verdict.cues.get("mrz_lines", 0.0) < 2:
        return None
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
    pts, q, nrm = across_sides(corners, np.linspace(0.0, 1.0, n, endpoint=False))
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
    surely, its key zones holding as well (:func:`_template_fit`; a zone of
    the card, such as the portrait, reads otherwise; a CNIe's verso cut above
    its MRZ reads the same but has no MRZ band).
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
    size = _READ_SIZE
    verdict_best, fit_best = None, 0.0
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
            warp_best = warp_card(small, best.corners, size)
            verdict_best = classify_card(warp_best, aspect=_seen_aspect(best))
            fit_best = _template_fit(warp_best, verdict_best)
        if verdict_best.card_type is None:
            return best
        warp = warp_card(small, q.corners, size)
        verdict = classify_card(warp, aspect=_seen_aspect(q))
        if (verdict.label == verdict_best.label and verdict.score >= verdict_best.score - 0.1
                and _template_fit(warp, verdict) >= fit_best):
            return q
    return best


def _card_on_unnamed(small: np.ndarray, best: Quad, quads: list[Quad], cfg: DocumentConfig) -> Quad:
    """A card lying on ``best`` when no cue names ``best`` (a sheet reads as unknown, or by elimination when the
    card's text lies within it): a candidate lying on it (:func:`_lies_on`), every side on an edge
    (``cfg.outlined_support``), that reads as a card (by elimination at least)."""
    from idverify.document.side import classify_card

    inner = [q for q in quads if q is not best and q.support >= cfg.outlined_support
             and q.area_fraction >= cfg.min_area_fraction and _lies_on(q.corners, best.corners)]
    if not inner:
        return best
    if not _unnamed(classify_card(warp_card(small, best.corners, _READ_SIZE), aspect=_seen_aspect(best))):
        return best
    for q in sorted(inner, key=lambda q: -q.score):
        if classify_card(warp_card(small, q.corners, _READ_SIZE), aspect=_seen_aspect(q)).card_type is not None:
            return q
    return best


def _usable(q: Quad, cfg: DocumentConfig) -> bool:
    """A candidate the search considers: its sides on edges, a card's aspect, whole inside the frame."""
    return q.support >= cfg.min_edge_support and q.aspect_error <= cfg.max_aspect_error and not q.touches_border


def _extra_candidates(small: np.ndarray, maps: EdgeMaps, cfg: DocumentConfig, outlines: list[np.ndarray]) -> list[Quad]:
    """Candidates from elsewhere than the edge search (outlines seeded by the print,
    :mod:`idverify.document.print_seeds`; a quad an earlier search turned down for its size), scored like the
    others; the ``EXTRA_KEPT`` best that pass the search's filters, one per place."""
    h, w = small.shape[:2]
    default_f = cfg.focal_factor * max(w, h)
    prior = focal_prior(cfg)
    scored = [score_quad(order_corners(q), (maps[2], maps[3], 24.0), (w, h), default_f, cfg.border_side_support,
                          prior) for q in outlines]
    kept: list[Quad] = []
    for q in sorted((q for q in scored if q is not None), key=lambda q: -q.score):
        if (_usable(q, cfg) and q.area_fraction >= cfg.min_area_fraction
                and all(quad_overlap(q.corners, k.corners) < 0.9 for k in kept)):
            kept.append(q)
    return kept[:EXTRA_KEPT]


def _pick_by_content(small: np.ndarray, quads: list[Quad], extra: Sequence[Quad] = (),
                     cfg: DocumentConfig = DOCUMENT) -> tuple[Quad, SideVerdict]:
    """Among close candidates (``quads`` the edges outlined, then ``extra`` ones: see :func:`_extra_candidates`),
    the one whose content looks most like a known card (then the larger), with the classifier's verdict on it.

    A reading counts in full when the key zones of the side it names hold what they must, else only as far as that
    side's zones do (:func:`_template_fit`): an outline taking in a strip of the table along a side can read as
    another card (a blue strip along the top as the old card's banner) but has that card's portrait and MRZ nowhere.
    A print seed can stop at a line printed inside the card: a candidate the edges outlined that reads as the same
    card side about as surely, with its sides on edges at least as well, is taken instead. A pick that does not
    read surely gives way to a candidate outlined whole that does, or that names a card where the pick names none:
    a blank sheet's outline can outscore a small card's on its edges alone.
    """
    from idverify.document.side import classify_card

    candidates = [*quads, *extra]
    read: dict[int, tuple[SideVerdict, np.ndarray]] = {}

    def reading(i: int) -> tuple[SideVerdict, np.ndarray]:
        if i not in read:
            warp = warp_card(small, candidates[i].corners, _READ_SIZE)
            read[i] = (classify_card(warp), warp)
        return read[i]

    def rank(q: Quad, score: float, fit: float) -> float:
        return q.score + 0.6 * score * fit + 0.3 * math.sqrt(q.area_fraction)

    @functools.cache
    def valued(i: int) -> float:
        """Candidate ``i``'s rank, its reading counted as far as the template holds."""
        v, warp = reading(i)
        return rank(candidates[i], v.score, _template_fit(warp, v))

    # a reading scores at most 1 and the template can only lower it: candidates are read from the highest rank they
    # could reach down, as far as one could still win, and the template checked as far as a reading could still win
    # (a check costs about a third of a reading)
    best_i, best_rank = 0, -math.inf
    for i in sorted(range(len(candidates)), key=lambda i: rank(candidates[i], 1.0, 1.0), reverse=True):
        q = candidates[i]
        if rank(q, 1.0, 1.0) <= best_rank:
            break
        v, _ = reading(i)
        if rank(q, v.score, 0.0 if v.card_type is None else 1.0) <= best_rank:
            continue
        value = valued(i)
        if value > best_rank:
            best_i, best_rank = i, value
    best, verdict = candidates[best_i], reading(best_i)[0]
    if not _reads_surely(verdict, cfg):
        # an outline that won on its edges alone (a blank sheet) gives way to one outlined whole that reads surely
        # as a card, or names one where the pick names none (a small card's MRZ and chip blur to half marks)
        sure = [i for i, (v, _) in read.items() if candidates[i].support >= cfg.outlined_support
                and (_reads_surely(v, cfg) or (verdict.card_type is None and _reading_rank(v) == 2))]
        if sure:
            best_i = max(sure, key=valued)
            best, verdict = candidates[best_i], read[best_i][0]
    if best_i >= len(quads):
        same = [(q, v) for q, v in ((q, reading(i)[0]) for i, q in enumerate(quads)) if v.label == verdict.label
                and v.score >= verdict.score - EXTRA_READ_MARGIN and q.support >= best.support]
        if same:
            return max(same, key=lambda qv: qv[0].support)
    return best, verdict


def _reads_surely(reading: CardLocation | SideVerdict, cfg: DocumentConfig = DOCUMENT) -> bool:
    """Whether ``reading`` names a card surely: its score at least ``cfg.sure_side_score`` of the most its label's
    rule gives (a read by elimination at full marks is sure; an "unknown" verdict, whose score is its doubt, never
    is)."""
    return reading.confidence >= cfg.sure_side_score


def _template_fit(warp: np.ndarray, verdict: SideVerdict) -> float:
    """How far a reading holds: 1 when the key zones of the card side ``verdict`` reads (its MRZ band, its portrait:
    :data:`~idverify.document.template.KEY_ZONES`) hold what they must, else the share of its zones that do (see
    :func:`~idverify.document.template.zone_tests`); 0 for no card. A blurred small card fails finer zones (a 2D
    code, a date) but keeps its MRZ and portrait."""
    layout = layout_for(verdict.card_type, verdict.side)
    if layout is None:
        return 0.0
    tests = zone_tests(warp[::-1, ::-1] if verdict.rotated_180 else warp, layout)
    if not tests or not missing_key_zones(tests):
        return 1.0
    return sum(tests.values()) / len(tests)


# ------------------------------------------------------------------------------------- public


def locate_card(image: ImageSource | LoadedImage, *, cfg: DocumentConfig = DOCUMENT, classify: bool = True,
                min_source_width: float | None = None) -> CardLocation:
    """Find the card in ``image``; rectify it upright at a fixed resolution.

    When the card spans fewer than ``min_source_width`` pixels of the
    reduced decode (default ``cfg.min_warp_source_width``; 0 = never), the
    photo is decoded again larger before warping (for OCR). A card under
    ``cfg.sharp_min_card_px`` is decoded again to span ``cfg.sharp_card_px``
    (as far as the photo allows) whatever ``min_source_width`` says: its
    sides are polished again there, where an edge a pixel or two off in the
    decode is a fraction of a per cent of the card, and it is read there.

    The first search looks for a card of at least ``cfg.small_card_area``
    of the frame. When it finds none, finds one cut off by the frame, takes
    the whole frame for a scan, or (with ``classify``) finds a quad that
    reads as no known card or only by elimination (the old card's verso),
    the photo is searched again at ``cfg.small_card_search_side`` for a card
    down to ``cfg.min_area_fraction``: a card 15 % of the frame wide has
    edges a few pixels long at the first size, and a larger object (a sheet,
    a coaster) may have been taken for it. A named card is searched again
    too when its outline is not whole (edge support under
    ``cfg.outlined_support``) and it is under ``cfg.recheck_area`` of the
    frame, or when its outline is not quite whole (under
    ``cfg.recheck_support``) and it reads short of full marks (under
    ``cfg.recheck_score``: a sheet's edge under a side skews the aspect); it
    is replaced only by the same card side over the same place, outlined
    whole (or, when its own outline was poor, clearly better), or by a card
    named surely and outlined whole that lies on its quad (the quad took in
    what the card lies on) or replaces a reading that was not sure. That finer
    search also reads outlines seeded by the card's print
    (:mod:`idverify.document.print_seeds`: a small card across a sheet may
    have no closed outline). A card the first search turned down for its
    size alone is looked for again at the first size, down to the smallest
    card, when the finer search names none, or names the card there but
    outlines it worse than the first search did (by ``OUTLINE_GAIN``); it
    wins with a better reading, or with one as good, outlined whole, lying
    on the finer search's quad (the sheet the card lies on, read by
    elimination like the card). The card is read with the aspect its
    polished outline shows.

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
    # a small card whose outline at this size is not whole may have merged with what lies around it (a patterned
    # background, a sheet's corner beside an edge); so may a larger one read short of full marks (a cue weak, or the
    # aspect off: a sheet's edge under a side, a corner cut across the background): at the finer size edges part
    partial = (classify and first.found and not first.full_frame
               and ((first.area_fraction < cfg.recheck_area and first.edge_support < cfg.outlined_support)
                    or (first.edge_support < cfg.recheck_support and first.side_score < cfg.recheck_score)))
    if not (lost or unnamed or partial or first.full_frame or first.reason == "card_cut_off"):
        return first
    finer = dataclasses.replace(cfg, search_side=cfg.small_card_search_side,
                                decode_side=cfg.decode_side * cfg.small_card_search_side // cfg.search_side)
    # a scan of the card alone has print all over the frame: its seeds would be zones of the card
    again = _locate_once(source, finer, classify, min_source_width, by_content=True, seeds=not first.full_frame)
    if partial and not unnamed:
        # only the same card side over the same place, outlined whole (or clearly better), replaces a named card
        better = min(cfg.outlined_support, first.edge_support + OUTLINE_GAIN)
        same = (again.found and again.card_type == first.card_type and again.side == first.side
                and again.edge_support >= better and quad_overlap(first.corners, again.corners) >= 0.5)
        # ... or a card named surely and outlined whole, lying on the first search's quad (that quad took in what
        # the card lies on) or where the first search's reading was not sure (its quad was not the card)
        surer = (again.found and _reading_rank(again) == 2 and again.edge_support >= cfg.outlined_support
                 and _reads_surely(again, cfg)
                 and (_lies_on(again.corners, first.corners) or not _reads_surely(first, cfg)))
        return again if same or surer else first
    too_small = classify and first.reason == "card_too_small" and first.area_fraction >= cfg.min_area_fraction
    # the first search outlined the card whole and turned it down for its size alone; the finer one names the card
    # there but outlines it worse (a side on a sheet's edge at an angle)
    worse = (again.found and not _unnamed(again) and first.edge_support >= cfg.outlined_support
             and again.edge_support < first.edge_support - OUTLINE_GAIN
             and quad_overlap(first.corners, again.corners) >= 0.5)
    if too_small and (worse or not again.found or _unnamed(again)):
        # the first size again, down to the smallest card, its candidates picked by content (the quad turned down
        # among them). Over a worse outline it wins read as the same card side, outlined better; else (the finer
        # search found none or names none: a card's faint edge over a sheet may not close at that size, the sheet
        # is read by elimination or not at all) with a better reading
        near = _locate_once(source, cfg, classify, min_source_width, by_content=True, keep=first.corners)
        if worse:
            if (near.found and near.card_type == again.card_type and near.side == again.side
                    and near.edge_support > again.edge_support):
                return near
        elif near.found and (not again.found or _reading_rank(near) > _reading_rank(again)
                             or (_reading_rank(near) == _reading_rank(again) > 0
                                 and near.edge_support >= cfg.outlined_support
                                 and _lies_on(near.corners, again.corners))):
            return near  # read better, or as well and outlined whole on the finer search's quad (a card on a sheet)
    # the finer search wins with a card it can name (or any card, when the first found none); over a quad the
    # first search outlined, only with a small card (the one that search could not consider) or with the same
    # quad, read better, or with a card lying on the first search's quad (a card on the sheet it outlined), or with
    # a card it names surely where the first search named none (a sheet read by elimination beside the card), or
    # read none at all (then by elimination too, outlined whole: an old card's verso beside a sheet)
    named = again.card_type is not None or not classify or lost
    if again.found and named and (not first.found or (first.full_frame and not again.full_frame)
                                  or again.area_fraction < cfg.small_card_area
                                  or quad_overlap(first.corners, again.corners) >= 0.9
                                  or (_reading_rank(again) >= _reading_rank(first)
                                      and _lies_on(again.corners, first.corners))
                                  or (_unnamed(first) and _reads_surely(again, cfg)
                                      and (_reading_rank(again) == 2
                                           or (_reading_rank(first) == 0
                                               and again.edge_support >= cfg.outlined_support)))):
        return again
    return first


def _reading_rank(loc: CardLocation | SideVerdict) -> int:
    """2 for a card named by its content, 1 for a reading by elimination, 0 for none."""
    return 0 if loc.card_type is None else 1 if loc.label == BY_ELIMINATION else 2


def _unnamed(reading: CardLocation | SideVerdict) -> bool:
    """No card type read, or only by elimination (the old card's verso: a blank sheet reads so too)."""
    return reading.card_type is None or reading.label == BY_ELIMINATION


def _lies_on(inner: np.ndarray | None, outer: np.ndarray | None) -> bool:
    """Whether the quad ``inner`` lies mostly within ``outer`` (three quarters of it: a card on a sheet often
    overhangs it), at most ``NESTED_SHARE`` of its area: a card on the sheet the first search outlined."""
    if inner is None or outer is None:
        return False
    a, b = inner.astype(np.float32), outer.astype(np.float32)
    inter, _ = cv2.intersectConvexConvex(a, b)
    area_in, area_out = cv2.contourArea(a), cv2.contourArea(b)
    return area_in > 0 and inter >= 0.75 * area_in and area_in <= NESTED_SHARE * area_out


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
    gradients = lab_gradients(small)  # both edge thresholds' maps come from the same gradients
    maps = edge_maps(small, gradients=gradients)
    memo: dict[tuple[str, bytes], Quad | None] = {}  # candidates scored on these gradients
    quads = find_quads(small, cfg, maps=maps, memo=memo)
    good = [q for q in quads if _usable(q, cfg)]
    # a faint edge (a white card on a white sheet) may be missing from the first edge map; so may a card's
    # side over a sheet when the best whole quad is a zone (a portrait) inside a larger card-shaped outline
    # that the sheet runs into the frame
    enclosed = bool(good) and any(q.touches_border and q.area_fraction > 2.0 * good[0].area_fraction
                                  and cv2.pointPolygonTest(q.corners.astype(np.float32),
                                                           tuple(map(float, good[0].corners.mean(axis=0))), False) > 0
                                  for q in quads)
    if (not good or enclosed or good[0].area_fraction < cfg.min_area_fraction
            or good[0].support < cfg.resensitive_support):
        sensitive = edge_maps(small, sensitive=True, gradients=gradients)
        quads = find_quads(small, cfg, line_quads=not good, maps=sensitive, memo=memo) + quads
        quads.sort(key=lambda q: -q.score)
        good = [q for q in quads if _usable(q, cfg)]
    # the print seeds outlines the edges may not close (a small card across a sheet); the content pick reads them,
    # and the quad an earlier search turned down for its size alone
    regions = print_regions(small) if seeds and classify else []
    extra = print_seeded_outlines(small, regions=regions) if regions else []
    if keep is not None and classify:
        extra.append(keep * (loaded.scale * s))
    extra_quads = _extra_candidates(small, maps, cfg, extra) if extra else []
    if regions and not extra_quads:
        # no seed lands on a card's outline in the usual window: the print may stop far short of an edge
        extra_quads = _extra_candidates(small, maps, cfg, print_seeded_outlines(small, WIDE_POLISH_WINDOW, regions))
    edge_quads = good
    if extra_quads:
        good = sorted(good + extra_quads, key=lambda q: -q.score)
    if classify and not good:
        # a scan or crop of the card alone (no edge to find): the whole frame, if it reads as a card
        scan = _full_frame(loaded, cfg)
        if scan is not None:
            return scan
    cut = find_cut_off(small, cfg, maps[0]) if not good else None
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
        best, verdict = _pick_by_content(small, edge_quads[:5 if by_content else 3], extra_quads, cfg)
        if not _reads_surely(verdict, cfg):
            # close candidates, none read surely as a card: the card's outline may have merged with what it lies
            # on (a sheet's edge closing the contour); its four straight edges still make a quad of lines
            lined = [q for q in find_quads(small, cfg, lines_only=True, maps=maps, memo=memo)
                     if _usable(q, cfg) and q.area_fraction >= cfg.min_area_fraction]
            other, other_verdict = _pick_by_content(small, [best, *lined[:3]], (), cfg) if lined else (best, verdict)
            if _reads_surely(other_verdict, cfg):
                best = other
            elif good[0].support >= cfg.outlined_support and (best.support < cfg.outlined_support
                                                               or _unnamed(verdict)):
                best = good[0]  # none reads surely: a complete outline decides, not a weak read (unless both are)
    if classify and len(good) > 1:
        best = _prefer_nested_card(small, best, edge_quads, cfg)
        best = _card_on_unnamed(small, best, edge_quads, cfg)
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
    # decode again, larger, when the card is small in the decode: its sides polished again where they span more
    # pixels, and its warp read from there
    work = loaded
    min_w = cfg.min_warp_source_width if min_source_width is None else min_source_width
    if source is not None and loaded.scale < 1.0:
        polish_again = card_w * loaded.scale < cfg.sharp_min_card_px
        want = max(min_w, cfg.sharp_card_px if polish_again else 0.0)
        if card_w * loaded.scale < want:
            work = decode_for_search(source, math.ceil(max(ow, oh) * min(1.0, want / card_w)))
            if polish_again:
                corners = polish_outline(work.pixels, corners * work.scale) / work.scale
                card_w = card_width(corners, best.aspect if best.aspect > 0 else ID1_ASPECT)
                base = dataclasses.replace(base, corners=corners, card_width_px=card_w)
    src = corners * work.scale
    if classify:
        from idverify.document.side import classify_card  # content decides the 180° turn and the type

        thumb_size = (256, round(256 / ID1_ASPECT))
        thumb = warp_card(work.pixels, src, thumb_size)
        # the aspect as the polished outline shows it (the search's quad may be a few per cent off at its size)
        seen_aspect: Aspect = (aspect_range(corners, (ow, oh), cfg.focal_factor * max(ow, oh), focal_prior(cfg))
                               if best.aspect_range is not None else _seen_aspect(best))
        verdict = classify_card(thumb, aspect=seen_aspect)
        if _unnamed(verdict):
            # no named cue at 256 px (an old card's MRZ of 36 characters blurs there, so does a small old verso's
            # print): read again at the classifier's own width before reading by elimination or not at all
            sharper = classify_card(warp_card(work.pixels, src, (512, round(512 / ID1_ASPECT))), aspect=seen_aspect)
            if _reading_rank(sharper) > _reading_rank(verdict):
                verdict = sharper
        # read weakly: a reading by elimination barely over the "unknown" bar is one too (a block of text)
        weakly = verdict.confidence < (0.7 if verdict.label == BY_ELIMINATION else 0.55)
        if weakly and best.area_fraction < 0.25:
            # an inner zone (a portrait, a block of text) of a card that runs off the frame?
            cut = find_cut_off(small, cfg, maps[0])
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


__all__ = ["FULL_FRAME_MIN_SIDE", "CardLocation", "decode_for_search", "layout_for", "locate_card",
           "read_image_source", "rectified_size"]
