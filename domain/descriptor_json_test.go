package domain_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/domain"
)

// minimalDescriptor holds every required key and nothing else.
const minimalDescriptor = `{
	"contract_version": 1,
	"platform": "telegram",
	"label": "Telegram",
	"max_message_length": 4000,
	"supports_draft_streaming": true,
	"supports_edit": true,
	"supports_threads": false,
	"markdown_dialect": "markdown_v2",
	"len_unit": "utf16"
}`

// withKey returns minimalDescriptor with key set to the raw JSON value, or
// removed when value is "".
func withKey(t *testing.T, key, value string) []byte {
	t.Helper()

	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(minimalDescriptor), &m))
	if value == "" {
		delete(m, key)
	} else {
		m[key] = json.RawMessage(value)
	}

	b, err := json.Marshal(m)
	require.NoError(t, err)

	return b
}

func TestDecodeDescriptorAppliesDefaults(t *testing.T) {
	d, err := domain.DecodeDescriptor([]byte(minimalDescriptor))
	require.NoError(t, err)

	assert.Equal(t, domain.Descriptor{
		ContractVersion:        1,
		Platform:               "telegram",
		Label:                  "Telegram",
		MaxMessageLength:       4000,
		SupportsDraftStreaming: true,
		SupportsEdit:           true,
		MarkdownDialect:        "markdown_v2",
		LenUnit:                domain.UnitUTF16,
		Emoji:                  domain.DefaultEmoji,
	}, d)
}

func TestDecodeDescriptorReadsEveryKey(t *testing.T) {
	give := `{
		"contract_version": 1, "platform": "slack", "label": "Slack",
		"max_message_length": 40000, "supports_draft_streaming": false,
		"supports_edit": true, "supports_threads": true,
		"markdown_dialect": "mrkdwn", "len_unit": "chars",
		"emoji": "💬", "platform_hint": "use mrkdwn", "pii_safe": true,
		"supports_context": true, "supports_inchannel_continuable": true,
		"supports_block_formatting": true,
		"supported_ops": ["send", "edit", "get_chat_info"],
		"some_future_key": {"nested": [1, 2, 3]}
	}`

	d, err := domain.DecodeDescriptor([]byte(give))
	require.NoError(t, err)

	assert.Equal(t, domain.Descriptor{
		ContractVersion:              1,
		Platform:                     "slack",
		Label:                        "Slack",
		MaxMessageLength:             40000,
		SupportsEdit:                 true,
		SupportsThreads:              true,
		MarkdownDialect:              "mrkdwn",
		LenUnit:                      domain.UnitChars,
		Emoji:                        "💬",
		PlatformHint:                 "use mrkdwn",
		PIISafe:                      true,
		SupportsContext:              true,
		SupportsInchannelContinuable: true,
		SupportsBlockFormatting:      true,
		SupportedOps:                 []string{"send", "edit", "get_chat_info"},
	}, d)
}

func TestDecodeDescriptorMissingRequiredKey(t *testing.T) {
	required := []string{
		"contract_version", "platform", "label", "max_message_length",
		"supports_draft_streaming", "supports_edit", "supports_threads",
		"markdown_dialect", "len_unit",
	}

	for _, key := range required {
		t.Run("missing "+key+" is an error naming it", func(t *testing.T) {
			_, err := domain.DecodeDescriptor(withKey(t, key, ""))
			require.Error(t, err)

			var missing *domain.MissingKeyError
			require.ErrorAs(t, err, &missing)
			assert.Equal(t, key, missing.Key)
			assert.Contains(t, err.Error(), key)
		})
	}

	t.Run("null required value counts as present", func(t *testing.T) {
		d, err := domain.DecodeDescriptor(withKey(t, "platform", "null"))
		require.NoError(t, err)
		assert.Empty(t, d.Platform)
	})

	t.Run("optional keys are not required", func(t *testing.T) {
		_, err := domain.DecodeDescriptor([]byte(minimalDescriptor))
		assert.NoError(t, err)
	})
}

func TestDecodeDescriptorRejectsMalformedInput(t *testing.T) {
	tests := []struct {
		name string
		give string
	}{
		{name: "empty input", give: ""},
		{name: "not json", give: "descriptor please"},
		{name: "truncated object", give: `{"platform": "x"`},
		{name: "json array", give: `[1, 2]`},
		{name: "json string", give: `"descriptor"`},
		{name: "json number", give: `42`},
		{name: "json null", give: `null`},
		{name: "trailing data after object", give: minimalDescriptor + ` {}`},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := domain.DecodeDescriptor([]byte(tt.give))
			require.Error(t, err)
			assert.ErrorIs(t, err, domain.ErrMalformedDescriptor)

			var missing *domain.MissingKeyError
			assert.False(t, errors.As(err, &missing))
		})
	}
}

func TestDecodeDescriptorMaxMessageLength(t *testing.T) {
	tests := []struct {
		name string
		give string
		want int
	}{
		{name: "positive integer is kept", give: `2000`, want: 2000},
		{name: "one is kept", give: `1`, want: 1},
		{name: "zero becomes default", give: `0`, want: domain.DefaultMaxMessageLength},
		{name: "negative becomes default", give: `-5`, want: domain.DefaultMaxMessageLength},
		{name: "string becomes default", give: `"2000"`, want: domain.DefaultMaxMessageLength},
		{name: "null becomes default", give: `null`, want: domain.DefaultMaxMessageLength},
		{name: "boolean becomes default", give: `true`, want: domain.DefaultMaxMessageLength},
		{name: "object becomes default", give: `{}`, want: domain.DefaultMaxMessageLength},
		{name: "fraction is truncated", give: `2.9`, want: 2},
		{name: "fraction below one becomes default", give: `0.5`, want: domain.DefaultMaxMessageLength},
		{name: "negative fraction becomes default", give: `-0.5`, want: domain.DefaultMaxMessageLength},
		{name: "exponent is read", give: `2e3`, want: 2000},
		{name: "integral float is read", give: `3000.0`, want: 3000},
		{name: "huge integer is clamped", give: `99999999999999999999999`, want: math.MaxInt},
		{name: "huge exponent is clamped", give: `1e999`, want: math.MaxInt},
		{name: "huge negative becomes default", give: `-1e999`, want: domain.DefaultMaxMessageLength},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := domain.DecodeDescriptor(withKey(t, "max_message_length", tt.give))
			require.NoError(t, err)
			assert.Equal(t, tt.want, d.MaxMessageLength)
		})
	}
}

func TestDecodeDescriptorSupportedOps(t *testing.T) {
	tests := []struct {
		name string
		give string
		want []string
	}{
		{
			name: "list of ops is kept in order",
			give: `["typing", "send"]`, want: []string{"typing", "send"},
		},
		{
			name: "empty strings are dropped",
			give: `["send", "", "edit"]`, want: []string{"send", "edit"},
		},
		{
			name: "non-string entries are dropped",
			give: `["send", 1, null, true, {"op": "x"}, ["edit"], "edit"]`,
			want: []string{"send", "edit"},
		},
		{name: "empty list is empty", give: `[]`, want: nil},
		{name: "only invalid entries is empty", give: `["", 2]`, want: nil},
		{name: "string is not a list", give: `"send"`, want: nil},
		{name: "object is not a list", give: `{"send": true}`, want: nil},
		{name: "null is not a list", give: `null`, want: nil},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := domain.DecodeDescriptor(withKey(t, "supported_ops", tt.give))
			require.NoError(t, err)
			assert.Equal(t, tt.want, d.SupportedOps)
		})
	}
}

func TestDecodeDescriptorToleratesWrongTypes(t *testing.T) {
	tests := []struct {
		name  string
		key   string
		give  string
		check func(t *testing.T, d domain.Descriptor)
	}{
		{
			name: "string contract_version reads zero", key: "contract_version", give: `"1"`,
			check: func(t *testing.T, d domain.Descriptor) { assert.Zero(t, d.ContractVersion) },
		},
		{
			name: "fractional contract_version reads zero", key: "contract_version", give: `1.5`,
			check: func(t *testing.T, d domain.Descriptor) { assert.Zero(t, d.ContractVersion) },
		},
		{
			name: "integral float contract_version is read", key: "contract_version", give: `2.0`,
			check: func(t *testing.T, d domain.Descriptor) { assert.Equal(t, 2, d.ContractVersion) },
		},
		{
			name: "huge contract_version reads zero", key: "contract_version", give: `1e300`,
			check: func(t *testing.T, d domain.Descriptor) { assert.Zero(t, d.ContractVersion) },
		},
		{
			name: "numeric platform reads empty", key: "platform", give: `7`,
			check: func(t *testing.T, d domain.Descriptor) { assert.Empty(t, d.Platform) },
		},
		{
			name: "string boolean reads false", key: "supports_edit", give: `"true"`,
			check: func(t *testing.T, d domain.Descriptor) { assert.False(t, d.SupportsEdit) },
		},
		{
			name: "numeric boolean reads false", key: "supports_draft_streaming", give: `1`,
			check: func(t *testing.T, d domain.Descriptor) { assert.False(t, d.SupportsDraftStreaming) },
		},
		{
			name: "non-string emoji reads default", key: "emoji", give: `42`,
			check: func(t *testing.T, d domain.Descriptor) {
				assert.Equal(t, domain.DefaultEmoji, d.Emoji)
			},
		},
		{
			name: "explicit empty emoji is kept", key: "emoji", give: `""`,
			check: func(t *testing.T, d domain.Descriptor) { assert.Empty(t, d.Emoji) },
		},
		{
			name: "list platform_hint reads empty", key: "platform_hint", give: `["x"]`,
			check: func(t *testing.T, d domain.Descriptor) { assert.Empty(t, d.PlatformHint) },
		},
		{
			name: "null optional boolean reads false", key: "pii_safe", give: `null`,
			check: func(t *testing.T, d domain.Descriptor) { assert.False(t, d.PIISafe) },
		},
		{
			name: "escaped strings are decoded", key: "label", give: `"Tele\u0067ram \"bot\""`,
			check: func(t *testing.T, d domain.Descriptor) { assert.Equal(t, `Telegram "bot"`, d.Label) },
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := domain.DecodeDescriptor(withKey(t, tt.key, tt.give))
			require.NoError(t, err)
			tt.check(t, d)
		})
	}
}

func TestDescriptorSupportsOp(t *testing.T) {
	advertised := domain.Descriptor{SupportedOps: []string{"send", "get_chat_info"}}

	legacy := domain.Descriptor{}

	tests := []struct {
		name string
		give domain.Descriptor
		op   string
		want bool
	}{
		{name: "legacy send without advertised ops", give: legacy, op: "send", want: true},
		{name: "legacy edit without advertised ops", give: legacy, op: "edit", want: true},
		{name: "legacy typing without advertised ops", give: legacy, op: "typing", want: true},
		{name: "legacy follow_up without advertised ops", give: legacy, op: "follow_up", want: true},
		{name: "new op needs advertising", give: legacy, op: "get_chat_info", want: false},
		{name: "advertised new op is supported", give: advertised, op: "get_chat_info", want: true},
		{name: "advertised list replaces legacy set", give: advertised, op: "edit", want: false},
		{name: "advertised send is supported", give: advertised, op: "send", want: true},
		{name: "empty op is never supported", give: legacy, op: "", want: false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.give.SupportsOp(tt.op))
		})
	}
}

func TestDescriptorMarshalJSON(t *testing.T) {
	full := domain.Descriptor{
		ContractVersion:              1,
		Platform:                     "discord",
		Label:                        "Discord <bot> & co",
		MaxMessageLength:             2000,
		SupportsDraftStreaming:       true,
		SupportsEdit:                 true,
		SupportsThreads:              true,
		MarkdownDialect:              "discord",
		LenUnit:                      domain.UnitChars,
		Emoji:                        "🎮",
		PlatformHint:                 "hint",
		PIISafe:                      true,
		SupportsContext:              true,
		SupportsInchannelContinuable: true,
		SupportsBlockFormatting:      true,
		SupportedOps:                 []string{"send", "follow_up"},
	}

	t.Run("writes every key under its wire name", func(t *testing.T) {
		b, err := json.Marshal(full)
		require.NoError(t, err)

		var got map[string]any
		require.NoError(t, json.Unmarshal(b, &got))
		assert.Equal(t, map[string]any{
			"contract_version":               1.0,
			"platform":                       "discord",
			"label":                          "Discord <bot> & co",
			"max_message_length":             2000.0,
			"supports_draft_streaming":       true,
			"supports_edit":                  true,
			"supports_threads":               true,
			"markdown_dialect":               "discord",
			"len_unit":                       "chars",
			"emoji":                          "🎮",
			"platform_hint":                  "hint",
			"pii_safe":                       true,
			"supports_context":               true,
			"supports_inchannel_continuable": true,
			"supports_block_formatting":      true,
			"supported_ops":                  []any{"send", "follow_up"},
		}, got)

		direct, err := full.MarshalJSON()
		require.NoError(t, err)
		assert.Contains(t, string(direct), "<bot> & co", "html characters are not escaped")
	})

	t.Run("nil ops are written as an empty list", func(t *testing.T) {
		b, err := domain.Descriptor{}.MarshalJSON()
		require.NoError(t, err)
		assert.Contains(t, string(b), `"supported_ops":[]`)
		assert.False(t, strings.HasSuffix(string(b), "\n"))
	})

	roundTrips := []struct {
		name string
		give domain.Descriptor
	}{
		{name: "every field set round-trips", give: full},
		{name: "decoded minimal descriptor round-trips", give: mustDecode(t, minimalDescriptor)},
		{name: "empty emoji round-trips", give: domain.Descriptor{MaxMessageLength: 1, Emoji: ""}},
	}

	for _, tt := range roundTrips {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.give.MarshalJSON()
			require.NoError(t, err)

			got, err := domain.DecodeDescriptor(b)
			require.NoError(t, err)
			assert.Equal(t, tt.give, got)
		})
	}
}

func mustDecode(t *testing.T, s string) domain.Descriptor {
	t.Helper()

	d, err := domain.DecodeDescriptor([]byte(s))
	require.NoError(t, err)

	return d
}
