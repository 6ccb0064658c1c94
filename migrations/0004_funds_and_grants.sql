-- Issue 3: success contributions, cooperation fund, calls for projects and grants, subsidies.
-- Portable SQL: dates are ISO text, amounts BIGINT cents, `seq` is the event's position in the log.

-- Pledges and their declared years (a cancelled declaration deletes its row).
CREATE TABLE contribution_pledges (
    coop TEXT NOT NULL,
    pledge_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    rate_percent TEXT NOT NULL,
    first_year INTEGER NOT NULL,
    years INTEGER NOT NULL,
    pledged_on TEXT NOT NULL,
    PRIMARY KEY (coop, pledge_id)
);

CREATE TABLE contribution_years (
    coop TEXT NOT NULL,
    pledge_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    result_cents BIGINT NOT NULL,
    called_cents BIGINT NOT NULL,
    paid_cents BIGINT NOT NULL,
    declared_on TEXT NOT NULL,
    PRIMARY KEY (coop, pledge_id, year)
);

-- Every dated movement of a pot (the cooperation fund 'fund', or 'subsidy:<id>'), reversals
-- included as negated rows: a pot's figures as of D are sums over effective_date <= D.
CREATE TABLE fund_movements (
    coop TEXT NOT NULL,
    seq BIGINT NOT NULL,
    source TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    kind TEXT NOT NULL,
    inflow_cents BIGINT NOT NULL,
    received_cents BIGINT NOT NULL,
    used_cents BIGINT NOT NULL,
    reserved_cents BIGINT NOT NULL,
    awarded_cents BIGINT NOT NULL,
    paid_cents BIGINT NOT NULL,
    PRIMARY KEY (coop, seq)
);

CREATE INDEX fund_movements_by_source ON fund_movements (coop, source, effective_date);

CREATE TABLE grant_calls (
    coop TEXT NOT NULL,
    call_id TEXT NOT NULL,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    envelope_cents BIGINT NOT NULL,
    min_award_cents BIGINT NOT NULL,
    max_award_cents BIGINT NOT NULL,
    max_laureates INTEGER NOT NULL,
    members_only INTEGER NOT NULL,
    opened_on TEXT NOT NULL,
    closed_on TEXT,
    PRIMARY KEY (coop, call_id)
);

CREATE TABLE grant_applications (
    coop TEXT NOT NULL,
    application_id TEXT NOT NULL,
    call_id TEXT NOT NULL,
    applicant TEXT NOT NULL,
    member_id TEXT,
    project TEXT NOT NULL,
    applied_on TEXT NOT NULL,
    awarded_cents BIGINT NOT NULL,
    withdrawn_cents BIGINT NOT NULL,
    paid_cents BIGINT NOT NULL,
    awarded_on TEXT,
    PRIMARY KEY (coop, application_id)
);

CREATE INDEX grant_applications_by_call ON grant_applications (coop, call_id);

CREATE TABLE subsidies (
    coop TEXT NOT NULL,
    subsidy_id TEXT NOT NULL,
    funder TEXT NOT NULL,
    purpose TEXT NOT NULL,
    granted_cents BIGINT NOT NULL,
    received_cents BIGINT NOT NULL,
    used_cents BIGINT NOT NULL,
    granted_on TEXT NOT NULL,
    PRIMARY KEY (coop, subsidy_id)
);
