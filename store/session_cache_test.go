package store

import (
	"context"
	"testing"
	"time"
)

func commitTestSession(t *testing.T, st *Store, token string, account int64, at time.Time) {
	t.Helper()
	values := map[string]any{SessionAccountID: account, SessionCreated: at, SessionSource: "127.0.0.1"}
	b, err := SessionCodec{}.Encode(at.Add(time.Hour), values)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Sessions().CommitCtx(context.Background(), token, b, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
}

// TestSessionCacheSeesOtherProcessWithinTTL: a session ended by another
// process (an operator command) is refused once the cache entry is stale.
func TestSessionCacheSeesOtherProcessWithinTTL(t *testing.T) {
	ctx := context.Background()
	st, clk := openTest(t)
	other, err := Open(ctx, st.Path(), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	commitTestSession(t, st, "tok", 9, clk.t)
	if _, found, _ := st.Sessions().FindCtx(ctx, "tok"); !found {
		t.Fatal("committed session not found")
	}
	if _, err := other.EndSessions(ctx, KindOwner, 9, ""); err != nil {
		t.Fatal(err)
	}
	time.Sleep(sessionCacheTTL)
	if _, found, _ := st.Sessions().FindCtx(ctx, "tok"); found {
		t.Error("session ended by another process still found after the cache TTL")
	}
}

// TestSessionCacheForgetsOwnWrites: ends and deletes in this process take
// effect at once.
func TestSessionCacheForgetsOwnWrites(t *testing.T) {
	ctx := context.Background()
	st, clk := openTest(t)
	commitTestSession(t, st, "a", 4, clk.t)
	commitTestSession(t, st, "b", 4, clk.t)
	if list, _ := st.OpenSessions(ctx, KindOwner, 4); len(list) != 2 {
		t.Fatalf("open sessions: %d, want 2", len(list))
	}
	if n, err := st.EndSessions(ctx, KindOwner, 4, "a"); err != nil || n != 1 {
		t.Fatalf("end others: n=%d err=%v", n, err)
	}
	if _, found, _ := st.Sessions().FindCtx(ctx, "b"); found {
		t.Error("ended session still found")
	}
	if _, found, _ := st.Sessions().FindCtx(ctx, "a"); !found {
		t.Error("kept session lost")
	}
	if list, _ := st.OpenSessions(ctx, KindOwner, 4); len(list) != 1 {
		t.Errorf("open sessions after end: %d, want 1", len(list))
	}
	if err := st.Sessions().DeleteCtx(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := st.Sessions().FindCtx(ctx, "a"); found {
		t.Error("deleted session still found")
	}
	if list, _ := st.OpenSessions(ctx, KindOwner, 4); len(list) != 0 {
		t.Errorf("open sessions after delete: %d, want 0", len(list))
	}
}
