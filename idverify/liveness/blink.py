"""Blinks: dips of the eye aspect ratio below the person's own open-eye baseline.

The baseline is a rolling high percentile of the EAR (eyes are open most of
the time), so it follows the head pose and the person's eye shape; a blink is
a run of frames whose EAR / baseline falls below ``blink_ratio`` and comes back
within ``blink_max_duration`` seconds.

>>> import numpy as np
>>> t = np.arange(90) / 30.0
>>> ear = np.full(90, 0.30); ear[40:44] = [0.22, 0.12, 0.14, 0.24]
>>> blinks = find_blinks(ear, t)
>>> [(b.start, b.bottom, b.end) for b in blinks]
[(40, 41, 43)]
>>> blink_check(blinks, ear).passed
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from idverify.config import LIVENESS, LivenessConfig
from idverify.results import Check


@dataclasses.dataclass(frozen=True, slots=True)
class Blink:
    """One blink: frame positions (start, deepest, end), duration and depth (1 - EAR / baseline)."""

    start: int
    bottom: int
    end: int
    duration: float
    depth: float

    def to_dict(self) -> dict[str, float | int]:
        return {"start": self.start, "bottom": self.bottom, "end": self.end,
                "duration_s": round(self.duration, 3), "depth": round(self.depth, 3)}


def open_eye_baseline(ear: np.ndarray, timestamps: Sequence[float] | np.ndarray, window: float) -> np.ndarray:
    """Rolling 80th percentile of the EAR over ``window`` seconds (NaN-aware)."""
    stamps = np.asarray(timestamps, dtype=np.float64)
    base = np.full(len(ear), np.nan)
    lo = hi = 0
    for pos, t in enumerate(stamps):
        while stamps[lo] < t - window / 2.0:
            lo += 1
        while hi < len(stamps) and stamps[hi] <= t + window / 2.0:
            hi += 1
        values = ear[lo:hi]
        values = values[~np.isnan(values)]
        if len(values) >= 3:
            base[pos] = np.percentile(values, 80)
    return base


def find_blinks(ear: np.ndarray, timestamps: Sequence[float] | np.ndarray,
                config: LivenessConfig = LIVENESS) -> list[Blink]:
    """Blinks in an EAR series (NaN where the face was not tracked)."""
    stamps = np.asarray(timestamps, dtype=np.float64)
    base = open_eye_baseline(ear, stamps, config.baseline_window)
    ratio = ear / base
    closed = np.nan_to_num(ratio, nan=1.0) < (1.0 + config.blink_ratio) / 2.0  # the run's edges
    blinks: list[Blink] = []
    pos = 0
    while pos < len(ratio):
        if not closed[pos]:
            pos += 1
            continue
        end = pos
        while end + 1 < len(ratio) and closed[end + 1]:
            end += 1
        segment = ratio[pos:end + 1]
        bottom = pos + int(np.nanargmin(segment))
        before, after = pos - 1, end + 1
        bounded = before >= 0 and after < len(ratio) and not np.isnan(ratio[before]) and not np.isnan(ratio[after])
        duration = float(stamps[min(after, len(stamps) - 1)] - stamps[max(before, 0)])
        depth = 1.0 - float(ratio[bottom])
        # the eye opens again to (nearly) its level before the dip: a closure that stays is not a blink
        reopened = bounded and ear[after] >= (1.0 + config.blink_ratio) / 2.0 * ear[before]
        if reopened and ratio[bottom] < config.blink_ratio and duration <= config.blink_max_duration + 1e-9:
            blinks.append(Blink(start=pos, bottom=bottom, end=end, duration=duration, depth=depth))
        pos = end + 1
    return blinks


def blink_check(blinks: list[Blink], ear: np.ndarray, config: LivenessConfig = LIVENESS,
                indexes: Sequence[int] | None = None) -> Check:
    """``blink``: at least ``min_blinks`` blinks (evidence: their frames and durations)."""
    def frame(pos: int) -> int:
        return int(indexes[pos]) if indexes is not None else pos

    evidence = {
        "count": len(blinks),
        "blinks": [{**b.to_dict(), "frame": frame(b.bottom)} for b in blinks],
        "frames": [frame(b.bottom) for b in blinks],
        "ear_median": None if np.all(np.isnan(ear)) else round(float(np.nanmedian(ear)), 3),
    }
    passed = len(blinks) >= config.min_blinks
    return Check("blink", passed=passed, reason=None if passed else "no_blink", score=float(len(blinks)),
                 threshold=float(config.min_blinks), evidence=evidence)
