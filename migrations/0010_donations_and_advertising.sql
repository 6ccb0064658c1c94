-- Issue 11: donations and crowdfunding (with dedicated funds for earmarked gifts), advertising.
-- Dates are ISO text, amounts BIGINT cents; `seq` is the event's position in the log.

-- Gifts: one row per donation or crowdfunding payout (gross, platform fee, net); a reversed gift
-- keeps its row with reversed_on set (its id is never reused).
CREATE TABLE donation_gifts (
    coop TEXT NOT NULL,
    gift_id TEXT NOT NULL,
    source TEXT NOT NULL,
    purpose TEXT,
    platform TEXT,
    campaign TEXT,
    received_on TEXT NOT NULL,
    gross_cents BIGINT NOT NULL,
    fee_cents BIGINT NOT NULL,
    journal_number BIGINT NOT NULL,
    reversed_on TEXT,
    PRIMARY KEY (coop, gift_id)
);

-- What each donor gave, line by line, for the tax receipts (donor_id NULL: anonymous backers of
-- a payout). A reversal adds the negated lines on its own date, as the journal does.
CREATE TABLE donation_lines (
    coop TEXT NOT NULL,
    seq BIGINT NOT NULL,
    line INTEGER NOT NULL,
    gift_id TEXT NOT NULL,
    donor_id TEXT,
    donor_name TEXT,
    donor_kind TEXT,
    donor_address TEXT,
    method TEXT NOT NULL,
    donated_on TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    PRIMARY KEY (coop, seq, line)
);

CREATE INDEX donation_lines_by_day ON donation_lines (coop, donated_on);

-- Dated movements of the dedicated funds of earmarked gifts: dedicated (in) and used (out),
-- reversals as negated rows. Unspent as of D = sums over effective_date <= D.
CREATE TABLE donation_fund_moves (
    coop TEXT NOT NULL,
    seq BIGINT NOT NULL,
    gift_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    kind TEXT NOT NULL,
    dedicated_cents BIGINT NOT NULL,
    used_cents BIGINT NOT NULL,
    PRIMARY KEY (coop, seq)
);

CREATE INDEX donation_fund_moves_by_gift ON donation_fund_moves (coop, gift_id, effective_date);

CREATE TABLE advertising_contracts (
    coop TEXT NOT NULL,
    contract_id TEXT NOT NULL,
    advertiser_id TEXT NOT NULL,
    advertiser_name TEXT NOT NULL,
    advertiser_kind TEXT NOT NULL,
    placement TEXT NOT NULL,
    period_kind TEXT NOT NULL,
    price_cents BIGINT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    signed_on TEXT NOT NULL,
    PRIMARY KEY (coop, contract_id)
);

-- Invoices standing now, one per invoiced period (a reversed invoice is deleted).
CREATE TABLE advertising_invoices (
    coop TEXT NOT NULL,
    contract_id TEXT NOT NULL,
    period TEXT NOT NULL,
    advertiser_id TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    paid_cents BIGINT NOT NULL,
    invoiced_on TEXT NOT NULL,
    PRIMARY KEY (coop, contract_id, period)
);

-- Dated movements (invoiced, paid) for revenue by month; reversals as negated rows on their date.
CREATE TABLE advertising_moves (
    coop TEXT NOT NULL,
    seq BIGINT NOT NULL,
    contract_id TEXT NOT NULL,
    period TEXT NOT NULL,
    advertiser_id TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    invoiced_cents BIGINT NOT NULL,
    paid_cents BIGINT NOT NULL,
    PRIMARY KEY (coop, seq)
);

CREATE INDEX advertising_moves_by_day ON advertising_moves (coop, effective_date);
