"""idverify — remote identity verification: ID card checks, MRZ/OCR, liveness, face comparison.

Public names are resolved lazily, so ``import idverify`` loads no model and
no heavy engine::

    import idverify
    result = idverify.compare_faces("card_portrait.jpg", "selfie.mp4")
    print(result.match, result.distance, result.threshold)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from idverify.errors import (
    EngineError,
    IdVerifyError,
    InputError,
    InvalidNIR,
    InvalidTransition,
    ModelError,
    UsageError,
)
from idverify.results import Check, Report

__version__ = "0.1.0"

# public name -> module that defines it (imported on first use)
_LAZY = {
    "compare_faces": "idverify.face.compare",
    "FaceComparison": "idverify.face.compare",
    "check_liveness": "idverify.liveness",
    "read_mrz": "idverify.ocr",
    "parse_nir": "idverify.ocr",
    "read_carte_vitale": "idverify.ocr",
    "check_document": "idverify.document",
    "verify_identity": "idverify.verify",
}

__all__ = [
    "Check",
    "EngineError",
    "IdVerifyError",
    "InputError",
    "InvalidNIR",
    "InvalidTransition",
    "ModelError",
    "Report",
    "UsageError",
    "__version__",
    *_LAZY,
]

if TYPE_CHECKING:
    from idverify.face.compare import FaceComparison as FaceComparison
    from idverify.face.compare import compare_faces as compare_faces


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'idverify' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
