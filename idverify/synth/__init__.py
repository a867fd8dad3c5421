"""Deterministic synthetic specimens: fictional personas, their cards, captures and attacks.

Public names (resolved lazily; nothing heavy at import)::

    generate_samples(out, seed=0)  -> SampleSet   (the set committed in samples/)
    make_persona(rng, ...)         -> Persona
    render_card(persona, card_type, side, ...) -> CardRender (flat, rectified)
    capture(subject, params, seed) -> Capture (JPEG, pixels, card corners)

Modules: :mod:`~idverify.synth.persona`, :mod:`~idverify.synth.cards`,
:mod:`~idverify.synth.ovd` (hologram response), :mod:`~idverify.synth.camera`,
:mod:`~idverify.synth.attacks`, :mod:`~idverify.synth.samples`,
:mod:`~idverify.synth.portraits` (the only faces used), and
:mod:`idverify.synth.clips` (selfie clips).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "generate_samples": "idverify.synth.samples",
    "SampleSet": "idverify.synth.samples",
    "Persona": "idverify.synth.persona",
    "make_persona": "idverify.synth.persona",
    "CardRender": "idverify.synth.cards",
    "render_card": "idverify.synth.cards",
    "Capture": "idverify.synth.camera",
    "CameraParams": "idverify.synth.camera",
    "capture": "idverify.synth.camera",
    "sample_params": "idverify.synth.camera",
}

__all__ = ["CameraParams", "Capture", "CardRender", "Persona", "SampleSet", "capture", "generate_samples",
           "make_persona", "render_card", "sample_params"]

if TYPE_CHECKING:
    from idverify.synth.camera import CameraParams, Capture, capture, sample_params
    from idverify.synth.cards import CardRender, render_card
    from idverify.synth.persona import Persona, make_persona
    from idverify.synth.samples import SampleSet, generate_samples


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'idverify.synth' has no attribute {name!r}")
