"""The whole schema: imports every ORM model so the metadata is complete (for Alembic)."""

from trustplane.audit import models as audit_models
from trustplane.db import idempotency
from trustplane.db.base import Base
from trustplane.identity import models as identity_models

__all__ = ["Base", "audit_models", "idempotency", "identity_models"]
