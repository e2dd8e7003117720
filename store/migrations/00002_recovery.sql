-- +goose Up
-- Lockout recovery tickets. account_id is the account the typed name matched
-- when the ticket was filed, NULL when it matched none (kept for staff only).
-- source_key and name_key are what the filing limits count: the source
-- address's rate-limit key and the trimmed, case-folded account name.
-- due_date is the business day promised on the filing page; due_at is the
-- instant that day ends. note is the staff member's verification note on
-- approval, or the reason on rejection.
CREATE TABLE recovery_tickets (
    id           INTEGER PRIMARY KEY,
    ref          TEXT    NOT NULL UNIQUE,
    account_id   INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    account_name TEXT    NOT NULL,
    name_key     TEXT    NOT NULL,
    contact      TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    source_key   TEXT    NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'approved', 'rejected')),
    filed_at     INTEGER NOT NULL,
    due_at       INTEGER NOT NULL,
    due_date     TEXT    NOT NULL,
    decided_at   INTEGER,
    decided_by   TEXT    NOT NULL DEFAULT '',
    decided_from TEXT    NOT NULL DEFAULT '',
    note         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX recovery_tickets_queue ON recovery_tickets(state, due_at, filed_at);
CREATE INDEX recovery_tickets_source ON recovery_tickets(source_key, filed_at);
CREATE INDEX recovery_tickets_name ON recovery_tickets(name_key, filed_at);

-- +goose Down
DROP TABLE recovery_tickets;
