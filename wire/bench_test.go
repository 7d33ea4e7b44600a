package wire

import (
	"bytes"
	"testing"

	"github.com/relay-go/relay/domain"
)

// typicalInbound is an inbound frame as a Discord connector sends one for a
// guild message.
var typicalInbound = []byte(`{"type":"inbound","event":{"text":"hey, can you summarise ` +
	`the thread above?","message_type":"text","source":{"platform":"discord",` +
	`"chat_id":"1234567890123456789","chat_type":"channel","chat_name":"general",` +
	`"user_id":"987654321098765432","user_name":"ann","user_display_name":"Ann",` +
	`"guild_id":"1111111111111111111","scope_id":"1111111111111111111",` +
	`"message_id":"2222222222222222222"},"message_id":"2222222222222222222",` +
	`"media_urls":[]}}`)

func BenchmarkDecodeInbound(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(typicalInbound)))
	for b.Loop() {
		f, err := DecodeFrame(typicalInbound)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := DecodeEvent(f.Event); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeFrame(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(typicalInbound)))
	for b.Loop() {
		if _, err := DecodeFrame(typicalInbound); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendOutboundSend(b *testing.B) {
	a := domain.Action{
		Op: domain.OpSend, ChatID: "1234567890123456789",
		Content: "Here is the summary you asked for: three people agreed on Tuesday.",
		ReplyTo: strPtr("2222222222222222222"),
		Metadata: map[string]any{
			"guild_id": "1111111111111111111", "scope_id": "1111111111111111111",
		},
		Target: domain.Identity{Platform: "discord", BotID: "b1"},
	}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, err = AppendOutbound(buf[:0], "req-0000000001", a)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkAppendString(b *testing.B) {
	s := "Here is a reply with \"quotes\", a newline\n, and some UTF-8: héllo ☃ 🔌."
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		buf = appendString(buf[:0], s)
	}
}

func BenchmarkSplitterFeed(b *testing.B) {
	msg := bytes.Repeat(append(bytes.Clone(typicalInbound), '\n'), 8)
	var s Splitter
	n := 0
	emit := func([]byte) { n++ }
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if err := s.Feed(msg, emit); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSplitterFeedSplitFrame(b *testing.B) {
	line := append(bytes.Clone(typicalInbound), '\n')
	head, tail := line[:len(line)/2], line[len(line)/2:]
	var s Splitter
	emit := func([]byte) {}
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if err := s.Feed(head, emit); err != nil {
			b.Fatal(err)
		}
		if err := s.Feed(tail, emit); err != nil {
			b.Fatal(err)
		}
	}
}
