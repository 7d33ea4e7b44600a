package devconnector

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/wire"
)

func (s *server) post(t *testing.T, path, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(s.base+path, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()

	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var out map[string]any
	require.NoError(t, json.Unmarshal(raw, &out), "body %s", raw)

	return resp.StatusCode, out
}

func TestHTTPRejectsBadBodies(t *testing.T) {
	s := startServer(t, Config{Secrets: secrets})

	tests := []struct {
		name    string
		path    string
		give    string
		want    int
		wantErr string
	}{
		{name: "inbound that is not JSON", path: "/v1/inbound", give: `{"text":`,
			want: 400, wantErr: "not valid JSON"},
		{name: "empty inbound", path: "/v1/inbound", give: ``,
			want: 400, wantErr: "empty body"},
		{name: "inbound that is an array", path: "/v1/inbound", give: `[1]`,
			want: 400, wantErr: "must be a JSON object, got an array"},
		{name: "inbound without chat id", path: "/v1/inbound", give: `{"text":"hi"}`,
			want: 400, wantErr: "source.chat_id is required"},
		{name: "envelope whose event is a string", path: "/v1/inbound",
			give: `{"event":"hi"}`, want: 400, wantErr: "event: must be a JSON object"},
		{name: "envelope whose gateway id is a number", path: "/v1/inbound",
			give: `{"event":{"source":{"chat_id":"c"}},"gateway_id":7}`,
			want: 400, wantErr: "gateway_id must be a string"},
		{name: "envelope naming an unknown gateway", path: "/v1/inbound",
			give: `{"event":{"source":{"chat_id":"c"}},"gateway_id":"gw-9"}`,
			want: 400, wantErr: `unknown gateway_id "gw-9"`},
		{name: "two JSON values", path: "/v1/inbound", give: `{} {}`,
			want: 400, wantErr: "more than one JSON value"},
		{name: "interaction that is not JSON", path: "/v1/interactions", give: `nope`,
			want: 400, wantErr: "interaction: body is not valid JSON"},
		{name: "interrupt without session key", path: "/v1/interrupt",
			give: `{"chat_id":"c"}`, want: 400, wantErr: "session_key is required"},
		{name: "interrupt with a numeric session key", path: "/v1/interrupt",
			give: `{"session_key":5}`, want: 400, wantErr: `"session_key" must be string`},
		{name: "interrupt with no gateway connected", path: "/v1/interrupt",
			give: `{"session_key":"s","chat_id":"c"}`, want: 409, wantErr: "no gateway connected"},
		{name: "revoke that is not JSON", path: "/v1/revoke", give: `gw-1`,
			want: 400, wantErr: "revoke: body is not valid JSON"},
		{name: "revoke without gateway id", path: "/v1/revoke", give: `{}`,
			want: 400, wantErr: "revoke: gateway_id is required"},
		{name: "revoke with an empty gateway id", path: "/v1/revoke", give: `{"gateway_id":""}`,
			want: 400, wantErr: "revoke: gateway_id is required"},
		{name: "revoke with a numeric gateway id", path: "/v1/revoke", give: `{"gateway_id":1}`,
			want: 400, wantErr: `"gateway_id" must be string`},
		{name: "revoke of an unknown gateway", path: "/v1/revoke", give: `{"gateway_id":"gw-9"}`,
			want: 404, wantErr: `unknown gateway_id "gw-9"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := s.post(t, tt.path, tt.give)
			assert.Equal(t, tt.want, code)
			assert.Contains(t, body["error"], tt.wantErr)
		})
	}
	assert.Zero(t, s.Stats().Buffered, "nothing bad was buffered")

	// Nothing was revoked by the refused posts.
	g := connect(t, s, "gw-1", "s3cret-one")
	g.bye()
}

func TestHTTPRevokeClosesTheLinkAndRefusesTheSecret(t *testing.T) {
	tests := []struct {
		name      string
		open      bool
		gatewayID string
		secret    string
	}{
		{name: "a configured gateway", gatewayID: "gw-1", secret: "s3cret-one"},
		{name: "a gateway seen in open mode", open: true, gatewayID: "gw-open",
			secret: "any"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, Config{Secrets: secrets, Open: tt.open})
			g := connect(t, s, tt.gatewayID, tt.secret)

			code, body := s.post(t, "/v1/revoke", `{"gateway_id":"`+tt.gatewayID+`"}`)
			assert.Equal(t, http.StatusAccepted, code)
			assert.Equal(t, map[string]any{"status": "revoked", "gateway_id": tt.gatewayID,
				"links": float64(1)}, body)

			ce := g.closeError()
			assert.Equal(t, CloseUnauthorized, ce.Code)
			assert.Equal(t, ReasonRevoked, ce.Text)

			_, resp, err := dial(s, tt.gatewayID, tt.secret, time.Now())
			require.Error(t, err)
			require.NotNil(t, resp)
			_ = resp.Body.Close()
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

			// Revoking again is harmless: nothing is left to close.
			code, body = s.post(t, "/v1/revoke", `{"gateway_id":"`+tt.gatewayID+`"}`)
			assert.Equal(t, http.StatusAccepted, code)
			assert.Equal(t, float64(0), body["links"])
		})
	}
}

func TestHTTPDeliversAndLists(t *testing.T) {
	s := startServer(t, Config{Secrets: secrets})

	code, body := s.post(t, "/v1/inbound",
		`{"event":{"text":"hi","source":{"chat_id":"dm-1","user_id":"u-1"}},"gateway_id":"gw-1"}`)
	assert.Equal(t, http.StatusAccepted, code)
	assert.Equal(t, "buffered", body["status"])
	assert.Equal(t, "gw-1", body["gateway_id"])
	assert.NotEmpty(t, body["bufferId"])

	g := connect(t, s, "gw-1", "s3cret-one")
	defer g.bye()
	f := g.next()
	require.Equal(t, wire.TypeInbound, f.Type)
	g.send(wire.AppendInboundAck(nil, f.BufferID))

	// A bare event with unknown keys and pretty printing is kept, compact.
	code, body = s.post(t, "/v1/inbound", "{\n \"text\": \"yo\",\n \"custom\": 1,\n"+
		" \"source\": {\"chat_id\": \"dm-1\", \"user_id\": \"u-1\"}}")
	assert.Equal(t, http.StatusAccepted, code)
	assert.Equal(t, "delivered", body["status"])
	assert.Nil(t, body["bufferId"])
	f = g.next()
	assert.JSONEq(t, `{"text":"yo","custom":1,"source":{"chat_id":"dm-1","user_id":"u-1"}}`,
		string(f.Event))

	code, _ = s.post(t, "/v1/interactions", `{"type":2,"channel_id":"c"}`)
	assert.Equal(t, http.StatusAccepted, code)
	assert.Equal(t, wire.TypePassthroughForward, g.next().Type)

	code, _ = s.post(t, "/v1/interrupt", `{"session_key":"s","chat_id":"dm-1"}`)
	assert.Equal(t, http.StatusAccepted, code)
	assert.Equal(t, wire.TypeInterruptInbound, g.next().Type)

	g.outbound("r1", sendTo("dm-1", "user_id", "u-1"))
	g.outbound("r2", sendTo("dm-1", "user_id", "u-2"))
	g.send(wire.AppendInterrupt(nil, "s", nil))
	_, err := s.WaitStats(ctxT(t), func(st Stats) bool { return st.Interrupts == 1 })
	require.NoError(t, err)

	resp, err := http.Get(s.base + "/v1/outbound")
	require.NoError(t, err)
	defer resp.Body.Close()
	var listed struct {
		Outbound []struct {
			GatewayID string         `json:"gateway_id"`
			RequestID string         `json:"requestId"`
			Action    map[string]any `json:"action"`
			Result    map[string]any `json:"result"`
			Time      string         `json:"time"`
		} `json:"outbound"`
		Interrupts []struct {
			SessionKey string  `json:"session_key"`
			Reason     *string `json:"reason"`
		} `json:"interrupts"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&listed))
	require.Len(t, listed.Outbound, 2)
	assert.Equal(t, "gw-1", listed.Outbound[0].GatewayID)
	assert.Equal(t, "r1", listed.Outbound[0].RequestID)
	assert.Equal(t, "send", listed.Outbound[0].Action["op"])
	assert.Equal(t, true, listed.Outbound[0].Result["success"])
	assert.NotEmpty(t, listed.Outbound[0].Time)
	assert.Equal(t, DeclinedError, listed.Outbound[1].Result["error"])
	require.Len(t, listed.Interrupts, 1)
	assert.Equal(t, "s", listed.Interrupts[0].SessionKey)
	assert.Nil(t, listed.Interrupts[0].Reason)

	resp2, err := http.Get(s.base + "/v1/stats")
	require.NoError(t, err)
	defer resp2.Body.Close()
	var stats map[string]int
	require.NoError(t, json.NewDecoder(resp2.Body).Decode(&stats))
	assert.Equal(t, 1, stats["acked"])
	assert.Equal(t, 1, stats["declined"])
}

func TestHTTPMethodNotAllowed(t *testing.T) {
	s := startServer(t, Config{Secrets: secrets})
	resp, err := http.Get(s.base + "/v1/inbound")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}
