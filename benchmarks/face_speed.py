"""Speed of compare_faces(card portrait, 5 s 720p clip) against face_recognition used naively.

    .venv/bin/python benchmarks/face_speed.py --data ../shared/data [--accuracy]

The clip is the first 5 s of a real 1280x720 30 fps clip of the shared data
(liveportrait_examples/source/s18.mp4, re-encoded H.264 into benchmarks/out);
the "card portrait" is the same person's face cut from a frame 7 s in
(outside the 5 s), downscaled and JPEG-degraded like a card photo.

Baseline, in the same process: face_recognition the naive way — detect
(face_locations, HOG, its default upsample 1) and encode every frame, then the
minimum distance to the reference, decided at its default 0.6.

``--accuracy`` also runs both methods on the curated img-video pairs of
labels/face_pairs.csv (the naive baseline on every frame of every clip: slow).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import REPO, data_arg, load_note, require_data
from idverify.config import FACE
from idverify.errors import InputError
from idverify.face.compare import compare_faces
from idverify.face.engine import default_engine
from idverify.media import MediaLimits, is_video, load_clip, load_image

OUT = REPO / "benchmarks" / "out"


def prepare(data: Path) -> tuple[Path, np.ndarray]:
    source = data / "liveportrait_examples" / "source" / "s18.mp4"
    clip = OUT / "s18_720p_5s.mp4"
    OUT.mkdir(parents=True, exist_ok=True)
    if not clip.exists():
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(source), "-t", "5", "-an", "-c:v", "libx264",
                        "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", str(clip)], check=True)
    cap = cv2.VideoCapture(str(source))
    cap.set(cv2.CAP_PROP_POS_MSEC, 7000)
    ok, bgr = cap.read()
    cap.release()
    if not ok:
        raise SystemExit("cannot read the reference frame")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    box = default_engine().detect(rgb, 0)[0]
    side = int(box.side * 2.2)
    cx, cy = (box.left + box.right) // 2, (box.top + box.bottom) // 2
    crop = rgb[max(cy - side // 2, 0):cy + side // 2, max(cx - side * 2 // 5, 0):cx + side * 2 // 5]
    card = cv2.resize(crop, (crop.shape[1] * 180 // crop.shape[0], 180), interpolation=cv2.INTER_AREA)
    ok, jpg = cv2.imencode(".jpg", cv2.cvtColor(card, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 70])
    portrait = cv2.cvtColor(cv2.imdecode(jpg, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return clip, portrait


def naive_encodings(clip_path: Path) -> list[np.ndarray]:
    """face_recognition on every frame: every face's encoding (detect with its defaults, then encode)."""
    import face_recognition

    cap = cv2.VideoCapture(str(clip_path))
    found: list[np.ndarray] = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        locations = face_recognition.face_locations(rgb)
        if locations:
            found += face_recognition.face_encodings(rgb, locations)
    cap.release()
    return found


def naive(reference: np.ndarray, clip_path: Path, encodings: list[np.ndarray] | None = None) -> tuple[float, int]:
    """The naive decision: minimum distance between the reference and any face of any frame."""
    import face_recognition

    ref = face_recognition.face_encodings(reference)
    frames = naive_encodings(clip_path) if encodings is None else encodings
    if not ref or not frames:
        return float("nan"), len(frames)
    return float(face_recognition.face_distance(frames, ref[0]).min()), len(frames)


def timed(fn, repeat: int) -> tuple[list[float], object]:  # type: ignore[no-untyped-def]
    samples, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        samples.append(time.perf_counter() - start)
    return samples, value


def stages(clip_path: Path) -> None:
    engine = default_engine()
    frames = load_clip(clip_path, max_side=None).frames
    frame = frames[len(frames) // 2]
    grey = cv2.cvtColor(cv2.resize(frame, (FACE.clip_detect_side, FACE.clip_detect_side * 720 // 1280)),
                        cv2.COLOR_RGB2GRAY)
    box = engine.detect(grey, 0)[0].scaled(1280 / FACE.clip_detect_side)
    chip = engine.align(frame, box)
    rows = [
        ("decode 5 s 720p, every frame converted", lambda: load_clip(clip_path, max_side=None), 3),
        (f"decode, {FACE.clip_candidates} frames kept", lambda: load_clip(clip_path, max_side=None,
                                                                          target_frames=FACE.clip_candidates), 3),
        (f"detect, grey {FACE.clip_detect_side} px (ours)", lambda: engine.detect(grey, 0), 10),
        ("detect, RGB 1280x720 upsample 1 (face_recognition default)",
         lambda: __import__("face_recognition").face_locations(frame), 3),
        ("landmarks (68)", lambda: engine.landmarks(frame, box), 20),
        ("align (5-point chip)", lambda: engine.align(frame, box), 20),
        ("encode one chip", lambda: engine.encode([chip]), 10),
        ("encode 4 chips in one batch", lambda: engine.encode([chip] * 4), 5),
    ]
    print(f"\nper stage (median ms; encoder: {engine.version}):")
    for name, fn, repeat in rows:
        samples, _ = timed(fn, repeat)
        print(f"  {name:58s} {statistics.median(samples) * 1000:8.1f}")


def accuracy(data: Path) -> None:
    with open(data / "labels" / "face_pairs.csv", newline="") as handle:
        pairs = [p for p in csv.DictReader(handle) if p["modality"] == "img-video"]
    limits = MediaLimits(max_video_seconds=60.0)
    ours_ok = naive_ok = 0
    per_video: dict[str, list[np.ndarray]] = {}
    print(f"\nimg-video pairs: {len(pairs)} (ours at {FACE.threshold}, naive at 0.6)")
    for p in pairs:
        a, b = data / p["file_a"], data / p["file_b"]
        if is_video(a):  # the image may be either side of the pair
            a, b = b, a
        genuine = p["label"] == "genuine"
        try:
            clip = load_clip(b, max_side=None, target_frames=FACE.clip_candidates, limits=limits)
            ours_match = compare_faces(a, clip).match
        except InputError:
            ours_match = False
        ours_ok += ours_match == genuine
        video = str(b.relative_to(data))
        if video not in per_video:
            cached = OUT / f"naive_{video.replace('/', '__')}.npy"
            if not cached.exists():
                np.save(cached, np.asarray(naive_encodings(b)).reshape(-1, 128))
            per_video[video] = list(np.load(cached))
        ref = load_image(a).pixels
        distance, _ = naive(ref, b, per_video[video])
        naive_ok += (distance < 0.6) == genuine
    print(f"  correct decisions: ours {ours_ok}/{len(pairs)}, naive {naive_ok}/{len(pairs)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_arg(parser)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--accuracy", action="store_true")
    args = parser.parse_args()
    data = require_data(args.data)
    clip, portrait = prepare(data)
    default_engine()  # model loading is not part of a comparison
    print(f"clip {clip.name}: 1280x720, 5 s; reference {portrait.shape[1]}x{portrait.shape[0]}; {load_note()}")
    samples, result = timed(lambda: compare_faces(portrait, clip), args.repeat)
    ours = statistics.median(samples)
    print(f"\ncompare_faces end to end: median {ours * 1000:.0f} ms over {args.repeat} runs "
          f"(min {min(samples) * 1000:.0f}, max {max(samples) * 1000:.0f}); "
          f"match={result.match} distance={result.distance:.3f} frames used {result.frames_used}")  # type: ignore[attr-defined]
    print(f"  stages of the last run (ms): {result.timings_ms}")  # type: ignore[attr-defined]
    start = time.perf_counter()
    distance, seen = naive(portrait, clip)
    base = time.perf_counter() - start
    print(f"naive face_recognition, every frame: {base * 1000:.0f} ms (one run), min distance {distance:.3f} "
          f"over {seen} frames with a face, match at 0.6: {distance < 0.6}")
    print(f"speed-up: {base / ours:.1f}x   ({load_note()})")
    stages(clip)
    if args.accuracy:
        accuracy(data)


if __name__ == "__main__":
    main()
