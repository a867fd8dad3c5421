"""Per-frame signals from the tracked landmarks: eye openness, mouth opening, head pose.

Head pose comes from ``cv2.solvePnP`` with a generic 3-D face model (six
iBUG points, millimetre-like units, x to the image right, y down, z away from
the camera) and a pinhole camera whose focal length is the frame width.

Angles are in degrees: ``yaw`` > 0 when the nose turns toward the image's
right (the person's own left in an unmirrored selfie), ``pitch`` > 0 when the
face tilts down, ``roll`` > 0 clockwise in the image.

>>> import numpy as np
>>> pts = project_model(yaw=20.0, pitch=0.0, size=(640, 480))
>>> marks = np.zeros((68, 2)); marks[list(MODEL_POINTS)] = pts
>>> yaw, pitch, roll = head_pose(marks, (640, 480))
>>> round(yaw), round(pitch), round(roll)
(20, 0, 0)
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from idverify.face.geometry import interocular_distance, mean_eye_aspect_ratio

# iBUG index -> generic 3-D position (nose tip at the origin)
MODEL_POINTS = {
    30: (0.0, 0.0, 0.0),  # nose tip
    8: (0.0, 330.0, 65.0),  # chin
    36: (-225.0, -170.0, 135.0),  # outer corner of the eye on the image left
    45: (225.0, -170.0, 135.0),  # outer corner of the eye on the image right
    48: (-150.0, 150.0, 125.0),  # mouth corners
    54: (150.0, 150.0, 125.0),
}
_MODEL = np.array(list(MODEL_POINTS.values()), dtype=np.float64)
_INDEXES = list(MODEL_POINTS)


def _camera(size: tuple[int, int]) -> np.ndarray:
    width, height = size
    return np.array([[width, 0.0, width / 2.0], [0.0, width, height / 2.0], [0.0, 0.0, 1.0]])


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    y, p, r = np.radians([yaw, pitch, roll])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rx @ ry @ rz


def project_model(yaw: float, pitch: float, size: tuple[int, int], roll: float = 0.0,
                  distance: float = 3000.0) -> np.ndarray:
    """The six model points seen at the given pose (for tests and synthetic checks)."""
    rvec, _ = cv2.Rodrigues(_rotation(-yaw, pitch, roll))
    tvec = np.array([0.0, 0.0, distance])
    points, _ = cv2.projectPoints(_MODEL, rvec, tvec, _camera(size), np.zeros(4))
    return points.reshape(-1, 2)


def head_pose(landmarks: np.ndarray, size: tuple[int, int]) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of one face's 68 landmarks in a ``(width, height)`` frame."""
    image = np.ascontiguousarray(landmarks[_INDEXES], dtype=np.float64)
    ok, rvec, _tvec = cv2.solvePnP(_MODEL, image, _camera(size), np.zeros(4), flags=cv2.SOLVEPNP_SQPNP)
    if not ok:
        return float("nan"), float("nan"), float("nan")
    matrix, _ = cv2.Rodrigues(rvec)
    angles = cv2.RQDecomp3x3(matrix)[0]
    pitch, yaw, roll = (float(a) for a in angles)
    pitch = (pitch + 180.0) % 360.0 - 180.0
    return -yaw, pitch, roll


@dataclasses.dataclass(frozen=True, slots=True)
class Signals:
    """Per-frame measures (NaN where the face was not tracked)."""

    ear: np.ndarray  # mean eye aspect ratio
    mouth: np.ndarray  # inner-lip opening / inter-ocular distance
    iod: np.ndarray  # inter-ocular distance, pixels
    yaw: np.ndarray
    pitch: np.ndarray
    roll: np.ndarray


def compute_signals(landmarks: np.ndarray, size: tuple[int, int]) -> Signals:
    """Signals for every frame of a ``(n, 68, 2)`` landmark track."""
    count = len(landmarks)
    out = {name: np.full(count, np.nan) for name in ("ear", "mouth", "iod", "yaw", "pitch", "roll")}
    for pos in range(count):
        marks = landmarks[pos]
        if np.isnan(marks[0, 0]):
            continue
        iod = interocular_distance(marks)
        out["iod"][pos] = iod
        out["ear"][pos] = mean_eye_aspect_ratio(marks)
        opening = np.linalg.norm(marks[61] - marks[67]) + np.linalg.norm(marks[62] - marks[66]) + \
            np.linalg.norm(marks[63] - marks[65])
        out["mouth"][pos] = opening / (3.0 * iod) if iod > 0 else np.nan
        out["yaw"][pos], out["pitch"][pos], out["roll"][pos] = head_pose(marks, size)
    return Signals(**out)
