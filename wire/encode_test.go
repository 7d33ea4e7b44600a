package wire

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/domain"
)

// requireFrame checks that b is one frame line: a valid JSON object ended by
// exactly one newline and holding no other. It returns the object's keys.
func requireFrame(t *testing.T, b []byte) map[string]json.RawMessage {
	t.Helper()
	require.True(t, bytes.HasSuffix(b, []byte("\n")), "frame ends with a newline: %q", b)
	body := b[:len(b)-1]
	require.NotContains(t, string(body), "\n", "frame holds one newline only")
	require.True(t, json.Valid(body), "frame is valid JSON: %s", body)

	var obj map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &obj), "frame is an object: %s", body)

	return obj
}

func keysOf(m map[string]json.RawMessage) []string {
	return slices.Sorted(maps.Keys(m))
}

func objectKeys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &m))

	return keysOf(m)
}

func TestAppendSimpleFrames(t *testing.T) {
	tests := []struct {
		name string
		give []byte
		want string
	}{
		{
			name: "hello",
			give: AppendHello(nil, domain.Identity{Platform: "discord", BotID: "b1"}),
			want: `{"type":"hello","platform":"discord","botId":"b1"}`,
		},
		{
			name: "interrupt with null reason",
			give: AppendInterrupt(nil, "s1", nil),
			want: `{"type":"interrupt","session_key":"s1","reason":null}`,
		},
		{
			name: "interrupt with reason",
			give: AppendInterrupt(nil, "s1", strPtr("stop")),
			want: `{"type":"interrupt","session_key":"s1","reason":"stop"}`,
		},
		{name: "going_idle", give: AppendGoingIdle(nil), want: `{"type":"going_idle"}`},
		{
			name: "inbound_ack",
			give: AppendInboundAck(nil, "buf-1"),
			want: `{"type":"inbound_ack","bufferId":"buf-1"}`,
		},
		{
			name: "descriptor raw",
			give: AppendDescriptorRaw(nil, []byte(`{"platform":"discord"}`)),
			want: `{"type":"descriptor","descriptor":{"platform":"discord"}}`,
		},
		{
			name: "inbound raw",
			give: AppendInboundRaw(nil, []byte(`{"text":"hi"}`), ""),
			want: `{"type":"inbound","event":{"text":"hi"}}`,
		},
		{
			name: "inbound raw buffered",
			give: AppendInboundRaw(nil, []byte(`{"text":"hi"}`), "b1"),
			want: `{"type":"inbound","event":{"text":"hi"},"bufferId":"b1"}`,
		},
		{
			name: "result raw",
			give: AppendResultRaw(nil, "r1", []byte(`{"success":true}`)),
			want: `{"type":"outbound_result","requestId":"r1","result":{"success":true}}`,
		},
		{
			name: "interrupt_inbound",
			give: AppendInterruptInbound(nil, "s1", "c1"),
			want: `{"type":"interrupt_inbound","session_key":"s1","chat_id":"c1"}`,
		},
		{name: "going_idle_ack", give: AppendGoingIdleAck(nil), want: `{"type":"going_idle_ack"}`},
		{
			name: "result success",
			give: AppendResult(nil, "r1", domain.SendResult{Success: true, MessageID: "m1"}),
			want: `{"type":"outbound_result","requestId":"r1",` +
				`"result":{"success":true,"message_id":"m1"}}`,
		},
		{
			name: "result failure",
			give: AppendResult(nil, "r1", domain.ResultTimedOut),
			want: `{"type":"outbound_result","requestId":"r1","result":{"success":false,` +
				`"error":"relay outbound timed out","ambiguous":true}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireFrame(t, tt.give)
			assert.Equal(t, tt.want+"\n", string(tt.give))
		})
	}
}

func TestAppendKeepsThePrefix(t *testing.T) {
	buf := []byte("prefix")
	buf = AppendGoingIdle(buf)
	buf = AppendHello(buf, domain.Identity{Platform: "p", BotID: "b"})
	buf, err := AppendOutbound(buf, "r1", domain.Action{Op: domain.OpSend, ChatID: "c"})
	require.NoError(t, err)

	require.True(t, bytes.HasPrefix(buf, []byte("prefix")))
	got, err := collect(&Splitter{}, string(buf[len("prefix"):]))
	require.NoError(t, err)
	require.Len(t, got, 3, "batched frames split back apart")
	for i, line := range got {
		f, err := DecodeFrame([]byte(line))
		require.NoError(t, err)
		assert.Equal(t, []string{TypeGoingIdle, TypeHello, TypeOutbound}[i], f.Type)
	}
}

func TestAppendInterruptRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		give *string
	}{
		{name: "null reason", give: nil},
		{name: "empty reason", give: strPtr("")},
		{name: "reason", give: strPtr("user pressed \"stop\"\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := AppendInterrupt(nil, "s:1", tt.give)
			obj := requireFrame(t, b)
			assert.Equal(t, []string{"reason", "session_key", "type"}, keysOf(obj))

			f, err := DecodeFrame(b[:len(b)-1])
			require.NoError(t, err)
			assert.Equal(t, TypeInterrupt, f.Type)
			assert.Equal(t, "s:1", f.SessionKey)
			assert.Equal(t, tt.give, f.Reason)
		})
	}
}

func TestAppendOutbound(t *testing.T) {
	target := domain.Identity{Platform: "telegram", BotID: "tb"}
	tests := []struct {
		name           string
		give           domain.Action
		wantFrameKeys  []string
		wantActionKeys []string
	}{
		{
			name: "send to the default identity",
			give: domain.Action{
				Op: domain.OpSend, ChatID: "c1", Content: "hi",
				Metadata: map[string]any{"guild_id": "g1"},
			},
			wantFrameKeys:  []string{"action", "requestId", "type"},
			wantActionKeys: []string{"chat_id", "content", "metadata", "op", "reply_to"},
		},
		{
			name: "send to a target",
			give: domain.Action{
				Op: domain.OpSend, ChatID: "c1", Content: "hi", ReplyTo: strPtr("m0"),
				Target: target,
			},
			wantFrameKeys:  []string{"action", "botId", "platform", "requestId", "type"},
			wantActionKeys: []string{"chat_id", "content", "metadata", "op", "reply_to"},
		},
		{
			name: "send drops fields of other ops",
			give: domain.Action{
				Op: domain.OpSend, ChatID: "c1", SessionKey: "s", Kind: "k", MessageID: "m",
				Extra: map[string]any{"x": 1},
			},
			wantFrameKeys:  []string{"action", "requestId", "type"},
			wantActionKeys: []string{"chat_id", "content", "metadata", "op", "reply_to"},
		},
		{
			name: "follow_up",
			give: domain.Action{
				Op: domain.OpFollowUp, SessionKey: "s1", Kind: "discord.interaction_token",
				Content: "done", ChatID: "ignored", ReplyTo: strPtr("ignored"),
			},
			wantFrameKeys:  []string{"action", "requestId", "type"},
			wantActionKeys: []string{"content", "kind", "metadata", "op", "session_key"},
		},
		{
			name: "get_chat_info",
			give: domain.Action{
				Op: domain.OpGetChatInfo, ChatID: "c1", Content: "ignored",
				Metadata: map[string]any{"a": "b"},
			},
			wantFrameKeys:  []string{"action", "requestId", "type"},
			wantActionKeys: []string{"chat_id", "op"},
		},
		{
			name: "other op writes non-empty fields and extra",
			give: domain.Action{
				Op: domain.OpEdit, ChatID: "c1", MessageID: "m1", Content: "new",
				Extra: map[string]any{"flags": []any{"a"}},
			},
			wantFrameKeys:  []string{"action", "requestId", "type"},
			wantActionKeys: []string{"chat_id", "content", "flags", "message_id", "op"},
		},
		{
			name: "other op: extra never overrides a field",
			give: domain.Action{
				Op: domain.OpTyping, ChatID: "c1",
				Extra: map[string]any{"chat_id": "evil", "op": "send"},
			},
			wantFrameKeys:  []string{"action", "requestId", "type"},
			wantActionKeys: []string{"chat_id", "op"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := AppendOutbound(nil, "req-1", tt.give)
			require.NoError(t, err)
			obj := requireFrame(t, b)
			assert.Equal(t, tt.wantFrameKeys, keysOf(obj))
			assert.Equal(t, tt.wantActionKeys, objectKeys(t, obj["action"]))

			f, err := DecodeFrame(b[:len(b)-1])
			require.NoError(t, err)
			assert.Equal(t, TypeOutbound, f.Type)
			assert.Equal(t, "req-1", f.RequestID)
			assert.Equal(t, tt.give.Target.Platform, f.Platform)
			assert.Equal(t, tt.give.Target.BotID, f.BotID)

			a, err := DecodeAction(f.Action)
			require.NoError(t, err)
			assert.Equal(t, tt.give.Op, a.Op)
		})
	}
}

func TestAppendOutboundRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		give domain.Action
		want domain.Action
	}{
		{
			name: "send with nil metadata writes an empty object",
			give: domain.Action{Op: domain.OpSend, ChatID: "c1", Content: "hi"},
			want: domain.Action{
				Op: domain.OpSend, ChatID: "c1", Content: "hi", Metadata: map[string]any{},
			},
		},
		{
			name: "send with every metadata kind",
			give: domain.Action{
				Op: domain.OpSend, ChatID: "c1", Content: "a\"b\n<c>&", ReplyTo: strPtr("m0"),
				Metadata: map[string]any{
					"guild_id": "g1", "scope_id": "g1", "flag": true, "none": nil, "n": 3,
					"list": []string{"x"}, "nested": map[string]any{"k": "v"},
				},
			},
			want: domain.Action{
				Op: domain.OpSend, ChatID: "c1", Content: "a\"b\n<c>&", ReplyTo: strPtr("m0"),
				Metadata: map[string]any{
					"guild_id": "g1", "scope_id": "g1", "flag": true, "none": nil,
					"n": float64(3), "list": []any{"x"}, "nested": map[string]any{"k": "v"},
				},
			},
		},
		{
			name: "send with empty reply_to kept",
			give: domain.Action{Op: domain.OpSend, ReplyTo: strPtr("")},
			want: domain.Action{Op: domain.OpSend, ReplyTo: strPtr(""), Metadata: map[string]any{}},
		},
		{
			name: "follow_up",
			give: domain.Action{
				Op: domain.OpFollowUp, SessionKey: "s1", Kind: "discord.interaction_token",
				Content: "done", Metadata: map[string]any{"user_id": "u1"},
			},
			want: domain.Action{
				Op: domain.OpFollowUp, SessionKey: "s1", Kind: "discord.interaction_token",
				Content: "done", Metadata: map[string]any{"user_id": "u1"},
			},
		},
		{
			name: "get_chat_info",
			give: domain.Action{Op: domain.OpGetChatInfo, ChatID: "c1"},
			want: domain.Action{Op: domain.OpGetChatInfo, ChatID: "c1"},
		},
		{
			name: "edit",
			give: domain.Action{
				Op: domain.OpEdit, ChatID: "c1", MessageID: "m1", Content: "new",
				Metadata: map[string]any{}, Extra: map[string]any{"embeds": []any{}},
			},
			want: domain.Action{
				Op: domain.OpEdit, ChatID: "c1", MessageID: "m1", Content: "new",
				Metadata: map[string]any{}, Extra: map[string]any{"embeds": []any{}},
			},
		},
		{
			name: "typing",
			give: domain.Action{Op: domain.OpTyping, ChatID: "c1"},
			want: domain.Action{Op: domain.OpTyping, ChatID: "c1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := AppendOutbound(nil, "r", tt.give)
			require.NoError(t, err)
			requireFrame(t, b)

			f, err := DecodeFrame(b[:len(b)-1])
			require.NoError(t, err)
			got, err := DecodeAction(f.Action)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestAppendOutboundFailure(t *testing.T) {
	tests := []struct {
		name string
		give domain.Action
	}{
		{
			name: "metadata value that cannot be marshalled",
			give: domain.Action{Op: domain.OpSend, Metadata: map[string]any{"f": func() {}}},
		},
		{
			name: "follow_up metadata that cannot be marshalled",
			give: domain.Action{Op: domain.OpFollowUp, Metadata: map[string]any{"c": make(chan int)}},
		},
		{
			name: "extra value that cannot be marshalled",
			give: domain.Action{Op: domain.OpEdit, Extra: map[string]any{"f": func() {}}},
		},
		{
			name: "generic metadata that cannot be marshalled",
			give: domain.Action{Op: domain.OpEdit, Metadata: map[string]any{"f": func() {}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := AppendGoingIdle(nil)
			got, err := AppendOutbound(slices.Clone(prefix), "r", tt.give)
			require.Error(t, err)
			assert.Equal(t, string(prefix), string(got), "a failed frame leaves dst as it was")

			got, err = AppendAction(slices.Clone(prefix), tt.give)
			require.Error(t, err)
			assert.Equal(t, string(prefix), string(got))
		})
	}
}

func TestAppendActionIsAnObject(t *testing.T) {
	b, err := AppendAction(nil, domain.Action{Op: domain.OpSend, ChatID: "c"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"op":"send","chat_id":"c","content":"","reply_to":null,"metadata":{}}`,
		string(b))
	assert.False(t, bytes.HasSuffix(b, []byte("\n")), "an action is not a frame")
}

func TestAppendEventRoundTrip(t *testing.T) {
	full := domain.MessageEvent{
		Text: "héllo\n\"x\"", MessageType: domain.MessageVoice, MessageID: "m1",
		ReplyToMessageID: "m0", MediaURLs: []string{"https://x/a.ogg", ""},
		Source: domain.SessionSource{
			Platform: "discord", ChatID: "c1", ChatType: domain.ChatThread, ChatName: "n",
			UserID: "u1", UserName: "Ann", ThreadID: "t1", ChatTopic: "topic", GuildID: "g1",
			ScopeID: "s1", ParentChatID: "p1", MessageID: "sm", UserIDAlt: "ua",
			ChatIDAlt: "ca", Profile: "pro",
		},
	}
	tests := []struct {
		name string
		give domain.MessageEvent
		want domain.MessageEvent
	}{
		{name: "every field", give: full, want: full},
		{
			name: "defaults written",
			give: domain.MessageEvent{Text: "hi"},
			want: domain.MessageEvent{
				Text: "hi", MessageType: domain.MessageText,
				Source: domain.SessionSource{ChatType: domain.ChatDM},
			},
		},
		{
			name: "empty media list left out",
			give: domain.MessageEvent{MediaURLs: []string{}},
			want: domain.MessageEvent{
				MessageType: domain.MessageText,
				Source:      domain.SessionSource{ChatType: domain.ChatDM},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := AppendEvent(nil, tt.give)
			require.True(t, json.Valid(raw), "%s", raw)
			got, err := DecodeEvent(raw)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)

			b := AppendInbound(nil, tt.give, "buf")
			requireFrame(t, b)
			f, err := DecodeFrame(b[:len(b)-1])
			require.NoError(t, err)
			assert.Equal(t, TypeInbound, f.Type)
			assert.Equal(t, "buf", f.BufferID)
			assert.JSONEq(t, string(raw), string(f.Event))
		})
	}
}

func TestAppendEventLeavesOutEmptyOptionalFields(t *testing.T) {
	raw := AppendEvent(nil, domain.MessageEvent{Source: domain.SessionSource{ChatID: "c"}})
	var obj map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &obj))
	assert.Equal(t, []string{"message_type", "source", "text"}, keysOf(obj))
	assert.Equal(t, []string{"chat_id", "chat_type", "platform"}, objectKeys(t, obj["source"]))
}

func TestAppendForwardRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		give     domain.Forward
		bufferID string
		want     domain.Forward
	}{
		{
			name: "full forward",
			give: domain.Forward{
				Platform: "discord", BotID: "b1", Method: "POST", Path: "/i",
				Headers: [][2]string{{"content-type", "application/json"}, {"x", ""}},
				Body:    []byte{0, 1, 2, 0xfe, 0xff, '{'}, Profile: "pro",
			},
			bufferID: "buf",
			want: domain.Forward{
				Platform: "discord", BotID: "b1", Method: "POST", Path: "/i",
				Headers: [][2]string{{"content-type", "application/json"}, {"x", ""}},
				Body:    []byte{0, 1, 2, 0xfe, 0xff, '{'}, Profile: "pro",
			},
		},
		{
			name: "empty body and no headers",
			give: domain.Forward{Platform: "slack", Body: []byte{}},
			want: domain.Forward{Platform: "slack"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := AppendForward(nil, tt.give, tt.bufferID)
			obj := requireFrame(t, b)
			wantKeys := []string{"forward", "type"}
			if tt.bufferID != "" {
				wantKeys = []string{"bufferId", "forward", "type"}
			}
			assert.Equal(t, wantKeys, keysOf(obj))

			f, err := DecodeFrame(b[:len(b)-1])
			require.NoError(t, err)
			assert.Equal(t, TypePassthroughForward, f.Type)
			assert.Equal(t, tt.bufferID, f.BufferID)

			got, err := DecodeForward(f.Forward)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestAppendForwardWritesPaddedStandardBase64(t *testing.T) {
	b := AppendForward(nil, domain.Forward{Body: []byte{0xfb, 0xff}}, "")
	assert.Contains(t, string(b), `"bodyB64":"+/8="`)
}

func TestAppendResultRoundTrip(t *testing.T) {
	for _, give := range []domain.SendResult{
		{Success: true},
		{Success: true, MessageID: "m1"},
		domain.ResultClosed,
		domain.ResultNotConnected,
		domain.ResultTimedOut,
		domain.ResultLost,
		{Error: "relay send failed: \"quoted\"\n"},
	} {
		t.Run(give.Error, func(t *testing.T) {
			b := AppendResult(nil, "r9", give)
			requireFrame(t, b)

			f, err := DecodeFrame(b[:len(b)-1])
			require.NoError(t, err)
			assert.Equal(t, TypeOutboundResult, f.Type)
			assert.Equal(t, "r9", f.RequestID)
			assert.Equal(t, give, DecodeResult(f.Result))
		})
	}
}

func TestAppendDescriptor(t *testing.T) {
	d := domain.Descriptor{ContractVersion: 1, Platform: "discord", SupportedOps: []string{"send"}}
	want, err := json.Marshal(d)
	require.NoError(t, err)

	b, err := AppendDescriptor([]byte("x"), d)
	require.NoError(t, err)
	require.Equal(t, byte('x'), b[0])
	obj := requireFrame(t, b[1:])
	assert.Equal(t, []string{"descriptor", "type"}, keysOf(obj))
	assert.JSONEq(t, string(want), string(obj["descriptor"]))
}

// jsonString is what encoding/json decodes its own encoding of s to.
func jsonString(t testing.TB, s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("marshal %q: %v", s, err)
	}
	var out string
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}

	return out
}

func TestAppendString(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string
	}{
		{name: "empty", give: "", want: `""`},
		{name: "plain", give: "hello", want: `"hello"`},
		{name: "quote and backslash", give: `a"b\c`, want: `"a\"b\\c"`},
		{name: "named control escapes", give: "\n\r\t", want: `"\n\r\t"`},
		{name: "other controls", give: "\x00\x01\x1f\b\f", want: `"\u0000\u0001\u001f\u0008\u000c"`},
		{name: "delete kept", give: "\x7f", want: "\"\x7f\""},
		{name: "html not escaped", give: "<a>&", want: `"<a>&"`},
		{name: "multibyte kept", give: "héllo ☃ 🔌", want: `"héllo ☃ 🔌"`},
		{name: "line separators escaped", give: "a\u2028b\u2029c", want: `"a\u2028b\u2029c"`},
		{name: "invalid byte replaced", give: "a\xffb", want: `"a\ufffdb"`},
		{name: "truncated rune replaced", give: "a\xe2\x98", want: `"a\ufffd\ufffd"`},
		{name: "surrogate half replaced", give: "\xed\xa0\x80", want: `"\ufffd\ufffd\ufffd"`},
		{name: "literal replacement char kept", give: "\ufffd", want: "\"\ufffd\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := appendString([]byte("pre"), tt.give)
			assert.Equal(t, "pre"+tt.want, string(got))

			var back string
			require.NoError(t, json.Unmarshal(got[len("pre"):], &back))
			assert.Equal(t, jsonString(t, tt.give), back, "agrees with encoding/json")
			if utf8.ValidString(tt.give) {
				assert.Equal(t, tt.give, back)
			}
		})
	}
}

func TestAppendStringEveryRune(t *testing.T) {
	var sb strings.Builder
	for r := rune(0); r <= 0x3000; r++ {
		sb.WriteRune(r)
	}
	for _, r := range []rune{0xd7ff, 0xe000, 0xfeff, 0xfffd, 0xffff, 0x10000, 0x1f50c, 0x10ffff} {
		sb.WriteRune(r)
	}
	s := sb.String()

	got := appendString(nil, s)
	require.True(t, json.Valid(got))
	var back string
	require.NoError(t, json.Unmarshal(got, &back))
	assert.Equal(t, s, back)
	assert.NotContains(t, string(got), "\n")
}

func TestAppendStringEveryByte(t *testing.T) {
	for c := range 256 {
		s := "x" + string([]byte{byte(c)}) + "y"
		got := appendString(nil, s)
		require.True(t, json.Valid(got), "byte %#x: %q", c, got)
		var back string
		require.NoError(t, json.Unmarshal(got, &back))
		assert.Equal(t, jsonString(t, s), back, "byte %#x", c)
	}
}

func TestAppendOutboundDoesNotAllocateWithStringMetadata(t *testing.T) {
	a := domain.Action{
		Op: domain.OpSend, ChatID: "123456789012345678", Content: "hello there",
		ReplyTo:  strPtr("987654321"),
		Metadata: map[string]any{"guild_id": "111", "scope_id": "111"},
	}
	buf := make([]byte, 0, 1024)

	allocs := testing.AllocsPerRun(100, func() {
		var err error
		buf, err = AppendOutbound(buf[:0], "req-000001", a)
		if err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}
