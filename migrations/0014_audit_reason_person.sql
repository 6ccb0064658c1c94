-- The person an event's reason describes (an exclusion's reason names why a member was excluded):
-- when that person is forgotten, the reason in the trail is replaced by the pseudonym
-- (docs/decisions/0013-forgetting-a-person.md). NULL for every other event.
ALTER TABLE audit_trail ADD COLUMN reason_of TEXT;
