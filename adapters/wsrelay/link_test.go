package wsrelay_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/adapters/wsrelay/wsrelaytest"
	"github.com/relay-go/relay/domain"
)

func TestOversizedInputClosesWith1009AndRedials(t *testing.T) {
	tests := []struct {
		name string
		give [][]byte
	}{
		{
			name: "one message over the limit",
			give: [][]byte{bytes.Repeat([]byte("x"), 2048)},
		},
		{
			name: "a partial frame growing over the limit",
			give: [][]byte{
				bytes.Repeat([]byte("x"), 700),
				bytes.Repeat([]byte("y"), 700),
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := wsrelaytest.NewServer(t)
			metrics := newFakeMetrics()
			cfg := testConfig(srv)
			cfg.ReadLimit = 1024
			cfg.Metrics = metrics
			tr := newTransport(t, cfg)
			connectAndHandshake(t, tr)
			assert.True(t, metrics.nextUp(t))

			for _, msg := range tt.give {
				require.NoError(t, srv.Send(msg))
			}

			code, err := srv.NextClose(testCtx(t))
			require.NoError(t, err)
			assert.Equal(t, websocket.CloseMessageTooBig, code)
			assert.False(t, metrics.nextUp(t))
			waitHandshake(t, srv, tr, 2)
			assert.True(t, metrics.nextUp(t))
			assert.Equal(t, int64(1), metrics.reconnects.Load())
		})
	}
}

func TestPingsKeepTheLinkAlive(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	cfg := testConfig(srv)
	cfg.PingInterval, cfg.ReadTimeout = 10*time.Millisecond, 400*time.Millisecond
	tr := newTransport(t, cfg)
	connectAndHandshake(t, tr)

	// Pongs answer pings for longer than the read timeout, with nothing
	// else on the link: it stays up.
	require.NoError(t, srv.WaitPings(testCtx(t), 60))

	assert.Equal(t, 1, srv.DialCount())
	assert.True(t, tr.SendOutbound(testCtx(t), sendAction("x")).Success)
}

func TestHalfOpenLinkIsDetectedAndRedialed(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	metrics := newFakeMetrics()
	cfg := testConfig(srv)
	cfg.PingInterval, cfg.ReadTimeout = 20*time.Millisecond, 300*time.Millisecond
	cfg.Metrics = metrics
	tr := newTransport(t, cfg)
	connectAndHandshake(t, tr)
	assert.True(t, metrics.nextUp(t))

	srv.Stall()

	assert.False(t, metrics.nextUp(t), "silence for the read timeout drops the link")
	require.NoError(t, srv.WaitDials(testCtx(t), 2))
	srv.Resume()
	waitHandshake(t, srv, tr, 2)
	assert.True(t, tr.SendOutbound(testCtx(t), sendAction("x")).Success)
}

func TestBackoffLadder(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	clock := newFakeClock()
	gate := newGatedAfter()
	metrics := newFakeMetrics()
	cfg := testConfig(srv)
	cfg.Now, cfg.After, cfg.Metrics = clock.Now, gate.After, metrics
	cfg.BackoffMin, cfg.BackoffMax, cfg.StableAfter = time.Second, 30*time.Second, time.Minute
	tr := newTransport(t, cfg)
	connectAndHandshake(t, tr)

	// The connector is unavailable: each failed dial doubles the delay up
	// to the cap.
	srv.SetRefuseStatus(http.StatusServiceUnavailable)
	require.NoError(t, srv.Drop())
	for i, want := range []time.Duration{1, 2, 4, 8, 16, 30, 30} {
		gate.release(t, want*time.Second)
		require.NoError(t, srv.WaitDials(testCtx(t), 2+i))
	}
	srv.SetRefuseStatus(0)
	gate.release(t, 30*time.Second)
	waitHandshake(t, srv, tr, 2)
	assert.Equal(t, int64(8), metrics.reconnects.Load())

	// A link that dropped before StableAfter keeps climbing.
	require.NoError(t, srv.Drop())
	gate.release(t, 30*time.Second)
	waitHandshake(t, srv, tr, 3)

	// A link that stayed up StableAfter starts the ladder again.
	clock.Advance(time.Minute)
	require.NoError(t, srv.Drop())
	gate.release(t, time.Second)
	waitHandshake(t, srv, tr, 4)

	assert.Equal(t, 11, srv.DialCount(), "exactly one dial per backoff step")
}

func TestJitterShapesTheDelay(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	gate := newGatedAfter()
	cfg := testConfig(srv)
	cfg.After = gate.After
	cfg.Jitter = func(d time.Duration) time.Duration { return d / 4 }
	var logs logBuffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	tr := newTransport(t, cfg)
	connectAndHandshake(t, tr)

	require.NoError(t, srv.Drop())

	gate.release(t, 250*time.Millisecond)
	waitHandshake(t, srv, tr, 2)
	assert.Contains(t, logs.String(), `msg="relay reconnecting" delay=250ms`,
		"the delay logged is the one waited")
}

func TestDisableReconnect(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	metrics := newFakeMetrics()
	cfg := testConfig(srv)
	cfg.DisableReconnect, cfg.Metrics = true, metrics
	tr := newTransport(t, cfg)
	connectAndHandshake(t, tr)
	require.True(t, metrics.nextUp(t))

	require.NoError(t, srv.Drop())
	require.False(t, metrics.nextUp(t))

	_, err := tr.Handshake(testCtx(t))
	require.Error(t, err)
	assert.Equal(t, domain.ResultNotConnected, tr.SendOutbound(testCtx(t), sendAction("x")))
	assert.Equal(t, 1, srv.DialCount())

	// The owner may connect again by hand.
	connectAndHandshake(t, tr)
	assert.True(t, tr.SendOutbound(testCtx(t), sendAction("y")).Success)
}
