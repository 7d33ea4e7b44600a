package memory_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/adapters/memory"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
	"github.com/relay-go/relay/ports/transporttest"
)

const wait = transporttest.WaitTimeout

func TestBackoffDelay(t *testing.T) {
	tests := []struct {
		give int
		want time.Duration
	}{
		{give: 0, want: time.Second},
		{give: 1, want: time.Second},
		{give: 2, want: 2 * time.Second},
		{give: 3, want: 4 * time.Second},
		{give: 5, want: 16 * time.Second},
		{give: 6, want: 30 * time.Second},
		{give: 100, want: 30 * time.Second},
	}

	for _, tt := range tests {
		assert.Equal(t, tt.want, memory.BackoffDelay(tt.give), "attempt %d", tt.give)
	}
}

func TestHandshakeAnswersTheFirstIdentity(t *testing.T) {
	telegram := memory.DefaultDescriptor()
	telegram.Platform = "telegram"
	telegram.LenUnit = domain.UnitUTF16
	tr, conn := memory.NewPair(memory.Config{
		Descriptors: []domain.Descriptor{memory.DefaultDescriptor(), telegram},
		Identities: []domain.Identity{
			{Platform: "telegram", BotID: "tg-bot"},
			{Platform: "discord", BotID: "dc-bot"},
		},
		Logger: testLogger(t),
	})

	got := start(t, tr, nil)

	assert.Equal(t, telegram, got)
	hello, err := conn.NextHello(testContext(t))
	require.NoError(t, err)
	assert.Equal(t, []domain.Identity{
		{Platform: "telegram", BotID: "tg-bot"},
		{Platform: "discord", BotID: "dc-bot"},
	}, hello)
}

func TestOutboundTargetNamesTheAnnouncedBot(t *testing.T) {
	tests := []struct {
		name string
		give domain.Identity
		want domain.Identity
	}{
		{name: "default identity", give: domain.Identity{}, want: domain.Identity{}},
		{
			name: "platform only",
			give: domain.Identity{Platform: "discord"},
			want: domain.Identity{Platform: "discord", BotID: memory.DefaultBotID},
		},
		{
			name: "explicit bot",
			give: domain.Identity{Platform: "discord", BotID: "other"},
			want: domain.Identity{Platform: "discord", BotID: "other"},
		},
	}

	// A platform that was never announced is refused unsent: the
	// conformance suite checks that for every transport.
	tr, conn := memory.NewPair(memory.Config{Logger: testLogger(t)})
	start(t, tr, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)

			res := tr.SendOutbound(ctx, domain.Action{Op: domain.OpSend, Target: tt.give})

			require.True(t, res.Success)
			o, err := conn.NextOutbound(ctx)
			require.NoError(t, err)
			assert.Equal(t, tt.want, o.Target)
		})
	}
}

func TestRevocation(t *testing.T) {
	t.Run("revoked after a handshake latches at once", func(t *testing.T) {
		clock := &fakeClock{}
		delays := 0
		tr, conn := memory.NewPair(memory.Config{
			After:          clock.After,
			ReconnectDelay: func(int) time.Duration { delays++; return time.Second },
			Logger:         testLogger(t),
		})
		start(t, tr, nil)

		conn.Revoke()

		waitClosed(t, tr.Revoked(), "revoked")
		assert.Zero(t, delays, "the fresh re-dial does not back off")
		assert.True(t, tr.Revoked() == tr.Revoked(), "the same channel every call")
		assert.Equal(t, domain.ResultNotConnected,
			tr.SendOutbound(testContext(t), domain.Action{Op: domain.OpSend}))
		assert.Equal(t, 1, conn.Links(), "the re-dial was refused")
	})

	t.Run("unauthorized again on the fresh link latches", func(t *testing.T) {
		tr, conn := memory.NewPair(memory.Config{Logger: testLogger(t)})
		start(t, tr, nil)
		ctx := testContext(t)
		_, err := conn.NextHello(ctx)
		require.NoError(t, err)

		conn.CloseLink(memory.CloseUnauthorized, "")
		_, err = conn.NextHello(ctx)
		require.NoError(t, err, "one immediate re-dial")
		require.False(t, isClosed(tr.Revoked()))
		_, err = tr.Handshake(ctx)
		require.NoError(t, err)
		conn.CloseLink(memory.CloseUnauthorized, "")

		waitClosed(t, tr.Revoked(), "revoked")
	})

	t.Run("another close of the fresh link resets the probe", func(t *testing.T) {
		clock := &fakeClock{}
		tr, conn := memory.NewPair(memory.Config{After: clock.After, Logger: testLogger(t)})
		start(t, tr, nil)
		ctx := testContext(t)
		_, err := conn.NextHello(ctx)
		require.NoError(t, err)

		conn.CloseLink(memory.CloseUnauthorized, "")
		_, err = conn.NextHello(ctx)
		require.NoError(t, err)
		_, err = tr.Handshake(ctx)
		require.NoError(t, err)
		conn.Drop()
		clock.fire(t, time.Second)
		_, err = conn.NextHello(ctx)
		require.NoError(t, err)
		_, err = tr.Handshake(ctx)
		require.NoError(t, err)
		conn.CloseLink(memory.CloseUnauthorized, "")

		_, err = conn.NextHello(ctx)
		require.NoError(t, err, "an immediate re-dial, not a revocation")
		assert.False(t, isClosed(tr.Revoked()))
	})

	t.Run("expired token is not a revocation", func(t *testing.T) {
		clock := &fakeClock{}
		tr, conn := memory.NewPair(memory.Config{After: clock.After, Logger: testLogger(t)})
		start(t, tr, nil)
		ctx := testContext(t)
		_, err := conn.NextHello(ctx)
		require.NoError(t, err)

		conn.CloseLink(memory.CloseUnauthorized, memory.ReasonExpired)
		clock.fire(t, time.Second)

		_, err = conn.NextHello(ctx)
		require.NoError(t, err, "re-dialed after the backoff")
		assert.False(t, isClosed(tr.Revoked()))
	})

	t.Run("refused first dial is returned and not latched", func(t *testing.T) {
		tr, conn := memory.NewPair(memory.Config{Logger: testLogger(t)})
		conn.Revoke()

		err := tr.Connect(testContext(t))

		var ce *memory.CloseError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, memory.CloseUnauthorized, ce.Code)
		assert.False(t, isClosed(tr.Revoked()))
		require.NoError(t, tr.Disconnect(context.Background()))
	})
}

func TestReconnectBacksOffWhileRefused(t *testing.T) {
	clock := &fakeClock{}
	tr, conn := memory.NewPair(memory.Config{After: clock.After, Logger: testLogger(t)})
	start(t, tr, nil)
	ctx := testContext(t)
	_, err := conn.NextHello(ctx)
	require.NoError(t, err)

	// A refusal after an ordinary drop is retried with growing delays: only
	// an unauthorized close after a handshake starts the revocation probe.
	conn.Drop()
	conn.Revoke()
	clock.fire(t, time.Second)
	clock.fire(t, 2*time.Second)
	clock.awaitTimer(t, 4*time.Second)
	conn.Restore()
	clock.fire(t, 4*time.Second)

	_, err = conn.NextHello(ctx)
	require.NoError(t, err)
	assert.False(t, isClosed(tr.Revoked()))
	assert.True(t, tr.SendOutbound(ctx, domain.Action{Op: domain.OpSend}).Success)
}

func TestAbruptDrop(t *testing.T) {
	clock := &fakeClock{}
	tr, conn := memory.NewPair(memory.Config{After: clock.After, Logger: testLogger(t)})
	rec := newRecorder()
	start(t, tr, rec)
	ctx := testContext(t)
	_, err := conn.NextHello(ctx)
	require.NoError(t, err)
	conn.SetResponder(holdAll)
	result := make(chan domain.SendResult, 1)
	go func() { result <- tr.SendOutbound(ctx, domain.Action{Op: domain.OpSend}) }()
	_, err = conn.NextOutbound(ctx)
	require.NoError(t, err)

	require.True(t, conn.Drop())

	assert.Equal(t, domain.ResultLost, transporttest.WaitFor(t, result, wait))
	closed, err := conn.NextClose(ctx)
	require.NoError(t, err)
	assert.Equal(t, memory.LinkClose{Code: memory.CloseAbnormal}, closed)

	// Between links, calls fail fast and published inbound is buffered.
	clock.awaitTimer(t, time.Second)
	assert.Equal(t, domain.ResultNotConnected, tr.SendOutbound(ctx, domain.Action{Op: domain.OpSend}))
	assert.Error(t, tr.SendInterrupt(ctx, "s", nil))
	id := conn.Publish(event("while away"))
	require.NotEmpty(t, id)

	clock.fire(t, time.Second)

	got := transporttest.WaitFor(t, rec.inbound, wait)
	assert.Equal(t, "while away", got.ev.Text)
	assert.Equal(t, id, got.d.BufferID)
	conn.SetResponder(nil)
	assert.True(t, tr.SendOutbound(ctx, domain.Action{Op: domain.OpSend}).Success)
}

func TestConnectorCloseDeliversQueuedFrames(t *testing.T) {
	clock := &fakeClock{}
	tr, conn := memory.NewPair(memory.Config{After: clock.After, Logger: testLogger(t)})
	rec := newRecorder()
	start(t, tr, rec)

	require.NoError(t, conn.PushInbound(event("before close"), ""))
	conn.CloseLink(memory.CloseNormal, "bye")

	got := transporttest.WaitFor(t, rec.inbound, wait)
	assert.Equal(t, "before close", got.ev.Text)
}

func TestBufferedReplayAfterGoingIdle(t *testing.T) {
	conn := memory.NewConnector(memory.Config{Logger: testLogger(t)})
	first := conn.NewTransport(memory.Config{Logger: testLogger(t)})
	start(t, first, newRecorder())
	ctx := testContext(t)

	require.NoError(t, first.GoIdle(ctx))
	require.True(t, conn.Idle())
	ids := []string{
		conn.Publish(event("one")),
		conn.PublishForward(domain.Forward{Platform: "discord", Body: []byte("{}")}),
		conn.Publish(event("three")),
	}
	for _, id := range ids {
		require.NotEmpty(t, id, "buffered while idle")
	}
	require.NoError(t, first.Disconnect(ctx))

	// A gateway that takes the replay without acking gets it again.
	second := conn.NewTransport(memory.Config{Logger: testLogger(t)})
	rec := newRecorder()
	start(t, second, rec)
	assert.Equal(t, ids[0], transporttest.WaitFor(t, rec.inbound, wait).d.BufferID)
	assert.Equal(t, ids[1], transporttest.WaitFor(t, rec.forwards, wait).d.BufferID)
	assert.Equal(t, ids[2], transporttest.WaitFor(t, rec.inbound, wait).d.BufferID)
	require.NoError(t, second.Disconnect(ctx))
	assert.Equal(t, ids, conn.Buffered())

	third := conn.NewTransport(memory.Config{Logger: testLogger(t)})
	rec = newRecorder()
	start(t, third, rec)
	one := transporttest.WaitFor(t, rec.inbound, wait)
	fwd := transporttest.WaitFor(t, rec.forwards, wait)
	three := transporttest.WaitFor(t, rec.inbound, wait)
	assert.Equal(t, []string{"one", "three"}, []string{one.ev.Text, three.ev.Text})
	one.d.Ack()
	fwd.d.Ack()
	three.d.Ack()

	for _, want := range ids {
		got, err := conn.NextAck(ctx)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	assert.Empty(t, conn.Buffered())
	assert.Empty(t, conn.Publish(event("live again")), "delivered live after the handshake")
	assert.Equal(t, "live again", transporttest.WaitFor(t, rec.inbound, wait).ev.Text)
}

func TestDormantKeepsReconnectArmed(t *testing.T) {
	clock := &fakeClock{}
	tr, conn := memory.NewPair(memory.Config{After: clock.After, Logger: testLogger(t)})
	rec := newRecorder()
	start(t, tr, rec)
	ctx := testContext(t)
	_, err := conn.NextHello(ctx)
	require.NoError(t, err)

	closed, err := tr.GoDormant(ctx)

	require.NoError(t, err)
	require.True(t, closed)
	lc, err := conn.NextClose(ctx)
	require.NoError(t, err)
	assert.Equal(t, memory.LinkClose{Code: memory.CloseNormal, Reason: "dormant", ByGateway: true}, lc)
	assert.False(t, conn.Connected())
	id := conn.Publish(event("while asleep"))
	require.NotEmpty(t, id)

	clock.fire(t, time.Second)

	_, err = conn.NextHello(ctx)
	require.NoError(t, err, "re-dialed on wake")
	got := transporttest.WaitFor(t, rec.inbound, wait)
	assert.Equal(t, "while asleep", got.ev.Text)
	got.d.Ack()
	ack, err := conn.NextAck(ctx)
	require.NoError(t, err)
	assert.Equal(t, id, ack)
	assert.Empty(t, conn.Buffered())
}

func TestGoingIdleWithoutAck(t *testing.T) {
	clock := &fakeClock{}
	tr, conn := memory.NewPair(memory.Config{
		IgnoreGoingIdle: true,
		After:           clock.After,
		Logger:          testLogger(t),
	})
	start(t, tr, nil)
	ctx := testContext(t)

	idle := make(chan error, 1)
	go func() { idle <- tr.GoIdle(ctx) }()
	clock.fire(t, memory.DefaultIdleTimeout)
	assert.Error(t, transporttest.WaitFor(t, idle, wait))

	dormant := make(chan bool, 1)
	go func() {
		closed, err := tr.GoDormant(ctx)
		assert.Error(t, err)
		dormant <- closed
	}()
	clock.fire(t, memory.DefaultIdleTimeout)

	assert.False(t, transporttest.WaitFor(t, dormant, wait))
	assert.True(t, conn.Connected(), "the link stays up without an ack")
	assert.False(t, conn.Idle())
	assert.Equal(t, 2, conn.GoingIdles())
}

func TestDefaultOutboundTimeout(t *testing.T) {
	clock := &fakeClock{}
	tr, conn := memory.NewPair(memory.Config{After: clock.After, Logger: testLogger(t)})
	start(t, tr, nil)
	conn.SetResponder(holdAll)
	ctx := testContext(t)

	result := make(chan domain.SendResult, 1)
	go func() { result <- tr.SendOutbound(ctx, domain.Action{Op: domain.OpSend}) }()
	o, err := conn.NextOutbound(ctx)
	require.NoError(t, err)
	clock.fire(t, memory.DefaultOutboundTimeout)

	assert.Equal(t, domain.ResultTimedOut, transporttest.WaitFor(t, result, wait))
	assert.NoError(t, conn.Answer(o.RequestID, memory.Reply{}),
		"a late answer is accepted by the connector and ignored by the transport")
}

func TestChatInfoFailure(t *testing.T) {
	tr, conn := memory.NewPair(memory.Config{Logger: testLogger(t)})
	start(t, tr, nil)
	conn.SetResponder(func(memory.Outbound) memory.Reply {
		return memory.Reply{Result: domain.SendResult{Error: "unknown chat"}}
	})

	_, err := tr.ChatInfo(testContext(t), "chat-1")

	assert.ErrorContains(t, err, "unknown chat")
}

func TestNilHandlerDropsWithoutAck(t *testing.T) {
	tr, conn := memory.NewPair(memory.Config{Logger: testLogger(t)})
	interrupts := make(chan string, 1)
	tr.SetHandlers(ports.Handlers{
		Interrupt: func(key, _ string) { interrupts <- key },
	})
	start(t, tr, nil)

	require.NoError(t, conn.PushInbound(event("dropped"), "b-1"))
	require.NoError(t, conn.PushForward(domain.Forward{}, "f-1"))
	require.NoError(t, conn.PushInterrupt("s-1", "chat-1"))

	assert.Equal(t, "s-1", transporttest.WaitFor(t, interrupts, wait))
	assert.Empty(t, conn.Acks())
}

func TestAckAfterDisconnectIsDropped(t *testing.T) {
	tr, conn := memory.NewPair(memory.Config{Logger: testLogger(t)})
	rec := newRecorder()
	start(t, tr, rec)
	require.NoError(t, conn.PushInbound(event("late ack"), "b-1"))
	got := transporttest.WaitFor(t, rec.inbound, wait)

	require.NoError(t, tr.Disconnect(testContext(t)))
	got.d.Ack()

	assert.Empty(t, conn.Acks())
}

func TestConnectAfterDisconnect(t *testing.T) {
	tr, _ := memory.NewPair(memory.Config{Logger: testLogger(t)})
	require.NoError(t, tr.Disconnect(context.Background()))

	err := tr.Connect(testContext(t))

	assert.ErrorIs(t, err, memory.ErrClosed)
	_, err = tr.Handshake(testContext(t))
	assert.ErrorIs(t, err, memory.ErrClosed)
}

func TestConnectTwice(t *testing.T) {
	tr, _ := memory.NewPair(memory.Config{Logger: testLogger(t)})
	start(t, tr, nil)

	assert.Error(t, tr.Connect(testContext(t)))
}

func TestLogsCarryNoMessageText(t *testing.T) {
	const secret = "s3cret-message-text"

	logger, logs := captureLogger()
	clock := &fakeClock{}
	tr, conn := memory.NewPair(memory.Config{After: clock.After, Logger: logger})
	rec := newRecorder()
	start(t, tr, rec)
	ctx := testContext(t)

	conn.SetResponder(holdAll)
	result := make(chan domain.SendResult, 1)
	go func() {
		result <- tr.SendOutbound(ctx, domain.Action{Op: domain.OpSend, Content: secret})
	}()
	_, err := conn.NextOutbound(ctx)
	require.NoError(t, err)
	clock.fire(t, memory.DefaultOutboundTimeout)
	transporttest.WaitFor(t, result, wait)
	require.NoError(t, conn.PushInbound(event(secret), "b-1"))
	transporttest.WaitFor(t, rec.inbound, wait)
	conn.Drop()
	clock.fire(t, time.Second)
	_, err = conn.NextHello(ctx)
	require.NoError(t, err)
	require.NoError(t, tr.Disconnect(ctx))

	assert.NotEmpty(t, logs.String())
	assert.NotContains(t, logs.String(), secret)
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		msg := line[strings.Index(line, "msg=")+len("msg="):]
		assert.Equal(t, strings.ToLower(msg), msg, "lowercase message: %s", line)
	}
}

func TestPanickingInterruptHandlerIsRecovered(t *testing.T) {
	tr, conn := memory.NewPair(memory.Config{Logger: testLogger(t)})
	rec := newRecorder()
	h := rec.handlers()
	h.Interrupt = func(string, string) { panic(errors.New("boom")) }
	tr.SetHandlers(h)
	start(t, tr, nil)

	require.NoError(t, conn.PushInterrupt("s-1", "chat-1"))
	require.NoError(t, conn.PushInbound(event("after panic"), ""))

	assert.Equal(t, "after panic", transporttest.WaitFor(t, rec.inbound, wait).ev.Text)
}

func TestDefaultResponderKeepsIDsUnique(t *testing.T) {
	tr, conn := memory.NewPair(memory.Config{Logger: testLogger(t)})
	start(t, tr, nil)
	ctx := testContext(t)

	first := tr.SendOutbound(ctx, domain.Action{Op: domain.OpSend})
	conn.SetResponder(memory.ResultResponder(func(domain.Action) domain.SendResult {
		return domain.SendResult{Error: "declined"}
	}))
	declined := tr.SendOutbound(ctx, domain.Action{Op: domain.OpSend})
	conn.SetResponder(nil)
	second := tr.SendOutbound(ctx, domain.Action{Op: domain.OpSend})

	assert.Equal(t, domain.SendResult{Error: "declined"}, declined)
	assert.True(t, first.Success)
	assert.True(t, second.Success)
	assert.NotEqual(t, first.MessageID, second.MessageID)
}

func TestGoIdleFollowsTheConnectorSetting(t *testing.T) {
	tr, conn := memory.NewPair(memory.Config{Logger: testLogger(t)})
	start(t, tr, nil)
	ctx := testContext(t)

	conn.SetAckGoingIdle(false)
	cancelled, cancel := context.WithCancel(ctx)
	idle := make(chan error, 1)
	go func() { idle <- tr.GoIdle(cancelled) }()
	require.NoError(t, conn.NextGoingIdle(ctx))
	cancel()
	assert.ErrorIs(t, transporttest.WaitFor(t, idle, wait), context.Canceled)
	assert.False(t, conn.Idle())

	conn.SetAckGoingIdle(true)
	require.NoError(t, tr.GoIdle(ctx))
	assert.True(t, conn.Idle())
}

func TestGoIdleFailsWhenTheLinkDrops(t *testing.T) {
	clock := &fakeClock{}
	tr, conn := memory.NewPair(memory.Config{
		IgnoreGoingIdle: true,
		After:           clock.After,
		Logger:          testLogger(t),
	})
	start(t, tr, nil)
	ctx := testContext(t)

	idle := make(chan error, 1)
	go func() { idle <- tr.GoIdle(ctx) }()
	require.NoError(t, conn.NextGoingIdle(ctx))
	conn.Drop()

	assert.Error(t, transporttest.WaitFor(t, idle, wait))
}

func TestInterruptsAreRecorded(t *testing.T) {
	tr, conn := memory.NewPair(memory.Config{Logger: testLogger(t)})
	start(t, tr, nil)
	reason := "stop"

	require.NoError(t, tr.SendInterrupt(testContext(t), "s-1", &reason))
	require.NoError(t, tr.SendInterrupt(testContext(t), "s-2", nil))
	reason = "changed after sending"

	got := conn.Interrupts()
	require.Len(t, got, 2)
	assert.Equal(t, "s-1", got[0].SessionKey)
	if assert.NotNil(t, got[0].Reason) {
		assert.Equal(t, "stop", *got[0].Reason, "the recorded reason is a copy")
	}
	assert.Equal(t, memory.Interrupt{SessionKey: "s-2"}, got[1])
}
