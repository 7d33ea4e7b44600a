package domain_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/domain"
)

// isJSONObject reports whether b is exactly one valid JSON object.
func isJSONObject(b []byte) bool {
	return json.Valid(b) && bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("{"))
}

func FuzzDecodeDescriptor(f *testing.F) {
	f.Add([]byte(minimalDescriptor))
	f.Add([]byte(`{"max_message_length": "x", "supported_ops": ["a", "", 1]}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := domain.DecodeDescriptor(data)
		if err != nil {
			var missing *domain.MissingKeyError
			if errors.As(err, &missing) {
				assert.NotEmpty(t, missing.Key)
				assert.Contains(t, err.Error(), missing.Key)
				assert.True(t, isJSONObject(data), "a missing key implies an object")
			} else {
				require.ErrorIs(t, err, domain.ErrMalformedDescriptor)
				assert.False(t, isJSONObject(data), "an object is never malformed")
			}

			return
		}

		require.True(t, isJSONObject(data))
		assert.Positive(t, d.MaxMessageLength)
		assert.NotContains(t, d.SupportedOps, "")
		if d.SupportedOps != nil {
			assert.NotEmpty(t, d.SupportedOps)
		}

		b, err := d.MarshalJSON()
		require.NoError(t, err)

		again, err := domain.DecodeDescriptor(b)
		require.NoError(t, err)
		assert.Equal(t, d, again, "decoded descriptors round-trip")
	})
}

func FuzzDiscordInteractionEvent(f *testing.F) {
	f.Add([]byte(`{"type": 2, "channel_id": "c", "guild_id": "g", "data": {"name": "n"}}`))
	f.Add([]byte(`{"type": 3, "user": {"id": 5}, "data": {"custom_id": "x"}}`))

	f.Fuzz(func(t *testing.T, body []byte) {
		ev, ok := domain.DiscordInteractionEvent(body)
		if !ok {
			assert.Zero(t, ev)

			return
		}

		require.True(t, isJSONObject(body), "only an object gives an event")
		assert.Equal(t, domain.PlatformDiscord, ev.Source.Platform)
		assert.Equal(t, domain.MessageText, ev.MessageType)
		if ev.Source.GuildID != "" {
			assert.Equal(t, domain.ChatChannel, ev.Source.ChatType)
		} else {
			assert.Equal(t, domain.ChatDM, ev.Source.ChatType)
		}

		checkNumericIDs(t, body, map[string]string{
			"channel_id": ev.Source.ChatID,
			"guild_id":   ev.Source.GuildID,
			"id":         ev.Source.MessageID,
		})
	})
}

// checkNumericIDs asserts that each top-level key of body holding a JSON
// number was rendered as decimal text without an exponent, or as absent.
func checkNumericIDs(t *testing.T, body []byte, got map[string]string) {
	t.Helper()

	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()

	var top map[string]any
	require.NoError(t, dec.Decode(&top))

	for key, rendered := range got {
		num, isNumber := top[key].(json.Number)
		if !isNumber || rendered == "" {
			continue
		}

		assert.NotContains(t, rendered, "e", "%s %s", key, num)
		assert.NotContains(t, rendered, "E", "%s %s", key, num)
		want, err := strconv.ParseFloat(string(num), 64)
		require.NoError(t, err)
		value, err := strconv.ParseFloat(rendered, 64)
		require.NoError(t, err)
		assert.Equal(t, want, value, "%s renders its value", key)
	}
}

func FuzzSplitMessage(f *testing.F) {
	f.Add("hello world", 5, uint8(0), false)
	f.Add("```go\nfunc main() {}\n```\n", 12, uint8(1), true)

	units := []string{domain.UnitChars, domain.UnitUTF16, "other"}

	f.Fuzz(func(t *testing.T, text string, limit int, unit uint8, code bool) {
		// Keep limits small enough to force cuts, including degenerate ones.
		limit = limit%300 - 5
		checkSplit(t, text, limit, units[int(unit)%len(units)], code)
	})
}
