package wsrelay

import (
	"bytes"
	"context"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
	"github.com/relay-go/relay/wire"
)

// errorCounter is a slog handler that counts error records: the reader
// logs a recovered panic at error level.
type errorCounter struct{ n atomic.Int64 }

func (h *errorCounter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }

func (h *errorCounter) Handle(context.Context, slog.Record) error {
	h.n.Add(1)
	return nil
}

func (h *errorCounter) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h *errorCounter) WithGroup(string) slog.Handler { return h }

// newReadPath returns a link without a socket whose reader path (splitter
// and dispatch) can be driven directly, with handlers that check what they
// are given.
func newReadPath(tb testing.TB, errs *errorCounter) (*link, *wire.Splitter) {
	tb.Helper()

	tr, err := New(Config{
		URL:        "http://127.0.0.1:1",
		Identities: []domain.Identity{{Platform: "discord", BotID: "b"}},
		Logger:     slog.New(errs),
	})
	if err != nil {
		tb.Fatal(err)
	}

	check := func(d ports.Delivery) {
		if d.Buffered() != (d.Acker != nil) {
			tb.Fatalf("delivery %+v: acker set iff buffered", d)
		}
	}
	l := newLink(tr, nil, 1, ports.Handlers{
		Inbound:   func(_ domain.MessageEvent, d ports.Delivery) { check(d) },
		Forward:   func(_ domain.Forward, d ports.Delivery) { check(d) },
		Interrupt: func(string, string) {},
	})
	tr.link = l

	return l, &wire.Splitter{MaxLine: 1 << 12}
}

// FuzzReadPath feeds arbitrary message sequences (messages separated by
// 0xff, a byte that never occurs in JSON text) through the splitter and the
// frame dispatch, with one outbound call pending. Nothing may panic, even
// inside the recovered dispatch, and a result may resolve its call at most
// once.
func FuzzReadPath(f *testing.F) {
	f.Add([]byte(`{"type":"inbound","event":{"text":"hi","source":{"chat_id":"c"}},` +
		`"bufferId":"b1"}` + "\n"))
	f.Add([]byte(`{"type":"outbound_result","requestId":"req","result":{"success":true}}` + "\n"))
	f.Add([]byte(`{"type":"desc` + "\xff" + `riptor","descriptor":{}}` + "\n\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		errs := &errorCounter{}
		l, split := newReadPath(t, errs)
		c := &call{id: "req", result: make(chan outcome, 1)}
		l.pending[c.id] = c

		for msg := range bytes.SplitSeq(data, []byte{0xff}) {
			if split.Feed(msg, l.dispatch) != nil {
				split.Reset()
			}
		}

		if n := errs.n.Load(); n != 0 {
			t.Fatalf("%d panics recovered in the read path", n)
		}
		if _, ok := l.pending[c.id]; !ok && len(c.result) != 1 {
			t.Fatal("a resolved call has no outcome")
		}
	})
}
