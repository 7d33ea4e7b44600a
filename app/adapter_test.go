package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/relay-go/relay/app"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/mocks"
	"github.com/relay-go/relay/ports"
)

func TestNewAdapterValidation(t *testing.T) {
	tests := []struct {
		name string
		give app.Config
		want []string
	}{
		{name: "zero config is valid", give: app.Config{}},
		{
			name: "negative queue capacity",
			give: app.Config{QueueCapacity: -1},
			want: []string{"queue capacity -1 is negative"},
		},
		{
			name: "negative idle timeout",
			give: app.Config{IdleTimeout: -time.Second},
			want: []string{"idle timeout -1s is negative"},
		},
		{
			name: "negative interrupt timeout",
			give: app.Config{InterruptTimeout: -time.Second},
			want: []string{"interrupt timeout -1s is negative"},
		},
		{
			name: "every problem at once",
			give: app.Config{
				QueueCapacity: -2,
				IdleTimeout:   -time.Second,
				Descriptor:    domain.Descriptor{MaxMessageLength: -5, LenUnit: "bytes"},
			},
			want: []string{
				"queue capacity -2 is negative",
				"idle timeout -1s is negative",
				"max message length -5 is negative",
				`length unit "bytes"`,
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := app.NewAdapter(tt.give)
			if len(tt.want) == 0 {
				require.NoError(t, err)
				assert.NotNil(t, a)

				return
			}

			require.Error(t, err)
			assert.Nil(t, a)

			for _, w := range tt.want {
				assert.ErrorContains(t, err, w)
			}
		})
	}
}

func TestCapabilities(t *testing.T) {
	tests := []struct {
		name       string
		give       *domain.Descriptor // negotiated; nil means not connected
		placeholer domain.Descriptor
		wantMax    int
		wantLen    int // of "a😀"
		wantDraft  bool
		wantCode   bool
		wantEdit   bool
	}{
		{
			name:     "default placeholder before connect",
			wantMax:  domain.DefaultMaxMessageLength,
			wantLen:  2,
			wantEdit: true, // the legacy set of ops
		},
		{
			name:       "configured placeholder before connect",
			placeholer: domain.Descriptor{MaxMessageLength: 50, LenUnit: domain.UnitUTF16},
			wantMax:    50,
			wantLen:    3,
			wantEdit:   true,
		},
		{
			name: "negotiated descriptor after connect",
			give: &domain.Descriptor{
				MaxMessageLength:       4096,
				LenUnit:                domain.UnitUTF16,
				SupportsDraftStreaming: true,
				MarkdownDialect:        "markdown_v2",
				SupportedOps:           []string{"send", "edit"},
			},
			wantMax:   4096,
			wantLen:   3,
			wantDraft: true,
			wantCode:  true,
			wantEdit:  true,
		},
		{
			name: "plain dialect has no code blocks",
			give: &domain.Descriptor{
				MaxMessageLength: 2000, LenUnit: domain.UnitChars, MarkdownDialect: "plain",
				SupportedOps: []string{"send"},
			},
			wantMax: 2000,
			wantLen: 2,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newFakeTransport()
			a, err := app.NewAdapter(app.Config{
				Transport: tr, Sink: newRecordingSink(), Descriptor: tt.placeholer,
			})
			require.NoError(t, err)

			if tt.give != nil {
				tr.descriptor = *tt.give
				require.NoError(t, a.Connect(context.Background()))

				defer func() { require.NoError(t, a.Disconnect(context.Background())) }()
			}

			assert.Equal(t, tt.wantMax, a.MaxMessageLength())
			assert.Equal(t, tt.wantLen, a.LengthFunc()("a😀"))
			assert.Equal(t, tt.wantDraft, a.SupportsDraftStreaming())
			assert.Equal(t, tt.wantCode, a.SupportsCodeBlocks())
			assert.Equal(t, tt.wantEdit, a.SupportsOp(domain.OpEdit))
			assert.True(t, a.AuthorizationIsUpstream())
		})
	}
}

func TestDescriptorIsACopy(t *testing.T) {
	tr := newFakeTransport()
	tr.descriptor.SupportedOps = []string{"send"}
	a := connected(t, tr, newRecordingSink(), nil)

	d := a.Descriptor()
	d.SupportedOps[0] = "edit"

	assert.Equal(t, []string{"send"}, a.Descriptor().SupportedOps)
}

func TestCapabilitiesAreSafeDuringConnect(t *testing.T) {
	tr := newFakeTransport()
	tr.descriptor = domain.Descriptor{MaxMessageLength: 100, LenUnit: domain.UnitUTF16}
	a, err := app.NewAdapter(app.Config{Transport: tr, Sink: newRecordingSink()})
	require.NoError(t, err)

	stop := make(chan struct{})
	var wg sync.WaitGroup

	wg.Add(1)

	go func() {
		defer wg.Done()

		for {
			select {
			case <-stop:
				return
			default:
				_ = a.MaxMessageLength() + a.LengthFunc()("x")
				_ = a.SupportsCodeBlocks() || a.SupportsDraftStreaming()
			}
		}
	}()

	require.NoError(t, a.Connect(context.Background()))
	close(stop)
	wg.Wait()

	assert.Equal(t, 100, a.MaxMessageLength())
	require.NoError(t, a.Disconnect(context.Background()))
}

func TestConnectFailures(t *testing.T) {
	cause := errors.New("boom")
	dialErr := fmt.Errorf("connect relay: dial relay: %w", cause)
	handshakeErr := fmt.Errorf("relay handshake: %w", cause)

	tests := []struct {
		name           string
		give           func(tr *fakeTransport, cfg *app.Config)
		wantErr        error
		wantText       string
		wantCalls      []string
		wantRetryable  bool // a second Connect may succeed
		wantRetryError error
	}{
		{
			name:     "no transport",
			give:     func(_ *fakeTransport, cfg *app.Config) { cfg.Transport = nil },
			wantErr:  app.ErrNoTransport,
			wantText: "connect relay: relay adapter has no transport",
		},
		{
			name:      "no sink",
			give:      func(_ *fakeTransport, cfg *app.Config) { cfg.Sink = nil },
			wantErr:   app.ErrNoSink,
			wantText:  "connect relay: relay adapter has no event sink",
			wantCalls: []string{},
		},
		{
			name:          "dial fails",
			give:          func(tr *fakeTransport, _ *app.Config) { tr.connectErr = dialErr },
			wantErr:       cause,
			wantText:      "connect relay: dial relay: boom",
			wantCalls:     []string{"set_handlers", "connect"},
			wantRetryable: true,
		},
		{
			name:           "handshake fails",
			give:           func(tr *fakeTransport, _ *app.Config) { tr.handshakeErr = handshakeErr },
			wantErr:        cause,
			wantText:       "relay handshake: boom",
			wantCalls:      []string{"set_handlers", "connect", "handshake", "disconnect"},
			wantRetryError: app.ErrClosed,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newFakeTransport()
			cfg := app.Config{Transport: tr, Sink: newRecordingSink()}
			tt.give(tr, &cfg)

			a, err := app.NewAdapter(cfg)
			require.NoError(t, err)

			err = a.Connect(context.Background())
			require.ErrorIs(t, err, tt.wantErr)
			assert.EqualError(t, err, tt.wantText, "each operation is named once")

			if tt.wantCalls != nil {
				assert.Equal(t, tt.wantCalls, append([]string{}, tr.Calls()...))
			}

			if tt.wantRetryable {
				tr.mu.Lock()
				tr.connectErr = nil
				tr.mu.Unlock()

				require.NoError(t, a.Connect(context.Background()))
			} else if tt.wantRetryError != nil {
				assert.ErrorIs(t, a.Connect(context.Background()), tt.wantRetryError)
			}

			require.NoError(t, a.Disconnect(context.Background()))
		})
	}
}

func TestConnectTwiceAndAfterDisconnect(t *testing.T) {
	tr := newFakeTransport()
	a, err := app.NewAdapter(app.Config{Transport: tr, Sink: newRecordingSink()})
	require.NoError(t, err)

	require.NoError(t, a.Connect(context.Background()))
	assert.ErrorIs(t, a.Connect(context.Background()), app.ErrConnected)
	assert.ErrorIs(t, a.BindSink(newRecordingSink()), app.ErrConnected)

	require.NoError(t, a.Disconnect(context.Background()))
	assert.ErrorIs(t, a.Connect(context.Background()), app.ErrClosed)
}

func TestBindSink(t *testing.T) {
	tr := newFakeTransport()
	a, err := app.NewAdapter(app.Config{Transport: tr})
	require.NoError(t, err)

	require.Error(t, a.BindSink(nil))
	require.ErrorIs(t, a.Connect(context.Background()), app.ErrNoSink)

	sink := newRecordingSink()
	require.NoError(t, a.BindSink(sink))
	require.NoError(t, a.Connect(context.Background()))

	tr.inbound(event("c1", "hi"), ports.Delivery{})
	assert.Equal(t, "c1", recv(t, sink.got).ev.Source.ChatID)

	require.NoError(t, a.Disconnect(context.Background()))
}

func TestConnectRegistersHandlersBeforeDialing(t *testing.T) {
	tr := mocks.NewTransport(t)
	desc := domain.Descriptor{Platform: "telegram", MaxMessageLength: 4096, LenUnit: "utf16"}

	mock.InOrder(
		tr.EXPECT().SetHandlers(mock.MatchedBy(func(h ports.Handlers) bool {
			return h.Inbound != nil && h.Interrupt != nil && h.Forward != nil
		})).Return().Once(),
		tr.EXPECT().Connect(mock.Anything).Return(nil).Once(),
		tr.EXPECT().Handshake(mock.Anything).Return(desc, nil).Once(),
		tr.EXPECT().Disconnect(mock.Anything).Return(nil).Once(),
	)

	a, err := app.NewAdapter(app.Config{Transport: tr, Sink: newRecordingSink()})
	require.NoError(t, err)
	require.NoError(t, a.Connect(context.Background()))
	assert.Equal(t, "telegram", a.Descriptor().Platform)
	require.NoError(t, a.Disconnect(context.Background()))
}

// idleTransport is a mocked transport that can go idle.
type idleTransport struct {
	*mocks.Transport
	*mocks.Idler
}

func TestDisconnectGoesIdleFirst(t *testing.T) {
	tests := []struct {
		name    string
		giveErr error
	}{
		{name: "acknowledged"},
		{name: "not acknowledged", giveErr: errors.New("no ack")},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := idleTransport{mocks.NewTransport(t), mocks.NewIdler(t)}
			tr.Transport.EXPECT().SetHandlers(mock.Anything).Return()
			tr.Transport.EXPECT().Connect(mock.Anything).Return(nil)
			tr.Transport.EXPECT().Handshake(mock.Anything).Return(app.DefaultDescriptor(), nil)

			mock.InOrder(
				tr.Idler.EXPECT().GoIdle(mock.Anything).Return(tt.giveErr).Once(),
				tr.Transport.EXPECT().Disconnect(mock.Anything).Return(nil).Once(),
			)

			a, err := app.NewAdapter(app.Config{Transport: tr, Sink: newRecordingSink()})
			require.NoError(t, err)
			require.NoError(t, a.Connect(context.Background()))

			require.NoError(t, a.Disconnect(context.Background()))
			require.NoError(t, a.Disconnect(context.Background()), "idempotent")
		})
	}
}

func TestDisconnectIsNotBlockedByAMissingIdleAck(t *testing.T) {
	tr := idleTransport{mocks.NewTransport(t), mocks.NewIdler(t)}
	tr.Transport.EXPECT().SetHandlers(mock.Anything).Return()
	tr.Transport.EXPECT().Connect(mock.Anything).Return(nil)
	tr.Transport.EXPECT().Handshake(mock.Anything).Return(app.DefaultDescriptor(), nil)
	tr.Transport.EXPECT().Disconnect(mock.Anything).Return(nil).Once()

	// GoIdle never answers: it returns only when its context ends, which
	// only the adapter's IdleTimeout can cause.
	tr.Idler.EXPECT().GoIdle(mock.Anything).RunAndReturn(func(ctx context.Context) error {
		<-ctx.Done()

		return ctx.Err()
	}).Once()

	a, err := app.NewAdapter(app.Config{
		Transport: tr, Sink: newRecordingSink(), IdleTimeout: 10 * time.Millisecond,
	})
	require.NoError(t, err)
	require.NoError(t, a.Connect(context.Background()))

	require.NoError(t, a.Disconnect(context.Background()))
}

func TestDisconnectGoesIdleOnlyWhenConnected(t *testing.T) {
	tr := idleTransport{mocks.NewTransport(t), mocks.NewIdler(t)}
	tr.Transport.EXPECT().Disconnect(mock.Anything).Return(nil).Once()

	a, err := app.NewAdapter(app.Config{Transport: tr})
	require.NoError(t, err)

	require.NoError(t, a.Disconnect(context.Background()))
}

func TestDisconnectIsIdempotentAndConcurrent(t *testing.T) {
	tr := newFakeTransport()
	a := connected(t, tr, newRecordingSink(), nil)

	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)

		go func() {
			defer wg.Done()

			assert.NoError(t, a.Disconnect(context.Background()))
		}()
	}

	wg.Wait()

	assert.Equal(t, 1, countCalls(tr.Calls(), "disconnect"))
}

func TestDisconnectStopsWorkers(t *testing.T) {
	tr := newFakeTransport()
	sink := newRecordingSink()
	sink.holdChat("c1")
	a := connected(t, tr, sink, nil)

	tr.inbound(event("c1", "one"), ports.Delivery{})
	tr.inbound(event("c1", "two"), ports.Delivery{})

	call := recv(t, sink.got)
	require.NoError(t, a.Disconnect(context.Background()))

	// The sink saw its context end and the queued event was dropped.
	assert.ErrorIs(t, call.ctx.Err(), context.Canceled)
	none(t, sink.got)
	assert.Zero(t, a.PendingDeliveries())

	// Later deliveries are refused.
	tr.inbound(event("c1", "three"), ports.Delivery{})
	none(t, sink.got)
}

func TestDisconnectBoundedByContext(t *testing.T) {
	tr := newFakeTransport()
	entered, block := make(chan struct{}), make(chan struct{})
	sink := ports.EventSinkFunc(func(context.Context, domain.MessageEvent) error {
		close(entered)
		<-block // ignores its context

		return nil
	})
	a, err := app.NewAdapter(app.Config{Transport: tr, Sink: sink})
	require.NoError(t, err)
	require.NoError(t, a.Connect(context.Background()))
	tr.inbound(event("c1", "x"), ports.Delivery{})
	recv(t, entered)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()

	err = a.Disconnect(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	// The shutdown went on without the caller: the transport is closed.
	recv(t, tr.disconnects)

	// Once the sink returns, the shutdown completes and a later call
	// reports its result.
	close(block)
	require.NoError(t, a.Disconnect(context.Background()))
}

// ctxTransport is a revoking fake transport whose Disconnect reports the
// state of the context it is given: like a real transport, it would give
// up on closing cleanly when that context has ended.
type ctxTransport struct {
	*revokingTransport
	disconnectCtxErr chan error
}

func (c *ctxTransport) Disconnect(ctx context.Context) error {
	c.disconnectCtxErr <- ctx.Err()

	return c.revokingTransport.Disconnect(ctx)
}

func TestDisconnectTeardownOutlivesTheCallersContext(t *testing.T) {
	tr := &ctxTransport{
		revokingTransport: &revokingTransport{newFakeTransport(), make(chan struct{})},
		disconnectCtxErr:  make(chan error, 1),
	}
	a, err := app.NewAdapter(app.Config{Transport: tr, Sink: newRecordingSink()})
	require.NoError(t, err)
	require.NoError(t, a.Connect(context.Background()))

	// The caller has given up before Disconnect even starts.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	err = a.Disconnect(ctx)
	if err != nil {
		require.ErrorIs(t, err, context.Canceled)
	}

	// The teardown still ran, with a live context.
	require.NoError(t, recv(t, tr.disconnectCtxErr))
	require.NoError(t, a.Disconnect(context.Background()))
	assert.Equal(t, 1, countCalls(tr.Calls(), "disconnect"))
}

func TestDisconnectFromTheSinkCompletes(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	tr := newFakeTransport()
	other := newRecordingSink()
	other.holdChat("c2") // honours its context

	var a *app.Adapter

	got := make(chan error, 1)
	sink := ports.EventSinkFunc(func(ctx context.Context, ev domain.MessageEvent) error {
		if ev.Source.ChatID != "c1" {
			return other.HandleMessage(ctx, ev)
		}

		// An admin command shuts the gateway's relay down, passing on a
		// context derived from the one the sink was given.
		shutdownCtx, cancel := context.WithTimeout(ctx, waitLimit)
		defer cancel()

		got <- a.Disconnect(shutdownCtx)

		return nil
	})

	var err error
	a, err = app.NewAdapter(app.Config{Transport: tr, Sink: sink})
	require.NoError(t, err)
	require.NoError(t, a.Connect(context.Background()))

	tr.inbound(event("c2", "busy"), ports.Delivery{})
	busy := recv(t, other.got)
	tr.inbound(event("c1", "shutdown"), ports.Delivery{})

	require.NoError(t, recv(t, got))

	// Before returning, Disconnect closed the transport and waited for the
	// other chat's sink call, which saw its context cancelled.
	recv(t, tr.disconnects)
	assert.ErrorIs(t, busy.ctx.Err(), context.Canceled)
	tr.inbound(event("c3", "late"), ports.Delivery{})
	none(t, other.got)

	// A later call from outside waits for the calling sink to return too.
	require.NoError(t, a.Disconnect(context.Background()))
	assert.Equal(t, 1, countCalls(tr.Calls(), "disconnect"))
}

func countCalls(calls []string, name string) int {
	n := 0

	for _, c := range calls {
		if c == name {
			n++
		}
	}

	return n
}

// dormantTransport is a fake transport that can go dormant and report
// revocations.
type dormantTransport struct {
	*revokingTransport
	goDormant func(ctx context.Context) (bool, error)
}

func (d *dormantTransport) GoDormant(ctx context.Context) (bool, error) {
	return d.goDormant(ctx)
}

func TestGoDormant(t *testing.T) {
	tests := []struct {
		name string
		give func(ctx context.Context) (bool, error)
		want bool
	}{
		{name: "closed", give: func(context.Context) (bool, error) { return true, nil }, want: true},
		{name: "not closed", give: func(context.Context) (bool, error) { return false, nil }},
		{
			name: "failure is false",
			give: func(context.Context) (bool, error) { return true, errors.New("no ack") },
		},
		{name: "panic is false", give: func(context.Context) (bool, error) { panic("bad") }},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &dormantTransport{
				revokingTransport: &revokingTransport{newFakeTransport(), make(chan struct{})},
				goDormant:         tt.give,
			}
			notifier := mocks.NewFatalNotifier(t)
			a := connected(t, tr, newRecordingSink(), func(c *app.Config) { c.Notifier = notifier })

			assert.Equal(t, tt.want, a.GoDormant(context.Background()))

			// The revocation watch keeps running while dormant.
			reported := make(chan struct{})
			notifier.EXPECT().NotifyFatal(mock.Anything, domain.RelayDisabled()).
				Run(func(context.Context, domain.FatalError) { close(reported) }).Once()
			close(tr.revoked)
			recv(t, reported)
		})
	}
}

func TestGoDormantFallbacks(t *testing.T) {
	tests := []struct {
		name string
		give ports.Transport
	}{
		{name: "no transport"},
		{name: "transport cannot go dormant", give: newFakeTransport()},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := app.NewAdapter(app.Config{Transport: tt.give})
			require.NoError(t, err)

			assert.False(t, a.GoDormant(context.Background()))
		})
	}
}

func TestRevocationReportedOnceAndDisconnects(t *testing.T) {
	tr := &revokingTransport{newFakeTransport(), make(chan struct{})}
	notifier := mocks.NewFatalNotifier(t)
	notifier.EXPECT().NotifyFatal(mock.Anything, mock.MatchedBy(func(e domain.FatalError) bool {
		return e.Code == "relay_disabled" && !e.Retryable &&
			e.Message == "Relay disabled (opted out — recreate the instance to re-enable)"
	})).Return().Once()

	a := connected(t, tr, newRecordingSink(), func(c *app.Config) { c.Notifier = notifier })

	close(tr.revoked)

	// The adapter disconnects the transport by itself: no reconnection.
	recv(t, tr.disconnects)
	require.NoError(t, a.Disconnect(context.Background()))
	assert.Equal(t, 1, countCalls(tr.Calls(), "disconnect"))
	assert.ErrorIs(t, a.Connect(context.Background()), app.ErrClosed)
}

// notifierFunc adapts a function to a ports.FatalNotifier.
type notifierFunc func(ctx context.Context, err domain.FatalError)

func (f notifierFunc) NotifyFatal(ctx context.Context, err domain.FatalError) { f(ctx, err) }

func TestDisconnectFromTheFatalNotifierCompletes(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	tr := &revokingTransport{fakeTransport: newFakeTransport(), revoked: make(chan struct{})}

	var (
		a        *app.Adapter
		notified atomic.Int32
	)

	got := make(chan error, 1)
	notifier := notifierFunc(func(ctx context.Context, _ domain.FatalError) {
		notified.Add(1)

		// The adapter was torn down before it reported the revocation.
		assert.Equal(t, 1, countCalls(tr.Calls(), "disconnect"))

		// A gateway that shuts the relay down on a fatal error.
		got <- a.Disconnect(ctx)
	})

	var err error
	a, err = app.NewAdapter(app.Config{Transport: tr, Sink: newRecordingSink(), Notifier: notifier})
	require.NoError(t, err)
	require.NoError(t, a.Connect(context.Background()))

	close(tr.revoked)

	require.NoError(t, recv(t, got))
	require.NoError(t, a.Disconnect(context.Background()))
	assert.Equal(t, int32(1), notified.Load(), "reported exactly once")
	assert.Equal(t, 1, countCalls(tr.Calls(), "disconnect"))
}

func TestDisconnectWaitsForANotificationInFlight(t *testing.T) {
	tr := &revokingTransport{fakeTransport: newFakeTransport(), revoked: make(chan struct{})}
	entered, release := make(chan struct{}), make(chan struct{})
	notifier := notifierFunc(func(context.Context, domain.FatalError) {
		close(entered)
		<-release
	})

	a, err := app.NewAdapter(app.Config{Transport: tr, Sink: newRecordingSink(), Notifier: notifier})
	require.NoError(t, err)
	require.NoError(t, a.Connect(context.Background()))

	close(tr.revoked)
	recv(t, entered)

	// From outside, Disconnect waits for the notifier to return.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()

	require.ErrorIs(t, a.Disconnect(ctx), context.DeadlineExceeded)

	close(release)
	require.NoError(t, a.Disconnect(context.Background()))
}

func TestRevocationLatchedBeforeConnect(t *testing.T) {
	tr := &revokingTransport{newFakeTransport(), make(chan struct{})}
	close(tr.revoked)

	reported := make(chan struct{})
	notifier := mocks.NewFatalNotifier(t)
	notifier.EXPECT().NotifyFatal(mock.Anything, domain.RelayDisabled()).
		Run(func(context.Context, domain.FatalError) { close(reported) }).Once()

	connected(t, tr, newRecordingSink(), func(c *app.Config) { c.Notifier = notifier })
	recv(t, reported)
}

func TestNoRevocationNoFatal(t *testing.T) {
	tr := &revokingTransport{newFakeTransport(), make(chan struct{})}
	notifier := mocks.NewFatalNotifier(t) // any call fails the test

	a := connected(t, tr, newRecordingSink(), func(c *app.Config) { c.Notifier = notifier })
	require.NoError(t, a.Disconnect(context.Background()))

	// A revocation latched after a deliberate disconnect is not reported.
	close(tr.revoked)
}

func TestRevocationWithoutNotifierIsLogged(t *testing.T) {
	tr := &revokingTransport{newFakeTransport(), make(chan struct{})}
	logs := &logBuffer{}
	connected(t, tr, newRecordingSink(), func(c *app.Config) { c.Logger = newLogger(logs) })

	close(tr.revoked)
	recv(t, tr.disconnects)
	assert.Contains(t, logs.String(), "relay_disabled")
}
