package domain_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/relay-go/relay/domain"
)

func TestLength(t *testing.T) {
	tests := []struct {
		name string
		give string
		unit string
		want int
	}{
		{name: "empty string is zero", give: "", unit: domain.UnitChars, want: 0},
		{name: "ascii counts bytes", give: "hello", unit: domain.UnitChars, want: 5},
		{name: "accented letter is one char", give: "é", unit: domain.UnitChars, want: 1},
		{name: "accented letter is one utf16 unit", give: "é", unit: domain.UnitUTF16, want: 1},
		{name: "emoji is one char", give: "😀", unit: domain.UnitChars, want: 1},
		{name: "emoji is two utf16 units", give: "😀", unit: domain.UnitUTF16, want: 2},
		{name: "mixed text in utf16", give: "a😀é中", unit: domain.UnitUTF16, want: 5},
		{name: "mixed text in chars", give: "a😀é中", unit: domain.UnitChars, want: 4},
		{name: "upper-case UTF16 counts as chars", give: "😀😀", unit: "UTF16", want: 2},
		{name: "unknown unit counts as chars", give: "😀😀", unit: "bytes", want: 2},
		{name: "empty unit counts as chars", give: "😀", unit: "", want: 1},
		{name: "invalid byte counts one in chars", give: "a\xffb", unit: domain.UnitChars, want: 3},
		{name: "invalid byte counts one in utf16", give: "a\xffb", unit: domain.UnitUTF16, want: 3},
		{
			name: "truncated astral sequence counts per byte in utf16",
			give: "\xf0\x9f\x98", unit: domain.UnitUTF16, want: 3,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, domain.Length(tt.give, tt.unit))
		})
	}
}

func TestDescriptorLengthFunc(t *testing.T) {
	tests := []struct {
		name string
		give string
		want int
	}{
		{name: "utf16 counts surrogate pairs", give: domain.UnitUTF16, want: 3},
		{name: "chars counts code points", give: domain.UnitChars, want: 2},
		{name: "unknown unit counts code points", give: "graphemes", want: 2},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := domain.Descriptor{LenUnit: tt.give}.LengthFunc()
			assert.Equal(t, tt.want, fn("a😀"))
		})
	}
}

func TestLengthDoesNotAllocate(t *testing.T) {
	msg := strings.Repeat("héllo wörld 😀 ", 300)
	for _, unit := range []string{domain.UnitChars, domain.UnitUTF16, "other"} {
		allocs := testing.AllocsPerRun(100, func() { _ = domain.Length(msg, unit) })
		assert.Zero(t, allocs, unit)
	}
}
