package wsrelay_test

import (
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/adapters/wsrelay"
	"github.com/relay-go/relay/adapters/wsrelay/wsrelaytest"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
	"github.com/relay-go/relay/wire"
)

func TestNewValidatesEveryProblem(t *testing.T) {
	valid := func() wsrelay.Config {
		return wsrelay.Config{URL: "http://127.0.0.1:1", Identities: []domain.Identity{defaultIdentity}}
	}
	tests := []struct {
		name string
		give func(c *wsrelay.Config)
		want []string
	}{
		{name: "valid", give: func(*wsrelay.Config) {}},
		{
			name: "url and identities missing",
			give: func(c *wsrelay.Config) { c.URL, c.Identities = " ", nil },
			want: []string{"url is required", "at least one identity is required"},
		},
		{
			name: "identity without platform",
			give: func(c *wsrelay.Config) { c.Identities = []domain.Identity{{BotID: "b"}} },
			want: []string{"identity 0 has no platform"},
		},
		{
			name: "negative values",
			give: func(c *wsrelay.Config) { c.OutboundTimeout, c.ReadLimit = -1, -1 },
			want: []string{"outbound timeout -1ns is negative", "read limit -1 is negative"},
		},
		{
			name: "inverted backoff",
			give: func(c *wsrelay.Config) { c.BackoffMin, c.BackoffMax = time.Minute, time.Second },
			want: []string{"backoff min 1m0s exceeds backoff max 1s"},
		},
		{
			name: "ping not shorter than the read timeout",
			give: func(c *wsrelay.Config) { c.PingInterval, c.ReadTimeout = time.Minute, time.Minute },
			want: []string{"ping interval 1m0s must be shorter than read timeout 1m0s"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid()
			cfg.Secret = testSecret
			tt.give(&cfg)

			tr, err := wsrelay.New(cfg)

			if len(tt.want) == 0 {
				require.NoError(t, err)
				assert.NotNil(t, tr)
				return
			}
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), testSecret)
		})
	}
}

func TestConnectSendsOneHelloPerIdentityInOneMessage(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	cfg := testConfig(srv)
	cfg.Identities = []domain.Identity{
		defaultIdentity, {Platform: "telegram", BotID: "tg-1"}, {Platform: "slack", BotID: "sl-1"},
	}
	tr := newTransport(t, cfg)

	connectAndHandshake(t, tr)

	ctx := testCtx(t)
	for _, want := range cfg.Identities {
		got, err := srv.NextHello(ctx)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	assert.Equal(t, 1, srv.Messages(), "hellos queued together are coalesced")
}

func TestDialURLIsNormalized(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	cfg := testConfig(srv)
	cfg.URL = " " + srv.URL() + "/relay/ "
	tr := newTransport(t, cfg)

	connectAndHandshake(t, tr)
}

func TestEveryDialMintsAFreshToken(t *testing.T) {
	srv := wsrelaytest.NewServer(t, wsrelaytest.WithSecrets(testGateway, testSecret))
	clock := newFakeClock()
	cfg := testConfig(srv)
	cfg.GatewayID, cfg.Secret, cfg.Now = testGateway, testSecret, clock.Now
	tr := newTransport(t, cfg)
	connectAndHandshake(t, tr)

	clock.Advance(time.Second)
	require.NoError(t, srv.Drop())
	waitHandshake(t, srv, tr, 2)

	dials := srv.Dials()
	require.Len(t, dials, 2)
	for i, d := range dials {
		assert.True(t, d.Accepted, "dial %d", i)
		assert.Equal(t, testGateway, d.GatewayID)
		assert.True(t, strings.HasPrefix(d.Authorization, "Bearer "))
	}
	assert.NotEqual(t, dials[0].Token, dials[1].Token)
}

func TestBlankSecretSendsNoAuthorization(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	cfg := testConfig(srv)
	cfg.GatewayID, cfg.Secret = testGateway, "  \t"
	tr := newTransport(t, cfg)

	connectAndHandshake(t, tr)

	d, err := srv.NextDial(testCtx(t))
	require.NoError(t, err)
	assert.Empty(t, d.Authorization)
}

func TestDescriptorsArePerPlatformAndResetOnEachDial(t *testing.T) {
	telegram := wsrelaytest.DefaultDescriptor("telegram")
	telegram.LenUnit, telegram.MaxMessageLength = domain.UnitUTF16, 4096
	srv := wsrelaytest.NewServer(t, wsrelaytest.WithDescriptor(telegram))
	cfg := testConfig(srv)
	cfg.Identities = []domain.Identity{defaultIdentity, {Platform: "telegram", BotID: "tg"}}
	tr := newTransport(t, cfg)

	first := connectAndHandshake(t, tr)

	assert.Equal(t, srv.Descriptor("discord"), first, "the first descriptor completes the handshake")
	// A round trip orders after the second descriptor on the same link.
	require.True(t, tr.SendOutbound(testCtx(t), sendAction("sync")).Success)
	require.Len(t, tr.Descriptors(), 2)
	got, ok := tr.Descriptor("telegram")
	require.True(t, ok)
	assert.Equal(t, telegram, got)

	// The next link hears of telegram only.
	srv.SetAnswerHellos(false)
	require.NoError(t, srv.Drop())
	ctx := testCtx(t)
	require.NoError(t, srv.WaitConnections(ctx, 2))
	require.NoError(t, srv.SendDescriptor(telegram))
	d, err := tr.Handshake(ctx)
	require.NoError(t, err)
	assert.Equal(t, telegram, d)
	assert.Equal(t, map[string]domain.Descriptor{"telegram": telegram}, tr.Descriptors())
}

func TestMalformedDescriptorIsSkipped(t *testing.T) {
	srv := wsrelaytest.NewServer(t, wsrelaytest.WithoutDescriptors())
	tr := newTransport(t, testConfig(srv))
	ctx := testCtx(t)
	require.NoError(t, tr.Connect(ctx))
	require.NoError(t, srv.WaitConnections(ctx, 1))

	require.NoError(t, srv.Send([]byte(`{"type":"descriptor","descriptor":{"platform":"x"}}`+"\n")))
	require.NoError(t, srv.SendDescriptor(srv.Descriptor("discord")))

	d, err := tr.Handshake(ctx)
	require.NoError(t, err)
	assert.Equal(t, "discord", d.Platform)
}

func TestHandshakeTimesOut(t *testing.T) {
	srv := wsrelaytest.NewServer(t, wsrelaytest.WithoutDescriptors())
	cfg := testConfig(srv)
	cfg.HandshakeTimeout = 100 * time.Millisecond
	tr := newTransport(t, cfg)
	ctx := testCtx(t)
	require.NoError(t, tr.Connect(ctx))

	_, err := tr.Handshake(ctx)

	require.EqualError(t, err, "relay handshake timed out after 100ms")
}

func TestConnectFailureNamesTheCause(t *testing.T) {
	srv := wsrelaytest.NewServer(t, wsrelaytest.WithSecrets(testGateway, "other"))
	cfg := testConfig(srv)
	cfg.GatewayID, cfg.Secret = testGateway, testSecret
	tr := newTransport(t, cfg)

	err := tr.Connect(testCtx(t))

	var refused *wsrelay.UpgradeRefusedError
	require.ErrorAs(t, err, &refused)
	assert.Equal(t, 401, refused.StatusCode)
	assert.Contains(t, err.Error(), "HTTP 401")
	assert.NotContains(t, err.Error(), testSecret)
	assert.Equal(t, domain.ResultNotConnected, tr.SendOutbound(testCtx(t), sendAction("x")))
	assert.Equal(t, 1, srv.DialCount(), "a failed Connect does not keep dialing")
}

func sendAction(content string) domain.Action {
	return domain.Action{Op: domain.OpSend, ChatID: "chat-1", Content: content}
}

var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestOutboundFrame(t *testing.T) {
	tests := []struct {
		name       string
		giveTarget domain.Identity
		wantTarget domain.Identity
	}{
		{name: "untargeted names no platform"},
		{
			name:       "targeted names platform and bot",
			giveTarget: domain.Identity{Platform: "telegram", BotID: "tg-9"},
			wantTarget: domain.Identity{Platform: "telegram", BotID: "tg-9"},
		},
		{
			name:       "targeted platform gets its hello'd bot id",
			giveTarget: domain.Identity{Platform: "telegram"},
			wantTarget: domain.Identity{Platform: "telegram", BotID: "tg-1"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := wsrelaytest.NewServer(t)
			cfg := testConfig(srv)
			cfg.Identities = []domain.Identity{defaultIdentity, {Platform: "telegram", BotID: "tg-1"}}
			tr := newTransport(t, cfg)
			connectAndHandshake(t, tr)
			a := sendAction("hi")
			a.Target = tt.giveTarget

			res := tr.SendOutbound(testCtx(t), a)

			assert.True(t, res.Success)
			o, err := srv.NextOutbound(testCtx(t))
			require.NoError(t, err)
			assert.Regexp(t, requestIDPattern, o.RequestID)
			assert.Equal(t, tt.wantTarget, o.Target)
			if tt.wantTarget.IsZero() {
				assert.NotContains(t, string(o.RawAction), "platform")
			}
		})
	}
}

func TestTargetingAPlatformWithoutIdentityFailsUnsent(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	tr := newTransport(t, testConfig(srv))
	connectAndHandshake(t, tr)
	a := sendAction("nowhere")
	a.Target = domain.Identity{Platform: "slack"}

	res := tr.SendOutbound(testCtx(t), a)

	assert.Equal(t, domain.SendResult{
		Error: `relay send failed: no identity for platform "slack"`}, res)
	_, err := tr.ChatInfo(testCtx(t), "c-1")
	require.NoError(t, err, "the link still serves")
	o, err := srv.NextOutbound(testCtx(t))
	require.NoError(t, err)
	assert.Equal(t, domain.OpGetChatInfo, o.Action.Op, "nothing was sent for slack")
}

func TestUnknownAndLateResultsAreIgnored(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	cfg := testConfig(srv)
	cfg.OutboundTimeout = 50 * time.Millisecond
	tr := newTransport(t, cfg)
	connectAndHandshake(t, tr)
	ctx := testCtx(t)

	require.NoError(t, srv.Reply("0123456789abcdef0123456789abcdef",
		wsrelaytest.Reply{Result: domain.SendResult{Success: true}}))
	srv.SetResponder(func(wsrelaytest.Outbound) wsrelaytest.Reply {
		return wsrelaytest.Reply{Hold: true}
	})
	assert.Equal(t, domain.ResultTimedOut, tr.SendOutbound(ctx, sendAction("late")))
	late, err := srv.NextOutbound(ctx)
	require.NoError(t, err)
	require.NoError(t, srv.Reply(late.RequestID,
		wsrelaytest.Reply{Result: domain.SendResult{Success: true}}))
	srv.SetResponder(nil)

	assert.True(t, tr.SendOutbound(ctx, sendAction("next")).Success)
}

func TestUnencodableActionFailsAlone(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	tr := newTransport(t, testConfig(srv))
	connectAndHandshake(t, tr)
	a := sendAction("x")
	a.Metadata = map[string]any{"bad": make(chan int)}

	got := tr.SendOutbound(testCtx(t), a)

	assert.False(t, got.Success)
	assert.True(t, strings.HasPrefix(got.Error, "relay send failed: "), got.Error)
	assert.False(t, got.Ambiguous)
	assert.True(t, tr.SendOutbound(testCtx(t), sendAction("ok")).Success, "the link survives")
}

func TestChatInfo(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    domain.ChatInfo
		wantErr string
	}{
		{
			name: "nested chat_info",
			give: `{"success":true,"chat_info":{"name":"general","type":"channel"}}`,
			want: domain.ChatInfo{Name: "general", Type: "channel"},
		},
		{
			name: "top-level fields",
			give: `{"success":true,"name":"ops","type":"group"}`,
			want: domain.ChatInfo{Name: "ops", Type: "group"},
		},
		{
			name: "defaults",
			give: `{"success":true}`,
			want: domain.ChatInfo{Name: "c-7", Type: domain.ChatDM},
		},
		{
			name:    "connector failure",
			give:    `{"success":false,"error":"unknown chat"}`,
			wantErr: "get chat info: connector: unknown chat",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := wsrelaytest.NewServer(t, wsrelaytest.WithResponder(
				func(wsrelaytest.Outbound) wsrelaytest.Reply {
					return wsrelaytest.Reply{Raw: []byte(tt.give)}
				}))
			tr := newTransport(t, testConfig(srv))
			connectAndHandshake(t, tr)

			got, err := tr.ChatInfo(testCtx(t), "c-7")

			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestChatInfoWhenNotConnected(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	tr := newTransport(t, testConfig(srv))

	_, err := tr.ChatInfo(testCtx(t), "c")

	require.EqualError(t, err, "get chat info: relay transport not connected")
}

func TestFraming(t *testing.T) {
	ev := func(text string) []byte {
		return wire.AppendInbound(nil, domain.MessageEvent{Text: text,
			Source: domain.SessionSource{ChatID: "c"}}, "")
	}
	one, two := ev("one"), ev("two")
	tests := []struct {
		name string
		give [][]byte
		want []string
	}{
		{
			name: "several frames in one message",
			give: [][]byte{append(append([]byte{}, one...), two...)},
			want: []string{"one", "two"},
		},
		{
			name: "a frame split across messages",
			give: [][]byte{one[:5], one[5:20], append(append([]byte{}, one[20:]...), two...)},
			want: []string{"one", "two"},
		},
		{
			name: "blank lines skipped",
			give: [][]byte{[]byte("\n  \r\n"), one, []byte("\n\n"), two},
			want: []string{"one", "two"},
		},
		{
			name: "lines that are not JSON objects skipped",
			give: [][]byte{[]byte("not json\n[1,2]\n\"str\"\n{broken\n"), one, two},
			want: []string{"one", "two"},
		},
		{
			name: "unknown and echoed frame types ignored",
			give: [][]byte{
				[]byte(`{"type":"hello","platform":"x"}` + "\n" + `{"type":"future"}` + "\n"),
				one, two,
			},
			want: []string{"one", "two"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := wsrelaytest.NewServer(t)
			tr := newTransport(t, testConfig(srv))
			rec := newRecorder()
			tr.SetHandlers(rec.handlers())
			connectAndHandshake(t, tr)

			for _, msg := range tt.give {
				require.NoError(t, srv.Send(msg))
			}

			for _, want := range tt.want {
				assert.Equal(t, want, waitFor(t, rec.inbound).ev.Text)
			}
			assert.True(t, tr.SendOutbound(testCtx(t), sendAction("still up")).Success)
		})
	}
}

func TestHandlerPanicsAreRecovered(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	tr := newTransport(t, testConfig(srv))
	rec := newRecorder()
	h := rec.handlers()
	h.Interrupt = func(string, string) { panic(errors.New("interrupt handler failure")) }
	h.Forward = func(domain.Forward, ports.Delivery) { panic("forward handler failure") }
	tr.SetHandlers(h)
	connectAndHandshake(t, tr)

	require.NoError(t, srv.SendInterruptInbound("s", "c"))
	require.NoError(t, srv.SendForward(domain.Forward{Platform: "discord"}, "b-1"))
	require.NoError(t, srv.SendInbound(domain.MessageEvent{Text: "after"}, ""))

	assert.Equal(t, "after", waitFor(t, rec.inbound).ev.Text)
}

func TestDeliveryWithoutHandlerIsNotAcked(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	tr := newTransport(t, testConfig(srv))
	rec := newRecorder()
	tr.SetHandlers(ports.Handlers{Forward: rec.handlers().Forward})
	connectAndHandshake(t, tr)

	require.NoError(t, srv.SendInbound(domain.MessageEvent{Text: "dropped"}, "b-1"))
	require.NoError(t, srv.SendForward(domain.Forward{Platform: "discord"}, "f-1"))
	waitFor(t, rec.forwards).d.Ack()

	ack, err := srv.NextAck(testCtx(t))
	require.NoError(t, err)
	assert.Equal(t, "f-1", ack, "the dropped inbound is never acked")
}

func TestAckWithoutLinkIsDropped(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	tr := newTransport(t, testConfig(srv))

	tr.AckDelivery("b-1")
	tr.AckDelivery("")

	connectAndHandshake(t, tr)
	tr.AckDelivery("b-2")
	ack, err := srv.NextAck(testCtx(t))
	require.NoError(t, err)
	assert.Equal(t, "b-2", ack)
}

func TestSecretIsNeverLogged(t *testing.T) {
	var logs logBuffer
	srv := wsrelaytest.NewServer(t, wsrelaytest.WithSecrets(testGateway, testSecret))
	cfg := testConfig(srv)
	cfg.GatewayID, cfg.Secret = testGateway, testSecret
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tr := newTransport(t, cfg)
	connectAndHandshake(t, tr)
	ctx := testCtx(t)
	require.NoError(t, srv.Send([]byte("secret-looking garbage line\n")))
	require.NoError(t, srv.SendInbound(domain.MessageEvent{Text: "private words"}, ""))
	require.NoError(t, srv.Drop())
	waitHandshake(t, srv, tr, 2)
	require.NoError(t, tr.Disconnect(ctx))

	out := logs.String()
	require.NotEmpty(t, out)
	assert.NotContains(t, out, testSecret)
	assert.NotContains(t, out, "garbage")
	assert.NotContains(t, out, "private words")
	for _, d := range srv.Dials() {
		assert.NotContains(t, out, d.Token)
	}
}
