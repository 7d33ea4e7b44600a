package wsrelay_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/adapters/wsrelay"
	"github.com/relay-go/relay/adapters/wsrelay/wsrelaytest"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/wire"
)

// Hostile input a connector may send. Covered elsewhere and not repeated
// here: oversized messages and frames (TestOversizedInputClosesWith1009...
// in link_test.go), results for unknown request ids and results arriving
// after their call timed out (TestUnknownAndLateResultsAreIgnored), and a
// malformed descriptor (TestMalformedDescriptorIsSkipped).

// hostileWait bounds the tests that make the transport chew through
// megabytes of hostile JSON: under the race detector on a busy two-core
// machine that takes seconds, which is not what these tests are about.
const hostileWait = 60 * time.Second

// hostileConfig is testConfig with timeouts long enough that reading a
// hostile flood never trips the read deadline or the outbound timeout.
func hostileConfig(srv *wsrelaytest.Server) wsrelay.Config {
	cfg := testConfig(srv)
	cfg.ReadTimeout = hostileWait
	cfg.OutboundTimeout = hostileWait

	return cfg
}

// waitLong is waitFor with the hostileWait bound.
func waitLong[T any](t *testing.T, ch <-chan T) T {
	t.Helper()

	select {
	case v := <-ch:
		return v
	case <-time.After(hostileWait):
		t.Fatal("nothing arrived in time")
		var zero T

		return zero
	}
}

// hostileLink connects a transport with recording handlers to a fresh
// test connector.
func hostileLink(t *testing.T) (*wsrelaytest.Server, *recorder) {
	t.Helper()

	srv := wsrelaytest.NewServer(t)
	tr := newTransport(t, hostileConfig(srv))
	rec := newRecorder()
	tr.SetHandlers(rec.handlers())
	connectAndHandshake(t, tr)

	return srv, rec
}

// inboundLine is an inbound frame of a plain event with text.
func inboundLine(text, bufferID string) []byte {
	return wire.AppendInboundRaw(nil,
		[]byte(`{"text":"`+text+`","source":{"chat_id":"c-1"}}`), bufferID)
}

// stillServes checks the link still delivers and was never re-dialed.
func stillServes(t *testing.T, srv *wsrelaytest.Server, rec *recorder) {
	t.Helper()

	require.NoError(t, srv.Send(inboundLine("after", "b-after")))
	got := waitLong(t, rec.inbound)
	assert.Equal(t, "after", got.ev.Text)
	assert.Equal(t, "b-after", got.d.BufferID)
	assert.Equal(t, 1, srv.DialCount(), "the link was never dropped")
}

func TestHostileDeeplyNestedJSONIsSkipped(t *testing.T) {
	tests := []struct {
		name string
		give []byte
	}{
		{
			name: "nested arrays as the event",
			give: []byte(`{"type":"inbound","event":` + strings.Repeat("[", 200000) +
				strings.Repeat("]", 200000) + "}\n"),
		},
		{
			name: "nested objects inside the source",
			give: []byte(`{"type":"inbound","event":{"source":` +
				strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000) + "}}\n"),
		},
		{
			name: "unterminated nesting",
			give: []byte(`{"type":"passthrough_forward","forward":` + strings.Repeat("[{", 100000) +
				"\n"),
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := hostileLink(t)
			require.NoError(t, srv.Send(tt.give))
			stillServes(t, srv, rec)
		})
	}
}

func TestHostileHugeHeadersListInAForward(t *testing.T) {
	srv, rec := hostileLink(t)

	var b bytes.Buffer
	b.WriteString(`{"type":"passthrough_forward","bufferId":"f-1","forward":{"platform":"discord",` +
		`"botId":"bot-1","method":"POST","path":"/interactions","bodyB64":"e30=","headers":[`)
	const pairs = 150000
	for i := range pairs {
		if i > 0 {
			b.WriteByte(',')
		}
		if i%3 == 0 {
			b.WriteString(`["k",1]`) // not a pair of strings: dropped
		} else {
			b.WriteString(`["k","v"]`)
		}
	}
	b.WriteString("]}}\n")
	require.Less(t, b.Len(), wsrelay4MiB, "the forward fits the default read limit")

	require.NoError(t, srv.Send(b.Bytes()))
	got := waitLong(t, rec.forwards)
	assert.Equal(t, "f-1", got.d.BufferID)
	assert.Equal(t, []byte("{}"), got.f.Body)
	assert.LessOrEqual(t, len(got.f.Headers), pairs)
	stillServes(t, srv, rec)
}

// wsrelay4MiB is the transport's default read limit.
const wsrelay4MiB = 4 << 20

func TestHostileInvalidUTF8IsRepairedNotFatal(t *testing.T) {
	srv, rec := hostileLink(t)

	line := []byte("{\"type\":\"inbound\",\"bufferId\":\"b-\xff\",\"event\":{" +
		"\"text\":\"bad \xff\xfe text\",\"source\":{\"chat_id\":\"c-\xc3\"," +
		"\"user_name\":\"\xed\xa0\x80\"},\"message_id\":\"\xf8\"}}\n")
	require.False(t, utf8.Valid(line), "the frame really holds invalid UTF-8")
	require.NoError(t, srv.Send(line))

	got := waitFor(t, rec.inbound)
	for _, s := range []string{got.ev.Text, got.ev.Source.ChatID, got.ev.Source.UserName,
		got.ev.MessageID} {
		assert.True(t, utf8.ValidString(s), "%q is valid UTF-8", s)
	}
	assert.Contains(t, got.ev.Text, "bad ")
	stillServes(t, srv, rec)
}

func TestHostileMalformedResultIsAFailureResult(t *testing.T) {
	for _, raw := range []string{`[1,2]`, `"yes"`, `null`, `{"success":[]}`} {
		t.Run(raw, func(t *testing.T) {
			srv := wsrelaytest.NewServer(t, wsrelaytest.WithResponder(
				func(wsrelaytest.Outbound) wsrelaytest.Reply {
					return wsrelaytest.Reply{Raw: json.RawMessage(raw)}
				}))
			tr := newTransport(t, testConfig(srv))
			connectAndHandshake(t, tr)

			res := tr.SendOutbound(testCtx(t), domain.Action{Op: domain.OpSend, ChatID: "c"})
			assert.False(t, res.Success, "a result that is not a success object fails")
		})
	}
}

func TestHostileDescriptorFloodKeepsTheHandshake(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	tr := newTransport(t, hostileConfig(srv))
	first := connectAndHandshake(t, tr)

	const flood = 5000
	var b []byte
	for i := range flood {
		d := wsrelaytest.DefaultDescriptor(fmt.Sprintf("p-%d", i))
		frame, err := wire.AppendDescriptor(nil, d)
		require.NoError(t, err)
		b = append(b, frame...)
	}
	require.NoError(t, srv.Send(b))
	require.NoError(t, srv.Send(wire.AppendInboundRaw(nil,
		[]byte(`{"source":{"chat_id":"c"}}`), "")))

	// The flood is read through; the first descriptor stays the link's.
	res := tr.SendOutbound(testCtx(t), domain.Action{Op: domain.OpSend, ChatID: "c"})
	assert.True(t, res.Success)
	again, err := tr.Handshake(testCtx(t))
	require.NoError(t, err)
	assert.Equal(t, first, again)
	assert.Equal(t, 1, srv.DialCount())
	t.Logf("descriptors kept after the flood: %d", len(tr.Descriptors()))
}

// rawTextFrame encodes an unmasked (server to client) text frame.
func rawTextFrame(payload []byte) []byte {
	var h []byte
	switch n := len(payload); {
	case n < 126:
		h = []byte{0x81, byte(n)}
	default:
		h = []byte{0x81, 126, 0, 0}
		binary.BigEndian.PutUint16(h[2:], uint16(n))
	}

	return append(h, payload...)
}

func TestHostileFramesAfterACloseAreNeverRead(t *testing.T) {
	var dials atomic.Int32
	upgrader := websocket.Upgrader{}
	handlerDone := make(chan struct{}, 2)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { handlerDone <- struct{}{} }()
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		n := dials.Add(1)

		if _, _, err := ws.ReadMessage(); err != nil { // the hello
			return
		}
		desc, _ := wire.AppendDescriptor(nil, wsrelaytest.DefaultDescriptor("discord"))
		_ = ws.WriteMessage(websocket.TextMessage, desc)

		if n == 1 {
			// A close frame, then a frame that must never be read.
			_ = ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseGoingAway, ""),
				time.Now().Add(time.Second))
			_, _ = ws.NetConn().Write(rawTextFrame(inboundLine("after-close", "b-1")))
		} else {
			_ = ws.WriteMessage(websocket.TextMessage, inboundLine("second-link", "b-2"))
		}
		_ = ws.SetReadDeadline(time.Now().Add(waitTimeout))
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(func() {
		hs.Close()
	})

	cfg := testConfig(wsrelaytest.NewServer(t))
	cfg.URL = hs.URL
	tr := newTransport(t, cfg)
	rec := newRecorder()
	tr.SetHandlers(rec.handlers())
	connectAndHandshake(t, tr)

	got := waitFor(t, rec.inbound)
	assert.Equal(t, "second-link", got.ev.Text, "nothing after the close frame was read")
	assert.Equal(t, int32(2), dials.Load())
}
