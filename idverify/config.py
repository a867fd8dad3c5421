"""Thresholds and limits, frozen and validated, in one place.

Each section is a frozen dataclass with a module-level default. Calibrated
thresholds say where they come from (``*_provenance``): the benchmark command
and data that produced them (see ``benchmarks/RESULTS.md``).

>>> FACE.threshold < 0.6
True
>>> MediaLimits(max_pixels=0)
Traceback (most recent call last):
...
idverify.errors.UsageError: usage_error: MediaLimits.max_pixels must be > 0
"""

from __future__ import annotations

import dataclasses
from typing import Any

from idverify.errors import UsageError


def _require_positive(obj: Any, *names: str) -> None:
    for name in names:
        if not getattr(obj, name) > 0:
            raise UsageError("usage_error", f"{type(obj).__name__}.{name} must be > 0")


def _require_fraction(obj: Any, *names: str) -> None:
    for name in names:
        if not 0.0 <= getattr(obj, name) <= 1.0:
            raise UsageError("usage_error", f"{type(obj).__name__}.{name} must be in [0, 1]")


@dataclasses.dataclass(frozen=True, slots=True)
class MediaLimits:
    """Caps on what :mod:`idverify.media` accepts."""

    max_file_bytes: int = 64 * 1024 * 1024
    max_pixels: int = 50_000_000  # a 12 MP phone photo is 12e6; anything far above is a bomb
    min_image_side: int = 32
    max_video_bytes: int = 200 * 1024 * 1024
    max_video_seconds: float = 30.0
    min_video_seconds: float = 0.5
    max_video_frames: int = 1800
    max_video_pixels: int = 1920 * 1920  # per frame: 1080p in either orientation

    def __post_init__(self) -> None:
        _require_positive(self, "max_file_bytes", "max_pixels", "min_image_side", "max_video_bytes",
                          "max_video_seconds", "max_video_frames", "max_video_pixels")
        if self.min_video_seconds < 0 or self.min_video_seconds >= self.max_video_seconds:
            raise UsageError("usage_error", "MediaLimits.min_video_seconds must be in [0, max_video_seconds)")


@dataclasses.dataclass(frozen=True, slots=True)
class FaceConfig:
    """Face comparison: decision threshold and frame selection.

    ``threshold`` is a Euclidean distance between dlib 128-d embeddings:
    below it the faces match. It is chosen on the LFW pool of
    ``shared/data/labels/face_pairs.csv`` for the false-match target
    ``target_fmr`` (see ``threshold_provenance``).
    """

    threshold: float = 0.50
    target_fmr: float = 0.001
    threshold_provenance: str = "uncalibrated default"
    min_face_px: int = 40  # inter-ocular-free proxy: detected box side in pixels
    reference_upsample: int = 1  # HOG upsampling for small card portraits
    reference_jitters: int = 1
    clip_candidates: int = 12  # frames looked at in a clip (evenly spaced)
    clip_encoded: int = 3  # best frames encoded and fused
    clip_detect_side: int = 480  # frames are downscaled to this long side for detection
    min_sharpness: float = 15.0  # variance of the Laplacian on the face crop

    def __post_init__(self) -> None:
        _require_positive(self, "threshold", "min_face_px", "reference_jitters", "clip_candidates",
                          "clip_encoded", "clip_detect_side")
        _require_fraction(self, "target_fmr")
        if self.clip_encoded > self.clip_candidates:
            raise UsageError("usage_error", "FaceConfig.clip_encoded must be <= clip_candidates")


MEDIA = MediaLimits()
FACE = FaceConfig()
