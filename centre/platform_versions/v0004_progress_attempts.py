"""Version 4: wrong identity proofs on case progress, counted per case (persisted limits).

Adds the table `progress_attempts` (a keyed hash of the case number, the wrong proofs in the
current window, and the lock); nothing existing changes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the table."""
    op.create_table("progress_attempts",
                    sa.Column("case_key", sa.String(64), primary_key=True),
                    sa.Column("failures", sa.Integer, nullable=False),
                    sa.Column("first_at", sa.String(32), nullable=False),
                    sa.Column("locked_until", sa.String(32)))
