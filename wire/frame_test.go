package wire

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func strPtr(s string) *string { return &s }

func TestDecodeFrame(t *testing.T) {
	tests := []struct {
		name string
		give string
		want Frame
	}{
		{
			name: "hello",
			give: `{"type":"hello","platform":"discord","botId":"b1"}`,
			want: Frame{Type: TypeHello, Platform: "discord", BotID: "b1"},
		},
		{
			name: "outbound with target",
			give: `{"type":"outbound","requestId":"r1","action":{"op":"send"},` +
				`"platform":"telegram","botId":"b2"}`,
			want: Frame{
				Type: TypeOutbound, RequestID: "r1", Action: json.RawMessage(`{"op":"send"}`),
				Platform: "telegram", BotID: "b2",
			},
		},
		{
			name: "interrupt with reason",
			give: `{"type":"interrupt","session_key":"s1","reason":"user stop"}`,
			want: Frame{Type: TypeInterrupt, SessionKey: "s1", Reason: strPtr("user stop")},
		},
		{
			name: "interrupt with null reason",
			give: `{"type":"interrupt","session_key":"s1","reason":null}`,
			want: Frame{Type: TypeInterrupt, SessionKey: "s1"},
		},
		{
			name: "interrupt without reason",
			give: `{"type":"interrupt","session_key":"s1"}`,
			want: Frame{Type: TypeInterrupt, SessionKey: "s1"},
		},
		{
			name: "interrupt with empty reason",
			give: `{"type":"interrupt","session_key":"s1","reason":""}`,
			want: Frame{Type: TypeInterrupt, SessionKey: "s1", Reason: strPtr("")},
		},
		{
			name: "interrupt with numeric reason",
			give: `{"type":"interrupt","session_key":"s1","reason":7}`,
			want: Frame{Type: TypeInterrupt, SessionKey: "s1", Reason: strPtr("7")},
		},
		{name: "going_idle", give: `{"type":"going_idle"}`, want: Frame{Type: TypeGoingIdle}},
		{
			name: "inbound_ack",
			give: `{"type":"inbound_ack","bufferId":"buf-9"}`,
			want: Frame{Type: TypeInboundAck, BufferID: "buf-9"},
		},
		{
			name: "descriptor",
			give: `{"type":"descriptor","descriptor":{"contract_version":1,"platform":"discord"}}`,
			want: Frame{
				Type:       TypeDescriptor,
				Descriptor: json.RawMessage(`{"contract_version":1,"platform":"discord"}`),
			},
		},
		{
			name: "inbound",
			give: `{"type":"inbound","event":{"text":"hi"}}`,
			want: Frame{Type: TypeInbound, Event: json.RawMessage(`{"text":"hi"}`)},
		},
		{
			name: "inbound buffered",
			give: `{"type":"inbound","event":{"text":"hi"},"bufferId":"b7"}`,
			want: Frame{Type: TypeInbound, Event: json.RawMessage(`{"text":"hi"}`), BufferID: "b7"},
		},
		{
			name: "outbound_result",
			give: `{"type":"outbound_result","requestId":"r1","result":{"success":true}}`,
			want: Frame{
				Type: TypeOutboundResult, RequestID: "r1",
				Result: json.RawMessage(`{"success":true}`),
			},
		},
		{
			name: "interrupt_inbound",
			give: `{"type":"interrupt_inbound","session_key":"s1","chat_id":"c1"}`,
			want: Frame{Type: TypeInterruptInbound, SessionKey: "s1", ChatID: "c1"},
		},
		{
			name: "going_idle_ack",
			give: `{"type":"going_idle_ack"}`,
			want: Frame{Type: TypeGoingIdleAck},
		},
		{
			name: "passthrough_forward",
			give: `{"type":"passthrough_forward","forward":{"platform":"discord"},"bufferId":"b1"}`,
			want: Frame{
				Type: TypePassthroughForward, Forward: json.RawMessage(`{"platform":"discord"}`),
				BufferID: "b1",
			},
		},
		{
			name: "unknown type kept for the caller to ignore",
			give: `{"type":"future_thing","x":1}`,
			want: Frame{Type: "future_thing"},
		},
		{name: "no type", give: `{}`, want: Frame{}},
		{
			name: "unknown keys ignored",
			give: `{"type":"hello","platform":"discord","botId":"b",` +
				`"future":{"deep":[1,2]},"n":null}`,
			want: Frame{Type: TypeHello, Platform: "discord", BotID: "b"},
		},
		{
			name: "numbers read as text",
			give: `{"type":"outbound_result","requestId":12345,"result":{}}`,
			want: Frame{Type: TypeOutboundResult, RequestID: "12345", Result: json.RawMessage(`{}`)},
		},
		{
			name: "booleans read as text",
			give: `{"type":"inbound_ack","bufferId":true}`,
			want: Frame{Type: TypeInboundAck, BufferID: "true"},
		},
		{
			name: "null scalars read as empty",
			give: `{"type":null,"platform":null,"botId":null}`,
			want: Frame{},
		},
		{
			name: "object where text expected kept as compact JSON",
			give: `{"type":"hello","platform":{ "a" : 1 }}`,
			want: Frame{Type: TypeHello, Platform: `{"a":1}`},
		},
		{
			name: "invalid UTF-8 inside an object read as text is replaced",
			give: "{\"type\":\"hello\",\"platform\":{\"\xa5\":[\"\xff\"]}}",
			want: Frame{Type: TypeHello, Platform: "{\"\ufffd\":[\"\ufffd\"]}"},
		},
		{
			name: "invalid UTF-8 in a string replaced",
			give: "{\"type\":\"hello\",\"botId\":\"a\xffb\"}",
			want: Frame{Type: TypeHello, BotID: "a\ufffdb"},
		},
		{
			name: "null nested objects read as absent",
			give: `{"type":"outbound","action":null,"result":null,"event":null}`,
			want: Frame{Type: TypeOutbound},
		},
		{
			name: "nested value of the wrong kind kept raw",
			give: `{"type":"outbound","action":"send"}`,
			want: Frame{Type: TypeOutbound, Action: json.RawMessage(`"send"`)},
		},
		{
			name: "surrounding whitespace",
			give: " \t{\"type\":\"going_idle\"}\r",
			want: Frame{Type: TypeGoingIdle},
		},
		{
			name: "escapes decoded",
			give: `{"type":"inbound_ack","bufferId":"a\"b\u00e9\\"}`,
			want: Frame{Type: TypeInboundAck, BufferID: "a\"bé\\"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeFrame([]byte(tt.give))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDecodeFrameRejectsNonObjects(t *testing.T) {
	tests := []struct {
		name string
		give string
	}{
		{name: "empty", give: ""},
		{name: "whitespace", give: "  \t"},
		{name: "array", give: `[{"type":"hello"}]`},
		{name: "number", give: "42"},
		{name: "string", give: `"hello"`},
		{name: "null", give: "null"},
		{name: "true", give: "true"},
		{name: "garbage", give: "not json at all"},
		{name: "truncated object", give: `{"type":"hello"`},
		{name: "trailing garbage", give: `{"type":"hello"} x`},
		{name: "two objects", give: `{"type":"hello"}{"type":"hello"}`},
		{name: "unquoted keys", give: `{type:"hello"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeFrame([]byte(tt.give))
			require.ErrorIs(t, err, ErrNotObject)
			assert.Equal(t, Frame{}, got)
		})
	}
}

func TestDecodeFrameDoesNotAliasTheLine(t *testing.T) {
	line := []byte(`{"type":"inbound","event":{"text":"hi"},"bufferId":"b1"}`)
	f, err := DecodeFrame(line)
	require.NoError(t, err)

	for i := range line {
		line[i] = 'x'
	}

	assert.Equal(t, TypeInbound, f.Type)
	assert.JSONEq(t, `{"text":"hi"}`, string(f.Event))
	assert.Equal(t, "b1", f.BufferID)
}
