"""Printed CNIe fields and carte Vitale benchmark (Tesseract fra through the engine port).

    .venv/bin/python benchmarks/ocr_fields.py --data ../shared/data [--cards 20]

CNIe recto and verso of synthetic personas (idverify.synth), read (a) on the
flat render and (b) on a camera capture rectified with its ground-truth
corners; per-field exact rate against the printed text and the time per
recto. Carte Vitale: synthetic flat renders and raw captures (NIR and
surname), plus the real specimen of ``mindee_client_lib_test_data``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import Counter
from pathlib import Path

import numpy as np

from idverify.document.layout import CardType, Side
from idverify.document.quads import warp_card
from idverify.ocr.crosscheck import fold
from idverify.ocr.engine import default_engine
from idverify.ocr.printed import read_printed_fields
from idverify.ocr.vitale import read_carte_vitale
from idverify.synth.camera import Subject, capture, sample_params
from idverify.synth.cards import printed_fields, render_card
from idverify.synth.persona import make_persona


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--cards", type=int, default=20)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    engine = default_engine()
    print(f"load: {os.getloadavg()}  engine: {engine.name} {engine.version}")
    rng = np.random.default_rng(args.seed)
    right: dict[str, Counter[str]] = {"flat": Counter(), "captured": Counter()}
    total: Counter[str] = Counter()
    times: dict[str, list[float]] = {"flat": [], "captured": []}
    vitale = Counter()
    vitale_ms: list[float] = []
    for i in range(args.cards):
        p = make_persona(rng)
        for side in (Side.RECTO, Side.VERSO):
            card = render_card(p, CardType.CNIE_2021, side)
            shot = capture(Subject(card.image, card.alpha), sample_params(rng, megapixels=float(rng.uniform(3, 8))),
                           seed=i)
            rectified = warp_card(shot.image, shot.corners, card.layout.size_px())
            truth = {k: v for k, v in printed_fields(p, CardType.CNIE_2021, side).items() if v}
            for kind, img in (("flat", card.image), ("captured", rectified)):
                t0 = time.perf_counter()
                got = read_printed_fields(img, CardType.CNIE_2021, side)
                if side is Side.RECTO:
                    times[kind].append((time.perf_counter() - t0) * 1000)
                for name, value in truth.items():
                    right[kind][name] += got.fields.get(name) == value
            for name in truth:
                total[name] += 1
        vcard = render_card(p, CardType.CARTE_VITALE, Side.RECTO)
        vshot = capture(Subject(vcard.image, vcard.alpha), sample_params(rng, megapixels=float(rng.uniform(3, 8))),
                        seed=100 + i)
        for kind, img in (("flat", vcard.image), ("photo", vshot.image)):
            t0 = time.perf_counter()
            r = read_carte_vitale(img)
            vitale_ms.append((time.perf_counter() - t0) * 1000)
            vitale[f"{kind} nir"] += r.nir == p.nir
            vitale[f"{kind} surname"] += fold(r.surname or "") == fold(p.surname)
            vitale[f"{kind} surname letters"] += fold(r.surname or "").replace(" ", "") == \
                fold(p.surname).replace(" ", "")
            vitale[f"{kind} n"] += 1
    print("\n## CNIe printed fields (exact text), flat render | captured + rectified")
    for name in sorted(total):
        print(f"{name:20s} {right['flat'][name]:3d}/{total[name]:3d} | {right['captured'][name]:3d}/{total[name]:3d}")
    for kind in ("flat", "captured"):
        print(f"recto ({kind}): median {statistics.median(times[kind]):.0f} ms, "
              f"p90 {np.percentile(times[kind], 90):.0f} ms")
    print("\n## carte Vitale (synthetic)")
    for kind in ("flat", "photo"):
        n = vitale[f"{kind} n"]
        print(f"{kind:6s} NIR {vitale[f'{kind} nir']}/{n}  surname {vitale[f'{kind} surname']}/{n} "
              f"(letters only, as the cross-checks compare: {vitale[f'{kind} surname letters']}/{n})")
    print(f"median {statistics.median(vitale_ms):.0f} ms")
    specimen = args.data / "mindee_client_lib_test_data" / "carte_vitale" / "default_sample.jpg"
    if specimen.is_file():
        r = read_carte_vitale(specimen)
        print(f"real specimen: nir={r.formatted} surname={r.surname} given_names={r.given_names} "
              f"({r.details['elapsed_ms']} ms)")


if __name__ == "__main__":
    main()
