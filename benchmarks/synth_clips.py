"""How real is the synthetic clips' ground truth? Checked with the face engine over many seeds.

For each seed: a bona fide clip per portrait (face detection rate, eye aspect
ratio at the middle of each stated blink against the open-eye median, the
non-planarity of the landmark motion between the two yaw extremes), a
printed-photo attack (the same non-planarity, which should be lower), a face
swap (embedding distance across the stated swap frame), and the CPU cost of
rendering and encoding. Needs no data: ``--data`` is accepted for symmetry
with the other benchmarks and ignored.

    .venv/bin/python benchmarks/synth_clips.py --seeds 6
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from idverify.face.engine import default_engine
from idverify.synth.clips import GeneratedClip, make_attack_clip, make_bona_fide_clip, save_clip


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _ear(m: np.ndarray) -> float:
    def one(e: np.ndarray) -> float:
        return float((np.linalg.norm(e[1] - e[5]) + np.linalg.norm(e[2] - e[4])) / (2 * np.linalg.norm(e[0] - e[3])))
    return (one(m[36:42]) + one(m[42:48])) / 2


def _marks(frame: np.ndarray) -> np.ndarray | None:
    engine = default_engine()
    boxes = engine.detect(frame)
    return engine.landmarks(frame, boxes[0]) if boxes else None


def _residual(a: np.ndarray, b: np.ndarray) -> float:
    h, _ = cv2.findHomography(a, b, 0)
    mapped = cv2.perspectiveTransform(a[None].astype(np.float64), h)[0]
    iod = float(np.linalg.norm(a[36:42].mean(axis=0) - a[42:48].mean(axis=0)))
    return float(np.sqrt(np.mean(np.sum((mapped - b) ** 2, axis=1))) / iod)


def _extremes_residual(clip: GeneratedClip) -> float:
    yaw = np.asarray(clip.truth["head_pose"]["yaw"])
    a = _marks(clip.frames[int(np.argmin(yaw))])
    b = _marks(clip.frames[int(np.argmax(yaw))])
    return _residual(a, b) if a is not None and b is not None else float("nan")


def _embedding(frame: np.ndarray) -> np.ndarray:
    engine = default_engine()
    box = engine.detect(frame, upsample=1)[0]
    return engine.encode([engine.align(frame, box)])[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--data", type=Path, default=None, help="ignored (no data needed)")
    args = parser.parse_args()
    print(f"load: {os.getloadavg()}")
    default_engine()
    rows: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        rows.setdefault(key, []).append(value)

    tmp = Path(tempfile.mkdtemp(prefix="synth-clips-bench-"))
    for seed in range(args.seeds):
        for portrait in ("astronaut", "grace_hopper"):
            start = _cpu()
            clip = make_bona_fide_clip(portrait, 100 + seed, size=(480, 640), fps=25, duration=3.0)
            add("render_cpu_s_bona_fide_480p_3s", _cpu() - start)
            start = _cpu()
            save_clip(clip, tmp / f"{portrait}_{seed}.mp4")
            add("encode_cpu_s_bona_fide_480p_3s", _cpu() - start)
            truth = clip.truth
            closure = np.asarray(truth["eye_closure"])
            sampled = range(0, len(clip.frames), 3)
            marks = {i: _marks(clip.frames[i]) for i in sampled}
            add(f"detected_{portrait}", float(np.mean([m is not None for m in marks.values()])))
            open_ears = [_ear(m) for i, m in marks.items() if m is not None and closure[i] == 0]
            baseline = float(np.median(open_ears))
            for blink in truth["blinks"]:
                mid = _marks(clip.frames[round((blink["start"] + blink["end"]) / 2 * truth["fps"])])
                if mid is None:
                    add(f"blink_ear_ratio_{portrait}", float("nan"))
                    continue
                ratio = _ear(mid) / baseline
                add(f"blink_ear_ratio_{portrait}", ratio)
                add(f"blink_seen_{portrait}(ratio<0.75)", float(ratio < 0.75))
            add("nonplanarity_bona_fide", _extremes_residual(clip))
        printed = make_attack_clip("printed_photo", 100 + seed, size=(480, 640), duration=3.0)
        add("nonplanarity_printed_photo", _extremes_residual(printed))
        swap = make_attack_clip("face_swap", 100 + seed, size=(480, 640), duration=2.0)
        k = swap.truth["attack"]["swap_frame"]
        before = np.mean([_embedding(swap.frames[i]) for i in (k - 8, k - 1)], axis=0)
        after = np.mean([_embedding(swap.frames[i]) for i in (k, k + 8)], axis=0)
        add("swap_embedding_distance", float(np.linalg.norm(before - after)))
    print(f"seeds: {args.seeds} (100..{99 + args.seeds}); at {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"{'measure':40s} {'n':>3s} {'mean':>8s} {'median':>8s} {'min':>8s} {'max':>8s}")
    for key, values in rows.items():
        v = np.asarray(values, dtype=float)
        print(f"{key:40s} {len(v):3d} {np.nanmean(v):8.3f} {np.nanmedian(v):8.3f} {np.nanmin(v):8.3f} "
              f"{np.nanmax(v):8.3f}")


if __name__ == "__main__":
    main()
