"""Who takes part in the demo: the tenants, the people and machines, and the roles they hold.

Each principal gets only the roles its job needs, so every step of the story is taken by
someone allowed to take it, and separation of duties holds: the principal that trains or
submits a version is never the one that signs it off.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from trustplane.client import TrustplaneClient

ACME = "acme-bank"
NORTHWIND = "northwind-insurance"
EMAIL_DOMAIN = "acme-bank.example"
ISSUE_LABEL = "demo"

Kind = Literal["user", "service_account"]


@dataclass(frozen=True, slots=True)
class Member:
    """A principal of the demo tenant and its bindings: (role, environment or None)."""

    name: str
    kind: Kind
    job: str
    roles: tuple[tuple[str, str | None], ...]


#: The people and machines of acme-bank, in the order they are created.
MEMBERS: tuple[Member, ...] = (
    Member("sara", "user", "data steward", (("data-steward", None),)),
    Member("felix", "user", "feature engineer", (("feature-engineer", None),)),
    Member("ci-training", "service_account", "CI job that trains", (("trainer", None),)),
    Member("vera", "user", "model validator", (("validator", None),)),
    Member("alice", "user", "release approver", (("release-approver", None),)),
    Member("bob", "user", "release approver", (("release-approver", None),)),
    Member("dimitri", "user", "deployer", (("deployer", None),)),
    Member("rosa", "user", "risk officer", (("risk-officer", None),)),
    Member("ci-checks", "service_account", "automated validation", (("validator", None),)),
    Member("release-bot", "service_account", "automatic sign-off", (("release-approver", None),)),
    Member("cd-deploy", "service_account", "CD job that deploys", (("deployer", None),)),
)

# The roles of the story, by the name of the member who plays them.
STEWARD, FEATURES, TRAINER, VALIDATOR = "sara", "felix", "ci-training", "vera"
APPROVER, SECOND_APPROVER, DEPLOYER, RISK = "alice", "bob", "dimitri", "rosa"
CHECKS, RELEASE_BOT, CD = "ci-checks", "release-bot", "cd-deploy"
ADMIN = "admin"


class Crew:
    """One SDK client per principal, all to the same server; closed together."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, str] = {}
        self._clients: dict[str, TrustplaneClient] = {}

    def join(self, name: str, token: str, principal_id: str | None = None) -> None:
        self.tokens[name] = token
        if principal_id is not None:
            self.ids[name] = principal_id

    def __getitem__(self, name: str) -> TrustplaneClient:
        """The client acting as ``name`` (its token must have been issued)."""
        if name not in self._clients:
            self._clients[name] = TrustplaneClient(self.url, self.tokens[name])
        return self._clients[name]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()


@contextmanager
def crew(url: str) -> Iterator[Crew]:
    group = Crew(url)
    try:
        yield group
    finally:
        group.close()


def enrol(admin: TrustplaneClient, crew: Crew) -> None:
    """The tenant admin creates every member, grants its roles and issues its token."""
    for member in MEMBERS:
        if member.kind == "user":
            principal = admin.create_user(
                member.name, display_name=member.name.title(), email=_email(member.name)
            )
        else:
            principal = admin.create_service_account(member.name, description=member.job)
        for role, environment in member.roles:
            admin.grant(principal.id, role, f"demo: {member.job}", environment=environment)
        issued = admin.create_token(ISSUE_LABEL, principal_id=principal.id)
        crew.join(member.name, issued.token, principal.id)


def reissue(admin: TrustplaneClient, crew: Crew) -> None:
    """Fresh tokens for the members that exist (the earlier ones were shown once only)."""
    wanted = {m.name for m in MEMBERS}
    for principal in admin.paginate(admin.list_principals):
        if principal.name in wanted and principal.disabled_at is None:
            issued = admin.create_token(ISSUE_LABEL, principal_id=principal.id)
            crew.join(principal.name, issued.token, principal.id)


def _email(name: str) -> str:
    return f"{name}@{EMAIL_DOMAIN}"
