-- Fiscal years, the hash chain's head and the audit trail (issue 6).
-- projections/closing.py: fiscal_year_calendars, fiscal_years, chain_heads.
-- projections/audit_trail.py: audit_trail, audit_trail_accounts.
-- Portable SQL (SQLite and PostgreSQL): dates and times are ISO text, amounts BIGINT minor units.

-- Where each cooperative's fiscal year starts (from CooperativeFounded), to name an entry's year.
CREATE TABLE fiscal_year_calendars (
    coop TEXT PRIMARY KEY,
    start_month INTEGER NOT NULL
);

-- One row per fiscal year holding entries (or closed): open or closed, and the seal of a closing.
CREATE TABLE fiscal_years (
    coop TEXT NOT NULL,
    year INTEGER NOT NULL,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    entries BIGINT NOT NULL,
    status TEXT NOT NULL,
    result_cents BIGINT,
    closing_number BIGINT,
    closing_hash TEXT,
    head_number BIGINT,
    head_hash TEXT,
    closed_at TEXT,
    closed_by TEXT,
    PRIMARY KEY (coop, year)
);

-- The last link of each cooperative's hash chain.
CREATE TABLE chain_heads (
    coop TEXT PRIMARY KEY,
    last_number BIGINT NOT NULL,
    last_hash TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    position BIGINT NOT NULL
);

-- Every event: who (actor), when (recorded_at), under which idempotency key, why (reason).
CREATE TABLE audit_trail (
    position BIGINT PRIMARY KEY,
    coop TEXT NOT NULL,
    version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    actor TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    reason TEXT,
    journal_number BIGINT,
    reverses BIGINT,
    label TEXT
);

CREATE INDEX audit_trail_by_coop ON audit_trail (coop, position);

CREATE INDEX audit_trail_by_actor ON audit_trail (coop, actor, position);

-- The accounts each entry touches, so the trail can be filtered by account.
CREATE TABLE audit_trail_accounts (
    coop TEXT NOT NULL,
    account TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (coop, account, position)
);
