"""The liveness result type (DESIGN §2 contract: ``.live``, ``.score``, ``.reasons``, ``.cues``, ``to_dict()``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from idverify.results import Check, frozen_mapping, to_jsonable


@dataclasses.dataclass(frozen=True, slots=True)
class LivenessResult:
    """The decision on one clip.

    ``live``: the clip shows a live person (and performed the challenge, if
    one was given). ``score`` in [0, 1], ``live`` iff ``score >= threshold``.
    ``reasons``: the reason codes that drove a rejection (empty when live).
    ``hints``: reason codes of advisory cues that failed without deciding
    (metadata, timestamps, lip sync). ``cues``: every :class:`Check` by name,
    with its score, threshold and the frames that decided it.
    """

    live: bool
    score: float
    threshold: float
    reasons: list[str]
    hints: list[str]
    cues: Mapping[str, Check]
    mode: str  # "passive" or "active" (with a challenge)
    details: Mapping[str, Any] = dataclasses.field(default_factory=frozen_mapping)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cues", frozen_mapping(self.cues))
        object.__setattr__(self, "details", frozen_mapping(self.details))

    @property
    def passed(self) -> bool:
        return self.live

    @property
    def checks(self) -> tuple[Check, ...]:
        return tuple(self.cues.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "live": self.live,
            "score": round(self.score, 4),
            "threshold": self.threshold,
            "reasons": list(self.reasons),
            "hints": list(self.hints),
            "mode": self.mode,
            "cues": {name: check.to_dict() for name, check in self.cues.items()},
            "details": to_jsonable(self.details),
        }
