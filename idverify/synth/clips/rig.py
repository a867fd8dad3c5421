"""A still portrait rigged for animation: head pose, blinks and mouth opening.

The rig places a portrait in a frame, finds its 68 dlib landmarks with the
package's face engine, gives each landmark a depth from a generic head shape
(cylindrical face, protruding nose and lips, recessed eyes) and, for a pose,
rotates these 3-D points and projects them back. A piecewise-affine mesh
(:mod:`idverify.synth.clips.mesh`) warps the face accordingly: the nose moves
more than the face contour, the head outline and background stay, so a yaw
shows parallax. Blinks draw the upper eyelid (skin colour sampled above the
eye, a lash line at its edge) down over the eye; mouth opening moves the
lower lip and chin and darkens the revealed mouth cavity.

Conventions: angles in degrees; yaw > 0 moves the nose to the image right,
pitch > 0 moves it up, roll > 0 turns the face clockwise on screen.
"""

from __future__ import annotations

import dataclasses
import functools

import cv2
import numpy as np

from idverify.synth.clips.mesh import triangulate, warp_mesh
from idverify.synth.portraits import load_portrait

_LEFT_EYE, _RIGHT_EYE = list(range(36, 42)), list(range(42, 48))
_LEFT_BROW, _RIGHT_BROW = list(range(17, 22)), list(range(22, 27))

# Extra depth (in face half-widths) added to the cylinder for some landmarks.
_DEPTH_EXTRA = {27: 0.10, 28: 0.17, 29: 0.25, 30: 0.35, 31: 0.16, 32: 0.20, 33: 0.23, 34: 0.20, 35: 0.16}
_DEPTH_EXTRA |= {i: 0.08 for i in range(48, 68)}
_DEPTH_EXTRA |= {i: -0.05 for i in range(36, 48)}
_DEPTH_EXTRA |= {i: 0.03 for i in range(17, 27)}

# How much each landmark follows the mouth opening (lower lip and chin go down).
_MOUTH_WEIGHT = {i: 1.0 for i in (55, 56, 57, 58, 59, 65, 66, 67)}
_MOUTH_WEIGHT |= {48: 0.3, 54: 0.3, 60: 0.35, 64: 0.35, 7: 0.75, 8: 0.8, 9: 0.75, 6: 0.5, 10: 0.5, 5: 0.25, 11: 0.25}


@dataclasses.dataclass(frozen=True)
class Pose:
    """Head pose of one frame: angles in degrees, translation in pixels."""

    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    dx: float = 0.0
    dy: float = 0.0


@functools.lru_cache(maxsize=4)
def portrait_landmarks(name: str) -> np.ndarray:
    """The 68 landmarks of the largest face of portrait ``name`` (read-only array)."""
    from idverify.face.engine import default_engine

    pixels = load_portrait(name)
    engine = default_engine()
    boxes = engine.detect(pixels, upsample=1)
    if not boxes:
        raise RuntimeError(f"no face found in portrait {name!r}")
    box = max(boxes, key=lambda b: b.width * b.height)
    marks = engine.landmarks(pixels, box)
    marks.setflags(write=False)
    return marks


def _spline(points: np.ndarray, samples: int = 12) -> np.ndarray:
    """A Catmull-Rom curve through ``points`` (K x 2), endpoints included."""
    pts = np.vstack([points[0], points, points[-1]])
    out = []
    for i in range(1, len(pts) - 2):
        p0, p1, p2, p3 = pts[i - 1], pts[i], pts[i + 1], pts[i + 2]
        for t in np.linspace(0, 1, samples, endpoint=False):
            out.append(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t * t
                              + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3))
    out.append(points[-1])
    return np.asarray(out)


class FaceRig:
    """A portrait placed in a ``(width, height)`` frame, ready to be posed.

    ``zoom`` >= 1 enlarges the portrait beyond the size that covers the frame;
    ``offset`` moves the face centre (fractions of the frame size).
    """

    def __init__(self, portrait: str, size: tuple[int, int], *, zoom: float = 1.0,
                 offset: tuple[float, float] = (0.0, 0.0)) -> None:
        width, height = size
        pixels = load_portrait(portrait)
        marks = portrait_landmarks(portrait)
        ph, pw = pixels.shape[:2]
        scale = max(width / pw, height / ph) * zoom
        face_c = marks[[*list(range(17, 27)), 8]].mean(axis=0)
        tx = width * (0.5 + offset[0]) - face_c[0] * scale
        ty = height * (0.42 + offset[1]) - face_c[1] * scale
        tx = float(np.clip(tx, width - pw * scale, 0.0))
        ty = float(np.clip(ty, height - ph * scale, 0.0))
        self.portrait = portrait
        self.size = size
        self.placement = np.array([[scale, 0, tx], [0, scale, ty]])
        self.base = cv2.warpAffine(pixels, self.placement, (width, height), flags=cv2.INTER_CUBIC,
                                   borderMode=cv2.BORDER_REFLECT_101)
        self.landmarks = marks * scale + (tx, ty)
        lm = self.landmarks
        self.center = np.array([(lm[0, 0] + lm[16, 0]) / 2, lm[[*list(range(17, 27)), 8]].mean(axis=0)[1]])
        self.half_width = float(np.linalg.norm(lm[16] - lm[0]) / 2)
        self.mouth_px = 0.22 * float(np.linalg.norm(lm[54] - lm[48]))
        hw = self.half_width
        up = lm[27] - lm[8]
        up /= np.linalg.norm(up)
        forehead = np.array([lm[i] + up * 0.45 * hw for i in (17, 19, 21, 22, 24, 26)])
        moving = np.vstack([lm, forehead])
        u = np.clip((moving[:, 0] - self.center[0]) / hw, -1, 1)
        depth = 0.55 * np.sqrt(np.maximum(0.0, 1 - u ** 2))
        for i, extra in _DEPTH_EXTRA.items():
            depth[i] += extra
        self._moving = moving
        self._depth = depth * hw
        self._mouth_w = np.zeros(len(moving))
        for i, w in _MOUTH_WEIGHT.items():
            self._mouth_w[i] = w
        # Head outline: follows roll and translation only (a turning head keeps its silhouette).
        hh = float(lm[8, 1] - forehead[:, 1].min()) / 2
        ring_c = np.array([self.center[0], forehead[:, 1].min() + hh])
        angles = np.linspace(0, 2 * np.pi, 20, endpoint=False)
        ring = ring_c + np.stack([1.55 * hw * np.cos(angles), 1.35 * hh * np.sin(angles)], axis=1)
        x0 = int(max(0, np.floor(ring[:, 0].min() - 0.35 * hw)))
        x1 = int(min(width, np.ceil(ring[:, 0].max() + 0.35 * hw)))
        y0 = int(max(0, np.floor(ring[:, 1].min() - 0.35 * hw)))
        y1 = int(min(height, np.ceil(ring[:, 1].max() + 0.35 * hw)))
        self.roi = (x0, y0, x1, y1)
        ring[:, 0] = np.clip(ring[:, 0], x0 + 4, x1 - 5)
        ring[:, 1] = np.clip(ring[:, 1], y0 + 4, y1 - 5)
        self._ring = ring
        edge_x = np.linspace(x0, x1 - 1, 6)
        edge_y = np.linspace(y0, y1 - 1, 6)
        anchors = [(x, y0) for x in edge_x] + [(x, y1 - 1) for x in edge_x]
        anchors += [(x0, y) for y in edge_y[1:-1]] + [(x1 - 1, y) for y in edge_y[1:-1]]
        self._anchors = np.asarray(anchors, dtype=np.float64)
        self._src = np.vstack([self._moving, self._ring, self._anchors])
        self._triangles = triangulate(self._src, size)

    # ----------------------------------------------------------------- geometry
    def project(self, pose: Pose, mouth: float = 0.0) -> np.ndarray:
        """All mesh points (landmarks first) moved to ``pose`` with the mouth opened by ``mouth`` (0..1)."""
        yaw, pitch, roll = np.radians([pose.yaw, pose.pitch, pose.roll])
        local = self._moving - self.center
        x = local[:, 0]
        y = local[:, 1] + self._mouth_w * mouth * self.mouth_px
        z = self._depth
        x1 = x * np.cos(yaw) + z * np.sin(yaw)
        z1 = -x * np.sin(yaw) + z * np.cos(yaw)
        y1 = y * np.cos(pitch) - z1 * np.sin(pitch)
        cr, sr = np.cos(roll), np.sin(roll)
        moved = np.stack([x1 * cr - y1 * sr, x1 * sr + y1 * cr], axis=1) + self.center + (pose.dx, pose.dy)
        ring_local = self._ring - self.center
        ring_roll = np.radians(pose.roll * 0.6)
        c2, s2 = np.cos(ring_roll), np.sin(ring_roll)
        ring = np.stack([ring_local[:, 0] * c2 - ring_local[:, 1] * s2,
                         ring_local[:, 0] * s2 + ring_local[:, 1] * c2], axis=1)
        ring = ring + self.center + 0.6 * np.array([pose.dx, pose.dy])
        return np.vstack([moved, ring, self._anchors])

    def landmarks_at(self, pose: Pose, mouth: float = 0.0) -> np.ndarray:
        """The 68 landmarks (frame coordinates) at ``pose``."""
        return self.project(pose, mouth)[:68]

    # ---------------------------------------------------------------- rendering
    def render(self, pose: Pose, closure: float = 0.0, mouth: float = 0.0,
               base: np.ndarray | None = None) -> np.ndarray:
        """One clean frame (RGB uint8): the face at ``pose``, eyes ``closure`` shut, mouth ``mouth`` open."""
        image = self.base if base is None else base
        dst = self.project(pose, mouth)
        frame = warp_mesh(image, self._src, dst, self._triangles, self.roi)
        marks = dst[:68]
        if mouth > 0.02:
            closed = self.project(pose, 0.0)[:68]
            _draw_mouth(frame, closed, marks)
        if closure > 0.02:
            for eye, brow in ((_LEFT_EYE, _LEFT_BROW), (_RIGHT_EYE, _RIGHT_BROW)):
                _draw_eyelid(frame, marks[eye], marks[brow], closure)
        return frame


def _composite(frame: np.ndarray, polygon: np.ndarray, colour: np.ndarray, alpha: float, blur: float,
               lines: list[tuple[np.ndarray, np.ndarray, int, float]] | None = None) -> None:
    """Blend a filled ``polygon`` (and optional polylines) into ``frame`` with a soft edge."""
    pad = int(3 * blur + 6)
    x0 = max(int(np.floor(polygon[:, 0].min())) - pad, 0)
    y0 = max(int(np.floor(polygon[:, 1].min())) - pad, 0)
    x1 = min(int(np.ceil(polygon[:, 0].max())) + pad, frame.shape[1])
    y1 = min(int(np.ceil(polygon[:, 1].max())) + pad, frame.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    shift = 4
    mask = np.zeros((y1 - y0, x1 - x0), np.float32)
    pts = np.round((polygon - (x0, y0)) * (1 << shift)).astype(np.int32)
    cv2.fillPoly(mask, [pts], 1.0, lineType=cv2.LINE_AA, shift=shift)
    patch = frame[y0:y1, x0:x1].astype(np.float32)
    layer = np.broadcast_to(colour.astype(np.float32), patch.shape).copy()
    for line, line_colour, thickness, line_alpha in lines or []:
        lpts = np.round((line - (x0, y0)) * (1 << shift)).astype(np.int32)
        line_mask = np.zeros_like(mask)
        cv2.polylines(line_mask, [lpts], False, 1.0, thickness, lineType=cv2.LINE_AA, shift=shift)
        line_mask *= line_alpha
        layer = layer * (1 - line_mask[..., None]) + line_colour.astype(np.float32) * line_mask[..., None]
        mask = np.maximum(mask, line_mask)
    if blur > 0:
        mask = cv2.GaussianBlur(mask, (0, 0), blur)
    a = (mask * alpha)[..., None]
    frame[y0:y1, x0:x1] = np.clip(patch * (1 - a) + layer * a + 0.5, 0, 255).astype(np.uint8)


def _draw_eyelid(frame: np.ndarray, eye: np.ndarray, brow: np.ndarray, closure: float) -> None:
    """Draw the upper eyelid ``closure`` (0..1) of the way down over the eye."""
    c0, u1, u2, c1, l1, l2 = eye  # corner, upper, upper, corner, lower (under u2), lower (under u1)
    width = float(np.linalg.norm(c1 - c0))
    height = float((np.linalg.norm(u1 - l2) + np.linalg.norm(u2 - l1)) / 2) + 0.08 * width
    axis = (c1 - c0) / max(width, 1e-6)
    c0o, c1o = c0 - axis * 0.06 * width, c1 + axis * 0.06 * width
    down = np.array([-axis[1], axis[0]])
    if down[1] < 0:
        down = -down
    target1 = l2 - down * 0.12 * height
    target2 = l1 - down * 0.12 * height
    e1 = (1 - closure) * u1 + closure * target1
    e2 = (1 - closure) * u2 + closure * target2
    top = _spline(np.array([c0o, u1 - down * 0.3 * height, u2 - down * 0.3 * height, c1o]))
    edge = _spline(np.array([c0o, e1, e2, c1o]))
    polygon = np.vstack([top, edge[::-1]])
    # Skin colour: sampled above the eye (between lid and brow); where that is dark (glasses
    # frame, brow) the cheek under the eye is used instead: the brightest candidate wins.
    mid_eye = (u1 + u2) / 2
    mid_brow = brow.mean(axis=0)
    r = max(2, int(0.15 * width))
    candidates = []
    for sample in (mid_eye + 0.45 * (mid_brow - mid_eye), mid_eye + 0.3 * (mid_brow - mid_eye),
                   (l1 + l2) / 2 + down * 0.55 * width):
        sx, sy = round(sample[0]), round(sample[1])
        patch = frame[max(sy - r, 0):sy + r + 1, max(sx - r, 0):sx + r + 1].reshape(-1, 3)
        if len(patch):
            candidates.append(np.median(patch, axis=0))
    skin = max(candidates, key=lambda c: float(c @ (0.3, 0.59, 0.11))) if candidates else np.array([180.0, 140, 120])
    skin = skin * 0.93  # the lid is a little shadowed
    lash = np.array([45.0, 32.0, 30.0])
    thickness = max(1, round(width / 14))
    _composite(frame, polygon, skin, min(1.0, 4.0 * closure), max(0.6, width / 40),
               lines=[(edge, lash, thickness, 0.85 * min(1.0, closure * 1.5))])


def _draw_mouth(frame: np.ndarray, closed: np.ndarray, opened: np.ndarray) -> None:
    """Darken the mouth cavity revealed between the closed and the opened lower lip."""
    top = closed[[60, 67, 66, 65, 64]]
    bottom = opened[[64, 65, 66, 67, 60]]
    if float(np.mean(bottom[1:4, 1] - top[1:4][::-1, 1])) < 1.0:
        return
    polygon = np.vstack([_spline(top, 6), _spline(bottom, 6)])
    width = float(np.linalg.norm(opened[54] - opened[48]))
    _composite(frame, polygon, np.array([88.0, 32.0, 28.0]), 0.9, max(0.8, width / 60))
