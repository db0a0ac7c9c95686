"""The reference platform's tables (SQLAlchemy Core), as of the newest schema version.

`centre.platform_migrations` brings an existing database up to this shape (Alembic revisions
in `centre/platform_versions/`); a new database is created from it directly. A change here
needs a new revision there.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, Text

metadata = MetaData()
meta = Table("meta", metadata, Column("key", String(64), primary_key=True),
             Column("value", Text, nullable=False))
guides = Table("guides", metadata, Column("item_code", String(64), primary_key=True),
               Column("position", Integer, nullable=False), Column("body", Text, nullable=False),
               Column("digest", String(64), nullable=False),
               Column("updated_at", String(32), nullable=False, index=True))
cases = Table("cases", metadata, Column("case_no", String(64), primary_key=True),
              Column("state", String(20), nullable=False, index=True),
              Column("progress", Text, nullable=False),  # CaseProgress, wire JSON
              Column("id_hash", String(64), nullable=False),
              Column("last6_hash", String(64), nullable=False),
              Column("proxy_id_hash", String(64)), Column("proxy_last6_hash", String(64)),
              Column("sealed_people", LargeBinary), Column("size_hint", String(2), nullable=False),
              Column("source", String(250), nullable=False),
              Column("updated_at", String(32), nullable=False))
messages = Table("messages", metadata, Column("seq", Integer, primary_key=True, autoincrement=True),
                 Column("key", String(200), nullable=False, unique=True),
                 Column("terminal_id", String(64), nullable=False),
                 Column("kind", String(20), nullable=False),
                 Column("case_no", String(64), nullable=False, index=True),
                 Column("body", Text, nullable=False),  # ID numbers dropped, names masked
                 Column("attachments", Integer, nullable=False),
                 Column("content", String(64), nullable=False),  # keyed digest: repeats match
                 Column("created_at", String(32), nullable=False),
                 Column("received_at", String(32), nullable=False),
                 # version 2: page images kept from the attachments (declaration_pages)
                 Column("pages", Integer, nullable=False, server_default="0"))
delivery_receipts = Table("delivery_receipts", metadata,
                          Column("case_no", String(64), primary_key=True),
                          Column("message_key", String(200), nullable=False),
                          Column("body", Text, nullable=False))
evaluations = Table("evaluations", metadata, Column("key", String(200), primary_key=True),
                    Column("case_no", String(64), nullable=False, index=True),
                    Column("level", Integer, nullable=False),
                    Column("comment", Text, nullable=False),
                    Column("at", String(32), nullable=False))
notices = Table("notices", metadata, Column("id", Integer, primary_key=True, autoincrement=True),
                Column("case_no", String(64), nullable=False, index=True),
                Column("kind", String(20), nullable=False), Column("text", Text, nullable=False),
                Column("token", Text), Column("at", String(32), nullable=False))
# version 2: a declaration's document images, sealed, each stored once by its keyed digest
page_images = Table("page_images", metadata, Column("digest", String(64), primary_key=True),
                    Column("media_type", String(20), nullable=False),
                    Column("size", Integer, nullable=False),
                    Column("sealed", LargeBinary, nullable=False))
declaration_pages = Table("declaration_pages", metadata,
                          Column("case_no", String(64), primary_key=True),
                          Column("position", Integer, primary_key=True),
                          Column("message_key", String(200), nullable=False),
                          Column("digest", String(64), nullable=False))
# version 3: bad-rating follow-up tasks (centre.followup) and applicant notices sent through a
# port (centre.notice_queue: the send state, the notice's parameters sealed until sent;
# centre.notice_log: what the demo adapter "sent", masked)
followups = Table("followups", metadata,
                  Column("id", Integer, primary_key=True, autoincrement=True),
                  Column("evaluation_key", String(200), nullable=False, unique=True),
                  Column("case_no", String(64), nullable=False, index=True),
                  Column("masked_name", String(64), nullable=False),
                  Column("level", Integer, nullable=False),
                  Column("opened_at", String(32), nullable=False),
                  Column("due_at", String(32), nullable=False),
                  Column("answered_at", String(32)), Column("answered_by", String(64)),
                  Column("note", Text))
notice_sends = Table("notice_sends", metadata, Column("notice_id", Integer, primary_key=True),
                     Column("case_no", String(64), nullable=False),
                     Column("template", String(32), nullable=False),
                     Column("params", LargeBinary),  # sealed; cleared once sent
                     Column("state", String(10), nullable=False, index=True),
                     Column("attempts", Integer, nullable=False, server_default="0"),
                     Column("next_at", String(32), nullable=False),
                     Column("lease_until", String(32)), Column("sent_at", String(32)),
                     Column("gateway_ref", String(128)), Column("reason", String(64)))
notice_log = Table("notice_log", metadata,
                   Column("id", Integer, primary_key=True, autoincrement=True),
                   Column("notice_id", Integer, nullable=False),
                   Column("template", String(32), nullable=False),
                   Column("phone", String(32), nullable=False),  # masked
                   Column("text", Text, nullable=False),  # rendered, codes masked
                   Column("at", String(32), nullable=False))
# version 4: wrong identity proofs on case progress, per case (centre.progress_limits)
progress_attempts = Table("progress_attempts", metadata,
                          Column("case_key", String(64), primary_key=True),  # keyed hash
                          Column("failures", Integer, nullable=False),
                          Column("first_at", String(32), nullable=False),
                          Column("locked_until", String(32)))
