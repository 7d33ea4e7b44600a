package domain

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// PlatformDiscord is the platform name of Discord.
const PlatformDiscord = "discord"

// Discord interaction types that carry text.
const (
	discordApplicationCommand = 2
	discordMessageComponent   = 3
)

// DiscordInteractionEvent maps the JSON body of a forwarded Discord
// interaction to a message event. It reports false, with a zero event, when
// body is not one JSON object or its "data" is neither null nor an object;
// it never panics.
//
// The event is a text message from platform "discord":
//   - Text is data.name for type 2 (an application command), data.custom_id
//     for type 3 (a message component), and "" for every other type.
//   - The user is member.user when that is an object with at least one key,
//     else the top-level user when that is an object; UserID is its id and
//     UserName its username.
//   - ChatID is channel_id, GuildID is guild_id, and ChatType is "channel"
//     when GuildID is set, else "dm". Source.MessageID is the
//     interaction's id.
//
// Ids may be JSON strings or numbers. A number is written as decimal text
// without an exponent: an integer literal is kept digit for digit (so a
// snowflake beyond 2^53 is exact), any other number is rendered from its
// float64 value (1e3 reads "1000", 2.5 reads "2.5"). The texts (name,
// custom_id, username) accept strings and numbers the same way. A value of
// any other JSON type, an empty string, and a number too large for a
// float64 read as absent ("").
func DiscordInteractionEvent(body []byte) (MessageEvent, bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil || top == nil {
		return MessageEvent{}, false
	}

	var data map[string]json.RawMessage
	if raw := trimJSON(top["data"]); len(raw) > 0 && !isJSONNull(raw) {
		if raw[0] != '{' || json.Unmarshal(raw, &data) != nil {
			return MessageEvent{}, false
		}
	}

	var text string
	switch rawFloat(top["type"]) {
	case discordApplicationCommand:
		text = jsonText(data["name"])
	case discordMessageComponent:
		text = jsonText(data["custom_id"])
	}

	user := discordUser(top)
	guildID := jsonText(top["guild_id"])
	chatType := ChatDM
	if guildID != "" {
		chatType = ChatChannel
	}

	ev := MessageEvent{
		Text:        text,
		MessageType: MessageText,
		Source: SessionSource{
			Platform:  PlatformDiscord,
			ChatID:    jsonText(top["channel_id"]),
			ChatType:  chatType,
			UserID:    jsonText(user["id"]),
			UserName:  jsonText(user["username"]),
			GuildID:   guildID,
			MessageID: jsonText(top["id"]),
		},
	}

	return ev, true
}

// discordUser returns the keys of the interaction's user: member.user when
// it is a non-empty object, else the top-level user object, else nil.
func discordUser(top map[string]json.RawMessage) map[string]json.RawMessage {
	if member := jsonObject(top["member"]); member != nil {
		if user := jsonObject(member["user"]); len(user) > 0 {
			return user
		}
	}

	return jsonObject(top["user"])
}

// jsonObject decodes a raw JSON object; nil when raw is not one.
func jsonObject(raw json.RawMessage) map[string]json.RawMessage {
	raw = trimJSON(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}

	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil
	}

	return obj
}

// jsonText returns a raw JSON string, or a raw JSON number as decimal text
// (see DiscordInteractionEvent); "" for anything else.
func jsonText(raw json.RawMessage) string {
	raw = trimJSON(raw)
	if len(raw) == 0 {
		return ""
	}

	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return ""
		}

		return s
	}

	lit := rawNumber(raw)
	if lit == "" {
		return ""
	}

	if isIntegerLiteral(lit) {
		return lit
	}

	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return ""
	}

	return strconv.FormatFloat(f, 'f', -1, 64)
}

// rawFloat returns the value of a raw JSON number; -1 when raw is not a
// number or is out of range.
func rawFloat(raw json.RawMessage) float64 {
	lit := rawNumber(trimJSON(raw))
	if lit == "" {
		return -1
	}

	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return -1
	}

	return f
}

// isIntegerLiteral reports whether a valid JSON number literal has neither
// a fraction nor an exponent.
func isIntegerLiteral(lit string) bool {
	for i := 0; i < len(lit); i++ {
		if c := lit[i]; c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}

	return true
}

// trimJSON drops the white space around a raw JSON value.
func trimJSON(raw json.RawMessage) json.RawMessage {
	return bytes.TrimSpace(raw)
}

// isJSONNull reports whether a trimmed raw JSON value is null.
func isJSONNull(raw json.RawMessage) bool {
	return string(raw) == "null"
}
