"""Shared fixtures: the evaluation data location, small media files built on the fly."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="needs ../shared/data (evaluation data) beside the checkout")


def jpeg_bytes(rgb: np.ndarray, quality: int = 90, exif: Image.Exif | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality, exif=exif or Image.Exif())
    return buffer.getvalue()


def write_clip(path: Path, frames: list[np.ndarray], fps: float = 25.0) -> Path:
    """A small MPEG-4 clip written with OpenCV (RGB frames)."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    assert writer.isOpened()
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


@pytest.fixture(scope="session")
def gradient_rgb() -> np.ndarray:
    y, x = np.mgrid[0:120, 0:160]
    return np.dstack([x * 255 // 160, y * 255 // 120, (x + y) % 256]).astype(np.uint8)
