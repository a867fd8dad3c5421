"""Card outlines seeded by the card's printed content.

A small card lying across a sheet of paper may have no closed outline and
two of its edges faint (a white card on a white sheet), while the sheet's
long straight edges and ruled lines take every line the edge search keeps.
What still tells the card apart is its print: dense dark strokes (names,
dates, the MRZ, a portrait) that a sheet, a table or a coin does not have.
The print is found as a black-hat response (dark detail on a lighter
ground), closed into regions; each region's minimum-area rectangle, grown to
the card's aspect at a few scales (the print stops short of the card's
edge by a margin that varies with the card and side), seeds an outline that
:func:`~idverify.document.outline.polish_in_crop` moves onto the straight
edges around it; when none lands on a card's outline, the polish looks
again in a wider window (the old card's verso prints its address and dates
from the left, and its right edge lies far beyond them). The seeds are
candidates only: the search scores them with every other quad and the
content classifier picks.

>>> import numpy as np
>>> print_regions(np.full((480, 640, 3), 200, np.uint8))
[]
"""

from __future__ import annotations

import cv2
import numpy as np

from idverify.document.layout import CNI_1995_SIZE_MM, ID1_SIZE_MM
from idverify.document.outline import polish_in_crop

REGION_SIDE = 640  # px: print regions are found at this longer side
STROKE_KERNEL = 9  # px at REGION_SIDE: the black-hat's square (strokes thinner than this respond)
STROKE_CONTRAST = 35  # grey levels darker than the local ground for a pixel to count as print
LINE_SPAN = 0.08  # a mark longer than this share of the longer side ...
LINE_FILL = 0.08  # ... covering under this share of its span squared is a line, not print
CLOSE_SHARES = (0.02, 0.05)  # the print's strokes joined over these shares of the longer side (a large card's
# blocks of print lie further apart)
MIN_REGION_SHARE = 0.003  # smallest print region kept, share of the frame
SEED_SCALES = (1.0, 1.15, 1.3)  # the card's size over its print region's (longer side)
SEED_ASPECTS = tuple(w / h for w, h in (ID1_SIZE_MM, CNI_1995_SIZE_MM))  # ID-1 and the old card
POLISH_WINDOW = 0.12  # the polish looks this far either side of a seed's side (share of the region's longer side)
WIDE_POLISH_WINDOW = 0.3  # ... or this far, when none lands on a card in the usual window: the print of some sides
# (the old card's verso) stops far short of one edge

RotatedRect = tuple[tuple[float, float], tuple[float, float], float]


def print_regions(rgb: np.ndarray) -> list[RotatedRect]:
    """Minimum-area rectangles (``cv2.minAreaRect`` form, in ``rgb`` pixels) of the regions of dense print."""
    h, w = rgb.shape[:2]
    scale = min(1.0, REGION_SIDE / max(h, w))
    small = rgb if scale >= 1.0 else cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                                                interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    sh, sw = gray.shape
    strokes = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT,
                               cv2.getStructuringElement(cv2.MORPH_RECT, (STROKE_KERNEL, STROKE_KERNEL)))
    dark = without_lines(strokes > STROKE_CONTRAST).astype(np.uint8)
    regions: list[RotatedRect] = []
    seen: set[tuple[int, ...]] = set()
    for share in CLOSE_SHARES:
        k = max(3, round(share * max(sh, sw)))
        closed = cv2.morphologyEx(dark, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        n, labels, stats, _ = cv2.connectedComponentsWithStats(closed)
        for i in range(1, n):
            box = tuple(int(v) for v in stats[i, :4])
            if stats[i, cv2.CC_STAT_AREA] < MIN_REGION_SHARE * sh * sw or box in seen:
                continue
            seen.add(box)  # the same region at a wider closing
            ys, xs = np.nonzero(labels == i)
            (cx, cy), (a, b), angle = cv2.minAreaRect(np.column_stack([xs, ys]).astype(np.float32))
            regions.append(((cx / scale, cy / scale), (a / scale, b / scale), angle))
    return regions


def without_lines(mask: np.ndarray) -> np.ndarray:
    """``mask`` (bool) without its long thin marks: a sheet's ruled lines, a pen, a shadow along an edge are not
    print (a mark spanning over ``LINE_SPAN`` of the longer side and covering under ``LINE_FILL`` of its span
    squared)."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8))
    span = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    lines = (span > LINE_SPAN * max(mask.shape)) & (stats[:, cv2.CC_STAT_AREA] < LINE_FILL * span**2)
    lines[0] = False  # the background
    out: np.ndarray = mask.astype(bool) & ~lines[labels]
    return out


def seed_outlines(region: RotatedRect) -> list[np.ndarray]:
    """Card-shaped rectangles (4, 2) around a print region: each card aspect at each of ``SEED_SCALES``."""
    centre, (a, b), angle = region
    seeds = []
    for aspect in SEED_ASPECTS:
        for scale in SEED_SCALES:
            long_side = max(max(a, b) * scale, min(a, b) * scale * aspect)
            dims = (long_side, long_side / aspect) if a >= b else (long_side / aspect, long_side)
            seeds.append(cv2.boxPoints((centre, dims, angle)).astype(np.float64))
    return seeds


def print_seeded_outlines(rgb: np.ndarray, window_share: float = POLISH_WINDOW,
                          regions: list[RotatedRect] | None = None) -> list[np.ndarray]:
    """Outlines (4, 2) seeded around each print region of ``rgb`` (``regions``, when already found) and polished
    onto the edges about them, within ``window_share`` of the region's longer side."""
    outlines = []
    for region in print_regions(rgb) if regions is None else regions:
        window = window_share * max(region[1])
        for seed in seed_outlines(region):
            polished = polish_in_crop(rgb, seed, window)
            if polished is not None:
                outlines.append(polished)
    return outlines


__all__ = ["print_regions", "print_seeded_outlines", "seed_outlines", "without_lines"]
