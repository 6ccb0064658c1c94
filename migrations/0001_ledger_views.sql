-- Read tables of the ledger core. Portable SQL (SQLite and PostgreSQL): dates are ISO text,
-- amounts are BIGINT minor units, a posting without a party has party = ''.

CREATE TABLE projection_positions (
    projection TEXT PRIMARY KEY,
    position BIGINT NOT NULL
);

CREATE TABLE cooperatives (
    coop TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    legal_form TEXT NOT NULL,
    siren TEXT,
    founded_on TEXT NOT NULL,
    fiscal_year_start_month INTEGER NOT NULL,
    share_value_cents BIGINT,
    colleges_json TEXT NOT NULL,
    fee_schedule_json TEXT NOT NULL
);

CREATE TABLE accounts (
    coop TEXT NOT NULL,
    number TEXT NOT NULL,
    label_fr TEXT NOT NULL,
    label_en TEXT NOT NULL,
    PRIMARY KEY (coop, number)
);

CREATE TABLE members (
    coop TEXT NOT NULL,
    member_id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    college TEXT NOT NULL,
    headcount INTEGER NOT NULL,
    admitted_on TEXT NOT NULL,
    status TEXT NOT NULL,
    left_on TEXT,
    shares BIGINT NOT NULL,
    PRIMARY KEY (coop, member_id)
);

CREATE TABLE fee_calls (
    coop TEXT NOT NULL,
    member_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    called_cents BIGINT NOT NULL,
    paid_cents BIGINT NOT NULL,
    called_on TEXT NOT NULL,
    -- The latest effective date among the payments: a back-dated payment recorded last
    -- must not move fully_paid_on before a later-dated one.
    last_paid_on TEXT,
    fully_paid_on TEXT,
    PRIMARY KEY (coop, member_id, year)
);

CREATE TABLE journal_entries (
    coop TEXT NOT NULL,
    number BIGINT NOT NULL,
    kind TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    label TEXT NOT NULL,
    actor TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    reverses BIGINT,
    reversed_by BIGINT,
    chain_hash TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (coop, number)
);

CREATE TABLE journal_lines (
    coop TEXT NOT NULL,
    number BIGINT NOT NULL,
    line INTEGER NOT NULL,
    account TEXT NOT NULL,
    party TEXT NOT NULL,
    unit TEXT NOT NULL,
    amount BIGINT NOT NULL,
    effective_date TEXT NOT NULL,
    PRIMARY KEY (coop, number, line)
);

CREATE INDEX journal_lines_by_account ON journal_lines (coop, account, party, unit, effective_date, number);

-- Per account, party, unit and day: as-of balances sum days, never scan every posting.
CREATE TABLE account_balances_by_day (
    coop TEXT NOT NULL,
    account TEXT NOT NULL,
    party TEXT NOT NULL,
    unit TEXT NOT NULL,
    day TEXT NOT NULL,
    debit BIGINT NOT NULL,
    credit BIGINT NOT NULL,
    PRIMARY KEY (coop, account, party, unit, day)
);
