"""MRZ reading benchmark: idverify's glyph reader vs plain Tesseract vs PassportEye, same images, same run.

    .venv/bin/python benchmarks/ocr_mrz.py --data ../shared/data [--synthetic 40] [--passporteye-synthetic 10]

PassportEye is a benchmark-only dependency: ``./scripts/setup.sh --bench`` installs it.

Real documents: every row of ``labels/documents.csv`` whose ground truth key
is in ``labels/mrz_ground_truth.json`` (hand-transcribed lines), plus the
PassportEye test images without ground truth (only "valid" is reported
there). Synthetic: CNIe versos (TD1) and old French cards (2x36) rendered by
:mod:`idverify.synth`, photographed by :func:`idverify.synth.camera.capture`
(raw photo), and the same capture rectified with the ground-truth corners
(rectified card); plus altered MRZs (one character changed, check digit
kept) that must be reported invalid.

Engines: ``idverify`` = :func:`idverify.read_mrz` (Tesseract fallback on);
``glyphs`` = the same without fallback; ``tesseract`` = Tesseract (tesserocr,
whitelisted, psm 6) on the MRZ crop idverify's locator found (the best case
for plain Tesseract); ``passporteye`` = ``passporteye.read_mrz`` on the file.
Fields are compared after parsing each engine's lines with the same parser.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from idverify.media import load_image
from idverify.ocr.engine import default_engine
from idverify.ocr.glyphs import ALPHABET, load_model
from idverify.ocr.locate import find_mrz
from idverify.ocr.mrz import normalize_lines, parse_mrz
from idverify.ocr.reader import read_mrz

CONTRACT = ("document_number", "surname", "given_names", "birth_date", "sex", "expiry_date", "nationality",
            "issuing_state")


def fields_of(lines: list[str]) -> dict[str, Any] | None:
    r = parse_mrz(lines, repair=False)
    return None if r.format is None else {k: r.fields.get(k) for k in CONTRACT}


Reading = tuple[list[str], bool, float, dict[str, Any] | None]
# lines, valid (the engine's own verdict), seconds, fields (when the engine parses itself; else parsed from lines)
_cpu: list[float] = []  # process CPU seconds of the last reading (the machine is shared: wall time is noisy)


def timed(fn: Callable[[], Reading]) -> Reading:
    c0 = time.process_time()
    out = fn()
    _cpu.append(time.process_time() - c0)
    return out


def run_idverify(path_or_img: Any, fallback: bool) -> Reading:
    t0 = time.perf_counter()
    r = read_mrz(path_or_img, fallback=fallback)
    return list(r.lines), r.valid, time.perf_counter() - t0, None


def run_tesseract(path_or_img: Any) -> Reading:
    t0 = time.perf_counter()
    loaded = load_image(path_or_img, max_side=1600)
    gray = cv2.cvtColor(loaded.pixels, cv2.COLOR_RGB2GRAY)
    if gray.shape[1] < 800:
        gray = cv2.resize(gray, None, fx=800 / gray.shape[1], fy=800 / gray.shape[1], interpolation=cv2.INTER_CUBIC)
    block = find_mrz(gray)
    if block is None:
        return [], False, time.perf_counter() - t0, None
    crop = block.gray
    scale = 32.0 / max(block.char_height, 1.0)
    crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    text = default_engine().recognize(crop, lang="eng", psm=6, whitelist=ALPHABET)
    lines = [ln for ln in normalize_lines(text) if len(ln) >= 20]
    r = parse_mrz(lines, repair=True)
    return lines, r.valid, time.perf_counter() - t0, None


def run_passporteye(path: str) -> Reading:
    from passporteye import read_mrz as pe_read

    t0 = time.perf_counter()
    try:
        m = pe_read(path)
    except Exception:  # noqa: BLE001 - a crashing baseline counts as a miss
        m = None
    dt = time.perf_counter() - t0
    if m is None:
        return [], False, dt, {}
    raw = m.aux.get("raw_text", "") or ""
    lines = [ln for ln in normalize_lines(raw) if len(ln) >= 20]
    d = m.to_dict()

    def iso(yymmdd: str, kind: str) -> str | None:
        from idverify.ocr.mrz import mrz_date

        return mrz_date(yymmdd, kind) if yymmdd else None

    fields = {"document_number": str(d.get("number", "")).replace("<", ""),
              "surname": " ".join(str(d.get("surname", "")).replace("<", " ").split()),
              "given_names": " ".join(str(d.get("names", "")).replace("<", " ").split()),
              "birth_date": iso(str(d.get("date_of_birth", "")), "birth"),
              "sex": d.get("sex") if d.get("sex") in ("M", "F") else "X",
              "expiry_date": iso(str(d.get("expiration_date", "")), "expiry"),
              "nationality": str(d.get("nationality", "")).replace("<", ""),
              "issuing_state": str(d.get("country", "")).replace("<", "")}
    return lines, bool(m.valid), dt, fields


class Tally:
    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def add(self, engine: str, group: str, truth: list[str] | None, reading: Reading, should_be_valid: bool | None
            ) -> None:
        lines, valid, seconds, own_fields = reading
        row: dict[str, Any] = {"group": group, "seconds": seconds, "valid": valid, "cpu": _cpu[-1] if _cpu else 0.0}
        if truth is not None:
            row["lines_total"] = len(truth)
            row["lines_exact"] = sum(a == b for a, b in zip(lines, truth, strict=False)) if len(lines) == len(truth) \
                else 0
            want = fields_of(truth)
            if own_fields is not None:  # the engine's own parse (PassportEye cleans its OCR text itself)
                row["all_fields"] = want is not None and all(own_fields.get(k) == v for k, v in want.items())
            else:
                row["all_fields"] = len(lines) == len(truth) and fields_of(lines) == want and want is not None
        if should_be_valid is not None:
            row["should_be_valid"] = should_be_valid
        self.rows[engine].append(row)

    def report(self, group: str) -> list[str]:
        out = []
        for engine, rows in self.rows.items():
            rs = [r for r in rows if r["group"] == group]
            if not rs:
                continue
            parts = [f"{engine:12s} n={len(rs):3d}"]
            gt = [r for r in rs if "lines_total" in r and r.get("should_be_valid", True)]
            if gt:
                exact = sum(r["lines_exact"] for r in gt)
                total = sum(r["lines_total"] for r in gt)
                docs = sum(bool(r["all_fields"]) for r in gt)
                parts.append(f"all fields right {docs}/{len(gt)} ({100 * docs / len(gt):.1f} %)")
                parts.append(f"exact lines {exact}/{total} ({100 * exact / total:.2f} %)")
            neg = [r for r in rs if r.get("should_be_valid") is False]
            if neg:
                parts.append(f"invalid reported invalid {sum(not r['valid'] for r in neg)}/{len(neg)}")
            pos = [r for r in rs if r.get("should_be_valid") is True]
            if pos:
                parts.append(f"valid {sum(r['valid'] for r in pos)}/{len(pos)}")
            nogt = [r for r in rs if "should_be_valid" not in r]
            if nogt:
                parts.append(f"valid {sum(r['valid'] for r in nogt)}/{len(nogt)}")
            times = [r["seconds"] * 1000 for r in rs]
            cpu = [r["cpu"] * 1000 for r in rs]
            parts.append(f"median {statistics.median(times):.0f} ms (p90 {np.percentile(times, 90):.0f} ms; "
                         f"CPU median {statistics.median(cpu):.0f} ms)")
            out.append("  ".join(parts))
        return out


def real_documents(data: Path, tally: Tally, passporteye: bool) -> None:
    truth = json.loads((data / "labels" / "mrz_ground_truth.json").read_text())
    seen = set()
    with open(data / "labels" / "documents.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        key = row["ground_truth"].split(";")[0].split(" (")[0].strip()
        path = data / row["path"]
        entry = truth.get(key)
        if entry is not None:
            group = "real_gt"
            lines = entry["lines"]
            valid_expected = all(entry["checks"].values())
        elif row["path"].startswith("passporteye_testdata/mrz_testdata"):
            group, lines, valid_expected = "real_no_gt", None, None
        elif key == "no MRZ":
            group, lines, valid_expected = "no_mrz", None, False
        else:
            continue
        if path in seen:
            continue
        seen.add(path)
        engines: dict[str, Callable[[], Reading]] = {
            "idverify": lambda p=path: run_idverify(p, True),
            "glyphs": lambda p=path: run_idverify(p, False),
            "tesseract": lambda p=path: run_tesseract(p),
        }
        if passporteye:
            engines["passporteye"] = lambda p=path: run_passporteye(str(p))
        for name, fn in engines.items():
            reading = timed(fn)
            tally.add(name, group, lines if valid_expected is not False else None, reading, valid_expected)
            if group == "real_gt" and name in ("idverify", "passporteye") and lines is not None \
                    and reading[0] != lines:
                print(f"  miss {name:11s} {row['path']}: {reading[0]}")


def synthetic(n: int, tally: Tally, passporteye_n: int, seed: int) -> None:
    from idverify.document.layout import CardType, Side
    from idverify.document.quads import warp_card
    from idverify.synth.attacks import alter_mrz
    from idverify.synth.camera import Subject, capture, sample_params
    from idverify.synth.cards import render_card
    from idverify.synth.persona import make_persona

    rng = np.random.default_rng(seed)
    tmp = Path(tempfile.mkdtemp(prefix="ocr_mrz_"))
    kinds = [(CardType.CNIE_2021, Side.VERSO, "TD1"), (CardType.CNI_1995, Side.RECTO, "FRA_CNI_1995")]
    for i in range(n):
        ctype, side, fmt = kinds[i % 2]
        persona = make_persona(rng)
        altered = i % 10 == 9
        base = render_card(persona, ctype, side)
        lines = list(base.mrz_lines)
        if altered:
            lines = list(alter_mrz(lines, fmt, "birth_date" if i % 20 == 19 else "document_number"))
            base = render_card(persona, ctype, side, mrz_lines=lines)
        params = sample_params(rng, megapixels=float(rng.uniform(2, 8)))
        shot = capture(Subject(base.image, base.alpha), params, seed=i)
        size = base.layout.size_px()
        rectified = warp_card(shot.image, shot.corners, size)
        photo_path = tmp / f"{i}.jpg"
        photo_path.write_bytes(shot.jpeg)
        expect = not altered
        for name, group, src in (("idverify", "synth_photo", photo_path), ("idverify", "synth_rectified", rectified)):
            tally.add(name, group, lines, timed(lambda s=src: run_idverify(s, True)), expect)
        tally.add("glyphs", "synth_photo", lines, timed(lambda p=photo_path: run_idverify(p, False)), expect)
        tally.add("glyphs", "synth_rectified", lines, timed(lambda r=rectified: run_idverify(r, False)), expect)
        tally.add("tesseract", "synth_photo", lines, timed(lambda p=photo_path: run_tesseract(p)), expect)
        tally.add("tesseract", "synth_rectified", lines, timed(lambda r=rectified: run_tesseract(r)), expect)
        if i < passporteye_n:
            tally.add("passporteye", "synth_photo", lines, timed(lambda p=photo_path: run_passporteye(str(p))), expect)
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--synthetic", type=int, default=40, help="synthetic captures (half CNIe, half old card)")
    ap.add_argument("--passporteye-synthetic", type=int, default=10,
                    help="synthetic captures also given to PassportEye")
    ap.add_argument("--no-passporteye", action="store_true")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)  # PassportEye on current scikit-image
    load_model()
    default_engine()
    print(f"load: {os.getloadavg()}  tesseract engine: {default_engine().version}")
    tally = Tally()
    if args.data.is_dir():
        real_documents(args.data, tally, not args.no_passporteye)
    if args.synthetic:
        synthetic(args.synthetic, tally, 0 if args.no_passporteye else args.passporteye_synthetic, args.seed)
    for group, title in (("real_gt", "real documents with ground truth"), ("real_no_gt", "PassportEye test images"),
                         ("no_mrz", "images without an MRZ"), ("synth_photo", "synthetic raw photos"),
                         ("synth_rectified", "synthetic rectified cards")):
        lines = tally.report(group)
        if lines:
            print(f"\n## {title}")
            print("\n".join(lines))


if __name__ == "__main__":
    main()
