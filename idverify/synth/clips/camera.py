"""The phone camera: lighting drift, hand shake and sensor noise, seeded.

>>> import numpy as np
>>> cam = Camera(np.random.default_rng(1), (64, 48), frames=3)
>>> frame = np.full((48, 64, 3), 128, np.uint8)
>>> a, b = cam.apply(frame, 0), cam.apply(frame, 1)
>>> a.shape, a.dtype, bool((a != b).any())
((48, 64, 3), dtype('uint8'), True)
>>> bool((Camera(np.random.default_rng(1), (64, 48), frames=3).apply(frame, 0) == a).all())
True
"""

from __future__ import annotations

import cv2
import numpy as np

_BANK = 6  # noise frames drawn once per clip, re-used at random offsets
_PAD = 16


def smooth_walk(rng: np.random.Generator, frames: int, sigma: float, smooth: int) -> np.ndarray:
    """A random walk low-passed over ``smooth`` frames, scaled to std ``sigma``."""
    steps = rng.normal(0.0, 1.0, frames + 2 * smooth)
    kernel = np.hanning(2 * smooth + 1)
    walk = np.convolve(steps, kernel / kernel.sum(), mode="same")[smooth:smooth + frames]
    std = float(np.std(walk)) or 1.0
    return (walk - walk.mean()) / std * sigma


class Camera:
    """Per-frame camera effects for a clip of ``frames`` frames of ``(width, height)``.

    ``light`` scales the lighting drift (0 = constant light), ``shake`` the
    hand shake in pixels, ``noise`` the sensor noise standard deviation.
    """

    def __init__(self, rng: np.random.Generator, size: tuple[int, int], frames: int, *, light: float = 1.0,
                 shake: float = 1.0, noise: float = 2.0) -> None:
        width, height = size
        self.size = size
        t = np.arange(frames)
        self.gain = 1.0 + light * (0.06 * np.sin(2 * np.pi * t / max(frames, 1) * rng.uniform(0.5, 1.5)
                                                 + rng.uniform(0, 2 * np.pi)) + smooth_walk(rng, frames, 0.015, 8))
        angle = rng.uniform(0, 2 * np.pi) + light * smooth_walk(rng, frames, 0.6, 20)
        strength = light * rng.uniform(0.08, 0.18)
        self.grad = np.stack([np.cos(angle), np.sin(angle)], axis=1) * strength
        self.tint = 1.0 + light * np.stack([smooth_walk(rng, frames, 0.012, 15) for _ in range(3)], axis=1)
        scale = shake * max(width, height) / 640
        self.shift = np.stack([smooth_walk(rng, frames, 1.4 * scale, 3), smooth_walk(rng, frames, 1.4 * scale, 3)],
                              axis=1)
        self.rotation = smooth_walk(rng, frames, 0.35 * shake, 4)  # degrees
        self.noise_sigma = noise
        self._bank = rng.normal(0.0, noise, (_BANK, height + _PAD, width + _PAD, 3)).astype(np.float32) \
            if noise > 0 else None
        self._pick = rng.integers(0, _BANK, frames)
        self._offset = rng.integers(0, _PAD, (frames, 2))
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        self._xn = (xs - width / 2) / width
        self._yn = (ys - height / 2) / height

    def apply(self, frame: np.ndarray, i: int) -> np.ndarray:
        """Frame ``i`` as the camera delivers it (RGB uint8)."""
        width, height = self.size
        light = (self.gain[i] * (1.0 + self.grad[i, 0] * self._xn + self.grad[i, 1] * self._yn)).astype(np.float32)
        out = frame.astype(np.float32) * light[..., None] * self.tint[i].astype(np.float32)
        if self.shift[i].any() or self.rotation[i]:
            m = cv2.getRotationMatrix2D((width / 2, height / 2), float(self.rotation[i]), 1.0)
            m[:, 2] += self.shift[i]
            out = cv2.warpAffine(out, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        if self._bank is not None:
            ox, oy = self._offset[i]
            out += self._bank[self._pick[i], oy:oy + height, ox:ox + width]
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)
