// Package soak drives a real gateway (the app adapter over the wsrelay
// transport, with a counting sink) against the development connector with
// chaos on, over loopback, and accounts for every inbound delivery and
// every outbound call.
//
// Run is the driver; the tests of this package call it in a short form on
// every "go test ./..." and in a long form behind the soak build tag:
//
//	go test -tags soak -run TestSoak -timeout 30m -v ./internal/soak
//
// # What is counted, and why the count is exact
//
// The connector runs with AlwaysBuffer: every delivery, even one written at
// once to a live link, carries a bufferId and stays pending until the
// gateway acknowledges it. A delivery lost in a dropped link is therefore
// replayed after the next handshake, so a lost delivery is a real loss, not
// the contract's allowance for live traffic (without AlwaysBuffer a live
// delivery caught in a drop is lost by design and could not be told apart).
//
// Delivery is at least once. A delivery the sink took whose inbound_ack was
// lost with its link (queued but unwritten, or written but unread when the
// connection was cut) is, correctly, replayed: the report counts those
// arrivals as Redelivered, distinct from Duplicated, which counts arrivals
// no replay explains (more arrivals beyond the first than frames the
// connector wrote beyond the first, summed over the run). Lost (events
// that never reached the sink), Duplicated, Pending (entries never
// acknowledged) and Hung (outbound callers never answered) must all be
// zero.
//
// # Resources
//
// Goroutines and heap are measured before the connector and the gateway
// start and after both stopped; the scope table's size is checked against
// its capacity.
package soak

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/relay-go/relay/adapters/wsrelay"
	"github.com/relay-go/relay/app"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/internal/devconnector"
)

// Config sizes a soak. Zero fields take the defaults named beside them.
type Config struct {
	// Events is the number of inbound deliveries made. Default 2000.
	Events int
	// Reconnects is the number of forced reconnects (handshakes after the
	// first that did not follow a dormant cycle) to reach. Default 20.
	Reconnects int
	// DormantCycles is the number of GoDormant cycles (idle, ack, close,
	// re-dial) to complete. Default 10.
	DormantCycles int
	// Outbound is the least number of outbound calls made. Default 300.
	Outbound int
	// Callers is the number of concurrent outbound callers. Default 8.
	Callers int
	// Chats is the number of distinct chats the events come from. Default
	// 500.
	Chats int
	// ScopeCapacity is the capacity of the adapter's scope table. Default
	// 128, below Chats so that eviction is exercised.
	ScopeCapacity int
	// Chaos is the connector's chaos; its Seed makes a run reproducible.
	// Default: DefaultChaos.
	Chaos devconnector.Chaos
	// OutboundTimeout is the gateway's outbound timeout. Default 300ms. A
	// call not answered within twice this plus two seconds is slow; one
	// not answered within twice that is hung.
	OutboundTimeout time.Duration
	// Settle bounds the wait, after the load, for the last replays and
	// acknowledgements. Default 60s.
	Settle time.Duration
	// Logger receives the soak's progress. Default: discard.
	Logger *slog.Logger
}

// DefaultChaos is the chaos of a soak that sets none: every fault, often
// enough to force a reconnect every few tens of milliseconds.
func DefaultChaos() devconnector.Chaos {
	c, err := devconnector.ParseChaos("drop=0.003,expire=0.03,delay=0.05:100ms," +
		"noresult=0.01,split=0.3,batch=0.3,drain=80ms")
	if err != nil {
		panic(err)
	}
	c.Seed = 1

	return c
}

func (c Config) withDefaults() Config {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&c.Events, 2000)
	def(&c.Reconnects, 20)
	def(&c.DormantCycles, 10)
	def(&c.Outbound, 300)
	def(&c.Callers, 8)
	def(&c.Chats, 500)
	def(&c.ScopeCapacity, 128)
	if !c.Chaos.Enabled() {
		seed := c.Chaos.Seed
		c.Chaos = DefaultChaos()
		if seed != 0 {
			c.Chaos.Seed = seed
		}
	}
	if c.OutboundTimeout == 0 {
		c.OutboundTimeout = 300 * time.Millisecond
	}
	if c.Settle == 0 {
		c.Settle = 60 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}

	return c
}

// Report holds the figures of one soak.
type Report struct {
	Chaos string
	Seed  uint64

	// Events is the number of deliveries made; Arrivals the number of
	// times the sink was called.
	Events   int
	Arrivals int
	// Lost counts events that never reached the sink.
	Lost int
	// Redelivered counts arrivals beyond the first that a replay explains
	// (an acknowledgement lost with its link); Duplicated those it does
	// not.
	Redelivered int
	Duplicated  int
	// Acked and Pending are the connector's: entries acknowledged, and
	// entries left unacknowledged at the end.
	Acked   int
	Pending int
	// Replayed counts buffered frames the connector wrote again after a
	// handshake.
	Replayed int

	// Handshakes counts completed handshakes; Reconnects those forced by a
	// close the gateway did not ask for; DormantCycles the completed
	// GoDormant cycles.
	Handshakes    int
	Reconnects    int
	DormantCycles int

	// Outbound counts outbound calls, Results their outcomes by kind
	// (app.Outcome), Hung the calls never answered (see Config for the
	// limits), Slow those answered late, Slowest the longest call.
	Outbound int
	Results  map[string]int
	Hung     int
	Slow     int
	Slowest  time.Duration

	// Injected is what the connector's chaos did.
	Injected devconnector.ChaosStats

	GoroutinesBefore, GoroutinesAfter int
	HeapBefore, HeapAfter             uint64
	ScopeLen, ScopeCapacity           int

	Elapsed time.Duration
}

// String formats the report as a Markdown table.
func (r Report) String() string {
	var b strings.Builder
	row := func(k string, v any) { fmt.Fprintf(&b, "| %s | %v |\n", k, v) }

	b.WriteString("| figure | value |\n| --- | --- |\n")
	row("chaos", "`"+r.Chaos+"`")
	row("seed", r.Seed)
	row("elapsed", r.Elapsed.Round(time.Millisecond))
	row("events delivered (buffered path)", r.Events)
	row("sink arrivals", r.Arrivals)
	row("lost", r.Lost)
	row("duplicated (unexplained)", r.Duplicated)
	row("redelivered after a lost ack", r.Redelivered)
	row("acked by the connector", r.Acked)
	row("pending at the end", r.Pending)
	row("buffered frames replayed", r.Replayed)
	row("handshakes", r.Handshakes)
	row("forced reconnects", r.Reconnects)
	row("dormant/wake cycles", r.DormantCycles)
	row("outbound calls", r.Outbound)
	row("outbound results", formatResults(r.Results))
	row("hung callers", r.Hung)
	row("slow callers (answered after a host stall)", r.Slow)
	row("slowest call", r.Slowest.Round(time.Millisecond))
	row("injected drops / expired / drains", fmt.Sprintf("%d / %d / %d",
		r.Injected.Drops, r.Injected.Expired, r.Injected.Drains))
	row("injected delayed / withheld results", fmt.Sprintf("%d / %d",
		r.Injected.Delayed, r.Injected.Withheld))
	row("injected split / batched messages", fmt.Sprintf("%d / %d",
		r.Injected.Splits, r.Injected.Batched))
	row("goroutines before / after", fmt.Sprintf("%d / %d",
		r.GoroutinesBefore, r.GoroutinesAfter))
	row("heap before / after", fmt.Sprintf("%.1f MiB / %.1f MiB",
		float64(r.HeapBefore)/(1<<20), float64(r.HeapAfter)/(1<<20)))
	row("scope table size / capacity", fmt.Sprintf("%d / %d", r.ScopeLen, r.ScopeCapacity))

	return b.String()
}

func formatResults(m map[string]int) string {
	var parts []string
	for _, k := range []string{app.OutcomeSuccess, app.OutcomeFailure, app.OutcomeAmbiguous,
		app.OutcomeTransportError} {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}

	return strings.Join(parts, ", ")
}

// Check returns an error naming every figure that breaks the soak's
// promises: anything lost, duplicated, pending or hung, and a scope table
// over capacity.
func (r Report) Check() error {
	var errs []error
	for _, f := range []struct {
		name string
		n    int
	}{
		{"lost", r.Lost}, {"duplicated", r.Duplicated}, {"pending", r.Pending},
		{"hung", r.Hung},
	} {
		if f.n != 0 {
			errs = append(errs, fmt.Errorf("%d %s", f.n, f.name))
		}
	}
	if r.ScopeLen > r.ScopeCapacity {
		errs = append(errs, fmt.Errorf("scope table holds %d, over its capacity %d",
			r.ScopeLen, r.ScopeCapacity))
	}
	if r.Acked != r.Events {
		errs = append(errs, fmt.Errorf("%d events but %d acknowledged", r.Events, r.Acked))
	}

	return errors.Join(errs...)
}

// ConfigFromEnv overrides the fields of base from environment variables
// read with getenv: RELAY_SOAK_EVENTS, RELAY_SOAK_RECONNECTS,
// RELAY_SOAK_DORMANT, RELAY_SOAK_OUTBOUND (integers), RELAY_SOAK_CHAOS (a
// chaos spec, see devconnector.ChaosSyntax) and RELAY_SOAK_SEED. Unset or
// empty variables leave base's value. The error names the variable.
func ConfigFromEnv(getenv func(string) string, base Config) (Config, error) {
	for _, v := range []struct {
		name string
		p    *int
	}{
		{"RELAY_SOAK_EVENTS", &base.Events},
		{"RELAY_SOAK_RECONNECTS", &base.Reconnects},
		{"RELAY_SOAK_DORMANT", &base.DormantCycles},
		{"RELAY_SOAK_OUTBOUND", &base.Outbound},
	} {
		raw := strings.TrimSpace(getenv(v.name))
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n <= 0 {
			return base, fmt.Errorf("%s: %q is not a positive integer", v.name, raw)
		}
		*v.p = n
	}

	seed := base.Chaos.Seed
	if raw := strings.TrimSpace(getenv("RELAY_SOAK_CHAOS")); raw != "" {
		c, err := devconnector.ParseChaos(raw)
		if err != nil {
			return base, fmt.Errorf("RELAY_SOAK_CHAOS: %w", err)
		}
		base.Chaos = c
	}
	base.Chaos.Seed = seed
	if raw := strings.TrimSpace(getenv("RELAY_SOAK_SEED")); raw != "" {
		n, err := strconv.ParseUint(raw, 10, 64)
		if err != nil {
			return base, fmt.Errorf("RELAY_SOAK_SEED: %q is not an unsigned integer", raw)
		}
		base.Chaos.Seed = n
	}

	return base, nil
}

const (
	gatewayID = "gw-soak"
	secret    = "soak-secret"
)

// Run runs one soak until the load's targets are met and every delivery
// settled, or ctx ends. It returns the report, and an error when the soak
// could not run or finish (the report then holds what was measured).
// Check the report's figures with Report.Check.
func Run(ctx context.Context, cfg Config) (Report, error) {
	cfg = cfg.withDefaults()
	r := Report{Chaos: cfg.Chaos.String(), Seed: cfg.Chaos.Seed, ScopeCapacity: cfg.ScopeCapacity}

	r.GoroutinesBefore, r.HeapBefore = resources()
	start := time.Now()

	err := run(ctx, cfg, &r)
	r.Elapsed = time.Since(start)

	r.GoroutinesAfter = settleGoroutines(r.GoroutinesBefore)
	_, r.HeapAfter = resources()

	return r, err
}

// resources returns the goroutine count and the live heap after a
// collection.
func resources() (int, uint64) {
	runtime.GC()
	runtime.GC()

	var m runtime.MemStats
	runtime.ReadMemStats(&m)

	return runtime.NumGoroutine(), m.HeapAlloc
}

// settleGoroutines waits up to five seconds for the goroutine count to come
// back to want, and returns the count it last saw. Goroutines have no
// completion signal to wait on, so it polls.
func settleGoroutines(want int) int {
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rig is one connector and one gateway.
type rig struct {
	cfg     Config
	log     *slog.Logger
	conn    *devconnector.Connector
	served  chan error
	tr      *wsrelay.Transport
	adapter *app.Adapter
	scopes  *domain.ScopeTable
	sink    *countingSink
}

func run(ctx context.Context, cfg Config, r *Report) error {
	g, err := startRig(ctx, cfg)
	if err != nil {
		return err
	}

	loadErr := g.load(ctx, r)
	settleErr := g.settle(ctx, r)
	g.account(r)
	stopErr := g.stop()

	return errors.Join(loadErr, settleErr, stopErr)
}

func startRig(ctx context.Context, cfg Config) (*rig, error) {
	g := &rig{cfg: cfg, log: cfg.Logger, sink: newCountingSink(cfg.Events)}

	conn, err := devconnector.New(devconnector.Config{
		Secrets:      map[string][]string{gatewayID: {secret}},
		Chaos:        cfg.Chaos,
		AlwaysBuffer: true,
		PingInterval: time.Second,
		ReadTimeout:  5 * time.Second,
		MaxRecords:   1000,
	})
	if err != nil {
		return nil, fmt.Errorf("start soak connector: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start soak connector: %w", err)
	}
	g.conn = conn
	g.served = make(chan error, 1)
	go func() { g.served <- conn.Serve(ln) }()

	g.tr, err = wsrelay.New(wsrelay.Config{
		URL:        "http://" + ln.Addr().String(),
		GatewayID:  gatewayID,
		Secret:     secret,
		Identities: []domain.Identity{{Platform: "discord", BotID: "soak-bot"}},
		// Reconnects take milliseconds: a short, unjittered backoff.
		BackoffMin:       time.Millisecond,
		BackoffMax:       5 * time.Millisecond,
		Jitter:           func(d time.Duration) time.Duration { return d },
		OutboundTimeout:  cfg.OutboundTimeout,
		IdleAckTimeout:   time.Second,
		HandshakeTimeout: 5 * time.Second,
		PingInterval:     time.Second,
		ReadTimeout:      5 * time.Second,
	})
	if err != nil {
		return g, errors.Join(err, g.stop())
	}

	g.scopes = domain.NewScopeTable(cfg.ScopeCapacity)
	g.adapter, err = app.NewAdapter(app.Config{
		Transport: g.tr,
		Sink:      g.sink,
		Store:     g.scopes,
	})
	if err != nil {
		return g, errors.Join(err, g.stop())
	}

	if err := g.adapter.Connect(ctx); err != nil {
		return g, errors.Join(fmt.Errorf("connect soak gateway: %w", err), g.stop())
	}

	return g, nil
}

// stop disconnects the gateway and closes the connector.
func (g *rig) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var errs []error
	if g.adapter != nil {
		if err := g.adapter.Disconnect(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop soak gateway: %w", err))
		}
	} else if g.tr != nil {
		if err := g.tr.Disconnect(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop soak transport: %w", err))
		}
	}
	if err := g.conn.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stop soak connector: %w", err))
	}
	if err := <-g.served; err != nil && !errors.Is(err, devconnector.ErrClosed) {
		errs = append(errs, fmt.Errorf("soak connector serve: %w", err))
	}

	return errors.Join(errs...)
}

// counters of the load, shared by its goroutines.
type counters struct {
	delivered atomic.Int64
	calls     atomic.Int64
	slow      atomic.Int64
	hung      atomic.Int64
	dormant   atomic.Int64

	mu      sync.Mutex
	results map[string]int
	slowest time.Duration
}

func (c *counters) latency(d time.Duration) {
	c.mu.Lock()
	c.slowest = max(c.slowest, d)
	c.mu.Unlock()
}

func (c *counters) result(outcome string) {
	c.mu.Lock()
	c.results[outcome]++
	c.mu.Unlock()
}

// load runs the producer, the outbound callers and the dormant driver until
// every target is met.
func (g *rig) load(ctx context.Context, r *Report) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	c := &counters{results: map[string]int{}}
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	fail := func(err error) {
		select {
		case errc <- err:
		default:
		}
		cancel()
	}

	wg.Go(func() {
		if err := g.produce(ctx, c); err != nil {
			fail(err)
		}
	})
	for i := range g.cfg.Callers {
		wg.Go(func() { g.call(ctx, c, i) })
	}
	wg.Go(func() { g.goDormant(ctx, c) })

	err := g.waitTargets(ctx, c)
	cancel()
	wg.Wait()

	r.Outbound = int(c.calls.Load())
	r.Hung = int(c.hung.Load())
	r.Slow = int(c.slow.Load())
	r.Slowest = c.slowest
	r.DormantCycles = int(c.dormant.Load())
	r.Results = c.results

	select {
	case e := <-errc:
		return e
	default:
		return err
	}
}

// waitTargets returns once every target is met, or ctx ends.
func (g *rig) waitTargets(ctx context.Context, c *counters) error {
	ticker := time.NewTicker(20 * time.Millisecond)
	defer ticker.Stop()

	next := time.Now()
	for {
		st := g.conn.Stats()
		forced := st.Handshakes - 1 - int(c.dormant.Load())
		done := int(c.delivered.Load()) >= g.cfg.Events &&
			forced >= g.cfg.Reconnects &&
			int(c.dormant.Load()) >= g.cfg.DormantCycles &&
			int(c.calls.Load()) >= g.cfg.Outbound
		if time.Now().After(next) || done {
			g.log.Info("soak progress", "delivered", c.delivered.Load(),
				"arrived", g.sink.unique(), "pending", st.Pending, "reconnects", forced,
				"dormant", c.dormant.Load(), "calls", c.calls.Load())
			next = time.Now().Add(5 * time.Second)
		}
		if done {
			return nil
		}

		select {
		case <-ctx.Done():
			return fmt.Errorf("soak load: %w", ctx.Err())
		case <-ticker.C:
		}
	}
}

// event builds the n-th delivery: a guild message for even chats, a DM for
// odd ones, with a unique message id.
func (g *rig) event(n int) domain.MessageEvent {
	chat := n % g.cfg.Chats
	src := domain.SessionSource{
		Platform: "discord",
		ChatID:   "chat-" + strconv.Itoa(chat),
		UserID:   "user-" + strconv.Itoa(chat),
	}
	if chat%2 == 0 {
		src.ChatType = domain.ChatChannel
		src.GuildID = "guild-" + strconv.Itoa(chat%7)
	}

	return domain.MessageEvent{Text: "soak", Source: src, MessageID: msgID(n)}
}

func msgID(n int) string { return "m-" + strconv.Itoa(n) }

// produce makes the deliveries, pausing while the connector holds many
// unacknowledged entries so the buffer stays bounded.
func (g *rig) produce(ctx context.Context, c *counters) error {
	for n := range g.cfg.Events {
		if _, err := g.conn.WaitStats(ctx, func(s devconnector.Stats) bool {
			return s.Pending < 500
		}); err != nil {
			return nil
		}
		if _, err := g.conn.DeliverTo(gatewayID, g.event(n)); err != nil {
			return fmt.Errorf("soak deliver: %w", err)
		}
		c.delivered.Add(1)
	}

	return nil
}

// call makes outbound calls until ctx ends. A call not answered within its
// limit (twice the outbound timeout plus two seconds) counts as slow; one
// not answered within twice that counts as hung. The two are told apart
// because a host that stops scheduling the process for a moment (a busy CI
// machine) fires every timer at once when it resumes: a call that returns
// right then returned by its own timeout, it did not hang.
func (g *rig) call(ctx context.Context, c *counters, caller int) {
	limit := 2*g.cfg.OutboundTimeout + 2*time.Second
	for n := caller; ctx.Err() == nil; n += g.cfg.Callers {
		chat := "chat-" + strconv.Itoa(n%g.cfg.Chats)
		res := make(chan domain.SendResult, 1)
		start := time.Now()
		go func() { res <- g.adapter.Send(context.Background(), chat, "reply", app.SendOptions{}) }()

		out, answered := waitResult(res, limit)
		if !answered {
			c.slow.Add(1)
			if out, answered = waitResult(res, limit); !answered {
				c.hung.Add(1)
				g.log.Error("soak call hung", "chat_id", chat)
				out = <-res
			}
		}
		c.latency(time.Since(start))

		c.calls.Add(1)
		c.result(app.Outcome(out))
		if out == domain.ResultNotConnected {
			// Let the link come back rather than spin.
			select {
			case <-ctx.Done():
			case <-time.After(time.Millisecond):
			}
		}
	}
}

// waitResult waits up to limit for a result.
func waitResult(res <-chan domain.SendResult, limit time.Duration) (domain.SendResult, bool) {
	timer := time.NewTimer(limit)
	defer timer.Stop()

	select {
	case out := <-res:
		return out, true
	case <-timer.C:
		return domain.SendResult{}, false
	}
}

// goDormant runs GoDormant cycles until the target is met: wait for a
// handshake, go dormant, and count the cycle once the gateway re-dialed.
func (g *rig) goDormant(ctx context.Context, c *counters) {
	for ctx.Err() == nil && int(c.dormant.Load()) < g.cfg.DormantCycles {
		if _, err := g.tr.Handshake(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			continue
		}
		before := g.conn.Stats().Handshakes

		dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		closed := g.adapter.GoDormant(dctx)
		cancel()
		if !closed {
			continue
		}

		if _, err := g.conn.WaitStats(ctx, func(s devconnector.Stats) bool {
			return s.Handshakes > before
		}); err != nil {
			return
		}
		c.dormant.Add(1)

		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// settle waits for every delivery to reach the sink and be acknowledged,
// bounded by Config.Settle.
func (g *rig) settle(ctx context.Context, r *Report) error {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Settle)
	defer cancel()

	events := g.sink.expected
	if _, err := g.conn.WaitStats(ctx, func(s devconnector.Stats) bool {
		return s.Pending == 0 && s.Acked >= events
	}); err != nil {
		return fmt.Errorf("soak settle: %w", err)
	}

	return nil
}

// account fills the delivery figures.
func (g *rig) account(r *Report) {
	st := g.conn.Stats()
	r.Events = g.sink.expected
	r.Acked, r.Pending, r.Replayed = st.Acked, st.Pending, st.Replayed
	r.Handshakes = st.Handshakes
	r.Reconnects = st.Handshakes - 1 - r.DormantCycles
	r.Injected = st.Chaos
	r.ScopeLen = g.scopes.Len()

	arrivals, lost, extra := g.sink.tally()
	r.Arrivals, r.Lost = arrivals, lost

	// Every arrival beyond the first of an event needs another frame of it
	// written: the connector writes each event once, then again on every
	// replay until acknowledged. More extra arrivals than extra frames are
	// duplicates no replay explains.
	rewrites := max(0, st.BufferedLive+st.Replayed-r.Events)
	r.Redelivered = min(extra, rewrites)
	r.Duplicated = extra - r.Redelivered
}

// countingSink counts the arrivals of each event by message id.
type countingSink struct {
	expected int

	mu   sync.Mutex
	seen map[string]int
}

func newCountingSink(expected int) *countingSink {
	return &countingSink{expected: expected, seen: make(map[string]int, expected)}
}

// HandleMessage counts ev and accepts it.
func (s *countingSink) HandleMessage(_ context.Context, ev domain.MessageEvent) error {
	s.mu.Lock()
	s.seen[ev.MessageID]++
	s.mu.Unlock()

	return nil
}

func (s *countingSink) unique() int {
	s.mu.Lock()
	defer s.mu.Unlock()

	return len(s.seen)
}

// tally returns the arrivals, the expected events never seen, and the
// arrivals beyond the first of each event.
func (s *countingSink) tally() (arrivals, lost, extra int) {
	s.mu.Lock()
	defer s.mu.Unlock()

	for n := range s.expected {
		k := s.seen[msgID(n)]
		arrivals += k
		if k == 0 {
			lost++
		} else {
			extra += k - 1
		}
	}

	return arrivals, lost, extra
}
