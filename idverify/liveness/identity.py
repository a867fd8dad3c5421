"""Identity continuity (one person throughout: embedding drift) and the face-count checks.

A few frames spread over the tracked part of the clip are aligned and encoded
by the face engine; the largest distance between any two embeddings is the
drift. A face swap or a cut to another person shows as a large drift.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from idverify.config import LIVENESS, LivenessConfig
from idverify.face.engine import Box, FaceEngine
from idverify.liveness.track import FaceTrack
from idverify.results import Check


def sample_positions(track: FaceTrack, count: int, yaw: np.ndarray | None = None) -> list[int]:
    """``count`` tracked frame positions spread over the clip: the most frontal frame of each segment."""
    valid = np.flatnonzero(track.valid)
    if len(valid) == 0:
        return []
    chosen: list[int] = []
    for segment in np.array_split(valid, min(count, len(valid))):
        if yaw is None:
            pos = int(segment[len(segment) // 2])
        else:
            pos = int(segment[np.argmin(np.nan_to_num(np.abs(yaw[segment]), nan=180.0))])
        chosen.append(pos)
    return chosen


def identity_check(frames: Sequence[np.ndarray], track: FaceTrack, engine: FaceEngine,
                   config: LivenessConfig = LIVENESS, indexes: Sequence[int] | None = None,
                   yaw: np.ndarray | None = None) -> Check:
    """``identity``: the sampled frames show one person (embedding distances within ``max_identity_drift``).

    Score: the largest distance; one disagreeing frame out of ``identity_frames`` is tolerated.

    With ``yaw`` (degrees per frame) the most frontal frame of each part of the clip is used.
    """
    positions = sample_positions(track, config.identity_frames, yaw)

    def frame(pos: int) -> int:
        return int(indexes[pos]) if indexes is not None else pos

    if len(positions) < 2:
        return Check("identity", passed=True, score=0.0, threshold=config.max_identity_drift,
                     evidence={"frames": [frame(p) for p in positions], "encoded": len(positions),
                               "note": "fewer than two tracked frames: continuity not measurable"})
    chips = []
    for pos in positions:
        box = track.boxes[pos]
        assert box is not None
        chips.append(engine.align(frames[pos], _square(box, frames[pos].shape)))
    embeddings = engine.encode(chips)
    distances = np.linalg.norm(embeddings[:, None, :] - embeddings[None, :, :], axis=2)
    i, j = np.unravel_index(int(np.argmax(distances)), distances.shape)
    drift = float(distances[i, j])
    # one odd frame (blur, occlusion, a bad fit) is tolerated: the clip fails when the frames that agree
    # with each other (connected by distances within the threshold) leave out two or more frames
    agreeing = _largest_group(distances <= config.max_identity_drift)
    passed = agreeing >= len(positions) - 1 if len(positions) > 2 else drift <= config.max_identity_drift
    evidence = {
        "frames": [frame(p) for p in positions],
        "worst_pair": [frame(positions[int(i)]), frame(positions[int(j)])],
        "distances": [round(float(d), 3) for d in distances[np.triu_indices(len(positions), 1)]],
        "agreeing_frames": agreeing,
        "engine": engine.version,
    }
    return Check("identity", passed=passed, reason=None if passed else "identity_changed", score=drift,
                 threshold=config.max_identity_drift, evidence=evidence)


def _largest_group(adjacent: np.ndarray) -> int:
    """Size of the largest connected group of a boolean adjacency matrix."""
    count = len(adjacent)
    seen = np.zeros(count, bool)
    best = 0
    for start in range(count):
        if seen[start]:
            continue
        stack, size = [start], 0
        seen[start] = True
        while stack:
            node = stack.pop()
            size += 1
            for other in np.flatnonzero(adjacent[node] & ~seen):
                seen[other] = True
                stack.append(int(other))
        best = max(best, size)
    return best


def _square(box: Box, shape: tuple[int, ...]) -> Box:
    """The tracker's box is derived from landmarks; give the aligner a detector-like square."""
    side = max(box.width, box.height)
    cx, cy = (box.left + box.right) / 2.0, (box.top + box.bottom) / 2.0
    height, width = shape[:2]
    return Box(max(0, round(cx - side / 2)), max(0, round(cy - side / 2)), min(width, round(cx + side / 2)),
               min(height, round(cy + side / 2)))


def face_count_check(track: FaceTrack, config: LivenessConfig = LIVENESS,
                     indexes: Sequence[int] | None = None) -> Check:
    """``single_face``: no second face of comparable size on ``second_face_min_detections`` detection frames."""
    crowded = [pos for pos, n in zip(track.detect_positions, track.face_counts, strict=True) if n > 1]
    frames = [int(indexes[p]) if indexes is not None else p for p in crowded]
    passed = len(crowded) < config.second_face_min_detections
    return Check("single_face", passed=passed, reason=None if passed else "multiple_faces",
                 score=float(len(crowded)), threshold=float(config.second_face_min_detections),
                 evidence={"frames": frames[:20], "detections": len(track.detect_positions),
                           "max_faces": max(track.face_counts, default=0)})


def presence_check(track: FaceTrack, config: LivenessConfig = LIVENESS,
                   indexes: Sequence[int] | None = None) -> Check:
    """``face_present``: a face is tracked in at least ``min_tracked_fraction`` of the frames."""
    fraction = track.tracked_fraction

    def frame(pos: int) -> int:
        return int(indexes[pos]) if indexes is not None else pos

    segments = [[frame(a), frame(b)] for a, b in track.lost_segments()]
    reason = None
    if fraction == 0.0:
        reason = "no_face_clip"
    elif fraction < config.min_tracked_fraction:
        reason = "face_lost"
    return Check("face_present", passed=reason is None, reason=reason, score=fraction,
                 threshold=config.min_tracked_fraction,
                 evidence={"lost_segments": segments[:20], "frames": [s[0] for s in segments[:20]],
                           "redetections": track.redetections})
