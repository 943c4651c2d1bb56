"""Permissions (lifecycle verbs) and roles: a table in code, tested as a table.

A permission names one thing a principal may do. A role is a named set of permissions. Nothing
is allowed unless a binding of the principal to a role that holds the permission says so.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    # Platform
    TENANT_ADMIN = "tenant.admin"  # create and list all tenants (platform operators)
    # Identity and access
    TENANT_READ = "tenant.read"
    ENVIRONMENT_READ = "environment.read"
    ENVIRONMENT_WRITE = "environment.write"
    PRINCIPAL_READ = "principal.read"
    PRINCIPAL_WRITE = "principal.write"
    TOKEN_READ = "token.read"
    TOKEN_ISSUE = "token.issue"  # issue or revoke tokens for other principals
    ROLE_READ = "role.read"
    BINDING_READ = "binding.read"
    ACCESS_GRANT = "access.grant"  # grant or revoke ordinary roles
    ACCESS_ADMIN = "access.admin"  # also sensitive roles; OIDC trust set-up
    ACCESS_REVIEW = "access.review"
    OIDC_READ = "oidc.read"
    # Registry and lineage
    DATASET_READ = "dataset.read"
    DATASET_REGISTER = "dataset.register"
    DATASET_APPROVE = "dataset.approve"
    DATASET_FLAG = "dataset.flag"
    FEATURE_READ = "feature.read"
    FEATURE_DEFINE = "feature.define"
    FEATURE_REVIEW = "feature.review"
    FEATURE_DEPRECATE = "feature.deprecate"
    RUN_READ = "run.read"
    RUN_RECORD = "run.record"
    MODEL_READ = "model.read"
    MODEL_REGISTER = "model.register"
    MODEL_SUBMIT = "model.submit"
    MODEL_VALIDATE = "model.validate"
    MODEL_APPROVE = "model.approve"
    MODEL_REJECT = "model.reject"
    MODEL_PROMOTE = "model.promote"
    MODEL_DEPLOY = "model.deploy"
    MODEL_ROLLBACK = "model.rollback"
    MODEL_DEPRECATE = "model.deprecate"
    MODEL_RETIRE = "model.retire"
    MODEL_SUSPEND = "model.suspend"
    MODEL_REINSTATE = "model.reinstate"
    LINEAGE_READ = "lineage.read"
    LINEAGE_WRITE = "lineage.write"
    # Monitoring
    MONITOR_READ = "monitor.read"
    MONITOR_WRITE = "monitor.write"
    # Policy
    POLICY_READ = "policy.read"
    POLICY_WRITE = "policy.write"
    POLICY_APPROVE = "policy.approve"
    DECISION_READ = "decision.read"
    WAIVER_READ = "waiver.read"
    WAIVER_REQUEST = "waiver.request"
    WAIVER_APPROVE = "waiver.approve"
    # Evidence and audit
    EVIDENCE_READ = "evidence.read"
    EVIDENCE_EXPORT = "evidence.export"
    AUDIT_READ = "audit.read"
    AUDIT_CHECKPOINT = "audit.checkpoint"
    AUDIT_EXPORT = "audit.export"


class Role(StrEnum):
    PLATFORM_ADMIN = "platform-admin"
    TENANT_ADMIN = "tenant-admin"
    ACCESS_MANAGER = "access-manager"
    DATA_STEWARD = "data-steward"
    FEATURE_ENGINEER = "feature-engineer"
    TRAINER = "trainer"
    VALIDATOR = "validator"
    RELEASE_APPROVER = "release-approver"
    DEPLOYER = "deployer"
    RISK_OFFICER = "risk-officer"
    AUDITOR = "auditor"


P = Permission

#: Every permission that only reads. The auditor holds exactly these (plus access review);
#: none of them exposes a secret (token hashes and signing keys are never served by any route).
READ_PERMISSIONS: frozenset[Permission] = frozenset(
    p for p in Permission if p.value.endswith(".read")
)

_CATALOGUE_READ = frozenset(
    {P.TENANT_READ, P.ENVIRONMENT_READ, P.ROLE_READ, P.DATASET_READ, P.FEATURE_READ}
)
_REGISTRY_READ = frozenset(
    {P.RUN_READ, P.MODEL_READ, P.LINEAGE_READ, P.DECISION_READ, P.POLICY_READ, P.WAIVER_READ}
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PLATFORM_ADMIN: frozenset({P.TENANT_ADMIN, P.TENANT_READ}),
    Role.TENANT_ADMIN: READ_PERMISSIONS
    | frozenset(
        {
            P.ENVIRONMENT_WRITE,
            P.PRINCIPAL_WRITE,
            P.TOKEN_ISSUE,
            P.ACCESS_GRANT,
            P.ACCESS_ADMIN,
            P.ACCESS_REVIEW,
            P.POLICY_WRITE,
            P.AUDIT_CHECKPOINT,
            P.AUDIT_EXPORT,
        }
    ),
    Role.ACCESS_MANAGER: frozenset(
        {
            P.TENANT_READ,
            P.ENVIRONMENT_READ,
            P.PRINCIPAL_READ,
            P.PRINCIPAL_WRITE,
            P.TOKEN_READ,
            P.ROLE_READ,
            P.BINDING_READ,
            P.ACCESS_GRANT,
            P.ACCESS_REVIEW,
        }
    ),
    Role.DATA_STEWARD: _CATALOGUE_READ
    | _REGISTRY_READ
    | frozenset({P.DATASET_REGISTER, P.DATASET_APPROVE, P.DATASET_FLAG, P.LINEAGE_WRITE}),
    Role.FEATURE_ENGINEER: _CATALOGUE_READ
    | _REGISTRY_READ
    | frozenset({P.FEATURE_DEFINE, P.FEATURE_DEPRECATE, P.LINEAGE_WRITE}),
    Role.TRAINER: _CATALOGUE_READ
    | _REGISTRY_READ
    | frozenset(
        {P.RUN_RECORD, P.MODEL_REGISTER, P.MODEL_SUBMIT, P.LINEAGE_WRITE, P.WAIVER_REQUEST}
    ),
    Role.VALIDATOR: _CATALOGUE_READ
    | _REGISTRY_READ
    | frozenset({P.MODEL_VALIDATE, P.MODEL_REJECT, P.FEATURE_REVIEW, P.MONITOR_READ}),
    Role.RELEASE_APPROVER: _CATALOGUE_READ
    | _REGISTRY_READ
    | frozenset({P.MODEL_APPROVE, P.MODEL_REJECT, P.EVIDENCE_READ}),
    Role.DEPLOYER: _CATALOGUE_READ
    | _REGISTRY_READ
    | frozenset(
        {P.MODEL_PROMOTE, P.MODEL_DEPLOY, P.MODEL_ROLLBACK, P.MONITOR_READ, P.WAIVER_REQUEST}
    ),
    Role.RISK_OFFICER: _CATALOGUE_READ
    | _REGISTRY_READ
    | frozenset(
        {
            P.WAIVER_APPROVE,
            P.MODEL_SUSPEND,
            P.MODEL_REINSTATE,
            P.MODEL_DEPRECATE,
            P.MODEL_RETIRE,
            P.MONITOR_READ,
            P.MONITOR_WRITE,
            P.POLICY_APPROVE,
            P.EVIDENCE_READ,
            P.EVIDENCE_EXPORT,
            P.AUDIT_READ,
            P.ACCESS_REVIEW,
        }
    ),
    Role.AUDITOR: READ_PERMISSIONS | {P.ACCESS_REVIEW},
}

#: Roles whose grant needs ``access.admin`` rather than ``access.grant``: they either approve
#: releases and waivers (separation of duties) or administer access itself.
SENSITIVE_ROLES: frozenset[Role] = frozenset(
    {Role.RELEASE_APPROVER, Role.RISK_OFFICER, Role.TENANT_ADMIN, Role.PLATFORM_ADMIN}
)

#: Roles that may only be bound for the whole tenant, never one environment.
TENANT_WIDE_ROLES: frozenset[Role] = frozenset(
    {Role.PLATFORM_ADMIN, Role.TENANT_ADMIN, Role.ACCESS_MANAGER, Role.AUDITOR}
)

ROLE_DESCRIPTIONS: dict[Role, str] = {
    Role.PLATFORM_ADMIN: "Creates tenants and lists every tenant of the installation.",
    Role.TENANT_ADMIN: "Administers one tenant: environments, principals, access, policy.",
    Role.ACCESS_MANAGER: "Manages principals and grants ordinary (non-sensitive) roles.",
    Role.DATA_STEWARD: "Registers, approves and flags datasets.",
    Role.FEATURE_ENGINEER: "Defines and deprecates feature versions.",
    Role.TRAINER: "Records training runs, registers and submits model versions.",
    Role.VALIDATOR: "Validates or rejects candidate model versions; reviews features.",
    Role.RELEASE_APPROVER: "Signs off model versions for release.",
    Role.DEPLOYER: "Promotes, deploys and rolls back approved versions.",
    Role.RISK_OFFICER: "Approves waivers, suspends and reinstates models, reads the audit trail.",
    Role.AUDITOR: "Reads everything, including the audit trail; changes nothing; sees no secret.",
}


def permissions_of(role: Role) -> frozenset[Permission]:
    return ROLE_PERMISSIONS[role]
