package domain_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/domain"
)

// checkSplit asserts the invariants every split must keep and returns the
// parts' texts.
func checkSplit(t *testing.T, text string, limit int, unit string, code bool) []string {
	t.Helper()

	parts := domain.SplitMessageParts(text, limit, unit, code)
	if limit <= 0 {
		limit = domain.DefaultMaxMessageLength
	}

	if text == "" {
		assert.Nil(t, parts, "empty text gives no parts")
	}

	var joined strings.Builder
	var texts []string
	for i, p := range parts {
		require.True(t, strings.HasPrefix(p.Text, p.Prefix), "part %d text starts with its prefix", i)
		require.True(t, strings.HasSuffix(p.Text, p.Suffix), "part %d text ends with its suffix", i)
		require.GreaterOrEqual(t, len(p.Text), len(p.Prefix)+len(p.Suffix), "part %d", i)

		body := p.Body()
		assert.NotEmpty(t, body, "part %d carries text", i)
		joined.WriteString(body)
		texts = append(texts, p.Text)

		if p.Prefix != "" {
			assert.True(t, code, "fences only with code blocks")
			assert.True(t, strings.HasPrefix(p.Prefix, domain.FenceMarker), "part %d prefix", i)
			assert.True(t, strings.HasSuffix(p.Prefix, "\n"), "part %d prefix", i)
		}

		if p.Suffix != "" {
			assert.True(t, code, "fences only with code blocks")
			assert.Equal(t, domain.FenceSuffix, p.Suffix, "part %d suffix", i)
			assert.Less(t, i, len(parts)-1, "the last part gets no closing fence")
		}

		if n := domain.Length(p.Text, unit); n > limit {
			// Only a lone code point wider than the limit may exceed it.
			_, size := utf8.DecodeRuneInString(body)
			assert.Equal(t, len(body), size, "part %d of length %d exceeds %d", i, n, limit)
			assert.Empty(t, p.Prefix+p.Suffix, "an oversized part carries no fences")
		}

		if utf8.ValidString(text) {
			assert.True(t, utf8.ValidString(p.Text), "part %d stays valid UTF-8", i)
		}
	}

	assert.Equal(t, text, joined.String(), "bodies join to the text")
	assert.Equal(t, texts, domain.SplitMessage(text, limit, unit, code))

	return texts
}

func TestSplitMessage(t *testing.T) {
	tests := []struct {
		name  string
		give  string
		limit int
		unit  string
		code  bool
		want  []string
	}{
		{name: "empty text gives no parts", give: "", limit: 10, want: nil},
		{name: "text within the limit is one part", give: "hello", limit: 10, want: []string{"hello"}},
		{
			name: "text of exactly the limit is one part",
			give: "0123456789", limit: 10, want: []string{"0123456789"},
		},
		{
			name: "cuts after the last newline in the window",
			give: "aaa\nbbb ccc", limit: 8,
			want: []string{"aaa\n", "bbb ccc"},
		},
		{
			name: "cuts after the last space without a newline",
			give: "hello world foo", limit: 12,
			want: []string{"hello world ", "foo"},
		},
		{
			name: "hard cut at the limit without breaks",
			give: "abcdefghij", limit: 4,
			want: []string{"abcd", "efgh", "ij"},
		},
		{
			name: "never cuts inside a two-byte code point",
			give: "éééé", limit: 3, unit: domain.UnitChars,
			want: []string{"ééé", "é"},
		},
		{
			name: "emoji is one char",
			give: "😀😀😀", limit: 2, unit: domain.UnitChars,
			want: []string{"😀😀", "😀"},
		},
		{
			name: "never splits a surrogate pair",
			give: "😀😀😀", limit: 3, unit: domain.UnitUTF16,
			want: []string{"😀", "😀", "😀"},
		},
		{
			name: "utf16 limit fits two emoji",
			give: "😀😀😀", limit: 4, unit: domain.UnitUTF16,
			want: []string{"😀😀", "😀"},
		},
		{
			name: "astral code point wider than the limit goes alone",
			give: "a😀b", limit: 1, unit: domain.UnitUTF16,
			want: []string{"a", "😀", "b"},
		},
		{
			name: "UTF16 unit counts chars",
			give: "😀😀😀", limit: 3, unit: "UTF16",
			want: []string{"😀😀😀"},
		},
		{
			name: "closes and reopens a code block cut inside",
			give: "```go\nfmt.Println(1)\nfmt.Println(2)\n```", limit: 30, code: true,
			want: []string{"```go\nfmt.Println(1)\n\n```", "```go\nfmt.Println(2)\n```"},
		},
		{
			name: "without code blocks fences are plain text",
			give: "```go\nfmt.Println(1)\nfmt.Println(2)\n```", limit: 30, code: false,
			want: []string{"```go\nfmt.Println(1)\n", "fmt.Println(2)\n```"},
		},
		{
			name: "does not end a part on an empty block",
			give: "intro line\n```py\nprint(1)\n```", limit: 21, code: true,
			want: []string{"intro line\n", "```py\nprint(1)\n```"},
		},
		{
			name: "block closed before the cut needs no fence",
			give: "```\nx\n```\nafter the block text", limit: 14, code: true,
			want: []string{"```\nx\n```\n", "after the ", "block text"},
		},
		{
			name: "unclosed block at the end gets no closing fence",
			give: "```\nabc\ndef", limit: 12, code: true,
			want: []string{"```\nabc\ndef"},
		},
		{
			name: "limit smaller than the fences cuts plain text",
			give: "```\nabcdef\n```", limit: 5, code: true,
			want: []string{"```\n", "abcde", "f\n```"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unit := tt.unit
			if unit == "" {
				unit = domain.UnitChars
			}

			got := checkSplit(t, tt.give, tt.limit, unit, tt.code)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestSplitMessageNonPositiveLimitMeansDefault(t *testing.T) {
	fits := strings.Repeat("a", domain.DefaultMaxMessageLength)
	over := fits + "b"

	for _, limit := range []int{0, -1} {
		assert.Len(t, domain.SplitMessage(fits, limit, domain.UnitChars, false), 1)
		assert.Equal(t, []string{fits, "b"}, domain.SplitMessage(over, limit, domain.UnitChars, false))
	}
}

func TestSplitMessagePartsReportsAddedFences(t *testing.T) {
	text := "```python\n" + strings.Repeat("x = 1\n", 10) + "```\n"
	parts := domain.SplitMessageParts(text, 40, domain.UnitChars, true)
	require.Greater(t, len(parts), 2)

	assert.Empty(t, parts[0].Prefix)
	assert.Equal(t, domain.FenceSuffix, parts[0].Suffix)
	for _, p := range parts[1 : len(parts)-1] {
		assert.Equal(t, "```python\n", p.Prefix)
		assert.Equal(t, domain.FenceSuffix, p.Suffix)
	}

	last := parts[len(parts)-1]
	assert.Equal(t, "```python\n", last.Prefix)
	assert.Empty(t, last.Suffix)
	checkSplit(t, text, 40, domain.UnitChars, true)
}

func TestSplitMessageDropsFencesWithHugeLanguageTag(t *testing.T) {
	text := "```" + strings.Repeat("x", 30) + "\n" + strings.Repeat("code\n", 20) + "```"
	parts := domain.SplitMessageParts(text, 40, domain.UnitChars, true)

	for _, p := range parts {
		assert.Empty(t, p.Prefix, "a reopening fence over half the limit is not added")
	}

	checkSplit(t, text, 40, domain.UnitChars, true)
}

func TestSplitMessageProperties(t *testing.T) {
	pieces := []string{
		"a", "b", " ", "\n", "```", "```go\n", "\n```\n", "é", "😀", "中", "\xff", "word ",
		"line\n", "\t",
	}
	units := []string{domain.UnitChars, domain.UnitUTF16, "other"}
	rng := rand.New(rand.NewPCG(1, 2))

	for range 3000 {
		var b strings.Builder
		for range rng.IntN(120) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}

		text := b.String()
		limit := rng.IntN(40) - 2
		unit := units[rng.IntN(len(units))]
		code := rng.IntN(2) == 0

		checkSplit(t, text, limit, unit, code)
		if t.Failed() {
			t.Fatalf("failed for text %q limit %d unit %q code %v", text, limit, unit, code)
		}
	}
}
