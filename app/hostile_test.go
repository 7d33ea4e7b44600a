package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/app"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
)

// Hostile input reaching the adapter through its transport's handlers.
// Covered elsewhere and not repeated here: a full queue
// (TestInboundQueueFull), a forward of another platform or with a body that
// is not an interaction (TestForwards), a panicking forward path
// (TestBadForwardNeverBreaksTheReader). Transport-level hostility (oversized
// or split messages, unknown or late results, descriptor floods, frames
// after a close frame) is tested over real sockets in the wsrelay package.

func TestHostileForwardWithAHugeHeadersList(t *testing.T) {
	tr := newFakeTransport()
	sink := newRecordingSink()
	connected(t, tr, sink, nil)
	acks := make(chanAcker, 1)

	headers := make([][2]string, 200000)
	for i := range headers {
		headers[i] = [2]string{"x-h", strings.Repeat("v", i%64)}
	}
	tr.Handlers().Forward(domain.Forward{
		Platform: "discord", Method: "POST", Path: "/interactions",
		Headers: headers, Body: []byte(interactionBody),
	}, ports.Delivery{BufferID: "f-1", Acker: acks})

	got := recv(t, sink.got)
	assert.Equal(t, "ask", got.ev.Text, "the headers are not read; the body is")
	assert.Equal(t, "f-1", recv(t, acks))
}

func TestHostileInteractionBodies(t *testing.T) {
	tests := []struct {
		name      string
		give      string
		wantEvent bool
	}{
		{
			name: "deeply nested arrays",
			give: strings.Repeat("[", 100000) + strings.Repeat("]", 100000),
		},
		{
			name: "deeply nested data object",
			give: `{"type":2,"channel_id":"c","data":` + strings.Repeat(`{"d":`, 50000) + "1" +
				strings.Repeat("}", 50000) + "}",
		},
		{
			name: "unterminated nesting",
			give: `{"type":2,"channel_id":"c","data":` + strings.Repeat(`[{"a":`, 50000),
		},
		{
			name: "invalid UTF-8 in the command name and user",
			give: "{\"type\":2,\"channel_id\":\"c\xff\",\"user\":{\"id\":\"u\",\"username\":" +
				"\"\xed\xa0\x80\"},\"data\":{\"name\":\"a\xfe\xffb\"}}",
			wantEvent: true,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newFakeTransport()
			sink := newRecordingSink()
			connected(t, tr, sink, nil)
			acks := make(chanAcker, 1)

			assert.NotPanics(t, func() {
				tr.Handlers().Forward(domain.Forward{Platform: "discord", Body: []byte(tt.give)},
					ports.Delivery{BufferID: "f-1", Acker: acks})
			})

			// Refused or taken, the delivery is acknowledged once, so the
			// connector never replays a body that can only fail again.
			assert.Equal(t, "f-1", recv(t, acks))
			if !tt.wantEvent {
				none(t, sink.got)
				return
			}
			got := recv(t, sink.got)
			for _, s := range []string{got.ev.Text, got.ev.Source.ChatID,
				got.ev.Source.UserName} {
				assert.True(t, utf8.ValidString(s), "%q is valid UTF-8", s)
			}
		})
	}
}

func TestHostileDeliveriesAfterDisconnectAreRefused(t *testing.T) {
	tr := newFakeTransport()
	sink := newRecordingSink()
	a, err := app.NewAdapter(app.Config{Transport: tr, Sink: sink})
	require.NoError(t, err)
	require.NoError(t, a.Connect(context.Background()))

	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	require.NoError(t, a.Disconnect(ctx))

	// A transport that keeps calling the handlers after its link closed.
	acks := make(chanAcker, 3)
	h := tr.Handlers()
	assert.NotPanics(t, func() {
		h.Inbound(event("c-1", "late"), ports.Delivery{BufferID: "b-1", Acker: acks})
		h.Inbound(event("c-2", "late live"), ports.Delivery{})
		h.Forward(domain.Forward{Platform: "discord", Body: []byte(interactionBody)},
			ports.Delivery{BufferID: "f-1", Acker: acks})
		h.Interrupt("s", "c-1")
	})

	none(t, sink.got)
	none(t, acks)
	assert.Equal(t, uint64(3), a.RefusedDeliveries(),
		"buffered deliveries stay unacknowledged for a later replay")
}

func TestHostileChatFloodStaysWithinTheScopeCapacity(t *testing.T) {
	tr := newFakeTransport()
	sink := newRecordingSink()
	store := domain.NewScopeTable(64)
	connected(t, tr, sink, func(c *app.Config) { c.Store = store })

	const chats = 5000
	for i := range chats {
		ev := event(fmt.Sprintf("c-%d", i), "hi")
		ev.Source.GuildID = fmt.Sprintf("g-%d", i)
		tr.Handlers().Inbound(ev, ports.Delivery{})
		if i%500 == 0 {
			assert.LessOrEqual(t, store.Len(), store.Capacity())
		}
	}

	for range chats {
		select {
		case <-sink.got:
		case <-time.After(waitLimit):
			t.Fatal("the flood did not drain")
		}
	}
	assert.Equal(t, 64, store.Len(), "the table is full, never over capacity")
	_, ok := store.Lookup(fmt.Sprintf("c-%d", chats-1))
	assert.True(t, ok, "the newest chat is remembered")
	_, ok = store.Lookup("c-0")
	assert.False(t, ok, "the oldest chat was evicted")
}
