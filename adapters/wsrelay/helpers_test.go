package wsrelay_test

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/adapters/wsrelay"
	"github.com/relay-go/relay/adapters/wsrelay/wsrelaytest"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
)

const (
	waitTimeout = 5 * time.Second
	testGateway = "gw-1"
	testSecret  = "s3cr3t-value-never-logged"
)

var defaultIdentity = domain.Identity{Platform: "discord", BotID: "bot-1"}

// testCtx returns a context bounded well above any passing wait.
func testCtx(t *testing.T) context.Context {
	t.Helper()

	ctx, cancel := context.WithTimeout(t.Context(), 3*waitTimeout)
	t.Cleanup(cancel)

	return ctx
}

// fakeClock is a clock whose time moves only when told, starting at the
// real time so that upgrade tokens stay valid for the test server.
type fakeClock struct {
	base   time.Time
	offset atomic.Int64
}

func newFakeClock() *fakeClock { return &fakeClock{base: time.Now()} }

func (c *fakeClock) Now() time.Time {
	return c.base.Add(time.Duration(c.offset.Load()))
}

func (c *fakeClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// afterCall is one backoff wait the supervisor asked for.
type afterCall struct {
	d    time.Duration
	fire chan time.Time
}

// gatedAfter records every backoff wait and lets the test release it.
type gatedAfter struct {
	calls chan afterCall
}

func newGatedAfter() *gatedAfter { return &gatedAfter{calls: make(chan afterCall, 256)} }

func (g *gatedAfter) After(d time.Duration) <-chan time.Time {
	c := afterCall{d: d, fire: make(chan time.Time, 1)}
	g.calls <- c

	return c.fire
}

// next returns the next wait, failing the test when none comes.
func (g *gatedAfter) next(t *testing.T) afterCall {
	t.Helper()

	select {
	case c := <-g.calls:
		return c
	case <-time.After(waitTimeout):
		t.Fatal("no backoff wait was requested")
		return afterCall{}
	}
}

// release waits for the next backoff, checks its duration and lets it fire.
func (g *gatedAfter) release(t *testing.T, want time.Duration) {
	t.Helper()

	c := g.next(t)
	assert.Equal(t, want, c.d, "backoff delay")
	c.fire <- time.Now()
}

// immediate is an After that fires at once.
func immediate(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- time.Now()

	return ch
}

// fakeMetrics records the transport's metric calls.
type fakeMetrics struct {
	ports.NopMetrics
	reconnects atomic.Int64
	ups        chan bool
}

func newFakeMetrics() *fakeMetrics { return &fakeMetrics{ups: make(chan bool, 256)} }

func (m *fakeMetrics) Reconnect() { m.reconnects.Add(1) }

func (m *fakeMetrics) Connected(up bool) { m.ups <- up }

func (m *fakeMetrics) nextUp(t *testing.T) bool {
	t.Helper()

	select {
	case up := <-m.ups:
		return up
	case <-time.After(waitTimeout):
		t.Fatal("no Connected call")
		return false
	}
}

// logBuffer collects every log line of a transport, to check what is and
// is not logged.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.String()
}

// testConfig returns a configuration for srv with short timings, an
// immediate backoff and no jitter.
func testConfig(srv *wsrelaytest.Server) wsrelay.Config {
	return wsrelay.Config{
		URL:              srv.URL(),
		Identities:       []domain.Identity{defaultIdentity},
		HandshakeTimeout: 2 * time.Second,
		OutboundTimeout:  2 * time.Second,
		PingInterval:     time.Second,
		ReadTimeout:      5 * time.Second,
		WriteTimeout:     time.Second,
		IdleAckTimeout:   time.Second,
		DrainGrace:       time.Second,
		After:            immediate,
		Jitter:           func(d time.Duration) time.Duration { return d },
	}
}

// newTransport builds a transport and disconnects it at the end of the
// test.
func newTransport(t *testing.T, cfg wsrelay.Config) *wsrelay.Transport {
	t.Helper()

	tr, err := wsrelay.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		assert.NoError(t, tr.Disconnect(ctx))
	})

	return tr
}

// recorder collects handler calls.
type recorder struct {
	inbound    chan delivered
	forwards   chan forwarded
	interrupts chan [2]string
}

type delivered struct {
	ev domain.MessageEvent
	d  ports.Delivery
}

type forwarded struct {
	f domain.Forward
	d ports.Delivery
}

func newRecorder() *recorder {
	return &recorder{
		inbound:    make(chan delivered, 256),
		forwards:   make(chan forwarded, 256),
		interrupts: make(chan [2]string, 256),
	}
}

func (r *recorder) handlers() ports.Handlers {
	return ports.Handlers{
		Inbound:   func(ev domain.MessageEvent, d ports.Delivery) { r.inbound <- delivered{ev, d} },
		Forward:   func(f domain.Forward, d ports.Delivery) { r.forwards <- forwarded{f, d} },
		Interrupt: func(k, c string) { r.interrupts <- [2]string{k, c} },
	}
}

func waitFor[T any](t *testing.T, ch <-chan T) T {
	t.Helper()

	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatal("nothing arrived in time")
		var zero T
		return zero
	}
}

// connectAndHandshake connects tr and waits for its handshake.
func connectAndHandshake(t *testing.T, tr *wsrelay.Transport) domain.Descriptor {
	t.Helper()

	ctx := testCtx(t)
	require.NoError(t, tr.Connect(ctx))
	d, err := tr.Handshake(ctx)
	require.NoError(t, err)

	return d
}

// waitHandshake waits until the server answered its n-th connection and
// the transport completed that handshake.
func waitHandshake(t *testing.T, srv *wsrelaytest.Server, tr *wsrelay.Transport, n int) {
	t.Helper()

	ctx := testCtx(t)
	require.NoError(t, srv.WaitHandshakes(ctx, n))
	_, err := tr.Handshake(ctx)
	require.NoError(t, err)
}
