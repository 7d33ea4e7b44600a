package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/app"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/mocks"
	"github.com/relay-go/relay/ports"
)

func TestInboundReachesSinkInChatOrderWhileAnotherChatIsSlow(t *testing.T) {
	tr := newFakeTransport()
	sink := newRecordingSink()
	slow := sink.holdChat("slow")
	a := connected(t, tr, sink, nil)

	tr.inbound(event("slow", "s1"), ports.Delivery{})
	tr.inbound(event("slow", "s2"), ports.Delivery{})
	require.Equal(t, "s1", recv(t, sink.got).ev.Text)

	// The slow chat holds its worker; another chat and outbound go on.
	for _, text := range []string{"f1", "f2", "f3", "f4"} {
		tr.inbound(event("fast", text), ports.Delivery{})
	}

	for _, want := range []string{"f1", "f2", "f3", "f4"} {
		got := recv(t, sink.got)
		assert.Equal(t, "fast", got.ev.Source.ChatID)
		assert.Equal(t, want, got.ev.Text)
	}

	res := a.Send(context.Background(), "fast", "reply", app.SendOptions{})
	assert.True(t, res.Success)

	// The slow chat's second event waits for its first.
	none(t, sink.got)
	slow <- nil
	assert.Equal(t, "s2", recv(t, sink.got).ev.Text)
	slow <- nil
}

func TestInboundBufferedAckOnlyAfterSinkAccepted(t *testing.T) {
	tests := []struct {
		name    string
		give    error // what the sink returns
		wantAck bool
	}{
		{name: "accepted", wantAck: true},
		{name: "refused", give: errors.New("busy")},
		{name: "panicked", give: errPanic},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newFakeTransport()
			sink := newRecordingSink()
			hold := sink.holdChat("c1")
			acks := make(chanAcker, 10)
			connected(t, tr, panickingSink{sink}, nil)

			tr.inbound(event("c1", "x"), ports.Delivery{BufferID: "b1", Acker: acks})
			recv(t, sink.got)
			none(t, acks) // the sink has not returned yet

			hold <- tt.give

			// A later event of the same chat proves the first was finished.
			tr.inbound(event("c1", "y"), ports.Delivery{BufferID: "b2", Acker: acks})
			recv(t, sink.got)
			hold <- nil

			if tt.wantAck {
				assert.Equal(t, "b1", recv(t, acks))
			}

			assert.Equal(t, "b2", recv(t, acks))
		})
	}
}

// errPanic makes panickingSink panic instead of returning.
var errPanic = errors.New("panic please")

type panickingSink struct{ *recordingSink }

func (p panickingSink) HandleMessage(ctx context.Context, ev domain.MessageEvent) error {
	if err := p.recordingSink.HandleMessage(ctx, ev); errors.Is(err, errPanic) {
		panic("sink exploded")
	} else {
		return err
	}
}

// refusalCounter is a Metrics that also observes refusals.
type refusalCounter struct {
	ports.NopMetrics
	refused chan struct{}
}

func (r refusalCounter) InboundRefused() { r.refused <- struct{}{} }

func TestInboundQueueFull(t *testing.T) {
	tests := []struct {
		name     string
		give     ports.Delivery
		wantLog  string
		buffered bool
	}{
		{
			name:    "buffered delivery is left for replay",
			give:    ports.Delivery{BufferID: "b9"},
			wantLog: "left for replay",
		},
		{
			name:    "live delivery is lost",
			give:    ports.Delivery{},
			wantLog: "live event lost",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newFakeTransport()
			sink := newRecordingSink()
			hold := sink.holdChat("c1")
			logs := &logBuffer{}
			acks := make(chanAcker, 10)
			metrics := refusalCounter{refused: make(chan struct{}, 10)}
			a := connected(t, tr, sink, func(c *app.Config) {
				c.QueueCapacity = 2
				c.Logger = newLogger(logs)
				c.Metrics = metrics
			})

			// One event with the sink, two waiting: the queue is full.
			tr.inbound(event("c1", "first"), ports.Delivery{})
			recv(t, sink.got)
			tr.inbound(event("c1", "second"), ports.Delivery{})
			tr.inbound(event("c1", "third"), ports.Delivery{})
			require.Equal(t, 2, a.PendingDeliveries())

			give := tt.give
			give.Acker = acks
			tr.inbound(event("c3", "secret words"), give)

			recv(t, metrics.refused)
			assert.Equal(t, uint64(1), a.RefusedDeliveries())
			assert.Contains(t, logs.String(), tt.wantLog)
			assert.Contains(t, logs.String(), `"chat_id":"c3"`)
			assert.Contains(t, logs.String(), `"level":"WARN"`)
			assert.NotContains(t, logs.String(), "secret words")

			// Draining makes room again; the refused event never arrives.
			for _, want := range []string{"second", "third"} {
				hold <- nil
				assert.Equal(t, want, recv(t, sink.got).ev.Text)
			}

			hold <- nil

			tr.inbound(event("c4", "fourth"), ports.Delivery{})
			assert.Equal(t, "fourth", recv(t, sink.got).ev.Text)
			none(t, sink.got)
			none(t, acks)
		})
	}
}

func TestInboundCountsEveryDeliveryThatBecomesAnEvent(t *testing.T) {
	tr := newFakeTransport()
	metrics := mocks.NewMetrics(t)
	metrics.EXPECT().InboundEvent().Return().Times(3)

	sink := newRecordingSink()
	connected(t, tr, sink, func(c *app.Config) { c.Metrics = metrics })

	tr.inbound(event("c1", "a"), ports.Delivery{})
	tr.inbound(event("c2", "b"), ports.Delivery{})
	tr.Handlers().Forward(domain.Forward{
		Platform: "discord", Body: []byte(interactionBody),
	}, ports.Delivery{})

	// Forwards that are dropped are not events and are not counted.
	tr.Handlers().Forward(domain.Forward{Platform: "twilio"}, ports.Delivery{})
	tr.Handlers().Forward(domain.Forward{
		Platform: "discord", Body: []byte("not json"),
	}, ports.Delivery{})

	recv(t, sink.got)
	recv(t, sink.got)
	recv(t, sink.got)
}

// panickingStore is a ScopeStore whose Remember panics.
type panickingStore struct{ ports.ScopeStore }

func (panickingStore) Remember(string, domain.Discriminator) { panic("store exploded") }

func TestScopeCaptureNeverFailsTheInbound(t *testing.T) {
	tr := newFakeTransport()
	sink := newRecordingSink()
	connected(t, tr, sink, func(c *app.Config) {
		c.Store = panickingStore{domain.NewScopeTable(0)}
	})

	ev := event("c1", "x")
	ev.Source.GuildID = "g1"
	tr.inbound(ev, ports.Delivery{})

	assert.Equal(t, "c1", recv(t, sink.got).ev.Source.ChatID)
}

func TestScopeCapturedFromInbound(t *testing.T) {
	tests := []struct {
		name      string
		give      domain.SessionSource
		wantChat  string
		wantScope domain.Discriminator
	}{
		{
			name:      "guild",
			give:      domain.SessionSource{ChatID: "c1", GuildID: "g1", UserID: "u1"},
			wantChat:  "c1",
			wantScope: domain.Discriminator{Scope: "g1"},
		},
		{
			name:      "dm",
			give:      domain.SessionSource{ChatID: "c2", UserID: "u2"},
			wantChat:  "c2",
			wantScope: domain.Discriminator{DMUser: "u2"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newFakeTransport()
			store := mocks.NewScopeStore(t)
			store.EXPECT().Remember(tt.wantChat, tt.wantScope).Return().Once()

			sink := newRecordingSink()
			connected(t, tr, sink, func(c *app.Config) { c.Store = store })

			tr.inbound(domain.MessageEvent{Source: tt.give}, ports.Delivery{})
			recv(t, sink.got)
		})
	}
}

func TestInterrupts(t *testing.T) {
	t.Run("routed to the session", func(t *testing.T) {
		tr := newFakeTransport()
		interrupter := mocks.NewSessionInterrupter(t)
		interrupter.EXPECT().InterruptSession(mock.Anything, "s1", "c1").Return(nil).Once()

		connected(t, tr, newRecordingSink(), func(c *app.Config) { c.Interrupter = interrupter })
		tr.Handlers().Interrupt("s1", "c1")
	})

	t.Run("failure is logged", func(t *testing.T) {
		tr := newFakeTransport()
		logs := &logBuffer{}
		interrupter := mocks.NewSessionInterrupter(t)
		interrupter.EXPECT().InterruptSession(mock.Anything, "s1", "c1").
			Return(errors.New("no such session")).Once()

		connected(t, tr, newRecordingSink(), func(c *app.Config) {
			c.Interrupter = interrupter
			c.Logger = newLogger(logs)
		})
		tr.Handlers().Interrupt("s1", "c1")
		assert.Contains(t, logs.String(), "no such session")
	})

	t.Run("a slow interrupter is cut off by the interrupt timeout", func(t *testing.T) {
		tr := newFakeTransport()
		deadline := make(chan bool, 1)
		interrupter := mocks.NewSessionInterrupter(t)
		interrupter.EXPECT().InterruptSession(mock.Anything, "s1", "c1").
			RunAndReturn(func(ctx context.Context, _, _ string) error {
				_, ok := ctx.Deadline()
				deadline <- ok
				<-ctx.Done() // a stuck interrupter that honours its context

				return ctx.Err()
			}).Once()

		connected(t, tr, newRecordingSink(), func(c *app.Config) {
			c.Interrupter = interrupter
			c.InterruptTimeout = time.Millisecond
		})

		// The reader gets control back once the timeout ends the call.
		returned := make(chan struct{})

		go func() {
			defer close(returned)

			tr.Handlers().Interrupt("s1", "c1")
		}()

		assert.True(t, recv(t, deadline), "the interrupter's context has a deadline")
		recv(t, returned)
	})

	t.Run("no interrupter drops it", func(t *testing.T) {
		tr := newFakeTransport()
		logs := &logBuffer{}
		connected(t, tr, newRecordingSink(), func(c *app.Config) { c.Logger = newLogger(logs) })

		tr.Handlers().Interrupt("s1", "c1")
		assert.Contains(t, logs.String(), "relay interrupt dropped")
		assert.Contains(t, logs.String(), `"session_key":"s1"`)
	})
}

const interactionBody = `{"type":2,"id":"i1","channel_id":"c7","guild_id":"g7",` +
	`"member":{"user":{"id":"u7","username":"ann"}},"data":{"name":"ask"}}`

func TestForwards(t *testing.T) {
	tests := []struct {
		name      string
		give      domain.Forward
		wantEvent bool
		wantLog   string
	}{
		{
			name: "discord interaction becomes an event",
			give: domain.Forward{
				Platform: "discord", Method: "POST", Path: "/interactions",
				Body: []byte(interactionBody), Profile: "p1",
			},
			wantEvent: true,
		},
		{
			name: "discord body that is not an interaction is dropped",
			give: domain.Forward{
				Platform: "discord", Method: "POST", Path: "/x", Body: []byte("not json"),
			},
			wantLog: "not a discord interaction",
		},
		{
			name: "other platform is dropped",
			give: domain.Forward{
				Platform: "twilio", Method: "POST", Path: "/sms",
				Body: []byte("From=secret-number"),
			},
			wantLog: `"platform":"twilio","method":"POST","path":"/sms"`,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newFakeTransport()
			sink := newRecordingSink()
			hold := sink.holdChat("c7")
			logs := &logBuffer{}
			acks := make(chanAcker, 10)
			a := connected(t, tr, sink, func(c *app.Config) { c.Logger = newLogger(logs) })

			tr.Handlers().Forward(tt.give, ports.Delivery{BufferID: "f1", Acker: acks})

			if !tt.wantEvent {
				assert.Equal(t, "f1", recv(t, acks), "acked so it is not replayed")
				none(t, sink.got)
				assert.Contains(t, logs.String(), tt.wantLog)
				assert.NotContains(t, logs.String(), "secret")

				return
			}

			got := recv(t, sink.got).ev
			assert.Equal(t, "ask", got.Text)
			assert.Equal(t, "c7", got.Source.ChatID)
			assert.Equal(t, "g7", got.Source.GuildID)
			assert.Equal(t, "p1", got.Source.Profile)

			none(t, acks) // not before the sink accepted
			hold <- nil
			assert.Equal(t, "f1", recv(t, acks))

			// The interaction's guild scope is re-attached on the reply.
			a.Send(context.Background(), "c7", "answer", app.SendOptions{})
			action := recv(t, tr.actions)
			assert.Equal(t, "g7", action.Metadata["guild_id"])
		})
	}
}

// panickingMetrics panics on every inbound count.
type panickingMetrics struct{ ports.NopMetrics }

func (panickingMetrics) InboundEvent() { panic("metrics exploded") }

func TestBadForwardNeverBreaksTheReader(t *testing.T) {
	tr := newFakeTransport()
	logs := &logBuffer{}
	acks := make(chanAcker, 10)
	connected(t, tr, newRecordingSink(), func(c *app.Config) {
		c.Metrics = panickingMetrics{}
		c.Logger = newLogger(logs)
	})

	assert.NotPanics(t, func() {
		tr.Handlers().Forward(
			domain.Forward{Platform: "discord", Body: []byte(interactionBody)},
			ports.Delivery{BufferID: "f1", Acker: acks})
	})
	assert.Equal(t, "f1", recv(t, acks))
	assert.True(t, strings.Contains(logs.String(), "relay forward handling failed"))
}
