package wsrelay_test

import (
	"context"
	"testing"
	"time"

	"github.com/relay-go/relay/adapters/wsrelay"
	"github.com/relay-go/relay/adapters/wsrelay/wsrelaytest"
	"github.com/relay-go/relay/domain"
)

// BenchmarkRoundTrip measures one outbound action and its result over a
// loopback WebSocket, with many concurrent senders. Allocations include the
// test server's, which runs in the same process.
func BenchmarkRoundTrip(b *testing.B) {
	srv := wsrelaytest.NewServer(b)
	cfg := testConfig(srv)
	cfg.OutboundTimeout = 10 * time.Second
	tr, err := wsrelay.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := tr.Connect(ctx); err != nil {
		b.Fatal(err)
	}
	defer tr.Disconnect(ctx)
	if _, err := tr.Handshake(ctx); err != nil {
		b.Fatal(err)
	}
	a := domain.Action{Op: domain.OpSend, ChatID: "chat-1", Content: "hello",
		Metadata: map[string]any{"guild_id": "g-1"}}

	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := tr.SendOutbound(ctx, a); !r.Success {
				b.Errorf("send: %+v", r)
				return
			}
		}
	})
}
