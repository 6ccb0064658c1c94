-- Governance read model: every dated fact the weights "as of D" need, so no state is kept
-- only as "current". `seq` is the event's position in the log (unique, ordered).

CREATE TABLE governance_coops (
    coop TEXT PRIMARY KEY,
    legal_form TEXT NOT NULL,
    fiscal_year_start_month INTEGER NOT NULL
);

CREATE TABLE governance_statutes (
    coop TEXT NOT NULL,
    seq BIGINT NOT NULL,
    effective_date TEXT NOT NULL,
    colleges_json TEXT NOT NULL,
    weighted INTEGER NOT NULL,
    reason TEXT,
    PRIMARY KEY (coop, seq)
);

CREATE TABLE governance_policies (
    coop TEXT NOT NULL,
    seq BIGINT NOT NULL,
    effective_date TEXT NOT NULL,
    require_fee_paid INTEGER NOT NULL,
    min_shares INTEGER NOT NULL,
    empty_college_policy TEXT NOT NULL,
    PRIMARY KEY (coop, seq)
);

CREATE TABLE governance_members (
    coop TEXT NOT NULL,
    member_id TEXT NOT NULL,
    name TEXT NOT NULL,
    admitted_on TEXT NOT NULL,
    left_on TEXT,
    left_as TEXT,
    PRIMARY KEY (coop, member_id)
);

CREATE TABLE governance_member_colleges (
    coop TEXT NOT NULL,
    member_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    effective_date TEXT NOT NULL,
    college TEXT NOT NULL,
    PRIMARY KEY (coop, member_id, seq)
);

CREATE TABLE governance_share_moves (
    coop TEXT NOT NULL,
    member_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    effective_date TEXT NOT NULL,
    shares BIGINT NOT NULL,
    PRIMARY KEY (coop, member_id, seq)
);

CREATE TABLE governance_fee_moves (
    coop TEXT NOT NULL,
    member_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    seq BIGINT NOT NULL,
    effective_date TEXT NOT NULL,
    called_cents BIGINT NOT NULL,
    paid_cents BIGINT NOT NULL,
    PRIMARY KEY (coop, member_id, year, seq)
);

CREATE TABLE resolutions (
    coop TEXT NOT NULL,
    resolution_id TEXT NOT NULL,
    title TEXT NOT NULL,
    assembly TEXT NOT NULL,
    vote_date TEXT NOT NULL,
    threshold TEXT NOT NULL,
    threshold_strict INTEGER NOT NULL,
    PRIMARY KEY (coop, resolution_id)
);

CREATE TABLE votes (
    coop TEXT NOT NULL,
    resolution_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    college TEXT NOT NULL,
    choice TEXT NOT NULL,
    PRIMARY KEY (coop, resolution_id, member_id)
);
