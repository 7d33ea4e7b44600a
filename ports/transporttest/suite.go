package transporttest

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
)

// Timings the suite asks harnesses for.
const (
	// relaxedTimeout is the outbound timeout of tests that expect answers:
	// long enough never to fire on a slow machine.
	relaxedTimeout = 30 * time.Second
	// shortTimeout is the outbound timeout of the timeout test.
	shortTimeout = 100 * time.Millisecond
	// shortGrace is the close grace of the test whose in-flight call is
	// never answered.
	shortGrace = 100 * time.Millisecond
	// relaxedGrace is the close grace of every other test.
	relaxedGrace = 10 * time.Second
)

// NewHarness builds a fresh harness for one subtest, with a transport
// configured by s. It may register cleanups on t.
type NewHarness func(t *testing.T, s Settings) Harness

// Run runs the conformance suite. Every subtest builds its own harness with
// newHarness and runs in parallel with the others.
func Run(t *testing.T, f Features, newHarness NewHarness) {
	t.Helper()

	tests := []struct {
		name string
		skip string
		run  func(t *testing.T, newHarness NewHarness)
	}{
		{name: "handshake returns the descriptor", run: testHandshake},
		{name: "send returns the connector's result", run: testSendResult},
		{name: "send names the targeted platform", run: testSendTarget},
		{name: "send to a platform never hello'd fails unsent", run: testSendUnknownTarget},
		{name: "concurrent sends get their own results", run: testConcurrentSends},
		{
			name: "sends answered out of order get their own results",
			skip: skipIf(f.NoDeferredAnswers, "deferred answers"),
			run:  testOutOfOrderAnswers,
		},
		{name: "inbound keeps arrival order", run: testInboundOrder},
		{name: "connector interrupt reaches the handler", run: testInterruptInbound},
		{name: "gateway interrupt carries its reason", run: testInterruptOutbound},
		{
			name: "forward is delivered",
			skip: skipIf(f.NoForwards, "forwards"),
			run:  testForward,
		},
		{name: "buffered inbound is acked once after the handler acks", run: testBufferedAck},
		{
			name: "buffered forward is acked after the handler acks",
			skip: skipIf(f.NoForwards, "forwards"),
			run:  testBufferedForwardAck,
		},
		{name: "panicking handler does not stop the reader", run: testHandlerPanic},
		{name: "going idle is acknowledged", run: testGoIdle},
		{
			name: "chat info is answered with defaults",
			skip: skipIf(f.NoChatInfo, "chat info"),
			run:  testChatInfo,
		},
		{name: "not connected", run: testNotConnected},
		{name: "send after disconnect is closed", run: testSendAfterDisconnect},
		{name: "disconnect is idempotent", run: testDisconnectIdempotent},
		{name: "in-flight send fails closed after the grace", run: testInFlightClosed},
		{
			name: "in-flight send answered within the grace gets its result",
			skip: skipIf(f.NoDeferredAnswers, "deferred answers"),
			run:  testInFlightDrained,
		},
		{name: "unanswered send times out ambiguous", run: testTimeout},
		{name: "send cancelled after writing is ambiguous", run: testCancelledAfterWrite},
		{
			name: "lost link fails the in-flight send",
			skip: skipIf(f.NoDrop, "drop"),
			run:  testLost,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip != "" {
				t.Skip(tt.skip)
			}
			t.Parallel()
			tt.run(t, newHarness)
		})
	}
}

func skipIf(missing bool, feature string) string {
	if !missing {
		return ""
	}

	return "harness declares no support for " + feature
}

// relaxed are the settings of tests that expect every call to be answered.
func relaxed() Settings {
	return Settings{OutboundTimeout: relaxedTimeout, CloseGrace: relaxedGrace}
}

// testContext returns a context that ends with the test or after a bound
// that no passing test comes near.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 4*WaitTimeout)
	t.Cleanup(cancel)

	return ctx
}

// inboundCall is one call of the inbound handler.
type inboundCall struct {
	ev domain.MessageEvent
	d  ports.Delivery
}

// forwardCall is one call of the forward handler.
type forwardCall struct {
	f domain.Forward
	d ports.Delivery
}

// interruptCall is one call of the interrupt handler.
type interruptCall struct {
	sessionKey string
	chatID     string
}

// sink records handler calls on buffered channels, so the handlers never
// block the reader.
type sink struct {
	inbound    chan inboundCall
	forwards   chan forwardCall
	interrupts chan interruptCall
	// beforeInbound, when set, runs first in the inbound handler.
	beforeInbound func(ev domain.MessageEvent)
}

func newSink() *sink {
	const depth = 1024

	return &sink{
		inbound:    make(chan inboundCall, depth),
		forwards:   make(chan forwardCall, depth),
		interrupts: make(chan interruptCall, depth),
	}
}

func (s *sink) handlers() ports.Handlers {
	return ports.Handlers{
		Inbound: func(ev domain.MessageEvent, d ports.Delivery) {
			if s.beforeInbound != nil {
				s.beforeInbound(ev)
			}
			s.inbound <- inboundCall{ev: ev, d: d}
		},
		Forward: func(f domain.Forward, d ports.Delivery) {
			s.forwards <- forwardCall{f: f, d: d}
		},
		Interrupt: func(sessionKey, chatID string) {
			s.interrupts <- interruptCall{sessionKey: sessionKey, chatID: chatID}
		},
	}
}

// setup builds a harness and registers its teardown: Disconnect, then
// Close.
func setup(t *testing.T, newHarness NewHarness, s Settings) (Harness, ports.Transport) {
	t.Helper()

	h := newHarness(t, s)
	tr := h.Transport()
	t.Cleanup(h.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*WaitTimeout)
		defer cancel()

		assert.NoError(t, tr.Disconnect(ctx), "disconnect in cleanup")
	})

	return h, tr
}

// connect sets the sink's handlers, connects and completes the handshake.
func connect(ctx context.Context, t *testing.T, tr ports.Transport, s *sink) domain.Descriptor {
	t.Helper()

	tr.SetHandlers(s.handlers())
	require.NoError(t, tr.Connect(ctx), "connect")

	d, err := tr.Handshake(ctx)
	require.NoError(t, err, "handshake")

	return d
}

// connected builds a harness with relaxed timings and connects it.
func connected(t *testing.T, newHarness NewHarness) (Harness, ports.Transport, *sink) {
	t.Helper()

	h, tr := setup(t, newHarness, relaxed())
	s := newSink()
	connect(testContext(t), t, tr, s)

	return h, tr, s
}

func hold(Outbound) Reply { return Reply{Hold: true} }

func sendAction(content string) domain.Action {
	return domain.Action{
		Op:       domain.OpSend,
		ChatID:   "chat-1",
		Content:  content,
		Metadata: map[string]any{"guild_id": "guild-1"},
	}
}

func textEvent(text string) domain.MessageEvent {
	return domain.MessageEvent{
		Text:        text,
		MessageType: domain.MessageText,
		MessageID:   "msg-" + text,
		Source: domain.SessionSource{
			Platform: "discord",
			ChatID:   "chat-1",
			ChatType: domain.ChatDM,
			UserID:   "user-1",
		},
	}
}

// assertEvent compares the fields of an event every transport carries
// unchanged.
func assertEvent(t *testing.T, want, got domain.MessageEvent) {
	t.Helper()

	assert.Equal(t, want.Text, got.Text, "text")
	assert.Equal(t, want.MessageType, got.MessageType, "message type")
	assert.Equal(t, want.MessageID, got.MessageID, "message id")
	assert.Equal(t, want.Source.Platform, got.Source.Platform, "platform")
	assert.Equal(t, want.Source.ChatID, got.Source.ChatID, "chat id")
	assert.Equal(t, want.Source.ChatType, got.Source.ChatType, "chat type")
	assert.Equal(t, want.Source.UserID, got.Source.UserID, "user id")
}

// sendAsync sends on its own goroutine and reports the result on the
// returned channel.
func sendAsync(ctx context.Context, tr ports.Transport, a domain.Action) <-chan domain.SendResult {
	ch := make(chan domain.SendResult, 1)
	go func() { ch <- tr.SendOutbound(ctx, a) }()

	return ch
}

func testHandshake(t *testing.T, newHarness NewHarness) {
	h, tr := setup(t, newHarness, relaxed())

	got := connect(testContext(t), t, tr, newSink())

	assert.Equal(t, h.Descriptor(), got)
}

func testSendResult(t *testing.T, newHarness NewHarness) {
	tests := []struct {
		name string
		give domain.SendResult
	}{
		{name: "success", give: domain.SendResult{Success: true, MessageID: "m-1"}},
		{name: "failure", give: domain.SendResult{Error: "discord egress declined"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			h, tr, _ := connected(t, newHarness)
			h.SetResponder(func(Outbound) Reply { return Reply{Result: tt.give} })
			replyTo := "m-0"
			give := sendAction("hello")
			give.ReplyTo = &replyTo

			got := tr.SendOutbound(ctx, give)

			assert.Equal(t, tt.give, got)
			o, err := h.NextOutbound(ctx)
			require.NoError(t, err)
			assert.NotEmpty(t, o.RequestID)
			assert.Equal(t, domain.OpSend, o.Action.Op)
			assert.Equal(t, "chat-1", o.Action.ChatID)
			assert.Equal(t, "hello", o.Action.Content)
			if assert.NotNil(t, o.Action.ReplyTo) {
				assert.Equal(t, "m-0", *o.Action.ReplyTo)
			}
			assert.Equal(t, "guild-1", o.Action.Metadata["guild_id"])
			assert.True(t, o.Target.IsZero(), "target of an untargeted action")
		})
	}
}

func testSendTarget(t *testing.T, newHarness NewHarness) {
	ctx := testContext(t)
	h, tr, _ := connected(t, newHarness)
	give := sendAction("to discord")
	give.Target = domain.Identity{Platform: "discord"}

	got := tr.SendOutbound(ctx, give)

	assert.True(t, got.Success, "result: %+v", got)
	o, err := h.NextOutbound(ctx)
	require.NoError(t, err)
	assert.Equal(t, "discord", o.Target.Platform)
}

func testSendUnknownTarget(t *testing.T, newHarness NewHarness) {
	ctx := testContext(t)
	h, tr, _ := connected(t, newHarness)
	give := sendAction("to nowhere")
	give.Target = domain.Identity{Platform: "nowhere"}

	got := tr.SendOutbound(ctx, give)

	assert.False(t, got.Success)
	assert.Contains(t, got.Error, "no identity for platform")
	assert.False(t, got.Ambiguous)

	// The refused action never reached the connector: the next outbound it
	// sees is the one sent after it.
	require.True(t, tr.SendOutbound(ctx, sendAction("after")).Success)
	o, err := h.NextOutbound(ctx)
	require.NoError(t, err)
	assert.Equal(t, "after", o.Action.Content)
}

func testConcurrentSends(t *testing.T, newHarness NewHarness) {
	const senders = 64

	ctx := testContext(t)
	h, tr, _ := connected(t, newHarness)
	h.SetResponder(func(o Outbound) Reply {
		return Reply{Result: domain.SendResult{Success: true, MessageID: "id-" + o.Action.Content}}
	})

	var wg sync.WaitGroup
	results := make([]domain.SendResult, senders)
	for i := range senders {
		wg.Go(func() {
			results[i] = tr.SendOutbound(ctx, sendAction(strconv.Itoa(i)))
		})
	}
	wg.Wait()

	for i, got := range results {
		want := domain.SendResult{Success: true, MessageID: "id-" + strconv.Itoa(i)}
		assert.Equal(t, want, got, "sender %d", i)
	}
}

func testOutOfOrderAnswers(t *testing.T, newHarness NewHarness) {
	const senders = 16

	ctx := testContext(t)
	h, tr, _ := connected(t, newHarness)
	h.SetResponder(hold)

	results := make([]<-chan domain.SendResult, senders)
	for i := range senders {
		results[i] = sendAsync(ctx, tr, sendAction(strconv.Itoa(i)))
	}
	held := make([]Outbound, 0, senders)
	for range senders {
		o, err := h.NextOutbound(ctx)
		require.NoError(t, err)
		held = append(held, o)
	}
	for i := len(held) - 1; i >= 0; i-- {
		o := held[i]
		r := Reply{Result: domain.SendResult{Success: true, MessageID: "id-" + o.Action.Content}}
		require.NoError(t, h.Answer(ctx, o.RequestID, r))
	}

	for i, ch := range results {
		got := WaitFor(t, ch, WaitTimeout)
		want := domain.SendResult{Success: true, MessageID: "id-" + strconv.Itoa(i)}
		assert.Equal(t, want, got, "sender %d", i)
	}
}

func testInboundOrder(t *testing.T, newHarness NewHarness) {
	const events = 100

	ctx := testContext(t)
	h, _, s := connected(t, newHarness)

	for i := range events {
		require.NoError(t, h.PushInbound(ctx, textEvent(strconv.Itoa(i)), ""))
	}

	for i := range events {
		got := WaitFor(t, s.inbound, WaitTimeout)
		assertEvent(t, textEvent(strconv.Itoa(i)), got.ev)
		assert.False(t, got.d.Buffered(), "live delivery %d", i)
	}
}

func testInterruptInbound(t *testing.T, newHarness NewHarness) {
	ctx := testContext(t)
	h, _, s := connected(t, newHarness)

	require.NoError(t, h.PushInterrupt(ctx, "session-1", "chat-1"))

	got := WaitFor(t, s.interrupts, WaitTimeout)
	assert.Equal(t, interruptCall{sessionKey: "session-1", chatID: "chat-1"}, got)
}

func testInterruptOutbound(t *testing.T, newHarness NewHarness) {
	reason := "user pressed stop"
	tests := []struct {
		name string
		give *string
	}{
		{name: "with a reason", give: &reason},
		{name: "with a null reason", give: nil},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			h, tr, _ := connected(t, newHarness)

			require.NoError(t, tr.SendInterrupt(ctx, "session-1", tt.give))

			got, err := h.NextInterrupt(ctx)
			require.NoError(t, err)
			assert.Equal(t, "session-1", got.SessionKey)
			assert.Equal(t, tt.give, got.Reason)
		})
	}
}

func sampleForward() domain.Forward {
	return domain.Forward{
		Platform: "discord",
		BotID:    "bot-1",
		Method:   "POST",
		Path:     "/interactions",
		Headers:  [][2]string{{"Content-Type", "application/json"}, {"X-Trace", "t-1"}},
		Body:     []byte(`{"type":2,"data":{"name":"ping"}}`),
		Profile:  "default",
	}
}

func testForward(t *testing.T, newHarness NewHarness) {
	ctx := testContext(t)
	h, _, s := connected(t, newHarness)

	require.NoError(t, h.PushForward(ctx, sampleForward(), ""))

	got := WaitFor(t, s.forwards, WaitTimeout)
	assert.Equal(t, sampleForward(), got.f)
	assert.False(t, got.d.Buffered())
}

func testBufferedAck(t *testing.T, newHarness NewHarness) {
	ctx := testContext(t)
	h, _, s := connected(t, newHarness)
	nextAck := func() string {
		id, err := h.NextAck(ctx)
		require.NoError(t, err)
		return id
	}

	// The first delivery is taken but not acked yet.
	require.NoError(t, h.PushInbound(ctx, textEvent("1"), "b-1"))
	first := WaitFor(t, s.inbound, WaitTimeout)
	assert.True(t, first.d.Buffered())
	assert.Equal(t, "b-1", first.d.BufferID)

	// Acks travel in order, so an ack of b-1 sent by the transport on its
	// own would arrive before this one.
	require.NoError(t, h.PushInbound(ctx, textEvent("2"), "b-2"))
	second := WaitFor(t, s.inbound, WaitTimeout)
	second.d.Ack()
	assert.Equal(t, "b-2", nextAck(), "only the handler's ack is sent")

	first.d.Ack()
	assert.Equal(t, "b-1", nextAck())

	// A live delivery has nothing to ack, even when its handler acks.
	require.NoError(t, h.PushInbound(ctx, textEvent("3"), ""))
	live := WaitFor(t, s.inbound, WaitTimeout)
	assert.False(t, live.d.Buffered())
	live.d.Ack()

	require.NoError(t, h.PushInbound(ctx, textEvent("4"), "b-4"))
	fourth := WaitFor(t, s.inbound, WaitTimeout)
	fourth.d.Ack()
	assert.Equal(t, "b-4", nextAck(), "no repeated ack and no ack of a live delivery")
}

func testBufferedForwardAck(t *testing.T, newHarness NewHarness) {
	ctx := testContext(t)
	h, _, s := connected(t, newHarness)

	require.NoError(t, h.PushForward(ctx, sampleForward(), "f-1"))
	got := WaitFor(t, s.forwards, WaitTimeout)
	assert.Equal(t, "f-1", got.d.BufferID)

	require.NoError(t, h.PushInbound(ctx, textEvent("1"), "b-1"))
	WaitFor(t, s.inbound, WaitTimeout).d.Ack()
	id, err := h.NextAck(ctx)
	require.NoError(t, err)
	assert.Equal(t, "b-1", id, "the forward is not acked before its handler acks")

	got.d.Ack()
	id, err = h.NextAck(ctx)
	require.NoError(t, err)
	assert.Equal(t, "f-1", id)
}

func testHandlerPanic(t *testing.T, newHarness NewHarness) {
	ctx := testContext(t)
	h, tr := setup(t, newHarness, relaxed())
	s := newSink()
	s.beforeInbound = func(ev domain.MessageEvent) {
		if ev.Text == "boom" {
			panic("handler failure")
		}
	}
	connect(ctx, t, tr, s)

	require.NoError(t, h.PushInbound(ctx, textEvent("boom"), ""))
	require.NoError(t, h.PushInbound(ctx, textEvent("after"), ""))

	got := WaitFor(t, s.inbound, WaitTimeout)
	assert.Equal(t, "after", got.ev.Text)
	assert.True(t, tr.SendOutbound(ctx, sendAction("still up")).Success)
}

func testGoIdle(t *testing.T, newHarness NewHarness) {
	ctx := testContext(t)
	h, tr, _ := connected(t, newHarness)
	idler, ok := tr.(ports.Idler)
	if !ok {
		t.Skip("transport does not implement ports.Idler")
	}

	require.NoError(t, idler.GoIdle(ctx))

	assert.NoError(t, h.NextGoingIdle(ctx))
}

func testChatInfo(t *testing.T, newHarness NewHarness) {
	tests := []struct {
		name string
		give *domain.ChatInfo
		want domain.ChatInfo
	}{
		{
			name: "as answered",
			give: &domain.ChatInfo{Name: "general", Type: domain.ChatChannel},
			want: domain.ChatInfo{Name: "general", Type: domain.ChatChannel},
		},
		{
			name: "missing fields default",
			give: nil,
			want: domain.ChatInfo{Name: "chat-9", Type: domain.ChatDM},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			h, tr, _ := connected(t, newHarness)
			h.SetResponder(func(Outbound) Reply {
				return Reply{Result: domain.SendResult{Success: true}, ChatInfo: tt.give}
			})

			got, err := tr.ChatInfo(ctx, "chat-9")

			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			o, err := h.NextOutbound(ctx)
			require.NoError(t, err)
			assert.Equal(t, domain.OpGetChatInfo, o.Action.Op)
			assert.Equal(t, "chat-9", o.Action.ChatID)
		})
	}
}

func testNotConnected(t *testing.T, newHarness NewHarness) {
	ctx := testContext(t)
	_, tr := setup(t, newHarness, relaxed())

	assert.Equal(t, domain.ResultNotConnected, tr.SendOutbound(ctx, sendAction("x")))
	assert.Error(t, tr.SendInterrupt(ctx, "session-1", nil), "interrupt")
	_, err := tr.Handshake(ctx)
	assert.Error(t, err, "handshake")
}

func testSendAfterDisconnect(t *testing.T, newHarness NewHarness) {
	ctx := testContext(t)
	_, tr, _ := connected(t, newHarness)

	require.NoError(t, tr.Disconnect(ctx))

	assert.Equal(t, domain.ResultClosed, tr.SendOutbound(ctx, sendAction("late")))
	assert.Error(t, tr.SendInterrupt(ctx, "session-1", nil), "interrupt")
}

func testDisconnectIdempotent(t *testing.T, newHarness NewHarness) {
	const callers = 8

	ctx := testContext(t)
	_, tr, _ := connected(t, newHarness)

	errs := make(chan error, callers)
	for range callers {
		go func() { errs <- tr.Disconnect(ctx) }()
	}
	for i := range callers {
		assert.NoError(t, WaitFor(t, errs, WaitTimeout), "caller %d", i)
	}

	assert.NoError(t, tr.Disconnect(ctx), "after the others returned")
}

func testInFlightClosed(t *testing.T, newHarness NewHarness) {
	ctx := testContext(t)
	h, tr := setup(t, newHarness, Settings{OutboundTimeout: relaxedTimeout, CloseGrace: shortGrace})
	connect(ctx, t, tr, newSink())
	h.SetResponder(hold)
	result := sendAsync(ctx, tr, sendAction("held"))
	_, err := h.NextOutbound(ctx)
	require.NoError(t, err)

	require.NoError(t, tr.Disconnect(ctx))

	assert.Equal(t, domain.ResultClosed, WaitFor(t, result, WaitTimeout))
}

func testInFlightDrained(t *testing.T, newHarness NewHarness) {
	ctx := testContext(t)
	h, tr, _ := connected(t, newHarness)
	h.SetResponder(hold)
	result := sendAsync(ctx, tr, sendAction("held"))
	o, err := h.NextOutbound(ctx)
	require.NoError(t, err)

	disconnected := make(chan error, 1)
	go func() { disconnected <- tr.Disconnect(ctx) }()
	want := domain.SendResult{Success: true, MessageID: "m-late"}
	require.NoError(t, h.Answer(ctx, o.RequestID, Reply{Result: want}))

	assert.Equal(t, want, WaitFor(t, result, WaitTimeout))
	assert.NoError(t, WaitFor(t, disconnected, WaitTimeout))
}

func testTimeout(t *testing.T, newHarness NewHarness) {
	ctx := testContext(t)
	h, tr := setup(t, newHarness, Settings{OutboundTimeout: shortTimeout, CloseGrace: relaxedGrace})
	connect(ctx, t, tr, newSink())
	h.SetResponder(hold)

	got := tr.SendOutbound(ctx, sendAction("never answered"))

	assert.Equal(t, domain.ResultTimedOut, got)
	assert.True(t, got.Ambiguous)
}

func testCancelledAfterWrite(t *testing.T, newHarness NewHarness) {
	ctx := testContext(t)
	h, tr, _ := connected(t, newHarness)
	h.SetResponder(hold)
	sendCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	result := sendAsync(sendCtx, tr, sendAction("held"))
	_, err := h.NextOutbound(ctx)
	require.NoError(t, err)

	cancel()

	got := WaitFor(t, result, WaitTimeout)
	assert.Equal(t, domain.ResultTimedOut, got)
	assert.True(t, got.Ambiguous, "the connector may have applied it")
}

func testLost(t *testing.T, newHarness NewHarness) {
	ctx := testContext(t)
	h, tr, _ := connected(t, newHarness)
	h.SetResponder(hold)
	result := sendAsync(ctx, tr, sendAction("held"))
	_, err := h.NextOutbound(ctx)
	require.NoError(t, err)

	require.NoError(t, h.Drop(ctx))

	assert.Equal(t, domain.ResultLost, WaitFor(t, result, WaitTimeout))
}
