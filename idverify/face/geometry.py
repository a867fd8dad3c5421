"""Measures on the 68 iBUG landmarks: eye openness, yaw proxy, inter-ocular distance.

Shared by frame selection (face comparison) and liveness.

>>> import numpy as np
>>> eye = np.array([[0, 0], [1, -1], [2, -1], [3, 0], [2, 1], [1, 1]], float)
>>> round(eye_aspect_ratio(eye), 3)
0.667
"""

from __future__ import annotations

import numpy as np

RIGHT_EYE = slice(36, 42)  # the subject's right eye (image left)
LEFT_EYE = slice(42, 48)
NOSE_TIP = 30
JAW = slice(0, 17)


def eye_aspect_ratio(eye: np.ndarray) -> float:
    """(|p2-p6| + |p3-p5|) / (2 |p1-p4|) for the 6 points of one eye (Soukupová & Čech)."""
    vertical = np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])
    horizontal = np.linalg.norm(eye[0] - eye[3])
    return float(vertical / (2.0 * horizontal)) if horizontal > 0 else 0.0


def mean_eye_aspect_ratio(landmarks: np.ndarray) -> float:
    """Mean EAR of both eyes."""
    return (eye_aspect_ratio(landmarks[RIGHT_EYE]) + eye_aspect_ratio(landmarks[LEFT_EYE])) / 2.0


def interocular_distance(landmarks: np.ndarray) -> float:
    """Distance between the eye centres, in pixels."""
    return float(np.linalg.norm(landmarks[RIGHT_EYE].mean(axis=0) - landmarks[LEFT_EYE].mean(axis=0)))


def yaw_proxy(landmarks: np.ndarray) -> float:
    """Signed horizontal offset of the nose tip from the jaw's midline, in jaw widths (0 = frontal).

    About ±0.15 at 20° of yaw; cheap and monotonic, good enough to rank frames.
    """
    jaw = landmarks[JAW]
    left, right = jaw[:, 0].min(), jaw[:, 0].max()
    width = right - left
    if width <= 0:
        return 1.0
    return float((landmarks[NOSE_TIP, 0] - (left + right) / 2.0) / width)
