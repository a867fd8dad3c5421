"""Locate a card already seen in another photo by its printed content.

The edge search (:mod:`idverify.document.locate`) finds *a* card-shaped
outline. When the card is known from another photo (the flat recto when the
tilted photo is checked), its content locates it where the outline fails: a
card edge lying over a white sheet, the portrait frame or the sheet under the
card taken for the card, a steep tilt that reads the card sideways (and
the other way round: the flat card by the tilted photo's content). SIFT
keypoints of the known rectified card are matched in the photo (Lowe's
ratio test), a homography is fitted by RANSAC and the known card's corners
are projected through it. The match is kept only with enough inliers and a
projected outline that is convex, not mirrored and of the card's aspect.

Another card of the same type shares its background and labels, so it is
matched too: this finds *where* the card is, not *whether* it is the same
card (that is :func:`idverify.document.tilt.same_card_score`'s job).
"""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np

from idverify.config import DOCUMENT, DocumentConfig
from idverify.document.locate import CardLocation
from idverify.document.outline import is_convex
from idverify.document.quads import aspects_over_focals, card_width, focal_prior, runs_off_frame, warp_card


@dataclasses.dataclass(frozen=True, slots=True)
class CardMatch:
    """Where a known card is in a photo: its corners (TL, TR, BR, BL as in the known card) and the evidence."""

    corners: np.ndarray  # (4, 2) in the photo's original pixels
    matches: int  # keypoint pairs passing the ratio test
    inliers: int  # of those, consistent with the homography


def _gray_at(rgb: np.ndarray, side: int, longer: bool) -> tuple[np.ndarray, float]:
    """Grey copy with its longer side (``longer``) or its width at most ``side`` px, and the scale applied."""
    h, w = rgb.shape[:2]
    s = min(1.0, side / (max(h, w) if longer else w))
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if s < 1.0:
        gray = cv2.resize(gray, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return gray, gray.shape[1] / w


def match_card(reference: np.ndarray, photo: np.ndarray, *, photo_scale: float = 1.0,
               cfg: DocumentConfig = DOCUMENT) -> CardMatch | None:
    """The card shown rectified in ``reference`` (RGB) found in ``photo`` (RGB), or ``None``.

    ``photo_scale`` is ``photo``'s width over the original photo's width
    (:attr:`idverify.media.LoadedImage.scale`): corners come back in the
    original's pixels.
    """
    tmpl, _ = _gray_at(reference, cfg.match_reference_width, longer=False)
    img, s = _gray_at(photo, cfg.match_photo_side, longer=True)
    sift = cv2.SIFT.create(nfeatures=cfg.match_features)
    k1, d1 = sift.detectAndCompute(tmpl, None)
    k2, d2 = sift.detectAndCompute(img, None)
    if d1 is None or d2 is None or len(k1) < 4 or len(k2) < 4:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(d1, d2, k=2)
    good = [m[0] for m in pairs if len(m) == 2 and m[0].distance < cfg.match_ratio * m[1].distance]
    if len(good) < cfg.match_min_inliers:
        return None
    src = np.array([k1[m.queryIdx].pt for m in good], np.float32)
    dst = np.array([k2[m.trainIdx].pt for m in good], np.float32)
    hom, mask = cv2.findHomography(src, dst, cv2.RANSAC, cfg.match_ransac_px, maxIters=2000, confidence=0.999)
    if hom is None or mask is None:
        return None
    inliers = int(mask.sum())
    if inliers < cfg.match_min_inliers:
        return None
    h, w = tmpl.shape
    box = np.array([[[0, 0], [w, 0], [w, h], [0, h]]], np.float32)
    corners = cv2.perspectiveTransform(box, hom)[0].astype(np.float64)
    if not _plausible(corners, img.shape[1::-1], w / h, cfg):
        return None
    return CardMatch(corners / (s * photo_scale), len(good), inliers)


def _plausible(corners: np.ndarray, size: tuple[int, int], aspect: float, cfg: DocumentConfig) -> bool:
    """Convex, clockwise as the card (not mirrored), and a rectangle of the card's aspect seen in perspective."""
    if not np.all(np.isfinite(corners)) or not is_convex(corners):
        return False
    x, y = corners[:, 0], corners[:, 1]
    if 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) <= 0:  # counter-clockwise: mirrored
        return False
    seen = aspects_over_focals(corners, size, cfg.focal_factor * max(size), ((1.0, 0.0), *focal_prior(cfg)))
    errors = [abs(math.log(r / aspect)) + cost for r, cost in seen]
    return bool(errors) and min(errors) <= cfg.max_aspect_error


def locate_like(reference: CardLocation, photo: CardLocation, cfg: DocumentConfig = DOCUMENT) -> CardLocation | None:
    """``photo``'s card located by matching ``reference``'s rectified card in it, or ``None`` when it does not match.

    The result has ``reference``'s type, side and rectified size, the
    framing reasons of :func:`~idverify.document.locate.locate_card`
    (``card_cut_off``, ``card_too_small``) and ``matched=True``.
    """
    if reference.rectified is None or photo.image is None:
        return None
    work = photo.image
    found = match_card(reference.rectified, work.pixels, photo_scale=work.scale, cfg=cfg)
    if found is None:
        return None
    corners = found.corners
    ow, oh = work.original_size
    area = abs(float(cv2.contourArea(corners.astype(np.float32)))) / float(ow * oh)
    rh, rw = reference.rectified.shape[:2]
    card_w = card_width(corners, rw / rh)
    reason = None
    if runs_off_frame(corners, (ow, oh), cfg):
        reason = "card_cut_off"
    elif area < cfg.min_area_fraction:
        reason = "card_too_small"
    rect = warp_card(work.pixels, corners * work.scale, (rw, rh)) if reason is None else None
    return dataclasses.replace(
        photo, found=reason is None, reason=reason, corners=corners, rectified=rect, aspect=rw / rh,
        card_type=reference.card_type, side=reference.side, side_score=reference.side_score, rotated_180=False,
        card_width_px=card_w, area_fraction=area, full_frame=False, matched=True, match_inliers=found.inliers)


__all__ = ["CardMatch", "locate_like", "match_card"]
