"""Version 3: bad-rating follow-up tasks, the send state of applicant notices, the demo log.

Adds the tables `followups` (one per real-name bad rating), `notice_sends` (one per notice to
send, its parameters sealed until sent) and `notice_log` (the log adapter's masked copies).
Notices kept before this version are not sent.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the three tables; nothing existing changes."""
    op.create_table("followups", sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("evaluation_key", sa.String(200), nullable=False, unique=True),
                    sa.Column("case_no", sa.String(64), nullable=False, index=True),
                    sa.Column("masked_name", sa.String(64), nullable=False),
                    sa.Column("level", sa.Integer, nullable=False),
                    sa.Column("opened_at", sa.String(32), nullable=False),
                    sa.Column("due_at", sa.String(32), nullable=False),
                    sa.Column("answered_at", sa.String(32)),
                    sa.Column("answered_by", sa.String(64)), sa.Column("note", sa.Text))
    op.create_table("notice_sends", sa.Column("notice_id", sa.Integer, primary_key=True),
                    sa.Column("case_no", sa.String(64), nullable=False),
                    sa.Column("template", sa.String(32), nullable=False),
                    sa.Column("params", sa.LargeBinary),
                    sa.Column("state", sa.String(10), nullable=False, index=True),
                    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
                    sa.Column("next_at", sa.String(32), nullable=False),
                    sa.Column("lease_until", sa.String(32)), sa.Column("sent_at", sa.String(32)),
                    sa.Column("gateway_ref", sa.String(128)), sa.Column("reason", sa.String(64)))
    op.create_table("notice_log",
                    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("notice_id", sa.Integer, nullable=False),
                    sa.Column("template", sa.String(32), nullable=False),
                    sa.Column("phone", sa.String(32), nullable=False),
                    sa.Column("text", sa.Text, nullable=False),
                    sa.Column("at", sa.String(32), nullable=False))
