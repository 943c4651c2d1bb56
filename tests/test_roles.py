"""The role table, tested as a table: who may do each lifecycle verb."""

from __future__ import annotations

import pytest

from trustplane.audit import Origin
from trustplane.identity.actor import Actor, Grant
from trustplane.identity.bindings import permission_to_manage
from trustplane.identity.roles import (
    READ_PERMISSIONS,
    ROLE_PERMISSIONS,
    SENSITIVE_ROLES,
    Permission,
    Role,
)

P, R = Permission, Role

#: For each lifecycle verb, exactly the roles that hold it.
EXPECTED_HOLDERS: dict[Permission, set[Role]] = {
    P.DATASET_REGISTER: {R.DATA_STEWARD},
    P.DATASET_APPROVE: {R.DATA_STEWARD},
    P.FEATURE_DEFINE: {R.FEATURE_ENGINEER},
    P.RUN_RECORD: {R.TRAINER},
    P.MODEL_REGISTER: {R.TRAINER},
    P.MODEL_SUBMIT: {R.TRAINER},
    P.MODEL_VALIDATE: {R.VALIDATOR},
    P.MODEL_APPROVE: {R.RELEASE_APPROVER},
    P.MODEL_REJECT: {R.VALIDATOR, R.RELEASE_APPROVER},
    P.MODEL_PROMOTE: {R.DEPLOYER},
    P.MODEL_DEPLOY: {R.DEPLOYER},
    P.MODEL_ROLLBACK: {R.DEPLOYER},
    P.MODEL_SUSPEND: {R.RISK_OFFICER},
    P.MODEL_REINSTATE: {R.RISK_OFFICER},
    P.WAIVER_REQUEST: {R.TRAINER, R.DEPLOYER},
    P.WAIVER_APPROVE: {R.RISK_OFFICER},
    P.POLICY_WRITE: {R.TENANT_ADMIN},
    P.ACCESS_ADMIN: {R.TENANT_ADMIN},
    P.ACCESS_GRANT: {R.TENANT_ADMIN, R.ACCESS_MANAGER},
    P.TOKEN_ISSUE: {R.TENANT_ADMIN},
    P.TENANT_ADMIN: {R.PLATFORM_ADMIN},
    P.AUDIT_READ: {R.TENANT_ADMIN, R.RISK_OFFICER, R.AUDITOR},
    P.AUDIT_EXPORT: {R.TENANT_ADMIN},
}


@pytest.mark.parametrize("permission", list(EXPECTED_HOLDERS), ids=str)
def test_who_holds_each_verb(permission: Permission) -> None:
    holders = {role for role, perms in ROLE_PERMISSIONS.items() if permission in perms}
    assert holders == EXPECTED_HOLDERS[permission]


def test_every_role_is_in_the_table_and_every_permission_is_held() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    held = set().union(*ROLE_PERMISSIONS.values())
    assert held == set(Permission)


def test_auditor_reads_everything_and_changes_nothing() -> None:
    assert ROLE_PERMISSIONS[R.AUDITOR] == READ_PERMISSIONS | {P.ACCESS_REVIEW}
    assert P.AUDIT_READ in ROLE_PERMISSIONS[R.AUDITOR]


def test_approvers_are_not_the_people_who_build() -> None:
    """Separation of duties in the table itself: no role both builds and approves a release."""
    for role, perms in ROLE_PERMISSIONS.items():
        builds = perms & {P.MODEL_SUBMIT, P.RUN_RECORD}
        approves = perms & {P.MODEL_APPROVE, P.WAIVER_APPROVE}
        assert not (builds and approves), role


def test_managing_sensitive_roles_needs_access_admin() -> None:
    for role in Role:
        needed = permission_to_manage(role)
        if role is R.PLATFORM_ADMIN:
            assert needed is P.TENANT_ADMIN
        elif role in SENSITIVE_ROLES:
            assert needed is P.ACCESS_ADMIN
        else:
            assert needed is P.ACCESS_GRANT


def test_environment_scoped_grants_apply_only_in_their_environment() -> None:
    actor = Actor(
        "pr_1",
        "dana",
        "user",
        "token",
        "ten_1",
        Origin("c"),
        grants=(Grant("bnd_1", R.DEPLOYER, "env_prod"), Grant("bnd_2", R.AUDITOR, None)),
    )
    assert actor.can(P.MODEL_DEPLOY, "env_prod")
    assert not actor.can(P.MODEL_DEPLOY, "env_dev")
    assert not actor.can(P.MODEL_DEPLOY)
    assert actor.can(P.MODEL_READ, "env_dev")  # tenant-wide auditor grant
    assert "model.deploy" not in actor.permissions()
