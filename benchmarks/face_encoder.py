"""Face encoder speed and parity: dlib-bin vs the onnxruntime port of the same network.

    .venv/bin/python benchmarks/face_encoder.py --data ../shared/data

1. Time per face on one core (ORT intra-op threads = 1, cv2.setNumThreads(1)) and with
   2 threads: dlib-bin (batch 1 and 8), the fast path (batch 1, 8, 32), OpenCV DNN running the
   same ONNX graph, and batched jitters. Rounds alternate between encoders, medians reported.
2. LFW pool of labels/face_pairs.csv: one 150x150 chip per image (dlib HOG + 5-point
   alignment, face nearest the centre), every pair's distance with both encoders on the same
   chips: largest distance difference, accuracy and TAR at fixed FMR, decisions that flip.
3. What the saved time buys: the reference (file_a) encoded as the mean of N jittered copies,
   N chosen so that N copies on the fast path cost one dlib-bin encoding; TAR at fixed FMR.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import data_arg, load_note, median_ms, require_data
from benchmarks.face_accuracy import rates, threshold_for_fmr

_worker: dict[str, Any] = {}


def _engine() -> Any:
    from idverify.face.engine import FaceRecognitionEngine

    return FaceRecognitionEngine()  # dlib's own encoder: the baseline


def _fast(threads: int) -> Any:
    from idverify.face.fast_encoder import load_fast_encoder

    encoder = load_fast_encoder(threads=threads)
    if encoder is None:
        raise SystemExit("fast encoder unavailable: run `python -m idverify.models build`")
    return encoder


def chip_of(engine: Any, path: Path) -> np.ndarray | None:
    """The aligned chip of the face nearest the image centre (LFW centres the labelled person)."""
    from idverify.errors import InputError
    from idverify.media import load_image

    try:
        rgb = load_image(path).pixels
    except InputError:
        return None
    boxes = engine.detect(rgb, upsample=0) or engine.detect(rgb, upsample=1)
    if not boxes:
        return None
    cy, cx = rgb.shape[0] / 2, rgb.shape[1] / 2
    box = min(boxes, key=lambda b: ((b.left + b.right) / 2 - cx) ** 2 + ((b.top + b.bottom) / 2 - cy) ** 2)
    return np.asarray(engine.align(rgb, box))


def _init_worker(jitters: int) -> None:
    cv2.setNumThreads(1)
    _worker.update(engine=_engine(), fast=_fast(1), jitters=jitters)


def _embed(task: tuple[str, bool]) -> tuple[str, Any, Any, Any]:
    path, reference = task
    chip = chip_of(_worker["engine"], Path(path))
    if chip is None:
        return path, None, None, None
    dlib_emb = _worker["engine"].encode([chip])[0]
    fast_emb = _worker["fast"].encode([chip])[0]
    jit = _worker["fast"].encode([chip], jitters=_worker["jitters"])[0] if reference else None
    return path, dlib_emb, fast_emb, jit


def timed(fn: Callable[[], object], repeats: int) -> list[tuple[float, float]]:
    """(wall, CPU time of this thread) per call: with one compute thread, the CPU time is the
    per-core cost even when other processes load the machine."""
    out = []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.thread_time()
        fn()
        out.append((time.perf_counter() - start, time.thread_time() - cpu))
    return out


def speed(chips: list[np.ndarray], rounds: int) -> tuple[float, float]:
    """Prints per-face times; returns (dlib-bin ms/face, fast batched ms per jittered copy)."""
    from idverify.face.fast_encoder import OnnxChipEncoder, OpenCvChipEncoder

    cv2.setNumThreads(1)
    engine = _engine()
    fast1, fast2 = _fast(1), _fast(2)
    ocv = OpenCvChipEncoder()

    one, eight, many = chips[:1], chips[:8], chips[:32]
    jitters = 16
    cases: dict[str, tuple[Callable[[], object], int]] = {
        "dlib-bin, batch 1": (lambda: engine.encode(one), 1),
        "dlib-bin, batch 8": (lambda: engine.encode(eight), 8),
        "onnxruntime 1 thread, batch 1": (lambda: fast1.encode(one), 1),
        "onnxruntime 1 thread, batch 8": (lambda: fast1.encode(eight), 8),
        "onnxruntime 1 thread, batch 32": (lambda: fast1.encode(many), 32),
        f"onnxruntime 1 thread, {jitters} jitters of 1 chip (incl. warps)": (
            lambda: fast1.encode(one, jitters=jitters), jitters),
        "onnxruntime 2 threads, batch 1": (lambda: fast2.encode(one), 1),
        "onnxruntime 2 threads, batch 32": (lambda: fast2.encode(many), 32),
        "opencv-dnn 1 thread, batch 1 (same ONNX)": (lambda: ocv.encode(one), 1),
    }
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for fn, _ in cases.values():  # warm-up
        fn()
    for _ in range(rounds):  # interleaved rounds: load changes hit every encoder alike
        for name, (fn, _) in cases.items():
            samples[name] += timed(fn, 1 if name.startswith("dlib") else 3)
    print(f"\nper-face time ({load_note()}), medians over {rounds} rounds; CPU = this thread's CPU time "
          "(the per-core cost whatever the load; not meaningful with 2 threads):")
    print(f"  {'encoder':58s} {'wall ms':>8s} {'CPU ms':>8s} {'speed-up (CPU)':>15s}")
    per_face: dict[str, tuple[float, float]] = {}
    for name, (_, faces) in cases.items():
        per_face[name] = (median_ms([w for w, _ in samples[name]]) / faces,
                          median_ms([c for _, c in samples[name]]) / faces)
    base = per_face["dlib-bin, batch 1"][1]
    for name, (wall, cpu) in per_face.items():
        cpu_text = "-" if "2 threads" in name else f"{cpu:8.2f}"
        ratio = "-" if "2 threads" in name else f"{base / cpu:.1f}x"
        print(f"  {name:58s} {wall:8.2f} {cpu_text:>8s} {ratio:>15s}")
    ref = engine.encode(chips[:8])
    print(f"  parity on 8 chips: max |onnxruntime - dlib| {np.abs(fast1.encode(chips[:8]) - ref).max():.2e}, "
          f"max |opencv-dnn - dlib| {np.abs(ocv.encode(chips[:8]) - ref).max():.2e}")
    assert isinstance(fast1, OnnxChipEncoder)
    return base, per_face[f"onnxruntime 1 thread, {jitters} jitters of 1 chip (incl. warps)"][1]


def tar_at(gen: np.ndarray, imp: np.ndarray, fmr: float) -> tuple[float, float]:
    t = threshold_for_fmr(imp, fmr)
    _, fnmr = rates(gen, imp, t)
    return 1 - fnmr, t


def best_accuracy(gen: np.ndarray, imp: np.ndarray) -> tuple[float, float]:
    candidates = np.unique(np.concatenate([gen, imp]))
    accs = [((gen < t).sum() + (imp >= t).sum()) / (len(gen) + len(imp)) for t in candidates]
    best = int(np.argmax(accs))
    return float(accs[best]), float(candidates[best])


def accuracy(data: Path, pairs_limit: int, workers: int, jitters: int) -> None:
    from idverify.config import FACE

    with open(data / "labels" / "face_pairs.csv", newline="") as handle:
        pairs = [p for p in csv.DictReader(handle) if p["pool"] == "lfw"]
    if pairs_limit and pairs_limit < len(pairs):  # keep the genuine/impostor balance
        gen_rows = [p for p in pairs if p["label"] == "genuine"][: pairs_limit // 2]
        imp_rows = [p for p in pairs if p["label"] == "impostor"][: pairs_limit - pairs_limit // 2]
        pairs = gen_rows + imp_rows
    refs = {p["file_a"] for p in pairs}
    files = sorted(refs | {p["file_b"] for p in pairs})
    print(f"\nLFW pool: {len(pairs)} pairs, {len(files)} images, {workers} worker processes, "
          f"reference jitters {jitters}; {load_note()}")
    start = time.perf_counter()
    emb: dict[str, tuple[Any, Any, Any]] = {}
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(jitters,)) as pool:
        tasks = [(str(data / f), f in refs) for f in files]
        for n, (path, d, f, j) in enumerate(pool.map(_embed, tasks, chunksize=16)):
            emb[str(Path(path).relative_to(data))] = (d, f, j)
            if n % 1000 == 999:
                print(f"  {n + 1}/{len(files)} images ({time.perf_counter() - start:.0f} s)", flush=True)
    dists: dict[str, dict[str, list[float]]] = {k: {"genuine": [], "impostor": []} for k in ("dlib", "fast", "jit")}
    fta = 0
    for p in pairs:
        a, b = emb[p["file_a"]], emb[p["file_b"]]
        if a[0] is None or b[0] is None:
            fta += 1
            continue
        dists["dlib"][p["label"]].append(float(np.linalg.norm(a[0] - b[0])))
        dists["fast"][p["label"]].append(float(np.linalg.norm(a[1] - b[1])))
        dists["jit"][p["label"]].append(float(np.linalg.norm(a[2] - b[1])))
    arr = {k: (np.asarray(v["genuine"]), np.asarray(v["impostor"])) for k, v in dists.items()}
    compared = len(arr["dlib"][0]) + len(arr["dlib"][1])
    diff = np.abs(np.concatenate(arr["fast"]) - np.concatenate(arr["dlib"]))
    print(f"  {compared} pairs compared ({len(arr['dlib'][0])} genuine, {len(arr['dlib'][1])} impostor), "
          f"{fta} with a failure to acquire; {time.perf_counter() - start:.0f} s")
    print(f"  |distance(fast) - distance(dlib)|: max {diff.max():.2e}, mean {diff.mean():.2e}")
    for t in (0.6, FACE.threshold):
        flips = int(((np.concatenate(arr["fast"]) < t) != (np.concatenate(arr["dlib"]) < t)).sum())
        print(f"  decisions that differ at threshold {t}: {flips}")
    print(f"  {'encoding':44s} {'acc@0.6':>8s} {'best acc':>14s} {'TAR@FMR1e-2':>12s} {'TAR@FMR1e-3':>12s}")
    labels = {"dlib": "dlib-bin (1 encoding)", "fast": "fast path (same chips)",
              "jit": f"fast path, reference = mean of {jitters} jitters"}
    for key, label in labels.items():
        gen, imp = arr[key]
        fmr, fnmr = rates(gen, imp, 0.6)
        acc06 = 1 - (fmr * len(imp) + fnmr * len(gen)) / (len(gen) + len(imp))
        best, at = best_accuracy(gen, imp)
        t2, _ = tar_at(gen, imp, 1e-2)
        t3, _ = tar_at(gen, imp, 1e-3)
        print(f"  {label:44s} {acc06:8.2%} {best:8.2%} @{at:.3f} {t2:12.2%} {t3:12.2%}")


def portrait_chips() -> list[np.ndarray]:
    from idverify.face.fast_encoder import jitter_chips
    from idverify.synth.portraits import load_portrait

    engine = _engine()
    base = []
    for name in ("astronaut", "grace_hopper"):
        image = load_portrait(name)
        base.append(np.asarray(engine.align(image, engine.detect(image)[0])))
    rng = np.random.default_rng(0)
    return [c for chip in base for c in jitter_chips(chip, 16, rng)]  # 32 distinct real-face chips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_arg(parser)
    parser.add_argument("--pairs", type=int, default=0, help="LFW pairs to use (0: all 3000)")
    parser.add_argument("--workers", type=int, default=2, help="processes for the LFW embeddings")
    parser.add_argument("--rounds", type=int, default=7, help="timing rounds")
    parser.add_argument("--jitters", type=int, default=0,
                        help="reference jitters for part 3 (0: as many as one dlib-bin encoding's time buys)")
    parser.add_argument("--skip", choices=("speed", "lfw"), help="skip one part")
    args = parser.parse_args()
    data = require_data(args.data)
    jitters = args.jitters
    if args.skip != "speed":
        dlib_ms, jitter_ms = speed(portrait_chips(), args.rounds)
        jitters = jitters or max(2, int(dlib_ms // jitter_ms))
        print(f"  one dlib-bin encoding ({dlib_ms:.1f} ms CPU) buys {int(dlib_ms // jitter_ms)} jittered copies on the "
              f"fast path ({jitter_ms:.2f} ms each, batched)")
    if args.skip != "lfw":
        accuracy(data, args.pairs, args.workers, jitters or 16)


if __name__ == "__main__":
    main()
