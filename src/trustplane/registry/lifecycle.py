"""The model version lifecycle as a pure state machine: states, named actions, permissions.

Nothing here touches the database. A transition is a named action, never a field edit::

    draft --submit--> candidate --validate--> candidate (validated) --approve--> approved
    approved --promote(env)--> production --deprecate--> deprecated --retire--> retired
    candidate --reject--> rejected        approved|production|deprecated --suspend--> suspended
    suspended --reinstate--> the state it was suspended from (production comes back approved)

``production`` is per environment (see docs/adr/0004-registry-lifecycle.md): the stored state
says "holds at least one production pointer"; the pointers say where.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from trustplane.identity.roles import Permission


class State(StrEnum):
    DRAFT = "draft"
    CANDIDATE = "candidate"
    APPROVED = "approved"
    PRODUCTION = "production"
    DEPRECATED = "deprecated"
    RETIRED = "retired"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class Action(StrEnum):
    SUBMIT = "submit"
    VALIDATE = "validate"
    APPROVE = "approve"
    REJECT = "reject"
    PROMOTE = "promote"
    DEPRECATE = "deprecate"
    RETIRE = "retire"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


PERMISSION_OF: dict[Action, Permission] = {
    Action.SUBMIT: Permission.MODEL_SUBMIT,
    Action.VALIDATE: Permission.MODEL_VALIDATE,
    Action.APPROVE: Permission.MODEL_APPROVE,
    Action.REJECT: Permission.MODEL_REJECT,
    Action.PROMOTE: Permission.MODEL_PROMOTE,
    Action.DEPRECATE: Permission.MODEL_DEPRECATE,
    Action.RETIRE: Permission.MODEL_RETIRE,
    Action.SUSPEND: Permission.MODEL_SUSPEND,
    Action.REINSTATE: Permission.MODEL_REINSTATE,
}

S = State

#: From which states each action may start.
SOURCES: dict[Action, frozenset[State]] = {
    Action.SUBMIT: frozenset({S.DRAFT}),
    Action.VALIDATE: frozenset({S.CANDIDATE}),
    Action.APPROVE: frozenset({S.CANDIDATE}),
    Action.REJECT: frozenset({S.CANDIDATE}),
    Action.PROMOTE: frozenset({S.APPROVED, S.PRODUCTION}),
    Action.DEPRECATE: frozenset({S.APPROVED, S.PRODUCTION}),
    Action.RETIRE: frozenset({S.DEPRECATED}),
    Action.SUSPEND: frozenset({S.APPROVED, S.PRODUCTION, S.DEPRECATED}),
    Action.REINSTATE: frozenset({S.SUSPENDED}),
}

#: Actions that need an environment (the per-environment part of the lifecycle).
NEEDS_ENVIRONMENT: frozenset[Action] = frozenset({Action.PROMOTE})

#: Actions after which the version holds no production pointer any more.
ENDS_POINTERS: frozenset[Action] = frozenset({Action.RETIRE, Action.SUSPEND})


@dataclass(frozen=True, slots=True)
class Position:
    """What the machine needs to know about a version."""

    state: State
    validated: bool = False
    suspended_from: State | None = None


class IllegalTransition(Exception):
    """``action`` cannot start from the version's position; ``allowed`` lists what can."""

    def __init__(self, action: Action, position: Position, reason: str | None = None) -> None:
        self.action = action
        self.allowed = allowed_actions(position)
        self.reason = reason or (
            f"'{action}' is not allowed from state '{position.state}'"
            f" (allowed: {', '.join(self.allowed) or 'none'})"
        )
        super().__init__(self.reason)


def allowed_actions(position: Position) -> list[str]:
    """The actions that may start from ``position``, in lifecycle order."""
    return [a.value for a in Action if _blocker(a, position) is None]


def _blocker(action: Action, position: Position) -> str | None:
    if position.state not in SOURCES[action]:
        return f"'{action}' is not allowed from state '{position.state}'"
    if action is Action.VALIDATE and position.validated:
        return "this candidate is already validated"
    if action is Action.APPROVE and not position.validated:
        return "a candidate must be validated before it is approved"
    return None


def next_state(action: Action, position: Position) -> State:
    """The state after ``action``, or :class:`IllegalTransition`."""
    blocker = _blocker(action, position)
    if blocker is not None:
        raise IllegalTransition(action, position, _with_allowed(blocker, position))
    match action:
        case Action.SUBMIT | Action.VALIDATE:
            return S.CANDIDATE
        case Action.APPROVE:
            return S.APPROVED
        case Action.REJECT:
            return S.REJECTED
        case Action.PROMOTE:
            return S.PRODUCTION
        case Action.DEPRECATE:
            return S.DEPRECATED
        case Action.RETIRE:
            return S.RETIRED
        case Action.SUSPEND:
            return S.SUSPENDED
        case Action.REINSTATE:
            return _reinstated(position.suspended_from)


def _reinstated(previous: State | None) -> State:
    """Suspension ended the version's pointers, so a production version comes back approved."""
    if previous is None or previous is S.PRODUCTION:
        return S.APPROVED
    return previous


def after_pointer_loss(state: State, pointers_left: int) -> State:
    """A production version that no longer holds any pointer goes back to approved."""
    if state is S.PRODUCTION and pointers_left == 0:
        return S.APPROVED
    return state


def _with_allowed(blocker: str, position: Position) -> str:
    allowed = allowed_actions(position)
    return f"{blocker} (allowed: {', '.join(allowed) or 'none'})"
