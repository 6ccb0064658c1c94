-- SEPA direct debit of membership fees (domain/sepa.py): mandates, batches and their items.
-- Dates are ISO text, amounts BIGINT cents.

-- One row per mandate; a revoked one keeps its row (its reference is never reused). The IBAN is
-- kept masked (country, check digits, last four characters): the full IBAN is only in the event,
-- sealed, and in the pain.008 file. masked_iban and bic are the member's identity: erased when the
-- member is forgotten.
CREATE TABLE sepa_mandates (
    coop TEXT NOT NULL,
    mandate_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    masked_iban TEXT,
    bic TEXT,
    signed_on TEXT NOT NULL,
    sequence TEXT NOT NULL,
    last_used_on TEXT,
    revoked_on TEXT,
    revoke_reason TEXT,
    PRIMARY KEY (coop, mandate_id)
);

CREATE INDEX sepa_mandates_by_member ON sepa_mandates (coop, member_id);

CREATE TABLE sepa_batches (
    coop TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    collection_date TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    total_cents BIGINT NOT NULL,
    collected_on TEXT,
    PRIMARY KEY (coop, batch_id)
);

-- Each item's status: issued, collected, returned (with the ISO 20022 reason code).
CREATE TABLE sepa_items (
    coop TEXT NOT NULL,
    end_to_end_id TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    line INTEGER NOT NULL,
    member_id TEXT NOT NULL,
    mandate_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    amount_cents BIGINT NOT NULL,
    sequence TEXT NOT NULL,
    status TEXT NOT NULL,
    collected_on TEXT,
    returned_on TEXT,
    reason_code TEXT,
    PRIMARY KEY (coop, end_to_end_id)
);

CREATE INDEX sepa_items_by_batch ON sepa_items (coop, batch_id, line);
