package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/relay-go/relay/internal/bench"
)

// benchSummary is the first paragraph of "relay bench --help".
const benchSummary = `Measure the relay end to end on this machine. A lean connector on
127.0.0.1 (an ephemeral port) floods inbound events at a gateway running
the echo agent over the real WebSocket transport and relay adapter, and
times every reply. The same flood runs against a bare client (the simplest
fast gorilla/websocket + encoding/json echo loop, no framework) in the same
run, rounds alternating bare and relay; the report gives the median round
of each and the relay's throughput as a ratio of the bare client's.

Latency runs from the connector writing an event to it reading the reply.
Allocations, bytes and CPU per event are process-wide over the flood: the
connector runs in the same process, so they include its share (compare
the relay's with the bare client's). Peak memory is VmHWM (process-wide,
so it is the peak of every run so far).`

// benchOptions are the parsed flags of "relay bench".
type benchOptions struct {
	events     int
	chats      int
	size       int
	window     int
	rounds     int
	rate       float64
	latency    bool
	idle       time.Duration
	timeout    time.Duration
	json       bool
	cpuProfile string
	memProfile string
	logFormat  string
	logLevel   string
}

// intFlag registers an integer flag --name backed by envName.
func intFlag(s *envFlagSet, p *int, name, envName string, def int, usage string) {
	s.fs.IntVar(p, name, def, usage)
	s.add(name, envName, "N", usage, strconv.Itoa(def))
}

// floatFlag registers a number flag --name backed by envName; a zero
// default is not shown.
func floatFlag(s *envFlagSet, p *float64, name, envName string, def float64, usage string) {
	s.fs.Float64Var(p, name, def, usage)

	d := ""
	if def != 0 {
		d = strconv.FormatFloat(def, 'g', -1, 64)
	}

	s.add(name, envName, "N", usage, d)
}

func parseBenchFlags(args []string, env func(string) string,
	stdout io.Writer) (benchOptions, error) {
	var o benchOptions

	fs := newEnvFlagSet("bench", benchSummary, env)
	intFlag(fs, &o.events, "events", "RELAY_BENCH_EVENTS", 20000,
		"inbound events per flood")
	intFlag(fs, &o.chats, "chats", "RELAY_BENCH_CHATS", 1000,
		"chats the events are spread over, round-robin")
	intFlag(fs, &o.size, "size", "RELAY_BENCH_SIZE", 200, "bytes of text per event")
	intFlag(fs, &o.window, "window", "RELAY_BENCH_WINDOW", 1000,
		"most events written and not yet answered (the connector's flow control)")
	intFlag(fs, &o.rounds, "rounds", "RELAY_BENCH_ROUNDS", 3,
		"rounds of bare then relay floods; the report gives the median of each")
	floatFlag(fs, &o.rate, "rate", "RELAY_BENCH_RATE", 0,
		"offered load in events per second; 0 floods as fast as the window allows")
	fs.Bool(&o.latency, "latency", "RELAY_BENCH_LATENCY", false,
		"after the rounds, flood the relay again at half the median relay throughput "+
			"and report its latency")
	fs.Duration(&o.idle, "idle", "RELAY_BENCH_IDLE", 0,
		"instead of flooding, keep a connected gateway idle this long and report its "+
			"RSS and CPU time")
	fs.Duration(&o.timeout, "timeout", "RELAY_BENCH_TIMEOUT", 2*time.Minute,
		"bound on each flood")
	fs.Bool(&o.json, "json", "RELAY_BENCH_JSON", false, "print the report as JSON")
	fs.String(&o.cpuProfile, "cpuprofile", "RELAY_BENCH_CPUPROFILE", "", "FILE",
		"write a CPU profile of every flood (bare and relay) to FILE")
	fs.String(&o.memProfile, "memprofile", "RELAY_BENCH_MEMPROFILE", "", "FILE",
		"write an allocation profile to FILE at the end")
	fs.LogFlags(&o.logFormat, &o.logLevel, "RELAY_BENCH_LOG_LEVEL", "warn")
	fs.Note(`Examples:
  relay bench                               throughput: bare vs relay, 3 rounds
  relay bench --latency                     then latency at half the max load
  relay bench --rounds 1 --rate 20000       latency at a chosen offered load
  relay bench --chats 1000000 --events 1000000 --rounds 1
                                            scope table bounded (watch peak RSS)
  relay bench --idle 10s                    idle gateway: RSS and CPU time`)

	if err := fs.ParseOrHelp(args, stdout); err != nil {
		return o, err
	}

	for _, c := range []struct {
		name string
		v    int
	}{
		{"--events", o.events}, {"--chats", o.chats}, {"--size", o.size},
		{"--window", o.window}, {"--rounds", o.rounds},
	} {
		if c.v <= 0 {
			return o, fmt.Errorf("%s must be positive, got %d", c.name, c.v)
		}
	}

	switch {
	case o.rate < 0:
		return o, fmt.Errorf("--rate must not be negative, got %g", o.rate)
	case o.idle < 0:
		return o, fmt.Errorf("--idle must not be negative, got %s", o.idle)
	case o.timeout <= 0:
		return o, fmt.Errorf("--timeout must be positive, got %s", o.timeout)
	}

	if _, err := newLogger(o.logFormat, o.logLevel, io.Discard); err != nil {
		return o, err
	}

	return o, nil
}

// benchReport is what "relay bench" prints; --json prints it as is.
type benchReport struct {
	GoVersion  string  `json:"go_version"`
	GOMAXPROCS int     `json:"gomaxprocs"`
	NumCPU     int     `json:"num_cpu"`
	Events     int     `json:"events"`
	Chats      int     `json:"chats"`
	Size       int     `json:"size"`
	Window     int     `json:"window"`
	Rate       float64 `json:"rate"`

	Comparison *bench.Comparison `json:"comparison,omitempty"`
	Latency    *bench.Result     `json:"latency,omitempty"`
	Idle       *bench.IdleResult `json:"idle,omitempty"`
}

// runBench is the "relay bench" command.
func runBench(ctx context.Context, args []string, env func(string) string,
	stdout, stderr io.Writer) int {
	o, err := parseBenchFlags(args, env, stdout)
	if code, done := usageExit("bench", err, stderr); done {
		return code
	}

	logger, err := newLogger(o.logFormat, o.logLevel, stderr)
	if code, done := usageExit("bench", err, stderr); done {
		return code
	}

	h, err := bench.Start(ctx, logger)
	if err != nil {
		fmt.Fprintf(stderr, "relay bench: %v\n", err)

		return exitFailure
	}

	rep, runErr := runBenchReport(ctx, h, o)

	closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Close(closeCtx); err != nil {
		runErr = errors.Join(runErr, err)
	}

	if o.memProfile != "" {
		runErr = errors.Join(runErr, writeHeapProfile(o.memProfile))
	}

	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		printBenchReport(stdout, rep)
	}

	if runErr != nil {
		fmt.Fprintf(stderr, "relay bench: %v\n", runErr)

		return exitFailure
	}

	return exitOK
}

// runBenchReport runs what the options ask for and fills the report as far
// as it got.
func runBenchReport(ctx context.Context, h *bench.Harness, o benchOptions) (benchReport, error) {
	rep := benchReport{
		GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		NumCPU: runtime.NumCPU(), Events: o.events, Chats: o.chats, Size: o.size,
		Window: o.window, Rate: o.rate,
	}

	opts := bench.Options{
		Plan: bench.Plan{
			Events: o.events, Chats: o.chats, Size: o.size, Rate: o.rate, Window: o.window,
		},
		Timeout: o.timeout,
	}

	if o.idle > 0 {
		idle, err := h.Idle(ctx, o.idle, opts)
		rep.Idle = &idle

		return rep, err
	}

	stopProfile, err := startCPUProfile(o.cpuProfile)
	if err != nil {
		return rep, err
	}

	cmp, err := h.Compare(ctx, opts, o.rounds)
	rep.Comparison = &cmp
	if err != nil || !o.latency {
		return rep, errors.Join(err, stopProfile())
	}

	lat := opts
	lat.Rate = cmp.Relay.EventsPerSec / 2
	if lat.Rate <= 0 {
		return rep, errors.Join(errors.New("latency run: no relay throughput measured"),
			stopProfile())
	}

	r, err := h.RunRelay(ctx, lat)
	rep.Latency = &r

	return rep, errors.Join(err, stopProfile())
}

// startCPUProfile starts a CPU profile into path, when set; the returned
// function stops it.
func startCPUProfile(path string) (func() error, error) {
	if path == "" {
		return func() error { return nil }, nil
	}

	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}

	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()

		return nil, fmt.Errorf("cpu profile: %w", err)
	}

	return func() error {
		pprof.StopCPUProfile()

		if err := f.Close(); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}

		return nil
	}, nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("memory profile: %w", err)
	}

	werr := pprof.Lookup("allocs").WriteTo(f, 0)

	if err := errors.Join(werr, f.Close()); err != nil {
		return fmt.Errorf("memory profile: %w", err)
	}

	return nil
}

func printBenchReport(w io.Writer, rep benchReport) {
	fmt.Fprintf(w, "relay bench: %s, GOMAXPROCS %d, %d CPUs\n",
		rep.GoVersion, rep.GOMAXPROCS, rep.NumCPU)
	fmt.Fprintf(w, "flood: %d events over %d chats, %d-byte texts, window %d",
		rep.Events, rep.Chats, rep.Size, rep.Window)
	if rep.Rate > 0 {
		fmt.Fprintf(w, ", offered %.0f events/s", rep.Rate)
	}
	fmt.Fprintln(w)

	if rep.Idle != nil {
		i := rep.Idle
		fmt.Fprintf(w, "\nidle gateway for %s: CPU %s (%.3f%% of one core), %s %.1f MiB, "+
			"Go heap in use %.1f MiB, %d goroutines (connector included)\n",
			i.Duration, i.CPU, 100*i.CPU.Seconds()/i.Duration.Seconds(),
			i.RSSSource, mib(i.RSS), mib(i.HeapInUse), i.Goroutines)

		return
	}

	if c := rep.Comparison; c != nil && len(c.Rounds) > 0 {
		fmt.Fprintln(w)
		printResultHeader(w)
		for i, r := range c.Rounds {
			printResult(w, fmt.Sprintf("round %d", i/2+1), r)
		}

		if c.Bare.Events > 0 && c.Relay.Events > 0 {
			fmt.Fprintln(w)
			printResult(w, "median", c.Bare)
			printResult(w, "median", c.Relay)
			fmt.Fprintf(w, "\nrelay/bare throughput ratio: %.2f\n", c.Ratio)
		}
	}

	if r := rep.Latency; r != nil {
		fmt.Fprintf(w, "\nlatency at half the relay's median throughput:\n")
		printResultHeader(w)
		printResult(w, "latency", *r)
	}

	fmt.Fprintln(w, "\nallocs, bytes and CPU per event are process-wide: the in-process "+
		"connector's share is included.")
}

func printResultHeader(w io.Writer) {
	fmt.Fprintf(w, "%-8s %-5s %7s %9s %8s %8s %8s %8s %7s %8s %7s %8s\n",
		"run", "client", "replies", "events/s", "p50", "p90", "p99", "max",
		"allocs", "bytes", "cpu", "peakRSS")
}

func printResult(w io.Writer, label string, r bench.Result) {
	fmt.Fprintf(w, "%-8s %-5s %7d %9.0f %8s %8s %8s %8s %7.1f %8.0f %7s %7.1fM\n",
		label, r.Client, r.Replies, r.EventsPerSec,
		roundDur(r.Latency.P50), roundDur(r.Latency.P90), roundDur(r.Latency.P99),
		roundDur(r.Latency.Max), r.AllocsPerEvent, r.BytesPerEvent,
		r.CPUPerEvent.Round(100*time.Nanosecond), mib(r.PeakRSS))
}

func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= 10*time.Microsecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
