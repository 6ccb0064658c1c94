-- Issue 3, income families: subscriptions, certifications, platform levy.
-- Dates are ISO text, amounts BIGINT cents, rates exact fractions as text ("1/20").
-- `seq` is the event's position in the log: dated moves keyed by it give any as-of figure.

CREATE TABLE subscription_plans (
    coop TEXT NOT NULL,
    plan_id TEXT NOT NULL,
    name TEXT NOT NULL,
    plan_kind TEXT NOT NULL,
    period TEXT NOT NULL,
    fixed_cents BIGINT NOT NULL,
    revenue_rate TEXT NOT NULL,
    defined_on TEXT NOT NULL,
    PRIMARY KEY (coop, plan_id)
);

CREATE TABLE subscriptions (
    coop TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    plan_id TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT,
    cancel_reason TEXT,
    PRIMARY KEY (coop, subscription_id)
);

-- Bills standing now (a reversed bill is deleted; its period may be billed again).
CREATE TABLE subscription_bills (
    coop TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    period TEXT NOT NULL,
    member_id TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    billed_on TEXT NOT NULL,
    declared_revenue_cents BIGINT,
    fixed_cents BIGINT NOT NULL,
    revenue_share_cents BIGINT NOT NULL,
    amount_cents BIGINT NOT NULL,
    paid_cents BIGINT NOT NULL,
    PRIMARY KEY (coop, subscription_id, period)
);

-- Every bill, payment and reversal as a dated move: what was owed on any date.
CREATE TABLE subscription_moves (
    coop TEXT NOT NULL,
    seq BIGINT NOT NULL,
    subscription_id TEXT NOT NULL,
    period TEXT NOT NULL,
    member_id TEXT NOT NULL,
    day TEXT NOT NULL,
    billed_cents BIGINT NOT NULL,
    paid_cents BIGINT NOT NULL,
    PRIMARY KEY (coop, seq)
);

CREATE TABLE certification_terms (
    coop TEXT NOT NULL,
    seq BIGINT NOT NULL,
    effective_date TEXT NOT NULL,
    fee_cents BIGINT NOT NULL,
    validity_months INTEGER NOT NULL,
    renewal_window_days INTEGER NOT NULL,
    PRIMARY KEY (coop, seq)
);

-- Certifications standing now: valid on D when granted_on <= D < expires_on and not revoked by D.
CREATE TABLE certifications (
    coop TEXT NOT NULL,
    certification_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    granted_on TEXT NOT NULL,
    expires_on TEXT NOT NULL,
    revoked_on TEXT,
    revocation_reason TEXT,
    renewals INTEGER NOT NULL,
    billed_cents BIGINT NOT NULL,
    paid_cents BIGINT NOT NULL,
    PRIMARY KEY (coop, certification_id)
);

CREATE INDEX certifications_by_member ON certifications (coop, member_id);

-- Each fee billed (grant or renewal) and the days it pays for, for the deferred-income cut-off.
CREATE TABLE certification_fees (
    coop TEXT NOT NULL,
    seq BIGINT NOT NULL,
    certification_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    billed_on TEXT NOT NULL,
    fee_cents BIGINT NOT NULL,
    covers_from TEXT NOT NULL,
    covers_until TEXT NOT NULL,
    revoked_on TEXT,
    reversed_on TEXT,
    PRIMARY KEY (coop, seq)
);

CREATE TABLE courses (
    coop TEXT NOT NULL,
    course_id TEXT NOT NULL,
    title TEXT NOT NULL,
    author_id TEXT NOT NULL,
    levy_rate TEXT NOT NULL,
    declared_on TEXT NOT NULL,
    contributions BIGINT NOT NULL,
    collected_cents BIGINT NOT NULL,
    levy_cents BIGINT NOT NULL,
    author_share_cents BIGINT NOT NULL,
    PRIMARY KEY (coop, course_id)
);

-- Contributions collected, payouts and reversals as dated moves per author.
CREATE TABLE levy_moves (
    coop TEXT NOT NULL,
    seq BIGINT NOT NULL,
    author_id TEXT NOT NULL,
    course_id TEXT,
    day TEXT NOT NULL,
    collected_cents BIGINT NOT NULL,
    levy_cents BIGINT NOT NULL,
    author_share_cents BIGINT NOT NULL,
    paid_out_cents BIGINT NOT NULL,
    PRIMARY KEY (coop, seq)
);
