// Command relay runs a chat-agent gateway against a relay connector, a
// development connector to test gateways against, a self-contained demo of
// both, and an end-to-end benchmark.
//
// Usage:
//
//	relay connect   [flags]   dial a connector and serve an agent
//	relay connector [flags]   run a development connector
//	relay demo      [flags]   play a scripted conversation end to end
//	relay bench     [flags]   measure the relay against a bare client
//
// Run "relay <command> --help" for the flags of each command.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes of the subcommands; only connect returns exitDisabled.
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitDisabled = 3
)

// command is one subcommand: it parses args, runs until ctx ends or its work
// is done, and returns the process exit code.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, env func(string) string,
		stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{name: "connect", summary: "dial a connector and serve an agent", run: runConnect},
		{name: "connector", summary: "run a development connector", run: runConnector},
		{name: "demo", summary: "play a scripted conversation end to end", run: runDemo},
		{name: "bench", summary: "measure the relay end to end against a bare client", run: runBench},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dispatch(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func dispatch(ctx context.Context, args []string, env func(string) string,
	stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}

	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], env, stdout, stderr)
		}
	}

	fmt.Fprintf(stderr, "relay: unknown command %q (try relay --help)\n", args[0])

	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: relay <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "relay <command> --help" for the flags of a command.`)
	fmt.Fprintln(w, "Exit codes: 0 ok, 1 failure, 2 usage error; connect also exits 3 when")
	fmt.Fprintln(w, "the connector revoked its credential (relay disabled).")
}
