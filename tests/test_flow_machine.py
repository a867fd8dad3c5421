"""The pure state machine: the table walk, illegal events, audit-safe events."""

from __future__ import annotations

import dataclasses
from collections import deque

import pytest

from idverify.errors import InvalidTransition
from idverify.flow import machine
from idverify.flow.machine import EVENT_TYPES, INITIAL_STATE, TERMINAL_STATES, TRANSITIONS, State, transition


def _successors(state: State) -> set[State]:
    return {dst for (src, _), dst in TRANSITIONS.items() if src is state}


def test_every_state_reachable_from_the_initial_state() -> None:
    seen, todo = {INITIAL_STATE}, deque([INITIAL_STATE])
    while todo:
        for nxt in _successors(todo.popleft()) - seen:
            seen.add(nxt)
            todo.append(nxt)
    assert seen == set(State)


def test_terminal_states_are_terminal() -> None:
    assert {State.APPROVED, State.REJECTED, State.ABANDONED, State.EXPIRED, State.LOCKED} == TERMINAL_STATES
    for state in TERMINAL_STATES:
        assert state.terminal
        assert machine.allowed_events(state) == frozenset()
        for event_type in EVENT_TYPES:
            with pytest.raises(InvalidTransition):
                transition(state, event_type())


def test_every_non_terminal_state_can_reach_a_terminal_state() -> None:
    for start in set(State) - TERMINAL_STATES:
        seen, todo = {start}, deque([start])
        while todo:
            for nxt in _successors(todo.popleft()) - seen:
                seen.add(nxt)
                todo.append(nxt)
        assert seen & TERMINAL_STATES, start
        assert not start.terminal


def test_happy_path_reaches_approved() -> None:
    s = INITIAL_STATE
    for ev in (machine.TermsAccepted("v1"), machine.EligibilityConfirmed("69"), machine.CarteVitaleRecorded("typed"),
               machine.EmailCodeSent(1), machine.EmailCodeRejected(1), machine.EmailCodeVerified(),
               machine.IdentityAttemptFailed(1, ("face_mismatch",)), machine.IdentityVerified(2),
               machine.SecretCodeSet(), machine.ReviewApproved("ok")):
        s = transition(s, ev)
    assert s is State.APPROVED


def test_every_pair_outside_the_table_raises_and_changes_nothing() -> None:
    refused = 0
    for state in State:
        for event_type in EVENT_TYPES:
            if (state, event_type) in TRANSITIONS:
                assert transition(state, event_type()) is TRANSITIONS[(state, event_type)]
                continue
            before = state
            with pytest.raises(InvalidTransition) as info:
                transition(state, event_type())
            assert info.value.reason == "invalid_transition"
            assert state is before
            refused += 1
    assert refused > 100


def test_expiry_abandon_and_lock_cover_the_user_phase() -> None:
    for state in machine.USER_PHASE_STATES:
        assert transition(state, machine.SessionExpired()) is State.EXPIRED
        assert transition(state, machine.Abandoned()) is State.ABANDONED
    with pytest.raises(InvalidTransition):
        transition(State.PENDING_REVIEW, machine.SessionExpired())  # the review has a deadline, not an expiry
    assert transition(State.PENDING_REVIEW, machine.Locked()) is State.LOCKED


def test_events_are_frozen_and_their_detail_is_json_plain() -> None:
    ev = machine.IdentityAttemptFailed(2, ("face_mismatch", "liveness_failed"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev.attempt = 3  # type: ignore[misc]
    assert ev.detail() == {"attempt": 2, "reasons": ["face_mismatch", "liveness_failed"]}
    # no event type carries a field that could hold a code or a NIR
    for event_type in EVENT_TYPES:
        names = {f.name for f in dataclasses.fields(event_type)}
        assert not names & {"code", "otp", "pin", "secret", "nir"}, event_type


def test_garbage_is_refused() -> None:
    with pytest.raises(InvalidTransition):
        transition("terms", machine.TermsAccepted())  # type: ignore[arg-type]


def test_every_reason_code_the_flow_emits_is_in_the_table() -> None:
    import re
    from pathlib import Path

    from idverify.reasons import REASONS

    src = "\n".join(p.read_text() for p in (Path(machine.__file__).parent).glob("*.py"))
    patterns = [r'_result\(\s*(?:\w+|"\w+"),\s*\w+,\s*"([a-z0-9_]+)"',
                r'(?:Error|NIR|Update|TooNew|Transition)\(\s*"([a-z0-9_]+)"',
                r'reason="([a-z0-9_]+)"', r'"([a-z0-9_]+)", \{', r'closed_reason": "([a-z0-9_]+)"',
                r'decision_reason="([a-z0-9_]+)"', r'reasons=\("([a-z0-9_]+)",\)']
    found = {code for pat in patterns for code in re.findall(pat, src)}
    assert len(found) > 25
    assert sorted(found - set(REASONS)) == []
