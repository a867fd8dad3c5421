"""``read_mrz(image)``: locate, read (OCR-B glyph classifier, Tesseract fallback), parse, validate.

The glyph reader classifies every cell of the fixed-pitch grid; the MRZ
format (from the shape) restricts digits-only and letters-only positions;
cells whose margin is low pass their runner-up character to the parser as
the only repairs it may try (confirmed by check digits). When the glyph
reading is not valid and some cells were unsure, Tesseract (whitelisted to
the MRZ alphabet) reads the same deskewed crop and its reading is used if it
validates; otherwise an unsure cell takes its runner-up where Tesseract, its
line aligned to the glyph line (it shortens filler runs), reads that same
character, and the result stands only if the check digits confirm it.
"""

from __future__ import annotations

import dataclasses
import difflib
import time
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from idverify.config import OCR
from idverify.errors import EngineError
from idverify.media import ImageSource, load_image
from idverify.ocr.glyphs import ALPHABET, line_cells, load_model
from idverify.ocr.locate import MRZBlock, find_mrz
from idverify.ocr.mrz import LAYOUTS, MRZResult, detect_format, normalize_lines, not_found, parse_mrz

_DIGITS = "0123456789<"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ<"
_WHITELIST = ALPHABET


def allowed_characters(fmt: str) -> list[list[str]]:
    """Per line and position, the characters the format allows there (names and countries: letters;
    dates and check digits: digits; sex: M/F/X/<; elsewhere anything)."""
    layout = LAYOUTS[fmt]
    rows, width = layout.shape
    out = [[ALPHABET] * width for _ in range(rows)]
    for ln, s, e in layout.numeric:
        for i in range(s, e):
            out[ln][i] = _DIGITS
    for name, (ln, s, e) in layout.fields.items():
        kind = None
        if name in ("names", "surname", "given_names", "issuing_state", "nationality", "document_type"):
            kind = _LETTERS
        elif name == "sex":
            kind = "MFX<"
        if kind:
            for i in range(s, e):
                out[ln][i] = kind
    if fmt == "FRA_CNI_1995":  # département and office codes: digits (A/B for Corsica) or fillers
        for i in range(30, 36):
            out[0][i] = _DIGITS + "AB"
        for i in range(4, 7):
            out[1][i] = _DIGITS + "AB"
    return out


def _glyph_read(block: MRZBlock) -> tuple[list[str], dict[tuple[int, int], str], float, str | None]:
    model = load_model()
    feats = [line_cells(block.binary, line, block.chars_per_line) for line in block.lines]
    dists = [model.distances(f) for f in feats]
    raw = []
    for f, d in zip(feats, dists, strict=True):
        chars, _m, _r = model.classify(f, per_class=d)
        raw.append("".join(chars))
    fmt = detect_format(raw)
    allowed = allowed_characters(fmt) if fmt else None
    lines: list[str] = []
    alternatives: dict[tuple[int, int], str] = {}
    margins_all = []
    for ln, f in enumerate(feats):
        chars, margins, runner = model.classify(f, allowed[ln] if allowed else None, per_class=dists[ln])
        lines.append("".join(chars))
        margins_all.extend(margins.tolist())
        for i, m in enumerate(margins):
            if m < OCR.glyph_unsure_margin:
                alternatives[(ln, i)] = runner[i]
    confidence = float(min(margins_all)) if margins_all else 0.0
    return lines, alternatives, confidence, fmt


def _tesseract_text(block: MRZBlock) -> tuple[list[str], str] | None:
    """Tesseract's lines for the block as it read them (lengths unchecked), and the engine's name."""
    from idverify.ocr.engine import default_engine

    try:
        engine = default_engine()
    except EngineError:
        return None
    gray = block.gray
    scale = 32.0 / max(block.char_height, 1.0)
    if abs(scale - 1) > 0.1:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC if scale > 1 else
                          cv2.INTER_AREA)
    text = engine.recognize(gray, lang="eng", psm=6, whitelist=_WHITELIST)
    return normalize_lines(text), f"{engine.name} {engine.version}"


def aligned_characters(line: str, other: str) -> dict[int, str]:
    """For positions of ``line``, the character ``other`` (another engine's reading of the same line)
    has there after aligning the two texts: Tesseract drops or adds characters in filler runs, so
    its characters are matched by sequence alignment, not by index. Only positions inside equal or
    same-length substituted stretches are mapped.

    >>> aligned_characters("IDFRABERTNIER<<<<<<", "IDFRABERTHIERK<<<")[9]
    'H'
    >>> aligned_characters("AB<<<CD", "AB<CD")  # a shortened filler run: its extra cells get nothing
    {0: 'A', 1: 'B', 2: '<', 5: 'C', 6: 'D'}
    """
    out: dict[int, str] = {}
    matcher = difflib.SequenceMatcher(None, line, other, autojunk=False)
    for tag, i0, i1, j0, j1 in matcher.get_opcodes():
        if tag in ("equal", "replace") and i1 - i0 == j1 - j0:
            for k in range(i1 - i0):
                out[i0 + k] = other[j0 + k]
    return out


def read_mrz(image: ImageSource, *, fallback: bool | None = None) -> MRZResult:
    """Find and read the MRZ of an ID document image (path, bytes or RGB array).

    Returns an :class:`~idverify.ocr.mrz.MRZResult` (``found``, ``valid``,
    ``format``, ``lines``, ``fields``, ``checks``, ``repairs``, ``details``
    with the engine, the confidence and the time taken). Bad image input
    raises :class:`~idverify.errors.InputError`; a missing or unreadable MRZ
    is a result with ``found``/``valid`` false and a reason.
    """
    t0 = time.perf_counter()
    loaded = load_image(image, max_side=OCR.mrz_max_side)
    gray = cv2.cvtColor(loaded.pixels, cv2.COLOR_RGB2GRAY)
    return read_mrz_gray(gray, fallback=OCR.tesseract_fallback if fallback is None else fallback, t0=t0)


def read_mrz_gray(gray: np.ndarray, *, fallback: bool = True, t0: float | None = None) -> MRZResult:
    """:func:`read_mrz` on a grey ``uint8`` array (no loading). Upside-down and sideways images are
    tried when the upright reading finds no valid MRZ."""
    t0 = time.perf_counter() if t0 is None else t0
    if gray.shape[1] < OCR.mrz_min_width:
        scale = OCR.mrz_min_width / gray.shape[1]
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    best: MRZResult | None = None
    rotations: tuple[int | None, ...] = (None, cv2.ROTATE_180)
    if gray.shape[0] > gray.shape[1]:  # a portrait photo: the card may be sideways
        rotations += (cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE)
    for rotation in rotations:
        img = gray if rotation is None else cv2.rotate(gray, rotation)
        result = _read_upright(img, fallback=fallback and rotation is None)
        if result.found:
            result = _with_details(result, rotated={None: 0, cv2.ROTATE_180: 180, cv2.ROTATE_90_CLOCKWISE: 90,
                                                    cv2.ROTATE_90_COUNTERCLOCKWISE: 270}[rotation])
        if best is None or (result.found and not best.found) or (result.valid and not best.valid):
            best = result
        if best.valid:
            break
    assert best is not None
    if best.found and not best.valid and fallback and best.details.get("rotated"):
        # the Tesseract fallback on the orientation the glyphs were found in
        rot = {180: cv2.ROTATE_180, 90: cv2.ROTATE_90_CLOCKWISE, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
        retry = _read_upright(cv2.rotate(gray, rot[int(best.details["rotated"])]), fallback=True)
        if retry.valid:
            best = _with_details(retry, rotated=best.details["rotated"])
    return _with_details(best, elapsed_ms=round((time.perf_counter() - t0) * 1000, 1))


def _with_details(result: MRZResult, **extra: Any) -> MRZResult:
    return MRZResult(result.found, result.valid, result.format, result.lines, result.fields, result.checks,
                     result.repairs, result.raw_lines, result.reason, {**dict(result.details), **extra})


_CARD_ASPECTS = (85.60 / 53.98, 105.0 / 74.0)  # ID-1 (CNIe, passports' TD1 cards), old French card


def _find(gray: np.ndarray) -> MRZBlock | None:
    """On a rectified card (the image has a card's aspect) the MRZ is in the bottom band: search there
    first, then the whole image."""
    h, w = gray.shape
    if any(abs(w / h - a) < 0.06 for a in _CARD_ASPECTS):
        top = int(h * 0.55)
        block = find_mrz(gray[top:])
        if block is not None:
            x0, y0, x1, y1 = block.box
            return dataclasses.replace(block, box=(x0, y0 + top, x1, y1 + top))
    return find_mrz(gray)


def _read_upright(gray: np.ndarray, *, fallback: bool) -> MRZResult:
    block = _find(gray)
    if block is None:
        return not_found()
    lines, alternatives, confidence, fmt = _glyph_read(block)
    model = load_model()
    details: dict[str, Any] = {
        "engine": f"idverify ocrb-glyphs ({model.version})", "confidence": round(confidence, 3),
        "unsure_cells": len(alternatives), "box": list(block.box), "angle": round(block.angle, 2),
        "char_height": round(block.char_height, 1),
    }
    result = parse_mrz(lines, fmt, alternatives=alternatives, details=details)
    if not result.valid and fallback and (alternatives or result.format is None):
        text = _tesseract_text(block)
        if text is not None:
            t_raw, engine = text
            width = block.chars_per_line
            t_full = [ln for ln in t_raw if len(ln) >= width * 0.7]
            t_lines = [(ln + "<" * width)[:width] for ln in t_full] if len(t_full) == len(block.lines) else None
            if t_lines is not None:
                other = parse_mrz(t_lines, fmt, details={**details, "engine": engine, "glyph_reading": lines})
                if other.valid:
                    return other
            both = _agreed(lines, alternatives, t_raw, fmt, details, engine)
            if both is not None:
                return both
            return _with_details(result, tesseract_reading=t_raw)
    return result


def _shared_text(line: str, other: str) -> int:
    """Characters other than fillers that two readings of a line have in common, in order."""
    matcher = difflib.SequenceMatcher(None, line, other, autojunk=False)
    return sum(b.size - line[b.a:b.a + b.size].count("<") for b in matcher.get_matching_blocks())


def _agreed(lines: list[str], alternatives: dict[tuple[int, int], str], t_raw: list[str], fmt: str | None,
            details: dict[str, Any], engine: str) -> MRZResult | None:
    """The glyph reader's runner-up where Tesseract, aligned to the same line, reads the same: two
    engines agree on the change, and the check digits must then confirm the whole reading. Tesseract
    reading a filler ``<`` as ``K`` (its known confusion) is no evidence. Each glyph line is
    compared with the Tesseract line sharing most of its text (Tesseract may drop a line or shorten
    a filler run), if it shares at least half of it."""
    merged = [list(x) for x in lines]
    agreed = []
    for ln, line in enumerate(lines):
        if not t_raw:
            break
        best = max(t_raw, key=lambda t: _shared_text(line, t))
        if _shared_text(line, best) < 0.5 * sum(c != "<" for c in line):
            continue  # not a reading of this line
        seen = aligned_characters(line, best)
        for (a_ln, i), alt in sorted(alternatives.items()):
            if a_ln != ln or seen.get(i) != alt or alt == line[i] or (line[i] == "<" and alt == "K"):
                continue
            agreed.append({"line": ln, "position": i, "old": line[i], "new": alt})
            merged[ln][i] = alt
    if not agreed:
        return None
    both = parse_mrz(["".join(x) for x in merged], fmt,
                     details={**details, "engine": f"{details['engine']} + {engine}", "glyph_reading": lines,
                              "agreed_changes": agreed})
    return both if both.valid else None


def read_mrz_lines(gray: np.ndarray) -> Sequence[str]:
    """Just the glyph reader's lines (benchmarks); empty when no MRZ is found."""
    block = _find(gray)
    return [] if block is None else _glyph_read(block)[0]
