package wsrelay_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/adapters/wsrelay/wsrelaytest"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
)

func TestDisconnectIsBoundedByContextWhileAHandlerBlocks(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	tr := newTransport(t, testConfig(srv))
	entered, release := make(chan struct{}), make(chan struct{})
	tr.SetHandlers(ports.Handlers{Inbound: func(domain.MessageEvent, ports.Delivery) {
		close(entered)
		<-release
	}})
	connectAndHandshake(t, tr)
	require.NoError(t, srv.SendInbound(domain.MessageEvent{Text: "hi"}, ""))
	waitFor(t, entered)

	ctx, cancel := context.WithTimeout(testCtx(t), 200*time.Millisecond)
	defer cancel()
	returned := make(chan error, 1)
	go func() { returned <- tr.Disconnect(ctx) }()

	select {
	case err := <-returned:
		require.ErrorIs(t, err, context.DeadlineExceeded)
	case <-time.After(waitTimeout):
		close(release)
		t.Fatal("Disconnect ignored its context while a handler blocked the reader")
	}

	// Once the handler returns, the transport finishes stopping on its own.
	close(release)
	require.NoError(t, tr.Disconnect(testCtx(t)), "a later call waits for the end")
	code, err := srv.NextClose(testCtx(t))
	require.NoError(t, err)
	assert.NotZero(t, code)
}
