"""Frozen result types shared by every check.

A :class:`Check` is one decision with its score, threshold, reason code and
evidence; a :class:`Report` groups checks.

>>> c = Check("face_match", passed=False, reason="face_mismatch", score=0.61, threshold=0.5)
>>> r = Report("demo", (c,))
>>> r.passed, r.reasons
(False, ['face_mismatch'])
>>> r.to_dict()["checks"][0]["reason"]
'face_mismatch'
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from types import MappingProxyType
from typing import Any

import numpy as np


def to_jsonable(value: Any) -> Any:
    """Convert results (dataclasses, enums, numpy scalars, paths, mappings) to JSON types."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, PurePath):
        return str(value)
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    return str(value)


def frozen_mapping(data: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """A read-only view of ``data`` (for evidence dictionaries inside frozen results)."""
    return MappingProxyType(dict(data or {}))


@dataclasses.dataclass(frozen=True, slots=True)
class Check:
    """One decision.

    ``reason`` is a code from :data:`idverify.reasons.REASONS`: why it failed,
    or ``None`` when it passed. ``score`` and ``threshold`` say how close it was;
    ``evidence`` holds what a human reviewer needs (frame indexes, crops' refs,
    engine versions) and never raw biometric data.
    """

    name: str
    passed: bool
    reason: str | None = None
    score: float | None = None
    threshold: float | None = None
    evidence: Mapping[str, Any] = dataclasses.field(default_factory=frozen_mapping)

    def __post_init__(self) -> None:
        if not isinstance(self.evidence, MappingProxyType):
            object.__setattr__(self, "evidence", frozen_mapping(self.evidence))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "reason": self.reason,
            "score": to_jsonable(self.score),
            "threshold": to_jsonable(self.threshold),
            "evidence": to_jsonable(self.evidence),
        }


class CheckGroup:
    """What every report built of checks offers: ``passed``, ``reasons``, ``check(name)``.

    A mixin for frozen dataclasses with a ``checks`` field; the group passes
    when it has checks and every one passed.
    """

    __slots__ = ()
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def reasons(self) -> list[str]:
        return failed_reasons(self.checks)

    def check(self, name: str) -> Check | None:
        """The check called ``name``, or ``None``."""
        return next((c for c in self.checks if c.name == name), None)


@dataclasses.dataclass(frozen=True, slots=True)
class Report(CheckGroup):
    """A group of checks; passes when every check passes."""

    name: str
    checks: tuple[Check, ...]
    details: Mapping[str, Any] = dataclasses.field(default_factory=frozen_mapping)

    def __post_init__(self) -> None:
        object.__setattr__(self, "checks", tuple(self.checks))
        if not isinstance(self.details, MappingProxyType):
            object.__setattr__(self, "details", frozen_mapping(self.details))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "reasons": self.reasons,
            "checks": [c.to_dict() for c in self.checks],
            "details": to_jsonable(self.details),
        }


def failed_reasons(checks: Sequence[Check]) -> list[str]:
    """Reason codes of the failed checks, in order, without repeats."""
    seen: list[str] = []
    for c in checks:
        if not c.passed and c.reason and c.reason not in seen:
            seen.append(c.reason)
    return seen
