"""``read_carte_vitale(image)``: the NIR and the holder's name from a carte Vitale photo.

The card is rectified first when the photo shows more than the card
(:func:`idverify.document.locate.locate_card`); the lower-left part of the
card (name lines and NIR) is read with Tesseract's French model, the NIR is
found by its grouped pattern and kept only when its key is right
(:func:`idverify.ocr.nir.find_nirs`), and the holder's name is the one or two
capital-letter lines printed just above it (given names, then surname). A
second pass with a digits whitelist and a last one on the whole image catch
NIRs the first pass missed.
"""

from __future__ import annotations

import dataclasses
import re
import time
import unicodedata
from typing import Any

import cv2
import numpy as np

from idverify.errors import IdVerifyError
from idverify.media import ImageSource, load_image
from idverify.ocr.engine import OCREngine, default_engine
from idverify.ocr.nir import compact, find_nirs, parse_nir
from idverify.results import frozen_mapping, to_jsonable

_CARD_ASPECT = 85.60 / 53.98
# printed words that are not names (LE, DE, DU... are name particles: not listed)
_NOT_NAMES = {"SPECIMEN", "VITALE", "CARTE", "ASSURANCE", "MALADIE", "EMISE", "ÉMISE", "DATE", "DELIVRANCE",
              "DÉLIVRANCE"}


@dataclasses.dataclass(frozen=True)
class VitaleResult:
    """What was read on a carte Vitale (contract: ``.nir``, ``.surname``, ``.given_names``, ``to_dict()``).

    ``nir`` is the compact 15-character NIR (key verified) or ``None`` with
    ``reason="nir_not_found"``.
    """

    nir: str | None
    surname: str | None
    given_names: str | None
    reason: str | None = None
    details: Any = dataclasses.field(default_factory=frozen_mapping)

    @property
    def formatted(self) -> str | None:
        return None if self.nir is None else parse_nir(self.nir).formatted

    def to_dict(self) -> dict[str, Any]:
        parts = parse_nir(self.nir).to_dict() if self.nir else None
        return {"nir": self.nir, "formatted": self.formatted, "nir_parts": parts, "surname": self.surname,
                "given_names": self.given_names, "reason": self.reason, "details": to_jsonable(self.details)}


def _leading_capitals(line: str) -> str:
    """The capital-letter words at the start of a line ("LEFÈVRE Date de ..." -> "LEFÈVRE")."""
    out = []
    for word in line.split():
        core = word.strip(".,:;'-_|")
        if not any(c.isalpha() for c in core):
            continue
        if any(c.isdigit() or (c.isalpha() and c != c.upper()) for c in core):
            break
        out.append(word)
    return " ".join(w.strip("_|") for w in out)


def _is_name_line(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    if len(letters) < 2 or any(c.isdigit() for c in line):
        return False
    if any(c.isalpha() and c != c.upper() for c in line):
        return False
    words = re.findall(r"[^\W\d_]+", line)
    return bool(words) and not any(w.upper() in _NOT_NAMES for w in words)


def _names_above(text: str, nir: str) -> tuple[str | None, str | None]:
    lines = [unicodedata.normalize("NFC", " ".join(x.split())).strip(" .,:;|") for x in text.splitlines()]
    lines = [x for x in lines if x]
    index = next((i for i, x in enumerate(lines) if compact(nir)[:7] in compact(x)), len(lines))
    names: list[str] = []
    for line in reversed(lines[:index]):
        line = _leading_capitals(line)
        if _is_name_line(line):
            names.insert(0, line)
            if len(names) == 2:
                break
        elif names:
            break
    if not names:
        return None, None
    if len(names) == 1:
        return names[0], None
    return names[0], names[1]


def _prepare(rgb: np.ndarray) -> np.ndarray:
    # black print on green / yellow / pale backgrounds: the brightest channel separates them best
    gray = rgb.max(axis=2)
    if gray.shape[1] < 900:
        f = 900 / gray.shape[1]
        gray = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
    # local threshold: the card's background changes colour (yellow band, green, pale)
    block = max(31, (gray.shape[1] // 18) | 1)
    binary = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, 25)
    return np.ascontiguousarray(binary)


def _card(rgb: np.ndarray) -> tuple[np.ndarray, str]:
    h, w = rgb.shape[:2]
    if abs(w / h - _CARD_ASPECT) < 0.12:
        return rgb, "whole image (card-shaped)"
    try:
        from idverify.document.locate import locate_card

        loc = locate_card(rgb, classify=False)
    except (ImportError, IdVerifyError):
        return rgb, "whole image"
    if loc.found and loc.rectified is not None:
        return loc.rectified, "rectified card"
    return rgb, "whole image (no card found)"


def read_carte_vitale(image: ImageSource, *, engine: OCREngine | None = None) -> VitaleResult:
    """Read the NIR (key-checked) and the holder's name on a carte Vitale photo.

    Bad image input raises :class:`~idverify.errors.InputError`; a card whose
    NIR cannot be read is a result with ``nir=None`` and a reason.
    """
    t0 = time.perf_counter()
    loaded = load_image(image, max_side=1600)
    engine = engine or default_engine()
    card, how = _card(loaded.pixels)
    h, w = card.shape[:2]
    region = card[int(h * 0.55):, : int(w * 0.68)]
    passes: list[tuple[str, np.ndarray, int, str | None]] = [
        ("names+nir", _prepare(region), 6, None),
        ("nir digits", _prepare(region), 6, "0123456789 AB"),
        ("whole card", _prepare(card), 11, None),
    ]
    text_for_names = ""
    nir: str | None = None
    used = ""
    for name, img, psm, whitelist in passes:
        text = engine.recognize(img, lang="fra" if whitelist is None else "eng", psm=psm, whitelist=whitelist)
        if whitelist is None and not text_for_names:
            text_for_names = text
        found = find_nirs(text)
        if found:
            nir, used = found[0], name
            if whitelist is None:
                text_for_names = text
            break
    surname = given = None
    if nir is not None:
        given, surname = _names_above(text_for_names, nir)
        if surname is None and given is not None:
            surname, given = given, None
    details = {"engine": f"{engine.name} {engine.version}", "card": how, "pass": used or None,
               "elapsed_ms": round((time.perf_counter() - t0) * 1000, 1)}
    return VitaleResult(nir, surname, given, None if nir else "nir_not_found", frozen_mapping(details))
