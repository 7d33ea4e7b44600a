package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/domain"
)

func TestDecodeEvent(t *testing.T) {
	tests := []struct {
		name string
		give string
		want domain.MessageEvent
	}{
		{
			name: "full event",
			give: `{"text":"hi","message_type":"photo","source":{"platform":"discord",` +
				`"chat_id":"c1","chat_type":"group","chat_name":"general","user_id":"u1",` +
				`"user_name":"ann","thread_id":"t1","chat_topic":"news","guild_id":"g1",` +
				`"scope_id":"s1","parent_chat_id":"p1","message_id":"sm1","user_id_alt":"ua",` +
				`"chat_id_alt":"ca","profile":"pro"},"message_id":"m1",` +
				`"reply_to_message_id":"m0","media_urls":["https://x/a.png"]}`,
			want: domain.MessageEvent{
				Text: "hi", MessageType: domain.MessagePhoto, MessageID: "m1",
				ReplyToMessageID: "m0", MediaURLs: []string{"https://x/a.png"},
				Source: domain.SessionSource{
					Platform: "discord", ChatID: "c1", ChatType: domain.ChatGroup,
					ChatName: "general", UserID: "u1", UserName: "ann", ThreadID: "t1",
					ChatTopic: "news", GuildID: "g1", ScopeID: "s1", ParentChatID: "p1",
					MessageID: "sm1", UserIDAlt: "ua", ChatIDAlt: "ca", Profile: "pro",
				},
			},
		},
		{
			name: "defaults: chat_type dm and message_type text",
			give: `{"text":"hi","source":{"chat_id":"c1"}}`,
			want: domain.MessageEvent{
				Text: "hi", MessageType: domain.MessageText,
				Source: domain.SessionSource{ChatID: "c1", ChatType: domain.ChatDM},
			},
		},
		{
			name: "empty object",
			give: `{}`,
			want: domain.MessageEvent{
				MessageType: domain.MessageText,
				Source:      domain.SessionSource{ChatType: domain.ChatDM},
			},
		},
		{
			name: "empty chat_type reads as dm",
			give: `{"source":{"chat_type":""}}`,
			want: domain.MessageEvent{
				MessageType: domain.MessageText,
				Source:      domain.SessionSource{ChatType: domain.ChatDM},
			},
		},
		{
			name: "unknown message type reads as text",
			give: `{"message_type":"hologram"}`,
			want: domain.MessageEvent{
				MessageType: domain.MessageText,
				Source:      domain.SessionSource{ChatType: domain.ChatDM},
			},
		},
		{
			name: "numeric message type reads as text",
			give: `{"message_type":3}`,
			want: domain.MessageEvent{
				MessageType: domain.MessageText,
				Source:      domain.SessionSource{ChatType: domain.ChatDM},
			},
		},
		{
			name: "display name preferred",
			give: `{"source":{"user_display_name":"Ann","user_name":"ann","user_handle":"@ann"}}`,
			want: domain.MessageEvent{
				MessageType: domain.MessageText,
				Source:      domain.SessionSource{ChatType: domain.ChatDM, UserName: "Ann"},
			},
		},
		{
			name: "user name over handle",
			give: `{"source":{"user_name":"ann","user_handle":"@ann"}}`,
			want: domain.MessageEvent{
				MessageType: domain.MessageText,
				Source:      domain.SessionSource{ChatType: domain.ChatDM, UserName: "ann"},
			},
		},
		{
			name: "handle as last resort",
			give: `{"source":{"user_display_name":"","user_handle":"@ann"}}`,
			want: domain.MessageEvent{
				MessageType: domain.MessageText,
				Source:      domain.SessionSource{ChatType: domain.ChatDM, UserName: "@ann"},
			},
		},
		{
			name: "null display name falls through",
			give: `{"source":{"user_display_name":null,"user_name":"ann"}}`,
			want: domain.MessageEvent{
				MessageType: domain.MessageText,
				Source:      domain.SessionSource{ChatType: domain.ChatDM, UserName: "ann"},
			},
		},
		{
			name: "guild_id and scope_id both kept",
			give: `{"source":{"guild_id":"g1","scope_id":"s9"}}`,
			want: domain.MessageEvent{
				MessageType: domain.MessageText,
				Source: domain.SessionSource{
					ChatType: domain.ChatDM, GuildID: "g1", ScopeID: "s9",
				},
			},
		},
		{
			name: "numeric ids read as text",
			give: `{"source":{"chat_id":123456789012345678,"user_id":42,"guild_id":1.5}}`,
			want: domain.MessageEvent{
				MessageType: domain.MessageText,
				Source: domain.SessionSource{
					ChatType: domain.ChatDM, ChatID: "123456789012345678", UserID: "42",
					GuildID: "1.5",
				},
			},
		},
		{
			name: "media_urls with odd entries",
			give: `{"media_urls":["a",1,null,{"u":"x"},["y"],"",true,"b"]}`,
			want: domain.MessageEvent{
				MessageType: domain.MessageText,
				Source:      domain.SessionSource{ChatType: domain.ChatDM},
				MediaURLs:   []string{"a", "1", "", "true", "b"},
			},
		},
		{
			name: "media_urls not a list",
			give: `{"media_urls":"https://x/a.png"}`,
			want: domain.MessageEvent{
				MessageType: domain.MessageText,
				Source:      domain.SessionSource{ChatType: domain.ChatDM},
			},
		},
		{
			name: "media_urls null",
			give: `{"media_urls":null}`,
			want: domain.MessageEvent{
				MessageType: domain.MessageText,
				Source:      domain.SessionSource{ChatType: domain.ChatDM},
			},
		},
		{
			name: "media_urls empty",
			give: `{"media_urls":[]}`,
			want: domain.MessageEvent{
				MessageType: domain.MessageText,
				Source:      domain.SessionSource{ChatType: domain.ChatDM},
			},
		},
		{
			name: "media_urls with every entry dropped",
			give: `{"media_urls":[null,{},[]]}`,
			want: domain.MessageEvent{
				MessageType: domain.MessageText,
				Source:      domain.SessionSource{ChatType: domain.ChatDM},
			},
		},
		{
			name: "source not an object",
			give: `{"text":"hi","source":"discord"}`,
			want: domain.MessageEvent{
				Text: "hi", MessageType: domain.MessageText,
				Source: domain.SessionSource{ChatType: domain.ChatDM},
			},
		},
		{
			name: "source a list",
			give: `{"text":"hi","source":[{"chat_id":"c1"}]}`,
			want: domain.MessageEvent{
				Text: "hi", MessageType: domain.MessageText,
				Source: domain.SessionSource{ChatType: domain.ChatDM},
			},
		},
		{
			name: "source null",
			give: `{"text":"hi","source":null}`,
			want: domain.MessageEvent{
				Text: "hi", MessageType: domain.MessageText,
				Source: domain.SessionSource{ChatType: domain.ChatDM},
			},
		},
		{
			name: "unknown keys ignored",
			give: `{"text":"hi","future":[1,{"a":2}],"source":{"chat_id":"c1","new":{}}}`,
			want: domain.MessageEvent{
				Text: "hi", MessageType: domain.MessageText,
				Source: domain.SessionSource{ChatID: "c1", ChatType: domain.ChatDM},
			},
		},
		{
			name: "text with escapes",
			give: `{"text":"line\nnext \u2603 \"q\""}`,
			want: domain.MessageEvent{
				Text: "line\nnext ☃ \"q\"", MessageType: domain.MessageText,
				Source: domain.SessionSource{ChatType: domain.ChatDM},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeEvent([]byte(tt.give))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDecodeEventRejectsNonObjects(t *testing.T) {
	for _, give := range []string{"", "null", "[]", `"text"`, "3", "{", `{"text":"a"} {}`, "nope"} {
		t.Run(give, func(t *testing.T) {
			got, err := DecodeEvent([]byte(give))
			require.ErrorIs(t, err, ErrBadEvent)
			assert.Equal(t, domain.MessageEvent{}, got)
		})
	}
}

func TestDecodeForward(t *testing.T) {
	tests := []struct {
		name string
		give string
		want domain.Forward
	}{
		{
			name: "full forward",
			give: `{"platform":"discord","botId":"b1","method":"POST","path":"/interactions",` +
				`"headers":[["content-type","application/json"],["x-a","1"]],` +
				`"bodyB64":"eyJ0eXBlIjoxfQ==","profile":"pro"}`,
			want: domain.Forward{
				Platform: "discord", BotID: "b1", Method: "POST", Path: "/interactions",
				Headers: [][2]string{{"content-type", "application/json"}, {"x-a", "1"}},
				Body:    []byte(`{"type":1}`), Profile: "pro",
			},
		},
		{
			name: "padded base64",
			give: `{"bodyB64":"aGk="}`,
			want: domain.Forward{Body: []byte("hi")},
		},
		{
			name: "unpadded base64",
			give: `{"bodyB64":"aGk"}`,
			want: domain.Forward{Body: []byte("hi")},
		},
		{
			name: "binary body",
			give: `{"bodyB64":"AP8Q"}`,
			want: domain.Forward{Body: []byte{0x00, 0xff, 0x10}},
		},
		{
			name: "undecodable base64 reads as empty",
			give: `{"method":"POST","bodyB64":"!!not base64!!"}`,
			want: domain.Forward{Method: "POST"},
		},
		{
			name: "url alphabet is not the standard one",
			give: `{"bodyB64":"_-8"}`,
			want: domain.Forward{},
		},
		{
			name: "empty body",
			give: `{"bodyB64":""}`,
			want: domain.Forward{},
		},
		{
			name: "body not a string",
			give: `{"bodyB64":{"a":1}}`,
			want: domain.Forward{},
		},
		{
			name: "header entries that are not pairs dropped",
			give: `{"headers":[["a","1"],["b"],["c","2","3"],"d",null,{"e":"4"},[],["f",5]]}`,
			want: domain.Forward{Headers: [][2]string{{"a", "1"}, {"f", "5"}}},
		},
		{
			name: "headers not a list",
			give: `{"platform":"discord","headers":{"a":"1"},"bodyB64":"aGk="}`,
			want: domain.Forward{Platform: "discord", Body: []byte("hi")},
		},
		{
			name: "headers a string",
			give: `{"platform":"discord","headers":"a: 1","path":"/x"}`,
			want: domain.Forward{Platform: "discord", Path: "/x"},
		},
		{
			name: "headers null",
			give: `{"headers":null,"method":"GET"}`,
			want: domain.Forward{Method: "GET"},
		},
		{
			name: "profile absent",
			give: `{"platform":"slack"}`,
			want: domain.Forward{Platform: "slack"},
		},
		{
			name: "unknown keys ignored",
			give: `{"platform":"slack","later":{"x":[1]}}`,
			want: domain.Forward{Platform: "slack"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeForward([]byte(tt.give))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDecodeForwardRejectsNonObjects(t *testing.T) {
	for _, give := range []string{"", "null", "[]", `"x"`, "1", `{"platform":`, "junk"} {
		t.Run(give, func(t *testing.T) {
			_, err := DecodeForward([]byte(give))
			assert.ErrorIs(t, err, ErrBadEvent)
		})
	}
}

func TestDecodeResult(t *testing.T) {
	malformed := domain.SendResult{Error: "relay result malformed"}
	tests := []struct {
		name string
		give string
		want domain.SendResult
	}{
		{
			name: "success with message id",
			give: `{"success":true,"message_id":"m1"}`,
			want: domain.SendResult{Success: true, MessageID: "m1"},
		},
		{
			name: "failure with error",
			give: `{"success":false,"error":"discord egress declined"}`,
			want: domain.SendResult{Error: "discord egress declined"},
		},
		{
			name: "ambiguous",
			give: `{"success":false,"error":"timeout","ambiguous":true}`,
			want: domain.SendResult{Error: "timeout", Ambiguous: true},
		},
		{name: "missing success is false", give: `{}`, want: domain.SendResult{}},
		{name: "null success", give: `{"success":null}`, want: domain.SendResult{}},
		{name: "success 1", give: `{"success":1}`, want: domain.SendResult{Success: true}},
		{name: "success 0", give: `{"success":0}`, want: domain.SendResult{}},
		{name: "success 0.0", give: `{"success":0.0}`, want: domain.SendResult{}},
		{name: "success -2", give: `{"success":-2}`, want: domain.SendResult{Success: true}},
		{name: "success string", give: `{"success":"yes"}`, want: domain.SendResult{Success: true}},
		{name: "success empty string", give: `{"success":""}`, want: domain.SendResult{}},
		{name: "success list", give: `{"success":[1]}`, want: domain.SendResult{Success: true}},
		{name: "success empty list", give: `{"success":[ ]}`, want: domain.SendResult{}},
		{name: "success object", give: `{"success":{"a":1}}`, want: domain.SendResult{Success: true}},
		{name: "success empty object", give: `{"success":{}}`, want: domain.SendResult{}},
		{
			name: "numeric message id read as text",
			give: `{"success":true,"message_id":1234567890123456789}`,
			want: domain.SendResult{Success: true, MessageID: "1234567890123456789"},
		},
		{
			name: "unknown keys ignored",
			give: `{"success":true,"chat_info":{"name":"x"},"extra":[1]}`,
			want: domain.SendResult{Success: true},
		},
		{name: "not an object", give: `[true]`, want: malformed},
		{name: "null", give: `null`, want: malformed},
		{name: "empty", give: ``, want: malformed},
		{name: "string", give: `"ok"`, want: malformed},
		{name: "truncated", give: `{"success":tr`, want: malformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, DecodeResult([]byte(tt.give)))
		})
	}
}

func TestDecodeChatInfo(t *testing.T) {
	fallback := domain.ChatInfo{Name: "c1", Type: domain.ChatDM}
	tests := []struct {
		name string
		give string
		want domain.ChatInfo
	}{
		{
			name: "nested chat_info",
			give: `{"success":true,"chat_info":{"name":"general","type":"channel"}}`,
			want: domain.ChatInfo{Name: "general", Type: domain.ChatChannel},
		},
		{
			name: "top level",
			give: `{"success":true,"name":"general","type":"group"}`,
			want: domain.ChatInfo{Name: "general", Type: domain.ChatGroup},
		},
		{
			name: "nested wins over top level",
			give: `{"chat_info":{"name":"inner","type":"thread"},"name":"outer","type":"group"}`,
			want: domain.ChatInfo{Name: "inner", Type: domain.ChatThread},
		},
		{
			name: "missing name reads as the chat id",
			give: `{"chat_info":{"type":"group"}}`,
			want: domain.ChatInfo{Name: "c1", Type: domain.ChatGroup},
		},
		{
			name: "missing type reads as dm",
			give: `{"chat_info":{"name":"ann"}}`,
			want: domain.ChatInfo{Name: "ann", Type: domain.ChatDM},
		},
		{
			name: "empty name and type take the defaults",
			give: `{"name":"","type":""}`,
			want: domain.ChatInfo{Name: "c1", Type: domain.ChatDM},
		},
		{
			name: "null name and type take the defaults",
			give: `{"chat_info":{"name":null,"type":null}}`,
			want: domain.ChatInfo{Name: "c1", Type: domain.ChatDM},
		},
		{
			name: "chat_info not an object falls back to the top level",
			give: `{"chat_info":"general","name":"top","type":"group"}`,
			want: domain.ChatInfo{Name: "top", Type: domain.ChatGroup},
		},
		{
			name: "chat_info null falls back to the top level",
			give: `{"chat_info":null,"name":"top"}`,
			want: domain.ChatInfo{Name: "top", Type: domain.ChatDM},
		},
		{
			name: "numeric name read as text",
			give: `{"chat_info":{"name":7}}`,
			want: domain.ChatInfo{Name: "7", Type: domain.ChatDM},
		},
		{name: "empty result", give: `{}`, want: fallback},
		{name: "failed result", give: `{"success":false,"error":"x"}`, want: fallback},
		{name: "not an object", give: `["x"]`, want: fallback},
		{name: "garbage", give: `nope`, want: fallback},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, DecodeChatInfo([]byte(tt.give), "c1"))
		})
	}
}

func TestDecodeAction(t *testing.T) {
	tests := []struct {
		name string
		give string
		want domain.Action
	}{
		{
			name: "send",
			give: `{"op":"send","chat_id":"c1","content":"hi","reply_to":"m0",` +
				`"metadata":{"guild_id":"g1","n":2}}`,
			want: domain.Action{
				Op: domain.OpSend, ChatID: "c1", Content: "hi", ReplyTo: strPtr("m0"),
				Metadata: map[string]any{"guild_id": "g1", "n": float64(2)},
			},
		},
		{
			name: "send with null reply_to",
			give: `{"op":"send","chat_id":"c1","content":"hi","reply_to":null,"metadata":{}}`,
			want: domain.Action{
				Op: domain.OpSend, ChatID: "c1", Content: "hi", Metadata: map[string]any{},
			},
		},
		{
			name: "send without reply_to",
			give: `{"op":"send","chat_id":"c1"}`,
			want: domain.Action{Op: domain.OpSend, ChatID: "c1"},
		},
		{
			name: "numeric reply_to read as text",
			give: `{"op":"send","reply_to":99}`,
			want: domain.Action{Op: domain.OpSend, ReplyTo: strPtr("99")},
		},
		{
			name: "follow_up",
			give: `{"op":"follow_up","session_key":"s1","kind":"discord.interaction_token",` +
				`"content":"done","metadata":{}}`,
			want: domain.Action{
				Op: domain.OpFollowUp, SessionKey: "s1", Kind: "discord.interaction_token",
				Content: "done", Metadata: map[string]any{},
			},
		},
		{
			name: "get_chat_info",
			give: `{"op":"get_chat_info","chat_id":"c1"}`,
			want: domain.Action{Op: domain.OpGetChatInfo, ChatID: "c1"},
		},
		{
			name: "edit with extra keys",
			give: `{"op":"edit","chat_id":"c1","message_id":"m1","content":"new",` +
				`"flags":[1],"x":null}`,
			want: domain.Action{
				Op: domain.OpEdit, ChatID: "c1", MessageID: "m1", Content: "new",
				Extra: map[string]any{"flags": []any{float64(1)}, "x": nil},
			},
		},
		{
			name: "metadata not an object reads as empty",
			give: `{"op":"send","metadata":"g1"}`,
			want: domain.Action{Op: domain.OpSend},
		},
		{
			name: "metadata a list reads as empty",
			give: `{"op":"send","metadata":[{"guild_id":"g1"}]}`,
			want: domain.Action{Op: domain.OpSend},
		},
		{name: "empty object", give: `{}`, want: domain.Action{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeAction([]byte(tt.give))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDecodeActionRejectsNonObjects(t *testing.T) {
	for _, give := range []string{"", "null", "[]", `"send"`, "1", `{"op":`, "junk"} {
		t.Run(give, func(t *testing.T) {
			got, err := DecodeAction([]byte(give))
			require.ErrorIs(t, err, ErrBadAction)
			assert.Equal(t, domain.Action{}, got)
		})
	}
}
