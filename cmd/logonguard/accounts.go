package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/logonguard/logonguard/password"
	"github.com/logonguard/logonguard/store"
)

// dbArgs parses "-db FILE" and checks that nargs arguments follow.
func dbArgs(name string, args []string, nargs int) (string, []string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	db := fs.String("db", "./data/logonguard.db", "SQLite file")
	if err := fs.Parse(args); err != nil {
		return "", nil, fmt.Errorf("%w: %s: %w", errUsage, name, err)
	}
	for _, a := range fs.Args() {
		if strings.HasPrefix(a, "-") {
			return "", nil, fmt.Errorf("%w: %s: flags such as -db go before the other arguments, not %q after them",
				errUsage, name, a)
		}
	}
	if fs.NArg() != nargs {
		return "", nil, fmt.Errorf("%w: %s takes -db FILE and %d argument(s), got %d", errUsage, name,
			nargs, fs.NArg())
	}
	return *db, fs.Args(), nil
}

// openDB parses "-db FILE" and the remaining arguments of a subcommand and
// opens the database, creating it where it does not exist yet.
func (env cmdEnv) openDB(name string, args []string, nargs int) (*store.Store, []string, error) {
	db, rest, err := dbArgs(name, args, nargs)
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Open(env.ctx, db, nil)
	if err != nil {
		return nil, nil, err
	}
	return st, rest, nil
}

// openExisting is openDB for commands that make no sense on a new, empty
// database: a mistyped -db path gets an error, not a fresh file.
func (env cmdEnv) openExisting(name string, args []string, nargs int) (*store.Store, []string, error) {
	db, _, err := dbArgs(name, args, nargs)
	if err != nil {
		return nil, nil, err
	}
	if _, err := os.Stat(db); err != nil {
		return nil, nil, fmt.Errorf("no database at %s (give its path with -db FILE)", db)
	}
	return env.openDB(name, args, nargs)
}

// operator names the operating-system user for the audit log. Commands
// usually run as the service's user through sudo, so the person who ran
// sudo is named too (as sudo reports them; whoever can run the command can
// also set that variable, so it is a hint, not proof).
func operator() store.Actor {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if by := os.Getenv("SUDO_USER"); by != "" && by != name {
		name += " (sudo by " + by + ")"
	}
	return store.Actor{Name: "operator " + name, Source: "shell"}
}

// readPassword reads one line from stdin and checks its strength.
func readPassword(r io.Reader, name string) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if msg := password.CheckStrength(pw, name); msg != "" {
		return "", fmt.Errorf("password refused: %s", msg)
	}
	return pw, nil
}

// checkName refuses names the logon form could never match.
func checkName(kind, name string) error {
	if name == "" || len([]rune(name)) > 64 || strings.TrimSpace(name) != name || !utf8.ValidString(name) ||
		strings.ContainsFunc(name, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
		return fmt.Errorf("%w: %s name %q: use 1 to 64 characters, no control or invisible characters "+
			"and no outer blanks", errUsage, kind, name)
	}
	return nil
}

func (env cmdEnv) account(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: account add|list|set-password|clear-mask", errUsage)
	}
	switch args[0] {
	case "add":
		return env.accountAdd(args[1:])
	case "list":
		return env.accountList(args[1:])
	case "set-password":
		return env.accountSetPassword(args[1:])
	case "clear-mask":
		return env.accountClearMask(args[1:])
	}
	return fmt.Errorf("%w: unknown account command %q (add, list, set-password, clear-mask)", errUsage, args[0])
}

func (env cmdEnv) accountAdd(args []string) error {
	return env.addPerson("account", args, func(st *store.Store, name, hash string) error {
		_, err := st.CreateAccount(env.ctx, name, hash, operator())
		return err
	})
}

// addPerson is account add and staff add: a checked name, a strong
// password from stdin, an argon2id hash, one audited insert.
func (env cmdEnv) addPerson(kind string, args []string, create func(st *store.Store, name, hash string) error) error {
	st, rest, err := env.openDB(kind+" add", args, 1)
	if err != nil {
		return err
	}
	defer st.Close()
	name := rest[0]
	if err := checkName(kind, name); err != nil {
		return err
	}
	pw, err := readPassword(env.stdin, name)
	if err != nil {
		return err
	}
	hash, err := password.Hash(pw, password.Default)
	if err != nil {
		return err
	}
	if err := create(st, name, hash); errors.Is(err, store.ErrExists) {
		return fmt.Errorf("%s %q exists already", kind, name)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%s %s added\n", kind, name)
	return nil
}

func (env cmdEnv) staff(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: staff add|list|remove", errUsage)
	}
	switch args[0] {
	case "add":
		return env.staffAdd(args[1:])
	case "list":
		return env.staffList(args[1:])
	case "remove":
		return env.staffRemove(args[1:])
	}
	return fmt.Errorf("%w: unknown staff command %q (add, list, remove)", errUsage, args[0])
}

func (env cmdEnv) staffAdd(args []string) error {
	return env.addPerson("staff", args, func(st *store.Store, name, hash string) error {
		_, err := st.CreateStaff(env.ctx, name, hash, operator())
		return err
	})
}

// seedDemo creates the demo owner and staff member where they do not exist.
func seedDemo(ctx context.Context, st *store.Store) error {
	by := store.Actor{Name: "demo seed", Source: "serve"}
	if _, err := st.AccountByName(ctx, "demo"); errors.Is(err, store.ErrNotFound) {
		hash, err := password.Hash("demo-password", password.Default)
		if err != nil {
			return err
		}
		if _, err := st.CreateAccount(ctx, "demo", hash, by); err != nil && !errors.Is(err, store.ErrExists) {
			return err
		}
	} else if err != nil {
		return err
	}
	if _, err := st.StaffByName(ctx, "support"); errors.Is(err, store.ErrNotFound) {
		hash, err := password.Hash("support-password", password.Default)
		if err != nil {
			return err
		}
		if _, err := st.CreateStaff(ctx, "support", hash, by); err != nil && !errors.Is(err, store.ErrExists) {
			return err
		}
	} else if err != nil {
		return err
	}
	return nil
}
