"""Capture quality of one located card: resolution, sharpness, exposure, glare.

Every measure is taken on the rectified card, so it is relative to the card
(a blur that smears the MRZ characters fails whatever the photo's size):

* ``resolution``: card width in the original photo's pixels;
* ``sharpness``: edge acuity, the mean |Laplacian| over the mean gradient
  on the strongest edges of the card at 512 px wide (a scale-free ratio:
  blur lowers the second derivative faster than the first);
* ``exposure``: median luminance (too dark) and share of clipped pixels
  outside glare spots (washed out);
* ``glare``: compact near-white, colourless blobs (specular reflections)
  and the share of the MRZ, portrait and field zones they cover.

>>> import numpy as np
>>> checks = assess_quality(np.full((638, 1011, 3), 128, np.uint8), card_width_px=1500.0)
>>> [c.name for c in checks]
['resolution', 'sharpness', 'exposure', 'glare']
"""

from __future__ import annotations

import cv2
import numpy as np

from idverify.config import DOCUMENT, DocumentConfig
from idverify.document.layout import CardLayout, ZoneKind
from idverify.document.quads import card_at_check_width
from idverify.results import Check


def sharpness(gray: np.ndarray) -> float:
    """Edge acuity of a card image (grey, ~512 px wide): ~0.5+ sharp, below ~0.3 blurred.

    >>> img = (np.indices((120, 160)).sum(axis=0) // 6 % 2 * 200).astype(np.uint8)
    >>> sharpness(img) > 0.5 > sharpness(cv2.GaussianBlur(img, (0, 0), 3))
    True
    """
    g = gray.astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    mag = cv2.magnitude(gx, gy)
    lap = np.abs(cv2.Laplacian(g, cv2.CV_32F, ksize=3))
    # where the edges are: a dilated neighbourhood of the strongest gradients
    thr = float(np.percentile(mag[::2, ::2], 95))
    if thr < 8.0:
        return 0.0
    strong = cv2.dilate((mag >= thr).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return float(lap[strong].mean() / max(float(mag[strong].mean()), 1e-6))


def glare_mask(rgb: np.ndarray) -> np.ndarray:
    """Specular glare that hides print: clipped pixels with no ink anywhere near them (bool mask).

    A bright but readable area (uneven light, white paper between the
    lines) keeps dark print within a few characters; under a glare spot the
    print itself is washed out.
    """
    lo: np.ndarray = cv2.min(cv2.min(rgb[:, :, 0], rgb[:, :, 1]), rgb[:, :, 2])  # numpy's min over axis 2 is slow
    width = rgb.shape[1]
    clipped = (lo >= 248).astype(np.uint8)
    r = max(2, round(0.04 * width))
    near_ink: np.ndarray = cv2.dilate((lo < 170).astype(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8))
    m = cv2.morphologyEx(clipped & (1 - near_ink), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(m)
    keep = np.zeros(n, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= 0.001 * m.size
    return keep[labels]


def _zone_masks(layout: CardLayout | None, size: tuple[int, int]) -> dict[str, np.ndarray]:
    w, h = size
    out: dict[str, np.ndarray] = {}
    if layout is None:
        return out
    groups = {"mrz": (ZoneKind.MRZ,), "portrait": (ZoneKind.PORTRAIT,), "fields": (ZoneKind.FIELD,)}
    for name, kinds in groups.items():
        m = np.zeros((h, w), bool)
        for z in layout.zones:
            if z.kind in kinds:
                x0, y0, x1, y1 = z.pixel_box((w, h))
                if z.kind is ZoneKind.FIELD:  # values are left-aligned: the rest of the box is often blank
                    x1 = x0 + max(1, round((x1 - x0) * 0.45))
                m[y0:y1, x0:x1] = True
        if m.any():
            out[name] = m
    return out


def assess_quality(rectified: np.ndarray, *, card_width_px: float, layout: CardLayout | None = None,
                   cfg: DocumentConfig = DOCUMENT, crop: str = "rectified") -> list[Check]:
    """Quality checks of a rectified card (RGB): resolution, sharpness, exposure, glare.

    ``card_width_px`` is the card's width in the original photo; ``layout``
    (when the card type is known) names the zones a glare must not cover;
    ``crop`` is the evidence reference put in each check.
    """
    small = card_at_check_width(rectified)
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    ev = {"crop": crop}
    checks = [Check("resolution", card_width_px >= cfg.min_card_width_px,
                    None if card_width_px >= cfg.min_card_width_px else "low_resolution",
                    score=float(card_width_px), threshold=cfg.min_card_width_px, evidence=ev)]
    sharp = sharpness(gray)
    checks.append(Check("sharpness", sharp >= cfg.min_sharpness, None if sharp >= cfg.min_sharpness else "too_blurry",
                        score=round(sharp, 4), threshold=cfg.min_sharpness, evidence=ev))
    glare = glare_mask(small)
    median = float(np.median(gray))
    clipped = float(((gray >= 252) & ~glare).mean())
    if median < cfg.min_brightness:
        exposure = Check("exposure", False, "underexposed", score=median, threshold=cfg.min_brightness,
                         evidence={**ev, "clipped": round(clipped, 4)})
    elif clipped > cfg.max_clipped:
        exposure = Check("exposure", False, "overexposed", score=round(clipped, 4), threshold=cfg.max_clipped,
                         evidence={**ev, "median_luminance": median})
    else:
        exposure = Check("exposure", True, None, score=median, threshold=cfg.min_brightness,
                         evidence={**ev, "clipped": round(clipped, 4)})
    checks.append(exposure)
    zones = _zone_masks(layout, (small.shape[1], small.shape[0]))
    if not zones:
        zones = {"fields": np.ones(gray.shape, bool)}
    cover = {name: float(glare[m].mean()) for name, m in zones.items()}
    worst = max(cover, key=lambda k: cover[k])
    limits = {"mrz": cfg.max_glare_zone, "portrait": cfg.max_glare_portrait, "fields": cfg.max_glare_fields}
    bad = [name for name in ("mrz", "portrait", "fields") if cover.get(name, 0.0) > limits[name]]
    reason = f"glare_on_{bad[0]}" if bad else None
    worst = bad[0] if bad else worst
    checks.append(Check("glare", not bad, reason, score=round(cover[worst], 4), threshold=limits[worst],
                        evidence={**ev, "coverage": {k: round(v, 4) for k, v in cover.items()},
                                  "glare_fraction": round(float(glare.mean()), 4)}))
    return checks


__all__ = ["assess_quality", "glare_mask", "sharpness"]
