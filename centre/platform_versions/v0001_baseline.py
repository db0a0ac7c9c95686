"""Version 1: the schema `create_all` made before versions were kept (nothing to do).

A database found without a version table but with the platform's tables is stamped this.
"""

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing: the tables already exist."""
