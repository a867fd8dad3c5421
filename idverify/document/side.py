"""Which card and which side: CNIe recto / verso, old card recto / verso, carte Vitale, unknown.

Template cues measured on a rectified thumbnail, in both 180° orientations:

* ``mrz_lines``: long text lines in the bottom band (3 for the CNIe verso's
  TD1, 2 for the old card's 2 x 36), by black-hat text mask and line blobs;
* ``chip``: the gold contact plate on the left, middle height: a bounded
  plate (see :func:`_plate_share`), not gold running out of its box;
* ``header``: the tricolour mark top-left and the blue EU flag top-right of
  the CNIe recto, islands of colour (a strip of blue table along a side is
  neither);
* ``green``: the carte Vitale's green (and yellow);
* ``aspect``: 1.586 (ID-1) or 1.419 (the 105 x 74 mm old card);
* ``ink_margin``: ink in the card's margin, which the old card's verso
  (read by elimination) leaves plain and a portrait or a block of text
  outlined as a card does not;
* ``ink_top`` / ``ink_bottom``, ``ink_left`` / ``ink_right``: text in each
  half, and along each side: the old verso's address heads it and its
  lines start at the left margin and end ragged, which tells its way up.

A small rule table turns cues into a label with a confidence; the
orientation with the better score wins. The cues are the kind a human
checks first and hold on the real specimens as well as on the synthetic
renders; they are deliberately coarse (see :mod:`idverify.document.template`
for the zone-by-zone check).

>>> import numpy as np
>>> classify_card(np.full((202, 320, 3), 200, np.uint8)).label
'unknown'
"""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np

THUMB_WIDTH = 512
UNKNOWN = "unknown"
LABELS = ("cnie_2021/recto", "cnie_2021/verso", "cni_1995/recto", "cni_1995/verso", "carte_vitale/recto", UNKNOWN)
# the label read by elimination (no MRZ, chip, flag or green; printed text and the old card's aspect): the weakest
BY_ELIMINATION = "cni_1995/verso"
CHIP_BOX = (0.02, 0.28, 0.28, 0.68)  # x0, y0, x1, y1 (share of the card's width and height) the chip lies in
# Lab units: a pixel this near the plate's colour is plate. A synthetic chip's own shading spreads its pixels
# 17.6 (median chip, 90th percentile) from its median; the real carte Vitale's yellow band lies 30.5 from its chip.
PLATE_COLOUR_SPREAD = 20.0
EDGE_STRIP_SPAN = 0.4  # a colour region along the card's edge over more than this share of a side is no print
MARGIN_RING = (0.015, 0.06)  # the card's margin, as shares of its width inside its edge
# ink in the margin above this share is no old card's verso: the 120 of main seeds 45-74 (true corners) have at most
# 0.0063; a carte Vitale's portrait outlined as a card (fresh s54-14), 0.058
MARGIN_INK = 0.02
# the highest score a label's rule can give (the old card's verso has the fewest cues and is capped lower)
SCORE_CEILING = {BY_ELIMINATION: 0.5}


Aspect = float | tuple[float, float] | None  # width / height as estimated, a (lowest, highest) range, or unknown


@dataclasses.dataclass(frozen=True, slots=True)
class SideVerdict:
    """The classifier's answer for one rectified card."""

    card_type: str | None  # "cnie_2021" | "cni_1995" | "carte_vitale" | None (unknown)
    side: str | None  # "recto" | "verso" | None
    score: float  # confidence in [0, 1]
    rotated_180: bool  # the content was upside down in the proposed orientation
    cues: dict[str, float]

    @property
    def label(self) -> str:
        return UNKNOWN if self.card_type is None else f"{self.card_type}/{self.side}"

    @property
    def confidence(self) -> float:
        """The score as a share of the most its label's rule can give (0 for unknown)."""
        return read_confidence(self.label, self.score)

    def to_dict(self) -> dict[str, object]:
        return {"card_type": self.card_type, "side": self.side, "label": self.label, "score": round(self.score, 3),
                "rotated_180": self.rotated_180, "cues": {k: round(v, 3) for k, v in self.cues.items()}}


def read_confidence(label: str, score: float) -> float:
    """A reading's ``score`` as a share of the most ``label``'s rule can give (0 for unknown, whose score is its
    doubt): a read by elimination at full marks is as sure as a card named by its cues."""
    return 0.0 if label == UNKNOWN else min(1.0, score / SCORE_CEILING.get(label, 1.0))


def _resize(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    if w == THUMB_WIDTH:
        return rgb
    size = (THUMB_WIDTH, max(8, round(h * THUMB_WIDTH / w)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if w > THUMB_WIDTH else cv2.INTER_LINEAR)


def percentile_u8(gray: np.ndarray, q: float) -> float:
    """``np.percentile(gray, q)`` of a uint8 image, read off its histogram when the order statistics around the
    ``q``-th one share a level (nearly always: 256 levels among 10⁵ pixels), else from numpy. Several times faster.

    >>> percentile_u8(np.arange(256, dtype=np.uint8).repeat(100).reshape(256, 100), 90)
    230.0
    """
    n = gray.size
    pos = (n - 1) * q / 100.0
    counts = np.cumsum(cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel().astype(np.int64))
    lo, hi = np.searchsorted(counts, [max(0, math.floor(pos) - 1), min(n - 1, math.ceil(pos) + 1)], side="right")
    return float(lo) if lo == hi else float(np.percentile(gray, q))


def mrz_lines(gray: np.ndarray, band: tuple[float, float] = (0.6, 0.99)) -> tuple[int, float]:
    """(number of MRZ-like text lines, mean horizontal coverage) in the bottom ``band`` of a card.

    An MRZ line is a row of evenly spaced dark characters spanning most of
    the card's width; printed fields and titles are shorter, printed rules
    are thinner.
    """
    h, w = gray.shape
    y0, y1 = int(band[0] * h), int(band[1] * h)
    x0, x1 = int(0.02 * w), int(0.98 * w)
    roi = gray[y0:y1, x0:x1]
    if roi.size == 0:
        return 0, 0.0
    k = max(3, int(w / 30)) | 1
    bh = cv2.morphologyEx(roi, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    thr = max(45.0, float(cv2.threshold(bh, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[0]))
    mask = (bh >= thr).astype(np.uint8)
    joined = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, w // 40), 1)))
    rows = joined.mean(axis=1)  # share of the width inked, per row
    paper = percentile_u8(gray, 90)
    lines = 0
    cover: list[float] = []
    for start, end in _row_runs(rows, h):
        light = float(np.median(roi[start:end])) >= 0.6 * paper
        if (0.02 * h <= end - start <= 0.11 * h and rows[start:end].max() >= 0.7 and light
                and _looks_like_characters(mask[start:end])):
            lines += 1
            cover.append(float(rows[start:end].max()))
    return lines, float(np.mean(cover)) if cover else 0.0


def _row_runs(rows: np.ndarray, card_height: int, high: float = 0.55, low: float = 0.3) -> list[tuple[int, int]]:
    """Runs of text rows, by hysteresis: rows inked over ``low`` of the width, split at ``high`` when too tall.

    Inside a line of letters with long horizontal bars (``LEFEVRE``), the rows
    between the bars hold only the vertical strokes and can fall under
    ``high``; two lines printed close together only merge over ``low``.
    """
    runs: list[tuple[int, int]] = []
    for start, end in _runs(rows >= low):
        if end - start > 0.11 * card_height:
            runs.extend((start + a, start + b) for a, b in _runs(rows[start:end] >= high))
        else:
            runs.append((start, end))
    return runs


def _runs(on: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of the runs of True."""
    edges = np.diff(np.concatenate(([0], on.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def _looks_like_characters(line: np.ndarray) -> bool:
    """A row of 20+ separate, similar-width glyphs (not a photo, a rule or a few words)."""
    cols = line.any(axis=0).astype(np.int8)
    edges = np.diff(np.concatenate(([0], cols, [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    widths = ends - starts
    keep = widths >= 2
    starts, ends, widths = starts[keep], ends[keep], widths[keep]
    if len(widths) < 12:
        return False
    gaps = starts[1:] - ends[:-1]  # monospaced, filled with '<': no wide gaps along the line
    if gaps.max() > 3.0 * float(np.median(widths)) + 2:
        return False
    med = float(np.median(widths))
    glyphs = float(np.maximum(1, np.round(widths / med)).sum())  # touching glyphs count as several
    inked = cols.mean()
    return bool(glyphs >= 20 and 0.2 <= inked <= 0.9 and np.mean(widths <= 2.5 * med) >= 0.7)


def _box(shape: tuple[int, ...], box: tuple[float, float, float, float]) -> tuple[slice, slice]:
    """Rows and columns of ``box`` (x0, y0, x1, y1 as shares of the width and height) in an image of ``shape``."""
    h, w = shape[:2]
    x0, y0, x1, y1 = box
    return slice(int(y0 * h), int(y1 * h)), slice(int(x0 * w), int(x1 * w))


def _fraction(mask: np.ndarray, box: tuple[float, float, float, float]) -> float:
    roi = mask[_box(mask.shape, box)]
    return float(roi.mean()) if roi.size else 0.0


def _ring_share(mask: np.ndarray) -> float:
    """Mean of ``mask`` over the card's margin: the ring from ``MARGIN_RING[0]`` to ``MARGIN_RING[1]`` of its width
    inside its edge (a card's print leaves it plain; a photo or a block of text runs into it)."""
    h, w = mask.shape[:2]
    a, b = round(MARGIN_RING[0] * w), round(MARGIN_RING[1] * w)
    outer = mask[a:h - a, a:w - a]
    inner = mask[b:h - b, b:w - b]
    n = outer.size - inner.size
    return float(outer.sum() - inner.sum()) / n if n > 0 else 0.0


def card_cues(rgb: np.ndarray) -> tuple[dict[str, float], dict[str, float]]:
    """The template cues of a rectified card as given and turned by 180° (resized to 512 wide)."""
    img = _resize(rgb)
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    hue = hsv[:, :, 0].astype(np.float32) * 2.0  # degrees
    sat = hsv[:, :, 1].astype(np.float32) / 255.0
    val = hsv[:, :, 2].astype(np.float32) / 255.0
    blue = (hue >= 200) & (hue <= 250) & (sat >= 0.4) & (val >= 0.2)
    red = ((hue <= 15) | (hue >= 340)) & (sat >= 0.45) & (val >= 0.35)
    masks = {
        "gold": ((hue >= 25) & (hue <= 62) & (sat >= 0.25) & (val >= 0.35)).astype(np.float32),
        "blue": blue.astype(np.float32),
        "red": red.astype(np.float32),
        # the CNIe's flags are islands of colour; the old card's banner runs along its top edge
        "blue_island": _without_edge_strips(blue),
        "red_island": _without_edge_strips(red),
        "green": ((hue >= 70) & (hue <= 170) & (sat >= 0.3) & (val >= 0.25)).astype(np.float32),
        "yellow": ((hue >= 40) & (hue < 70) & (sat >= 0.35) & (val >= 0.5)).astype(np.float32),
    }
    k = max(3, gray.shape[1] // 60) | 1
    ink = (cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))) >= 45)
    ink_f = ink.astype(np.float32)
    k_wide = max(3, gray.shape[1] // 30) | 1  # strokes up to twice as wide: a photo's features, not only print
    ink_margin = _ring_share(cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT,
                                              cv2.getStructuringElement(cv2.MORPH_RECT, (k_wide, k_wide))) >= 45)
    lines_bottom, cover_bottom = mrz_lines(gray)
    flipped_gray = gray[::-1, ::-1]
    lines_top, cover_top = mrz_lines(flipped_gray)
    sat_median = float(np.median(sat[::4, ::4]))
    # print has structure larger than a pixel; static, sand or fabric loses most of its contrast in a blur
    g32 = gray.astype(np.float32)
    busy = 1.0 - float(cv2.GaussianBlur(g32, (0, 0), 2.0).std()) / max(float(g32.std()), 1e-6)
    out = []
    for flipped in (False, True):
        m = {k_: (v[::-1, ::-1] if flipped else v) for k_, v in masks.items()}
        ink_o = ink_f[::-1, ::-1] if flipped else ink_f
        out.append({
            "mrz_lines": float(lines_top if flipped else lines_bottom),
            "mrz_cover": cover_top if flipped else cover_bottom,
            "mrz_lines_top": float(lines_bottom if flipped else lines_top),
            "chip": _plate_share(img[::-1, ::-1] if flipped else img, m["gold"]),
            "flag_blue_tl": _fraction(m["blue_island"], (0.0, 0.0, 0.22, 0.2)),
            "flag_red_tl": _fraction(m["red_island"], (0.0, 0.0, 0.22, 0.2)),
            "eu_blue_tr": _fraction(m["blue_island"], (0.78, 0.0, 1.0, 0.25)),
            "blue_top": _fraction(m["blue"], (0.0, 0.0, 1.0, 0.15)),
            "blue_bottom": _fraction(m["blue"], (0.0, 0.85, 1.0, 1.0)),
            "banner_top": _fraction(m["blue"], (0.05, 0.0, 0.95, 0.09)),
            "green": float(m["green"].mean()),
            "yellow": float(m["yellow"].mean()),
            "green_header": _fraction(m["green"], (0.0, 0.0, 0.62, 0.24)),
            "ink_top": _fraction(ink_o, (0.03, 0.05, 0.97, 0.4)),
            "ink_bottom": _fraction(ink_o, (0.03, 0.6, 0.97, 0.95)),
            "ink_left": _fraction(ink_o, (0.03, 0.05, 0.3, 0.95)),
            "ink_right": _fraction(ink_o, (0.7, 0.05, 0.97, 0.95)),
            "saturation": sat_median,
            "busy": busy,
            "ink_margin": ink_margin,
        })
    return out[0], out[1]


def _without_edge_strips(mask: np.ndarray) -> np.ndarray:
    """``mask`` (bool) as float32 without its strips along the card's edge: a region touching a side over more than
    ``EDGE_STRIP_SPAN`` of it is the table an outline a little too large took in, not one of the CNIe's flags
    (islands of colour inside the card). The old card's banner does run along its top edge: its cue keeps the
    whole mask."""
    h, w = mask.shape
    if not (mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any()):
        return mask.astype(np.float32)  # nothing reaches the edge (most cards): no strip to look for
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    x, y, bw, bh = (stats[:, k] for k in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT))
    along = (((y == 0) | (y + bh == h)) & (bw > EDGE_STRIP_SPAN * w)) | (((x == 0) | (x + bw == w))
                                                                        & (bh > EDGE_STRIP_SPAN * h))
    along[0] = False  # the background
    if not along.any():
        return mask.astype(np.float32)
    return (mask & ~along[labels]).astype(np.float32)


def _plate_share(rgb: np.ndarray, gold: np.ndarray) -> float:
    """The chip's plate as a share of its box: the region of the plate's colour (the median of the gold at the
    box's centre, within ``PLATE_COLOUR_SPREAD``), 0 when it reaches a side of the box.

    Wood, cloth or a brass key seen through a wrong outline, or a warm
    light turning a pale card gold, runs out of the box; a chip does not.
    The carte Vitale's chip lies on its yellow band, which reaches the
    card's edge: the colour tells the plate from the band.
    """
    rows, cols = _box(gold.shape, CHIP_BOX)
    mask = gold[rows, cols] > 0
    if not mask.any():
        return 0.0
    bh, bw = mask.shape
    lab = cv2.cvtColor(np.ascontiguousarray(rgb[rows, cols]), cv2.COLOR_RGB2LAB).astype(np.float32)
    lab *= np.array([100.0 / 255.0, 1.0, 1.0], np.float32)  # L to 0-100; a and b keep their offset
    centre = np.zeros_like(mask)
    centre[bh // 4:3 * bh // 4, bw // 4:3 * bw // 4] = True
    seen = mask & centre if int((mask & centre).sum()) >= 20 else mask
    colour = np.median(lab[seen], axis=0)
    plate = (mask & (np.linalg.norm(lab - colour, axis=2) <= PLATE_COLOUR_SPREAD)).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(plate, connectivity=8)
    if n <= 1:
        return 0.0
    x, y, cw, ch, area = stats[1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))]
    if x == 0 or y == 0 or x + cw == bw or y + ch == bh:
        return 0.0
    return float(area) / float(mask.size)


def _aspect_match(aspect: Aspect, card_aspect: float) -> float:
    """1 at ``card_aspect``, 0 from 0.17 off; a range (a steep view's aspect depends on the focal length, which
    its perspective gives only roughly) matches as its nearest point; unknown matches every card."""
    if aspect is None:
        return 1.0
    low, high = aspect if isinstance(aspect, tuple) else (aspect, aspect)
    off = max(low - card_aspect, card_aspect - high, 0.0)
    return float(np.clip(1.0 - off / 0.17, 0.0, 1.0))


def _scores(c: dict[str, float], aspect: Aspect) -> dict[str, float]:
    """Per-label scores in [0, 1] for one orientation."""
    old_aspect = _aspect_match(aspect, 1.419)
    id1_aspect = _aspect_match(aspect, 1.586)
    chip = min(1.0, c["chip"] / 0.05)
    # a blurred TD1 can lose a line (two merge, or one falls apart); the old card's 2 x 36 has no chip beside it
    mrz3 = {3: 1.0, 4: 0.5, 2: 0.5 * chip}.get(int(c["mrz_lines"]), 0.0)
    mrz2 = 1.0 if c["mrz_lines"] == 2 else 0.0
    no_mrz = {0: 1.0, 1: 0.7}.get(int(c["mrz_lines"]), 0.0)  # one long line alone is not an MRZ
    header = min(1.0, c["flag_blue_tl"] / 0.04) * min(1.0, c["flag_red_tl"] / 0.02)
    eu = min(1.0, c["eu_blue_tr"] / 0.05)
    greenish = min(1.0, (c["green"] + c["yellow"]) / 0.25)
    barcode = 1.0 - greenish  # the CNIe verso's other zones are pale, not green
    banner = min(1.0, c["banner_top"] / 0.3)
    s = {
        "cnie_2021/verso": max(mrz3 * (0.6 + 0.4 * chip), 0.6 * no_mrz * chip * barcode * (1.0 - header))
        * (0.7 + 0.3 * id1_aspect),
        "cni_1995/recto": max(mrz2 * (1.0 - 0.5 * chip), 0.6 * no_mrz * banner * (1.0 - chip))
        * (0.7 + 0.3 * old_aspect),
        "cnie_2021/recto": no_mrz * (0.5 * header + 0.5 * eu) * (1.0 - 0.5 * chip) * (0.6 + 0.4 * id1_aspect),
        "carte_vitale/recto": no_mrz * chip * (0.5 + 0.5 * max(greenish, min(1.0, c["green_header"] / 0.02)))
        * (0.6 + 0.4 * id1_aspect) * (0.4 + 0.6 * (1.0 - barcode * (1.0 - min(1.0, c["green_header"] / 0.02)))),
        "cni_1995/verso": no_mrz * (1.0 - chip) * (1.0 - header) * (1.0 - eu) * (1.0 - banner)
        # the aspect seen through the perspective errs by up to ~8 % (old cards read 1.30-1.53 on seeds 0-19):
        # half the score rests on it, so an ID-1 blank (aspect 0) stays under the 0.3 "unknown" bar (0.25 at most)
        * (1.0 - min(1.0, c["blue_bottom"] / 0.2)) * (0.5 + 0.5 * old_aspect)
        # upright, its text runs from the left margin (a ragged right) and its address heads the card: both tell the
        # way up, the left margin the more (a signature or a glare can even the halves out)
        * (0.5 if (c["ink_left"] - c["ink_right"]) + 0.5 * (c["ink_top"] - c["ink_bottom"]) > 0 else 0.4)
        * min(1.0, c["ink_top"] / 0.02)  # the address block: printed text in the top half
        * float(c["ink_margin"] <= MARGIN_INK),  # in a plain margin (a portrait, a block of text run into it)
    }
    if c["busy"] > 0.6:
        return {k: 0.0 for k in s}
    return s


def classify_card(rectified: np.ndarray, aspect: Aspect = None) -> SideVerdict:
    """Classify a rectified card (RGB) and tell whether it is upside down.

    ``aspect`` is the physical width / height estimated from the capture
    (it separates the 105 x 74 mm old card from ID-1 cards): one value, the
    (lowest, highest) range the capture allows, or ``None`` if unknown.
    """
    best: tuple[float, str, bool, dict[str, float]] = (0.0, UNKNOWN, False, {})
    both = card_cues(rectified)
    for flipped, cues in zip((False, True), both, strict=True):
        for label, score in _scores(cues, aspect).items():
            if score > best[0]:
                best = (score, label, flipped, cues)
    score, label, flipped, cues = best
    if not cues:
        cues = both[0]
    if score < 0.3:
        return SideVerdict(None, None, 1.0 - score, False, cues)
    card_type, side = label.split("/")
    return SideVerdict(card_type, side, score, flipped, cues)


__all__ = ["BY_ELIMINATION", "LABELS", "SCORE_CEILING", "Aspect", "SideVerdict", "card_cues", "classify_card",
           "mrz_lines", "percentile_u8", "read_confidence"]
