package devconnector

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/wire"
)

func TestUpgradeAuth(t *testing.T) {
	s := startServer(t, Config{Secrets: map[string][]string{
		"gw-1": {"old-secret", "new-secret"},
	}})

	tests := []struct {
		name      string
		gatewayID string
		secret    string
		wantOK    bool
	}{
		{name: "missing token is refused", gatewayID: "", secret: ""},
		{name: "wrong secret is refused", gatewayID: "gw-1", secret: "guess"},
		{name: "unknown gateway is refused", gatewayID: "gw-9", secret: "new-secret"},
		{name: "old secret during rotation is accepted", gatewayID: "gw-1",
			secret: "old-secret", wantOK: true},
		{name: "new secret during rotation is accepted", gatewayID: "gw-1",
			secret: "new-secret", wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, resp, err := dial(s, tt.gatewayID, tt.secret, time.Now())
			if !tt.wantOK {
				require.Error(t, err)
				require.NotNil(t, resp)
				defer resp.Body.Close()
				assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

				var body map[string]string
				require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
				assert.Contains(t, body["error"], "unauthorized")
				assert.NotContains(t, body["error"], "secret")

				return
			}
			require.NoError(t, err)
			_ = resp.Body.Close()
			g := &testGateway{t: t, ws: ws}
			defer g.bye()
			g.send(wire.AppendHello(nil, domain.Identity{Platform: "discord", BotID: "b"}))
			assert.Equal(t, wire.TypeDescriptor, g.next().Type)
		})
	}
}

func TestExpiredTokenClosesWith4401Expired(t *testing.T) {
	s := startServer(t, Config{Secrets: secrets})

	ws, resp, err := dial(s, "gw-1", "s3cret-one", time.Now().Add(-time.Hour))
	require.NoError(t, err)
	_ = resp.Body.Close()
	g := &testGateway{t: t, ws: ws}
	defer ws.Close()

	ce := g.closeError()
	assert.Equal(t, CloseUnauthorized, ce.Code)
	assert.Equal(t, ReasonExpired, ce.Text)
}

func TestOpenModeAcceptsWithoutToken(t *testing.T) {
	s := startServer(t, Config{Open: true})

	anon := connect(t, s, "", "")
	defer anon.bye()
	named := connect(t, s, "gw-x", "any-secret")
	defer named.bye()

	rc, err := s.DeliverTo("gw-x", dmEvent("hi", "dm-1", "u-1"))
	require.NoError(t, err)
	assert.Equal(t, StatusDelivered, rc.Status)
	assert.Equal(t, wire.TypeInbound, named.next().Type)

	rc, err = s.DeliverTo(AnonymousGateway, dmEvent("hi", "dm-2", "u-2"))
	require.NoError(t, err)
	assert.Equal(t, StatusDelivered, rc.Status)
	assert.Equal(t, wire.TypeInbound, anon.next().Type)
}

func TestRevokeClosesAndRefuses(t *testing.T) {
	tests := []struct {
		name string
		open bool
	}{
		{name: "with secrets"},
		{name: "in open mode", open: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, Config{Secrets: secrets, Open: tt.open})
			g := connect(t, s, "gw-1", "s3cret-one")

			s.Revoke("gw-1")
			ce := g.closeError()
			assert.Equal(t, CloseUnauthorized, ce.Code)
			assert.Equal(t, ReasonRevoked, ce.Text)

			_, resp, err := dial(s, "gw-1", "s3cret-one", time.Now())
			require.Error(t, err)
			require.NotNil(t, resp)
			_ = resp.Body.Close()
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		})
	}
}

func TestDescriptorPerHello(t *testing.T) {
	s := startServer(t, Config{Secrets: secrets})
	g := open(t, s, "gw-1", "s3cret-one")
	defer g.bye()

	// Both hellos in one message, the second split across two messages.
	second := wire.AppendHello(nil, domain.Identity{Platform: "telegram", BotID: "tg"})
	g.send(wire.AppendHello(nil, domain.Identity{Platform: "discord", BotID: "dc"}),
		second[:10])
	g.send(second[10:])

	for _, want := range []string{"discord", "telegram"} {
		f := g.next()
		require.Equal(t, wire.TypeDescriptor, f.Type)
		d, err := domain.DecodeDescriptor(f.Descriptor)
		require.NoError(t, err)
		assert.Equal(t, want, d.Platform)
		assert.Equal(t, 2000, d.MaxMessageLength)
	}
	require.NoError(t, s.WaitConnected(ctxT(t)))
	assert.Equal(t, 1, s.Stats().Handshakes)
}

func TestEgressGuard(t *testing.T) {
	s := startServer(t, Config{Secrets: secrets})
	g := connect(t, s, "gw-1", "s3cret-one")
	defer g.bye()

	_, err := s.Deliver(guildEvent("hello", "chan-1", "guild-1", "u-guild"))
	require.NoError(t, err)
	_, err = s.Deliver(dmEvent("psst", "dm-1", "u-dm"))
	require.NoError(t, err)
	_, err = s.DeliverInteraction([]byte(`{"type":2,"id":"i-1","channel_id":"chan-7",` +
		`"guild_id":"guild-7","member":{"user":{"id":"u-7"}},"data":{"name":"ask"}}`))
	require.NoError(t, err)
	for range 3 {
		g.next()
	}

	send := func(chatID string, meta map[string]any) domain.Action {
		return domain.Action{Op: domain.OpSend, ChatID: chatID, Content: "x", Metadata: meta}
	}
	tests := []struct {
		name    string
		give    domain.Action
		wantOK  bool
		wantErr string
	}{
		{name: "reply into an onboarded guild succeeds",
			give: send("chan-1", map[string]any{"guild_id": "guild-1"}), wantOK: true},
		{name: "reply naming an onboarded scope_id succeeds",
			give: send("chan-1", map[string]any{"scope_id": "guild-1"}), wantOK: true},
		{name: "an onboarded guild_id decides alone, whatever the scope_id",
			give:   send("chan-1", map[string]any{"guild_id": "guild-1", "scope_id": "guild-9"}),
			wantOK: true},
		{name: "an onboarded scope_id does not rescue an unknown guild_id",
			give:    send("chan-1", map[string]any{"guild_id": "guild-9", "scope_id": "guild-1"}),
			wantErr: DeclinedError},
		{name: "an empty guild_id is absent: the scope_id decides",
			give:   send("chan-1", map[string]any{"guild_id": "", "scope_id": "guild-1"}),
			wantOK: true},
		{name: "an unknown scope_id without guild_id is declined",
			give: send("chan-1", map[string]any{"scope_id": "guild-9"}), wantErr: DeclinedError},
		{name: "guild onboarded by an interaction succeeds",
			give: send("chan-7", map[string]any{"guild_id": "guild-7"}), wantOK: true},
		{name: "reply into a DM with the bound author succeeds",
			give: send("dm-1", map[string]any{"user_id": "u-dm"}), wantOK: true},
		{name: "reply into an unknown guild is declined",
			give: send("chan-1", map[string]any{"guild_id": "guild-2"}), wantErr: DeclinedError},
		{name: "guild reply is not rescued by a bound user",
			give:    send("chan-1", map[string]any{"guild_id": "guild-2", "user_id": "u-dm"}),
			wantErr: DeclinedError},
		{name: "DM reply with an unknown author is declined",
			give: send("dm-1", map[string]any{"user_id": "u-other"}), wantErr: DeclinedError},
		{name: "guild author is not a bound DM author",
			give: send("dm-1", map[string]any{"user_id": "u-guild"}), wantErr: DeclinedError},
		{name: "reply without discriminator is declined",
			give: send("dm-1", nil), wantErr: DeclinedError},
		{name: "follow_up in an interaction's channel succeeds",
			give: domain.Action{Op: domain.OpFollowUp, SessionKey: "agent:discord:chan-7",
				Kind: "discord.interaction_token"}, wantOK: true},
		{name: "follow_up of an unknown session is declined",
			give: domain.Action{Op: domain.OpFollowUp, SessionKey: "agent:discord:chan-1",
				Kind: "discord.interaction_token"}, wantErr: FollowUpDeclinedError},
		{name: "typing succeeds",
			give: domain.Action{Op: domain.OpTyping, ChatID: "anything"}, wantOK: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := g.outbound("r-"+string(rune('a'+i)), tt.give)
			res := wire.DecodeResult(f.Result)
			assert.Equal(t, tt.wantOK, res.Success)
			assert.Equal(t, tt.wantErr, res.Error)
			if tt.wantOK && tt.give.Op != domain.OpTyping {
				assert.NotEmpty(t, res.MessageID)
			}
		})
	}

	records := s.Outbound()
	require.Len(t, records, len(tests))
	assert.Equal(t, "gw-1", records[0].GatewayID)
	assert.Equal(t, "r-a", records[0].RequestID)
	assert.True(t, records[0].Result.Success)
	assert.Equal(t, 8, s.Stats().Declined)
}

func TestFreshMessageIDs(t *testing.T) {
	s := startServer(t, Config{Secrets: secrets})
	g := connect(t, s, "gw-1", "s3cret-one")
	defer g.bye()
	_, err := s.Deliver(dmEvent("x", "dm-1", "u-1"))
	require.NoError(t, err)
	g.next()

	a := domain.Action{Op: domain.OpSend, ChatID: "dm-1", Metadata: map[string]any{"user_id": "u-1"}}
	first := wire.DecodeResult(g.outbound("r1", a).Result)
	second := wire.DecodeResult(g.outbound("r2", a).Result)
	assert.NotEqual(t, first.MessageID, second.MessageID)
}

func TestGetChatInfo(t *testing.T) {
	s := startServer(t, Config{Secrets: secrets})
	g := connect(t, s, "gw-1", "s3cret-one")
	defer g.bye()
	_, err := s.Deliver(guildEvent("x", "chan-1", "guild-1", "u-1"))
	require.NoError(t, err)
	g.next()

	tests := []struct {
		name string
		give string
		want domain.ChatInfo
	}{
		{name: "chat seen inbound answers its name and type", give: "chan-1",
			want: domain.ChatInfo{Name: "general", Type: domain.ChatChannel}},
		{name: "unknown chat answers its id as name", give: "chan-9",
			want: domain.ChatInfo{Name: "chan-9", Type: domain.ChatDM}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := g.outbound("r-"+tt.give, domain.Action{Op: domain.OpGetChatInfo, ChatID: tt.give})
			assert.Contains(t, string(f.Result), `"chat_info"`)
			assert.Equal(t, tt.want, wire.DecodeChatInfo(f.Result, tt.give))
		})
	}
}

func TestInteractionIsForwardedByteForByte(t *testing.T) {
	s := startServer(t, Config{Secrets: secrets})
	g := connect(t, s, "gw-1", "s3cret-one")
	defer g.bye()

	body := []byte(" {\"type\": 2,\n \"channel_id\": \"c\", \"data\": {\"name\": \"ping\"}} ")
	rc, err := s.DeliverInteraction(body)
	require.NoError(t, err)
	assert.Equal(t, StatusDelivered, rc.Status)

	f := g.next()
	require.Equal(t, wire.TypePassthroughForward, f.Type)
	assert.Empty(t, f.BufferID)
	fwd, err := wire.DecodeForward(f.Forward)
	require.NoError(t, err)
	assert.Equal(t, domain.Forward{
		Platform: "discord", BotID: "bot-1", Method: "POST", Path: "/interactions",
		Headers: [][2]string{{"content-type", "application/json"}}, Body: body,
	}, fwd)

	_, err = s.DeliverInteraction([]byte(`[1]`))
	assert.ErrorIs(t, err, ErrNotObject)
}

func TestInterruptsBothWays(t *testing.T) {
	s := startServer(t, Config{Secrets: secrets})

	assert.ErrorIs(t, s.Interrupt("sess-1", "chan-1"), ErrNotConnected)

	g := connect(t, s, "gw-1", "s3cret-one")
	defer g.bye()

	require.NoError(t, s.Interrupt("sess-1", "chan-1"))
	f := g.next()
	assert.Equal(t, wire.TypeInterruptInbound, f.Type)
	assert.Equal(t, "sess-1", f.SessionKey)
	assert.Equal(t, "chan-1", f.ChatID)
	assert.ErrorIs(t, s.Interrupt("", "chan-1"), ErrNoSessionKey)

	g.send(wire.AppendInterrupt(nil, "sess-2", strp("user stop")))
	_, err := s.WaitStats(ctxT(t), func(st Stats) bool { return st.Interrupts == 1 })
	require.NoError(t, err)
	recs := s.Interrupts()
	require.Len(t, recs, 1)
	assert.Equal(t, "sess-2", recs[0].SessionKey)
	assert.Equal(t, "user stop", *recs[0].Reason)
	assert.Equal(t, "gw-1", recs[0].GatewayID)
}

func TestMalformedFramesKeepTheLink(t *testing.T) {
	s := startServer(t, Config{Secrets: secrets})
	g := connect(t, s, "gw-1", "s3cret-one")
	defer g.bye()

	g.send([]byte("not json\n[1,2]\n\n{\"type\":\"outbound\",\"requestId\":\"r1\",\"action\":7}\n"))
	f := g.next()
	require.Equal(t, wire.TypeOutboundResult, f.Type)
	assert.False(t, wire.DecodeResult(f.Result).Success)
	assert.Contains(t, wire.DecodeResult(f.Result).Error, "malformed action")
}

func TestNewerLinkReplacesOlder(t *testing.T) {
	s := startServer(t, Config{Secrets: secrets})
	older := connect(t, s, "gw-1", "s3cret-one")
	newer := connect(t, s, "gw-1", "s3cret-one")
	defer newer.bye()

	ce := older.closeError()
	assert.Equal(t, websocket.CloseGoingAway, ce.Code)

	rc, err := s.Deliver(dmEvent("x", "dm-1", "u-1"))
	require.NoError(t, err)
	assert.Equal(t, StatusDelivered, rc.Status)
	assert.Equal(t, wire.TypeInbound, newer.next().Type)
}

func TestCloseIsIdempotentAndRefusesDeliveries(t *testing.T) {
	c, err := New(Config{Secrets: secrets})
	require.NoError(t, err)

	require.NoError(t, c.Close(ctxT(t)))
	require.NoError(t, c.Close(ctxT(t)))
	_, err = c.Deliver(dmEvent("x", "dm", "u"))
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, c.WaitConnected(ctxT(t)), ErrClosed)
}

func TestCloseSendsGoingAway(t *testing.T) {
	s := startServer(t, Config{Secrets: secrets})
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

	require.NoError(t, s.Close(ctxT(t)))
	var ce *websocket.CloseError
	select {
	case err := <-ended:
		require.ErrorAs(t, err, &ce)
	case <-time.After(waitLimit):
		t.Fatal("link did not end")
	}
	assert.Equal(t, websocket.CloseGoingAway, ce.Code)
	assert.False(t, s.Connected())
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name    string
		give    Config
		wantErr string
	}{
		{name: "no secret and not open", give: Config{}, wantErr: "not open"},
		{name: "only blank secrets", give: Config{Secrets: map[string][]string{"g": {" "}}},
			wantErr: "not open"},
		{name: "empty gateway id", give: Config{Secrets: map[string][]string{"": {"s"}}},
			wantErr: "gateway id is empty"},
		{name: "negative max length", give: Config{Open: true,
			Descriptor: domain.Descriptor{Platform: "x", MaxMessageLength: -1}},
			wantErr: "negative"},
		{name: "open mode alone is enough", give: Config{Open: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.give)
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.NoError(t, c.Close(ctxT(t)))

				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}
