package wire

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// collect feeds msgs in order and returns the frames emitted, copied, and
// the first error.
func collect(s *Splitter, msgs ...string) ([]string, error) {
	var frames []string
	emit := func(f []byte) { frames = append(frames, string(f)) }
	for _, m := range msgs {
		if err := s.Feed([]byte(m), emit); err != nil {
			return frames, err
		}
	}

	return frames, nil
}

func TestSplitterFeed(t *testing.T) {
	tests := []struct {
		name        string
		give        []string
		want        []string
		wantPending int
	}{
		{name: "one frame", give: []string{"{\"a\":1}\n"}, want: []string{`{"a":1}`}},
		{
			name: "several frames in one message",
			give: []string{"{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n"},
			want: []string{`{"a":1}`, `{"b":2}`, `{"c":3}`},
		},
		{
			name: "frame continued in the next message",
			give: []string{`{"a":`, "1}\n"},
			want: []string{`{"a":1}`},
		},
		{
			name: "frame spread over three messages",
			give: []string{`{"a"`, `:`, "1}\n"},
			want: []string{`{"a":1}`},
		},
		{
			name: "newline alone completes the pending frame",
			give: []string{`{"a":1}`, "\n"},
			want: []string{`{"a":1}`},
		},
		{
			name:        "trailing partial kept",
			give:        []string{"{\"a\":1}\n{\"b\""},
			want:        []string{`{"a":1}`},
			wantPending: len(`{"b"`),
		},
		{
			name: "blank lines skipped",
			give: []string{"\n\n{\"a\":1}\n\n\n{\"b\":2}\n\n"},
			want: []string{`{"a":1}`, `{"b":2}`},
		},
		{
			name: "whitespace-only lines skipped",
			give: []string{" \n\t\n\r\n \t \r\n{\"a\":1}\n"},
			want: []string{`{"a":1}`},
		},
		{
			name: "whitespace-only line split across messages skipped",
			give: []string{"  ", " \t", "\n{\"a\":1}\n"},
			want: []string{`{"a":1}`},
		},
		{
			name: "carriage return kept on the frame",
			give: []string{"{\"a\":1}\r\n"},
			want: []string{"{\"a\":1}\r"},
		},
		{
			name: "non-JSON lines are still frames",
			give: []string{"garbage\n[1]\n"},
			want: []string{"garbage", "[1]"},
		},
		{name: "empty message", give: []string{""}, want: nil},
		{name: "no messages", give: nil, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Splitter
			got, err := collect(&s, tt.give...)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantPending, s.Pending())
		})
	}
}

func TestSplitterEverySplitPoint(t *testing.T) {
	stream := "{\"type\":\"hello\",\"platform\":\"discord\"}\n\n" +
		"  \n{\"type\":\"inbound\",\"event\":{\"text\":\"héllo\\n\"}}\n{\"type\":\"going_idle\"}\n"
	want, err := collect(&Splitter{}, stream)
	require.NoError(t, err)
	require.Len(t, want, 3)

	for i := 0; i <= len(stream); i++ {
		var s Splitter
		got, err := collect(&s, stream[:i], stream[i:])
		require.NoError(t, err, "split at %d", i)
		assert.Equal(t, want, got, "split at %d", i)
		assert.Zero(t, s.Pending(), "split at %d", i)
	}

	for i := 0; i <= len(stream); i++ {
		for j := i; j <= len(stream); j++ {
			got, err := collect(&Splitter{}, stream[:i], stream[i:j], stream[j:])
			require.NoError(t, err, "split at %d and %d", i, j)
			require.Equal(t, want, got, "split at %d and %d", i, j)
		}
	}
}

func TestSplitterByteAtATime(t *testing.T) {
	stream := "{\"a\":1}\n{\"b\":2}\n"
	var msgs []string
	for i := range len(stream) {
		msgs = append(msgs, stream[i:i+1])
	}

	got, err := collect(&Splitter{}, msgs...)
	require.NoError(t, err)
	assert.Equal(t, []string{`{"a":1}`, `{"b":2}`}, got)
}

func TestSplitterEmittedFrameDoesNotLeakIntoTheNext(t *testing.T) {
	var s Splitter
	var frames []string
	emit := func(f []byte) { frames = append(frames, string(f)) }

	require.NoError(t, s.Feed([]byte(`{"long":"aaaaaaaa"`), emit))
	require.NoError(t, s.Feed([]byte("}\n{\"b\""), emit))
	require.NoError(t, s.Feed([]byte(":2}\n"), emit))

	assert.Equal(t, []string{`{"long":"aaaaaaaa"}`, `{"b":2}`}, frames)
}

func TestSplitterLineTooLong(t *testing.T) {
	t.Run("partial without newline over the limit", func(t *testing.T) {
		s := Splitter{MaxLine: 8}
		got, err := collect(&s, "{\"a\":1}\n123456789")
		require.ErrorIs(t, err, ErrLineTooLong)
		assert.Equal(t, []string{`{"a":1}`}, got, "frames before the long one are emitted")
		assert.Zero(t, s.Pending(), "the splitter is reset")
	})

	t.Run("partial at the limit is kept", func(t *testing.T) {
		s := Splitter{MaxLine: 8}
		_, err := collect(&s, "12345678")
		require.NoError(t, err)
		assert.Equal(t, 8, s.Pending())
	})

	t.Run("partial growing over the limit across messages", func(t *testing.T) {
		s := Splitter{MaxLine: 8}
		_, err := collect(&s, "1234", "5678", "9")
		require.ErrorIs(t, err, ErrLineTooLong)
		assert.Zero(t, s.Pending())
	})

	t.Run("completion of a pending partial over the limit", func(t *testing.T) {
		s := Splitter{MaxLine: 8}
		got, err := collect(&s, "12345", "6789\n{}\n")
		require.ErrorIs(t, err, ErrLineTooLong)
		assert.Empty(t, got)
		assert.Zero(t, s.Pending())
	})

	t.Run("completion at the limit is emitted", func(t *testing.T) {
		s := Splitter{MaxLine: 8}
		got, err := collect(&s, "12345", "678\n")
		require.NoError(t, err)
		assert.Equal(t, []string{"12345678"}, got)
	})

	t.Run("a whole line inside one message is not bounded", func(t *testing.T) {
		s := Splitter{MaxLine: 8}
		long := strings.Repeat("x", 64)
		got, err := collect(&s, long+"\n")
		require.NoError(t, err)
		assert.Equal(t, []string{long}, got)
	})

	t.Run("usable after the error", func(t *testing.T) {
		s := Splitter{MaxLine: 8}
		_, err := collect(&s, "123456789")
		require.ErrorIs(t, err, ErrLineTooLong)
		got, err := collect(&s, "{}\n")
		require.NoError(t, err)
		assert.Equal(t, []string{"{}"}, got)
	})

	t.Run("zero MaxLine means the default", func(t *testing.T) {
		var s Splitter
		_, err := collect(&s, strings.Repeat("x", DefaultMaxLine))
		require.NoError(t, err)
		_, err = collect(&s, "x")
		require.ErrorIs(t, err, ErrLineTooLong)
	})
}

func TestSplitterReset(t *testing.T) {
	var s Splitter
	_, err := collect(&s, `{"stale":`)
	require.NoError(t, err)
	require.Positive(t, s.Pending())

	s.Reset()
	assert.Zero(t, s.Pending())

	got, err := collect(&s, "{\"fresh\":1}\n")
	require.NoError(t, err)
	assert.Equal(t, []string{`{"fresh":1}`}, got, "nothing of the dropped partial survives")
}
