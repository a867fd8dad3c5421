"""Encode frames (and an optional mono track) to MP4 / H.264 yuv420p with ffmpeg.

Settings are fixed and single-threaded, with ffmpeg's bitexact flags and no
metadata, so that the same frames give the same file on one platform. The
file is written beside the target and renamed into place: a failed encode
leaves nothing half-written.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from idverify.errors import EngineError, UsageError

CRF = 28
PRESET = "fast"
GOP = 50


def _ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        raise EngineError("engine_error", "ffmpeg is not installed (apt-get install ffmpeg)")
    return path


def _write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    pcm = np.clip(np.asarray(samples, dtype=np.float64), -1, 1)
    data = np.round(pcm * 32767).astype("<i2").tobytes()
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(sample_rate)
        handle.writeframes(data)


def write_clip(path: str | os.PathLike[str], frames: Iterable[np.ndarray], fps: float, *,
               audio: np.ndarray | None = None, sample_rate: int = 16000, crf: int = CRF) -> Path:
    """Write RGB ``uint8`` frames (all the same even size) as an MP4 at ``fps``; returns the path.

    ``audio``: mono float samples in [-1, 1] at ``sample_rate``, encoded as AAC.
    """
    target = Path(path)
    iterator = iter(frames)
    try:
        first = next(iterator)
    except StopIteration:
        raise UsageError("usage_error", "write_clip needs at least one frame") from None
    if first.dtype != np.uint8 or first.ndim != 3 or first.shape[2] != 3:
        raise UsageError("usage_error", f"frames must be H x W x 3 uint8, got {first.shape} {first.dtype}")
    height, width = first.shape[:2]
    if width % 2 or height % 2:
        raise UsageError("usage_error", f"yuv420p needs even dimensions, got {width}x{height}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="idverify-clip-", dir=target.parent) as tmp:
        partial = Path(tmp) / ("partial" + (target.suffix or ".mp4"))
        cmd = [_ffmpeg(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-framerate", f"{fps:g}",
               "-i", "pipe:0"]
        if audio is not None:
            wav = Path(tmp) / "audio.wav"
            _write_wav(wav, audio, sample_rate)
            cmd += ["-i", str(wav), "-map", "0:v", "-map", "1:a", "-c:a", "aac", "-b:a", "48k", "-ac", "1",
                    "-flags:a", "+bitexact"]
        cmd += ["-c:v", "libx264", "-preset", PRESET, "-crf", str(crf), "-g", str(GOP), "-pix_fmt", "yuv420p",
                "-threads", "1", "-x264-params", "threads=1:lookahead-threads=1", "-flags:v", "+bitexact",
                "-fflags", "+bitexact", "-map_metadata", "-1", "-movflags", "+faststart", str(partial)]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdin is not None
        try:
            proc.stdin.write(np.ascontiguousarray(first).tobytes())
            for frame in iterator:
                if frame.shape != first.shape or frame.dtype != np.uint8:
                    raise UsageError("usage_error", f"frame of shape {frame.shape} in a {first.shape} clip")
                proc.stdin.write(np.ascontiguousarray(frame).tobytes())
        except BrokenPipeError:
            pass
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
        stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.wait() != 0:
            raise EngineError("engine_error", f"ffmpeg failed: {stderr.strip()[-500:]}")
        os.replace(partial, target)
    return target
