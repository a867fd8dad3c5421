"""Lip sync: while the person speaks, voice energy and mouth opening move together.

Voice energy is the log RMS of the audio around each frame's timestamp;
the score is the best Pearson correlation between it and the inner-lip
opening over a small lag range (±0.2 s: audio and video tracks are rarely
perfectly aligned). Clips with too little voice are reported as not measured.

>>> import numpy as np
>>> t = np.arange(150) / 30.0
>>> mouth = np.clip(np.sin(2 * np.pi * 1.3 * t), 0, None) * 0.4
>>> audio = np.repeat(mouth[:, None], 16000 // 30, axis=1).ravel() * np.sin(np.arange(mouth.size * 533) * 0.3)
>>> audio_check(mouth, t, audio.astype(np.float32) + 1e-4).passed
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from idverify.config import LIVENESS, LivenessConfig
from idverify.liveness.container import AUDIO_RATE
from idverify.results import Check


def frame_energy(samples: np.ndarray, timestamps: Sequence[float] | np.ndarray, fps: float) -> np.ndarray:
    """Log RMS (dB) of the audio in a one-frame window around each timestamp."""
    half = max(int(AUDIO_RATE / max(fps, 1.0) / 2), 1)
    out = np.full(len(timestamps), np.nan)
    for pos, t in enumerate(timestamps):
        centre = round(float(t) * AUDIO_RATE)
        window = samples[max(centre - half, 0):centre + half]
        if len(window):
            out[pos] = 10.0 * np.log10(float(np.mean(window.astype(np.float64) ** 2)) + 1e-10)
    return out


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    ok = ~(np.isnan(a) | np.isnan(b))
    if ok.sum() < 10:
        return float("nan")
    x, y = a[ok] - a[ok].mean(), b[ok] - b[ok].mean()
    denom = float(np.sqrt(np.sum(x * x) * np.sum(y * y)))
    return float(np.sum(x * y) / denom) if denom > 0 else float("nan")


def audio_check(mouth: np.ndarray, timestamps: Sequence[float] | np.ndarray, samples: np.ndarray | None,
                config: LivenessConfig = LIVENESS, indexes: Sequence[int] | None = None) -> Check:
    """``lip_sync``: correlation of mouth opening and voice energy (not measured without enough voice)."""
    stamps = np.asarray(timestamps, dtype=np.float64)
    if samples is None or len(samples) < AUDIO_RATE // 4 or len(stamps) < 10:
        return Check("lip_sync", passed=True, score=None, threshold=config.min_audio_corr,
                     evidence={"measured": False, "note": "no audio track", "frames": []})
    fps = (len(stamps) - 1) / max(float(stamps[-1] - stamps[0]), 1e-3)
    energy = frame_energy(samples, stamps, fps)
    finite = energy[np.isfinite(energy)]
    floor = float(np.percentile(finite, 10)) if len(finite) else 0.0
    voiced = np.isfinite(energy) & (energy > floor + 12.0) & (energy > -50.0)
    share = float(voiced.mean())
    lag_max = max(1, round(0.2 * fps))
    scores = {}
    for lag in range(-lag_max, lag_max + 1):
        a = mouth[max(lag, 0):len(mouth) + min(lag, 0)]
        b = energy[max(-lag, 0):len(energy) + min(-lag, 0)]
        scores[lag] = _corr(a, b)
    finite_scores = {k: v for k, v in scores.items() if np.isfinite(v)}
    evidence = {"measured": share >= config.audio_min_voiced, "voiced_fraction": round(share, 3),
                "frames": [], "note": ""}
    if share < config.audio_min_voiced or not finite_scores:
        evidence["note"] = "too little voice to judge lip sync"
        return Check("lip_sync", passed=True, score=None, threshold=config.min_audio_corr, evidence=evidence)
    lag, best = max(finite_scores.items(), key=lambda kv: kv[1])
    evidence["lag_s"] = round(lag / fps, 3)
    loudest = int(np.nanargmax(np.where(voiced, energy, -np.inf)))
    evidence["frames"] = [int(indexes[loudest]) if indexes is not None else loudest]
    passed = best >= config.min_audio_corr
    return Check("lip_sync", passed=passed, reason=None if passed else "audio_mismatch", score=best,
                 threshold=config.min_audio_corr, evidence=evidence)
