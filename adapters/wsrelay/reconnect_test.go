package wsrelay_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/adapters/wsrelay/wsrelaytest"
)

// holdingHandler holds the first goroutine that logs msg until released.
type holdingHandler struct {
	msg         string
	entered     chan struct{}
	release     chan struct{}
	once        sync.Once
	releaseOnce sync.Once
}

func newHoldingHandler(msg string) *holdingHandler {
	return &holdingHandler{msg: msg, entered: make(chan struct{}), release: make(chan struct{})}
}

func (h *holdingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *holdingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.once.Do(func() {
			close(h.entered)
			<-h.release
		})
	}

	return nil
}

func (h *holdingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h *holdingHandler) WithGroup(string) slog.Handler { return h }

func (h *holdingHandler) let() { h.releaseOnce.Do(func() { close(h.release) }) }

func TestConnectRightAfterALostLinkDialsWhenReconnectIsDisabled(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	hold := newHoldingHandler("relay link lost")
	cfg := testConfig(srv)
	cfg.DisableReconnect, cfg.Logger = true, slog.New(hold)
	tr := newTransport(t, cfg)
	connectAndHandshake(t, tr)
	defer hold.let()

	// The link is down, and its supervisor has not woken yet.
	require.NoError(t, srv.Drop())
	waitFor(t, hold.entered)

	require.NoError(t, tr.Connect(testCtx(t)))
	assert.Equal(t, 2, srv.DialCount(), "Connect dialed anew")

	hold.let()
	_, err := tr.Handshake(testCtx(t))
	require.NoError(t, err)
}
