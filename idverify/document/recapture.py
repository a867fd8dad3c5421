"""Recapture cues on one photo: a card shown on a screen, or a photocopy.

* **Screen**: the phone's bezel is a dark, flat frame hugging the card on
  every side. (Moiré from the display's pixel grid was tried as spectral
  peaks of the card's high-pass residual at the decoded resolution: the
  card's own guilloche and hologram make peaks as strong, so it is not used.)
* **Photocopy**: the coloured parts of an ID card (tricolour mark, chip, EU
  flag, guilloche inks) come out grey: around the card's median colour
  (which absorbs the white balance) almost no pixel has any chroma.

Prints and colour copies keep their colours and show no grid: they are
caught by the hologram check of the tilted capture instead.

>>> import numpy as np
>>> cues = recapture_cues(np.full((319, 512, 3), 200, np.uint8))
>>> sorted(cues)
['bezel', 'colourfulness']
"""

from __future__ import annotations

import cv2
import numpy as np

from idverify.config import DOCUMENT, DocumentConfig
from idverify.document.quads import CHECK_WIDTH, card_at_check_width
from idverify.results import Check


def _bezel(image: np.ndarray | None, corners: np.ndarray | None) -> float:
    """Share of a ring just outside the card that is dark and flat (a phone's bezel)."""
    if image is None or corners is None:
        return 0.0
    h, w = image.shape[:2]
    c = corners.mean(axis=0)
    outer_px, card_px = ((corners - c) * 1.12 + c).astype(np.int32), corners.astype(np.int32)
    # only the ring's bounding box is looked at (the same polygons, moved by whole pixels)
    x0, y0 = max(0, int(outer_px[:, 0].min())), max(0, int(outer_px[:, 1].min()))
    x1, y1 = min(w, int(outer_px[:, 0].max()) + 1), min(h, int(outer_px[:, 1].max()) + 1)
    if x1 <= x0 or y1 <= y0:
        return 0.0
    origin = np.array([x0, y0], np.int32)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillConvexPoly(mask, outer_px - origin, 1)
    cv2.fillConvexPoly(mask, card_px - origin, 0)
    ring = mask > 0
    if ring.sum() < 50:
        return 0.0
    hsv = cv2.cvtColor(np.ascontiguousarray(image[y0:y1, x0:x1]), cv2.COLOR_RGB2HSV)
    dark = (hsv[:, :, 2] < 55) & (hsv[:, :, 1] < 90)
    return float(dark[ring].mean())


def recapture_cues(rectified: np.ndarray, image: np.ndarray | None = None,
                   corners: np.ndarray | None = None) -> dict[str, float]:
    """Screen and photocopy cues of a rectified card; ``image``/``corners`` (same pixels) add the bezel cue."""
    small = card_at_check_width(rectified)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)
    m = max(4, CHECK_WIDTH // 40)
    inner = np.s_[m:-m, m:-m]
    # chroma around the card's median colour: white balance shifts every pixel alike, a grey copy has no spread
    a = lab[:, :, 1][inner].astype(np.float32)
    b = lab[:, :, 2][inner].astype(np.float32)
    chroma = np.hypot(a - np.median(a), b - np.median(b))
    return {
        "colourfulness": float(np.percentile(chroma, 99)),
        "bezel": _bezel(image, corners),
    }


def check_recapture(rectified: np.ndarray, image: np.ndarray | None = None, corners: np.ndarray | None = None,
                    *, cfg: DocumentConfig = DOCUMENT, crop: str = "rectified") -> Check:
    """One check: ``screen_recapture``, ``photocopy`` or passed, with the cues as evidence."""
    cues = recapture_cues(rectified, image, corners)
    screen = cues["bezel"]
    ev = {"crop": crop, **{k: round(v, 4) for k, v in cues.items()}}
    if screen > cfg.max_screen_score:
        return Check("recapture", False, "screen_recapture", score=round(screen, 3), threshold=cfg.max_screen_score,
                     evidence=ev)
    if cues["colourfulness"] < cfg.min_chroma:
        return Check("recapture", False, "photocopy", score=round(cues["colourfulness"], 4),
                     threshold=cfg.min_chroma, evidence=ev)
    return Check("recapture", True, None, score=round(screen, 3), threshold=cfg.max_screen_score, evidence=ev)


__all__ = ["check_recapture", "recapture_cues"]
