"""Template check: the zones of the classified card type are where its layout puts them.

Each zone of :mod:`idverify.document.layout` gets a test of what it must hold:
the MRZ band its number of OCR-B lines, the portrait a textured image, the
chip its gold plate, the 2D-Doc area a dense black-and-white code, the
printed fields some ink. The score is the share of zones that pass; a
wrong card type or an edited layout (portrait moved, MRZ band blanked)
lowers it.

>>> import numpy as np
>>> from idverify.document.layout import get_layout
>>> check_template(np.full((638, 1011, 3), 230, np.uint8), get_layout("cnie_2021", "verso")).reason
'template_mismatch'
"""

from __future__ import annotations

import cv2
import numpy as np

from idverify.config import DOCUMENT, DocumentConfig
from idverify.document.layout import CardLayout, Zone, ZoneKind
from idverify.document.quads import CHECK_WIDTH, card_at_check_width
from idverify.document.side import mrz_lines
from idverify.results import Check

KEY_ZONES = ("mrz", "portrait")  # a side whose MRZ band or portrait is missing is not that side, whatever else fits


def _roi(img: np.ndarray, zone: Zone) -> np.ndarray:
    h, w = img.shape[:2]
    x0, y0, x1, y1 = zone.pixel_box((w, h))
    return img[y0:y1, x0:x1]


def zone_tests(rectified: np.ndarray, layout: CardLayout) -> dict[str, bool]:
    """Zone name -> whether its content fits its kind."""
    img = card_at_check_width(rectified)
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    k = max(3, CHECK_WIDTH // 60) | 1
    ink = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))) >= 40
    gold = (hsv[:, :, 0] >= 12) & (hsv[:, :, 0] <= 31) & (hsv[:, :, 1] >= 64) & (hsv[:, :, 2] >= 90)
    edges = cv2.Canny(gray, 50, 120) > 0
    out: dict[str, bool] = {}
    for z in layout.zones:
        if z.kind is ZoneKind.MRZ and layout.mrz_shape:
            lines, _ = mrz_lines(gray, band=(max(0.0, z.box[1] - 0.03), min(1.0, z.box[3] + 0.02)))
            out[z.name] = lines == layout.mrz_shape[0]
        elif z.kind is ZoneKind.PORTRAIT:
            roi = _roi(gray, z)
            out[z.name] = roi.size > 0 and float(roi.std()) >= 20.0 and float(_roi(edges, z).mean()) >= 0.03
        elif z.kind is ZoneKind.CHIP:
            out[z.name] = float(_roi(gold, z).mean()) >= 0.15
        elif z.kind is ZoneKind.BARCODE:
            roi = _roi(gray, z)
            dark = float((roi < 90).mean()) if roi.size else 0.0
            out[z.name] = 0.2 <= dark <= 0.8 and float(_roi(edges, z).mean()) >= 0.15
        elif z.kind is ZoneKind.FIELD:
            out[z.name] = float(_roi(ink, z).mean()) >= 0.01
    return out


def missing_key_zones(tests: dict[str, bool]) -> list[str]:
    """The zones among ``KEY_ZONES`` whose content does not fit (``tests`` from :func:`zone_tests`)."""
    return [n for n in KEY_ZONES if n in tests and not tests[n]]


def check_template(rectified: np.ndarray, layout: CardLayout, *, cfg: DocumentConfig = DOCUMENT,
                   crop: str = "rectified") -> Check:
    """One check: the share of the layout's zones whose content fits (``template_mismatch`` below the threshold)."""
    tests = zone_tests(rectified, layout)
    if not tests:
        return Check("template", True, None, score=1.0, threshold=cfg.min_template_score, evidence={"crop": crop})
    score = sum(tests.values()) / len(tests)
    ok = score >= cfg.min_template_score
    ok = ok and not missing_key_zones(tests)
    return Check("template", ok, None if ok else "template_mismatch", score=round(score, 3),
                 threshold=cfg.min_template_score,
                 evidence={"crop": crop, "layout": f"{layout.card_type.value}/{layout.side.value}",
                           "failed_zones": sorted(n for n, v in tests.items() if not v)})


__all__ = ["KEY_ZONES", "check_template", "missing_key_zones", "zone_tests"]
