package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/relay-go/relay/internal/bench"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func startHarness(t testing.TB) *bench.Harness {
	t.Helper()

	h, err := bench.Start(context.Background(), nil)
	require.NoError(t, err)

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		assert.NoError(t, h.Close(ctx))
	})

	return h
}

func smallOptions() bench.Options {
	return bench.Options{
		Plan:    bench.Plan{Events: 300, Chats: 20, Size: 64, Window: 50},
		Timeout: 10 * time.Second,
	}
}

func TestCompareAnswersEveryEventOnBothClients(t *testing.T) {
	h := startHarness(t)

	cmp, err := h.Compare(context.Background(), smallOptions(), 1)
	require.NoError(t, err)
	require.Len(t, cmp.Rounds, 2)

	for _, r := range []bench.Result{cmp.Bare, cmp.Relay} {
		assert.Equal(t, 300, r.Replies, r.Client)
		assert.Zero(t, r.Duplicates, r.Client)
		assert.Zero(t, r.Unmatched, r.Client)
		assert.Zero(t, r.Refused, r.Client)
		assert.Positive(t, r.EventsPerSec, r.Client)
		assert.Positive(t, r.Latency.P50, r.Client)
		assert.LessOrEqual(t, r.Latency.P50, r.Latency.P99, r.Client)
		assert.LessOrEqual(t, r.Latency.P99, r.Latency.Max, r.Client)
		assert.Positive(t, r.AllocsPerEvent, r.Client)
		assert.Positive(t, r.PeakRSS, r.Client)
	}

	assert.Equal(t, bench.ClientBare, cmp.Rounds[0].Client)
	assert.Equal(t, bench.ClientRelay, cmp.Rounds[1].Client)
	assert.Positive(t, cmp.Ratio)
}

func TestRateBoundsTheOfferedLoad(t *testing.T) {
	h := startHarness(t)

	o := smallOptions()
	o.Events = 40
	o.Rate = 400 // 40 events take at least ~100 ms

	r, err := h.RunRelay(context.Background(), o)
	require.NoError(t, err)

	assert.Equal(t, 40, r.Replies)
	assert.GreaterOrEqual(t, r.Elapsed, 90*time.Millisecond)
	assert.LessOrEqual(t, r.EventsPerSec, 450.0)
}

func TestRunRejectsAnInvalidPlan(t *testing.T) {
	h := startHarness(t)

	tests := []struct {
		name string
		give bench.Plan
		want string
	}{
		{name: "no events", give: bench.Plan{Chats: 1, Size: 1, Window: 1},
			want: "events 0 must be positive"},
		{name: "no window", give: bench.Plan{Events: 1, Chats: 1, Size: 1},
			want: "window 0 must be positive"},
		{name: "negative rate", give: bench.Plan{Events: 1, Chats: 1, Size: 1, Window: 1,
			Rate: -1}, want: "rate -1 must not be negative"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.RunRelay(context.Background(), bench.Options{Plan: tt.give})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestIdleGatewayReportsMemoryAndCPU(t *testing.T) {
	h := startHarness(t)

	r, err := h.Idle(context.Background(), 50*time.Millisecond, smallOptions())
	require.NoError(t, err)

	assert.Positive(t, r.RSS)
	assert.Positive(t, r.HeapInUse)
	assert.Equal(t, 50*time.Millisecond, r.Duration)
}

func benchOptions(n int) bench.Options {
	return bench.Options{
		Plan:    bench.Plan{Events: n, Chats: 1000, Size: 200, Window: 1000},
		Timeout: time.Minute,
	}
}

// BenchmarkEchoRelay floods the production gateway stack (wsrelay, relay
// adapter, echo agent) over loopback with b.N events across 1000 chats.
// Allocations include the in-process connector's.
func BenchmarkEchoRelay(b *testing.B) {
	h := startHarness(b)

	b.ReportAllocs()
	b.ResetTimer()

	r, err := h.RunRelay(context.Background(), benchOptions(max(b.N, 1)))
	require.NoError(b, err)
	b.ReportMetric(r.EventsPerSec, "events/s")
	b.ReportMetric(float64(r.Latency.P99.Microseconds()), "p99-µs")
	b.ReportMetric(float64(r.CPUPerEvent.Nanoseconds())/1e3, "cpu-µs/event")
	b.ReportMetric(r.RepliesPerMessage, "replies/msg")
}

// BenchmarkEchoBare floods the bare client like BenchmarkEchoRelay.
func BenchmarkEchoBare(b *testing.B) {
	h := startHarness(b)

	b.ReportAllocs()
	b.ResetTimer()

	r, err := h.RunBare(context.Background(), benchOptions(max(b.N, 1)))
	require.NoError(b, err)
	b.ReportMetric(r.EventsPerSec, "events/s")
	b.ReportMetric(float64(r.Latency.P99.Microseconds()), "p99-µs")
	b.ReportMetric(float64(r.CPUPerEvent.Nanoseconds())/1e3, "cpu-µs/event")
	b.ReportMetric(r.RepliesPerMessage, "replies/msg")
}
