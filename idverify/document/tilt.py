"""Tilt and hologram: the tilted photo shows the same card, really tilted, and its OVD responds.

Given the flat and the tilted captures of one side (both located and
rectified):

1. **Registration**: the tilted card is aligned on the flat one (the 180°
   turn is chosen by correlation, then ECC refines a homography at 384 px),
   and the *personalised* zones (printed fields, portrait) are compared by
   normalised cross-correlation of their local structure. Another card of
   the same type shares the background and labels but not the values, so
   only the same card scores high. When the two outlines found do not
   register (one photo's outline search took an inner frame, or a sheet
   under the card), the tilted card is located by the flat card's content
   (:mod:`idverify.document.match`), else the flat card by the tilted one's.
2. **Angle**: each capture's pose comes from the homography between the
   physical card (known aspect) and the photo, with each photo's focal
   length estimated from the card's perspective when that is well
   conditioned (:mod:`idverify.document.focal`), else a phone default; the
   tilt is the angle between the two viewing directions, in the card's
   frame. The evidence says which focal length was used and how.
3. **Hologram response**: a per-channel gain + offset fitted on the non-OVD
   area explains the global lighting change; the residual colour change
   inside the OVD zones, relative to the residual elsewhere, is the
   response. A photocopy, print or screen shows no more change there than
   anywhere else.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import cv2
import numpy as np

from idverify.config import DOCUMENT, DocumentConfig
from idverify.document.focal import FocalEstimate, card_homography, estimate_focal
from idverify.document.layout import CardLayout, ZoneKind
from idverify.document.locate import CardLocation, layout_for, locate_card
from idverify.document.match import locate_like
from idverify.media import ImageSource
from idverify.results import Check

REG_WIDTH = 384
RESP_WIDTH = 384
_CHROMA_WEIGHT = 12.0  # an OVD changes hue; lighting, gloss and a sheen on paper change brightness (seeds 0-4 margin)


@dataclasses.dataclass(frozen=True, slots=True)
class TiltResult:
    """The three tilt checks and what they measured."""

    checks: tuple[Check, ...]
    angle_deg: float | None
    same_card: float | None
    ovd_response: float | None
    aligned: np.ndarray | None = dataclasses.field(default=None, repr=False)  # tilted card warped onto the flat
    tilted: CardLocation | None = dataclasses.field(default=None, repr=False)  # the tilted card's location used
    flat: CardLocation | None = dataclasses.field(default=None, repr=False)  # the flat card's location used

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


def _gray(rgb: np.ndarray, width: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (width, max(8, round(h * width / w))), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0


def _structure(gray: np.ndarray) -> np.ndarray:
    """Local structure (band-pass, contrast-normalised): robust to lighting changes."""
    low = cv2.GaussianBlur(gray, (0, 0), 6)
    band = cv2.GaussianBlur(gray, (0, 0), 0.8) - low
    energy = np.sqrt(cv2.GaussianBlur(band * band, (0, 0), 6)) + 0.02
    return band / energy


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 1e-9 else 0.0


def register(flat: np.ndarray, tilted: np.ndarray,
             max_shift: float = DOCUMENT.max_ecc_shift) -> tuple[np.ndarray, bool, float]:
    """(homography mapping flat -> tilted pixels at REG_WIDTH, tilted turned by 180°, ECC score).

    ECC can diverge on a pair it cannot align (a shifted crop, little
    texture) and come back with a homography that folds the card; one that
    moves a corner by more than ``max_shift`` of the width is dropped for the
    identity (score 0), as when ECC fails.
    """
    f = _gray(flat, REG_WIDTH)
    t = _gray(tilted, REG_WIDTH)
    if t.shape != f.shape:
        t = cv2.resize(t, (f.shape[1], f.shape[0]), interpolation=cv2.INTER_AREA)
    sf = _structure(f)
    turned = _ncc(sf, _structure(t[::-1, ::-1])) > _ncc(sf, _structure(t))
    if turned:
        t = np.ascontiguousarray(t[::-1, ::-1])
    warp = np.eye(3, dtype=np.float32)
    score = 0.0
    try:
        criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-4)
        score, found = cv2.findTransformECC(cv2.GaussianBlur(f, (0, 0), 1.5), cv2.GaussianBlur(t, (0, 0), 1.5),
                                            warp, cv2.MOTION_HOMOGRAPHY, criteria, None, 5)  # type: ignore[call-overload]
        warp = np.asarray(found, np.float32)
    except cv2.error:
        warp = np.eye(3, dtype=np.float32)
    h, w = f.shape
    box = np.array([[[0, 0], [w, 0], [w, h], [0, h]]], np.float32)
    moved = cv2.perspectiveTransform(box, warp.astype(np.float64))[0] - box[0]
    if not np.all(np.isfinite(moved)) or float(np.abs(moved).max()) > max_shift * w:
        warp, score = np.eye(3, dtype=np.float32), 0.0
    return warp, turned, float(score)


def _zone_mask(layout: CardLayout | None, kinds: tuple[ZoneKind, ...], size: tuple[int, int]) -> np.ndarray:
    w, h = size
    m = np.zeros((h, w), bool)
    if layout is None:
        return m
    for z in layout.zones:
        if z.kind in kinds:
            x0, y0, x1, y1 = z.pixel_box((w, h))
            m[y0:y1, x0:x1] = True
    return m


def _fine(gray: np.ndarray) -> np.ndarray:
    """Fine structure (strokes of the characters), contrast-normalised."""
    band = cv2.GaussianBlur(gray, (0, 0), 0.6) - cv2.GaussianBlur(gray, (0, 0), 2.5)
    energy = np.sqrt(cv2.GaussianBlur(band * band, (0, 0), 5)) + 0.01
    return (band / energy).astype(np.float32)


def same_card_score(flat: np.ndarray, aligned: np.ndarray, layout: CardLayout | None,
                    valid: np.ndarray | None = None) -> float:
    """Median over the printed values (fields, MRZ) of the best normalised correlation within a few pixels.

    Another card of the same type has the same labels and background but
    other characters in these boxes, so its strokes do not line up.
    """
    h, w = flat.shape[:2]
    sf = _fine(cv2.cvtColor(flat, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0)
    st = _fine(cv2.cvtColor(aligned, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0)
    zones = [z for z in layout.zones if z.kind in (ZoneKind.FIELD, ZoneKind.MRZ)] if layout is not None else []
    boxes = [z.pixel_box((w, h)) for z in zones] or [(w // 10, h // 10, w - w // 10, h - h // 10)]
    pad = max(3, w // 80)
    ink = cv2.GaussianBlur(cv2.cvtColor(flat, cv2.COLOR_RGB2GRAY), (0, 0), 1)
    scores = []
    for x0, y0, x1, y1 in boxes:
        if x1 - x0 < 12 or y1 - y0 < 6:
            continue
        if valid is not None and valid[y0:y1, x0:x1].mean() < 0.9:
            continue
        patch = ink[y0:y1, x0:x1]
        if patch.size == 0 or float(patch.std()) < 12:  # a blank value box says nothing
            continue
        tmpl = sf[y0:y1, x0:x1]
        area = st[max(0, y0 - pad):min(h, y1 + pad), max(0, x0 - pad):min(w, x1 + pad)]
        if area.shape[0] < tmpl.shape[0] or area.shape[1] < tmpl.shape[1]:
            continue
        res = cv2.matchTemplate(area, tmpl, cv2.TM_CCOEFF_NORMED)
        scores.append(float(res.max()))
    return float(np.median(scores)) if scores else 0.0


def focal_for(loc: CardLocation, aspect: float, cfg: DocumentConfig = DOCUMENT) -> FocalEstimate:
    """Focal length of ``loc``'s photo from the card's perspective (:mod:`.focal`), else the phone default."""
    assert loc.corners is not None
    return estimate_focal(loc.corners, loc.image_size, aspect, cfg.focal_factor * max(loc.image_size),
                          min_factor=cfg.focal_min_factor, max_factor=cfg.focal_max_factor,
                          max_spread=cfg.focal_max_spread, corner_sigma=cfg.focal_corner_sigma)


def camera_pose(corners: np.ndarray, image_size: tuple[int, int], aspect: float, focal: float) -> tuple[np.ndarray,
                                                                                                       np.ndarray]:
    """(R, t) of the card plane (width 1, height 1/aspect) seen as ``corners`` (TL, TR, BR, BL) at ``focal`` px."""
    w, h = image_size
    k = np.array([[focal, 0, w / 2.0], [0, focal, h / 2.0], [0, 0, 1.0]])
    hom = card_homography(corners, aspect)
    if hom is None:
        return np.eye(3), np.array([0, 0, 1.0])
    m = np.linalg.inv(k) @ hom
    lam = 2.0 / (np.linalg.norm(m[:, 0]) + np.linalg.norm(m[:, 1]))
    r1, r2, t = m[:, 0] * lam, m[:, 1] * lam, m[:, 2] * lam
    if t[2] < 0:
        r1, r2, t = -r1, -r2, -t
    r = np.column_stack([r1, r2, np.cross(r1, r2)])
    u, _, vt = np.linalg.svd(r)
    r = u @ vt
    return r, t


def viewing_direction(loc: CardLocation, aspect: float, focal: float) -> np.ndarray:
    """Unit vector from the card centre to the camera, in the card's own frame."""
    assert loc.corners is not None
    r, t = camera_pose(loc.corners, loc.image_size, aspect, focal)
    centre = r @ np.array([0.5, 0.5 / aspect, 0.0]) + t
    v = r.T @ (-centre)
    return v / max(float(np.linalg.norm(v)), 1e-9)


def ovd_response(flat: np.ndarray, aligned: np.ndarray, layout: CardLayout | None,
                 valid: np.ndarray | None = None) -> float:
    """Colour change inside the OVD zones over the change elsewhere, once the capture differences are explained.

    What differs between the two shots of a flat print is modelled on the
    non-OVD area and removed everywhere: per output Lab channel, a linear
    function of the three flat channels (a 3x3 colour transform: white
    balance, a screen's or a print's gamut mixes channels) whose gain on the
    same channel varies linearly across the card, plus an offset plane.
    The residual at a pixel is the smallest over the tilted view shifted by
    up to 1 px (half resolution), so the registration error at printed
    detail (a portrait, a pictogram's outline) is not taken for a change;
    chroma counts ``_CHROMA_WEIGHT`` x luminance, as an OVD changes hue. The
    response is the mean residual in the OVD zones over a robust level of
    the residual elsewhere: it measures a change per pixel, not per zone,
    so a small pictogram responds as much as a large overlay.
    """
    h, w = flat.shape[:2]
    ovd = _zone_mask(layout, (ZoneKind.OVD,), (w, h))
    if not ovd.any():
        return 0.0
    # half resolution: holograms change over large areas, and the fit is 4x cheaper
    h, w = h // 2, w // 2
    f = cv2.resize(cv2.cvtColor(flat, cv2.COLOR_RGB2LAB), (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    t = cv2.resize(cv2.cvtColor(aligned, cv2.COLOR_RGB2LAB), (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    f = (np.asarray(cv2.GaussianBlur(f, (0, 0), 1.0), np.float32) - 128.0) / 128.0
    t = np.asarray(cv2.GaussianBlur(t, (0, 0), 1.0), np.float32)
    if valid is not None:
        valid = cv2.resize(valid.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    ovd = _zone_mask(layout, (ZoneKind.OVD,), (w, h))
    rest = ~ovd
    if valid is not None:
        rest &= valid
        ovd = ovd & valid
    # keep away from the card border (registration and corner rounding)
    border = np.zeros((h, w), bool)
    m = max(2, w // 40)
    border[m:-m, m:-m] = True
    rest &= border
    if rest.sum() < 100 or ovd.sum() < 50:
        return 0.0
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    xx /= w
    yy /= h
    sel = np.flatnonzero(rest.ravel())[:: max(1, int(rest.sum()) // 20000)]
    ones = np.ones((h, w), np.float32)
    preds = []
    for c in range(3):
        fc = f[:, :, c]
        basis = np.stack([fc, fc * xx, fc * yy, ones, xx, yy, f[:, :, (c + 1) % 3], f[:, :, (c + 2) % 3]],
                         axis=-1).reshape(-1, 8)
        a = basis[sel].astype(np.float64)
        # normal equations (8 x 8): LAPACK's least squares on the 20000 rows costs ~5 ms a channel
        coef = np.linalg.solve(a.T @ a + 1e-6 * np.eye(8), a.T @ t[:, :, c].ravel()[sel])
        preds.append((basis @ coef).reshape(h, w).astype(np.float32))
    padded = cv2.copyMakeBorder(t, 1, 1, 1, 1, cv2.BORDER_REPLICATE)
    resid = np.full((h, w), np.inf, np.float32)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            shifted = padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
            r = np.abs(shifted[:, :, 0] - preds[0])
            r += _CHROMA_WEIGHT * (np.abs(shifted[:, :, 1] - preds[1]) + np.abs(shifted[:, :, 2] - preds[2]))
            np.minimum(resid, r, out=resid)
    inside = float(np.mean(resid[ovd]))
    outside = float(np.median(resid[rest])) + float(np.mean(resid[rest])) * 0.5
    return inside / max(outside, 1.0)


@dataclasses.dataclass(frozen=True, slots=True)
class _Aligned:
    """The tilted card warped onto the flat one at RESP_WIDTH, and how well its printed values match."""

    flat: np.ndarray
    aligned: np.ndarray
    valid: np.ndarray
    same: float
    evidence: Mapping[str, object]

    def noted(self, **evidence: object) -> _Aligned:
        """The same alignment with more evidence."""
        return dataclasses.replace(self, evidence={**self.evidence, **evidence})


def _align(fr: np.ndarray, tr: np.ndarray, layout: CardLayout | None, cfg: DocumentConfig) -> _Aligned:
    h, w = fr.shape[:2]
    if tr.shape != fr.shape:
        tr = cv2.resize(tr, (w, h), interpolation=cv2.INTER_AREA)
    warp, turned, ecc = register(fr, tr, cfg.max_ecc_shift)
    if turned:
        tr = np.ascontiguousarray(tr[::-1, ::-1])
    # warp the tilted card onto the flat one at the response resolution
    rw = RESP_WIDTH
    rh = round(h * rw / w)
    scale = np.diag([rw / REG_WIDTH, rw / REG_WIDTH, 1.0]).astype(np.float32)
    warp_r = scale @ warp @ np.linalg.inv(scale)
    f_small = cv2.resize(fr, (rw, rh), interpolation=cv2.INTER_AREA)
    t_small = cv2.resize(tr, (rw, rh), interpolation=cv2.INTER_AREA)
    aligned = cv2.warpPerspective(t_small, warp_r, (rw, rh), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                  borderMode=cv2.BORDER_REPLICATE)
    valid = cv2.warpPerspective(np.ones((rh, rw), np.uint8), warp_r, (rw, rh),
                                flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP) > 0
    same = same_card_score(f_small, aligned, layout, valid)
    return _Aligned(f_small, aligned, valid, same, {"ecc": round(ecc, 4), "turned_180": turned})


def check_tilt(flat: CardLocation | ImageSource, tilted: CardLocation | ImageSource, *,
               layout: CardLayout | None = None, cfg: DocumentConfig = DOCUMENT) -> TiltResult:
    """Tilt checks between the flat and the tilted capture of the same side.

    Photos (paths, bytes, arrays) are located first; ``layout`` defaults to
    the flat card's classified layout. When the two cards, as located by
    their outlines, do not register, the tilted card is located again by the
    flat card's content (:func:`.match.locate_like`), and if that does not
    register either, the flat card by the tilted card's content (the flat
    photo's outline may be the wrong one); the best registration is kept.
    :attr:`TiltResult.flat` and :attr:`TiltResult.tilted` are the locations
    the checks used.
    """
    if not isinstance(flat, CardLocation):
        flat = locate_card(flat, cfg=cfg, min_source_width=0)
    if not isinstance(tilted, CardLocation):
        tilted = locate_card(tilted, cfg=cfg, min_source_width=0)
    if layout is None:
        layout = layout_for(flat.card_type, flat.side)
    flat_card = flat.rectified if flat.found else None
    outlined, outlined_card = tilted, tilted.rectified if tilted.found else None
    best: _Aligned | None = None
    if flat_card is not None and outlined_card is not None:
        best = _align(flat_card, outlined_card, layout, cfg)
    if flat_card is not None and (best is None or best.same < cfg.min_same_card):
        moved = locate_like(flat, tilted, cfg)
        if moved is not None and moved.found and moved.rectified is not None:
            again = _align(flat_card, moved.rectified, layout, cfg)
            if best is None or again.same > best.same:
                best, tilted = again.noted(matched="tilted", match_inliers=moved.match_inliers), moved
    if outlined_card is not None and (best is None or best.same < cfg.min_same_card):
        # the other way round, from the tilted card as its outline gave it (not as matched on a wrong flat card)
        moved_flat = locate_like(outlined, flat, cfg)
        if moved_flat is not None and moved_flat.found and moved_flat.rectified is not None:
            lay = layout_for(moved_flat.card_type, moved_flat.side)
            again = _align(moved_flat.rectified, outlined_card, lay, cfg)
            if best is None or again.same > best.same:
                best = again.noted(matched="flat", match_inliers=moved_flat.match_inliers)
                flat, tilted, layout = moved_flat, outlined, lay
    if best is None or flat.rectified is None or tilted.rectified is None:
        c = Check("tilt_same_card", False, "card_not_found", evidence={"crop": "tilted/rectified"})
        return TiltResult((c,), None, None, None, tilted=tilted, flat=flat)
    fr = flat.rectified
    # 1. same card: the personalised zones, matched zone by zone with a small search
    same = best.same
    ev = {"crop": "tilted/aligned", **best.evidence}
    checks = [Check("tilt_same_card", same >= cfg.min_same_card, None if same >= cfg.min_same_card
                    else "tilt_not_same_card", score=round(same, 4), threshold=cfg.min_same_card, evidence=ev)]
    # 2. angle between the viewing directions, in the card's frame
    # (each photo's focal length from its own card when well conditioned, else the phone default)
    h, w = fr.shape[:2]
    aspect = layout.aspect if layout is not None else w / h
    angle: float | None = None
    angle_ev: dict[str, object] = {"crop": "tilted/rectified", "range_deg": [cfg.min_tilt_deg, cfg.max_tilt_deg]}
    try:
        f_flat = focal_for(flat, aspect, cfg)
        f_tilt = focal_for(tilted, aspect, cfg)
        angle_ev["flat"] = f_flat.to_evidence(flat.image_size)
        angle_ev["tilted"] = f_tilt.to_evidence(tilted.image_size)
        v_flat = viewing_direction(flat, aspect, f_flat.focal)
        v_tilt = viewing_direction(tilted, aspect, f_tilt.focal)
        angle = math.degrees(math.acos(float(np.clip(np.dot(v_flat, v_tilt), -1.0, 1.0))))
    except (np.linalg.LinAlgError, cv2.error, ValueError):
        angle = None
    ok_angle = angle is not None and cfg.min_tilt_deg <= angle <= cfg.max_tilt_deg
    checks.append(Check("tilt_angle", ok_angle, None if ok_angle else "tilt_angle_out_of_range",
                        score=None if angle is None else round(angle, 2), threshold=cfg.min_tilt_deg,
                        evidence=angle_ev))
    # 3. hologram response
    resp = ovd_response(best.flat, best.aligned, layout, best.valid)
    ok_resp = resp >= cfg.min_ovd_response
    zones = [z.name for z in layout.zones_of(ZoneKind.OVD)] if layout else []
    checks.append(Check("hologram", ok_resp, None if ok_resp else "no_hologram_response", score=round(resp, 3),
                        threshold=cfg.min_ovd_response, evidence={"crop": "tilted/aligned", "zones": zones}))
    return TiltResult(tuple(checks), angle, same, resp, best.aligned, tilted, flat)


__all__ = ["TiltResult", "camera_pose", "check_tilt", "focal_for", "ovd_response", "register", "viewing_direction"]
