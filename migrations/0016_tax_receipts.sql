-- Tax receipts (reçus fiscaux): each receipt issued, the gifts it covers, and the cooperative's
-- dated declarations of eligibility (domain/tax_receipts.py). Dates are ISO text, amounts BIGINT
-- cents; `seq` is the event's position in the log.

-- One row per receipt, numbered <year>-<n> per cooperative and gift year. A corrected receipt
-- names the one it replaces (`corrects`), which gets `replaced_by`; a cancelled one `cancelled_on`.
-- donor_name and donor_address are identity columns: forgetting the donor replaces them.
CREATE TABLE tax_receipts (
    coop TEXT NOT NULL,
    receipt_number TEXT NOT NULL,
    year INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    donor_id TEXT NOT NULL,
    donor_name TEXT,
    donor_address TEXT,
    donor_kind TEXT NOT NULL,
    article TEXT NOT NULL,
    total_cents BIGINT NOT NULL,
    issued_on TEXT NOT NULL,
    issuer TEXT NOT NULL,
    corrects TEXT,
    replaced_by TEXT,
    cancelled_on TEXT,
    seq BIGINT NOT NULL,
    PRIMARY KEY (coop, receipt_number)
);

CREATE UNIQUE INDEX tax_receipts_by_year ON tax_receipts (coop, year, sequence);

-- The gifts each receipt covers (a crowdfunding backer's share of a payout is one gift line);
-- reversed_on is set when the gift is reversed, so a receipt still standing with such a line is
-- flagged for correction.
CREATE TABLE tax_receipt_gifts (
    coop TEXT NOT NULL,
    receipt_number TEXT NOT NULL,
    line INTEGER NOT NULL,
    gift_id TEXT NOT NULL,
    received_on TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    method TEXT NOT NULL,
    form TEXT NOT NULL,
    reversed_on TEXT,
    PRIMARY KEY (coop, receipt_number, line)
);

CREATE INDEX tax_receipt_gifts_by_gift ON tax_receipt_gifts (coop, gift_id);

-- Declarations of eligibility, each in force from its date until the next.
CREATE TABLE tax_receipt_eligibility (
    coop TEXT NOT NULL,
    seq BIGINT NOT NULL,
    effective_date TEXT NOT NULL,
    eligible INTEGER NOT NULL,
    basis TEXT,
    mission TEXT,
    address TEXT,
    place TEXT,
    reference TEXT,
    PRIMARY KEY (coop, seq)
);
