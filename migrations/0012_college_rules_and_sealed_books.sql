-- Issue 11: the governance read side applies each college's own rules (SetCollegeRules), as the
-- write side does; and a cooperative sealed by a federation says so.

-- Each version of a college's own rules, dated; NULL means "the cooperative's rule applies".
CREATE TABLE governance_college_rules (
    coop TEXT NOT NULL,
    college TEXT NOT NULL,
    seq BIGINT NOT NULL,
    effective_date TEXT NOT NULL,
    require_fee_paid INTEGER,
    min_shares INTEGER,
    fee_schedule_json TEXT,
    PRIMARY KEY (coop, college, seq)
);

-- The federation a cooperative's books were sealed by, and from when (NULL: not sealed).
ALTER TABLE cooperatives ADD COLUMN federated_into TEXT;
ALTER TABLE cooperatives ADD COLUMN sealed_on TEXT;
