-- +goose Up
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

-- One settings row per account. mask holds the canonical mask text; store never
-- parses it. version counts every settings change and guards concurrent edits;
-- seq is a database-wide change counter so a running server can find the rows
-- another process changed.
CREATE TABLE account_settings (
    account_id       INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    mask             TEXT    NOT NULL DEFAULT '',
    session_hours    INTEGER NOT NULL DEFAULT 48 CHECK (session_hours BETWEEN 1 AND 72),
    recovery_contact TEXT    NOT NULL DEFAULT '',
    notice           TEXT    NOT NULL DEFAULT '',
    version          INTEGER NOT NULL DEFAULT 1,
    seq              INTEGER NOT NULL DEFAULT 0,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX account_settings_seq ON account_settings(seq);

CREATE TABLE staff (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

-- Sessions for scs. token is the SHA-256 of the cookie value; kind and
-- principal_id say whose session it is, so an owner can list and end theirs.
CREATE TABLE sessions (
    token        TEXT    PRIMARY KEY,
    data         BLOB    NOT NULL,
    expiry       INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    principal_id INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    source       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_principal ON sessions(kind, principal_id);
CREATE INDEX sessions_expiry ON sessions(expiry);

CREATE TABLE logon_events (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    account_id   INTEGER,
    account_name TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    outcome      TEXT    NOT NULL
);
CREATE INDEX logon_events_account ON logon_events(account_id, at);
CREATE INDEX logon_events_at ON logon_events(at);

CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    account_id INTEGER,
    actor      TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    old_value  TEXT    NOT NULL DEFAULT '',
    new_value  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_account ON audit_events(account_id, at);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE logon_events;
DROP TABLE sessions;
DROP TABLE staff;
DROP TABLE account_settings;
DROP TABLE accounts;
