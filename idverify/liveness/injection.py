"""Injection hints: frozen or looped frames, cuts, impossible timestamps, tell-tale container metadata.

Frozen and looped frames are measured on small grey thumbnails of whole
frames. A loop is a run of frames that matches an earlier run (forwards or
backwards, "boomerang") much more closely than consecutive frames match each
other, so a person holding still is not mistaken for a loop.

>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> clip = [rng.integers(0, 255, (40, 40, 3), dtype=np.uint8) for _ in range(30)]
>>> looped = clip + clip[5:20]
>>> loop_check(thumbnails(looped), [i / 30 for i in range(45)]).reason
'looped_frames'
>>> frozen_check(frame_changes(clip), [i / 30 for i in range(30)]).passed
True
>>> frozen_check(frame_changes(clip[:5] + [clip[5]] * 25), [i / 30 for i in range(30)]).reason
'frozen_frames'
>>> ramp = [np.full((40, 40), 60 + i, np.uint8) for i in range(20)] + [np.full((40, 40), 200, np.uint8)] * 10
>>> cut_check(thumbnails(ramp)).evidence["frames"]
[20]
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from idverify.config import LIVENESS, LivenessConfig
from idverify.face.engine import Box
from idverify.results import Check

THUMB = 32
# encoder / handler names of virtual cameras and video editors (substring, lower case)
_SUSPECT = ("obs", "manycam", "xsplit", "snap camera", "vcam", "e2esoft", "camtwist", "splitcam",
                    "droidcam", "iriun", "epoccam", "premiere", "after effects", "final cut", "imovie",
                    "davinci", "filmora", "capcut", "movavi", "kdenlive", "shotcut", "openshot", "vegas",
                    "deepfacelive", "avatarify")
SUSPECT_SOFTWARE = re.compile(r"\b(" + "|".join(re.escape(s) for s in _SUSPECT) + r")\b", re.IGNORECASE)


def thumbnails(frames: Sequence[np.ndarray]) -> np.ndarray:
    """(n, THUMB*THUMB) float32 grey thumbnails of whole frames."""
    out = np.empty((len(frames), THUMB * THUMB), np.float32)
    for pos, frame in enumerate(frames):
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame
        out[pos] = cv2.resize(grey, (THUMB, THUMB), interpolation=cv2.INTER_AREA).reshape(-1)
    return out


def _frame(indexes: Sequence[int] | None, pos: int) -> int:
    return int(indexes[pos]) if indexes is not None else int(pos)


def frame_changes(frames: Sequence[np.ndarray], boxes: Sequence[Box | None] | None = None) -> np.ndarray:
    """Mean absolute grey change between consecutive frames, inside the face box where there is one.

    Both frames of a pair are cropped with the same box, so tracking jitter does not count as change.
    """
    changes = np.zeros(max(len(frames) - 1, 0), np.float32)
    for pos in range(len(changes)):
        box = boxes[pos] if boxes is not None else None
        pair = []
        for frame in (frames[pos], frames[pos + 1]):
            grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame
            if box is not None and box.width >= 8 and box.height >= 8:
                grey = grey[box.top:box.bottom, box.left:box.right]
            pair.append(cv2.resize(grey, (THUMB, THUMB), interpolation=cv2.INTER_AREA).astype(np.float32))
        changes[pos] = float(np.mean(np.abs(pair[1] - pair[0])))
    return changes


def frozen_check(changes: np.ndarray, timestamps: Sequence[float] | np.ndarray, config: LivenessConfig = LIVENESS,
                 indexes: Sequence[int] | None = None) -> Check:
    """``frozen``: no run of identical frames longer than ``frozen_min_seconds`` (a keyframe blip does not end a run).

    ``changes``: :func:`frame_changes` over the face box (a talking head over
    a static background changes little as a whole frame).
    """
    stamps = np.asarray(timestamps, dtype=np.float64)
    if len(changes) < 1:
        return Check("frozen", passed=True, score=0.0, threshold=config.frozen_min_seconds, evidence={"frames": []})
    diffs = changes
    same = _bridge_blips(diffs <= config.frozen_max_diff, diffs <= config.frozen_blip_diff)
    longest, best = 0.0, (0, 0)
    pos = 0
    while pos < len(same):
        if not same[pos]:
            pos += 1
            continue
        end = pos
        while end + 1 < len(same) and same[end + 1]:
            end += 1
        span = float(stamps[end + 1] - stamps[pos])
        if span > longest:
            longest, best = span, (pos, end + 1)
        pos = end + 1
    passed = longest < config.frozen_min_seconds
    evidence = {"longest_frozen_s": round(longest, 3), "duplicate_fraction": round(float(same.mean()), 3),
                "frames": [_frame(indexes, best[0]), _frame(indexes, best[1])] if longest > 0 else [],
                "median_frame_diff": round(float(np.median(diffs)), 3)}
    return Check("frozen", passed=passed, reason=None if passed else "frozen_frames", score=longest,
                 threshold=config.frozen_min_seconds, evidence=evidence)


def _bridge_blips(same: np.ndarray, small: np.ndarray, side: int = 3) -> np.ndarray:
    """``same`` with single small changes inside a frozen run counted as frozen too.

    A codec's keyframe inside a frozen stretch re-encodes the same picture
    slightly differently; a change up to the blip level, with ``side``
    identical pairs on each side of it, does not end the run.
    """
    bridged = same.copy()
    for pos in range(side, len(same) - side):
        if not same[pos] and small[pos] and same[pos - side:pos].all() and same[pos + 1:pos + 1 + side].all():
            bridged[pos] = True
    return bridged


def loop_check(thumbs: np.ndarray, timestamps: Sequence[float] | np.ndarray, config: LivenessConfig = LIVENESS,
               indexes: Sequence[int] | None = None) -> Check:
    """``loop``: no run of ``loop_min_frames`` frames that repeats an earlier run."""
    count = len(thumbs)
    stamps = np.asarray(timestamps, dtype=np.float64)
    fps = (count - 1) / max(float(stamps[-1] - stamps[0]), 1e-3) if count > 1 else 1.0
    min_run = max(config.loop_min_frames, int(np.ceil(0.3 * fps)))
    if count < 2 * min_run:
        return Check("loop", passed=True, score=0.0, threshold=float(min_run), evidence={"frames": []})
    x = np.ascontiguousarray(thumbs - thumbs.mean(axis=1, keepdims=True), dtype=np.float32)
    gram = cv2.mulTransposed(x, False).astype(np.float64)  # x @ x.T without a BLAS thread pool
    sq = np.diag(gram)
    dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * gram, 0.0) / x.shape[1])
    adjacent = np.r_[np.diag(dist, 1), np.diag(dist, 1)[-1:]]
    motion = np.maximum(adjacent, np.r_[adjacent[:1], adjacent[:-1]])  # change to the neighbours
    gap = np.abs(np.arange(count)[:, None] - np.arange(count)[None, :])
    dist = np.where(gap >= min_run, dist, np.inf)
    best = np.argmin(dist, axis=1)
    closest = dist[np.arange(count), best]
    floor = 0.5  # grey levels: below this, frames are identical anyway (frozen, not looped)
    repeats = (closest < 0.3 * motion) & (motion > floor)
    groups: Counter[tuple[str, int]] = Counter()
    for pos in np.flatnonzero(repeats):
        groups[("forward", int(best[pos]) - int(pos))] += 1
        groups[("reverse", int(best[pos]) + int(pos))] += 1
    (kind, key), size = groups.most_common(1)[0] if groups else (("forward", 0), 0)
    members = [int(p) for p in np.flatnonzero(repeats)
               if (int(best[p]) - int(p) if kind == "forward" else int(best[p]) + int(p)) == key]
    size = len(members) // 2 if kind == "reverse" else len(members)  # a boomerang's two halves match each other
    passed = size < min_run
    evidence: dict[str, Any] = {"repeated_frames": int(size), "kind": kind if size else None,
                                "frames": [_frame(indexes, p) for p in members[:2]] if size else [],
                                "offset_frames": abs(key) if size and kind == "forward" else None}
    return Check("loop", passed=passed, reason=None if passed else "looped_frames", score=float(size),
                 threshold=float(min_run), evidence=evidence)


def cut_check(thumbs: np.ndarray, config: LivenessConfig = LIVENESS, indexes: Sequence[int] | None = None) -> Check:
    """``cuts``: hard cuts between shots (a hint: a phone capture is one continuous shot).

    A cut is a change between consecutive whole-frame thumbnails of at least
    ``cut_min_diff`` grey levels and ``cut_min_ratio`` times the median change
    of the 16 frame pairs around it (so fast motion is not a cut).
    """
    changes = np.abs(np.diff(thumbs, axis=0)).mean(axis=1) if len(thumbs) > 1 else np.zeros(0)
    cuts = []
    for pos, change in enumerate(changes):
        around = np.r_[changes[max(0, pos - 8):pos], changes[pos + 1:pos + 9]]
        if change >= config.cut_min_diff and change >= config.cut_min_ratio * max(float(np.median(around)) if
                                                                                  len(around) else 0.0, 1.0):
            cuts.append(pos + 1)
    passed = not cuts
    return Check("cuts", passed=passed, reason=None if passed else "scene_cut", score=float(len(cuts)), threshold=1.0,
                 evidence={"frames": [_frame(indexes, p) for p in cuts[:20]],
                           "largest_change": round(float(changes.max()), 2) if len(changes) else 0.0})


def timestamp_check(timestamps: Sequence[float] | np.ndarray, fps: float,
                    indexes: Sequence[int] | None = None) -> Check:
    """``timestamps``: presentation times increase, without repeats or jumps over 1 s (a hint)."""
    stamps = np.asarray(timestamps, dtype=np.float64)
    steps = np.diff(stamps)
    bad = np.flatnonzero((steps <= 0) | (steps > 1.0))
    measured = (len(stamps) - 1) / float(stamps[-1] - stamps[0]) if len(stamps) > 1 and stamps[-1] > stamps[0] else 0.0
    share = len(bad) / max(len(steps), 1)
    passed = share <= 0.02
    return Check("timestamps", passed=passed, reason=None if passed else "timestamps_invalid", score=share,
                 threshold=0.02, evidence={"frames": [_frame(indexes, int(p) + 1) for p in bad[:10]],
                                           "declared_fps": round(fps, 3), "measured_fps": round(measured, 3)})


def metadata_check(tags: dict[str, Any] | None) -> Check:
    """``metadata``: encoder / handler tags naming a virtual camera or an editor (a hint only)."""
    if tags is None:
        return Check("metadata", passed=True, score=0.0, threshold=1.0, evidence={"measured": False})
    values: list[str] = []
    for scope in [tags.get("format", {}), *tags.get("streams", [])]:
        for key, value in (scope.get("tags") or {}).items():
            if isinstance(value, str) and key.lower() in ("encoder", "handler_name", "software", "comment",
                                                          "com.apple.quicktime.software", "title", "vendor_id"):
                values.append(f"{key}={value[:80]}")
    hits = [v for v in values if SUSPECT_SOFTWARE.search(v.split("=", 1)[1])]
    passed = not hits
    return Check("metadata", passed=passed, reason=None if passed else "virtual_camera_hint", score=float(len(hits)),
                 threshold=1.0, evidence={"measured": True, "tags": values[:12], "hits": hits, "frames": []})
