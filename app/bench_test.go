package app_test

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/app"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
)

// instantTransport answers every action at once with success.
type instantTransport struct {
	fakeTransport
}

func (*instantTransport) SendOutbound(context.Context, domain.Action) domain.SendResult {
	return domain.SendResult{Success: true, MessageID: "m1"}
}

// BenchmarkInboundDispatch measures the path from the transport's inbound
// handler through the per-chat queues to the sink, over 16 chats.
func BenchmarkInboundDispatch(b *testing.B) {
	tr := newFakeTransport()

	var wg sync.WaitGroup

	sink := ports.EventSinkFunc(func(context.Context, domain.MessageEvent) error {
		wg.Done()

		return nil
	})

	a, err := app.NewAdapter(app.Config{Transport: tr, Sink: sink, QueueCapacity: 1 << 20})
	require.NoError(b, err)
	require.NoError(b, a.Connect(context.Background()))

	events := make([]domain.MessageEvent, 16)
	for i := range events {
		events[i] = event("chat-"+strconv.Itoa(i), "hello")
		events[i].Source.GuildID = "guild-" + strconv.Itoa(i)
	}

	handle := tr.Handlers().Inbound

	b.ReportAllocs()
	b.ResetTimer()

	wg.Add(b.N)

	for i := range b.N {
		handle(events[i%len(events)], ports.Delivery{})
	}

	wg.Wait()
	b.StopTimer()

	require.Zero(b, a.RefusedDeliveries())
	require.NoError(b, a.Disconnect(context.Background()))
}

// BenchmarkSendWithReattach measures a Send into a chat whose guild scope is
// re-attached to the metadata.
func BenchmarkSendWithReattach(b *testing.B) {
	tr := &instantTransport{fakeTransport: *newFakeTransport()}
	store := domain.NewScopeTable(0)
	store.Remember("c1", domain.Discriminator{Scope: "g1"})

	a, err := app.NewAdapter(app.Config{Transport: tr, Sink: newRecordingSink(), Store: store})
	require.NoError(b, err)
	require.NoError(b, a.Connect(context.Background()))

	ctx := context.Background()
	meta := map[string]any{"thread_id": "t1"}

	b.ReportAllocs()
	b.ResetTimer()

	for range b.N {
		if res := a.Send(ctx, "c1", "a short reply", app.SendOptions{Metadata: meta}); !res.Success {
			b.Fatal(res.Error)
		}
	}

	b.StopTimer()
	require.NoError(b, a.Disconnect(context.Background()))
}

// BenchmarkInboundDispatchManyChats measures the inbound path when almost
// every event finds its chat's queue empty: events go round-robin over 1,000
// chats with at most 1,000 waiting for the sink, as in a flood through the
// relay.
func BenchmarkInboundDispatchManyChats(b *testing.B) {
	const chats, window = 1000, 1000

	tr := newFakeTransport()
	slots := make(chan struct{}, window)

	var wg sync.WaitGroup

	sink := ports.EventSinkFunc(func(context.Context, domain.MessageEvent) error {
		<-slots
		wg.Done()

		return nil
	})

	a, err := app.NewAdapter(app.Config{Transport: tr, Sink: sink})
	require.NoError(b, err)
	require.NoError(b, a.Connect(context.Background()))

	events := make([]domain.MessageEvent, chats)
	for i := range events {
		events[i] = event("chat-"+strconv.Itoa(i), "hello")
	}

	handle := tr.Handlers().Inbound

	b.ReportAllocs()
	b.ResetTimer()

	wg.Add(b.N)

	for i := range b.N {
		slots <- struct{}{}
		handle(events[i%len(events)], ports.Delivery{})
	}

	wg.Wait()
	b.StopTimer()

	require.Zero(b, a.RefusedDeliveries())
	require.NoError(b, a.Disconnect(context.Background()))
}
