-- +goose Up
-- Every change of an account's password, by any process. A running server
-- reads the rows past the last one it saw and clears that account's failure
-- count, so a password set from the shell takes effect there too. The
-- trigger fills it, so no writer of password_hash can forget to.
CREATE TABLE password_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE
);

-- +goose StatementBegin
CREATE TRIGGER accounts_password_changed AFTER UPDATE OF password_hash ON accounts
WHEN NEW.password_hash IS NOT OLD.password_hash
BEGIN
    INSERT INTO password_changes (account_id) VALUES (NEW.id);
END;
-- +goose StatementEnd

-- Counting mask saves for the metrics reads the audit log by action.
CREATE INDEX audit_events_action ON audit_events(action);

-- +goose Down
DROP INDEX audit_events_action;
DROP TRIGGER accounts_password_changed;
DROP TABLE password_changes;
