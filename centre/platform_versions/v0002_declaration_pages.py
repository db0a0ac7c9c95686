"""Version 2: declaration page images are kept (sealed), and a message says how many it left.

Adds `messages.pages` (0 for every message received before) and the tables `page_images`
(one sealed image per keyed digest) and `declaration_pages` (a case's pages, in order).
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column and the two tables; existing rows keep their data."""
    op.add_column("messages", sa.Column("pages", sa.Integer, nullable=False, server_default="0"))
    op.create_table("page_images", sa.Column("digest", sa.String(64), primary_key=True),
                    sa.Column("media_type", sa.String(20), nullable=False),
                    sa.Column("size", sa.Integer, nullable=False),
                    sa.Column("sealed", sa.LargeBinary, nullable=False))
    op.create_table("declaration_pages", sa.Column("case_no", sa.String(64), primary_key=True),
                    sa.Column("position", sa.Integer, primary_key=True),
                    sa.Column("message_key", sa.String(200), nullable=False),
                    sa.Column("digest", sa.String(64), nullable=False))
