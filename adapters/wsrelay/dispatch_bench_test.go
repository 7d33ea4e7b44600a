package wsrelay

import (
	"log/slog"
	"testing"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
	"github.com/relay-go/relay/wire"
)

// BenchmarkInboundFrame measures the reader's work for one inbound frame
// carried alone in a message: splitting, frame decoding, event decoding and
// the handler call. It reports allocations per frame.
func BenchmarkInboundFrame(b *testing.B) {
	tr, err := New(Config{
		URL:        "http://127.0.0.1:1",
		Identities: []domain.Identity{{Platform: "discord", BotID: "b"}},
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	delivered := 0
	l := newLink(tr, nil, 1, ports.Handlers{
		Inbound: func(domain.MessageEvent, ports.Delivery) { delivered++ },
	})
	msg := wire.AppendInbound(nil, domain.MessageEvent{
		Text:        "hello there, how are you today?",
		MessageType: domain.MessageText,
		MessageID:   "1234567890",
		Source: domain.SessionSource{
			Platform: "discord", ChatID: "987654321", ChatType: domain.ChatChannel,
			UserID: "42", UserName: "someone", GuildID: "555",
		},
	}, "buf-1")
	split := wire.Splitter{}

	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if err := split.Feed(msg, l.dispatch); err != nil {
			b.Fatal(err)
		}
	}

	if delivered == 0 {
		b.Fatal("nothing delivered")
	}
}
