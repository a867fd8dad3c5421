"""What the ffmpeg tools say about a clip's container: metadata tags and the audio track.

Runs ``ffprobe`` / ``ffmpeg`` as subprocesses with timeouts (installed by
scripts/setup.sh); when they are missing or fail, the callers get ``None``
and the cue is reported as not measured. Bytes input is written to a private
temporary file (0600) deleted on exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from idverify.media import private_copy

AUDIO_RATE = 16_000
_TIMEOUT = 20.0


@contextlib.contextmanager
def source_path(source: str | os.PathLike[str] | bytes | bytearray | memoryview) -> Iterator[str]:
    """A filesystem path for ``source`` (bytes go to a private temporary file)."""
    if isinstance(source, (str, os.PathLike)):
        yield str(Path(source))
        return
    with private_copy(bytes(source)) as tmp:
        yield tmp


def probe_tags(path: str) -> dict[str, Any] | None:
    """Format and stream tags (``ffprobe -show_format -show_streams``), or ``None``."""
    exe = shutil.which("ffprobe")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "-v", "error", "-show_format", "-show_streams", "-of", "json", path],
                             capture_output=True, timeout=_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    try:
        data = json.loads(out.stdout.decode("utf-8", "replace"))
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def has_audio(tags: dict[str, Any] | None) -> bool:
    """True when the probed container holds an audio stream."""
    return bool(tags) and any(s.get("codec_type") == "audio" for s in (tags or {}).get("streams", []))


def read_audio(path: str, max_seconds: float) -> np.ndarray | None:
    """The first audio track as mono float32 at 16 kHz (``None`` when absent or undecodable)."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        return None
    cmd = [exe, "-v", "error", "-nostdin", "-i", path, "-t", f"{max_seconds:.3f}", "-vn", "-ac", "1",
           "-ar", str(AUDIO_RATE), "-f", "s16le", "-"]
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0 or len(out.stdout) < 2:
        return None
    samples = np.frombuffer(out.stdout[: len(out.stdout) // 2 * 2], dtype="<i2").astype(np.float32) / 32768.0
    return samples
