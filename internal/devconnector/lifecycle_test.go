package devconnector

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/wire"
)

func TestListenAndServeStopsWithContext(t *testing.T) {
	c, err := New(Config{Secrets: secrets})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.ListenAndServe(ctx, "127.0.0.1:0") }()

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(waitLimit):
		t.Fatal("ListenAndServe did not return")
	}

	c2, err := New(Config{Secrets: secrets})
	require.NoError(t, err)
	err = c2.ListenAndServe(context.Background(), "256.0.0.1:1")
	assert.ErrorContains(t, err, "listen")
	require.NoError(t, c2.Close(ctxT(t)))
}

func TestHandlerOnAnotherServerIsClosedByClose(t *testing.T) {
	c, err := New(Config{Secrets: secrets})
	require.NoError(t, err)
	hs := httptest.NewServer(c.Handler())
	defer hs.Close()

	s := &server{Connector: c, base: hs.URL}
	g := connect(t, s, "gw-1", "s3cret-one")
	ended := make(chan error, 1)
	go func() {
		for {
			if _, _, err := g.ws.ReadMessage(); err != nil {
				ended <- err
				return
			}
		}
	}()

	require.NoError(t, c.Close(ctxT(t)))
	var ce *websocket.CloseError
	require.ErrorAs(t, <-ended, &ce)
	assert.Equal(t, websocket.CloseGoingAway, ce.Code)
}

// The two halves use different timings on purpose, so that neither depends
// on how fast a loaded machine schedules: the answering gateway gets a read
// timeout far longer than the test, and the test checks that each of its
// pongs pushes the read deadline back; the silent gateway gets a short read
// timeout, and the test only waits for it to be dropped, however late.
func TestSilentGatewayIsDroppedAndAnsweringOneIsKept(t *testing.T) {
	t.Run("answering gateway: each pong pushes the read deadline back", func(t *testing.T) {
		c, err := New(Config{Secrets: secrets, PingInterval: 10 * time.Millisecond,
			ReadTimeout: time.Hour})
		require.NoError(t, err)
		pongs := make(chan struct{}, 1)
		c.onExtend = func(cause string) {
			if cause != "pong" {
				return
			}
			select {
			case pongs <- struct{}{}:
			default:
			}
		}
		s := serveConnector(t, c)

		// This gateway reads, so its default ping handler answers with pongs.
		alive := connect(t, s, "gw-1", "s3cret-one")
		readErr := make(chan error, 1)
		go func() {
			for {
				if _, _, err := alive.ws.ReadMessage(); err != nil {
					readErr <- err
					return
				}
			}
		}()
		for range 3 {
			select {
			case <-pongs:
			case <-time.After(waitLimit):
				t.Fatal("no pong extended the read deadline")
			}
		}
		assert.True(t, s.Connected(), "a gateway answering pings stays connected")
		_ = alive.ws.Close()
		<-readErr
	})

	t.Run("silent gateway: dropped after the read timeout", func(t *testing.T) {
		s := startServer(t, Config{Secrets: secrets, PingInterval: time.Hour,
			ReadTimeout: 30 * time.Millisecond})

		// This one never reads nor writes after its hello: the connector
		// hears nothing for longer than the read timeout and drops it.
		silent := connect(t, s, "gw-1", "s3cret-one")
		defer silent.ws.Close()
		_, err := s.WaitStats(ctxT(t), func(st Stats) bool {
			return st.Handshakes == 1 && st.Connected == 0
		})
		require.NoError(t, err)
	})
}

func TestWaitOutboundReturnsTheRecords(t *testing.T) {
	s := startServer(t, Config{Secrets: secrets})
	g := connect(t, s, "gw-1", "s3cret-one")
	defer g.bye()

	frame, err := wire.AppendOutbound(nil, "r1", sendTo("c", "guild_id", "nope"))
	require.NoError(t, err)
	g.send(frame)

	recs, err := s.WaitOutbound(ctxT(t), 1)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, DeclinedError, recs[0].Result.Error)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.WaitOutbound(ctx, 2)
	assert.ErrorIs(t, err, context.Canceled)
}
