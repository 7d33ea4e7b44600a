package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/relay-go/relay/domain"
)

// envFlagSet is a flag.FlagSet whose flags also read an environment
// variable each. A flag given on the command line wins over its variable; a
// variable that is unset or empty leaves the flag's default. Every flag
// documents its variable in the help text that Usage prints.
//
// Build it with newEnvFlagSet, register flags with the typed methods, then
// call Parse once. It is not safe for concurrent use.
type envFlagSet struct {
	fs       *flag.FlagSet
	env      func(string) string
	command  string
	summary  string
	entries  []envEntry
	envOnly  []envEntry
	notes    []string
	defaults []func()
}

// envEntry is one documented flag or environment variable.
type envEntry struct {
	flag    string
	envName string
	arg     string
	usage   string
	def     string
	// envNote follows the variable's name in the help, such as
	// "(comma-separated)".
	envNote string
	// fromEnv applies the variable's value when the flag was not given.
	fromEnv func(string) error
}

// LogFlags registers --log-format (RELAY_LOG_FORMAT, default text) and
// --log-level (read from levelEnv, defaulting to level). Commands that
// print a report keep their own level variable and a quieter default, so
// that a RELAY_LOG_LEVEL meant for connect does not flood their output.
func (s *envFlagSet) LogFlags(format, level *string, levelEnv, levelDefault string) {
	s.String(format, "log-format", "RELAY_LOG_FORMAT", "text", "FORMAT",
		"log format: text or json (logs go to stderr)")
	s.String(level, "log-level", levelEnv, levelDefault, "LEVEL",
		"log level: debug, info, warn or error")
}

// ParseOrHelp is Parse that also writes the help to stdout when the
// arguments ask for it; it then returns flag.ErrHelp.
func (s *envFlagSet) ParseOrHelp(args []string, stdout io.Writer) error {
	err := s.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		s.Usage(stdout)
	}

	return err
}

// usageExit turns the outcome of a command's flag parsing into an exit code:
// exitOK after --help, exitUsage with one line on stderr for a usage error.
// done is false when the command should go on.
func usageExit(command string, err error, stderr io.Writer) (code int, done bool) {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK, true
	}

	if err != nil {
		fmt.Fprintf(stderr, "relay %s: %v\n", command, err)

		return exitUsage, true
	}

	return exitOK, false
}

// newEnvFlagSet builds an empty set for the subcommand named command (such
// as "connect"); summary is the first paragraph of its help. env looks up
// environment variables (os.Getenv, or a fake in tests).
func newEnvFlagSet(command, summary string, env func(string) string) *envFlagSet {
	fs := flag.NewFlagSet("relay "+command, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}

	if env == nil {
		env = func(string) string { return "" }
	}

	return &envFlagSet{fs: fs, env: env, command: command, summary: summary}
}

// String registers a string flag --name backed by envName.
func (s *envFlagSet) String(p *string, name, envName, def, arg, usage string) {
	s.fs.StringVar(p, name, def, usage)
	s.add(name, envName, arg, usage, def)
}

// Bool registers a boolean flag --name backed by envName, which reads
// strconv.ParseBool values (1, true, 0, false, ...).
func (s *envFlagSet) Bool(p *bool, name, envName string, def bool, usage string) {
	s.fs.BoolVar(p, name, def, usage)

	d := ""
	if def {
		d = "true"
	}

	s.add(name, envName, "", usage, d)
}

// Duration registers a duration flag --name backed by envName, which reads
// time.ParseDuration values such as 5s.
func (s *envFlagSet) Duration(p *time.Duration, name, envName string, def time.Duration,
	usage string) {
	s.fs.DurationVar(p, name, def, usage)

	d := ""
	if def != 0 {
		d = def.String()
	}

	s.add(name, envName, "duration", usage, d)
}

// Strings registers a repeatable flag --name backed by envName, whose value
// is a comma-separated list (blank items are skipped). When the flag is
// given at least once the variable is ignored; when neither is given, *p is
// set to def.
func (s *envFlagSet) Strings(p *stringList, name, envName string, def []string,
	arg, usage string) {
	s.fs.Var(p, name, usage)

	e := envEntry{
		flag: name, envName: envName, envNote: "(comma-separated)", arg: arg,
		usage: usage + "; repeatable",
		def:   strings.Join(def, ","),
		fromEnv: func(v string) error {
			for _, item := range strings.Split(v, ",") {
				if item = strings.TrimSpace(item); item != "" {
					*p = append(*p, item)
				}
			}

			return nil
		},
	}
	s.entries = append(s.entries, e)
	s.defaults = append(s.defaults, func() {
		if len(*p) == 0 {
			*p = append(stringList(nil), def...)
		}
	})
}

// EnvOnly documents an environment variable that has no flag, such as one
// holding a secret. The caller reads it itself with Getenv.
func (s *envFlagSet) EnvOnly(envName, usage string) {
	s.envOnly = append(s.envOnly, envEntry{envName: envName, usage: usage})
}

// Note appends a paragraph to the end of the help text.
func (s *envFlagSet) Note(text string) { s.notes = append(s.notes, text) }

// Getenv returns the value of an environment variable through the set's
// lookup function.
func (s *envFlagSet) Getenv(name string) string { return s.env(name) }

func (s *envFlagSet) add(name, envName, arg, usage, def string) {
	s.entries = append(s.entries, envEntry{
		flag: name, envName: envName, arg: arg, usage: usage, def: def,
		fromEnv: func(v string) error { return s.fs.Set(name, v) },
	})
}

// Parse parses args, then fills every flag that was not given from its
// environment variable, then applies the defaults of repeatable flags. It
// returns flag.ErrHelp for -h or --help (the caller prints Usage and exits
// 0), and otherwise a one-line error naming the problem. Positional
// arguments are rejected.
func (s *envFlagSet) Parse(args []string) error {
	if err := s.fs.Parse(args); err != nil {
		return err
	}

	if s.fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", s.fs.Arg(0))
	}

	given := map[string]bool{}
	s.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	for _, e := range s.entries {
		if given[e.flag] || e.envName == "" {
			continue
		}

		v := s.env(e.envName)
		if strings.TrimSpace(v) == "" {
			continue
		}

		if err := e.fromEnv(v); err != nil {
			return fmt.Errorf("invalid value for %s: %w", e.envName, err)
		}
	}

	for _, apply := range s.defaults {
		apply()
	}

	return nil
}

// Usage writes the help text: the summary, every flag with its variable and
// default, the environment-only variables, the notes and the exit codes of
// the subcommand.
func (s *envFlagSet) Usage(w io.Writer) {
	fmt.Fprintf(w, "usage: relay %s [flags]\n\n%s\n\n", s.command, s.summary)
	fmt.Fprintln(w, "Flags (each also read from the environment variable shown; a flag wins):")

	for _, e := range s.entries {
		head := "  --" + e.flag
		if e.arg != "" {
			head += " " + e.arg
		}

		fmt.Fprintf(w, "%s\n        %s\n        env %s", head, e.usage, e.envName)

		if e.envNote != "" {
			fmt.Fprintf(w, " %s", e.envNote)
		}

		if e.def != "" {
			fmt.Fprintf(w, "; default %s", e.def)
		}

		fmt.Fprintln(w)
	}

	if len(s.envOnly) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Environment only:")

		for _, e := range s.envOnly {
			fmt.Fprintf(w, "  %s\n        %s\n", e.envName, e.usage)
		}
	}

	for _, n := range s.notes {
		fmt.Fprintf(w, "\n%s\n", n)
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, exitCodesLine(s.command))
}

// extraExitCodes lists, per subcommand, the exit codes it can return beyond
// 0, 1 and 2, which every subcommand shares. Only connect dials a connector
// that can revoke it.
var extraExitCodes = map[string][]string{
	"connect": {"3 relay disabled (revoked)"},
}

// exitCodesLine is the last line of a subcommand's help: the exit codes
// that subcommand can return.
func exitCodesLine(command string) string {
	codes := append([]string{"0 ok", "1 failure", "2 usage error"}, extraExitCodes[command]...)

	return "Exit codes: " + strings.Join(codes, ", ") + "."
}

// stringList is a repeatable string flag: each occurrence appends a value.
type stringList []string

// String joins the values with commas.
func (l *stringList) String() string {
	if l == nil {
		return ""
	}

	return strings.Join(*l, ",")
}

// Set appends one value.
func (l *stringList) Set(v string) error {
	*l = append(*l, v)

	return nil
}

// newLogger builds the slog logger every subcommand writes to w: format is
// "text" or "json" (empty means text), level is "debug", "info", "warn" or
// "error" (empty means info; case-insensitive). It returns an error naming
// the bad value otherwise.
func newLogger(format, level string, w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level

	switch strings.ToLower(strings.TrimSpace(level)) {
	case "debug":
		lvl = slog.LevelDebug
	case "", "info":
		lvl = slog.LevelInfo
	case "warn", "warning":
		lvl = slog.LevelWarn
	case "error":
		lvl = slog.LevelError
	default:
		return nil, fmt.Errorf("log level %q is not one of debug, info, warn, error", level)
	}

	opts := &slog.HandlerOptions{Level: lvl}

	switch strings.ToLower(strings.TrimSpace(format)) {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("log format %q is not one of text, json", format)
	}
}

// readSecretFile returns the contents of the file at path with surrounding
// whitespace trimmed. Its error names the file, never the contents.
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}

	return strings.TrimSpace(string(b)), nil
}

// parseIdentities parses "platform:botId" values. Each needs a non-empty
// platform and bot id without surrounding whitespace; the error names the
// first bad value.
func parseIdentities(values []string) ([]domain.Identity, error) {
	ids := make([]domain.Identity, 0, len(values))

	for _, v := range values {
		platform, botID, ok := strings.Cut(v, ":")
		if !ok || platform == "" || botID == "" ||
			strings.TrimSpace(platform) != platform || strings.TrimSpace(botID) != botID {
			return nil, fmt.Errorf("identity %q is not platform:botId", v)
		}

		ids = append(ids, domain.Identity{Platform: platform, BotID: botID})
	}

	return ids, nil
}
