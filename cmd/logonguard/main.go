// Command logonguard serves the Logon Guard console and runs its operator
// commands: accounts, staff, backups and the version.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	_ "time/tzdata" // so -tz works on hosts without zone files
)

// errUsage marks a bad command line; main prints it as one line.
var errUsage = errors.New("usage")

// errHelp means help was asked for and printed; it is not a failure.
var errHelp = errors.New("help printed")

// usageText is what logonguard -h prints.
const usageText = `usage: logonguard COMMAND [-db FILE] [ARGS]
  serve [flags]                      serve the console (logonguard serve -h lists the flags)
  account add|set-password NAME      password read from stdin
  account list | clear-mask NAME     list owners; remove an owner's logon mask (break-glass)
  staff add NAME | list | remove NAME  support staff
  backup FILE | restore FILE         consistent copy of the database; restore into a stopped server
  version                            module version and commit`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, errHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "logonguard: "+oneLine(err.Error()))
		os.Exit(1)
	}
}

// run dispatches a command line; it is main without the process around it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: logonguard serve|account|staff|backup|restore|version [-db FILE] [ARGS]", errUsage)
	}
	env := cmdEnv{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	switch args[0] {
	case "serve":
		return env.serve(args[1:])
	case "account":
		return env.account(args[1:])
	case "staff":
		return env.staff(args[1:])
	case "backup":
		return env.backup(args[1:])
	case "restore":
		return env.restore(args[1:])
	case "version", "-version", "--version":
		if len(args) > 1 {
			return fmt.Errorf("%w: version takes no arguments, got %q", errUsage, args[1])
		}
		fmt.Fprintln(stdout, versionLine())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, usageText)
		return nil
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}

// cmdEnv is what every command gets: context and standard streams.
type cmdEnv struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// oneLine keeps an error message on one line for stderr.
func oneLine(s string) string {
	out := []rune{}
	for _, r := range s {
		if r == '\n' || r == '\r' {
			r = ' '
		}
		out = append(out, r)
	}
	return string(out)
}
