"""Safe loading: formats, EXIF, reduced decoding, caps, and every kind of bad input."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from idverify.config import MediaLimits
from idverify.errors import InputError
from idverify.media import is_video, load_clip, load_image, probe_video
from tests.conftest import jpeg_bytes, write_clip


def _reason(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as info:
        call()
    return info.value.reason


def test_formats_round_trip(gradient_rgb: np.ndarray, tmp_path: Path) -> None:
    for fmt in ("PNG", "WEBP"):
        buffer = io.BytesIO()
        Image.fromarray(gradient_rgb).save(buffer, fmt, lossless=True)
        loaded = load_image(buffer.getvalue())
        assert loaded.format == fmt and loaded.size == (160, 120)
        assert np.abs(loaded.pixels.astype(int) - gradient_rgb).max() <= 1
    path = tmp_path / "a.jpg"
    path.write_bytes(jpeg_bytes(gradient_rgb))
    assert load_image(path).format == "JPEG"
    assert load_image(str(path)).size == (160, 120)


def test_exif_orientation_is_applied(gradient_rgb: np.ndarray) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise for display
    loaded = load_image(jpeg_bytes(gradient_rgb, exif=exif))
    assert loaded.size == (120, 160) and loaded.original_size == (120, 160)


def test_reduced_size_decoding_keeps_original_geometry() -> None:
    big = np.random.default_rng(0).integers(0, 255, (1500, 2000, 3), dtype=np.uint8)
    loaded = load_image(jpeg_bytes(big, quality=70), max_side=400)
    assert max(loaded.size) <= 400
    assert loaded.original_size == (2000, 1500)
    assert loaded.scale == pytest.approx(loaded.size[0] / 2000)


def test_arrays() -> None:
    grey = np.full((50, 60), 7, np.uint8)
    assert load_image(grey).pixels.shape == (50, 60, 3)
    rgba = np.zeros((50, 60, 4), np.uint8)
    assert load_image(rgba).pixels.shape == (50, 60, 3)
    assert _reason(lambda: load_image(np.zeros((50, 60), np.float32))) == "input_type"
    assert _reason(lambda: load_image(np.zeros((50, 60, 5), np.uint8))) == "input_type"
    assert _reason(lambda: load_image(np.zeros((10, 10, 3), np.uint8))) == "image_too_small"


def _png_with_declared_size(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (64, 64)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


def test_bad_images(gradient_rgb: np.ndarray, tmp_path: Path) -> None:
    from idverify.face.engine import default_engine

    default_engine()  # face_recognition's import flips a Pillow global; truncation must still be caught
    good = jpeg_bytes(gradient_rgb)
    assert _reason(lambda: load_image(b"")) == "input_empty"
    assert _reason(lambda: load_image(b"GIF89a" + b"\0" * 64)) == "image_format_unsupported"
    assert _reason(lambda: load_image(good[: len(good) // 2])) == "image_corrupt"
    assert _reason(lambda: load_image(good[:3] + b"\0" * 200)) == "image_corrupt"
    assert _reason(lambda: load_image(_png_with_declared_size(60000, 60000))) == "image_too_large"
    assert _reason(lambda: load_image(tmp_path / "missing.jpg")) == "file_not_found"
    assert _reason(lambda: load_image(tmp_path)) == "file_not_found"
    assert _reason(lambda: load_image(12345)) == "input_type"  # type: ignore[arg-type]
    assert _reason(lambda: load_image(good, limits=MediaLimits(max_file_bytes=100))) == "file_too_large"


@pytest.fixture()
def clip_path(tmp_path: Path, gradient_rgb: np.ndarray) -> Path:
    frames = [np.roll(gradient_rgb, i * 3, axis=1) for i in range(30)]
    return write_clip(tmp_path / "clip.mp4", frames, fps=15.0)


def test_clip_decoding(clip_path: Path) -> None:
    clip = load_clip(clip_path, max_side=80)
    assert len(clip) == 30 and clip.frames[0].shape == (60, 80, 3)
    assert clip.info.width == 160 and clip.info.fps == pytest.approx(15.0)
    assert clip.timestamps[1] == pytest.approx(1 / 15, abs=1e-3)
    assert not clip.truncated
    sparse = load_clip(clip_path, target_frames=5)
    assert len(sparse) == 5 and sparse.indexes[:2] == (0, 6)
    from_bytes = load_clip(clip_path.read_bytes(), stride=10)
    assert from_bytes.indexes == (0, 10, 20)
    assert is_video(clip_path) and is_video(clip_path.read_bytes()) and not is_video(np.zeros((4, 4, 3), np.uint8))


def test_long_clip_is_decoded_up_to_the_analysis_window(clip_path: Path) -> None:
    window = MediaLimits(analysis_seconds=1.0)  # the 2 s fixture stands for a clip longer than the window
    clip = load_clip(clip_path, limits=window)
    assert clip.trimmed and not clip.truncated
    assert len(clip) == 15 and clip.indexes[-1] == 14
    assert clip.span == pytest.approx(1.0, abs=1e-3) and clip.info.duration == pytest.approx(2.0, abs=0.05)
    assert len(load_clip(clip_path, target_frames=5, limits=window)) == 5  # the stride spreads over the window
    whole = load_clip(clip_path)
    assert not whole.trimmed and whole.span == whole.info.duration
    # the frame cap counts the frames decoded, not the length of the file
    assert len(load_clip(clip_path, limits=MediaLimits(analysis_seconds=1.0, max_video_frames=20))) == 15
    assert _reason(lambda: load_clip(clip_path, limits=MediaLimits(max_video_frames=20))) == "video_too_large"


def test_clip_bytes_leave_no_temporary_file(clip_path: Path) -> None:
    before = {p for p in os.listdir(tempfile.gettempdir()) if p.startswith("idverify-")}
    load_clip(clip_path.read_bytes())
    with pytest.raises(InputError):
        load_clip(clip_path.read_bytes()[:2000])
    after = {p for p in os.listdir(tempfile.gettempdir()) if p.startswith("idverify-")}
    assert after == before


def test_bad_clips(clip_path: Path, gradient_rgb: np.ndarray, tmp_path: Path) -> None:
    data = clip_path.read_bytes()
    assert _reason(lambda: load_clip(b"")) == "input_empty"
    assert _reason(lambda: load_clip(jpeg_bytes(gradient_rgb))) == "video_format_unsupported"
    assert _reason(lambda: load_clip(b"\0" * 64)) == "video_format_unsupported"
    assert _reason(lambda: load_clip(data[:300])) == "video_corrupt"
    assert _reason(lambda: load_clip(tmp_path / "none.mp4")) == "file_not_found"
    assert _reason(lambda: load_clip(clip_path, limits=MediaLimits(max_video_seconds=1.0))) == "video_too_long"
    assert _reason(lambda: load_clip(clip_path, limits=MediaLimits(max_video_frames=10))) == "video_too_large"
    assert _reason(lambda: load_clip(clip_path, limits=MediaLimits(max_video_pixels=1000))) == "video_too_large"
    assert _reason(lambda: load_clip(clip_path, limits=MediaLimits(min_video_seconds=5.0))) == "video_too_short"
    assert _reason(lambda: load_clip(clip_path, stride=0)) == "usage_error"


def test_truncated_clip_is_flagged(tmp_path: Path, gradient_rgb: np.ndarray) -> None:
    frames = [np.roll(gradient_rgb, i * 3, axis=0) for i in range(60)]
    data = write_clip(tmp_path / "long.mp4", frames, fps=15.0).read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.5)])
    try:
        clip = load_clip(cut)
    except InputError as exc:  # the container index may be lost with the tail: still a typed error
        assert exc.reason == "video_corrupt"
    else:
        assert clip.truncated and len(clip) < 60


def test_corrupt_clip_leaves_stderr_quiet(tmp_path: Path, clip_path: Path) -> None:
    """FFmpeg's own messages on a truncated upload ("moov atom not found") do not reach the process's stderr: the
    caller gets ``video_corrupt``. A fresh interpreter: FFmpeg reads its log level when the first video opens."""
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip_path.read_bytes()[:300])
    code = ("import sys\nfrom idverify.errors import InputError\nfrom idverify.media import load_clip\n"
            f"try:\n    load_clip({str(cut)!r})\nexcept InputError as exc:\n    print(exc.reason)\n")
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_FFMPEG_LOGLEVEL"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.strip() == "video_corrupt"
    assert done.stderr == ""


@pytest.mark.skipif(subprocess.run(["which", "ffmpeg"], capture_output=True).returncode != 0, reason="needs ffmpeg")
def test_rotation_metadata_is_applied(clip_path: Path, tmp_path: Path) -> None:
    rotated = tmp_path / "rotated.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(clip_path), "-c", "copy",
                    "-metadata:s:v:0", "rotate=90", str(rotated)], check=True)
    info = probe_video(rotated)
    clip = load_clip(rotated, max_side=None)
    assert info.rotation in (90, 270)
    assert clip.frames[0].shape[:2] == (160, 120)  # portrait after rotation
