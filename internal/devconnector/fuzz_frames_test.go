package devconnector

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"strings"
	"testing"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/wire"
)

// socketless returns a gateway link without a socket, whose read path
// (splitter and frame handling) can be driven directly.
func socketless(tb testing.TB) (*Connector, *conn) {
	tb.Helper()

	c, err := New(Config{Secrets: secrets})
	if err != nil {
		tb.Fatal(err)
	}
	k := &conn{
		c:         c,
		gatewayID: "gw-1",
		log:       slog.New(slog.DiscardHandler),
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		shook:     make(chan struct{}),
		bots:      make(map[string]string),
	}
	c.conns[k] = struct{}{}

	return c, k
}

// FuzzGatewayFrames feeds arbitrary message sequences from a gateway
// (messages separated by 0xff, a byte that never occurs in JSON text)
// through the connector's splitter and frame handling. Nothing may panic,
// every outbound frame gets exactly one result, and everything the
// connector queues for the gateway is well-formed frames.
func FuzzGatewayFrames(f *testing.F) {
	f.Add([]byte(`{"type":"hello","platform":"discord","botId":"b"}` + "\n" +
		`{"type":"outbound","requestId":"r1","action":{"op":"send","chat_id":"c"}}` + "\n"))
	f.Add([]byte(`{"type":"going_idle"}` + "\n\xff" + `{"type":"inbound_ack","bufferId":"buf-1"}` +
		"\n"))
	f.Add([]byte(`{"type":"outbound","requestId":"r","action":"x"}` + "\n\xff" +
		`{"type":"interrupt","session_key":"s","reason":null}` + "\n"))
	f.Add([]byte(`{"type":"outbound","requestId":"r","action":{"op":"get_chat_info","chat_id":` +
		"\xff" + `"c"}}` + "\n[1]\n\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		c, k := socketless(t)
		if _, err := c.Deliver(dmEvent("hi", "dm-1", "u-1")); err != nil {
			t.Fatal(err)
		}

		var split wire.Splitter
		for msg := range bytes.SplitSeq(data, []byte{0xff}) {
			if split.Feed(msg, k.handle) != nil {
				split.Reset()
			}
		}

		results := 0
		for line := range strings.SplitSeq(string(k.batch), "\n") {
			if line == "" {
				continue
			}
			fr, err := wire.DecodeFrame([]byte(line))
			if err != nil {
				t.Fatalf("queued a frame that is not a JSON object: %q", line)
			}
			if fr.Type == wire.TypeOutboundResult {
				results++
			}
			if fr.Type == wire.TypeDescriptor {
				if _, err := domain.DecodeDescriptor(fr.Descriptor); err != nil {
					t.Fatalf("queued a bad descriptor: %v", err)
				}
			}
		}
		if st := c.Stats(); results != st.Outbound {
			t.Fatalf("%d outbound answered, %d results queued", st.Outbound, results)
		}
	})
}

// FuzzClaimedGateway reads the gateway id an arbitrary token claims, as
// open mode does with upgrade tokens from the network: it never panics and
// claims only the head of the token's decoded text.
func FuzzClaimedGateway(f *testing.F) {
	f.Add(wire.MintToken("gw-1", "s", 0))
	f.Add(wire.MintToken("a:b:c", "s", 12))
	f.Add("Ojo6")
	f.Add("not base64!")

	f.Fuzz(func(t *testing.T, token string) {
		id := claimedGateway(token)
		if id == "" {
			return
		}
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			t.Fatalf("claimed %q from a token that does not decode", id)
		}
		if !strings.HasPrefix(string(raw), id+":") || strings.Count(string(raw[len(id):]), ":") < 2 {
			t.Fatalf("claimed %q, not the head of %q", id, raw)
		}
	})
}
