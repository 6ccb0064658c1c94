-- Issue 8: reads that stay as fast with 10 million postings in history as with 10,000.
-- account_balances_by_day keeps one row per account, party, unit and day: a trial balance as of
-- a date summed every member's row of every day before it, so it grew with the history.
-- These two tables hold the same sums without the party: per day, and per month ('YYYY-MM').
-- An as-of read adds the months before the date's month and the days of that month up to the
-- date: at most (months of history + 31) rows per account, whatever the number of postings.
-- Both are kept by BalancesProjection in the same transaction as account_balances_by_day.

CREATE TABLE account_totals_by_day (
    coop TEXT NOT NULL,
    account TEXT NOT NULL,
    unit TEXT NOT NULL,
    day TEXT NOT NULL,
    debit BIGINT NOT NULL,
    credit BIGINT NOT NULL,
    PRIMARY KEY (coop, account, unit, day)
);

CREATE TABLE account_totals_by_month (
    coop TEXT NOT NULL,
    account TEXT NOT NULL,
    unit TEXT NOT NULL,
    month TEXT NOT NULL,
    debit BIGINT NOT NULL,
    credit BIGINT NOT NULL,
    PRIMARY KEY (coop, account, unit, month)
);

-- Stores that already have balances: the totals from the rows already there.
INSERT INTO account_totals_by_day (coop, account, unit, day, debit, credit)
SELECT coop, account, unit, day, SUM(debit), SUM(credit) FROM account_balances_by_day GROUP BY coop, account, unit, day;

INSERT INTO account_totals_by_month (coop, account, unit, month, debit, credit)
SELECT coop, account, unit, SUBSTR(day, 1, 7), SUM(debit), SUM(credit) FROM account_totals_by_day
GROUP BY coop, account, unit, SUBSTR(day, 1, 7);

-- Statistics for the planner now (this PostgreSQL may run without autovacuum, so tables are
-- never analysed by themselves). The event table is analysed by the runner after a rebuild
-- (its name differs between the stores).
ANALYZE account_balances_by_day;
ANALYZE account_totals_by_day;
ANALYZE account_totals_by_month;
