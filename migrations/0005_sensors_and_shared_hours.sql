-- Issue 3: sensor reward credits (CREDIT, minor unit 1/100 credit) and shared-employee hours
-- (HOUR, minor unit minute). Portable SQL: dates and months are ISO text, amounts BIGINT minor
-- units, rates exact decimal or fraction text. `seq` is the event's position in the log.

CREATE TABLE sensor_terms (
    coop TEXT NOT NULL,
    seq BIGINT NOT NULL,
    effective_date TEXT NOT NULL,
    credit_rate TEXT NOT NULL,
    daily_cap_minor BIGINT NOT NULL,
    money_rate TEXT NOT NULL,
    service_rate TEXT NOT NULL,
    PRIMARY KEY (coop, seq)
);

CREATE TABLE sensors (
    coop TEXT NOT NULL,
    sensor_id TEXT NOT NULL,
    host_id TEXT NOT NULL,
    quantity TEXT NOT NULL,
    registered_on TEXT NOT NULL,
    retired_on TEXT,
    PRIMARY KEY (coop, sensor_id)
);

-- Running totals per sensor, per host and per day of readings, summed per batch of events
-- (one upsert per key and batch, not one per event: this family is the high-volume one).
CREATE TABLE sensor_totals (
    coop TEXT NOT NULL,
    sensor_id TEXT NOT NULL,
    periods BIGINT NOT NULL,
    readings BIGINT NOT NULL,
    credits_minor BIGINT NOT NULL,
    PRIMARY KEY (coop, sensor_id)
);

CREATE TABLE sensor_hosts (
    coop TEXT NOT NULL,
    host_id TEXT NOT NULL,
    earned_minor BIGINT NOT NULL,
    redeemed_service_minor BIGINT NOT NULL,
    redeemed_money_minor BIGINT NOT NULL,
    paid_cents BIGINT NOT NULL,
    PRIMARY KEY (coop, host_id)
);

CREATE TABLE sensor_days (
    coop TEXT NOT NULL,
    day TEXT NOT NULL,
    periods BIGINT NOT NULL,
    readings BIGINT NOT NULL,
    credits_minor BIGINT NOT NULL,
    PRIMARY KEY (coop, day)
);

CREATE TABLE sensor_redemptions (
    coop TEXT NOT NULL,
    number BIGINT NOT NULL,
    host_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    credits_minor BIGINT NOT NULL,
    amount_cents BIGINT NOT NULL,
    service TEXT,
    reversed_by BIGINT,
    PRIMARY KEY (coop, number)
);

CREATE TABLE shared_minimum_rates (
    coop TEXT NOT NULL,
    seq BIGINT NOT NULL,
    effective_date TEXT NOT NULL,
    hourly_rate_cents BIGINT NOT NULL,
    PRIMARY KEY (coop, seq)
);

CREATE TABLE shared_employees (
    coop TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    name TEXT NOT NULL,
    hourly_pay_cents BIGINT NOT NULL,
    engaged_on TEXT NOT NULL,
    PRIMARY KEY (coop, employee_id)
);

CREATE TABLE shared_hours (
    coop TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    structure_id TEXT NOT NULL,
    period TEXT NOT NULL,
    logged_minutes BIGINT NOT NULL,
    PRIMARY KEY (coop, employee_id, structure_id, period)
);

CREATE TABLE shared_rebills (
    coop TEXT NOT NULL,
    number BIGINT NOT NULL,
    employee_id TEXT NOT NULL,
    period TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    minutes BIGINT NOT NULL,
    gross_pay_cents BIGINT NOT NULL,
    employer_charges_cents BIGINT NOT NULL,
    expenses_cents BIGINT NOT NULL,
    cost_cents BIGINT NOT NULL,
    hourly_cost_rate TEXT NOT NULL,
    reversed_by BIGINT,
    PRIMARY KEY (coop, number)
);

CREATE TABLE shared_rebill_lines (
    coop TEXT NOT NULL,
    number BIGINT NOT NULL,
    structure_id TEXT NOT NULL,
    minutes BIGINT NOT NULL,
    billed_cents BIGINT NOT NULL,
    PRIMARY KEY (coop, number, structure_id)
);
