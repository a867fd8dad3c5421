"""OVD response and card aspect under an unknown focal length (fast, synthetic)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from idverify.config import DOCUMENT
from idverify.document.layout import get_layout
from idverify.document.quads import ID1_ASPECT, edge_maps, score_quad
from idverify.document.tilt import ovd_response
from idverify.synth.cards import render_card
from idverify.synth.persona import make_persona

SIZE = (384, 242)  # the tilt check's response resolution


def _shot(rgb: np.ndarray, shift: tuple[float, float]) -> np.ndarray:
    """Another capture of the same flat print: a colour cast mixing channels, a light gradient, a sub-pixel shift."""
    img = cv2.resize(rgb, SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
    mix = np.array([[0.92, 0.06, 0.02], [0.03, 0.95, 0.04], [0.02, 0.08, 0.88]], np.float32)
    img = img @ mix.T
    img *= np.linspace(0.9, 1.08, SIZE[0], dtype=np.float32)[None, :, None]
    m = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
    img = cv2.warpAffine(img, m, SIZE, borderMode=cv2.BORDER_REPLICATE)
    return np.clip(img, 0, 255).astype(np.uint8)


def test_small_pictogram_responds_and_a_flat_print_does_not() -> None:
    persona = make_persona(np.random.default_rng(4), sex="F")
    layout = get_layout("cnie_2021", "verso")  # the smallest OVD zone: the pictogram, 0.105 x 0.105 of the card
    flat = render_card(persona, "cnie_2021", "verso").image
    tilted = render_card(persona, "cnie_2021", "verso", ovd_angle=18.0).image
    ref = cv2.resize(flat, SIZE, interpolation=cv2.INTER_AREA)
    genuine = ovd_response(ref, _shot(tilted, (0.7, -0.6)), layout)
    copy = ovd_response(ref, _shot(flat, (0.7, -0.6)), layout)
    assert genuine >= DOCUMENT.min_ovd_response > copy
    assert copy < 1.5


def _projected_card(tilt_deg: float, focal: float, size: tuple[int, int]) -> np.ndarray:
    """Corners (TL, TR, BR, BL) of an ID-1 card turned by ``tilt_deg`` about its vertical axis, seen at ``focal``."""
    w, h = 1.0, 1.0 / ID1_ASPECT
    pts = np.array([[-w / 2, -h / 2, 0], [w / 2, -h / 2, 0], [w / 2, h / 2, 0], [-w / 2, h / 2, 0]])
    a = math.radians(tilt_deg)
    rot = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    cam = pts @ rot.T + np.array([0.05, 0.02, 1.6])
    return np.stack([cam[:, 0] / cam[:, 2] * focal + size[0] / 2, cam[:, 1] / cam[:, 2] * focal + size[1] / 2], 1)


def test_steep_card_is_scored_at_other_phone_focal_lengths() -> None:
    """Turned about one axis, a card's aspect is not determined without the focal length (here 1.6x the default):
    the focal prior brings the aspect error down; it never raises it."""
    size = (640, 480)
    default_f = DOCUMENT.focal_factor * max(size)
    prior = [(k, DOCUMENT.aspect_focal_cost * abs(math.log(k))) for k in DOCUMENT.aspect_focal_factors]
    for tilt, factor in ((45.0, 1.6), (35.0, 1.3), (30.0, 0.8)):
        corners = _projected_card(tilt, factor * default_f, size)
        img = np.full((size[1], size[0], 3), 90, np.uint8)
        cv2.fillConvexPoly(img, np.round(corners).astype(np.int32), (235, 235, 230), cv2.LINE_AA)
        _, _, gx, gy = edge_maps(img)
        plain = score_quad(corners, (gx, gy, 24.0), size, default_f, DOCUMENT.border_side_support)
        with_prior = score_quad(corners, (gx, gy, 24.0), size, default_f, DOCUMENT.border_side_support, prior)
        assert plain is not None and with_prior is not None
        assert with_prior.aspect_error <= plain.aspect_error + 1e-9
        if factor == 1.6:
            assert with_prior.aspect_error < plain.aspect_error - 0.02
