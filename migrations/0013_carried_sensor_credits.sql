-- Issue 11: a federation carries its founders' unredeemed sensor credits (domain/sensors_carry.py).
-- A host's credits carried from a founder are kept apart from the credits its readings earned here,
-- so credits issued per host, per sensor and per day still agree (projections/sensors.py).
ALTER TABLE sensor_hosts ADD COLUMN carried_minor BIGINT NOT NULL DEFAULT 0;
