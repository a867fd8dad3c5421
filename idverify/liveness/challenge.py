"""Active challenge: a random sequence of actions, signed by the caller, checked in the clip.

The caller (the backend) issues a challenge with :func:`issue_challenge`,
shows its actions to the user, and passes the token (or the
:class:`Challenge`) with the clip to :func:`idverify.liveness.check_liveness`
together with the same secret. The token is HMAC-SHA256 signed and carries
a random nonce and an expiry; pass ``used_nonces`` (a set the caller keeps,
e.g. backed by its store) to make each challenge single-use.

Actions: ``turn_left`` / ``turn_right`` (the person's own left/right: in an
unmirrored front-camera clip the nose moves toward the image's right / left),
``look_up``, ``look_down``, ``blink``, ``open_mouth``.

>>> secret = b"k" * 32
>>> ch = issue_challenge(secret, now=1_000.0, actions=("turn_left", "blink"))
>>> verify_challenge(ch.token, secret, now=1_030.0).actions
('turn_left', 'blink')
>>> verify_challenge(ch.token, secret, now=9_999.0)
Traceback (most recent call last):
...
idverify.errors.InputError: challenge_invalid: the challenge expired at 1120
>>> forged = issue_challenge(b"f" * 32, now=1_000.0, actions=("blink",)).token
>>> verify_challenge(forged, secret, now=1_030.0)
Traceback (most recent call last):
...
idverify.errors.InputError: challenge_invalid: bad signature
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import itertools
import json
import secrets
from collections.abc import MutableSet, Sequence
from typing import Any

import numpy as np

from idverify.config import LIVENESS, LivenessConfig
from idverify.errors import InputError, UsageError
from idverify.liveness.blink import Blink
from idverify.liveness.signals import Signals
from idverify.results import Check

ACTIONS = ("turn_left", "turn_right", "look_up", "look_down", "blink", "open_mouth")
_VERSION = "lv1"
_OPPOSITES = ({"turn_left", "turn_right"}, {"look_up", "look_down"})
_MAX_SKEW = 60.0  # seconds a token may appear to come from the future (clock drift)


@dataclasses.dataclass(frozen=True, slots=True)
class Challenge:
    """A signed challenge: the actions in order, its nonce, issue and expiry times (epoch seconds)."""

    actions: tuple[str, ...]
    nonce: str
    issued_at: float
    expires_at: float
    token: str

    def to_dict(self) -> dict[str, Any]:
        return {"actions": list(self.actions), "nonce": self.nonce, "issued_at": self.issued_at,
                "expires_at": self.expires_at}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, (bytes, bytearray)) or len(secret) < 16:
        raise UsageError("usage_error", "the challenge secret must be at least 16 bytes")


def _sign(secret: bytes, payload: bytes) -> str:
    return _b64(hmac.new(bytes(secret), payload, hashlib.sha256).digest())


def issue_challenge(secret: bytes, now: float, *, actions: Sequence[str] | None = None, length: int = 2,
                    ttl: float = 120.0) -> Challenge:
    """A new signed challenge: ``length`` random distinct actions (or the given ``actions``), valid ``ttl`` s."""
    _check_secret(secret)
    if actions is None:
        if not 1 <= length <= len(ACTIONS):
            raise UsageError("usage_error", f"length must be in 1..{len(ACTIONS)}")
        rng = secrets.SystemRandom()
        chosen = rng.sample(ACTIONS, length)
        for _ in range(20):  # avoid opposite turns back to back: too easy to do by accident
            if not any({a, b} in _OPPOSITES for a, b in itertools.pairwise(chosen)):
                break
            chosen = rng.sample(ACTIONS, length)
        actions = chosen
    unknown = [a for a in actions if a not in ACTIONS]
    if unknown or not actions:
        raise UsageError("usage_error", f"unknown or no challenge actions: {unknown}")
    if ttl <= 0:
        raise UsageError("usage_error", "ttl must be > 0")
    nonce = _b64(secrets.token_bytes(16))
    body = {"v": _VERSION, "a": list(actions), "n": nonce, "iat": float(now), "exp": float(now) + float(ttl)}
    payload = json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8")
    token = f"{_b64(payload)}.{_sign(secret, payload)}"
    return Challenge(actions=tuple(actions), nonce=nonce, issued_at=float(now), expires_at=float(now) + float(ttl),
                     token=token)


def verify_challenge(token: str | Challenge, secret: bytes, now: float, *,
                     used_nonces: MutableSet[str] | None = None) -> Challenge:
    """The challenge of a genuine, unexpired (and, with ``used_nonces``, unused) token.

    Raises :class:`InputError` ``challenge_invalid`` otherwise. With
    ``used_nonces`` the nonce is added to it, so the token cannot be replayed.
    """
    _check_secret(secret)
    if isinstance(token, Challenge):
        token = token.token
    if not isinstance(token, str) or token.count(".") != 1:
        raise InputError("challenge_invalid", "malformed token")
    head, signature = token.split(".")
    try:
        payload = _unb64(head)
    except (binascii.Error, ValueError):
        raise InputError("challenge_invalid", "malformed token") from None
    if not hmac.compare_digest(_sign(secret, payload), signature):
        raise InputError("challenge_invalid", "bad signature")
    try:
        body = json.loads(payload.decode("utf-8"))
        actions = tuple(str(a) for a in body["a"])
        nonce, issued, expires = str(body["n"]), float(body["iat"]), float(body["exp"])
        version = body["v"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InputError("challenge_invalid", "malformed payload") from None
    if version != _VERSION or not actions or any(a not in ACTIONS for a in actions):
        raise InputError("challenge_invalid", "unknown version or action")
    if now > expires:
        raise InputError("challenge_invalid", f"the challenge expired at {expires:g}")
    if issued > now + _MAX_SKEW:
        raise InputError("challenge_invalid", "the challenge was issued in the future")
    if used_nonces is not None:
        if nonce in used_nonces:
            raise InputError("challenge_invalid", "the challenge was already used")
        used_nonces.add(nonce)
    return Challenge(actions=actions, nonce=nonce, issued_at=issued, expires_at=expires, token=token)


def _reference(values: np.ndarray, stamps: np.ndarray) -> float:
    ok = ~np.isnan(values)
    if not ok.any():
        return float("nan")
    start = stamps[ok][0]
    early = values[ok & (stamps <= start + 0.5)]
    return float(np.median(early))


def action_mask(action: str, signals: Signals, blinks: Sequence[Blink], timestamps: Sequence[float] | np.ndarray,
                config: LivenessConfig = LIVENESS) -> np.ndarray:
    """Frames where ``action`` is being performed (for blinks: the blink's deepest frame)."""
    stamps = np.asarray(timestamps, dtype=np.float64)
    mask = np.zeros(len(stamps), bool)
    if action == "blink":
        for b in blinks:
            mask[b.bottom] = True
        return mask
    if action == "open_mouth":
        return np.nan_to_num(signals.mouth, nan=0.0) >= config.challenge_mouth
    if action in ("turn_left", "turn_right"):
        delta = signals.yaw - _reference(signals.yaw, stamps)
        sign = 1.0 if action == "turn_left" else -1.0
        return np.nan_to_num(sign * delta, nan=0.0) >= config.challenge_yaw
    delta = signals.pitch - _reference(signals.pitch, stamps)
    sign = 1.0 if action == "look_down" else -1.0
    return np.nan_to_num(sign * delta, nan=0.0) >= config.challenge_pitch


def challenge_check(challenge: Challenge, signals: Signals, blinks: Sequence[Blink],
                    timestamps: Sequence[float] | np.ndarray,
                    config: LivenessConfig = LIVENESS, indexes: Sequence[int] | None = None) -> Check:
    """``challenge``: every action seen, in order, within ``challenge_window`` s of the clip's start."""
    stamps = np.asarray(timestamps, dtype=np.float64)
    start = float(stamps[0]) if len(stamps) else 0.0
    after = -1
    done: list[dict[str, Any]] = []
    for action in challenge.actions:
        hits = np.flatnonzero(action_mask(action, signals, blinks, stamps, config))
        hits = hits[hits > after]
        if not len(hits) or stamps[hits[0]] - start > config.challenge_window:
            break
        after = int(hits[0])
        # a held pose counts once: the next action must start after this one
        done.append({"action": action, "time_s": round(float(stamps[after] - start), 3),
                     "frame": int(indexes[after]) if indexes is not None else after})
    passed = len(done) == len(challenge.actions)
    return Check("challenge", passed=passed, reason=None if passed else "challenge_failed",
                 score=len(done) / len(challenge.actions), threshold=1.0,
                 evidence={"actions": list(challenge.actions), "performed": done, "frames": [d["frame"] for d in done],
                           "window_s": config.challenge_window})
