"""Speed of verify_identity on 3 card photos + a 5 s 720p selfie clip (target: <= 2 s median on 2 cores).

    .venv/bin/python benchmarks/verify_speed.py [--repeat 5]

Inputs: the bundled genuine CNIe photos and a 720x1280, 30 fps, 5 s bona fide
selfie clip of the same persona generated once into benchmarks/out by
idverify.synth.clips (the committed clips are shorter). Baseline, in the same run: the same
public functions called one after the other, each decoding its own inputs
(check_document with its own MRZ read, check_liveness on the file,
compare_faces on the file).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import REPO, load_note
from idverify.document import check_document
from idverify.face.compare import compare_faces
from idverify.face.engine import default_engine
from idverify.liveness import check_liveness
from idverify.media import probe_video
from idverify.verify import verify_identity

DOCS = REPO / "samples" / "documents"
PHOTOS = {"recto": DOCS / "genuine_cnie_recto.jpg", "verso": DOCS / "genuine_cnie_verso.jpg",
          "tilted": DOCS / "genuine_cnie_tilted.jpg"}
CLIP = REPO / "benchmarks" / "out" / "bona_fide_astronaut_720p_5s.mp4"


def make_clip() -> None:
    from idverify.synth.clips.generate import make_bona_fide_clip
    from idverify.synth.clips.writer import write_clip

    if not CLIP.exists():
        CLIP.parent.mkdir(parents=True, exist_ok=True)
        clip = make_bona_fide_clip("astronaut", seed=5, size=(720, 1280), fps=30.0, duration=5.0)
        write_clip(CLIP, clip.frames, clip.fps, audio=clip.audio, sample_rate=clip.sample_rate)


def sequential() -> bool:
    doc = check_document(**PHOTOS)
    live = check_liveness(CLIP)
    face = compare_faces(doc.portrait, CLIP) if doc.portrait is not None else None
    return bool(doc.passed and live.live and face is not None and face.match)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    make_clip()
    info = probe_video(CLIP)
    print(f"clip {CLIP.name}: {info.width}x{info.height}, {info.fps:.0f} fps, {info.duration:.1f} s; "
          f"photos {', '.join(p.name for p in PHOTOS.values())}")
    default_engine()
    verify_identity(**PHOTOS, video=CLIP)  # warm-up: models, OCR engine, glyph model
    times, stages = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        report = verify_identity(**PHOTOS, video=CLIP)
        times.append(time.perf_counter() - start)
        stages.append(dict(report.timings_ms))
    base = []
    for _ in range(max(2, args.repeat // 2)):
        start = time.perf_counter()
        sequential()
        base.append(time.perf_counter() - start)
    ours, theirs = statistics.median(times), statistics.median(base)
    print(f"verify_identity: median {ours * 1000:.0f} ms over {args.repeat} runs "
          f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}); passed={report.passed}")
    keys = sorted({k for s in stages for k in s})
    print("  stage medians (ms): " + ", ".join(f"{k} {statistics.median(s.get(k, 0.0) for s in stages):.0f}"
                                           for k in keys))
    print(f"sequential public calls, each decoding its inputs: median {theirs * 1000:.0f} ms over {len(base)} runs")
    print(f"ratio: {theirs / ours:.2f}x   ({load_note()})")


if __name__ == "__main__":
    main()
