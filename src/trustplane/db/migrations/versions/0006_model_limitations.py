"""Models: known limitations, as entered at registration (for the model card)

Revision ID: 0006_model_limitations
Revises: 0005_policy
Create Date: 2026-11-23
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_model_limitations"
down_revision = "0005_policy"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    # Models registered before this revision stated no limitations: an empty list, which the
    # model card shows as "not recorded". The server default fills existing rows on both
    # backends; the application always writes the column itself.
    op.add_column(
        "models",
        sa.Column("limitations", _json(), nullable=False, server_default=sa.text("'[]'")),
    )


def downgrade() -> None:
    op.drop_column("models", "limitations")
