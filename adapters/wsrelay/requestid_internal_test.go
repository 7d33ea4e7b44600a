package wsrelay

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestRequestIDsAreUniqueLowercaseHex(t *testing.T) {
	a, b := newIDSource(), newIDSource()
	seen := make(map[string]bool)

	for range 10000 {
		id := a.next()
		require.Regexp(t, requestIDPattern, id)
		require.False(t, seen[id], "id %s repeated", id)
		seen[id] = true
	}

	other := b.next()
	assert.Regexp(t, requestIDPattern, other)
	assert.False(t, seen[other], "another transport's key gives other ids")
}

func TestRequestIDsAreNotSequential(t *testing.T) {
	s := newIDSource()
	first, second := s.next(), s.next()

	// Consecutive counters encrypt to unrelated blocks: no common prefix
	// or suffix longer than chance would give.
	common := 0
	for i := range first {
		if first[i] == second[i] {
			common++
		}
	}
	assert.Less(t, common, 16, "%s and %s share %d digits", first, second, common)
}

func TestSweepStep(t *testing.T) {
	tests := []struct {
		give time.Duration
		want time.Duration
	}{
		{give: 30 * time.Second, want: time.Second},
		{give: 8 * time.Second, want: 500 * time.Millisecond},
		{give: 100 * time.Millisecond, want: 6250 * time.Microsecond},
		{give: time.Millisecond, want: time.Millisecond},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, sweepStep(tt.give), "timeout %s", tt.give)
	}
}
