"""Fusing the cues into one decision, with the reasons that drove it.

Three kinds of cues:

* **attack cues** decide alone when they fail: no face / face lost, several
  faces, identity change, frozen or looped frames, screen or print surface,
  planar (flat-picture) motion, a failed or invalid challenge;
* **liveness evidence**: at least one of a blink or a 3-D head movement
  (nose parallax in the landmarks that the skin texture confirms, or relief
  in the skin texture's optical flow) must be seen — a photo held still
  shows neither;
* **hints** are reported but never decide alone (container metadata,
  timestamps, lip sync, pose range).

The score is ``min(evidence, 1 - attack)``: each term maps its cue's
score/threshold ratio so that the decision point sits at 0.5.

>>> from idverify.results import Check
>>> cues = {"blink": Check("blink", True, score=2.0, threshold=1.0),
...         "structure": Check("structure", False, "no_head_motion", score=0.01, threshold=0.045),
...         "frozen": Check("frozen", True, score=0.0, threshold=0.5)}
>>> live, score, reasons, hints = fuse(cues)
>>> live, reasons
(True, [])
>>> cues["frozen"] = Check("frozen", False, "frozen_frames", score=2.0, threshold=0.5)
>>> fuse(cues)[0], fuse(cues)[2]
(False, ['frozen_frames'])
"""

from __future__ import annotations

from collections.abc import Mapping

from idverify.results import Check

THRESHOLD = 0.5
ATTACK_CUES = ("face_present", "single_face", "identity", "frozen", "loop", "surface", "challenge")
LOWER_IS_BETTER = ("identity", "frozen", "loop", "surface", "single_face")
EVIDENCE_CUES = ("blink", "structure", "parallax")
HINT_CUES = ("head_pose", "timestamps", "cuts", "metadata", "lip_sync")


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def _attack_level(check: Check) -> float:
    """0 (clearly bona fide) .. 1 (clearly attack); 0.5 at the check's threshold."""
    if check.score is None or not check.threshold:
        return 0.0 if check.passed else 1.0
    ratio = check.score / check.threshold
    level = _clamp(0.5 * ratio) if check.name in LOWER_IS_BETTER else _clamp(1.0 - 0.5 * ratio)
    # keep the level on the side of the boolean decision (the check may use more than one number)
    return max(level, 0.5) if not check.passed else min(level, 0.49)


def _evidence_level(check: Check) -> float:
    if check.score is None or not check.threshold:
        return 1.0 if check.passed else 0.0
    level = _clamp(0.5 * check.score / check.threshold)
    return max(level, 0.5) if check.passed else min(level, 0.49)


def fuse(cues: Mapping[str, Check]) -> tuple[bool, float, list[str], list[str]]:
    """(live, score, reasons, hints) from the cues by name."""
    reasons: list[str] = []
    attack = 0.0
    for name in ATTACK_CUES:
        check = cues.get(name)
        if check is None:
            continue
        attack = max(attack, _attack_level(check))
        if not check.passed and check.reason and check.reason not in reasons:
            reasons.append(check.reason)
    for name in ("structure", "parallax"):  # a face that turned like a flat picture is an attack, not just no evidence
        check = cues.get(name)
        if check is not None and check.reason == "planar_motion":
            if "planar_motion" not in reasons:
                reasons.append("planar_motion")
            attack = max(attack, 0.5 + 0.5 * _clamp(1.0 - (check.score or 0.0) / (check.threshold or 1.0)))
    evidence_checks = [cues[n] for n in EVIDENCE_CUES if n in cues]
    evidence = max((_evidence_level(c) for c in evidence_checks), default=0.0)
    if "challenge" in cues and cues["challenge"].passed:
        evidence = max(evidence, 0.75)  # performing the actions in order is liveness evidence too
    if evidence < THRESHOLD:
        for check in evidence_checks:
            if not check.passed and check.reason and check.reason not in reasons:
                reasons.append(check.reason)
    hints = [c.reason for n in HINT_CUES if (c := cues.get(n)) is not None and not c.passed and c.reason]
    score = min(evidence, 1.0 - attack)
    live = not reasons
    score = max(score, THRESHOLD) if live else min(score, THRESHOLD - 1e-3)
    return live, score, reasons, hints
