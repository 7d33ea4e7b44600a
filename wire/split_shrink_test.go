package wire

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplitterDropsAHugePendingBufferOnceItsFrameIsDone(t *testing.T) {
	tests := []struct {
		name string
		give []string
	}{
		{
			name: "huge frame completed",
			give: []string{"{" + strings.Repeat("a", 1<<20), "}\n"},
		},
		{
			name: "huge frame over the limit",
			give: []string{"{" + strings.Repeat("a", 1<<20), strings.Repeat("a", 1<<20)},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Splitter{MaxLine: 3 << 19}
			_, _ = collect(&s, tt.give...)

			assert.LessOrEqual(t, cap(s.pending), keepPending)
			frames, err := collect(&s, `{"a"`, ":1}\n")
			require.NoError(t, err)
			assert.Equal(t, []string{`{"a":1}`}, frames, "still splits")
		})
	}
}

func TestSplitterKeepsASmallPendingBuffer(t *testing.T) {
	s := Splitter{}
	_, err := collect(&s, `{"a"`, ":1}\n")
	require.NoError(t, err)

	assert.Positive(t, cap(s.pending), "a small buffer is reused")
}
