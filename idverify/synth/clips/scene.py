"""Presentation-attack props: a room behind, a printed photo, a phone screen, and their pose.

A prop is a flat texture moved as a rigid plane: one homography per frame
from a 3-D rotation (yaw, pitch, roll), a distance and a position, through
a pinhole camera. Screens are rendered at sub-pixel resolution (RGB stripes
and a dark grid between pixels) so that the camera's resampling produces
real moiré.
"""

from __future__ import annotations

import dataclasses
import functools

import cv2
import numpy as np


def room_background(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """A blurred indoor scene: a wall with a gradient, a door or shelf, a window."""
    width, height = size
    wall = rng.uniform(150, 215, 3) * rng.uniform(0.85, 1.0, 3)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    shade = 1.0 - 0.25 * (ys / height) + rng.uniform(-0.1, 0.1) * (xs / width - 0.5)
    img = np.clip(wall[None, None, :] * shade[..., None], 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(2, 5))):
        x0, y0 = int(rng.uniform(-0.2, 0.9) * width), int(rng.uniform(0.0, 0.8) * height)
        w, h = int(rng.uniform(0.1, 0.5) * width), int(rng.uniform(0.15, 0.9) * height)
        colour = tuple(float(c) for c in 0.5 * rng.uniform(40, 230, 3) + 0.5 * rng.uniform(60, 200))  # muted
        cv2.rectangle(img, (x0, y0), (x0 + w, y0 + h), colour, -1)
    if rng.random() < 0.7:
        x0, y0 = int(rng.uniform(0.0, 0.7) * width), int(rng.uniform(0.0, 0.3) * height)
        cv2.rectangle(img, (x0, y0), (x0 + width // 4, y0 + height // 4), (245, 248, 252), -1)
    return cv2.GaussianBlur(img, (0, 0), max(width, height) / 120)


def print_texture(photo: np.ndarray, rng: np.random.Generator, height: int = 900) -> np.ndarray:
    """``photo`` printed on paper: lifted blacks, duller colours, a halftone dot screen, a white border."""
    ph, pw = photo.shape[:2]
    scale = height / ph
    img = cv2.resize(photo, (round(pw * scale), height), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    grey = img.mean(axis=2, keepdims=True)
    img = grey + (img - grey) * rng.uniform(0.75, 0.9)
    img = 22 + img * (218 / 255)
    ys, xs = np.mgrid[0:img.shape[0], 0:img.shape[1]].astype(np.float32)
    period = 4.0
    dots = 0.5 + 0.5 * np.cos(2 * np.pi * (xs + ys) / period / np.sqrt(2)) * np.cos(2 * np.pi * (xs - ys) / period
                                                                                   / np.sqrt(2))
    img *= (0.94 + 0.06 * dots)[..., None]
    margin = int(0.07 * img.shape[1])
    paper = np.array([244.0, 242.0, 236.0]) * rng.uniform(0.97, 1.0)
    out = np.empty((img.shape[0] + 2 * margin, img.shape[1] + 2 * margin, 3), np.float32)
    out[:] = paper
    out[margin:margin + img.shape[0], margin:margin + img.shape[1]] = img
    return np.clip(out, 0, 255).astype(np.uint8)


@dataclasses.dataclass(frozen=True)
class ScreenStyle:
    """How a display looks when filmed: sub-pixel size, gamma, black level, tint, bezel."""

    subpixel: int = 3  # texture pixels per screen pixel
    gamma: float = 0.8
    black: float = 18.0
    tint: tuple[float, float, float] = (0.94, 0.98, 1.06)
    bezel: float = 0.06  # bezel width as a fraction of the screen width

    @classmethod
    def random(cls, rng: np.random.Generator) -> ScreenStyle:
        return cls(subpixel=3, gamma=float(rng.choice([0.85, 0.9, 1.15, 1.25])), black=float(rng.uniform(10, 20)),
                   tint=(float(rng.uniform(0.9, 0.97)), float(rng.uniform(0.96, 1.0)), float(rng.uniform(1.03, 1.1))),
                   bezel=float(rng.uniform(0.05, 0.09)))


def screen_layout(style: ScreenStyle, screen_px: tuple[int, int]) -> tuple[tuple[int, int], int]:
    """(texture width, height) and bezel width in texture pixels for a screen of ``screen_px`` pixels."""
    sw, sh = screen_px[0] * style.subpixel, screen_px[1] * style.subpixel
    bezel = int(style.bezel * sw)
    return (sw + 2 * bezel, sh + 2 * bezel), bezel


def render_screen(background: np.ndarray, content: np.ndarray, style: ScreenStyle, screen_px: tuple[int, int],
                  pose: PlanePose, *, banding: float = 0.0, band_phase: float = 0.0,
                  optics: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """``content`` shown on a phone screen of ``screen_px`` pixels held at ``pose`` over ``background``.

    Returns (frame, screen mask in [0, 1]). The screen's RGB stripes and the
    dark grid between its pixels are modelled at sub-pixel resolution
    (``style.subpixel`` texture pixels per screen pixel), blurred by the lens
    (``optics``, in texture pixels) and then sampled by the camera, which
    aliases what the lens lets through into moiré. ``banding`` > 0 adds the
    horizontal brightness bands of a refresh / PWM beat rolling down the
    screen (``band_phase`` in periods).
    """
    sw, sh = screen_px
    k = style.subpixel
    fh, fw = background.shape[:2]
    shown = cv2.resize(content, (sw, sh), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    shown = style.black / 255 + (1 - style.black / 255) * np.power(shown, style.gamma)
    shown *= np.asarray(style.tint, np.float32)
    if banding > 0:
        rows = np.arange(sh, dtype=np.float32)
        band = 1.0 - banding * (0.5 + 0.5 * np.sin(2 * np.pi * (rows / (sh / 2.7) - band_phase)))
        shown *= band[:, None, None]
    (tw, th), bezel = screen_layout(style, screen_px)
    to_frame = pose.homography((tw, th), (fw, fh))
    offset = np.array([[1.0, 0, bezel], [0, 1.0, bezel], [0, 0, 1.0]])
    per_pixel = np.array([[k, 0, (k - 1) / 2], [0, k, (k - 1) / 2], [0, 0, 1.0]])
    flags = cv2.INTER_LINEAR
    light = cv2.warpPerspective(shown, to_frame @ offset @ per_pixel, (fw, fh), flags=flags,
                                borderMode=cv2.BORDER_REPLICATE)
    pattern = cv2.warpPerspective(_subpixel_mask(sw, sh, k, round(optics, 2)), to_frame @ offset, (fw, fh),
                                  flags=flags, borderMode=cv2.BORDER_REPLICATE)
    body = _quad_mask(pose.corners((tw, th), (fw, fh)), (fw, fh))
    inner = np.array([[bezel, bezel, 1], [tw - bezel, bezel, 1], [tw - bezel, th - bezel, 1], [bezel, th - bezel, 1]])
    projected = inner @ to_frame.T
    screen = _quad_mask(projected[:, :2] / projected[:, 2:3], (fw, fh))
    out = background.astype(np.float32) / 255.0
    out = out * (1 - body[..., None]) + 0.06 * body[..., None]
    out = out * (1 - screen[..., None]) + (light * pattern) * screen[..., None]
    quad = np.round(pose.corners((tw, th), (fw, fh)) * 16).astype(np.int32)
    cv2.polylines(out, [quad], True, (0.22, 0.22, 0.24), max(1, round(fw / 400)), cv2.LINE_AA, shift=4)
    return np.clip(out * 255 + 0.5, 0, 255).astype(np.uint8), screen


def _quad_mask(quad: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A float mask in [0, 1] of the quadrilateral ``quad`` (4 x 2), anti-aliased."""
    mask = np.zeros((size[1], size[0]), np.uint8)
    cv2.fillConvexPoly(mask, np.round(np.asarray(quad) * 16).astype(np.int32), 255, cv2.LINE_AA, shift=4)
    return mask.astype(np.float32) / 255.0


@functools.lru_cache(maxsize=2)
def _subpixel_mask(sw: int, sh: int, k: int, optics: float) -> np.ndarray:
    """The RGB stripe pattern of a ``sw`` x ``sh`` pixel screen (``k`` texture pixels each), lens-blurred."""
    stripes = np.full((k, k, 3), 0.08, np.float32)
    for c in range(3):
        stripes[:, c % k, c] = 1.0  # one column per colour: R, G, B stripes
    stripes[k - 1, :, :] *= 0.35  # dark gap between pixel rows
    stripes *= 0.95 / stripes.mean(axis=(0, 1))  # keep the mean brightness
    mask: np.ndarray = np.tile(stripes, (sh, sw, 1))
    if optics > 0:
        mask = cv2.GaussianBlur(mask, (0, 0), optics)
    mask.setflags(write=False)
    return mask


@dataclasses.dataclass(frozen=True)
class PlanePose:
    """A rigid plane in front of the camera: angles in degrees, centre in frame pixels, height in pixels."""

    yaw: float
    pitch: float
    roll: float
    cx: float
    cy: float
    height: float  # on-screen height of the plane when facing the camera

    def homography(self, texture_size: tuple[int, int], frame_size: tuple[int, int]) -> np.ndarray:
        """3x3 map from texture pixels to frame pixels."""
        return cv2.getPerspectiveTransform(texture_corners(texture_size), self.corners(texture_size, frame_size))

    def corners(self, texture_size: tuple[int, int], frame_size: tuple[int, int]) -> np.ndarray:
        """The four texture corners (TL, TR, BR, BL) in frame pixels."""
        tw, th = texture_size
        fw, fh = frame_size
        focal = 1.3 * max(fw, fh)
        s = self.height / th
        local = np.array([[-tw / 2, -th / 2, 0], [tw / 2, -th / 2, 0], [tw / 2, th / 2, 0], [-tw / 2, th / 2, 0]]) * s
        rot = rotation_matrix(self.yaw, self.pitch, self.roll)
        cam = local @ rot.T + (0.0, 0.0, focal)
        proj = cam[:, :2] * focal / cam[:, 2:3] + (self.cx, self.cy)
        return proj.astype(np.float32)

    def normal(self) -> np.ndarray:
        return rotation_matrix(self.yaw, self.pitch, self.roll) @ np.array([0.0, 0.0, -1.0])


def texture_corners(texture_size: tuple[int, int]) -> np.ndarray:
    tw, th = texture_size
    return np.array([[0, 0], [tw, 0], [tw, th], [0, th]], np.float32)


def rotation_matrix(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Rotation for yaw (about y), pitch (about x), roll (about z), degrees; camera looks along +z."""
    y, p, r = np.radians([yaw, pitch, roll])
    ry = np.array([[np.cos(y), 0, -np.sin(y)], [0, 1, 0], [np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), np.sin(p)], [0, -np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ rx @ ry


def composite_plane(scene: np.ndarray, texture: np.ndarray, homography: np.ndarray, *, gain: float = 1.0,
                    blur: float = 0.0, interpolation: int = cv2.INTER_LINEAR) -> tuple[np.ndarray, np.ndarray]:
    """``texture`` warped by ``homography`` over ``scene``; returns (frame, plane mask in [0, 1])."""
    fh, fw = scene.shape[:2]
    warped = cv2.warpPerspective(texture, homography, (fw, fh), flags=interpolation,
                                 borderMode=cv2.BORDER_CONSTANT).astype(np.float32)
    mask = cv2.warpPerspective(np.ones(texture.shape[:2], np.float32), homography, (fw, fh), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT)
    if blur > 0:
        warped = np.asarray(cv2.GaussianBlur(warped, (0, 0), blur), np.float32)
    out = scene.astype(np.float32) * (1 - mask[..., None]) + warped * gain * mask[..., None]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), mask


def add_glare(frame: np.ndarray, mask: np.ndarray, centre: tuple[float, float], radius: float,
              strength: float) -> np.ndarray:
    """A soft specular highlight at ``centre`` restricted to ``mask`` (the glossy surface)."""
    fh, fw = frame.shape[:2]
    x0, x1 = max(int(centre[0] - 3 * radius), 0), min(int(centre[0] + 3 * radius) + 1, fw)
    y0, y1 = max(int(centre[1] - 2 * radius), 0), min(int(centre[1] + 2 * radius) + 1, fh)
    out = frame.copy()
    if x1 <= x0 or y1 <= y0:
        return out
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d2 = ((xs - centre[0]) / radius) ** 2 + ((ys - centre[1]) / (0.6 * radius)) ** 2
    glow = strength * np.exp(-d2) * mask[y0:y1, x0:x1]
    patch = out[y0:y1, x0:x1].astype(np.float32) + 255.0 * glow[..., None]
    out[y0:y1, x0:x1] = np.clip(patch + 0.5, 0, 255).astype(np.uint8)
    return out
