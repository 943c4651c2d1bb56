"""The whole schema: imports every ORM model so the metadata is complete (for Alembic)."""

from trustplane.audit import models as audit_models
from trustplane.db import idempotency
from trustplane.db.base import Base
from trustplane.identity import models as identity_models
from trustplane.lineage import models as lineage_models
from trustplane.policy import models as policy_models
from trustplane.registry import models as registry_models

__all__ = [
    "Base",
    "audit_models",
    "idempotency",
    "identity_models",
    "lineage_models",
    "policy_models",
    "registry_models",
]
