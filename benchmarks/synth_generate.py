"""Benchmark: how long the synthetic generator takes (card renders, captures, the committed set).

Medians over repeats of: one flat card render (CNIe recto at 300 dpi, and at
2x), one simulated capture at 2 MP and at 12 MP, and — the baseline in the
same process — a bare JPEG encode of a noisy 2 MP frame (the floor of any capture).
Then the whole committed set once: documents only, and documents + clips
(wall clock and CPU time including the clips' worker process and ffmpeg).
Needs no evaluation data (``--data`` is accepted for uniformity).

    .venv/bin/python benchmarks/synth_generate.py [--repeats 5] [--no-full]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import data_arg, load_note, median_ms
from idverify.synth.camera import Subject, capture, fit_in_frame, sample_params
from idverify.synth.cards import render_card
from idverify.synth.persona import make_persona
from idverify.synth.samples import generate_samples


def _timed(fn: Callable[[], object], repeats: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (this process) seconds of each call."""
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return wall, cpu


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data_arg(parser)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-full", action="store_true", help="skip the whole-set runs")
    args = parser.parse_args()
    print(load_note())
    persona = make_persona(np.random.default_rng(0), sex="F")
    render_card(persona, "cnie_2021", "recto")  # warm the caches (fonts, backgrounds, portrait)
    card = render_card(persona, "cnie_2021", "recto")
    noise = np.random.default_rng(2).normal(0, 3, (1224, 1632, 3))
    frame = np.clip(np.linspace(60, 200, 1632)[None, :, None] + noise, 0, 255).astype(np.uint8)
    rows = [
        ("baseline: JPEG encode of a noisy 2 MP frame", _timed(lambda: cv2.imencode(".jpg", frame), args.repeats)),
        ("render CNIe recto, 1011 px (cached background)",
         _timed(lambda: render_card(persona, "cnie_2021", "recto"), args.repeats)),
        ("render CNIe recto, 2022 px (cached background)",
         _timed(lambda: render_card(persona, "cnie_2021", "recto", width_px=2022), args.repeats)),
    ]
    for mp in (2.0, 12.0):
        params = fit_in_frame(sample_params(np.random.default_rng(1), megapixels=mp, portrait=False),
                              card.image.shape[1::-1])
        rows.append((f"capture at {mp:g} MP (warp, light, blur, noise, JPEG)",
                     _timed(lambda p=params: capture(Subject(card.image, card.alpha), p, seed=1), args.repeats)))
    base = median_ms(rows[0][1][1])
    print(f"{'step':58s} {'wall ms':>9s} {'CPU ms':>9s} {'CPU x baseline':>15s}")
    for name, (wall, cpu) in rows:
        print(f"{name:58s} {median_ms(wall):9.1f} {median_ms(cpu):9.1f} {median_ms(cpu) / base:15.1f}")
    if args.no_full:
        return
    with tempfile.TemporaryDirectory() as tmp:
        for label, clips in (("committed set, documents only", False), ("committed set, documents + clips", True)):
            cpu0, t0 = _cpu(), time.perf_counter()
            result = generate_samples(Path(tmp) / label.replace(" ", "_"), seed=0, clips=clips)
            wall, cpu = time.perf_counter() - t0, _cpu() - cpu0
            print(f"{label:40s} {len(result.samples):3d} documents {len(result.clip_entries):3d} clips  "
                  f"wall {wall:6.1f} s  CPU {cpu:6.1f} s")
    print(load_note())


if __name__ == "__main__":
    main()
