"""Synthetic selfie clips: bona fide animations of the bundled portraits and liveness attacks.

Public names::

    make_bona_fide_clip(portrait, seed, size=, fps=, duration=, audio=) -> GeneratedClip
    make_attack_clip(kind, seed, portrait=, size=, fps=, duration=)      -> GeneratedClip
    save_clip(clip, path) -> (mp4 path, ground-truth JSON path)
    write_clip(path, frames, fps, audio=None)                            -> MP4 / H.264 yuv420p
    generate_clip_samples(out_dir, seed) -> index entries of out_dir/clips/ (the committed set)
    ATTACK_TYPES, ATTACK_REASONS

Modules: :mod:`~.rig` (a portrait posed in 3-D, blinks, mouth), :mod:`~.mesh`
(piecewise-affine warp), :mod:`~.motion` (seeded head / blink / speech
tracks), :mod:`~.camera` (light drift, shake, sensor noise), :mod:`~.scene`
(paper print, phone screen, room, rigid-plane pose), :mod:`~.audio`
(voice-like track), :mod:`~.writer` (ffmpeg), :mod:`~.generate` (the clips
and their ground truth), :mod:`~.samples` (the committed set).

Synthetic bona fide clips do not replace real ones: liveness is evaluated
first on the real clips of ``../shared/data``.
"""

from __future__ import annotations

from idverify.synth.clips.generate import (
    ATTACK_REASONS,
    ATTACK_TYPES,
    BONA_FIDE,
    GeneratedClip,
    make_attack_clip,
    make_bona_fide_clip,
    save_clip,
)
from idverify.synth.clips.samples import PLAN, ClipPlan, generate_clip_samples
from idverify.synth.clips.writer import write_clip

__all__ = ["ATTACK_REASONS", "ATTACK_TYPES", "BONA_FIDE", "PLAN", "ClipPlan", "GeneratedClip",
           "generate_clip_samples", "make_attack_clip", "make_bona_fide_clip", "save_clip", "write_clip"]
