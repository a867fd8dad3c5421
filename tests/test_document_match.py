"""Locating the tilted card by the flat card's content (idverify.document.match) and the registration guards.

Synthetic captures at ~1 MP with fixed seeds: seconds, offline.
"""

from __future__ import annotations

import dataclasses
import functools

import cv2
import numpy as np

from idverify.config import DOCUMENT
from idverify.document import check_tilt, locate_card
from idverify.document.locate import CardLocation, layout_for
from idverify.document.match import locate_like, match_card
from idverify.document.quads import warp_card
from idverify.document.tilt import register
from idverify.synth.camera import Subject, capture, fit_in_frame, sample_params
from idverify.synth.cards import CardRender, render_card
from idverify.synth.persona import make_persona


@functools.cache
def _card(seed: int, side: str = "recto", ovd_angle: float = 0.0) -> CardRender:
    return render_card(make_persona(np.random.default_rng(seed)), "cnie_2021", side, ovd_angle=ovd_angle)


def _shot(card: CardRender, seed: int, **camera: object) -> tuple[bytes, np.ndarray]:
    rng = np.random.default_rng(seed)
    base = {"megapixels": 1.2, "portrait": False, "glare": (), "defocus": 0.2, "motion": 0.0, "card_scale": 0.6}
    params = fit_in_frame(sample_params(rng, **{**base, **camera}), (card.image.shape[1], card.image.shape[0]))
    shot = capture(Subject(card.image, card.alpha), params, seed=seed)
    return shot.jpeg, shot.corners


@functools.cache
def _pair(seed: int) -> tuple[CardLocation, CardLocation, np.ndarray]:
    """A flat and a steeply tilted (45 deg) capture of one card, located by their outlines; the tilted corners."""
    flat_jpeg, _ = _shot(_card(seed), seed, roll=2.0, yaw=1.0, pitch=-2.0)
    tilted_jpeg, corners = _shot(_card(seed, ovd_angle=45.0), seed + 1, roll=-6.0, yaw=45.0, pitch=3.0, focal=0.8)
    return locate_card(flat_jpeg), locate_card(tilted_jpeg), corners


def _error(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.max(np.linalg.norm(found - truth, axis=1))) / float(np.linalg.norm(truth[1] - truth[0]))


def test_locate_like_finds_a_steeply_tilted_card_by_content() -> None:
    flat, tilted, truth = _pair(31)
    moved = locate_like(flat, tilted)
    assert moved is not None and moved.found and moved.matched
    assert moved.corners is not None and _error(moved.corners, truth) < 0.01
    assert (moved.card_type, moved.side) == (flat.card_type, flat.side)
    assert moved.rectified is not None and moved.rectified.shape == flat.rectified.shape  # type: ignore[union-attr]
    assert moved.match_inliers >= 20


def test_another_side_does_not_match() -> None:
    flat, _, _ = _pair(31)
    verso_jpeg, _ = _shot(_card(31, "verso"), 5, roll=0.0, yaw=30.0, pitch=0.0)
    verso = locate_card(verso_jpeg)
    assert locate_like(flat, verso) is None
    assert verso.image is not None and flat.rectified is not None
    assert match_card(flat.rectified, verso.image.pixels, photo_scale=verso.image.scale) is None


def test_check_tilt_relocates_a_tilted_card_located_on_its_portrait() -> None:
    flat, tilted, truth = _pair(31)
    assert tilted.image is not None and tilted.corners is not None and tilted.rectified is not None
    # the outline search took an inner frame for the card (the portrait's frame, the sheet under the card...)
    centre = tilted.corners.mean(axis=0)
    inner = centre + 0.35 * (tilted.corners - centre)
    wrong = dataclasses.replace(tilted, corners=inner,
                                rectified=warp_card(tilted.image.pixels, inner * tilted.image.scale,
                                                    tilted.rectified.shape[1::-1]))
    result = check_tilt(flat, wrong, layout=layout_for(flat.card_type, flat.side))
    assert result.passed, [(c.name, c.score, c.reason) for c in result.checks]
    assert result.checks[0].evidence.get("matched") == "tilted"
    assert result.tilted is not None and result.tilted.corners is not None
    assert _error(result.tilted.corners, truth) < 0.01


def test_check_tilt_relocates_a_tilted_card_not_found() -> None:
    flat, tilted, _ = _pair(31)
    lost = dataclasses.replace(tilted, found=False, reason="card_not_found", corners=None, rectified=None)
    result = check_tilt(flat, lost, layout=layout_for(flat.card_type, flat.side))
    assert result.passed
    assert result.tilted is not None and result.tilted.matched


def test_a_registered_pair_is_not_matched_again() -> None:
    flat, tilted, _ = _pair(31)
    result = check_tilt(flat, tilted, layout=layout_for(flat.card_type, flat.side))
    assert result.passed
    assert result.tilted is tilted and "matched" not in result.checks[0].evidence


def test_register_drops_a_diverged_ecc_warp() -> None:
    flat, _, _ = _pair(31)
    assert flat.rectified is not None
    shifted = cv2.warpAffine(flat.rectified, np.array([[1, 0, 12], [0, 1, -7]], np.float32),
                             flat.rectified.shape[1::-1], borderMode=cv2.BORDER_REPLICATE)
    warp, turned, score = register(flat.rectified, shifted)
    assert not turned and score > 0.5
    assert abs(float(warp[0, 2]) - 12 * 384 / 1011) < 1.5  # the shift, at the registration width
    warp, _, score = register(flat.rectified, shifted, max_shift=0.001)  # any move beyond this = diverged
    assert score == 0.0 and np.allclose(warp, np.eye(3))


def test_check_document_tries_the_other_flat_side() -> None:
    from idverify.document.check import _tilt

    recto_jpeg, _ = _shot(_card(31), 31, roll=2.0, yaw=1.0, pitch=-2.0)
    verso_jpeg, _ = _shot(_card(31, "verso"), 33, roll=-1.0, yaw=-2.0, pitch=1.0)
    tilted_jpeg, _ = _shot(_card(31, "verso", ovd_angle=35.0), 34, roll=4.0, yaw=-35.0, pitch=2.0)
    tilted = locate_card(tilted_jpeg)
    assert tilted.side == "verso"
    misread = dataclasses.replace(tilted, side="recto")  # the tilted verso read as a recto: compared with the recto
    locs = {"recto": locate_card(recto_jpeg), "verso": locate_card(verso_jpeg), "tilted": misread}
    result, flat_photo = _tilt(locs.get, DOCUMENT)
    assert flat_photo == "verso"
    assert result is not None and result.passed, None if result is None else result.checks


def test_the_tilt_checks_of_a_tilted_recto_do_not_wait_for_the_verso() -> None:
    from idverify.document.check import _tilt

    flat, tilted, _ = _pair(31)
    asked: list[str] = []

    def located(photo: str) -> CardLocation | None:
        asked.append(photo)
        return {"recto": flat, "tilted": tilted}[photo]  # the verso still being located: a KeyError

    result, flat_photo = _tilt(located, DOCUMENT)
    assert flat_photo == "recto" and result is not None and result.passed
    assert "verso" not in asked


def test_check_tilt_relocates_a_flat_card_located_on_an_inner_frame() -> None:
    flat_jpeg, truth = _shot(_card(31), 31, roll=2.0, yaw=1.0, pitch=-2.0)
    flat = locate_card(flat_jpeg)
    _, tilted, _ = _pair(31)
    assert flat.image is not None and flat.corners is not None and flat.rectified is not None
    centre = flat.corners.mean(axis=0)
    inner = centre + 0.4 * (flat.corners - centre)
    wrong = dataclasses.replace(flat, corners=inner, rectified=warp_card(flat.image.pixels, inner * flat.image.scale,
                                                                         flat.rectified.shape[1::-1]))
    result = check_tilt(wrong, tilted, layout=layout_for(flat.card_type, flat.side))
    assert result.passed, [(c.name, c.score, c.reason) for c in result.checks]
    assert result.checks[0].evidence.get("matched") == "flat"
    assert result.flat is not None and result.flat.matched and result.flat.corners is not None
    assert _error(result.flat.corners, truth) < 0.01
