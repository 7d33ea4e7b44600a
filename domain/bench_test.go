package domain_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/relay-go/relay/domain"
)

var (
	sinkInt   int
	sinkParts []string
	sinkMeta  map[string]any
)

// message returns about size bytes of mixed prose: ASCII words, accented
// letters, CJK and emoji, with a newline every few words.
func message(size int) string {
	words := []string{"relay ", "héllo ", "wörld ", "中文 ", "😀 ", "gateway ", "connector\n"}

	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		b.WriteString(words[i%len(words)])
	}

	return b.String()[:size]
}

// codeMessage returns about size bytes of prose and fenced code blocks.
func codeMessage(size int) string {
	block := "Some prose before the code, long enough to wrap.\n```go\n" +
		strings.Repeat("\tfmt.Println(\"line of code\")\n", 20) + "```\n"

	var b strings.Builder
	for b.Len() < size {
		b.WriteString(block)
	}

	return b.String()[:size]
}

func BenchmarkLength(b *testing.B) {
	msg := message(4 << 10)

	for _, unit := range []string{domain.UnitChars, domain.UnitUTF16} {
		b.Run(unit+"/4KiB", func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				sinkInt = domain.Length(msg, unit)
			}
		})
	}
}

func BenchmarkSplitMessage(b *testing.B) {
	cases := []struct {
		name string
		text func(int) string
		unit string
		code bool
	}{
		{name: "prose/chars", text: message, unit: domain.UnitChars},
		{name: "prose/utf16", text: message, unit: domain.UnitUTF16},
		{name: "code/chars", text: codeMessage, unit: domain.UnitChars, code: true},
		{name: "nobreaks/chars", text: func(n int) string { return strings.Repeat("x", n) }},
		{
			// One fence line as long as the text: its language tag is too
			// wide to repeat, and must not be rebuilt for every part.
			name: "unclosed_fence_line/chars", unit: domain.UnitChars, code: true,
			text: func(n int) string { return "```go " + strings.Repeat("z", n-6) },
		},
	}

	for _, tc := range cases {
		for _, size := range []int{64 << 10, 256 << 10} {
			text := tc.text(size)
			b.Run(tc.name+"/"+strconv.Itoa(size>>10)+"KiB", func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				b.ReportAllocs()
				for b.Loop() {
					sinkParts = domain.SplitMessage(text, 2000, tc.unit, tc.code)
				}
			})
		}
	}
}

func BenchmarkReattachScope(b *testing.B) {
	meta := map[string]any{"thread_id": "t1"}
	guild := domain.Discriminator{Scope: "123456789012345678"}
	dm := domain.Discriminator{DMUser: "876543210987654321"}
	kept := map[string]any{"guild_id": "123456789012345678"}

	cases := []struct {
		name string
		meta map[string]any
		d    domain.Discriminator
	}{
		{name: "adds_guild", meta: meta, d: guild},
		{name: "adds_user", meta: meta, d: dm},
		{name: "nothing_to_add", meta: kept, d: guild},
	}

	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkMeta = domain.ReattachScope(tc.meta, tc.d, true)
			}
		})
	}
}

func BenchmarkScopeTable(b *testing.B) {
	const chats = 1 << 12

	ids := make([]string, chats*4)
	for i := range ids {
		ids[i] = "chat-" + strconv.Itoa(i)
	}

	d := domain.Discriminator{Scope: "g"}

	b.Run("remember_lookup_hit", func(b *testing.B) {
		table := domain.NewScopeTable(chats)
		for _, id := range ids[:chats] {
			table.Remember(id, d)
		}

		b.ReportAllocs()
		i := 0
		for b.Loop() {
			id := ids[i%chats]
			table.Remember(id, d)
			_, _ = table.Lookup(id)
			i++
		}
	})

	b.Run("remember_lookup_evicting", func(b *testing.B) {
		table := domain.NewScopeTable(chats)
		for _, id := range ids {
			table.Remember(id, d)
		}

		b.ReportAllocs()
		i := 0
		for b.Loop() {
			id := ids[i%len(ids)]
			table.Remember(id, d)
			_, _ = table.Lookup(id)
			i++
		}
	})

	b.Run("parallel_remember_lookup", func(b *testing.B) {
		table := domain.NewScopeTable(chats)

		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				id := ids[i%len(ids)]
				table.Remember(id, d)
				_, _ = table.Lookup(id)
				i++
			}
		})
	})
}
