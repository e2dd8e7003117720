package web

import (
	"context"
	"errors"
)

// pruneEvents deletes logon events older than KeepEvents by the server's
// clock. Audit events of settings changes are kept.
func (s *Server) pruneEvents(ctx context.Context) {
	n, err := s.st.PruneLogonEvents(ctx, s.now().Add(-s.cfg.KeepEvents))
	if err != nil {
		s.backgroundError(ctx, "logon_event_prune", err)
		return
	}
	if n > 0 {
		s.cfg.Logger.InfoContext(ctx, "logon_events_pruned", "count", n, "keep", s.cfg.KeepEvents.String())
	}
}

// refreshPasswords clears the failure count of every account whose
// password changed since the last look, whichever process changed it: the
// contract lets a new password undo a lockout by failures, and an operator
// sets one from the shell while the server runs.
func (s *Server) refreshPasswords(ctx context.Context) {
	changes, err := s.st.PasswordChangesSince(ctx, s.passwordSeq)
	if err != nil {
		s.backgroundError(ctx, "password_refresh", err)
		return
	}
	for _, pc := range changes {
		s.logons.account.Reset(pc.AccountName)
		s.passwordSeq = pc.Seq
	}
}

// backgroundError logs a failed background job, unless the server is
// stopping, and counts it when the database caused it.
func (s *Server) backgroundError(ctx context.Context, job string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	s.metrics.countError(err)
	s.cfg.Logger.ErrorContext(ctx, job, "err", err)
}
