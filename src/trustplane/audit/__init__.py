"""Audit trail: every state change and every denied attempt leaves an event in the ledger."""

from trustplane.audit.events import AuditActor, Origin, Target, record

__all__ = ["AuditActor", "Origin", "Target", "record"]
