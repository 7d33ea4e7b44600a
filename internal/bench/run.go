package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"time"

	"github.com/relay-go/relay/adapters/wsrelay"
	"github.com/relay-go/relay/app"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/internal/echo"
)

// Client names of a Result.
const (
	ClientRelay = "relay"
	ClientBare  = "bare"
)

// Latency holds reply latency percentiles.
type Latency struct {
	P50 time.Duration `json:"p50_ns"`
	P90 time.Duration `json:"p90_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
}

// percentiles reads the percentiles of sorted latencies (nearest rank).
func percentiles(sorted []time.Duration) Latency {
	if len(sorted) == 0 {
		return Latency{}
	}

	at := func(p float64) time.Duration {
		i := int(p*float64(len(sorted))+0.999999) - 1

		return sorted[min(max(i, 0), len(sorted)-1)]
	}

	return Latency{P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: sorted[len(sorted)-1]}
}

// Result is one flood against one client.
type Result struct {
	// Client is ClientRelay or ClientBare.
	Client string `json:"client"`
	Events int    `json:"events"`
	// Replies counts events answered; Duplicates and Unmatched count
	// extra replies (see FloodStats).
	Replies    int `json:"replies"`
	Duplicates int `json:"duplicates"`
	Unmatched  int `json:"unmatched"`
	// Refused counts inbound deliveries the relay adapter refused (queue
	// full); always zero for the bare client.
	Refused uint64 `json:"refused"`

	Elapsed      time.Duration `json:"elapsed_ns"`
	EventsPerSec float64       `json:"events_per_sec"`
	Latency      Latency       `json:"latency"`

	// AllocsPerEvent and BytesPerEvent are the process's heap allocations
	// during the flood divided by the events. The connector runs in the
	// same process, so they include its share.
	AllocsPerEvent float64 `json:"allocs_per_event"`
	BytesPerEvent  float64 `json:"bytes_per_event"`
	// RepliesPerMessage is the replies the client wrote per WebSocket
	// message during the flood: fewer messages cost fewer writes.
	RepliesPerMessage float64 `json:"replies_per_message"`
	// CPUPerEvent is the process's CPU time (user and system) during the
	// flood divided by the events, connector included.
	CPUPerEvent time.Duration `json:"cpu_per_event_ns"`
	// PeakRSS is the process's peak resident set size so far, read after
	// the flood, from PeakRSSSource.
	PeakRSS       uint64 `json:"peak_rss_bytes"`
	PeakRSSSource string `json:"peak_rss_source"`
}

// Options configure the runs of a Harness.
type Options struct {
	Plan
	// Timeout bounds one flood, its connect and its teardown. Default 2
	// minutes.
	Timeout time.Duration
	// QueueCapacity is the relay adapter's queue capacity; zero means the
	// larger of app.DefaultQueueCapacity and twice the window.
	QueueCapacity int
	// ScopeCapacity is the relay's scope table capacity; zero means
	// domain.DefaultScopeCapacity.
	ScopeCapacity int
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}

	if o.QueueCapacity == 0 {
		o.QueueCapacity = max(app.DefaultQueueCapacity, 2*o.Window)
	}

	return o
}

// Harness runs floods against clients of one bench connector listening on
// 127.0.0.1. Build it with Start and release it with Close. Its methods run
// one flood at a time: they are not safe for concurrent use.
type Harness struct {
	log    *slog.Logger
	conn   *Connector
	addr   string
	served chan error
}

// Start listens on an ephemeral loopback port and serves a bench connector
// on it. A nil logger discards logs.
func Start(ctx context.Context, logger *slog.Logger) (*Harness, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	var lc net.ListenConfig

	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start bench connector: %w", err)
	}

	h := &Harness{
		log:    logger,
		conn:   NewConnector(logger.With("component", "bench_connector")),
		addr:   ln.Addr().String(),
		served: make(chan error, 1),
	}

	go func() { h.served <- h.conn.Serve(ln) }()

	return h, nil
}

// Addr returns the connector's host:port.
func (h *Harness) Addr() string { return h.addr }

// Close stops the connector and waits for it.
func (h *Harness) Close(ctx context.Context) error {
	return errors.Join(h.conn.Close(ctx), <-h.served)
}

// gateway is a relay gateway serving the echo agent over wsrelay.
type gateway struct {
	adapter *app.Adapter
	session *Session
}

// connectGateway builds the production stack (wsrelay transport, relay
// adapter, echo agent), connects it to the harness's connector and returns
// it with the connector's side of the link.
func (h *Harness) connectGateway(ctx context.Context, o Options) (*gateway, error) {
	tr, err := wsrelay.New(wsrelay.Config{
		URL:        "http://" + h.addr,
		Identities: []domain.Identity{{Platform: benchPlatform, BotID: benchBot}},
		Logger:     h.log.With("component", "wsrelay"),
	})
	if err != nil {
		return nil, fmt.Errorf("connect bench gateway: %w", err)
	}

	adapter, err := app.NewAdapter(app.Config{
		Transport:     tr,
		Store:         domain.NewScopeTable(o.ScopeCapacity),
		Logger:        h.log.With("component", "adapter"),
		QueueCapacity: o.QueueCapacity,
	})
	if err != nil {
		return nil, fmt.Errorf("connect bench gateway: %w", err)
	}

	if err := adapter.BindSink(echo.New(adapter, h.log.With("component", "agent"))); err != nil {
		return nil, fmt.Errorf("connect bench gateway: %w", err)
	}

	if err := adapter.Connect(ctx); err != nil {
		return nil, fmt.Errorf("connect bench gateway: %w", err)
	}

	s, err := h.conn.Accept(ctx)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("connect bench gateway: %w", err),
			adapter.Disconnect(ctx))
	}

	return &gateway{adapter: adapter, session: s}, nil
}

// RunRelay floods a relay gateway (wsrelay transport, relay adapter, echo
// agent) built for this run, then disconnects it.
func (h *Harness) RunRelay(ctx context.Context, o Options) (Result, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return Result{}, fmt.Errorf("run relay bench: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	gw, err := h.connectGateway(ctx, o)
	if err != nil {
		return Result{}, fmt.Errorf("run relay bench: %w", err)
	}

	res, floodErr := measure(ctx, ClientRelay, gw.session, o.Plan)
	res.Refused = gw.adapter.RefusedDeliveries()

	stopErr := gw.adapter.Disconnect(ctx)
	gw.session.Close()

	if err := errors.Join(floodErr, stopErr); err != nil {
		return res, fmt.Errorf("run relay bench: %w", err)
	}

	return res, nil
}

// RunBare floods a BareClient dialed for this run, then closes it.
func (h *Harness) RunBare(ctx context.Context, o Options) (Result, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return Result{}, fmt.Errorf("run bare bench: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	c, err := DialBare(ctx, "ws://"+h.addr+"/relay")
	if err != nil {
		return Result{}, fmt.Errorf("run bare bench: %w", err)
	}

	served := make(chan error, 1)
	go func() { served <- c.Serve() }()

	s, err := h.conn.Accept(ctx)
	if err != nil {
		_ = c.Close()
		<-served

		return Result{}, fmt.Errorf("run bare bench: %w", err)
	}

	res, floodErr := measure(ctx, ClientBare, s, o.Plan)

	closeErr := c.Close()
	serveErr := <-served
	s.Close()

	if err := errors.Join(floodErr, closeErr, serveErr); err != nil {
		return res, fmt.Errorf("run bare bench: %w", err)
	}

	return res, nil
}

// measure runs one flood on s and reads the process's allocation and CPU
// counters around it.
func measure(ctx context.Context, client string, s *Session, p Plan) (Result, error) {
	runtime.GC()

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := CPUTime()

	st, err := s.Flood(ctx, p)

	cpu1 := CPUTime()
	runtime.ReadMemStats(&after)

	n := float64(p.Events)
	res := Result{
		Client:         client,
		Events:         p.Events,
		Replies:        st.Replies,
		Duplicates:     st.Duplicates,
		Unmatched:      st.Unmatched,
		Elapsed:        st.Elapsed,
		Latency:        percentiles(st.Latencies),
		AllocsPerEvent: float64(after.Mallocs-before.Mallocs) / n,
		BytesPerEvent:  float64(after.TotalAlloc-before.TotalAlloc) / n,
		CPUPerEvent:    time.Duration(float64(cpu1-cpu0) / n),
	}

	if st.Messages > 0 {
		res.RepliesPerMessage = float64(st.Replies) / float64(st.Messages)
	}

	if st.Elapsed > 0 {
		res.EventsPerSec = float64(st.Replies) / st.Elapsed.Seconds()
	}

	res.PeakRSS, res.PeakRSSSource = PeakRSS()

	return res, err
}

// Comparison is the outcome of alternating rounds against the bare client
// and the relay.
type Comparison struct {
	// Rounds holds every run in the order it ran: bare, relay, bare, ...
	Rounds []Result `json:"rounds"`
	// Bare and Relay are the runs of median throughput of each client.
	Bare  Result `json:"bare"`
	Relay Result `json:"relay"`
	// Ratio is Relay.EventsPerSec / Bare.EventsPerSec.
	Ratio float64 `json:"ratio"`
}

// Compare runs rounds pairs of floods, alternating bare and relay, and
// reports the median run of each client and their throughput ratio.
func (h *Harness) Compare(ctx context.Context, o Options, rounds int) (Comparison, error) {
	if rounds <= 0 {
		return Comparison{}, fmt.Errorf("compare: rounds %d must be positive", rounds)
	}

	var cmp Comparison
	var bare, relay []Result

	for range rounds {
		b, err := h.RunBare(ctx, o)
		cmp.Rounds = append(cmp.Rounds, b)
		if err != nil {
			return cmp, fmt.Errorf("compare: %w", err)
		}
		bare = append(bare, b)

		r, err := h.RunRelay(ctx, o)
		cmp.Rounds = append(cmp.Rounds, r)
		if err != nil {
			return cmp, fmt.Errorf("compare: %w", err)
		}
		relay = append(relay, r)
	}

	cmp.Bare, cmp.Relay = median(bare), median(relay)
	if cmp.Bare.EventsPerSec > 0 {
		cmp.Ratio = cmp.Relay.EventsPerSec / cmp.Bare.EventsPerSec
	}

	return cmp, nil
}

// median returns the run of median throughput (the lower middle one of an
// even count).
func median(rs []Result) Result {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b Result) int {
		switch {
		case a.EventsPerSec < b.EventsPerSec:
			return -1
		case a.EventsPerSec > b.EventsPerSec:
			return 1
		default:
			return 0
		}
	})

	return s[(len(s)-1)/2]
}

// IdleResult describes a connected relay gateway left idle.
type IdleResult struct {
	// Duration is how long the gateway was watched.
	Duration time.Duration `json:"duration_ns"`
	// CPU is the process's CPU time (user and system) over Duration.
	CPU time.Duration `json:"cpu_ns"`
	// RSS is the process's resident set size at the end, from RSSSource.
	RSS       uint64 `json:"rss_bytes"`
	RSSSource string `json:"rss_source"`
	// HeapInUse is the Go heap in use at the end.
	HeapInUse uint64 `json:"heap_in_use_bytes"`
	// Goroutines counts the process's goroutines at the end.
	Goroutines int `json:"goroutines"`
}

// Idle connects a relay gateway, lets it settle, then watches it for d
// without traffic and reports the process's CPU time and memory. The
// connector is in the same process and idle too.
func (h *Harness) Idle(ctx context.Context, d time.Duration, o Options) (IdleResult, error) {
	o = o.withDefaults()

	cctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	gw, err := h.connectGateway(cctx, o)
	if err != nil {
		return IdleResult{}, fmt.Errorf("idle bench: %w", err)
	}

	runtime.GC()

	cpu0 := CPUTime()
	timer := time.NewTimer(d)

	var waitErr error
	select {
	case <-timer.C:
	case <-ctx.Done():
		timer.Stop()
		waitErr = ctx.Err()
	}

	res := IdleResult{Duration: d, CPU: CPUTime() - cpu0, Goroutines: runtime.NumGoroutine()}
	res.RSS, res.RSSSource = CurrentRSS()

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.HeapInUse = ms.HeapInuse

	stopCtx, stopCancel := context.WithTimeout(context.Background(), o.Timeout)
	defer stopCancel()

	stopErr := gw.adapter.Disconnect(stopCtx)
	gw.session.Close()

	if err := errors.Join(waitErr, stopErr); err != nil {
		return res, fmt.Errorf("idle bench: %w", err)
	}

	return res, nil
}
