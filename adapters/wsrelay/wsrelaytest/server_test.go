package wsrelaytest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/relay-go/relay/adapters/wsrelay/wsrelaytest"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/wire"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	t.Cleanup(cancel)

	return ctx
}

// dial connects a raw WebSocket client with an optional Authorization
// header.
func dial(t *testing.T, srv *wsrelaytest.Server, auth string) (
	*websocket.Conn, *http.Response, error,
) {
	t.Helper()

	h := http.Header{}
	if auth != "" {
		h.Set("Authorization", auth)
	}
	ws, resp, err := websocket.DefaultDialer.DialContext(ctxFor(t), wire.DialURL(srv.URL()), h)
	if ws != nil {
		t.Cleanup(func() { ws.Close() })
	}

	return ws, resp, err
}

func readFrame(t *testing.T, ws *websocket.Conn) wire.Frame {
	t.Helper()

	require.NoError(t, ws.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, msg, err := ws.ReadMessage()
	require.NoError(t, err)
	f, err := wire.DecodeFrame(msg)
	require.NoError(t, err)

	return f
}

func TestURLIsLoopbackHTTP(t *testing.T) {
	srv := wsrelaytest.NewServer(t)

	assert.True(t, strings.HasPrefix(srv.URL(), "http://127.0.0.1:"), srv.URL())
}

func TestAuth(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name       string
		give       func() string
		policy     wsrelaytest.AuthPolicy
		wantStatus int
		wantClose  int
		wantReason string
		wantErr    error
	}{
		{
			name: "current secret accepted",
			give: func() string {
				return "Bearer " + wire.MintToken("gw", "new", now.Add(time.Minute).Unix())
			},
		},
		{
			name: "previous secret accepted during rotation",
			give: func() string {
				return "Bearer " + wire.MintToken("gw", "old", 0)
			},
		},
		{
			name:       "wrong secret refused at the upgrade",
			give:       func() string { return "Bearer " + wire.MintToken("gw", "nope", 0) },
			wantStatus: http.StatusUnauthorized,
			wantErr:    wire.ErrTokenInvalid,
		},
		{
			name:       "missing token refused",
			give:       func() string { return "" },
			wantStatus: http.StatusUnauthorized,
			wantErr:    wire.ErrTokenMissing,
		},
		{
			name: "expired token closed 4401 expired after the upgrade",
			give: func() string {
				return "Bearer " + wire.MintToken("gw", "new", now.Add(-time.Minute).Unix())
			},
			policy:     wsrelaytest.CloseAfterUpgrade,
			wantClose:  wsrelaytest.CloseUnauthorized,
			wantReason: "expired",
			wantErr:    wire.ErrTokenExpired,
		},
		{
			name:       "wrong secret closed 4401 unauthorized after the upgrade",
			give:       func() string { return "Bearer " + wire.MintToken("gw", "nope", 0) },
			policy:     wsrelaytest.CloseAfterUpgrade,
			wantClose:  wsrelaytest.CloseUnauthorized,
			wantReason: "unauthorized",
			wantErr:    wire.ErrTokenInvalid,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := wsrelaytest.NewServer(t,
				wsrelaytest.WithSecrets("gw", "new", "old"),
				wsrelaytest.WithAuthPolicy(tt.policy))

			ws, resp, err := dial(t, srv, tt.give())

			switch {
			case tt.wantStatus != 0:
				require.Error(t, err)
				require.NotNil(t, resp)
				assert.Equal(t, tt.wantStatus, resp.StatusCode)
			case tt.wantClose != 0:
				require.NoError(t, err)
				_, _, err = ws.ReadMessage()
				var ce *websocket.CloseError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, tt.wantClose, ce.Code)
				assert.Equal(t, tt.wantReason, ce.Text)
			default:
				require.NoError(t, err)
			}

			d, err := srv.NextDial(ctxFor(t))
			require.NoError(t, err)
			assert.ErrorIs(t, d.Err, tt.wantErr)
			assert.Equal(t, tt.wantErr == nil, d.Accepted)
		})
	}
}

func TestHelloIsAnsweredWithADescriptor(t *testing.T) {
	telegram := wsrelaytest.DefaultDescriptor("telegram")
	telegram.LenUnit = domain.UnitUTF16
	telegram.MaxMessageLength = 4096
	srv := wsrelaytest.NewServer(t, wsrelaytest.WithDescriptor(telegram))
	ws, _, err := dial(t, srv, "")
	require.NoError(t, err)

	require.NoError(t, ws.WriteMessage(websocket.TextMessage,
		wire.AppendHello(wire.AppendHello(nil, domain.Identity{Platform: "discord", BotID: "d"}),
			domain.Identity{Platform: "telegram", BotID: "t"})))

	for _, want := range []domain.Descriptor{wsrelaytest.DefaultDescriptor("discord"), telegram} {
		f := readFrame(t, ws)
		assert.Equal(t, wire.TypeDescriptor, f.Type)
		got, err := domain.DecodeDescriptor(f.Descriptor)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	hello, err := srv.NextHello(ctxFor(t))
	require.NoError(t, err)
	assert.Equal(t, domain.Identity{Platform: "discord", BotID: "d"}, hello)
	require.NoError(t, srv.WaitHandshakes(ctxFor(t), 1))
}

func TestOutboundIsRecordedAndAnswered(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	ws, _, err := dial(t, srv, "")
	require.NoError(t, err)
	a := domain.Action{Op: domain.OpSend, ChatID: "c", Content: "hi",
		Target: domain.Identity{Platform: "discord", BotID: "b"}}
	frame, err := wire.AppendOutbound(nil, "r-1", a)
	require.NoError(t, err)

	require.NoError(t, ws.WriteMessage(websocket.TextMessage, frame))

	f := readFrame(t, ws)
	assert.Equal(t, "r-1", f.RequestID)
	assert.Equal(t, domain.SendResult{Success: true, MessageID: "m-1"}, wire.DecodeResult(f.Result))
	o, err := srv.NextOutbound(ctxFor(t))
	require.NoError(t, err)
	assert.Equal(t, "r-1", o.RequestID)
	assert.Equal(t, a.Target, o.Target)
	assert.Equal(t, "hi", o.Action.Content)
}

func TestHeldOutboundIsAnsweredByReply(t *testing.T) {
	srv := wsrelaytest.NewServer(t, wsrelaytest.WithResponder(
		func(wsrelaytest.Outbound) wsrelaytest.Reply { return wsrelaytest.Reply{Hold: true} }))
	ws, _, err := dial(t, srv, "")
	require.NoError(t, err)
	frame, err := wire.AppendOutbound(nil, "r-9", domain.Action{Op: domain.OpGetChatInfo, ChatID: "c"})
	require.NoError(t, err)
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, frame))
	_, err = srv.NextOutbound(ctxFor(t))
	require.NoError(t, err)

	require.NoError(t, srv.Reply("r-9", wsrelaytest.Reply{
		Result:   domain.SendResult{Success: true},
		ChatInfo: &domain.ChatInfo{Name: "general", Type: "channel"},
	}))

	f := readFrame(t, ws)
	assert.Equal(t, domain.ChatInfo{Name: "general", Type: "channel"},
		wire.DecodeChatInfo(f.Result, "c"))
}

func TestGoingIdleIsAcknowledged(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	ws, _, err := dial(t, srv, "")
	require.NoError(t, err)

	require.NoError(t, ws.WriteMessage(websocket.TextMessage, wire.AppendGoingIdle(nil)))

	assert.Equal(t, wire.TypeGoingIdleAck, readFrame(t, ws).Type)
	require.NoError(t, srv.NextGoingIdle(ctxFor(t)))
}

func TestCloseLinkSendsTheCode(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	ws, _, err := dial(t, srv, "")
	require.NoError(t, err)
	require.NoError(t, srv.WaitConnections(ctxFor(t), 1))

	require.NoError(t, srv.CloseLink(4000, "bye"))

	_, _, err = ws.ReadMessage()
	var ce *websocket.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 4000, ce.Code)
	assert.Equal(t, "bye", ce.Text)
}

func TestNoConnection(t *testing.T) {
	srv := wsrelaytest.NewServer(t)

	assert.ErrorIs(t, srv.SendIdleAck(), wsrelaytest.ErrNoConnection)
	assert.ErrorIs(t, srv.Drop(), wsrelaytest.ErrNoConnection)
}

func TestCloseIsIdempotentAndEndsConnections(t *testing.T) {
	srv := wsrelaytest.NewServer(nil)
	ws, _, err := dial(t, srv, "")
	require.NoError(t, err)
	require.NoError(t, srv.WaitConnections(ctxFor(t), 1))
	srv.Stall()

	srv.Close()
	srv.Close()

	_, _, err = ws.ReadMessage()
	assert.Error(t, err)
}
