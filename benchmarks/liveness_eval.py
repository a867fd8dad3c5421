"""Liveness evaluation: BPCER on real bona fide clips, APCER per synthetic attack species, speed.

    .venv/bin/python benchmarks/liveness_eval.py --data ../shared/data [--seeds 0-4] [--cache DIR]

* Real clips (``labels/liveness.csv``, kind ``video``): every bona fide clip
  decided one by one (BPCER, ISO/IEC 30107-3); every real replay attack must
  be rejected; deepfake / generated-avatar clips reported separately.
* Synthetic clips (:mod:`idverify.synth.clips`, several seeds, encoded to
  H.264 MP4 like a real upload): BPCER on bona fide, APCER per attack
  species, the worst species.
* Speed: a synthetic 720p 5 s clip at 30 fps, full ``check_liveness`` vs
  decode-only (``load_clip``) in the same process, medians of ``--repeat``.

Prints Markdown (paste into benchmarks/RESULTS.md ``## liveness``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from idverify.errors import InputError
from idverify.face.engine import default_engine
from idverify.liveness import check_liveness
from idverify.media import load_clip


def _seeds(text: str) -> list[int]:
    """``"0-4,10-12"`` -> [0, 1, 2, 3, 4, 10, 11, 12]."""
    seeds: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        seeds += list(range(int(lo), int(hi or lo) + 1))
    return seeds


def _decide(path: Path) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = check_liveness(path)
    except InputError as exc:
        return {"live": False, "score": None, "reasons": [f"input:{exc.reason}"], "hints": [],
                "seconds": time.perf_counter() - started}
    return {"live": result.live, "score": round(result.score, 3), "reasons": result.reasons, "hints": result.hints,
            "seconds": time.perf_counter() - started}


def real_clips(data: Path) -> list[dict[str, Any]]:
    rows = []
    with open(data / "labels" / "liveness.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["kind"] != "video":
                continue
            outcome = _decide(data / row["path"])
            rows.append({**row, **outcome})
            print(f"  {row['path']}: {row['label']} -> live={outcome['live']} {outcome['reasons']}", file=sys.stderr)
    return rows


def still_glare(data: Path) -> list[dict[str, Any]]:
    """The glare cue (share of the face clipped white) on the labelled stills: calibration of its threshold."""
    import cv2

    from idverify.face.engine import Box
    from idverify.liveness.surface import _colour
    from idverify.media import load_image

    engine = default_engine()
    rows = []
    with open(data / "labels" / "liveness.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["kind"] != "image":
                continue
            pixels = load_image(data / row["path"], max_side=640).pixels
            boxes = engine.detect(cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY), 1)
            box = boxes[0] if boxes else Box(0, 0, pixels.shape[1], pixels.shape[0])
            glare = _colour(pixels[box.top:box.bottom, box.left:box.right])[2]
            rows.append({"label": row["label"], "attack_type": row["attack_type"] or "-", "glare": glare})
    return rows


CLOSE_PRINT = "printed_photo_close"


def synthetic_clips(seeds: list[int], cache: Path, kinds: set[str] | None = None) -> list[dict[str, Any]]:
    """Every species on every seed (``kinds``: only these), generated once into ``cache``, then decided."""
    from idverify.synth.clips.generate import ATTACK_TYPES, make_attack_clip, make_bona_fide_clip, save_clip

    cache.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in seeds:
        jobs: list[tuple[str, str | None]] = [("bona_fide", "astronaut"), ("bona_fide", "grace_hopper")]
        jobs += [(kind, None) for kind in (*ATTACK_TYPES, CLOSE_PRINT)]
        for kind, portrait in jobs:
            if kinds and kind not in kinds:
                continue
            path = cache / f"{kind}_{portrait or 'default'}_{seed}.mp4"
            if not path.exists():
                if kind == "bona_fide":
                    clip = make_bona_fide_clip(portrait or "astronaut", seed)
                elif kind == CLOSE_PRINT:  # stress variant: the print fills the frame, its border out of view
                    clip = make_attack_clip("printed_photo", seed, prop_height=1.5)
                else:
                    clip = make_attack_clip(kind, seed)
                save_clip(clip, path)
            outcome = _decide(path)
            rows.append({"kind": kind, "portrait": portrait, "seed": seed, **outcome})
            print(f"  {path.name}: live={outcome['live']} {outcome['reasons']}", file=sys.stderr)
    return rows


def speed(cache: Path, repeat: int) -> dict[str, float]:
    from idverify.synth.clips.generate import make_bona_fide_clip, save_clip

    path = cache / "speed_720p_5s.mp4"
    if not path.exists():
        save_clip(make_bona_fide_clip("astronaut", 7, size=(720, 1280), fps=30.0, duration=5.0), path)
    default_engine()  # model loading is not part of the per-clip cost
    check_liveness(path)  # warm-up
    decode, total, decode_cpu, total_cpu, total_main = [], [], [], [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        clip = load_clip(path, max_side=640)
        w1, c1, m1 = time.perf_counter(), time.process_time(), time.thread_time()
        check_liveness(path)
        w2, c2, m2 = time.perf_counter(), time.process_time(), time.thread_time()
        decode.append(w1 - w0)
        decode_cpu.append(c1 - c0)
        total.append(w2 - w1)
        total_cpu.append(c2 - c1)
        total_main.append(m2 - m1)
    frames = len(clip)
    med = statistics.median
    return {"frames": frames, "decode_s": med(decode), "total_s": med(total), "fps": frames / med(total),
            "ratio": med(total) / med(decode), "decode_cpu_s": med(decode_cpu), "total_cpu_s": med(total_cpu),
            "main_thread_cpu_s": med(total_main), "load": os.getloadavg()[0]}


def _rate(errors: int, count: int) -> str:
    return f"{100.0 * errors / count:.1f} % ({errors}/{count})" if count else "n/a"


def _real_section(real: list[dict[str, Any]]) -> list[str]:
    out = ["### Real clips (shared/data, labels/liveness.csv)", "",
           "| clip | label | attack | live | score | reasons | hints | s |", "|---|---|---|---|---|---|---|---|"]
    for r in real:
        out.append(f"| {r['path']} | {r['label']} | {r['attack_type'] or '-'} | {r['live']} | {r['score']} | "
                   f"{', '.join(r['reasons']) or '-'} | {', '.join(r['hints']) or '-'} | {r['seconds']:.1f} |")
    bona = [r for r in real if r["label"] == "bona_fide"]
    rejected = [r for r in bona if not r["live"]]
    within = [r for r in bona if not any(x.startswith("input:") for x in r["reasons"])]
    replays = [r for r in real if r["label"] == "attack" and r["attack_type"].startswith("replay")]
    generated = [r for r in real if r["label"] == "attack" and not r["attack_type"].startswith("replay")]
    out += ["",
            f"- BPCER real bona fide: **{_rate(len(rejected), len(bona))}**; "
            f"within the input limits: {_rate(sum(not r['live'] for r in within), len(within))}",
            f"- real replay attacks rejected: **{sum(not r['live'] for r in replays)}/{len(replays)}**",
            f"- deepfake / generated avatar (reported separately): "
            f"{sum(not r['live'] for r in generated)}/{len(generated)} rejected", ""]
    return out


def report(real: list[dict[str, Any]], synth: list[dict[str, Any]], timing: dict[str, float] | None,
           seeds: list[int], stills: list[dict[str, Any]] | None = None) -> str:
    out: list[str] = []
    if real:
        out += _real_section(real)
    if stills:
        groups: dict[tuple[str, str], list[float]] = defaultdict(list)
        for r in stills:
            groups[(r["label"], r["attack_type"])].append(r["glare"])
        out += ["### Glare cue on the labelled stills (face crops; the clip cue uses the median over frames)", "",
                "| label | attack | images | median glare | max glare | at or above 0.2 |", "|---|---|---|---|---|---|"]
        for (label, attack), values in sorted(groups.items()):
            out.append(f"| {label} | {attack} | {len(values)} | {statistics.median(values):.3f} | {max(values):.3f} | "
                       f"{sum(v >= 0.2 for v in values)} |")
        out.append("")
    if synth:
        by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in synth:
            by_kind[r["kind"]].append(r)
        out += [f"### Synthetic clips (idverify.synth.clips, seeds {seeds[0]}-{seeds[-1]}, 480x640 25 fps 4 s H.264)",
                "", "| species | clips | error rate | reasons seen |", "|---|---|---|---|"]
        worst = ("", -1.0)
        for kind, rows in by_kind.items():
            errors = sum(r["live"] for r in rows) if kind != "bona_fide" else sum(not r["live"] for r in rows)
            seen: dict[str, int] = defaultdict(int)
            for r in rows:
                for reason in r["reasons"]:
                    seen[reason] += 1
            label = "BPCER" if kind == "bona_fide" else "APCER"
            out.append(f"| {kind} | {len(rows)} | {label} {_rate(errors, len(rows))} | "
                       f"{', '.join(f'{k} x{v}' for k, v in sorted(seen.items())) or '-'} |")
            if kind != "bona_fide" and errors / len(rows) > worst[1]:
                worst = (kind, errors / len(rows))
        out += ["", f"- worst species: **{worst[0]}** APCER {100 * worst[1]:.1f} %"]
        if CLOSE_PRINT in by_kind:
            out.append(f"- {CLOSE_PRINT}: a stress variant of printed_photo (print 1.5x the frame height, its white "
                       "border out of view), not one of the issue's species")
        out.append("")
    if timing:
        out += ["### Speed (720p 5 s 30 fps synthetic clip, medians, same process)", "",
                f"- decode only (load_clip max_side 640): {timing['decode_s']:.2f} s",
                f"- check_liveness (decode + analysis): {timing['total_s']:.2f} s for {timing['frames']} frames "
                f"= **{timing['fps']:.0f} frames/s**, {timing['ratio']:.1f}x decode-only",
                f"- CPU time of this process (all threads; ffprobe/ffmpeg children not counted): decode "
                f"{timing['decode_cpu_s']:.2f} s, check_liveness {timing['total_cpu_s']:.2f} s; main thread alone "
                f"{timing['main_thread_cpu_s']:.2f} s (a lower bound of the wall time on an idle machine: "
                f"~{timing['frames'] / max(timing['main_thread_cpu_s'], 1e-3):.0f} frames/s)",
                f"- load average during the run: {timing['load']:.1f} (2 cores, shared machine)", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--seeds", default="0-4")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "idverify-liveness-synth")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip", default="", help="comma list among real,stills,synth,speed")
    parser.add_argument("--json", type=Path, help="also write the raw rows here")
    parser.add_argument("--kinds", default="", help="comma list of synthetic species to run (default: all)")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    seeds = _seeds(args.seeds)
    real = real_clips(args.data) if "real" not in skip and args.data.is_dir() else []
    stills = still_glare(args.data) if "stills" not in skip and args.data.is_dir() else []
    synth = synthetic_clips(seeds, args.cache, set(filter(None, args.kinds.split(",")))) if "synth" not in skip else []
    timing = speed(args.cache, args.repeat) if "speed" not in skip else None
    print(report(real, synth, timing, seeds, stills))
    if args.json:
        args.json.write_text(json.dumps({"real": real, "synthetic": synth, "speed": timing}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
