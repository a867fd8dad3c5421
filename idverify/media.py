"""Safe loading of images and video clips.

Everything that reads user-supplied pixels goes through here: format
sniffing, size caps (file bytes, pixel count against decompression bombs,
clip duration / resolution / frame count), EXIF orientation, video rotation
metadata, reduced-size decoding. Bad input raises :class:`InputError` with a
reason code; no OpenCV or Pillow traceback escapes.

Images are returned as RGB ``uint8`` arrays (``H x W x 3``); numpy input is
taken to be RGB (or grey) already.

>>> import numpy as np
>>> img = load_image(np.zeros((64, 80, 3), np.uint8))
>>> img.pixels.shape, img.original_size, img.format
((64, 80, 3), (80, 64), 'array')
>>> load_image(b"GIF89a....")
Traceback (most recent call last):
...
idverify.errors.InputError: image_format_unsupported: not a JPEG, PNG or WebP image (starts with b'GIF89a..')
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import os
import struct
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Union

import cv2
import numpy as np
from PIL import Image, ImageOps

from idverify.config import MEDIA, MediaLimits
from idverify.errors import InputError

ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview, np.ndarray]
VideoSource = Union[str, os.PathLike, bytes, bytearray, memoryview]


def _quiet_opencv() -> None:
    """Silence OpenCV's own stderr chatter on corrupt input (errors still raise), and FFmpeg's inside it (``moov
    atom not found`` on a truncated upload: the caller gets ``video_corrupt`` instead) unless the host application
    set ``OPENCV_FFMPEG_LOGLEVEL`` itself."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET, read when the first video is opened
    logging_api = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging_api is not None:
        logging_api.setLogLevel(logging_api.LOG_LEVEL_SILENT)
    elif hasattr(cv2, "setLogLevel"):
        cv2.setLogLevel(0)


_quiet_opencv()

_IMAGE_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
)


@dataclasses.dataclass(frozen=True, slots=True)
class LoadedImage:
    """Decoded pixels plus what is needed to map coordinates back to the original."""

    pixels: np.ndarray  # H x W x 3, uint8, RGB
    original_size: tuple[int, int]  # (width, height) of the full image, EXIF orientation applied
    scale: float  # decoded width / original width (1.0 unless max_side reduced it)
    format: str  # "JPEG", "PNG", "WEBP" or "array"

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the decoded pixels."""
        return int(self.pixels.shape[1]), int(self.pixels.shape[0])


def sniff_image_format(data: bytes) -> str | None:
    """``"JPEG"``, ``"PNG"``, ``"WEBP"`` or ``None`` from the first bytes."""
    for magic, name in _IMAGE_MAGIC:
        if data.startswith(magic):
            return name
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def sniff_video_container(data: bytes) -> str | None:
    """``"mp4"`` (MP4/MOV/3GP), ``"matroska"`` (MKV/WebM), ``"avi"`` or ``None``."""
    if len(data) >= 12 and data[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free"):
        return "mp4"
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:11] == b"AVI":
        return "avi"
    return None


def read_source_bytes(source: str | os.PathLike | bytes | bytearray | memoryview, max_bytes: int) -> bytes:
    """The bytes of a path or buffer, with existence, emptiness and size checks."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise InputError("file_not_found", f"no file at {path}") from None
        except OSError as exc:
            raise InputError("file_not_found", f"cannot read {path}: {exc.strerror}") from None
        if not path.is_file():
            raise InputError("file_not_found", f"{path} is not a regular file")
        if size > max_bytes:
            raise InputError("file_too_large", f"{size} bytes > limit {max_bytes}")
        data = path.read_bytes()
    else:
        raise InputError("input_type", f"expected a path, bytes or ndarray, got {type(source).__name__}")
    if not data:
        raise InputError("input_empty", "the input has 0 bytes")
    if len(data) > max_bytes:
        raise InputError("file_too_large", f"{len(data)} bytes > limit {max_bytes}")
    return data


def load_image(source: ImageSource, *, max_side: int | None = None, limits: MediaLimits = MEDIA) -> LoadedImage:
    """Decode an image safely, optionally at reduced size.

    ``max_side`` bounds the longer side of the result; for JPEG the reduction
    happens inside the decoder (DCT scaling), so a 12 MP photo decoded for a
    1024-pixel check costs a fraction of a full decode.
    """
    if isinstance(source, np.ndarray):
        return _from_array(source, max_side, limits)
    data = read_source_bytes(source, limits.max_file_bytes)
    fmt = sniff_image_format(data)
    if fmt is None:
        raise InputError("image_format_unsupported", f"not a JPEG, PNG or WebP image (starts with {data[:8]!r})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                width, height = im.size
                if width * height > limits.max_pixels:
                    raise InputError("image_too_large", f"{width}x{height} pixels > limit {limits.max_pixels}")
                orientation = _exif_orientation(im)
                if orientation in (5, 6, 7, 8):
                    width, height = height, width
                if max_side and fmt == "JPEG" and max(width, height) > max_side:
                    factor = max(width, height) / max_side
                    w_req, h_req = int(im.size[0] / factor), int(im.size[1] / factor)
                    im.draft("RGB", (max(w_req, 1), max(h_req, 1)))
                im.load()
                oriented = ImageOps.exif_transpose(im) if orientation not in (None, 1) else im
                rgb = np.asarray(oriented.convert("RGB"))
    except InputError:
        raise
    except Image.DecompressionBombError as exc:
        raise InputError("image_too_large", f"declared size is a decompression bomb: {exc}") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise InputError("image_corrupt", f"cannot decode the {fmt} data: {exc}") from None
    return _finish(rgb, (width, height), fmt, max_side, limits)


def _exif_orientation(im: Image.Image) -> int | None:
    try:
        value = im.getexif().get(0x0112)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not stop decoding
        return None
    return int(value) if isinstance(value, int) else None


def _from_array(array: np.ndarray, max_side: int | None, limits: MediaLimits) -> LoadedImage:
    if array.dtype != np.uint8:
        raise InputError("input_type", f"arrays must be uint8, got {array.dtype}")
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    elif array.ndim == 3 and array.shape[2] == 4:
        array = array[:, :, :3]
    elif array.ndim == 3 and array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    elif not (array.ndim == 3 and array.shape[2] == 3):
        raise InputError("input_type", f"expected an H x W (x 1|3|4) array, got shape {array.shape}")
    height, width = array.shape[:2]
    if width * height > limits.max_pixels:
        raise InputError("image_too_large", f"{width}x{height} pixels > limit {limits.max_pixels}")
    return _finish(np.ascontiguousarray(array), (width, height), "array", max_side, limits)


def _finish(rgb: np.ndarray, original: tuple[int, int], fmt: str, max_side: int | None,
            limits: MediaLimits) -> LoadedImage:
    if min(original) < limits.min_image_side:
        raise InputError("image_too_small", f"{original[0]}x{original[1]} is below {limits.min_image_side} px")
    rgb, _ = downscale(rgb, max_side)
    return LoadedImage(pixels=rgb, original_size=original, scale=rgb.shape[1] / original[0], format=fmt)


# ----------------------------------------------------------------------------- video


@dataclasses.dataclass(frozen=True, slots=True)
class VideoInfo:
    """What the container says (and what decoding confirmed) about a clip."""

    width: int  # after rotation metadata is applied
    height: int
    fps: float
    frame_count: int  # declared by the container (may be wrong for truncated files)
    duration: float  # seconds
    rotation: int  # degrees, from the container's display matrix
    codec: str
    container: str
    file_bytes: int


@dataclasses.dataclass(frozen=True, slots=True)
class Clip:
    """Frames decoded once (RGB, at most ``max_side`` pixels), with their timing."""

    frames: tuple[np.ndarray, ...]
    timestamps: tuple[float, ...]  # seconds from the start
    indexes: tuple[int, ...]  # frame numbers in the source
    info: VideoInfo
    scale: float  # decoded width / source width
    decoded_frames: int  # frames read from the stream (including skipped ones)
    truncated: bool  # the stream ended well before the declared frame count
    trimmed: bool = False  # the source goes on past ``MediaLimits.analysis_seconds``: only its start was decoded

    @property
    def span(self) -> float:
        """Seconds of the source covered by the decoded frames (``info.duration`` unless trimmed)."""
        if not self.trimmed:
            return self.info.duration
        step = 1.0 / self.info.fps if self.info.fps else 0.0
        return self.timestamps[-1] + step

    def __len__(self) -> int:
        return len(self.frames)


@contextlib.contextmanager
def _video_path(source: VideoSource, limits: MediaLimits) -> Iterator[tuple[str, str, int]]:
    """A filesystem path for OpenCV; bytes go to a private temp file deleted on exit."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        with open_or_raise(path) as head:
            prefix = head.read(16)
        size = path.stat().st_size
        if size == 0:
            raise InputError("input_empty", "the clip has 0 bytes")
        if size > limits.max_video_bytes:
            raise InputError("file_too_large", f"{size} bytes > limit {limits.max_video_bytes}")
        container = _require_container(prefix)
        yield str(path), container, size
        return
    data = read_source_bytes(source, limits.max_video_bytes)
    container = _require_container(data[:16])
    with private_copy(data) as tmp:
        yield tmp, container, len(data)


@contextlib.contextmanager
def private_copy(data: bytes) -> Iterator[str]:
    """The path of a private temporary file (mode 0600) holding ``data``, deleted on exit.

    For engines that only read files (OpenCV, ffmpeg) when a clip arrives as bytes.
    """
    fd, tmp = tempfile.mkstemp(prefix="idverify-", suffix=".clip")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        yield tmp
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


@contextlib.contextmanager
def open_or_raise(path: Path) -> Iterator[io.BufferedReader]:
    if not path.exists():
        raise InputError("file_not_found", f"no file at {path}")
    if not path.is_file():
        raise InputError("file_not_found", f"{path} is not a regular file")
    with open(path, "rb") as handle:
        yield handle


def _require_container(prefix: bytes) -> str:
    container = sniff_video_container(prefix)
    if container is None:
        if sniff_image_format(prefix):
            raise InputError("video_format_unsupported", "this is a still image, not a video clip")
        raise InputError("video_format_unsupported", f"unknown container (starts with {prefix[:8]!r})")
    return container


def _fourcc(value: float) -> str:
    code = int(value)
    chars = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
    return chars if chars.isprintable() else ""


def _probe(cap: cv2.VideoCapture, container: str, size: int) -> VideoInfo:
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    if not math.isfinite(fps) or fps <= 0 or fps > 480:
        fps = 0.0
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
    height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
    rotation = int(cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0) % 360
    if rotation in (90, 270):
        width, height = height, width
    duration = count / fps if fps and count > 0 else 0.0
    return VideoInfo(width=width, height=height, fps=fps, frame_count=max(count, 0), duration=duration,
                     rotation=rotation, codec=_fourcc(cap.get(cv2.CAP_PROP_FOURCC)), container=container,
                     file_bytes=size)


def _check_limits(info: VideoInfo, limits: MediaLimits) -> None:
    if info.width * info.height > limits.max_video_pixels:
        raise InputError("video_too_large", f"{info.width}x{info.height} frames > limit {limits.max_video_pixels} px")
    if info.duration > limits.max_video_seconds:
        raise InputError("video_too_long", f"{info.duration:.1f} s > limit {limits.max_video_seconds} s")
    if (frames := _window_frames(info, limits)) > limits.max_video_frames:
        raise InputError("video_too_large", f"{frames} frames to decode > limit {limits.max_video_frames}")


def _window_frames(info: VideoInfo, limits: MediaLimits) -> int:
    """Declared frames within the analysis window (all of them when the frame rate is unknown)."""
    return min(info.frame_count, math.ceil(limits.analysis_seconds * info.fps)) if info.fps else info.frame_count


@contextlib.contextmanager
def _opened_video(source: VideoSource, limits: MediaLimits) -> Iterator[tuple[cv2.VideoCapture, VideoInfo]]:
    """The source open for decoding with its container metadata, caps checked; OpenCV errors become
    ``video_corrupt`` and the capture is released on the way out."""
    with _video_path(source, limits) as (path, container, size):
        cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
        try:
            if not cap.isOpened():
                raise InputError("video_corrupt", "the container cannot be opened or holds no video stream")
            info = _probe(cap, container, size)
            _check_limits(info, limits)
            yield cap, info
        except cv2.error as exc:
            raise InputError("video_corrupt", f"decoding failed: {exc.msg if hasattr(exc, 'msg') else exc}") from None
        finally:
            cap.release()


def probe_video(source: VideoSource, *, limits: MediaLimits = MEDIA) -> VideoInfo:
    """Container metadata, with the caps checked, without decoding frames."""
    with _opened_video(source, limits) as (_, info):
        return info


def load_clip(source: VideoSource, *, max_side: int | None = 640, stride: int = 1,
              target_frames: int | None = None, limits: MediaLimits = MEDIA) -> Clip:
    """Decode a clip once: every ``stride``-th frame, RGB, downscaled to ``max_side``.

    ``target_frames`` picks the stride from the declared frame count so that
    about that many frames, evenly spaced, are kept. Skipped frames are only
    decoded (``grab``), not converted, which is what makes sparse sampling
    cheap. Rotation metadata is applied. A source longer than
    ``limits.analysis_seconds`` (and within ``limits.max_video_seconds``) is
    decoded up to that point only and comes back ``trimmed``.
    """
    if stride < 1 or (target_frames is not None and target_frames < 1):
        raise InputError("usage_error", "stride and target_frames must be >= 1")
    frames: list[np.ndarray] = []
    stamps: list[float] = []
    indexes: list[int] = []
    with _opened_video(source, limits) as (cap, info):
        window = _window_frames(info, limits)
        if target_frames is not None:
            stride = max(1, window // target_frames) if window else stride
        index = 0
        trimmed = False
        scale = 1.0
        source_shape = (0, 0)
        while True:
            if index >= limits.max_video_frames:
                raise InputError("video_too_large", f"more than {limits.max_video_frames} frames")
            if not cap.grab():
                break
            stamp_ms = float(cap.get(cv2.CAP_PROP_POS_MSEC) or 0.0)
            if index > 0 and stamp_ms / 1000.0 >= limits.analysis_seconds:
                trimmed = True
                break
            if index % stride == 0:
                ok, bgr = cap.retrieve()
                if not ok or bgr is None:
                    break
                source_shape = bgr.shape[:2]
                frame, scale = downscale(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), max_side)
                frames.append(frame)
                stamps.append(stamp_ms / 1000.0 if stamp_ms > 0 or index == 0 else
                              (index / info.fps if info.fps else 0.0))
                indexes.append(index)
            index += 1
    if not frames:
        raise InputError("video_corrupt", "no frame could be decoded")
    height, width = source_shape
    fps = info.fps or (index / stamps[-1] if stamps[-1] > 0 else 0.0)
    duration = max(stamps[-1] + (1.0 / fps if fps else 0.0), index / fps if fps else 0.0)
    if trimmed:  # the declared length stands for the part not decoded
        duration = max(duration, info.duration)
    info = dataclasses.replace(info, width=width, height=height, fps=fps, duration=duration)
    if duration > limits.max_video_seconds:
        raise InputError("video_too_long", f"{duration:.1f} s > limit {limits.max_video_seconds} s")
    if duration < limits.min_video_seconds:
        raise InputError("video_too_short", f"{duration:.2f} s < minimum {limits.min_video_seconds} s")
    truncated = not trimmed and info.frame_count > 0 and index < 0.9 * info.frame_count
    return Clip(frames=tuple(frames), timestamps=tuple(stamps), indexes=tuple(indexes), info=info,
                scale=scale, decoded_frames=index, truncated=truncated, trimmed=trimmed)


def downscale(image: np.ndarray, max_side: int | None) -> tuple[np.ndarray, float]:
    """``image`` resized (area interpolation) so its longer side is at most ``max_side``, and the factor.

    >>> small, factor = downscale(np.zeros((100, 200), np.uint8), 50)
    >>> small.shape, factor
    ((25, 50), 0.25)
    """
    height, width = image.shape[:2]
    if not max_side or max(height, width) <= max_side:
        return image, 1.0
    factor = max_side / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), size[0] / width


def is_video(source: ImageSource | VideoSource) -> bool:
    """True when ``source`` (a path or bytes) looks like a video container."""
    if isinstance(source, np.ndarray):
        return False
    if isinstance(source, (bytes, bytearray, memoryview)):
        return sniff_video_container(bytes(source[:16])) is not None
    try:
        with open(source, "rb") as handle:
            return sniff_video_container(handle.read(16)) is not None
    except OSError:
        return False
