"""Focal length and tilt angle from the card's perspective (idverify.document.focal, tilt.camera_pose).

Synthetic projections of an ID-1 card with a known focal length and a known
rotation: the estimate must give back the focal length within ~10 % and the
tilt angle within a few degrees, and fall back to the default when the
perspective does not determine the focal length.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from idverify.document.focal import estimate_focal
from idverify.document.layout import CNI_1995_SIZE_MM, ID1_SIZE_MM
from idverify.document.tilt import camera_pose

SIZE = (4000, 3000)  # 12 MP
ID1_ASPECT = ID1_SIZE_MM[0] / ID1_SIZE_MM[1]


def _rot(roll: float, yaw: float, pitch: float) -> np.ndarray:
    r, y, p = np.deg2rad([roll, yaw, pitch])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    return rz @ rx @ ry


def _project(focal: float, aspect: float, roll: float = 0.0, yaw: float = 0.0, pitch: float = 0.0,
             width_share: float = 0.6, offset: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Corners (TL, TR, BR, BL) of a card of ``aspect`` turned by (roll, yaw, pitch) degrees."""
    w, h = SIZE
    card = np.array([[-0.5, -0.5 / aspect, 0], [0.5, -0.5 / aspect, 0], [0.5, 0.5 / aspect, 0],
                     [-0.5, 0.5 / aspect, 0]])
    distance = focal / (width_share * w)
    cam = card @ _rot(roll, yaw, pitch).T + [offset[0], offset[1], distance]
    return cam[:, :2] * (focal / cam[:, 2:]) + [w / 2, h / 2]


def _view(corners: np.ndarray, aspect: float, focal: float) -> np.ndarray:
    r, t = camera_pose(corners, SIZE, aspect, focal)
    v = r.T @ -(r @ np.array([0.5, 0.5 / aspect, 0.0]) + t)
    return v / np.linalg.norm(v)


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    return math.degrees(math.acos(float(np.clip(a @ b, -1, 1))))


@pytest.mark.parametrize(("focal_factor", "roll", "yaw", "pitch"), [
    (0.8, 0.0, 35.0, 0.0),  # turned about its vertical axis only: one edge pair stays parallel
    (1.1, 5.0, 0.0, -25.0),
    (1.3, 170.0, 20.0, 8.0),  # upside down
    (0.75, -8.0, -45.0, 3.0),
    (1.2, 12.0, 15.0, 12.0),
])
def test_known_focal_and_angle_recovered(focal_factor: float, roll: float, yaw: float, pitch: float) -> None:
    focal = focal_factor * max(SIZE)
    default = 0.8 * max(SIZE)
    tilted = _project(focal, ID1_ASPECT, roll, yaw, pitch)
    est = estimate_focal(tilted, SIZE, ID1_ASPECT, default)
    assert est.method == "rectangle", est
    assert abs(est.focal / focal - 1) < 0.10
    flat = _project(focal, ID1_ASPECT, roll)
    true_angle = _angle(_view(flat, ID1_ASPECT, focal), _view(tilted, ID1_ASPECT, focal))
    assert true_angle == pytest.approx(math.degrees(math.acos(
        math.cos(math.radians(yaw)) * math.cos(math.radians(pitch)))), abs=0.5)  # the reference itself is right
    got = _angle(_view(flat, ID1_ASPECT, default), _view(tilted, ID1_ASPECT, est.focal))
    assert got == pytest.approx(true_angle, abs=3.0)


def test_old_card_aspect_and_corner_noise() -> None:
    aspect = CNI_1995_SIZE_MM[0] / CNI_1995_SIZE_MM[1]
    focal = 1.0 * max(SIZE)
    rng = np.random.default_rng(7)
    corners = _project(focal, aspect, 3.0, -30.0, 5.0, width_share=0.5) + rng.normal(0, 1.5, (4, 2))
    est = estimate_focal(corners, SIZE, aspect, 0.8 * max(SIZE))
    assert est.method == "rectangle"
    assert abs(est.focal / focal - 1) < 0.10


def test_default_tilt_angle_was_wrong_for_a_long_focal() -> None:
    """The failure this module fixes: a long lens with the phone default under-estimates the tilt."""
    focal = 1.3 * max(SIZE)
    flat, tilted = _project(focal, ID1_ASPECT), _project(focal, ID1_ASPECT, 0.0, 20.0, 0.0)
    default = 0.8 * max(SIZE)
    with_default = _angle(_view(flat, ID1_ASPECT, default), _view(tilted, ID1_ASPECT, default))
    est = estimate_focal(tilted, SIZE, ID1_ASPECT, default)
    with_estimate = _angle(_view(flat, ID1_ASPECT, default), _view(tilted, ID1_ASPECT, est.focal))
    assert with_default < 14.0  # 20 deg read as ~12.5 deg: below the 12-65 deg range's comfort
    assert with_estimate == pytest.approx(20.0, abs=2.0)


def test_frontal_card_falls_back_to_default() -> None:
    default = 0.8 * max(SIZE)
    est = estimate_focal(_project(1.0 * max(SIZE), ID1_ASPECT, 10.0), SIZE, ID1_ASPECT, default)
    assert est.method == "default"
    assert est.focal == default
    assert est.why_default in ("degenerate", "out_of_range", "unstable")
    ev = est.to_evidence(SIZE)
    assert ev["focal_method"] == "default" and ev["focal_factor"] == 0.8


def test_nearly_frontal_card_is_unstable_not_trusted() -> None:
    default = 0.8 * max(SIZE)
    rng = np.random.default_rng(3)
    corners = _project(1.0 * max(SIZE), ID1_ASPECT, 2.0, 2.0, -1.5) + rng.normal(0, 1.5, (4, 2))
    est = estimate_focal(corners, SIZE, ID1_ASPECT, default)
    assert est.method == "default"
    assert est.why_default in ("degenerate", "out_of_range", "unstable")
