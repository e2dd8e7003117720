package main

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/logonguard/logonguard/mask"
	"github.com/logonguard/logonguard/password"
	"github.com/logonguard/logonguard/store"
)

// listTime is how the list commands show a time: local, with the zone.
const listTime = "2006-01-02 15:04 MST"

func (env cmdEnv) accountList(args []string) error {
	st, _, err := env.openExisting("account list", args, 0)
	if err != nil {
		return err
	}
	defer st.Close()
	accounts, err := st.Accounts(env.ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tLOGON MASK\tSESSION DURATION\tCREATED")
	for _, a := range accounts {
		set, err := st.Settings(env.ctx, a.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\t%s\t%d hours\t%s\n", a.Name, describeMask(set.Mask), set.SessionHours,
			a.CreatedAt.Local().Format(listTime))
	}
	return w.Flush()
}

// describeMask says how many entries a stored mask has.
func describeMask(text string) string {
	if text == "" {
		return "not set"
	}
	m, err := mask.Parse(text)
	if err != nil {
		return "unreadable"
	}
	if n := len(m.Entries()); n != 1 {
		return fmt.Sprintf("%d entries", n)
	}
	return "1 entry"
}

// account finds an account by name, with a clear error for an unknown one.
func account(env cmdEnv, st *store.Store, name string) (store.Account, error) {
	a, err := st.AccountByName(env.ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return a, fmt.Errorf("no account named %q", name)
	}
	return a, err
}

// accountSetPassword sets an owner's password from stdin and ends every
// session of theirs. A running server clears the account's failure count
// within a second: it reads the password change the database records.
func (env cmdEnv) accountSetPassword(args []string) error {
	st, rest, err := env.openExisting("account set-password", args, 1)
	if err != nil {
		return err
	}
	defer st.Close()
	a, err := account(env, st, rest[0])
	if err != nil {
		return err
	}
	pw, err := readPassword(env.stdin, a.Name)
	if err != nil {
		return err
	}
	hash, err := password.Hash(pw, password.Default)
	if err != nil {
		return err
	}
	if err := st.SetPassword(env.ctx, a.ID, hash, "", operator()); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "password of account %s set; its sessions have ended\n", a.Name)
	return nil
}

// accountClearMask is the break-glass way out of a lockout: it removes the
// account's logon mask, audited under the operating-system user, and a
// running server lets the owner log on within a second.
func (env cmdEnv) accountClearMask(args []string) error {
	st, rest, err := env.openExisting("account clear-mask", args, 1)
	if err != nil {
		return err
	}
	defer st.Close()
	a, err := account(env, st, rest[0])
	if err != nil {
		return err
	}
	set, err := st.Settings(env.ctx, a.ID)
	if err != nil {
		return err
	}
	if set.Mask == "" {
		fmt.Fprintf(env.stdout, "account %s has no logon mask; nothing changed\n", a.Name)
		return nil
	}
	by := operator()
	notice := "Your logon mask was removed from the server's shell by " + by.Name + " on " +
		time.Now().Format("2 January 2006 at 15:04 MST") + ", so logons are accepted from any address. " +
		"Set a new mask when you are ready."
	if _, err := st.ClearMask(env.ctx, a.ID, by, notice); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "logon mask of account %s cleared (it had %s); audited as %q\n", a.Name,
		describeMask(set.Mask), by.Name)
	return nil
}

func (env cmdEnv) staffList(args []string) error {
	st, _, err := env.openExisting("staff list", args, 0)
	if err != nil {
		return err
	}
	defer st.Close()
	staff, err := st.StaffList(env.ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tCREATED")
	for _, m := range staff {
		fmt.Fprintf(w, "%s\t%s\n", m.Name, m.CreatedAt.Local().Format(listTime))
	}
	return w.Flush()
}

// staffRemove deletes a staff member and their sessions in one
// transaction; a running server refuses their next request.
func (env cmdEnv) staffRemove(args []string) error {
	st, rest, err := env.openExisting("staff remove", args, 1)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.RemoveStaff(env.ctx, rest[0], operator()); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no staff member named %q", rest[0])
	} else if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "staff %s removed; their sessions have ended\n", rest[0])
	return nil
}
