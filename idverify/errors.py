"""One exception tree for idverify.

Expected failures (a blurry photo, a wrong check digit, a spoof) are *results*:
a :class:`idverify.results.Check` with ``passed=False`` and a reason code.
Exceptions are for the three cases below, all rooted at :class:`IdVerifyError`::

    IdVerifyError
    ├── UsageError         the caller misused the API (wrong type, bad option)
    │   └── InvalidTransition   an activation event not allowed in the current state
    ├── InputError         the input itself is unusable (corrupt, empty, oversized,
    │                      wrong format); carries a ``reason`` code
    │   └── InvalidNIR     a social security number that is not valid
    └── EngineError        broken infrastructure (missing or altered model,
        └── ModelError     engine not installed); says how to fix it

Every error carries ``reason`` (a code from :mod:`idverify.reasons`) and a
human message.

>>> try:
...     raise InputError("image_corrupt", "not a JPEG/PNG/WebP image")
... except IdVerifyError as e:
...     print(e.reason)
image_corrupt
"""

from __future__ import annotations


class IdVerifyError(Exception):
    """Root of every exception raised on purpose by idverify."""

    default_reason = "error"

    def __init__(self, reason: str | None = None, message: str = "") -> None:
        self.reason = reason or self.default_reason
        self.message = message or self.reason
        super().__init__(f"{self.reason}: {self.message}" if message else self.reason)


class UsageError(IdVerifyError, ValueError):
    """The API was called the wrong way (a programming error of the caller)."""

    default_reason = "usage_error"


class InvalidTransition(UsageError):
    """An activation event that the current state does not allow; nothing changed."""

    default_reason = "invalid_transition"


class InputError(IdVerifyError, ValueError):
    """The input cannot be used: corrupt, truncated, empty, oversized or wrong format."""

    default_reason = "input_invalid"


class InvalidNIR(InputError):
    """A French social security number (NIR) that fails validation."""

    default_reason = "nir_invalid"


class EngineError(IdVerifyError, RuntimeError):
    """An engine or its infrastructure is broken or missing."""

    default_reason = "engine_error"


class ModelError(EngineError):
    """A model file is missing or does not match ``models/manifest.json``."""

    default_reason = "model_invalid"
