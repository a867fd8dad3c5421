"""The one table of reason codes.

Every ``Check.reason`` and every ``IdVerifyError.reason`` is a key of
:data:`REASONS`; a test walks the package to make sure of it. Codes are
``snake_case``, stable (clients switch on them) and never renamed.

>>> describe("face_mismatch")
'the faces are of different people (distance above the threshold)'
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# --- input and infrastructure (media.py, models.py, errors.py) -----------------
_INPUT = {
    "input_invalid": "the input cannot be used",
    "input_empty": "the input is empty (0 bytes or no frames)",
    "input_type": "the input is not a path, bytes or a numpy image",
    "file_not_found": "no file at that path",
    "file_too_large": "the file is larger than the configured limit",
    "image_format_unsupported": "not a JPEG, PNG or WebP image",
    "image_corrupt": "the image data is corrupt or truncated",
    "image_too_large": "the image has more pixels than the configured limit (decompression bomb guard)",
    "image_too_small": "the image is too small to analyse",
    "video_format_unsupported": "not a video container idverify can decode (MP4, MOV, WebM, MKV, AVI)",
    "video_corrupt": "the video cannot be decoded or is truncated before any frame",
    "video_too_long": "the clip is longer than the configured limit",
    "video_too_large": "the clip's resolution, frame count or size is above the configured limit",
    "video_too_short": "the clip is shorter than the configured minimum",
    "usage_error": "the API was called the wrong way",
    "error": "unspecified error",
    "engine_error": "an engine is not installed or not working",
    "model_missing": "a model file is missing (run scripts/setup.sh)",
    "model_invalid": "a model file does not match models/manifest.json",
}

# --- face comparison (face/) ---------------------------------------------------
_FACE = {
    "face_mismatch": "the faces are of different people (distance above the threshold)",
    "no_face_reference": "no face found in the reference image",
    "no_face_probe": "no usable face found in the probe image or clip",
    "multiple_faces_reference": "several faces in the reference image",
    "multiple_faces_probe": "several faces in the probe image or in the clip's frames",
    "face_too_small_reference": "the reference face is too small to compare reliably",
    "face_too_small_probe": "the probe face is too small to compare reliably",
    "probe_identity_inconsistent": "the selected clip frames do not show one consistent person",
}

# --- document capture checks (document/) ----------------------------------------
_DOCUMENT: dict[str, str] = {}

# --- OCR, MRZ, NIR and cross-checks (ocr/) --------------------------------------
_OCR: dict[str, str] = {}

# --- liveness (liveness/) --------------------------------------------------------
_LIVENESS: dict[str, str] = {}

# --- activation flow (flow/, verify.py) ---------------------------------------------
_FLOW: dict[str, str] = {
    "invalid_transition": "the activation is not in a state that accepts this event",
}


def _merge(*tables: Mapping[str, str]) -> Mapping[str, str]:
    merged: dict[str, str] = {}
    for table in tables:
        for code, text in table.items():
            if code in merged:
                raise RuntimeError(f"reason code defined twice: {code}")
            merged[code] = text
    return MappingProxyType(merged)


REASONS: Mapping[str, str] = _merge(_INPUT, _FACE, _DOCUMENT, _OCR, _LIVENESS, _FLOW)


def describe(code: str) -> str:
    """The human description of a reason code (``KeyError`` if unknown)."""
    return REASONS[code]


def markdown_table() -> str:
    """The table as Markdown (docs/REASONS.md is generated from it)."""
    rows = ["| code | meaning |", "|---|---|"]
    rows += [f"| `{code}` | {text} |" for code, text in sorted(REASONS.items())]
    return "\n".join(rows) + "\n"
