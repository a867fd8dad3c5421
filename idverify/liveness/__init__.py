"""Liveness on a selfie clip: is a live person in front of the camera?

:func:`check_liveness` decodes the clip once, tracks the face with
landmarks, measures the cues (blinks, head pose, 3-D structure, screen and
print surface, identity continuity, frozen/looped frames, timestamps,
container metadata, lip sync, and an optional signed challenge) and fuses
them into a :class:`LivenessResult`.

>>> from idverify.liveness import issue_challenge
>>> issue_challenge(b"0123456789abcdef", now=0.0, actions=("blink",)).actions
('blink',)
"""

from __future__ import annotations

from idverify.liveness.analysis import check_liveness
from idverify.liveness.challenge import ACTIONS, Challenge, issue_challenge, verify_challenge
from idverify.liveness.result import LivenessResult

__all__ = ["ACTIONS", "Challenge", "LivenessResult", "check_liveness", "issue_challenge", "verify_challenge"]
