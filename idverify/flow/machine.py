"""The activation state machine: states, events, ONE transition table. No I/O.

``transition(state, event)`` returns the next state or raises
:class:`idverify.errors.InvalidTransition`; states are immutable enum members,
so a refused event changes nothing (the h11 style).

>>> transition(State.TERMS, TermsAccepted(terms_version="2024-01"))
<State.ELIGIBILITY: 'eligibility'>
>>> transition(State.TERMS, SecretCodeSet())
Traceback (most recent call last):
...
idverify.errors.InvalidTransition: invalid_transition: secret_code_set not allowed in state terms
>>> State.APPROVED.terminal, sorted(e.name for e in allowed_events(State.PENDING_REVIEW))
(True, ['locked', 'review_approved', 'review_rejected'])
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from idverify.errors import InvalidTransition


class State(enum.Enum):
    """Where an activation is: a user-phase state names the step it waits for."""

    TERMS = "terms"  # waiting for the terms of use to be accepted
    ELIGIBILITY = "eligibility"  # département + online account
    CARTE_VITALE = "carte_vitale"  # scanned or typed NIR
    EMAIL_CODE = "email_code"  # 6-digit code e-mailed and typed back
    IDENTITY = "identity"  # ID card recto/verso/tilted + selfie clip
    SECRET_CODE = "secret_code"  # the user's personal 6-digit code
    PENDING_REVIEW = "pending_review"  # a human operator decides (~48 h)
    APPROVED = "approved"
    REJECTED = "rejected"
    ABANDONED = "abandoned"
    EXPIRED = "expired"
    LOCKED = "locked"

    @property
    def terminal(self) -> bool:
        """No event leaves a terminal state."""
        return self in TERMINAL_STATES

    @property
    def user_phase(self) -> bool:
        """A state where the user (not a reviewer) has to act."""
        return self in USER_PHASE_STATES


TERMINAL_STATES = frozenset({State.APPROVED, State.REJECTED, State.ABANDONED, State.EXPIRED, State.LOCKED})
USER_PHASE_STATES = frozenset({State.TERMS, State.ELIGIBILITY, State.CARTE_VITALE, State.EMAIL_CODE,
                               State.IDENTITY, State.SECRET_CODE})
INITIAL_STATE = State.TERMS


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """Base of every event. Fields are audit-safe: never a code, a NIR or biometric data."""

    name: ClassVar[str] = "event"

    def detail(self) -> dict[str, Any]:
        """The event's fields as JSON-able audit detail."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@dataclasses.dataclass(frozen=True, slots=True)
class TermsAccepted(Event):
    name: ClassVar[str] = "terms_accepted"
    terms_version: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class EligibilityConfirmed(Event):
    name: ClassVar[str] = "eligibility_confirmed"
    departement: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class CarteVitaleRecorded(Event):
    name: ClassVar[str] = "carte_vitale_recorded"
    method: str = "typed"  # "typed" | "scanned"


@dataclasses.dataclass(frozen=True, slots=True)
class EmailCodeSent(Event):
    name: ClassVar[str] = "email_code_sent"
    send_count: int = 1


@dataclasses.dataclass(frozen=True, slots=True)
class EmailCodeSendFailed(Event):
    """The mail could not be handed over: the send is undone (not counted, code void)."""

    name: ClassVar[str] = "email_code_send_failed"


@dataclasses.dataclass(frozen=True, slots=True)
class EmailCodeRejected(Event):
    name: ClassVar[str] = "email_code_rejected"
    failures: int = 1


@dataclasses.dataclass(frozen=True, slots=True)
class EmailCodeVerified(Event):
    name: ClassVar[str] = "email_code_verified"


@dataclasses.dataclass(frozen=True, slots=True)
class IdentityAttemptFailed(Event):
    name: ClassVar[str] = "identity_attempt_failed"
    attempt: int = 1
    reasons: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class IdentityAttemptsExhausted(Event):
    name: ClassVar[str] = "identity_attempts_exhausted"
    attempt: int = 1
    reasons: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class IdentityVerified(Event):
    name: ClassVar[str] = "identity_verified"
    attempt: int = 1


@dataclasses.dataclass(frozen=True, slots=True)
class SecretCodeSet(Event):
    name: ClassVar[str] = "secret_code_set"


@dataclasses.dataclass(frozen=True, slots=True)
class ReviewApproved(Event):
    name: ClassVar[str] = "review_approved"
    note: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class ReviewRejected(Event):
    name: ClassVar[str] = "review_rejected"
    reason: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Abandoned(Event):
    name: ClassVar[str] = "abandoned"


@dataclasses.dataclass(frozen=True, slots=True)
class SessionExpired(Event):
    name: ClassVar[str] = "session_expired"


@dataclasses.dataclass(frozen=True, slots=True)
class Locked(Event):
    name: ClassVar[str] = "locked"
    reason: str = "locked_by_operator"


def _table() -> Mapping[tuple[State, type[Event]], State]:
    s = State
    table: dict[tuple[State, type[Event]], State] = {
        (s.TERMS, TermsAccepted): s.ELIGIBILITY,
        (s.ELIGIBILITY, EligibilityConfirmed): s.CARTE_VITALE,
        (s.CARTE_VITALE, CarteVitaleRecorded): s.EMAIL_CODE,
        (s.EMAIL_CODE, EmailCodeSent): s.EMAIL_CODE,
        (s.EMAIL_CODE, EmailCodeSendFailed): s.EMAIL_CODE,
        (s.EMAIL_CODE, EmailCodeRejected): s.EMAIL_CODE,
        (s.EMAIL_CODE, EmailCodeVerified): s.IDENTITY,
        (s.IDENTITY, IdentityAttemptFailed): s.IDENTITY,
        (s.IDENTITY, IdentityAttemptsExhausted): s.REJECTED,
        (s.IDENTITY, IdentityVerified): s.SECRET_CODE,
        (s.SECRET_CODE, SecretCodeSet): s.PENDING_REVIEW,
        (s.PENDING_REVIEW, ReviewApproved): s.APPROVED,
        (s.PENDING_REVIEW, ReviewRejected): s.REJECTED,
    }
    for state in USER_PHASE_STATES:
        table[(state, Abandoned)] = s.ABANDONED
        table[(state, SessionExpired)] = s.EXPIRED
    for state in State:
        if state not in TERMINAL_STATES:
            table[(state, Locked)] = s.LOCKED
    return MappingProxyType(table)


TRANSITIONS: Mapping[tuple[State, type[Event]], State] = _table()
"""THE transition table: (state, event type) -> next state. Nothing else decides."""

EVENT_TYPES: tuple[type[Event], ...] = tuple(dict.fromkeys(ev for _, ev in TRANSITIONS))


def transition(state: State, event: Event) -> State:
    """The state after ``event``; raises :class:`InvalidTransition` (nothing changes) if not allowed."""
    if not isinstance(state, State) or not isinstance(event, Event):
        raise InvalidTransition("invalid_transition", f"not a State/Event: {state!r}, {event!r}")
    try:
        return TRANSITIONS[(state, type(event))]
    except KeyError:
        raise InvalidTransition("invalid_transition", f"{event.name} not allowed in state {state.value}") from None


def allows(state: State, event_type: type[Event]) -> bool:
    """Whether ``state`` accepts events of ``event_type``."""
    return (state, event_type) in TRANSITIONS


def require(state: State, event_type: type[Event]) -> None:
    """Raise :class:`InvalidTransition` unless ``state`` accepts ``event_type``."""
    if not allows(state, event_type):
        raise InvalidTransition("invalid_transition", f"{event_type.name} not allowed in state {state.value}")


def allowed_events(state: State) -> frozenset[type[Event]]:
    """The event types ``state`` accepts (empty for terminal states)."""
    return frozenset(ev for (st, ev) in TRANSITIONS if st is state)
