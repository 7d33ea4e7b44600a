package wsrelay_test

import (
	"context"
	"sync"
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

func TestSendersRacingGoDormantSeeOnlyCleanResults(t *testing.T) {
	const (
		senders = 32
		cycles  = 5
	)

	srv := wsrelaytest.NewServer(t)
	tr := newTransport(t, testConfig(srv))
	connectAndHandshake(t, tr)
	ctx := testCtx(t)

	results := make(chan domain.SendResult, 256)
	counted := make(chan map[domain.SendResult]int, 1)
	go func() {
		seen := map[domain.SendResult]int{}
		for r := range results {
			if r.Success {
				r = domain.SendResult{Success: true}
			}
			seen[r]++
		}
		counted <- seen
	}()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				results <- tr.SendOutbound(ctx, sendAction("x"))
			}
		})
	}

	for i := range cycles {
		waitHandshake(t, srv, tr, i+1)
		closed, err := tr.GoDormant(ctx)
		require.NoError(t, err)
		require.True(t, closed)
	}
	waitHandshake(t, srv, tr, cycles+1)
	close(stop)
	wg.Wait()
	close(results)

	allowed := []domain.SendResult{{Success: true}, domain.ResultLost,
		domain.ResultNotConnected, domain.ResultClosed}
	for r, n := range waitFor(t, counted) {
		assert.Contains(t, allowed, r, "seen %d times", n)
	}
}
