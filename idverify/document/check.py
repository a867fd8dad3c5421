"""``check_document(recto=, verso=, tilted=)``: three photos of one ID card, checked.

For each photo: locate and rectify the card, capture quality, side and type,
template, recapture cues. Across photos: the recto and verso belong together
(not swapped, not the same side twice, one card type) and the tilted photo
shows the same card, really tilted, with its optically variable zones
responding. The MRZ (verso of the CNIe, recto of the old card) is read by
:func:`idverify.ocr.read_mrz` when that module is installed; the fields it
gives land in ``report.fields``.

Checks are named ``<photo>.<check>`` (``recto.sharpness``, ``verso.side``,
``tilted.hologram``) plus ``sides``; each carries ``evidence["crop"]``, a
key of :attr:`DocumentReport.crops` (rectified cards, the aligned tilted
card, the portrait), kept on the object and never in ``to_dict()``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from idverify.config import DOCUMENT, DocumentConfig
from idverify.document.layout import CardType, Side, ZoneKind
from idverify.document.locate import FULL_FRAME_MIN_SIDE, CardLocation, layout_for, locate_card
from idverify.document.quads import card_at_check_width
from idverify.document.quality import assess_quality
from idverify.document.recapture import check_recapture
from idverify.document.template import check_template
from idverify.document.tilt import TiltResult, check_tilt
from idverify.errors import InputError
from idverify.media import ImageSource
from idverify.results import Check, CheckGroup, frozen_mapping, to_jsonable

PHOTOS = ("recto", "verso", "tilted")
ID_CARDS = (CardType.CNIE_2021.value, CardType.CNI_1995.value)
MRZ_FORMATS = {CardType.CNIE_2021.value: "TD1", CardType.CNI_1995.value: "FRA_CNI_1995"}  # read_mrz's formats


@dataclasses.dataclass(frozen=True)
class DocumentReport(CheckGroup):
    """The outcome of :func:`check_document`.

    ``portrait`` is an RGB crop of the recto portrait (for
    :func:`idverify.face.compare.compare_faces`), ``crops`` the evidence
    images by the names the checks refer to; neither is serialised.
    """

    checks: tuple[Check, ...]
    fields: Mapping[str, Any]
    details: Mapping[str, Any]
    locations: Mapping[str, CardLocation | None]
    portrait: np.ndarray | None = dataclasses.field(default=None, repr=False)
    crops: Mapping[str, np.ndarray] = dataclasses.field(default_factory=frozen_mapping, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "reasons": self.reasons,
            "checks": [c.to_dict() for c in self.checks],
            "fields": to_jsonable(self.fields),
            "locations": {k: (None if v is None else v.to_dict()) for k, v in self.locations.items()},
            "details": to_jsonable(self.details),
        }


def _named(prefix: str, check: Check) -> Check:
    ev = dict(check.evidence)
    if "crop" in ev and "/" not in str(ev["crop"]):
        ev["crop"] = f"{prefix}/{ev['crop']}"
    return dataclasses.replace(check, name=f"{prefix}.{check.name}", evidence=ev)


def _locate(photo: str, source: ImageSource | None, cfg: DocumentConfig,
            hires: bool) -> tuple[CardLocation | None, list[Check]]:
    """Locate one photo; bad input becomes a check (framing comes later: :func:`_framing`)."""
    if source is None:
        return None, [Check(f"{photo}.card_found", False, "input_empty",
                            evidence={"message": f"no {photo} photo given", "input_error": True})]
    try:
        return locate_card(source, cfg=cfg, min_source_width=None if hires else 0.0), []
    except InputError as exc:
        return None, [Check(f"{photo}.card_found", False, exc.reason,
                            evidence={"message": exc.message, "input_error": True})]


def _framing(photo: str, loc: CardLocation, cfg: DocumentConfig) -> list[Check]:
    """Card found, and framed whole and large enough.

    ``card_found`` scores how the card was found: its outline's edge support (against
    ``min_edge_support``), or the keypoints of the content match with the other photo of the tilt pair
    (``match_min_inliers``), or, for a scan of the card alone, the side score of the whole frame.
    """
    ev: dict[str, Any] = {"crop": f"{photo}/rectified",
                          "corners": None if loc.corners is None else loc.corners.round(1).tolist(),
                          "outline_score": round(loc.score, 3)}
    if loc.full_frame:
        ev["found_by"], score, threshold = "whole_frame", loc.side_score, FULL_FRAME_MIN_SIDE
    elif loc.matched:  # located by the content of the same card in the other photo of the tilt pair
        ev["found_by"], score, threshold = "content_match", float(loc.match_inliers), float(cfg.match_min_inliers)
    else:
        ev["found_by"], score, threshold = "outline", loc.edge_support, cfg.min_edge_support
    found = loc.reason != "card_not_found"
    checks = [Check(f"{photo}.card_found", found, None if found else "card_not_found", score=round(score, 3),
                    threshold=threshold, evidence=ev)]
    if not found:
        return checks
    framing_ok = loc.reason is None
    checks.append(Check(f"{photo}.framing", framing_ok, loc.reason, score=round(loc.area_fraction, 4),
                        threshold=cfg.min_area_fraction, evidence=ev))
    return checks


def _tilt(located: Callable[[str], CardLocation | None], cfg: DocumentConfig) -> tuple[TiltResult | None, str]:
    """The tilt checks against the flat photo of the side the tilted photo shows (the other one if it does not
    register on that one), and that photo's name.

    ``located(photo)`` gives a photo's location, when it is ready: the verso's is waited for only when the
    tilted photo shows a verso or does not register on the recto.
    """
    t_loc = located("tilted")
    if t_loc is None or t_loc.image is None:
        return None, "recto"
    first = "recto"
    if t_loc.side == Side.VERSO.value and (v_loc := located("verso")) is not None and v_loc.side == Side.VERSO.value:
        first = "verso"
    best: tuple[TiltResult, str] | None = None
    for flat_photo in (first, "verso" if first == "recto" else "recto"):
        f_loc = located(flat_photo)
        if f_loc is None or not f_loc.found or f_loc.rectified is None:
            continue
        tilt = check_tilt(f_loc, t_loc, layout=layout_for(f_loc.card_type, f_loc.side), cfg=cfg)
        if best is None or (tilt.same_card or 0.0) > (best[0].same_card or 0.0):
            best = (tilt, flat_photo)
        if tilt.same_card is not None and tilt.same_card >= cfg.min_same_card:
            break
    return best if best is not None else (None, first)


def _photo_part(photo: str, loc: CardLocation | None, cfg: DocumentConfig) -> tuple[list[Check], dict[str, np.ndarray]]:
    """One photo's own checks (framing, capture quality, recapture, template) and its rectified crop."""
    if loc is None:
        return [], {}
    checks = _framing(photo, loc, cfg)
    if loc.rectified is None:
        return checks, {}
    layout = layout_for(loc.card_type, loc.side)
    card = card_at_check_width(loc.rectified)  # reduced once: each of these checks reads the card at this width
    checks += [_named(photo, c) for c in assess_quality(card, card_width_px=loc.card_width_px, layout=layout,
                                                        cfg=cfg)]
    image = loc.image.pixels if loc.image is not None else None
    corners = None if loc.corners is None or loc.image is None else loc.corners * loc.image.scale
    checks.append(_named(photo, check_recapture(card, image, corners, cfg=cfg)))
    if layout is not None and photo != "tilted":
        checks.append(_named(photo, check_template(card, layout, cfg=cfg)))
    return checks, {f"{photo}/rectified": loc.rectified}


def _side_checks(locs: Mapping[str, CardLocation | None], cfg: DocumentConfig) -> list[Check]:
    """Each photo shows the expected side; together (when both are read as a known card), one card's two sides."""
    checks: list[Check] = []
    read: dict[str, tuple[str, str, float]] = {}  # photo -> (card type, side, side score) of the known reads
    for photo, expected in (("recto", Side.RECTO.value), ("verso", Side.VERSO.value)):
        loc = locs.get(photo)
        if loc is None or loc.rectified is None:
            continue
        ev = {"crop": f"{photo}/rectified", "label": loc.label, "rotated_180": loc.rotated_180}
        if loc.card_type is None or loc.side is None:
            checks.append(Check(f"{photo}.side", False, "unknown_document", score=round(loc.side_score, 3),
                                threshold=cfg.min_side_score, evidence=ev))
            continue
        read[photo] = (loc.card_type, loc.side, loc.side_score)
        if loc.card_type not in ID_CARDS or loc.side != expected:
            checks.append(Check(f"{photo}.side", False, "wrong_side", score=round(loc.side_score, 3),
                                threshold=cfg.min_side_score, evidence={**ev, "expected": expected}))
        else:
            checks.append(Check(f"{photo}.side", True, None, score=round(loc.side_score, 3),
                                threshold=cfg.min_side_score, evidence=ev))
    if "recto" in read and "verso" in read:
        (rt, rs, r_score), (vt, vs, v_score) = read["recto"], read["verso"]
        reason = None
        if rt != vt:
            reason = "mixed_cards"
        elif rs == vs:
            reason = "same_side_twice"
        elif rs == Side.VERSO.value and vs == Side.RECTO.value:
            reason = "sides_swapped"
        ev = {"crop": "recto/rectified", "other_crop": "verso/rectified", "recto": f"{rt}/{rs}", "verso": f"{vt}/{vs}"}
        # scored by the less sure of the two reads: the pair's verdict rests on both
        checks.append(Check("sides", reason is None, reason, score=round(min(r_score, v_score), 3),
                            threshold=cfg.min_side_score, evidence=ev))
    # a failed per-photo side check says less than the pair check: drop the duplicates
    pair = next((c for c in checks if c.name == "sides"), None)
    if pair is not None and not pair.passed:
        checks = [c for c in checks if not (c.name.endswith(".side") and c.reason == "wrong_side")]
    return checks


def _portrait(loc: CardLocation | None) -> np.ndarray | None:
    if loc is None or loc.rectified is None:
        return None
    layout = layout_for(loc.card_type, loc.side)
    if layout is None or not layout.has("portrait"):
        return None
    h, w = loc.rectified.shape[:2]
    x0, y0, x1, y1 = layout.zone("portrait").box
    mx, my = 0.01, 0.01  # a little margin: the face detector likes some context
    box = (max(0, round((x0 - mx) * w)), max(0, round((y0 - my) * h)), min(w, round((x1 + mx) * w)),
           min(h, round((y1 + my) * h)))
    return np.ascontiguousarray(loc.rectified[box[1]:box[3], box[0]:box[2]])


def mrz_photo(locs: Mapping[str, CardLocation | None]) -> tuple[str, np.ndarray] | None:
    """The photo whose card side carries the MRZ (the CNIe's verso, the old card's recto) and its rectified card."""
    for photo in ("verso", "recto"):
        loc = locs.get(photo)
        if loc is not None and loc.rectified is not None:
            layout = layout_for(loc.card_type, loc.side)
            if layout is not None and layout.zones_of(ZoneKind.MRZ):
                return photo, loc.rectified
    return None


def _read_fields(locs: Mapping[str, CardLocation | None]) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """MRZ fields through :func:`idverify.ocr.read_mrz` on the side that carries the MRZ, if installed, and the
    photo they were read on."""
    target = mrz_photo(locs)
    if target is None:
        return {}, {"ocr": "no rectified side with an MRZ"}, None
    try:
        from idverify.ocr import read_mrz
    except ImportError as exc:  # the OCR package is optional here
        return {}, {"ocr": f"idverify.ocr not available ({exc}); fields left empty"}, None
    try:
        result = read_mrz(target[1])
    except Exception as exc:  # noqa: BLE001 - OCR trouble must not hide the capture checks
        return {}, {"ocr": f"read_mrz failed on the {target[0]}: {type(exc).__name__}: {exc}"}, None
    fields = dict(getattr(result, "fields", {}) or {})
    fields["mrz_found"] = bool(getattr(result, "found", False))
    fields["mrz_valid"] = bool(getattr(result, "valid", False))
    fields["mrz_format"] = getattr(result, "format", None)
    fields["mrz_reason"] = getattr(result, "reason", None)
    return fields, {"ocr": f"read_mrz on the rectified {target[0]}"}, target[0]


def mrz_document_check(photo: str, card_type: str | None, *, valid: bool, mrz_format: str | None,
                       issuing_state: str | None) -> Check | None:
    """Whether a valid MRZ read on ``photo`` belongs to the card its layout was read as.

    The CNIe carries a TD1 MRZ, the old card its own 2 x 36 one, both issued
    by FRA. A foreign ID card laid out like a CNIe verso, or a passport whose
    page reads like an old card, shows another format or issuing state.
    ``None`` when there is nothing to compare: no MRZ read with its check
    digits right (an unsure read says nothing about the document).

    >>> mrz_document_check("verso", "cnie_2021", valid=True, mrz_format="TD1", issuing_state="ESP").reason
    'mrz_document_mismatch'
    """
    expected = MRZ_FORMATS.get(card_type or "")
    if expected is None or not valid:
        return None
    agree = [mrz_format == expected, issuing_state == "FRA"]
    ok = all(agree)
    ev = {"crop": f"{photo}/rectified", "card_type": card_type, "expected_format": expected,
          "mrz_format": mrz_format, "issuing_state": issuing_state}
    return Check(f"{photo}.mrz_document", ok, None if ok else "mrz_document_mismatch", score=float(sum(agree)),
                 threshold=float(len(agree)), evidence=ev)


def check_document(recto: ImageSource | None = None, verso: ImageSource | None = None,
                   tilted: ImageSource | None = None, *, read_fields: bool = True,
                   cfg: DocumentConfig = DOCUMENT) -> DocumentReport:
    """Check recto, verso and tilted photos of one ID card (CNIe or old French card).

    Images are paths, bytes or RGB arrays. Undecodable input, missing
    photos and every expected failure are checks with reason codes; the
    report passes when all of them pass. ``read_fields=False`` skips the
    MRZ OCR (the capture checks alone).
    """
    t0 = time.perf_counter()
    sources = {"recto": recto, "verso": verso, "tilted": tilted}
    checks: list[Check] = []
    crops: dict[str, np.ndarray] = {}
    with ThreadPoolExecutor(max_workers=max(1, cfg.threads), thread_name_prefix="idverify-document") as pool:
        # the tilt pair first: the tilt checks run while the verso is located
        pending = {photo: pool.submit(_locate, photo, sources[photo], cfg, read_fields and photo != "tilted")
                   for photo in ("recto", "tilted", "verso")}

        def located(photo: str) -> CardLocation | None:
            return pending[photo].result()[0]

        tilt, flat_photo = _tilt(located, cfg)

        def final_location(photo: str) -> CardLocation | None:
            """The location the photo's own checks use: the one the tilt checks used, when they located the
            tilted card again (by the flat card's content) or the flat card by the tilted card's."""
            if tilt is not None and photo == "tilted" and tilt.tilted is not None:
                return tilt.tilted
            if (tilt is not None and photo == flat_photo and tilt.flat is not None and tilt.flat.matched
                    and tilt.same_card is not None and tilt.same_card >= cfg.min_same_card):
                return tilt.flat
            return located(photo)

        parts = {photo: pool.submit(lambda p: _photo_part(p, final_location(p), cfg), photo)
                 for photo in ("recto", "tilted", "verso")}
        locs = {photo: final_location(photo) for photo in PHOTOS}
        for photo in PHOTOS:
            checks += pending[photo].result()[1]  # bad input
        for photo in PHOTOS:
            photo_checks, photo_crops = parts[photo].result()
            checks += photo_checks
            crops.update(photo_crops)
    checks += _side_checks(locs, cfg)
    if tilt is not None and locs["tilted"] is not None and locs["tilted"].found:
        checks += [_named("tilted", c) for c in tilt.checks]
        if tilt.aligned is not None:
            crops["tilted/aligned"] = tilt.aligned
    portrait = _portrait(locs.get("recto"))
    if portrait is not None:
        crops["recto/portrait"] = portrait
    capture_ms = (time.perf_counter() - t0) * 1000
    fields: dict[str, Any] = {}
    details: dict[str, Any] = {"capture_ms": round(capture_ms, 1), "tilt_compared_with": flat_photo}
    if read_fields:
        fields, note, read_on = _read_fields(locs)
        details.update(note)
        if read_on is not None:
            mrz_check = mrz_document_check(read_on, getattr(locs[read_on], "card_type", None),
                                           valid=bool(fields.get("mrz_valid")), mrz_format=fields.get("mrz_format"),
                                           issuing_state=fields.get("issuing_state"))
            if mrz_check is not None:
                checks.append(mrz_check)
    else:
        details["ocr"] = "skipped (read_fields=False)"
    if tilt is not None:
        details["tilt"] = {"angle_deg": None if tilt.angle_deg is None else round(tilt.angle_deg, 1),
                           "same_card": None if tilt.same_card is None else round(tilt.same_card, 3),
                           "ovd_response": None if tilt.ovd_response is None else round(tilt.ovd_response, 3)}
    return DocumentReport(tuple(checks), frozen_mapping(fields), frozen_mapping(details), frozen_mapping(locs),
                          portrait, frozen_mapping(crops))


__all__ = ["DocumentReport", "check_document", "mrz_document_check", "mrz_photo"]
