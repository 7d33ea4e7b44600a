package wsrelay_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/relay-go/relay/adapters/wsrelay"
	"github.com/relay-go/relay/adapters/wsrelay/wsrelaytest"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
)

func TestGoIdle(t *testing.T) {
	tests := []struct {
		name    string
		opts    []wsrelaytest.Option
		wantErr string
	}{
		{name: "acknowledged"},
		{
			name:    "not acknowledged",
			opts:    []wsrelaytest.Option{wsrelaytest.WithoutIdleAck()},
			wantErr: "go idle: no going_idle_ack within 100ms: context deadline exceeded",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := wsrelaytest.NewServer(t, tt.opts...)
			cfg := testConfig(srv)
			cfg.IdleAckTimeout = 100 * time.Millisecond
			tr := newTransport(t, cfg)
			connectAndHandshake(t, tr)

			err := tr.GoIdle(testCtx(t))

			require.NoError(t, srv.NextGoingIdle(testCtx(t)))
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.True(t, tr.SendOutbound(testCtx(t), sendAction("x")).Success, "still serving")
		})
	}
}

func TestGoIdleWithoutLink(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	tr := newTransport(t, testConfig(srv))

	require.ErrorIs(t, tr.GoIdle(testCtx(t)), wsrelay.ErrNotConnected)
	closed, err := tr.GoDormant(testCtx(t))
	require.ErrorIs(t, err, wsrelay.ErrNotConnected)
	assert.False(t, closed)
}

func TestGoDormantClosesAndRedialsOnWake(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	gate := newGatedAfter()
	metrics := newFakeMetrics()
	cfg := testConfig(srv)
	cfg.After, cfg.Metrics = gate.After, metrics
	cfg.BackoffMin = 2 * time.Second
	tr := newTransport(t, cfg)
	connectAndHandshake(t, tr)
	require.True(t, metrics.nextUp(t))

	closed, err := tr.GoDormant(testCtx(t))

	require.NoError(t, err)
	assert.True(t, closed)
	code, err := srv.NextClose(testCtx(t))
	require.NoError(t, err)
	assert.Equal(t, websocket.CloseNormalClosure, code)
	assert.False(t, metrics.nextUp(t))
	assert.Equal(t, domain.ResultNotConnected, tr.SendOutbound(testCtx(t), sendAction("x")))

	// Wake: the supervisor re-dials after BackoffMin.
	gate.release(t, 2*time.Second)
	waitHandshake(t, srv, tr, 2)
	assert.Equal(t, int64(0), metrics.reconnects.Load(), "a wake is not a reconnect")
	assert.True(t, tr.SendOutbound(testCtx(t), sendAction("after wake")).Success)
}

func TestGoDormantWithoutAckKeepsTheLink(t *testing.T) {
	srv := wsrelaytest.NewServer(t, wsrelaytest.WithoutIdleAck())
	cfg := testConfig(srv)
	cfg.IdleAckTimeout = 50 * time.Millisecond
	tr := newTransport(t, cfg)
	connectAndHandshake(t, tr)

	closed, err := tr.GoDormant(testCtx(t))

	require.Error(t, err)
	assert.False(t, closed)
	assert.True(t, tr.SendOutbound(testCtx(t), sendAction("x")).Success)
	assert.Equal(t, 1, srv.DialCount())
}

func TestDisconnectSendsNormalCloseAndNeverRedials(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	gate := newGatedAfter()
	cfg := testConfig(srv)
	cfg.After = gate.After
	tr := newTransport(t, cfg)
	connectAndHandshake(t, tr)

	require.NoError(t, tr.Disconnect(testCtx(t)))

	code, err := srv.NextClose(testCtx(t))
	require.NoError(t, err)
	assert.Equal(t, websocket.CloseNormalClosure, code)
	assert.Empty(t, gate.calls, "no re-dial is scheduled")
	assert.Equal(t, 1, srv.DialCount())
	require.ErrorIs(t, tr.Connect(testCtx(t)), wsrelay.ErrClosed)
	_, err = tr.Handshake(testCtx(t))
	require.ErrorIs(t, err, wsrelay.ErrClosed)
	require.ErrorIs(t, tr.GoIdle(testCtx(t)), wsrelay.ErrClosed)
}

func TestDisconnectDuringBackoffStopsTheSupervisor(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	gate := newGatedAfter()
	cfg := testConfig(srv)
	cfg.After = gate.After
	tr := newTransport(t, cfg)
	connectAndHandshake(t, tr)
	require.NoError(t, srv.Drop())
	gate.next(t) // the supervisor waits out a backoff that never fires

	require.NoError(t, tr.Disconnect(testCtx(t)))

	assert.Equal(t, 1, srv.DialCount())
}

func TestDisconnectBoundedByContext(t *testing.T) {
	srv := wsrelaytest.NewServer(t, wsrelaytest.WithResponder(
		func(wsrelaytest.Outbound) wsrelaytest.Reply { return wsrelaytest.Reply{Hold: true} }))
	cfg := testConfig(srv)
	cfg.DrainGrace = time.Minute
	tr := newTransport(t, cfg)
	connectAndHandshake(t, tr)
	result := make(chan domain.SendResult, 1)
	go func() { result <- tr.SendOutbound(context.Background(), sendAction("held")) }()
	_, err := srv.NextOutbound(testCtx(t))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(testCtx(t), 50*time.Millisecond)
	defer cancel()

	start := time.Now()
	err = tr.Disconnect(ctx)

	assert.Less(t, time.Since(start), 5*time.Second, "the drain grace is cut by ctx")
	if err != nil {
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.NoError(t, tr.Disconnect(testCtx(t)), "a later call waits for the end")
	}
	assert.Equal(t, domain.ResultClosed, waitFor(t, result))
}

func TestManyConcurrentSendersAcrossDisconnect(t *testing.T) {
	const senders = 32

	srv := wsrelaytest.NewServer(t)
	tr := newTransport(t, testConfig(srv))
	connectAndHandshake(t, tr)
	ctx := testCtx(t)

	var wg sync.WaitGroup
	results := make(chan domain.SendResult, senders*8)
	for range senders {
		wg.Go(func() {
			for range 8 {
				results <- tr.SendOutbound(ctx, sendAction("x"))
			}
		})
	}
	require.NoError(t, tr.Disconnect(ctx))
	wg.Wait()
	close(results)

	for r := range results {
		if !r.Success {
			assert.Equal(t, domain.ResultClosed, r, "every call gets an answer")
		}
	}
}

func TestModuleProvidesTheTransportAndDisconnectsOnStop(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	var tr ports.Transport
	var concrete *wsrelay.Transport
	app := fxtest.New(t, wsrelay.Provide(testConfig(srv)), fx.Populate(&tr, &concrete))
	app.RequireStart()
	require.Same(t, concrete, tr)
	require.NoError(t, tr.Connect(testCtx(t)))
	_, err := tr.Handshake(testCtx(t))
	require.NoError(t, err)

	app.RequireStop()

	assert.Equal(t, domain.ResultClosed, tr.SendOutbound(testCtx(t), sendAction("x")))
}

func TestModuleRejectsAnInvalidConfig(t *testing.T) {
	app := fx.New(wsrelay.Provide(wsrelay.Config{}), fx.Invoke(func(ports.Transport) {}),
		fx.NopLogger)

	require.Error(t, app.Err())
	assert.Contains(t, app.Err().Error(), "url is required")
}
