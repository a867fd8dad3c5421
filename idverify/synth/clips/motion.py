"""Seeded motion tracks of a bona fide selfie: head pose, blinks, mouth.

Everything is drawn from a ``numpy.random.Generator`` so that one seed gives
one clip. Tracks are sampled at the frame times ``i / fps``.

>>> import numpy as np
>>> t = make_tracks(np.random.default_rng(0), fps=25, frames=100, face_px=180)
>>> len(t.yaw), len(t.closure), len(t.mouth)
(100, 100, 100)
>>> all(0.1 <= b.end - b.start <= 0.3 for b in t.blinks)
True
>>> max(abs(y) for y in t.yaw) <= 25
True
"""

from __future__ import annotations

import dataclasses

import numpy as np

from idverify.synth.clips.rig import Pose

MAX_YAW = 25.0
MAX_PITCH = 15.0


@dataclasses.dataclass(frozen=True)
class Blink:
    """One blink: the eyelid starts closing at ``start`` and is open again at ``end`` (seconds)."""

    start: float
    end: float

    def closure(self, t: float) -> float:
        """How shut the eye is at time ``t`` (0 open, 1 shut): 40 % closing, 20 % shut, 40 % opening."""
        if t <= self.start or t >= self.end:
            return 0.0
        x = (t - self.start) / (self.end - self.start)
        if x < 0.4:
            s = x / 0.4
        elif x <= 0.6:
            return 1.0
        else:
            s = (1.0 - x) / 0.4
        return float(s * s * (3 - 2 * s))


@dataclasses.dataclass(frozen=True)
class Tracks:
    """Per-frame pose, eye closure and mouth opening, plus the blink events."""

    fps: float
    yaw: tuple[float, ...]
    pitch: tuple[float, ...]
    roll: tuple[float, ...]
    dx: tuple[float, ...]
    dy: tuple[float, ...]
    closure: tuple[float, ...]
    mouth: tuple[float, ...]
    blinks: tuple[Blink, ...]
    speech: tuple[tuple[float, float], ...]  # (start, end) seconds where the mouth moves

    def pose(self, i: int) -> Pose:
        return Pose(self.yaw[i], self.pitch[i], self.roll[i], self.dx[i], self.dy[i])

    def __len__(self) -> int:
        return len(self.yaw)


def _oscillation(rng: np.random.Generator, t: np.ndarray, amplitude: float, base_hz: float) -> np.ndarray:
    """A smooth random movement: two sinusoids with random phases, peak about ``amplitude``."""
    f1 = base_hz * rng.uniform(0.8, 1.25)
    f2 = f1 * rng.uniform(1.8, 2.6)
    ph1, ph2 = rng.uniform(0, 2 * np.pi, 2)
    wave = np.sin(2 * np.pi * f1 * t + ph1) + 0.35 * np.sin(2 * np.pi * f2 * t + ph2)
    peak = float(np.max(np.abs(wave))) or 1.0
    return amplitude * wave / peak


def _blinks(rng: np.random.Generator, fps: float, duration: float) -> list[Blink]:
    count = max(1, round(duration / 2.2 + rng.uniform(-0.4, 0.4)))
    blinks: list[Blink] = []
    for _ in range(50):
        if len(blinks) == count:
            break
        length = float(rng.uniform(0.12, 0.28))
        margin = min(0.5, 0.25 * duration)
        middle = round(float(rng.uniform(margin, duration - margin)) * fps) / fps  # a frame sees the eye shut
        start, end = middle - length / 2, middle + length / 2
        if all(end + 0.6 < b.start or start > b.end + 0.6 for b in blinks):
            blinks.append(Blink(round(start, 4), round(end, 4)))
    return sorted(blinks, key=lambda b: b.start)


def _speech(rng: np.random.Generator, t: np.ndarray, duration: float) -> tuple[np.ndarray, list[tuple[float, float]]]:
    mouth = np.zeros_like(t)
    segments: list[tuple[float, float]] = []
    count = 1 if duration < 4.5 else 2
    edge = min(0.3, 0.1 * duration)
    slots = np.linspace(edge, duration - edge, count + 1)
    for k in range(count):
        longest = min(2.0, float(slots[k + 1] - slots[k]) - 0.1)
        if longest < 0.2:
            continue
        length = float(rng.uniform(min(0.8, 0.8 * longest), longest))
        start = float(rng.uniform(slots[k], slots[k + 1] - length))
        end = start + length
        rate = rng.uniform(3.0, 5.0)
        amp = rng.uniform(0.5, 0.9)
        inside = (t >= start) & (t < end)
        local = t[inside] - start
        syllables = 0.5 * (1 - np.cos(2 * np.pi * rate * local)) * (0.75 + 0.25 * np.sin(2 * np.pi * 0.7 * local))
        taper = np.minimum(1.0, np.minimum(local, end - t[inside]) / 0.15)
        mouth[inside] = amp * syllables * taper
        segments.append((round(start, 4), round(end, 4)))
    return mouth, segments


def make_tracks(rng: np.random.Generator, *, fps: float, frames: int, face_px: float,
                max_yaw: float = 24.0, talk: bool = True) -> Tracks:
    """Random but plausible tracks for ``frames`` frames; ``face_px`` scales the head sway."""
    t = np.arange(frames) / fps
    duration = frames / fps
    yaw = np.clip(_oscillation(rng, t, rng.uniform(0.75, 1.0) * max_yaw, 0.25), -MAX_YAW, MAX_YAW)
    pitch = np.clip(_oscillation(rng, t, rng.uniform(4.0, 12.0), 0.2), -MAX_PITCH, MAX_PITCH)
    roll = _oscillation(rng, t, rng.uniform(1.0, 5.0), 0.15)
    dx = _oscillation(rng, t, 0.03 * face_px, 0.2)
    dy = _oscillation(rng, t, 0.02 * face_px, 0.3)
    blinks = _blinks(rng, fps, duration)
    closure = np.array([max([b.closure(x) for b in blinks] + [0.0]) for x in t])
    if talk:
        mouth, speech = _speech(rng, t, duration)
    else:
        mouth, speech = np.zeros_like(t), []

    def r(a: np.ndarray) -> tuple[float, ...]:
        return tuple(round(float(v), 3) for v in a)

    return Tracks(fps=fps, yaw=r(yaw), pitch=r(pitch), roll=r(roll), dx=r(dx), dy=r(dy), closure=r(closure),
                  mouth=r(mouth), blinks=tuple(blinks), speech=tuple(speech))


def still_tracks(fps: float, frames: int) -> Tracks:
    """No motion at all (a photo)."""
    zero = tuple(0.0 for _ in range(frames))
    return Tracks(fps=fps, yaw=zero, pitch=zero, roll=zero, dx=zero, dy=zero, closure=zero, mouth=zero,
                  blinks=(), speech=())
