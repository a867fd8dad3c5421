"""Optically variable zones (holographic overlay, colour-shifting pictogram).

A hologram's colour depends on the viewing angle: :func:`apply_ovd` blends,
inside the layout's ``ZoneKind.OVD`` zones only, a diffraction-like pattern
whose rainbow hue shifts with the angle and whose strength and brightness
grow with it. Seen straight on (``angle=0``) the zones show a faint silvery
pattern; at 15-50 degrees they light up in colours that depend on the angle.
Nothing outside the OVD zones changes. A photocopy or a print is rendered
once at ``angle=0`` and keeps that look whatever the capture angle.

>>> import numpy as np
>>> from idverify.document.layout import get_layout
>>> lay = get_layout("cnie_2021", "verso")
>>> card = np.full((638, 1011, 3), 200, np.uint8)
>>> flat, tilted = apply_ovd(card, lay, 0.0), apply_ovd(card, lay, 35.0)
>>> x0, y0, x1, y1 = lay.zone("ovd_pictogram").pixel_box((1011, 638))
>>> bool(np.abs(flat[y0:y1, x0:x1].astype(int) - tilted[y0:y1, x0:x1]).mean() > 10)
True
>>> outside = np.ones((638, 1011), bool); outside[y0:y1, x0:x1] = False
>>> bool((flat[outside] == tilted[outside]).all())
True
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from idverify.document.layout import CardLayout, ZoneKind


@functools.lru_cache(maxsize=32)
def ovd_pattern(zone_name: str, width: int, height: int) -> np.ndarray:
    """Pattern strength in [0, 1] over one OVD zone (float32, read-only)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = xx / max(width, 1), yy / max(height, 1)
    if zone_name == "ovd_portrait":
        # an overlay over the photo: thin grating bands, rosettes and a 'RF' lattice, light enough to see through
        r = np.hypot(u - 0.5, (v - 0.45) * height / width)
        rosette = (np.abs(np.sin(2 * np.pi * (9 * r + 0.6 * np.sin(8 * np.arctan2(v - 0.45, u - 0.5))))) < 0.12)
        bands = np.abs(np.sin(2 * np.pi * (5 * u + 7 * v))) > 0.93
        edge = np.minimum.reduce([u, v, 1 - u, 1 - v]) < 0.035
        mask = rosette * 0.55 + bands * 0.35 + edge * 0.9
        letters = np.zeros((height, width), np.uint8)
        step = max(8, width // 4)
        for y in range(step // 2, height, step):
            for x in range((y // step % 2) * step // 2, width, step):
                cv2.putText(letters, "RF", (x, y), cv2.FONT_HERSHEY_DUPLEX, step / 90, 255,
                            max(1, step // 40), cv2.LINE_AA)
        mask = np.maximum(mask, letters.astype(np.float32) / 255 * 0.7)
    else:
        # a pictogram: a hexagon (the 'Hexagone') with a 'RF' monogram, filled with a fine grating
        poly = np.array([[0.5, 0.04], [0.93, 0.27], [0.93, 0.73], [0.5, 0.96], [0.07, 0.73], [0.07, 0.27]])
        pts = (poly * [width - 1, height - 1]).astype(np.int32)
        shape = np.zeros((height, width), np.uint8)
        cv2.fillPoly(shape, [pts], 255, cv2.LINE_AA)
        grating = 0.55 + 0.45 * np.sin(2 * np.pi * (18 * u + 11 * v))
        mask = shape.astype(np.float32) / 255 * grating
        outline = np.zeros((height, width), np.uint8)
        cv2.polylines(outline, [pts], True, 255, max(1, width // 40), cv2.LINE_AA)
        cv2.putText(outline, "RF", (int(width * 0.2), int(height * 0.62)), cv2.FONT_HERSHEY_TRIPLEX,
                    width / 80, 255, max(1, width // 30), cv2.LINE_AA)
        mask = np.maximum(mask, outline.astype(np.float32) / 255)
    out = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.7)
    out = np.clip(out, 0, 1)
    out.setflags(write=False)
    return out


def apply_ovd(image: np.ndarray, layout: CardLayout, angle: float, azimuth: float = 0.0) -> np.ndarray:
    """The card ``image`` (rectified RGB uint8) with its OVD zones as seen at ``angle`` degrees.

    ``azimuth`` (degrees) rotates the hue pattern, as turning the card would.
    Returns a new array; pixels outside the OVD zones are untouched.
    """
    out = image.copy()
    h, w = image.shape[:2]
    t = float(np.clip(abs(angle) / 35.0, 0.0, 1.0))
    for z in layout.zones_of(ZoneKind.OVD):
        x0, y0, x1, y1 = z.pixel_box((w, h))
        zw, zh = x1 - x0, y1 - y0
        if zw <= 1 or zh <= 1:
            continue
        p = ovd_pattern(z.name, zw, zh)[..., None]
        yy, xx = np.mgrid[0:zh, 0:zw].astype(np.float32)
        a = np.deg2rad(35.0 + azimuth)
        along = (xx * np.cos(a) + yy * np.sin(a)) / max(zw, zh)
        hue = (200.0 + 7.5 * angle + 140.0 * along + 40.0 * np.sin(6.0 * along + angle / 9.0)) % 360.0
        sat = np.full_like(hue, 0.12 + 0.78 * t)
        val = np.full_like(hue, 0.80 + 0.20 * t)
        rainbow = cv2.cvtColor(np.stack([hue, sat, val], -1).astype(np.float32), cv2.COLOR_HSV2RGB) * 255.0
        strength = p * (0.22 + 0.58 * t)
        region: np.ndarray = out[y0:y1, x0:x1].astype(np.float32)
        region = region * (1.0 + 0.25 * t * p)  # brighter where it diffracts
        region = region * (1.0 - strength) + rainbow * strength
        out[y0:y1, x0:x1] = np.clip(region, 0, 255).astype(np.uint8)
    return out
