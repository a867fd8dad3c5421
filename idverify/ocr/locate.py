"""Find the MRZ in an image: text lines as chains of character blobs, then a block of 2-3 long
lines of equal pitch, deskewed and cropped.

Works on a rectified card (where the MRZ is the bottom band) and on a raw
photo of a passport page or an ID card: no assumption on where the block is,
only on what it looks like (long fixed-pitch lines, 30/36/44 characters).
"""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np

from idverify.ocr.glyphs import Blob, binarize, blobs, centers, chain_lines, estimate_count

LINE_LENGTHS = (30, 36, 44)


@dataclasses.dataclass(frozen=True)
class MRZBlock:
    """A deskewed crop holding the MRZ and its lines (blobs sorted by x, lines top to bottom)."""

    gray: np.ndarray
    binary: np.ndarray
    lines: list[list[Blob]]
    chars_per_line: int
    char_height: float
    angle: float  # degrees the image was rotated by to level the lines
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the block in the searched image


@dataclasses.dataclass(frozen=True)
class _Line:
    blobs: list[Blob]
    h: float
    pitch: float
    x0: float
    x1: float
    cy: float
    angle: float

    @property
    def cells(self) -> float:
        return (self.x1 - self.x0) / self.pitch + 1


def _describe(chain: list[Blob]) -> _Line:
    cx = np.array(centers(chain))
    cy = np.array([b.cy for b in chain])
    d = np.diff(cx)
    med = float(np.median(d))
    good = d[(d > 0.6 * med) & (d < 1.4 * med)]
    pitch = float(np.median(good)) if len(good) else med
    if len(cx) >= 10:  # a complete line: its span over its count is the better estimate
        pitch = float((cx[-1] - cx[0]) / (len(cx) - 1))
    bx = np.array([b.cx for b in chain])
    slope = float(np.polyfit(bx, cy, 1)[0]) if len(bx) > 2 else 0.0
    return _Line(chain, float(np.median([b.h for b in chain])), max(pitch, 1.0), float(cx[0]), float(cx[-1]),
                 float(np.median(cy)), math.degrees(math.atan(slope)))


def _groups(lines: list[_Line]) -> list[list[_Line]]:
    """Runs of 2-3 vertically adjacent lines with the same pitch, height and extent."""
    lines = sorted(lines, key=lambda ln: ln.cy)
    out = []
    for i, first in enumerate(lines):
        group = [first]
        for other in lines[i + 1:]:
            last = group[-1]
            gap = other.cy - last.cy
            if gap < 1.1 * last.h:
                continue
            if gap > 4.0 * last.h:
                break
            if abs(other.pitch - first.pitch) > 0.15 * first.pitch or abs(other.h - first.h) > 0.3 * first.h:
                continue
            if abs(other.x0 - first.x0) > 2.5 * first.pitch or abs(other.cells - first.cells) > 5:
                continue
            group.append(other)
            if len(group) == 3:
                break
        if len(group) >= 2:
            out.append(group)
    return out


def _score(group: list[_Line]) -> float:
    cells = float(np.median([ln.cells for ln in group]))
    target = 30 if len(group) == 3 else min((36, 44), key=lambda n: abs(n - cells))
    fit = abs(cells - target) / target
    return len(group) * 10 - fit * 40 + sum(len(ln.blobs) for ln in group) / 20


def find_mrz(gray: np.ndarray, *, min_blobs: int = 14, _level: int = 0) -> MRZBlock | None:
    """Locate the MRZ block in a grey image (ink dark); ``None`` when there is none.

    Lines tilted by more than a few degrees break into pieces; when no block
    is found, the image is levelled by the median angle of the text pieces
    and searched once more.
    """
    height, width = gray.shape
    guess = max(8.0, width / 45)
    best: tuple[float, list[_Line]] | None = None
    for h_guess in (guess, guess * 0.5):
        binary = binarize(gray, h_guess)
        found = chain_lines(blobs(binary, min_h=max(5, int(h_guess * 0.3)), max_h=int(height / 4) + 1),
                            min_len=min_blobs)
        candidates = [_describe(c) for c in found]
        candidates = [c for c in candidates if c.cells >= 24]
        for group in _groups(candidates):
            score = _score(group)
            if best is None or score > best[0] or (score == best[0] and group[0].cy > best[1][0].cy):
                best = (score, group)
        if best is not None and len(best[1]) >= 2 and best[0] > 15:
            break
    if best is None:
        if _level == 0:
            angles = [ln.angle for h_try in (guess, guess * 0.5)
                      for ln in (_describe(c) for c in chain_lines(
                          blobs(binarize(gray, h_try), min_h=max(5, int(h_try * 0.3)), max_h=int(height / 4) + 1),
                          min_len=8))]
            tilted = [a for a in angles if 4 < abs(a) < 45]
            if len(tilted) >= 2:
                angle = float(np.median(tilted))
                rot = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
                cos, sin = abs(rot[0, 0]), abs(rot[0, 1])
                new_w, new_h = int(height * sin + width * cos), int(height * cos + width * sin)
                rot[0, 2] += new_w / 2 - width / 2
                rot[1, 2] += new_h / 2 - height / 2
                level = cv2.warpAffine(gray, rot, (new_w, new_h), borderMode=cv2.BORDER_REPLICATE)
                levelled = find_mrz(level, min_blobs=min_blobs, _level=1)
                if levelled is not None:
                    return dataclasses.replace(levelled, angle=levelled.angle + angle, box=(0, 0, width, height))
        return None
    group = best[1]
    h = float(np.median([ln.h for ln in group]))
    pitch = float(np.median([ln.pitch for ln in group]))
    angle = float(np.median([ln.angle for ln in group]))
    xs: list[int] = [b.x for ln in group for b in ln.blobs] + [b.x + b.w for ln in group for b in ln.blobs]
    ys = [b.y for ln in group for b in ln.blobs] + [b.y + b.h for ln in group for b in ln.blobs]
    mx, my = int(2.5 * pitch), int(1.2 * h)
    x0, y0 = max(0, min(xs) - mx), max(0, min(ys) - my)
    x1, y1 = min(width, max(xs) + mx), min(height, max(ys) + my)
    crop = gray[y0:y1, x0:x1]
    if abs(angle) > 0.25:
        center = (crop.shape[1] / 2, crop.shape[0] / 2)
        rot = cv2.getRotationMatrix2D(center, angle, 1.0)
        crop = cv2.warpAffine(crop, rot, (crop.shape[1], crop.shape[0]), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
    binary = binarize(crop, h)
    chains = chain_lines(blobs(binary, min_h=max(4, int(h * 0.4)), max_h=int(h * 2.5) + 1), min_len=8)
    described = sorted((_describe(c) for c in chains), key=lambda ln: ln.cy)
    described = [ln for ln in described if abs(ln.h - h) < 0.4 * h and ln.cells > 15]
    if len(described) < 2:
        return None
    # keep the lines in the block (up to 3), top to bottom; merge pieces of one line
    merged: list[_Line] = []
    for ln in described:
        if merged and abs(ln.cy - merged[-1].cy) < 0.5 * h:
            both = sorted(merged[-1].blobs + ln.blobs, key=lambda b: b.x)
            merged[-1] = _describe(both)
        else:
            merged.append(ln)
    merged = merged[-3:] if len(group) == 3 else merged[-2:] if len(merged) > 3 else merged
    if len(merged) > len(group):
        merged = sorted(merged, key=lambda ln: -len(ln.blobs))[:len(group)]
        merged.sort(key=lambda ln: ln.cy)
    line_centers = centers(max(merged, key=lambda ln: len(ln.blobs)).blobs)
    n = 30 if len(merged) == 3 else estimate_count(line_centers, (36, 44))
    return MRZBlock(crop, binary, [ln.blobs for ln in merged], n, h, angle, (x0, y0, x1, y1))
