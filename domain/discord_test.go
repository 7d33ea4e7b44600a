package domain_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/relay-go/relay/domain"
)

func TestDiscordInteractionEvent(t *testing.T) {
	// discordEvent builds the expected event from its varying parts.
	discordEvent := func(text string, src domain.SessionSource) domain.MessageEvent {
		src.Platform = domain.PlatformDiscord
		if src.ChatType == "" {
			src.ChatType = domain.ChatDM
		}

		return domain.MessageEvent{Text: text, MessageType: domain.MessageText, Source: src}
	}

	tests := []struct {
		name string
		give string
		want domain.MessageEvent
	}{
		{
			name: "guild command uses data name and member user",
			give: `{"type": 2, "id": "i1", "channel_id": "c1", "guild_id": "g1",
				"data": {"name": "ask", "custom_id": "ignored"},
				"member": {"user": {"id": "u1", "username": "ada"}},
				"user": {"id": "u2", "username": "other"}}`,
			want: discordEvent("ask", domain.SessionSource{
				ChatID: "c1", ChatType: domain.ChatChannel, GuildID: "g1",
				UserID: "u1", UserName: "ada", MessageID: "i1",
			}),
		},
		{
			name: "dm component uses custom_id and top-level user",
			give: `{"type": 3, "id": "i2", "channel_id": "d1",
				"data": {"name": "ignored", "custom_id": "approve:42"},
				"user": {"id": "u3", "username": "bob"}}`,
			want: discordEvent("approve:42", domain.SessionSource{
				ChatID: "d1", UserID: "u3", UserName: "bob", MessageID: "i2",
			}),
		},
		{
			name: "modal submit has empty text",
			give: `{"type": 5, "channel_id": "c1", "data": {"name": "x", "custom_id": "y"}}`,
			want: discordEvent("", domain.SessionSource{ChatID: "c1"}),
		},
		{
			name: "missing type has empty text",
			give: `{"channel_id": "c1", "data": {"name": "x"}}`,
			want: discordEvent("", domain.SessionSource{ChatID: "c1"}),
		},
		{
			name: "string type is not a command",
			give: `{"type": "2", "data": {"name": "x"}}`,
			want: discordEvent("", domain.SessionSource{}),
		},
		{
			name: "integral float type is a command",
			give: `{"type": 2.0, "data": {"name": "x"}}`,
			want: discordEvent("x", domain.SessionSource{}),
		},
		{
			name: "null data reads as empty",
			give: `{"type": 2, "data": null, "channel_id": "c1"}`,
			want: discordEvent("", domain.SessionSource{ChatID: "c1"}),
		},
		{
			name: "empty member user falls back to user",
			give: `{"member": {"user": {}}, "user": {"id": "u2"}}`,
			want: discordEvent("", domain.SessionSource{UserID: "u2"}),
		},
		{
			name: "non-object member user falls back to user",
			give: `{"member": {"user": "u1"}, "user": {"id": "u2"}}`,
			want: discordEvent("", domain.SessionSource{UserID: "u2"}),
		},
		{
			name: "non-object member falls back to user",
			give: `{"member": [1], "user": {"id": "u2"}}`,
			want: discordEvent("", domain.SessionSource{UserID: "u2"}),
		},
		{
			name: "non-object user gives no user",
			give: `{"user": "u2"}`,
			want: discordEvent("", domain.SessionSource{}),
		},
		{
			name: "numeric ids are rendered as decimal text",
			give: `{"id": 1, "channel_id": 123456789012345678901234567890, "guild_id": 1e3,
				"member": {"user": {"id": 2.5, "username": 7}}}`,
			want: discordEvent("", domain.SessionSource{
				ChatID: "123456789012345678901234567890", ChatType: domain.ChatChannel,
				GuildID: "1000", UserID: "2.5", UserName: "7", MessageID: "1",
			}),
		},
		{
			name: "numeric command name is rendered",
			give: `{"type": 2, "data": {"name": 42}}`,
			want: discordEvent("42", domain.SessionSource{}),
		},
		{
			name: "ids of other types are absent",
			give: `{"id": true, "channel_id": null, "guild_id": {}, "user": {"id": ["u"]}}`,
			want: discordEvent("", domain.SessionSource{}),
		},
		{
			name: "empty guild id is a dm",
			give: `{"channel_id": "c1", "guild_id": ""}`,
			want: discordEvent("", domain.SessionSource{ChatID: "c1"}),
		},
		{
			name: "huge exponent id is absent",
			give: `{"channel_id": 1e999}`,
			want: discordEvent("", domain.SessionSource{}),
		},
		{
			name: "empty object is an event with nothing",
			give: `{}`,
			want: discordEvent("", domain.SessionSource{}),
		},
		{
			name: "unicode escapes are decoded",
			give: `{"type": 3, "data": {"custom_id": "caf\u00e9"}}`,
			want: discordEvent("café", domain.SessionSource{}),
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := domain.DiscordInteractionEvent([]byte(tt.give))
			assert.True(t, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDiscordInteractionEventRejects(t *testing.T) {
	tests := []struct {
		name string
		give string
	}{
		{name: "empty body", give: ""},
		{name: "not json", give: "type=2"},
		{name: "truncated json", give: `{"type": 2`},
		{name: "json array", give: `[{"type": 2}]`},
		{name: "json string", give: `"interaction"`},
		{name: "json null", give: `null`},
		{name: "data is a string", give: `{"type": 2, "data": "ask"}`},
		{name: "data is a list", give: `{"type": 2, "data": []}`},
		{name: "data is false", give: `{"type": 3, "data": false}`},
		{name: "trailing garbage", give: `{"type": 2} x`},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := domain.DiscordInteractionEvent([]byte(tt.give))
			assert.False(t, ok)
			assert.Zero(t, got)
		})
	}
}
