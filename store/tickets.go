package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/logonguard/logonguard/recovery"
)

// Errors a ticket decision returns, tested with errors.Is.
var (
	// ErrDecided means the ticket was no longer open: another decision won.
	ErrDecided = errors.New("store: ticket already decided")
	// ErrNoAccount means the ticket's name matched no account when it was
	// filed, so an approval has no mask to clear.
	ErrNoAccount = errors.New("store: ticket names no account")
)

// Ticket is a lockout recovery ticket.
type Ticket struct {
	ID  int64
	Ref string
	// AccountID is the account the typed name matched at filing, 0 when none.
	AccountID   int64
	AccountName string // as typed
	Contact     string // as typed
	Reason      string
	Source      string // the requester's source address
	State       recovery.State
	FiledAt     time.Time
	DueAt       time.Time // the end of DueDate
	DueDate     string    // the business day promised at filing, YYYY-MM-DD
	DecidedAt   time.Time // zero while open
	DecidedBy   string    // the staff member, as an Actor name
	DecidedFrom string    // the staff member's source address
	// Note is how the requester was verified (approved) or why the ticket
	// was rejected.
	Note string
}

// NewTicket is what filing a ticket stores.
type NewTicket struct {
	Ref         string
	AccountName string
	NameKey     string // what the per-name quota counts; recovery.NameKey
	Contact     string
	Reason      string
	Source      string
	SourceKey   string // what the per-source quota counts
	DueAt       time.Time
	DueDate     string
}

// TicketQuota caps how many tickets one source and one account name may
// file within Window.
type TicketQuota struct {
	PerSource int
	PerName   int
	Window    time.Duration
}

// QuotaError is the error CreateTicket and CheckTicketQuota return when a
// quota is used up. Find it with errors.As.
type QuotaError struct {
	By      string    // "source" or "account": which quota
	RetryAt time.Time // when the next ticket would be taken
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("store: ticket quota per %s used up until %s", e.By,
		e.RetryAt.Format(time.RFC3339))
}

// querier is what both the read pool and a transaction offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// CheckTicketQuota answers, from the read pool and without taking the write
// lock, whether nt would be within q; a flood is refused here cheaply.
// CreateTicket checks again inside its transaction.
func (s *Store) CheckTicketQuota(ctx context.Context, nt NewTicket, q TicketQuota) error {
	return checkQuota(ctx, s.read, s.now(), nt, q)
}

func checkQuota(ctx context.Context, db querier, now time.Time, nt NewTicket, q TicketQuota) error {
	for _, c := range []struct {
		by, column, key string
		n               int
	}{
		{"source", "source_key", nt.SourceKey, q.PerSource},
		{"account", "name_key", nt.NameKey, q.PerName},
	} {
		oldest, full, err := nthNewest(ctx, db, c.column, c.key, now.Add(-q.Window), c.n)
		if err != nil {
			return err
		}
		if full {
			return &QuotaError{By: c.by, RetryAt: oldest.Add(q.Window)}
		}
	}
	return nil
}

// nthNewest returns the filing time of the n-th newest ticket filed under
// key after since, and whether there are n of them.
func nthNewest(ctx context.Context, db querier, column, key string, since time.Time,
	n int) (time.Time, bool, error) {
	// The column name comes from checkQuota's fixed list, never from input.
	rows, err := db.QueryContext(ctx, "SELECT filed_at FROM recovery_tickets WHERE "+column+
		" = ? AND filed_at > ? ORDER BY filed_at DESC LIMIT ?", key, millis(since), n)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: ticket quota: %w", err)
	}
	defer rows.Close()
	var count int
	var last int64
	for rows.Next() {
		if err := rows.Scan(&last); err != nil {
			return time.Time{}, false, fmt.Errorf("store: ticket quota: %w", err)
		}
		count++
	}
	if err := rows.Err(); err != nil {
		return time.Time{}, false, fmt.Errorf("store: ticket quota: %w", err)
	}
	return fromMillis(last), count >= n, nil
}

// CreateTicket files a ticket in one transaction: it checks q (unless q is
// nil, for exempt sources), binds the account the name matches, if any, and
// records an audit event. A used-up quota returns a *QuotaError and stores
// nothing.
func (s *Store) CreateTicket(ctx context.Context, nt NewTicket, q *TicketQuota) (Ticket, error) {
	now := s.now()
	t := Ticket{Ref: nt.Ref, AccountName: nt.AccountName, Contact: nt.Contact, Reason: nt.Reason,
		Source: nt.Source, State: recovery.Open, FiledAt: now, DueAt: nt.DueAt, DueDate: nt.DueDate}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if q != nil {
			if err := checkQuota(ctx, tx, now, nt, *q); err != nil {
				return err
			}
		}
		err := tx.QueryRowContext(ctx, "SELECT id FROM accounts WHERE name = ?", nt.AccountName).
			Scan(&t.AccountID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: create ticket: %w", err)
		}
		if t.ID, err = insertTicket(ctx, tx, t, nt); err != nil {
			return err
		}
		return addAudit(ctx, tx, AuditEvent{At: now, AccountID: t.AccountID,
			Actor:  Actor{Name: "recovery request", Source: nt.Source},
			Action: "recovery_ticket.file", NewValue: "ticket " + nt.Ref})
	})
	if err != nil {
		return Ticket{}, err
	}
	return t, nil
}

func insertTicket(ctx context.Context, tx *sql.Tx, t Ticket, nt NewTicket) (int64, error) {
	var account any
	if t.AccountID != 0 {
		account = t.AccountID
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO recovery_tickets (ref, account_id, account_name,
		name_key, contact, reason, source, source_key, state, filed_at, due_at, due_date)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.Ref, account, t.AccountName, nt.NameKey, t.Contact, t.Reason, t.Source, nt.SourceKey,
		string(recovery.Open), millis(t.FiledAt), millis(t.DueAt), t.DueDate)
	if err != nil {
		return 0, uniqueErr(err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("store: ticket id: %w", err)
	}
	return id, nil
}

// ticketSelect reads ticket rows in scanTicket's order.
const ticketSelect = `SELECT id, ref, coalesce(account_id, 0), account_name, contact, reason,
	source, state, filed_at, due_at, due_date, decided_at, decided_by, decided_from, note
	FROM recovery_tickets `

func scanTicket(sc interface{ Scan(...any) error }) (Ticket, error) {
	var t Ticket
	var filed, due int64
	var decided sql.NullInt64
	err := sc.Scan(&t.ID, &t.Ref, &t.AccountID, &t.AccountName, &t.Contact, &t.Reason, &t.Source,
		&t.State, &filed, &due, &t.DueDate, &decided, &t.DecidedBy, &t.DecidedFrom, &t.Note)
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, ErrNotFound
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("store: ticket: %w", err)
	}
	t.FiledAt, t.DueAt = fromMillis(filed), fromMillis(due)
	if decided.Valid {
		t.DecidedAt = fromMillis(decided.Int64)
	}
	return t, nil
}

// Ticket returns the ticket with the given id, or ErrNotFound.
func (s *Store) Ticket(ctx context.Context, id int64) (Ticket, error) {
	return scanTicket(s.read.QueryRowContext(ctx, ticketSelect+"WHERE id = ?", id))
}

// TicketByRef returns the ticket with the given reference, or ErrNotFound.
func (s *Store) TicketByRef(ctx context.Context, ref string) (Ticket, error) {
	return scanTicket(s.read.QueryRowContext(ctx, ticketSelect+"WHERE ref = ?", ref))
}

// TicketFilter selects tickets for the queue.
type TicketFilter struct {
	State recovery.State // "" for every state
	Limit int            // 0 for 500
}

// Tickets returns tickets by due time, then filing time.
func (s *Store) Tickets(ctx context.Context, f TicketFilter) ([]Ticket, error) {
	if f.Limit <= 0 {
		f.Limit = 500
	}
	rows, err := s.read.QueryContext(ctx, ticketSelect+`WHERE (? = '' OR state = ?)
		ORDER BY due_at, filed_at, id LIMIT ?`, string(f.State), string(f.State), f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: tickets: %w", err)
	}
	defer rows.Close()
	var out []Ticket
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: tickets: %w", err)
	}
	return out, nil
}

// TicketDecision is a staff member's decision on an open ticket.
type TicketDecision struct {
	ID   int64
	To   recovery.State // recovery.Approved or recovery.Rejected
	Note string         // how the requester was verified, or why rejected
	By   Actor
	// Notice is left for the owner's next visit to Security Settings when an
	// approval clears the mask.
	Notice string
}

// DecideTicket moves an open ticket to d.To in one transaction, with an
// audit event naming d.By. An approval also clears every IP allowlist
// setting of the account (ClearMaskTx, leaving d.Notice) and returns the
// account's settings as they now stand. A ticket that is no longer open
// returns ErrDecided and nothing changes; of two decisions at once exactly
// one wins, because the move is one conditional update under the write
// lock.
func (s *Store) DecideTicket(ctx context.Context, d TicketDecision) (Ticket, Settings, error) {
	if !recovery.CanMove(recovery.Open, d.To) {
		return Ticket{}, Settings{}, fmt.Errorf("store: decide ticket: no move to %q", d.To)
	}
	now := s.now()
	var t Ticket
	var st Settings
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if t, err = moveTicket(ctx, tx, now, d); err != nil {
			return err
		}
		if d.To == recovery.Approved {
			if t.AccountID == 0 {
				return ErrNoAccount
			}
			if st, err = ClearMaskTx(ctx, tx, now, t.AccountID, d.By, d.Notice); err != nil {
				return err
			}
		}
		return addAudit(ctx, tx, AuditEvent{At: now, AccountID: t.AccountID, Actor: d.By,
			Action: "recovery_ticket." + decisionVerb(d.To), OldValue: string(recovery.Open),
			NewValue: string(d.To) + ": ticket " + t.Ref + ": " + d.Note})
	})
	if err != nil {
		return Ticket{}, Settings{}, err
	}
	return t, st, nil
}

func decisionVerb(to recovery.State) string {
	if to == recovery.Approved {
		return "approve"
	}
	return "reject"
}

// moveTicket is the conditional update at the heart of a decision; it
// returns the ticket as decided.
func moveTicket(ctx context.Context, tx *sql.Tx, now time.Time, d TicketDecision) (Ticket, error) {
	res, err := tx.ExecContext(ctx, `UPDATE recovery_tickets SET state = ?, decided_at = ?,
		decided_by = ?, decided_from = ?, note = ? WHERE id = ? AND state = ?`,
		string(d.To), millis(now), d.By.Name, d.By.Source, d.Note, d.ID, string(recovery.Open))
	if err != nil {
		return Ticket{}, fmt.Errorf("store: decide ticket: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Ticket{}, fmt.Errorf("store: decide ticket: %w", err)
	}
	t, err := scanTicket(tx.QueryRowContext(ctx, ticketSelect+"WHERE id = ?", d.ID))
	if err != nil {
		return Ticket{}, err
	}
	if n == 0 {
		return t, ErrDecided
	}
	return t, nil
}
