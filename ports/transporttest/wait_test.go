package transporttest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fatalRecorder records Fatalf instead of stopping the test.
type fatalRecorder struct {
	testing.TB
	failures []string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func TestWaitFor(t *testing.T) {
	ready := make(chan int, 1)
	ready <- 7
	closed := make(chan int)
	close(closed)

	tests := []struct {
		name        string
		give        chan int
		want        int
		wantFailure string
	}{
		{name: "returns a value that arrived", give: ready, want: 7},
		{name: "fails on a closed channel", give: closed, wantFailure: "channel closed"},
		{name: "fails when nothing arrives", give: make(chan int), wantFailure: "nothing arrived"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &fatalRecorder{TB: t}

			got := WaitFor(rec, tt.give, 10*time.Millisecond)

			assert.Equal(t, tt.want, got)
			if tt.wantFailure == "" {
				assert.Empty(t, rec.failures)
				return
			}
			if assert.Len(t, rec.failures, 1) {
				assert.Contains(t, rec.failures[0], tt.wantFailure)
			}
		})
	}
}
