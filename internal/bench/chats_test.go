package bench_test

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/app"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/internal/echo"
	"github.com/relay-go/relay/ports"
)

// loopTransport hands inbound events straight to the adapter and answers
// every outbound action at once with success. It keeps nothing per event
// (the in-memory transport's connector journals every outbound action, so
// its heap grows with the traffic by design).
type loopTransport struct {
	handlers ports.Handlers
	answer   func()
}

var _ ports.Transport = (*loopTransport)(nil)

func (l *loopTransport) SetHandlers(h ports.Handlers)     { l.handlers = h }
func (l *loopTransport) Connect(context.Context) error    { return nil }
func (l *loopTransport) Disconnect(context.Context) error { return nil }

func (l *loopTransport) Handshake(context.Context) (domain.Descriptor, error) {
	return app.DefaultDescriptor(), nil
}

func (l *loopTransport) SendOutbound(context.Context, domain.Action) domain.SendResult {
	l.answer()

	return domain.SendResult{Success: true, MessageID: "r"}
}

func (l *loopTransport) ChatInfo(_ context.Context, chatID string) (domain.ChatInfo, error) {
	return domain.ChatInfo{Name: chatID, Type: domain.ChatDM}, nil
}

func (l *loopTransport) SendInterrupt(context.Context, string, *string) error { return nil }

// churnChats sends one message from each of chats distinct guild channels
// through the relay adapter and the echo agent, a thousand at a time. It
// returns the live heap (after a GC) once a fifth of the chats went
// through and once all of them did, and the scope table.
func churnChats(tb testing.TB, capacity, chats int) (early, late uint64, table *domain.ScopeTable) {
	tb.Helper()

	const chunk = 1000

	var replies atomic.Int64
	var target atomic.Int64
	done := make(chan struct{}, 1)

	tr := &loopTransport{answer: func() {
		if replies.Add(1) == target.Load() {
			done <- struct{}{}
		}
	}}

	table = domain.NewScopeTable(capacity)
	a, err := app.NewAdapter(app.Config{Transport: tr, Store: table})
	require.NoError(tb, err)
	require.NoError(tb, a.BindSink(echo.New(a, nil)))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	require.NoError(tb, a.Connect(ctx))

	heap := func() uint64 {
		runtime.GC()

		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)

		return ms.HeapAlloc
	}

	for sent := 0; sent < chats; {
		n := min(chunk, chats-sent)
		target.Store(int64(sent + n))

		for i := sent; i < sent+n; i++ {
			id := strconv.Itoa(i)
			tr.handlers.Inbound(domain.MessageEvent{
				Text: "hi",
				Source: domain.SessionSource{
					Platform: domain.PlatformDiscord, ChatID: "chat-" + id,
					ChatType: domain.ChatChannel, GuildID: "guild-" + id, UserID: "user-" + id,
				},
				MessageID: "m" + id,
			}, ports.Delivery{})
		}

		select {
		case <-done:
		case <-ctx.Done():
			tb.Fatalf("replies stalled at %d of %d", replies.Load(), sent+n)
		}

		sent += n
		if sent == chats/5 {
			early = heap()
		}
	}

	late = heap()
	require.NoError(tb, a.Disconnect(ctx))
	require.Zero(tb, a.RefusedDeliveries())

	return early, late, table
}

// TestManyChatsKeepTheHeapBounded pushes twenty times more distinct chats
// than the scope table holds: once the table is full, more chats do not
// grow the heap.
func TestManyChatsKeepTheHeapBounded(t *testing.T) {
	const capacity, chats = 1000, 20000

	early, late, table := churnChats(t, capacity, chats)

	assert.Equal(t, capacity, table.Len())
	// 16,000 chats more than at the early reading; unbounded growth would
	// cost well over 100 bytes each.
	assert.Less(t, int64(late)-int64(early), int64(1<<20),
		"heap grew from %d to %d bytes", early, late)
}

// BenchmarkMillionChats pushes 1,000,000 distinct chats through the relay
// adapter with the default scope capacity (100,000) and reports the live
// heap after 200,000 chats and after all of them.
func BenchmarkMillionChats(b *testing.B) {
	for range b.N {
		early, late, table := churnChats(b, 0, 1_000_000)

		b.ReportMetric(float64(early)/(1<<20), "heap-MiB-at-200k")
		b.ReportMetric(float64(late)/(1<<20), "heap-MiB-at-1M")
		b.ReportMetric(float64(table.Len()), "chats-remembered")
	}
}
