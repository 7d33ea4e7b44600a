package memory_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/adapters/memory"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
	"github.com/relay-go/relay/ports/transporttest"
)

// testLogger returns a logger that writes through t.Log at debug level.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t: t}, &slog.HandlerOptions{
		Level: slog.LevelDebug,
	}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// captureLogger returns a debug logger and the buffer it writes to.
func captureLogger() (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	h := slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})

	return slog.New(h), buf
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.String()
}

// fakeClock hands out timers that fire only when the test fires them.
type fakeClock struct {
	mu     sync.Mutex
	timers []fakeTimer
	notify chan struct{}
}

type fakeTimer struct {
	d  time.Duration
	ch chan time.Time
}

// After registers a timer of duration d.
func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)

	c.mu.Lock()
	c.timers = append(c.timers, fakeTimer{d: d, ch: ch})
	if c.notify != nil {
		close(c.notify)
		c.notify = nil
	}
	c.mu.Unlock()

	return ch
}

// fire waits until a timer of duration d is registered, then fires the
// oldest such timer.
func (c *fakeClock) fire(t *testing.T, d time.Duration) {
	t.Helper()

	deadline := time.NewTimer(transporttest.WaitTimeout)
	defer deadline.Stop()

	for {
		c.mu.Lock()
		for i, tm := range c.timers {
			if tm.d == d {
				c.timers = append(c.timers[:i], c.timers[i+1:]...)
				c.mu.Unlock()
				tm.ch <- time.Now()

				return
			}
		}
		if c.notify == nil {
			c.notify = make(chan struct{})
		}
		wait := c.notify
		c.mu.Unlock()

		select {
		case <-wait:
		case <-deadline.C:
			t.Fatalf("no timer of %s was started", d)
		}
	}
}

// awaitTimer waits until a timer of duration d is registered, without
// firing it.
func (c *fakeClock) awaitTimer(t *testing.T, d time.Duration) {
	t.Helper()

	deadline := time.NewTimer(transporttest.WaitTimeout)
	defer deadline.Stop()

	for {
		c.mu.Lock()
		for _, tm := range c.timers {
			if tm.d == d {
				c.mu.Unlock()
				return
			}
		}
		if c.notify == nil {
			c.notify = make(chan struct{})
		}
		wait := c.notify
		c.mu.Unlock()

		select {
		case <-wait:
		case <-deadline.C:
			t.Fatalf("no timer of %s was started", d)
		}
	}
}

// waitClosed fails the test unless ch is closed within the wait timeout.
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()

	select {
	case <-ch:
	case <-time.After(transporttest.WaitTimeout):
		t.Fatalf("%s: not closed within %s", what, transporttest.WaitTimeout)
	}
}

// isClosed reports whether ch is closed right now.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// recorder collects handler calls on buffered channels.
type recorder struct {
	inbound    chan delivered
	forwards   chan deliveredForward
	interrupts chan [2]string
}

type delivered struct {
	ev domain.MessageEvent
	d  ports.Delivery
}

type deliveredForward struct {
	f domain.Forward
	d ports.Delivery
}

func newRecorder() *recorder {
	return &recorder{
		inbound:    make(chan delivered, 256),
		forwards:   make(chan deliveredForward, 256),
		interrupts: make(chan [2]string, 256),
	}
}

func (r *recorder) handlers() ports.Handlers {
	return ports.Handlers{
		Inbound:   func(ev domain.MessageEvent, d ports.Delivery) { r.inbound <- delivered{ev, d} },
		Forward:   func(f domain.Forward, d ports.Delivery) { r.forwards <- deliveredForward{f, d} },
		Interrupt: func(key, chat string) { r.interrupts <- [2]string{key, chat} },
	}
}

// start connects tr with r's handlers, completes the handshake and
// registers a Disconnect for the end of the test.
func start(t *testing.T, tr *memory.Transport, r *recorder) domain.Descriptor {
	t.Helper()

	ctx := testContext(t)
	if r != nil {
		tr.SetHandlers(r.handlers())
	}
	require.NoError(t, tr.Connect(ctx))
	t.Cleanup(func() { require.NoError(t, tr.Disconnect(context.Background())) })

	d, err := tr.Handshake(ctx)
	require.NoError(t, err)

	return d
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*transporttest.WaitTimeout)
	t.Cleanup(cancel)

	return ctx
}

func event(text string) domain.MessageEvent {
	return domain.MessageEvent{
		Text:        text,
		MessageType: domain.MessageText,
		Source:      domain.SessionSource{Platform: "discord", ChatID: "chat-1", ChatType: "dm"},
	}
}

func holdAll(memory.Outbound) memory.Reply { return memory.Reply{Hold: true} }
