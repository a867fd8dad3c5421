"""``check_liveness``: decode once, track the face, measure every cue, fuse."""

from __future__ import annotations

import math
import os
import time
from collections.abc import MutableSet, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Union

import cv2
import numpy as np

from idverify.config import LIVENESS, MEDIA, LivenessConfig, MediaLimits
from idverify.errors import InputError, UsageError
from idverify.face.engine import FaceEngine, default_engine
from idverify.liveness import container
from idverify.liveness.audio import audio_check
from idverify.liveness.blink import blink_check, find_blinks
from idverify.liveness.challenge import Challenge, challenge_check, verify_challenge
from idverify.liveness.decision import THRESHOLD, fuse
from idverify.liveness.identity import face_count_check, identity_check, presence_check
from idverify.liveness.injection import (
    cut_check,
    frame_changes,
    frozen_check,
    loop_check,
    metadata_check,
    thumbnails,
    timestamp_check,
)
from idverify.liveness.motion import head_pose_check, structure_check
from idverify.liveness.parallax import confirm_structure, flow_windows, parallax_check, texture_residual
from idverify.liveness.result import LivenessResult
from idverify.liveness.signals import Signals, compute_signals
from idverify.liveness.surface import surface_check
from idverify.liveness.track import track_face
from idverify.media import Clip, load_clip
from idverify.results import Check

VideoInput = Union[str, os.PathLike, bytes, bytearray, memoryview]


_SIDE = ThreadPoolExecutor(max_workers=2, thread_name_prefix="idverify-liveness")


def _container_side(video: VideoInput, seconds: float, audio: bool) -> tuple[dict[str, Any] | None, Any]:
    with container.source_path(video) as path:
        tags = container.probe_tags(path)
        samples = container.read_audio(path, seconds) if audio and container.has_audio(tags) else None
    return tags, samples


def check_liveness(video: VideoInput | None = None, challenge: str | Challenge | None = None, *,
                   engine: FaceEngine | None = None, clip: Clip | None = None, secret: bytes | None = None,
                   now: float | None = None, used_nonces: MutableSet[str] | None = None,
                   config: LivenessConfig = LIVENESS, limits: MediaLimits = MEDIA,
                   audio: bool = True) -> LivenessResult:
    """Decide whether ``video`` (a path or bytes) shows a live person in front of the camera.

    ``clip``: an already decoded :class:`idverify.media.Clip` (the
    orchestrator decodes each input once); ``video`` is then only used for
    the container metadata and the audio track, and may be ``None``.
    ``challenge``: a token (or :class:`Challenge`) from
    :func:`issue_challenge`, verified with ``secret`` at ``now`` (default:
    the current time) and, with ``used_nonces``, made single-use; the
    decision is then *active* (the actions must be seen in order).

    Expected failures (no face, a spoof, a failed challenge) come back as a
    result with ``live=False`` and reasons; unusable input raises
    :class:`InputError`, misuse :class:`UsageError`.
    """
    if video is None and clip is None:
        raise UsageError("usage_error", "check_liveness needs a video (path or bytes) or a decoded clip")
    if challenge is not None and secret is None:
        raise UsageError("usage_error", "a challenge needs the secret it was signed with")
    started = time.perf_counter()
    if clip is None:
        assert video is not None
        clip = load_clip(video, max_side=config.max_side, limits=limits)
    decoded = time.perf_counter()
    if len(clip) == 0:
        raise InputError("input_empty", "the clip has no frames")
    engine = engine or default_engine()
    frames, stamps, indexes = clip.frames, clip.timestamps, clip.indexes
    height, width = frames[0].shape[:2]

    cues: dict[str, Check] = {}
    active: Challenge | None = None
    if challenge is not None:
        assert secret is not None
        try:
            active = verify_challenge(challenge, secret, time.time() if now is None else now, used_nonces=used_nonces)
        except InputError as exc:
            cues["challenge"] = Check("challenge", passed=False, reason="challenge_invalid", score=0.0,
                                      threshold=1.0, evidence={"error": exc.message, "frames": []})

    # container metadata and audio run in ffprobe / ffmpeg on the other core while the face is tracked
    side = _SIDE.submit(_container_side, video, clip.span + 1.0, audio) if video is not None else None
    greys = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) if f.ndim == 3 else f for f in frames]  # converted once
    track = track_face(greys, engine, config)
    tracked = time.perf_counter()
    signals = compute_signals(track.landmarks, (width, height))
    blinks = find_blinks(signals.ear, stamps, config)
    # the embeddings (the costliest cue) are computed on the other core while the cheaper cues run here
    identity = (_SIDE.submit(identity_check, frames, track, engine, config, indexes, signals.yaw)
                if track.valid.any() else None)
    cues["face_present"] = presence_check(track, config, indexes)
    cues["single_face"] = face_count_check(track, config, indexes)
    cues["blink"] = blink_check(blinks, signals.ear, config, indexes)
    structure = structure_check(track.landmarks, config, indexes)
    if structure.passed:  # the landmark parallax, confirmed on the skin texture between the same two frames
        start, end = (int(np.searchsorted(indexes, f)) for f in structure.evidence["frames"])
        structure = confirm_structure(structure, texture_residual(greys, track.landmarks, stamps, start, end, config),
                                      config)
    cues["structure"] = structure
    windows = flow_windows(greys, track.landmarks, signals.yaw, stamps, config)
    cues["parallax"] = parallax_check(windows, config, indexes)
    cues["head_pose"] = head_pose_check(signals, stamps, config, indexes)
    cues["surface"] = surface_check(frames, track, config, indexes)
    cues["frozen"] = frozen_check(frame_changes(greys, track.boxes), stamps, config, indexes)
    thumbs = thumbnails(greys)
    cues["loop"] = loop_check(thumbs, stamps, config, indexes)
    cues["cuts"] = cut_check(thumbs, config, indexes)
    cues["timestamps"] = timestamp_check(stamps, clip.info.fps, indexes)
    if active is not None:
        cues["challenge"] = challenge_check(active, signals, blinks, stamps, config, indexes)

    if identity is not None:
        cues["identity"] = identity.result()
    tags, samples = side.result() if side is not None else (None, None)
    cues["metadata"] = metadata_check(tags)
    cues["lip_sync"] = audio_check(signals.mouth, stamps, samples, config, indexes)

    live, score, reasons, hints = fuse(cues)
    finished = time.perf_counter()
    details = {
        "frames_analysed": len(frames),
        "decoded_frames": clip.decoded_frames,
        "duration_s": round(clip.info.duration, 3),
        "fps": round(clip.info.fps, 3),
        "source_size": [clip.info.width, clip.info.height],
        "rotation": clip.info.rotation,
        "truncated": clip.truncated,
        "analysed_s": round(clip.span, 3),  # less than duration_s when the clip was trimmed to the analysis window
        "trimmed": clip.trimmed,
        "tracked_fraction": round(track.tracked_fraction, 3),
        "detections": len(track.detect_positions),
        "series": _series(stamps, signals),
        "challenge": active.to_dict() if active is not None else None,
        "engine": engine.version,
        "config": config.provenance,
        "timing_s": {"decode": round(decoded - started, 3), "track": round(tracked - decoded, 3),
                     "cues": round(finished - tracked, 3), "total": round(finished - started, 3)},
    }
    return LivenessResult(live=live, score=score, threshold=THRESHOLD, reasons=reasons, hints=hints, cues=cues,
                          mode="active" if challenge is not None else "passive", details=details)


def _series(stamps: Sequence[float], signals: Signals, points: int = 150) -> dict[str, list[float | None]]:
    """The behaviour curves a reviewer reads (eye openness, head yaw and pitch over time), at most
    ``points`` samples; no landmark or pixel leaves the function. ``None`` where the face was lost."""
    step = max(1, math.ceil(len(stamps) / points))

    def cut(values: Sequence[float] | np.ndarray, digits: int) -> list[float | None]:
        return [None if not math.isfinite(v) else round(float(v), digits) for v in list(values)[::step]]

    return {"t": cut(stamps, 3), "ear": cut(signals.ear, 3), "yaw": cut(signals.yaw, 1),
            "pitch": cut(signals.pitch, 1)}
