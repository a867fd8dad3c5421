"""Printed fields of a rectified ID card, read with Tesseract's French model on the template's zones.

Input is a *rectified* card (the document module's output, or a flat render):
an RGB image showing exactly the card, upright. Zones come from
:mod:`idverify.document.layout`; each is read on its own (single line,
whitelists for dates and numbers) through the OCR-engine port
(:mod:`idverify.ocr.engine`). Values keep their accents; dates are also
given as ISO strings.

>>> parse_date_fr("DATE 13 07 1990"), parse_date_fr("1990"), parse_height("1,68 m")
('1990-07-13', None, 168)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import cv2
import numpy as np

from idverify.config import OCR
from idverify.document.layout import CardType, Side, ZoneKind, get_layout
from idverify.errors import UsageError
from idverify.media import ImageSource, load_image
from idverify.ocr.engine import OCREngine, default_engine
from idverify.results import frozen_mapping, to_jsonable

_DIGITS = "0123456789"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def parse_date_fr(text: str) -> str | None:
    """ISO date of a French ``DD MM YYYY`` (spaces, dots, slashes or dashes); ``None`` if there is none."""
    m = re.search(r"(\d{2})\s*[ ./-]?\s*(\d{2})\s*[ ./-]?\s*(\d{4})", text)
    if not m:
        return None
    try:
        return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
    except ValueError:
        return None


def parse_height(text: str) -> int | None:
    """Height in cm of ``1,68 m`` / ``1.68`` / ``168 cm``."""
    m = re.search(r"\b([12])\s*[,.]?\s*(\d{2})\s*m", text) or re.search(r"([12])\s*[,.]\s*(\d{2})", text)
    if m:
        return int(m.group(1)) * 100 + int(m.group(2))
    m = re.search(r"\b(1\d{2}|2[0-4]\d)\s*cm", text)
    return int(m.group(1)) if m else None


def _clean_text(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\u2019", "'").replace("|", "").replace("_", " ")
    return " ".join(text.split()).strip(" .:;-,'\"")


def _clean_name(text: str) -> str:
    text = _clean_text(text)
    return "".join(c for c in text if c.isalpha() or c in " -',").strip(" ,-")


def _keep(chars: str) -> Callable[[str], str]:
    return lambda text: "".join(c for c in text.upper() if c in chars)


@dataclasses.dataclass(frozen=True, slots=True)
class _FieldSpec:
    psm: int = 7
    whitelist: str | None = None
    clean: Callable[[str], str] = _clean_text


_SPECS: Mapping[str, _FieldSpec] = {
    "surname": _FieldSpec(clean=_clean_name),
    "usage_name": _FieldSpec(),
    "given_names": _FieldSpec(clean=_clean_name),
    "sex": _FieldSpec(psm=10, whitelist="FMX", clean=_keep("FMX")),
    "nationality": _FieldSpec(),
    "birth_date": _FieldSpec(whitelist=_DIGITS + " ./"),
    "expiry_date": _FieldSpec(whitelist=_DIGITS + " ./"),
    "issue_date": _FieldSpec(whitelist=_DIGITS + " ./"),
    "birth_place": _FieldSpec(),
    "document_number": _FieldSpec(whitelist=_UPPER + _DIGITS, clean=_keep(_UPPER + _DIGITS)),
    "card_access_number": _FieldSpec(whitelist=_DIGITS, clean=_keep(_DIGITS)),
    "height": _FieldSpec(whitelist=_DIGITS + ",.m "),
    "address": _FieldSpec(psm=6),
    "nir": _FieldSpec(whitelist=_DIGITS + " AB", clean=lambda t: " ".join(t.split())),
}


# values of a fixed length: the CNIe's document number (9 characters, as in its MRZ), the old card's (12 digits)
_LENGTHS: Mapping[tuple[str, str], int] = {("cnie_2021", "document_number"): 9, ("cni_1995", "document_number"): 12}
# (scale, page segmentation mode) of the reads again when a read is not of that length: the line larger, then the
# zone as one word and as a raw line
RE_READS = ((1.25, 7), (1.5, 7), (1.0, 8), (1.0, 13))


@dataclasses.dataclass(frozen=True)
class PrintedFields:
    """Text read in each field zone (``fields``) and typed values (``values``: ISO dates, cm)."""

    card_type: str
    side: str
    fields: Mapping[str, str]
    values: Mapping[str, Any]
    details: Mapping[str, Any] = dataclasses.field(default_factory=frozen_mapping)

    def get(self, name: str) -> str | None:
        value = self.fields.get(name)
        return value or None

    def to_dict(self) -> dict[str, Any]:
        return {"card_type": self.card_type, "side": self.side, "fields": dict(self.fields),
                "values": to_jsonable(self.values), "details": to_jsonable(self.details)}


def _refine_box(gray: np.ndarray, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """The value's text line near its template box: a rectified card is rarely exact (a few per cent of
    offset, scale or residual tilt), so search a window around the box for the tallest text band
    (values are printed larger than their labels) nearest the expected place."""
    h, w = gray.shape
    x0, y0, x1, y1 = box
    bh = y1 - y0
    wx0, wx1 = max(0, x0 - int(0.03 * w)), min(w, x1 + int(0.01 * w))
    wy0, wy1 = max(0, y0 - int(0.45 * bh)), min(h, y1 + int(0.6 * bh))
    window = gray[wy0:wy1, wx0:wx1]
    if window.size == 0 or bh < 6:
        return box
    block = max(15, (bh * 2) | 1)
    ink = cv2.adaptiveThreshold(window, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 15)
    rows = (ink > 0).sum(axis=1) > max(2, 0.01 * ink.shape[1])
    bands, start = [], None
    for i, on in enumerate([*rows.tolist(), False]):
        if on and start is None:
            start = i
        elif not on and start is not None:
            bands.append((start, i))
            start = None
    counts = (ink > 0).sum(axis=1)
    split: list[tuple[int, int]] = []
    for b0, b1 in bands:  # a label touching its value (tilt, blur): cut at the emptiest row between them
        if b1 - b0 > 1.15 * bh:
            inner = counts[b0 + (b1 - b0) // 5:b1 - (b1 - b0) // 5]
            cut = b0 + (b1 - b0) // 5 + int(np.argmin(inner))
            split += [(b0, cut), (cut + 1, b1)]
        else:
            split.append((b0, b1))
    bands = [b for b in split if b[1] - b[0] >= 0.4 * bh]
    if not bands:
        return box
    expected = (y0 + y1) / 2 - wy0
    tallest = max(b[1] - b[0] for b in bands)
    top, bottom = min((b for b in bands if b[1] - b[0] >= 0.7 * tallest),
                      key=lambda b: abs((b[0] + b[1]) / 2 - expected))
    cols = np.flatnonzero((ink[top:bottom] > 0).sum(axis=0) > 0)
    left = wx0 + int(cols[0]) if cols.size else x0
    dx = min(0, left - x0)  # the card content sits left of the template: move the whole box
    band = bottom - top
    # accents float above capitals (È, Ê) and descenders go below: keep room for them
    return (max(0, x0 + dx), max(0, wy0 + top - int(0.35 * band)), max(x0 + dx + 1, x1 + dx),
            min(h, wy0 + bottom + int(0.2 * band)))


def _zone_image(gray: np.ndarray, box: tuple[int, int, int, int], refine: bool = True) -> np.ndarray:
    h, w = gray.shape
    x0, y0, x1, y1 = _refine_box(gray, box) if refine else box
    pad = max(2, (y1 - y0) // 8)
    crop = gray[max(0, y0 - pad):min(h, y1 + pad), max(0, x0 - pad):min(w, x1 + pad)]
    if crop.size == 0:
        return np.full((8, 8), 255, np.uint8)
    if crop.shape[0] < 40:  # Tesseract reads best with ~30 px capitals
        f = 40 / crop.shape[0]
        crop = cv2.resize(crop, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
    # Tesseract misreads glyphs that touch the border: add a margin of background
    margin = max(8, crop.shape[0] // 3)
    background = int(np.percentile(crop, 90))
    crop = cv2.copyMakeBorder(crop, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=background)
    # and the faint guilloche background confuses it: binarise (Otsu)
    _t, crop = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return np.ascontiguousarray(crop)


def _scaled(binary: np.ndarray, scale: float) -> np.ndarray:
    """A binarised zone image resized by ``scale`` and binarised again."""
    if scale == 1.0:
        return binary
    resized = cv2.resize(binary, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(cv2.threshold(resized, 127, 255, cv2.THRESH_BINARY)[1])


def _value_line(text: str, label: str | None, clean: Callable[[str], str]) -> str:
    """The longest line of ``text`` that is not the field's printed label."""
    label_words = {w for w in fold_words(label or "") if len(w) > 2}
    best = ""
    for line in text.splitlines():
        words = set(fold_words(line))
        if "/" in line or (label_words and len(words & label_words) >= 1):
            continue
        value = clean(line)
        if len(value) > len(best):
            best = value
    return best


def fold_words(text: str) -> list[str]:
    """Upper-case words without accents (to recognise printed labels)."""
    text = unicodedata.normalize("NFKD", text.upper())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return "".join(c if c.isalnum() else " " for c in text).split()


def read_printed_fields(rectified: ImageSource, card_type: CardType | str = CardType.CNIE_2021,
                        side: Side | str = Side.RECTO, *, names: Sequence[str] | None = None,
                        engine: OCREngine | None = None) -> PrintedFields:
    """Read the printed fields of one side of a rectified card.

    ``names`` restricts the zones read (default: every field zone of the
    side). Raises :class:`~idverify.errors.InputError` on an unusable image
    and :class:`~idverify.errors.EngineError` when no OCR engine exists.
    """
    t0 = time.perf_counter()
    layout = get_layout(card_type, side)
    loaded = load_image(rectified)
    gray = cv2.cvtColor(loaded.pixels, cv2.COLOR_RGB2GRAY)
    size = (gray.shape[1], gray.shape[0])
    zones = [z for z in layout.zones_of(ZoneKind.FIELD) if names is None or z.name in names]
    if names is not None and len(zones) != len(set(names)):
        unknown = sorted(set(names) - {z.name for z in zones})
        raise UsageError("usage_error", f"no such field zone on {layout.card_type.value}/{layout.side.value}: "
                                        f"{', '.join(unknown)}")
    engine = engine or default_engine()
    fields: dict[str, str] = {}
    for zone in zones:
        spec = _SPECS.get(zone.name, _FieldSpec())
        lang = OCR.printed_lang if spec.whitelist is None else "eng"
        image = _zone_image(gray, zone.pixel_box(size), refine=spec.psm == 7)
        text = engine.recognize(image, lang=lang, psm=spec.psm, whitelist=spec.whitelist)
        if zone.name == "address":
            fields[zone.name] = "\n".join(_clean_text(x) for x in text.splitlines() if _clean_text(x))
            continue
        value = spec.clean(text)
        if not value and spec.psm == 7:  # a tilted or crowded line: let Tesseract segment the block,
            block = engine.recognize(_zone_image(gray, zone.pixel_box(size)), lang=lang, psm=6,
                                     whitelist=spec.whitelist)
            value = _value_line(block, zone.label, spec.clean)  # and drop the printed label
        length = _LENGTHS.get((layout.card_type.value, zone.name))
        if length is not None and len(value) != length:
            # a read of another length than the value's format: Tesseract's line mode can double or drop a
            # glyph at one scale and not at another; read the zone again larger, then as one word, then as a raw
            # line, and keep the first read of the right length
            for scale, psm in RE_READS:
                again = spec.clean(engine.recognize(_scaled(image, scale), lang=lang, psm=psm,
                                                    whitelist=spec.whitelist))
                if len(again) == length:
                    value = again
                    break
        fields[zone.name] = value
    values: dict[str, Any] = {}
    for name in ("birth_date", "expiry_date", "issue_date"):
        if name in fields:
            values[name] = parse_date_fr(fields[name])
            if values[name]:  # printed form, spacing normalised
                y, m, d = values[name].split("-")
                fields[name] = f"{d} {m} {y}"
    if "height" in fields:
        values["height_cm"] = parse_height(fields["height"])
        if values["height_cm"]:
            fields["height"] = f"{values['height_cm'] // 100},{values['height_cm'] % 100:02d} m"
    if "given_names" in fields:
        values["given_names"] = [g.strip() for g in fields["given_names"].split(",") if g.strip()]
    if "sex" in fields:
        values["sex"] = fields["sex"][:1] or None
    details = {"engine": f"{engine.name} {engine.version}", "lang": OCR.printed_lang,
               "elapsed_ms": round((time.perf_counter() - t0) * 1000, 1)}
    return PrintedFields(layout.card_type.value, layout.side.value, frozen_mapping(fields), frozen_mapping(values),
                         frozen_mapping(details))
