"""Face comparison accuracy on shared/data/labels/face_pairs.csv, and threshold calibration.

    .venv/bin/python benchmarks/face_accuracy.py --data ../shared/data

Embeds every image (and clip) once through idverify's own pipeline
(detection on the reduced grey image, exactly one main face, 5-point
alignment, dlib ResNet), then:

* LFW pool: ROC, accuracy at the best threshold, FNMR at FMR 1e-2 and 1e-3,
  the calibrated threshold for the configured FMR target, and face_recognition's
  default 0.6 for comparison;
* curated pools (held out from calibration): img-img and img-video error
  rates at the calibrated threshold.

Failures to acquire (no face, several faces, face too small) are counted
separately (ISO/IEC 19795-1 FTA) and not folded into FMR/FNMR.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import REPO, data_arg, load_note, require_data
from idverify.config import FACE

CACHE_DIR = REPO / "benchmarks" / "out"


def cache_path() -> Path:
    """Embeddings depend on the pipeline settings and the encoder: one cache file per combination."""
    import hashlib

    from idverify.face.engine import default_engine

    key = f"{FACE.clip_candidates}-{FACE.clip_encoded}-{FACE.clip_detect_side}-{FACE.min_face_px}-" \
          f"{FACE.reference_upsample}-{FACE.reference_jitters}-{default_engine().version}"
    return CACHE_DIR / f"face_embeddings_{hashlib.sha256(key.encode()).hexdigest()[:12]}.json"


def _embed(path: str) -> tuple[str, list[float] | None, str | None]:
    """Embedding of the probe face of one file, through compare_faces' own code paths."""
    from idverify.errors import InputError
    from idverify.face import compare
    from idverify.face.engine import default_engine
    from idverify.media import is_video, load_clip

    engine = default_engine()
    timer = compare._Timer()
    try:
        if is_video(path):
            clip = load_clip(path, max_side=None, target_frames=FACE.clip_candidates)
            candidates, _, _, check = compare._probe_clip(engine, clip, FACE, timer)
            if not candidates:
                return path, None, check.reason
            chips = [engine.align(c.pixels, c.box) for c in candidates]
            return path, engine.encode(chips).mean(axis=0).tolist(), None
        embedding, _, check = compare._reference(engine, path, FACE, timer)
    except InputError as exc:
        return path, None, exc.reason
    if embedding is None:
        return path, None, check.reason if check else "unknown"
    return path, embedding.tolist(), None


def embed_all(data: Path, files: list[str], workers: int) -> dict[str, tuple[list[float] | None, str | None]]:
    cache: dict[str, tuple[list[float] | None, str | None]] = {}
    cache_file = cache_path()
    if cache_file.exists():
        cache = {k: (v[0], v[1]) for k, v in json.loads(cache_file.read_text()).items()}
    todo = [f for f in files if f not in cache]
    if todo:
        start = time.perf_counter()
        with ProcessPoolExecutor(workers) as pool:
            for n, (path, emb, reason) in enumerate(pool.map(_embed, [str(data / f) for f in todo], chunksize=8)):
                cache[str(Path(path).relative_to(data))] = (emb, reason)
                if n % 500 == 0:
                    print(f"  embedded {n}/{len(todo)} ({time.perf_counter() - start:.0f} s)", flush=True)
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(json.dumps({k: list(v) for k, v in cache.items()}))
    return cache


def rates(genuine: np.ndarray, impostor: np.ndarray, threshold: float) -> tuple[float, float]:
    """(FMR, FNMR) at ``threshold`` (match when distance < threshold)."""
    fmr = float((impostor < threshold).mean()) if len(impostor) else math.nan
    fnmr = float((genuine >= threshold).mean()) if len(genuine) else math.nan
    return fmr, fnmr


def threshold_for_fmr(impostor: np.ndarray, target: float) -> float:
    """The largest threshold whose FMR on these impostors is at most ``target``."""
    allowed = math.floor(target * len(impostor))
    ordered = np.sort(impostor)
    return float(ordered[allowed]) if allowed < len(ordered) else float(ordered[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_arg(parser)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    data = require_data(args.data)
    with open(data / "labels" / "face_pairs.csv", newline="") as handle:
        pairs = list(csv.DictReader(handle))
    files = sorted({p["file_a"] for p in pairs} | {p["file_b"] for p in pairs})
    print(f"{len(pairs)} pairs, {len(files)} files; {load_note()}")
    emb = embed_all(data, files, args.workers)

    groups: dict[tuple[str, str], dict[str, list[float]]] = {}
    fta: dict[tuple[str, str], int] = {}
    for p in pairs:
        key = (p["pool"], p["modality"])
        a, b = emb[p["file_a"]][0], emb[p["file_b"]][0]
        if a is None or b is None:
            fta[key] = fta.get(key, 0) + 1
            continue
        d = float(np.linalg.norm(np.asarray(a) - np.asarray(b)))
        groups.setdefault(key, {"genuine": [], "impostor": []})[p["label"]].append(d)

    lfw = groups[("lfw", "img-img")]
    gen, imp = np.asarray(lfw["genuine"]), np.asarray(lfw["impostor"])
    print(f"\nLFW pool: {len(gen)} genuine + {len(imp)} impostor pairs compared, "
          f"{fta.get(('lfw', 'img-img'), 0)} pairs with a failure to acquire")
    candidates = np.unique(np.concatenate([gen, imp]))
    accs = [((gen < t).sum() + (imp >= t).sum()) / (len(gen) + len(imp)) for t in candidates]
    best = int(np.argmax(accs))
    print(f"  best accuracy {accs[best]:.2%} at threshold {candidates[best]:.3f}")
    for label, t in (("face_recognition default", 0.6),):
        fmr, fnmr = rates(gen, imp, t)
        accuracy = 1 - (fmr * len(imp) + fnmr * len(gen)) / (len(gen) + len(imp))
        print(f"  {label} {t:.2f}: FMR {fmr:.2%}  FNMR {fnmr:.2%}  accuracy {accuracy:.2%}")
    for target in (1e-2, 1e-3):
        t = threshold_for_fmr(imp, target)
        fmr, fnmr = rates(gen, imp, t)
        print(f"  at FMR <= {target:g}: threshold {t:.4f}  FMR {fmr:.3%}  FNMR {fnmr:.2%}")
    # All cross-identity comparisons among the LFW-pool images: far more impostor scores than the
    # 1,500 labelled pairs, so that an FMR of 1e-3 rests on more than one or two errors.
    identity: dict[str, str] = {}
    for p in pairs:
        if p["pool"] == "lfw":
            identity[p["file_a"]], identity[p["file_b"]] = p["identity_a"], p["identity_b"]
    names = sorted(f for f in identity if emb[f][0] is not None)
    matrix = np.asarray([emb[f][0] for f in names])
    labels = np.asarray([identity[f] for f in names])
    sq = (matrix ** 2).sum(axis=1)
    dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * matrix @ matrix.T, 0.0))
    upper = np.triu_indices(len(names), k=1)
    same = labels[upper[0]] == labels[upper[1]]
    all_imp, all_gen = dist[upper][~same], dist[upper][same]
    print(f"\nall-vs-all on the {len(names)} LFW-pool images: {len(all_gen)} genuine, {len(all_imp)} impostor scores")
    for target in (1e-1, 1e-2, 1e-3, 1e-4, 1e-5):  # ROC points
        t = threshold_for_fmr(all_imp, target)
        fmr, fnmr = rates(all_gen, all_imp, t)
        _, fnmr_pairs = rates(gen, imp, t)
        print(f"  at FMR <= {target:g}: threshold {t:.4f}  FMR {fmr:.4%}  FNMR {fnmr:.2%} "
              f"(labelled genuine pairs: {fnmr_pairs:.2%})")
    chosen = threshold_for_fmr(all_imp, FACE.target_fmr)
    fmr, fnmr = rates(all_gen, all_imp, chosen)
    fmr_pairs, fnmr_pairs = rates(gen, imp, chosen)
    print(f"\ncalibrated threshold for FMR <= {FACE.target_fmr:g} (all-vs-all impostors): {chosen:.4f} "
          f"(config has {FACE.threshold})")
    print(f"  labelled LFW pairs at {chosen:.4f}: FMR {fmr_pairs:.3%}  FNMR {fnmr_pairs:.2%}")
    t = FACE.threshold
    fmr, fnmr = rates(all_gen, all_imp, t)
    fmr_pairs, fnmr_pairs = rates(gen, imp, t)
    print(f"  at the configured {t}: all-vs-all FMR {fmr:.4%} FNMR {fnmr:.2%}; "
          f"labelled pairs FMR {fmr_pairs:.3%} FNMR {fnmr_pairs:.2%}")

    print(f"\nheld-out pools at the configured threshold {FACE.threshold}:")
    for key, dist in sorted(groups.items()):
        if key == ("lfw", "img-img"):
            continue
        g, i = np.asarray(dist["genuine"]), np.asarray(dist["impostor"])
        fmr, fnmr = rates(g, i, FACE.threshold)
        print(f"  {key[0]:8s} {key[1]:11s} genuine {len(g):4d} impostor {len(i):4d} FTA {fta.get(key, 0):3d}  "
              f"FMR {fmr:.2%}  FNMR {fnmr:.2%}")
    reasons: dict[str, int] = {}
    for _, reason in emb.values():
        if reason:
            reasons[reason] = reasons.get(reason, 0) + 1
    print(f"\nfailures to acquire by reason (files): {reasons}")


if __name__ == "__main__":
    main()
