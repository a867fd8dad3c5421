"""A voice-like audio track whose loudness follows the mouth opening.

Not speech: a glottal-like source (a fundamental with falling harmonics and
a slow intonation contour) plus breath noise, shaped by three formant-like
resonances whose first formant rises as the mouth opens.

>>> import numpy as np
>>> mouth = np.r_[np.zeros(25), np.full(25, 0.8)]
>>> wave = voice_track(np.random.default_rng(0), mouth, fps=25, sample_rate=16000)
>>> wave.shape, wave.dtype
((32000,), dtype('float32'))
>>> bool(np.abs(wave[:15000]).max() < 0.02 < np.abs(wave[17000:]).max())
True
"""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16000


def _formant_gain(freqs: np.ndarray, f1: float) -> np.ndarray:
    gain = np.zeros_like(freqs)
    for centre, width, level in ((f1, 120.0, 1.0), (1500.0, 180.0, 0.55), (2600.0, 250.0, 0.3)):
        gain += level * np.exp(-0.5 * ((freqs - centre) / width) ** 2)
    return gain + 0.02


def voice_track(rng: np.random.Generator, mouth: np.ndarray, *, fps: float,
                sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float32 samples in [-1, 1] lasting ``len(mouth) / fps`` seconds."""
    n = round(len(mouth) / fps * sample_rate)
    t = np.arange(n) / sample_rate
    frame_t = np.arange(len(mouth)) / fps
    opening = np.interp(t, frame_t, np.asarray(mouth, dtype=np.float64))
    f0 = rng.uniform(110, 210) * (1 + 0.08 * np.sin(2 * np.pi * rng.uniform(0.3, 0.8) * t + rng.uniform(0, 6)))
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    f1 = 350 + 450 * float(np.mean(opening[opening > 0.05])) if (opening > 0.05).any() else 500.0
    harmonics = np.arange(1, 25)
    # Harmonic amplitudes: 1/k source tilt times the formant envelope at the mean pitch.
    amps = _formant_gain(harmonics * float(np.mean(f0)), f1) / harmonics
    voiced = np.zeros(n)
    for k, a in zip(harmonics, amps, strict=True):
        voiced += a * np.sin(k * phase)
    noise = rng.normal(0.0, 1.0, n)
    spectrum = np.fft.rfft(noise)
    spectrum *= _formant_gain(np.fft.rfftfreq(n, 1 / sample_rate), f1)
    breath = np.fft.irfft(spectrum, n)
    breath /= float(np.max(np.abs(breath))) or 1.0
    voiced /= float(np.max(np.abs(voiced))) or 1.0
    envelope = np.clip(opening / 0.6, 0, 1) ** 0.7
    floor = rng.normal(0.0, 0.002, n)  # room tone
    wave = 0.5 * envelope * (0.85 * voiced + 0.25 * breath) + floor
    return np.clip(wave, -1, 1).astype(np.float32)
