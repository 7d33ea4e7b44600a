package wsrelay_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/adapters/wsrelay/wsrelaytest"
	"github.com/relay-go/relay/domain"
)

func TestHeldCallsNeverTimeOutEarly(t *testing.T) {
	const timeout = 150 * time.Millisecond
	srv := wsrelaytest.NewServer(t)
	cfg := testConfig(srv)
	cfg.OutboundTimeout = timeout
	tr := newTransport(t, cfg)
	connectAndHandshake(t, tr)
	srv.SetResponder(func(wsrelaytest.Outbound) wsrelaytest.Reply {
		return wsrelaytest.Reply{Hold: true}
	})
	ctx := testCtx(t)

	type timed struct {
		res     domain.SendResult
		elapsed time.Duration
	}
	send := func(name string) <-chan timed {
		ch := make(chan timed, 1)
		go func() {
			start := time.Now()
			res := tr.SendOutbound(ctx, sendAction(name))
			ch <- timed{res: res, elapsed: time.Since(start)}
		}()

		return ch
	}

	first := send("first")
	_, err := srv.NextOutbound(ctx)
	require.NoError(t, err)
	// The second call is written while the sweeper waits for the first.
	second := send("second")

	for _, ch := range []<-chan timed{first, second} {
		got := waitFor(t, ch)
		assert.Equal(t, domain.ResultTimedOut, got.res)
		assert.GreaterOrEqual(t, got.elapsed, timeout, "a call never times out early")
	}
}
