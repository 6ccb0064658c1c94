-- API keys: bearer tokens stored hashed (SHA-256 of a 256-bit random secret), each with one
-- role and bound to one or more cooperatives. Revoking sets revoked_at; keys are never reused.

CREATE TABLE api_keys (
    key_id TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL,
    role TEXT NOT NULL,
    coops_json TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
