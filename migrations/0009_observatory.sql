-- Issue 7: the observatory. Its current figures are read from the other projections' read
-- functions; these tables hold only what those do not keep: monthly movements for the charts,
-- the public setting, and when each cooperative last recorded something. Months are 'YYYY-MM'
-- text (the month of the event's effective date); values are integers in minor units or counts.

CREATE TABLE observatory_coops (
    coop TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    last_position BIGINT NOT NULL,   -- the cooperative's last event in the notification log
    last_recorded_at TEXT NOT NULL   -- when it was recorded (UTC, ISO 8601)
);

-- Dated versions of the public setting; the one in force on a day is the last dated on or before it.
CREATE TABLE observatory_visibility (
    coop TEXT NOT NULL,
    seq BIGINT NOT NULL,
    effective_date TEXT NOT NULL,
    public INTEGER NOT NULL,
    PRIMARY KEY (coop, seq)
);

-- Movements per month, metric and dimension (a college, a fee year, a period label, a pot kind,
-- a structure...); a series is the running sum over months. Reversals add negated rows.
CREATE TABLE observatory_months (
    coop TEXT NOT NULL,
    month TEXT NOT NULL,
    metric TEXT NOT NULL,
    dim TEXT NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (coop, month, metric, dim)
);

-- What the series need to follow later events: a member's college (resignations do not say it),
-- a call's pot (closing does not say it), and the movements each journal entry made (a reversal
-- negates them: some events' reversal effects do not carry every figure).
CREATE TABLE observatory_members (
    coop TEXT NOT NULL,
    member_id TEXT NOT NULL,
    college TEXT NOT NULL,
    PRIMARY KEY (coop, member_id)
);

CREATE TABLE observatory_calls (
    coop TEXT NOT NULL,
    call_id TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (coop, call_id)
);

CREATE TABLE observatory_entries (
    coop TEXT NOT NULL,
    number BIGINT NOT NULL,
    moves_json TEXT NOT NULL,        -- [[metric, dim, value], ...]
    PRIMARY KEY (coop, number)
);
