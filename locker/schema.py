"""The locker database schema, one migration per version (SQLite `user_version`).

Invariants live in the schema where SQLite can hold them: one item inside a compartment at a
time, one unfinished opening per compartment, one live row per pickup code, one active alarm
per type and place, and an audit table that refuses UPDATE and DELETE.
"""

from __future__ import annotations

_V1 = """
CREATE TABLE compartments (
    id TEXT PRIMARY KEY,
    unit INTEGER NOT NULL,
    channel INTEGER NOT NULL,
    size TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    state TEXT NOT NULL DEFAULT 'empty',
    updated_at TEXT NOT NULL
);
CREATE TABLE items (
    id TEXT PRIMARY KEY,
    case_no TEXT NOT NULL,
    compartment_id TEXT NOT NULL REFERENCES compartments(id),
    state TEXT NOT NULL,
    applicant_hash TEXT NOT NULL,
    masked_id TEXT NOT NULL,
    masked_name TEXT NOT NULL,
    phone_hash TEXT NOT NULL,
    masked_phone TEXT NOT NULL,
    deposited_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    deposited_at TEXT,
    expires_at TEXT,
    closed_at TEXT
);
CREATE UNIQUE INDEX items_one_per_compartment ON items(compartment_id)
    WHERE state IN ('depositing', 'stored', 'releasing', 'expired', 'held');
CREATE INDEX items_state_expiry ON items(state, expires_at);
CREATE TABLE intents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    compartment_id TEXT NOT NULL REFERENCES compartments(id),
    item_id TEXT REFERENCES items(id),
    actor TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT 'pending',
    outcome_at TEXT,
    completed_at TEXT,
    resolution TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX intents_one_active ON intents(compartment_id) WHERE completed_at IS NULL;
CREATE TABLE pickup_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL REFERENCES items(id),
    code_hash TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    consumed_at TEXT,
    consumed_by INTEGER REFERENCES intents(id),
    voided_at TEXT
);
CREATE UNIQUE INDEX pickup_codes_live ON pickup_codes(code_hash)
    WHERE consumed_at IS NULL AND voided_at IS NULL;
CREATE INDEX pickup_codes_item ON pickup_codes(item_id);
CREATE TABLE alarms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    severity TEXT NOT NULL,
    compartment_id TEXT,
    unit INTEGER,
    raised_at TEXT NOT NULL,
    cleared_at TEXT,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX alarms_one_active
    ON alarms(type, coalesce(compartment_id, ''), coalesce(unit, 0)) WHERE cleared_at IS NULL;
CREATE TABLE staff_tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    compartment_id TEXT,
    item_id TEXT REFERENCES items(id),
    intent_id INTEGER REFERENCES intents(id),
    message TEXT NOT NULL,
    created_at TEXT NOT NULL,
    resolved_at TEXT,
    resolved_by TEXT NOT NULL DEFAULT ''
);
CREATE TABLE notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL REFERENCES items(id),
    kind TEXT NOT NULL,
    due_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    UNIQUE (item_id, kind, due_at)
);
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    compartment TEXT,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    seal TEXT NOT NULL
);
"""

# V2: proxy collectors named on a case; receipts used for pickups (one row per receipt and item,
# consumed with the pickup intent); wrong-attempt counters and lock-outs (scopes are keyed hashes
# or `terminal`, never a code or a person); enrolled staff (badge and PIN hashed).
_V2 = """
CREATE TABLE item_proxies (
    item_id TEXT PRIMARY KEY REFERENCES items(id),
    proxy_hash TEXT NOT NULL,
    masked_id TEXT NOT NULL,
    masked_name TEXT NOT NULL
);
CREATE TABLE receipt_uses (
    jti TEXT NOT NULL,
    item_id TEXT NOT NULL REFERENCES items(id),
    case_no TEXT NOT NULL,
    intent_id INTEGER NOT NULL REFERENCES intents(id),
    used_at TEXT NOT NULL,
    PRIMARY KEY (jti, item_id)
);
CREATE INDEX receipt_uses_intent ON receipt_uses(intent_id);
CREATE INDEX items_case ON items(case_no);
CREATE TABLE attempt_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX attempt_failures_scope ON attempt_failures(scope, at);
CREATE TABLE attempt_locks (
    scope TEXT PRIMARY KEY,
    until TEXT NOT NULL
);
CREATE TABLE staff (
    staff_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    badge_hash TEXT NOT NULL UNIQUE,
    pin_hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""

# V3: the platform outbox (DESIGN §3, §7): one row per message, sealed body (AES-GCM, see
# sealing.py), attachments beside it; kept until acknowledged, rejected ones kept and flagged.
# Who collected a pickup (applicant or proxy), and the delivery receipts (送达回执) written when
# a pickup completes.
_V3 = """
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    case_no TEXT NOT NULL,
    body BLOB NOT NULL,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'delivered', 'rejected')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    done_at TEXT
);
CREATE INDEX outbox_pending ON outbox(case_no, seq) WHERE state = 'pending';
CREATE TABLE outbox_attachments (
    seq INTEGER NOT NULL REFERENCES outbox(seq),
    idx INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (seq, idx)
);
CREATE TABLE pickup_collectors (
    intent_id INTEGER PRIMARY KEY REFERENCES intents(id),
    collector TEXT NOT NULL
);
CREATE TABLE delivery_receipts (
    item_id TEXT PRIMARY KEY REFERENCES items(id),
    case_no TEXT NOT NULL,
    method TEXT NOT NULL,
    recipient_masked_name TEXT NOT NULL,
    proxy_masked_name TEXT NOT NULL DEFAULT '',
    delivered_at TEXT NOT NULL,
    terminal_id TEXT NOT NULL,
    compartment_id TEXT NOT NULL
);
CREATE INDEX delivery_receipts_case ON delivery_receipts(case_no, delivered_at);
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3)
"""Migration i brings the database from user_version i to i + 1; never edit a released one."""

SCHEMA_VERSION = len(MIGRATIONS)
