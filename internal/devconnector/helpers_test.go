package devconnector

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/wire"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const waitLimit = 5 * time.Second

// server is a connector serving on a loopback port for one test.
type server struct {
	*Connector
	base string // http://127.0.0.1:port
}

func startServer(t *testing.T, cfg Config) *server {
	t.Helper()

	c, err := New(cfg)
	require.NoError(t, err)

	return serveConnector(t, c)
}

// serveConnector serves an already built connector on a loopback port until
// the test ends.
func serveConnector(t *testing.T, c *Connector) *server {
	t.Helper()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)

	served := make(chan error, 1)
	go func() { served <- c.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		require.NoError(t, c.Close(ctx))
		require.NoError(t, <-served)
	})

	return &server{Connector: c, base: "http://" + ln.Addr().String()}
}

func (s *server) wsURL() string { return wire.DialURL(s.base) }

// testGateway is a hand-driven gateway link.
type testGateway struct {
	t     *testing.T
	ws    *websocket.Conn
	split wire.Splitter
	queue []wire.Frame
}

// dial opens a link with a token for gatewayID signed by secret (no header
// when secret is empty), minted at now.
func dial(s *server, gatewayID, secret string, now time.Time) (*websocket.Conn,
	*http.Response, error) {
	h := http.Header{}
	if v, ok := wire.AuthorizationHeader(gatewayID, secret, now); ok {
		h.Set("Authorization", v)
	}
	d := websocket.Dialer{HandshakeTimeout: waitLimit}

	return d.Dial(s.wsURL(), h)
}

func open(t *testing.T, s *server, gatewayID, secret string) *testGateway {
	t.Helper()

	ws, resp, err := dial(s, gatewayID, secret, time.Now())
	require.NoError(t, err)
	_ = resp.Body.Close()

	g := &testGateway{t: t, ws: ws}
	t.Cleanup(func() { _ = ws.Close() })

	return g
}

// connect opens a link and completes the handshake with one hello.
func connect(t *testing.T, s *server, gatewayID, secret string) *testGateway {
	t.Helper()

	g := open(t, s, gatewayID, secret)
	g.send(wire.AppendHello(nil, domain.Identity{Platform: "discord", BotID: "bot-1"}))
	f := g.next()
	require.Equal(t, wire.TypeDescriptor, f.Type)

	return g
}

func (g *testGateway) send(frames ...[]byte) {
	g.t.Helper()
	var msg []byte
	for _, f := range frames {
		msg = append(msg, f...)
	}
	require.NoError(g.t, g.ws.WriteMessage(websocket.TextMessage, msg))
}

// read returns the next frame or the error that ended the link.
func (g *testGateway) read() (wire.Frame, error) {
	for len(g.queue) == 0 {
		_ = g.ws.SetReadDeadline(time.Now().Add(waitLimit))
		_, msg, err := g.ws.ReadMessage()
		if err != nil {
			return wire.Frame{}, err
		}
		feedErr := g.split.Feed(msg, func(line []byte) {
			f, err := wire.DecodeFrame(line)
			require.NoError(g.t, err)
			g.queue = append(g.queue, f)
		})
		require.NoError(g.t, feedErr)
	}
	f := g.queue[0]
	g.queue = g.queue[1:]

	return f, nil
}

func (g *testGateway) next() wire.Frame {
	g.t.Helper()
	f, err := g.read()
	require.NoError(g.t, err)

	return f
}

// closeError waits for the link to end and returns its close error.
func (g *testGateway) closeError() *websocket.CloseError {
	g.t.Helper()
	for {
		_, err := g.read()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		require.True(g.t, errors.As(err, &ce), "want a close error, got %v", err)

		return ce
	}
}

// outbound sends an action and returns the raw result of its answer.
func (g *testGateway) outbound(requestID string, a domain.Action) wire.Frame {
	g.t.Helper()
	frame, err := wire.AppendOutbound(nil, requestID, a)
	require.NoError(g.t, err)
	g.send(frame)

	f := g.next()
	require.Equal(g.t, wire.TypeOutboundResult, f.Type)
	require.Equal(g.t, requestID, f.RequestID)

	return f
}

func (g *testGateway) bye() {
	_ = g.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	for {
		if _, err := g.read(); err != nil {
			break
		}
	}
	_ = g.ws.Close()
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	t.Cleanup(cancel)

	return ctx
}

func guildEvent(text, chatID, guildID, userID string) domain.MessageEvent {
	return domain.MessageEvent{
		Text: text,
		Source: domain.SessionSource{
			Platform: "discord", ChatID: chatID, ChatType: domain.ChatChannel,
			ChatName: "general", GuildID: guildID, UserID: userID,
		},
		MessageID: "m-" + chatID,
	}
}

func dmEvent(text, chatID, userID string) domain.MessageEvent {
	return domain.MessageEvent{
		Text:      text,
		Source:    domain.SessionSource{Platform: "discord", ChatID: chatID, UserID: userID},
		MessageID: "m-" + chatID,
	}
}

var secrets = map[string][]string{"gw-1": {"s3cret-one"}}

func strp(s string) *string { return &s }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func sendTo(chatID, key, value string) domain.Action {
	return domain.Action{Op: domain.OpSend, ChatID: chatID, Content: "reply",
		Metadata: map[string]any{key: value}}
}
