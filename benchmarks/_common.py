"""Shared helpers for the benchmark scripts: data location, medians, table printing."""

from __future__ import annotations

import argparse
import os
import statistics
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data"


def data_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared evaluation data folder")


def require_data(path: Path) -> Path:
    if not (path / "labels").is_dir():
        raise SystemExit(f"no evaluation data at {path} (expected labels/ inside); pass --data")
    return path


def median_ms(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1000.0


def load_note() -> str:
    """The machine's load, printed with timings (other processes skew them)."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load n/a"
    return f"load avg {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"
