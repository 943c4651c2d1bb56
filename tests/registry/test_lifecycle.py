"""The lifecycle state machine, tested as a table: every action from every state."""

from __future__ import annotations

import pytest

from trustplane.identity.roles import ROLE_PERMISSIONS, Permission, Role
from trustplane.registry.lifecycle import (
    PERMISSION_OF,
    Action,
    IllegalTransition,
    Position,
    State,
    after_pointer_loss,
    allowed_actions,
    next_state,
)

S, A = State, Action

#: (state, action, validated) -> resulting state; every pair not listed must be refused.
EXPECTED: dict[tuple[State, Action], State] = {
    (S.DRAFT, A.SUBMIT): S.CANDIDATE,
    (S.CANDIDATE, A.VALIDATE): S.CANDIDATE,
    (S.CANDIDATE, A.REJECT): S.REJECTED,
    (S.APPROVED, A.PROMOTE): S.PRODUCTION,
    (S.APPROVED, A.DEPRECATE): S.DEPRECATED,
    (S.APPROVED, A.SUSPEND): S.SUSPENDED,
    (S.PRODUCTION, A.PROMOTE): S.PRODUCTION,
    (S.PRODUCTION, A.DEPRECATE): S.DEPRECATED,
    (S.PRODUCTION, A.SUSPEND): S.SUSPENDED,
    (S.DEPRECATED, A.RETIRE): S.RETIRED,
    (S.DEPRECATED, A.SUSPEND): S.SUSPENDED,
}


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action", list(Action))
def test_every_action_from_every_state(state: State, action: Action) -> None:
    position = Position(state, validated=False, suspended_from=S.APPROVED)
    if action is A.REINSTATE:
        if state is S.SUSPENDED:
            assert next_state(action, position) is S.APPROVED
        else:
            with pytest.raises(IllegalTransition):
                next_state(action, position)
        return
    if action is A.APPROVE:
        # approve needs a validated candidate: refused everywhere without validation
        with pytest.raises(IllegalTransition) as caught:
            next_state(action, position)
        if state is S.CANDIDATE:
            assert "validated" in caught.value.reason
        return
    expected = EXPECTED.get((state, action))
    if expected is None:
        with pytest.raises(IllegalTransition) as refused:
            next_state(action, position)
        assert action.value not in refused.value.allowed
        assert refused.value.allowed == allowed_actions(position)
    else:
        assert next_state(action, position) is expected
        assert action.value in allowed_actions(position)


def test_a_validated_candidate_may_be_approved_but_not_validated_again() -> None:
    validated = Position(S.CANDIDATE, validated=True)
    assert next_state(A.APPROVE, validated) is S.APPROVED
    with pytest.raises(IllegalTransition, match="already validated"):
        next_state(A.VALIDATE, validated)
    assert allowed_actions(validated) == ["approve", "reject"]
    assert allowed_actions(Position(S.CANDIDATE)) == ["validate", "reject"]


@pytest.mark.parametrize(
    ("suspended_from", "back_to"),
    [
        (S.APPROVED, S.APPROVED),
        (S.DEPRECATED, S.DEPRECATED),
        (S.PRODUCTION, S.APPROVED),  # suspension ended its pointers; promote again
        (None, S.APPROVED),
    ],
)
def test_reinstate_returns_to_where_the_version_was(
    suspended_from: State | None, back_to: State
) -> None:
    assert next_state(A.REINSTATE, Position(S.SUSPENDED, suspended_from=suspended_from)) is back_to


def test_terminal_states_allow_nothing() -> None:
    for state in (S.RETIRED, S.REJECTED):
        assert allowed_actions(Position(state)) == []
        with pytest.raises(IllegalTransition, match="allowed: none"):
            next_state(A.PROMOTE, Position(state))


def test_illegal_transition_names_the_allowed_actions() -> None:
    with pytest.raises(IllegalTransition) as caught:
        next_state(A.RETIRE, Position(S.PRODUCTION))
    assert caught.value.allowed == ["promote", "deprecate", "suspend"]
    assert "allowed: promote, deprecate, suspend" in caught.value.reason


def test_losing_the_last_pointer_returns_production_to_approved() -> None:
    assert after_pointer_loss(S.PRODUCTION, 0) is S.APPROVED
    assert after_pointer_loss(S.PRODUCTION, 1) is S.PRODUCTION
    assert after_pointer_loss(S.DEPRECATED, 0) is S.DEPRECATED


def test_each_action_has_its_own_permission_and_a_role_holding_it() -> None:
    assert set(PERMISSION_OF) == set(Action)
    assert len(set(PERMISSION_OF.values())) == len(Action)
    for action, permission in PERMISSION_OF.items():
        assert permission.value == f"model.{action.value}"
        assert any(permission in perms for perms in ROLE_PERMISSIONS.values()), action


def test_separation_of_duties_in_the_default_roles() -> None:
    """Whoever submits cannot approve or promote with the same role."""
    trainer = ROLE_PERMISSIONS[Role.TRAINER]
    assert Permission.MODEL_SUBMIT in trainer
    assert not {Permission.MODEL_APPROVE, Permission.MODEL_PROMOTE} & trainer
