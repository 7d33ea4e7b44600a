package wsrelay_test

import (
	"bytes"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/adapters/wsrelay"
	"github.com/relay-go/relay/adapters/wsrelay/wsrelaytest"
)

// helloBlocker dials connections whose data messages, once armed, are never
// written: each blocks until the connection closes. A link dialed while it
// is armed never gets its hellos out, so a close the connector sends right
// after the upgrade ends the link while its dial still waits for them.
type helloBlocker struct {
	armed atomic.Bool
}

func (b *helloBlocker) dialer() *websocket.Dialer {
	return &websocket.Dialer{
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			if err != nil || !b.armed.Load() {
				return c, err
			}

			return &stuckConn{Conn: c, closed: make(chan struct{})}, nil
		},
	}
}

// stuckConn blocks every WebSocket text frame written after the upgrade
// response was read, until the connection closes or the connector's close
// frame arrived (in this test the connector sends nothing else; its first
// byte, 0x88, never occurs in an HTTP response). Other frames pass.
type stuckConn struct {
	net.Conn
	upgraded  atomic.Bool
	closeOnce sync.Once
	closed    chan struct{}
}

func (c *stuckConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.upgraded.Store(true)
	}
	if bytes.IndexByte(p[:n], 0x88) >= 0 {
		c.release()
	}

	return n, err
}

func (c *stuckConn) Write(p []byte) (int, error) {
	const opText = 0x1
	if c.upgraded.Load() && len(p) > 0 && p[0]&0x0f == opText {
		<-c.closed
		return 0, net.ErrClosed
	}

	return c.Conn.Write(p)
}

func (c *stuckConn) Close() error {
	c.release()
	return c.Conn.Close()
}

func (c *stuckConn) release() { c.closeOnce.Do(func() { close(c.closed) }) }

func TestUnauthorizedCloseDuringTheHelloWriteRedialsAtOnce(t *testing.T) {
	var blocker helloBlocker
	srv := wsrelaytest.NewServer(t, wsrelaytest.WithSecrets(testGateway, testSecret),
		wsrelaytest.WithAuthPolicy(wsrelaytest.CloseAfterUpgrade))
	gate := newGatedAfter()
	cfg := testConfig(srv)
	cfg.GatewayID, cfg.Secret = testGateway, testSecret
	cfg.After, cfg.Dialer = gate.After, blocker.dialer()
	tr := newTransport(t, cfg)
	connectAndHandshake(t, tr)

	blocker.armed.Store(true)
	srv.SetSecrets(testGateway)
	require.NoError(t, srv.Drop())
	gate.release(t, time.Second)

	// The re-dial is closed with 4401 before its hellos are out: a
	// provisional refusal, so the fresh-token re-dial follows at once and
	// its own 4401 is the revocation.
	waitRevoked(t, tr)
	assert.Equal(t, 3, srv.DialCount())
	assert.Empty(t, gate.calls, "no backoff before the fresh-token re-dial")
	_, err := tr.Handshake(testCtx(t))
	require.ErrorIs(t, err, wsrelay.ErrRevoked)
}
