package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runBenchJSON runs "relay bench" with args plus --json and decodes the
// report.
func runBenchJSON(t *testing.T, args ...string) (benchReport, int, string) {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var stdout, stderr bytes.Buffer
	code := dispatch(ctx, append([]string{"bench", "--json"}, args...), fakeEnv(nil),
		&stdout, &stderr)

	var rep benchReport
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &rep), "stdout: %s", stdout.String())

	return rep, code, stderr.String()
}

func TestBenchFloodReportsSaneFigures(t *testing.T) {
	rep, code, stderr := runBenchJSON(t,
		"--events", "300", "--chats", "20", "--size", "50", "--rounds", "1", "--latency")
	require.Equal(t, exitOK, code, stderr)
	require.NotNil(t, rep.Comparison)

	cmp := rep.Comparison
	require.Len(t, cmp.Rounds, 2)
	assert.Equal(t, "bare", cmp.Rounds[0].Client)
	assert.Equal(t, "relay", cmp.Rounds[1].Client)
	assert.Positive(t, cmp.Ratio)

	require.NotNil(t, rep.Latency)
	for _, r := range []struct {
		name string
		give int
	}{
		{"bare", cmp.Bare.Replies}, {"relay", cmp.Relay.Replies}, {"latency", rep.Latency.Replies},
	} {
		assert.Equal(t, 300, r.give, r.name)
	}

	for _, r := range append(cmp.Rounds, *rep.Latency) {
		assert.Positive(t, r.EventsPerSec, r.Client)
		assert.Positive(t, r.Latency.P50, r.Client)
		assert.LessOrEqual(t, r.Latency.P50, r.Latency.P90, r.Client)
		assert.LessOrEqual(t, r.Latency.P90, r.Latency.P99, r.Client)
		assert.LessOrEqual(t, r.Latency.P99, r.Latency.Max, r.Client)
		assert.Positive(t, r.AllocsPerEvent, r.Client)
		assert.Positive(t, r.BytesPerEvent, r.Client)
		assert.Positive(t, r.PeakRSS, r.Client)
		assert.Zero(t, r.Duplicates+r.Unmatched, r.Client)
	}

	// The latency run offers half the relay's measured throughput.
	assert.InDelta(t, cmp.Relay.EventsPerSec/2, rep.Latency.EventsPerSec,
		cmp.Relay.EventsPerSec/2)
}

func TestBenchIdleReportsRSSAndCPU(t *testing.T) {
	rep, code, stderr := runBenchJSON(t, "--idle", "100ms")
	require.Equal(t, exitOK, code, stderr)
	require.NotNil(t, rep.Idle)

	assert.Nil(t, rep.Comparison)
	assert.Equal(t, 100*time.Millisecond, rep.Idle.Duration)
	assert.Positive(t, rep.Idle.RSS)
	assert.Positive(t, rep.Idle.Goroutines)
}

func TestBenchTextReportNamesTheRatio(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := dispatch(context.Background(),
		[]string{"bench", "--events", "100", "--chats", "10", "--rounds", "1"},
		fakeEnv(map[string]string{"RELAY_BENCH_SIZE": "20"}), &stdout, &stderr)
	require.Equal(t, exitOK, code, stderr.String())

	out := stdout.String()
	assert.Contains(t, out, "20-byte texts")
	assert.Contains(t, out, "relay/bare throughput ratio:")
	assert.Contains(t, out, "in-process connector's share is included")
}

func TestBenchUsage(t *testing.T) {
	tests := []struct {
		name     string
		give     []string
		env      map[string]string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{name: "help documents flags and variables", give: []string{"--help"},
			wantCode: exitOK, wantOut: "env RELAY_BENCH_EVENTS; default 20000"},
		{name: "zero events", give: []string{"--events", "0"},
			wantCode: exitUsage, wantErr: "--events must be positive, got 0"},
		{name: "negative rate", give: []string{"--rate", "-1"},
			wantCode: exitUsage, wantErr: "--rate must not be negative"},
		{name: "bad chats from env", env: map[string]string{"RELAY_BENCH_CHATS": "many"},
			wantCode: exitUsage, wantErr: "invalid value for RELAY_BENCH_CHATS"},
		{name: "bad log level", give: []string{"--log-level", "loud"},
			wantCode: exitUsage, wantErr: `log level "loud"`},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := dispatch(context.Background(), append([]string{"bench"}, tt.give...),
				fakeEnv(tt.env), &stdout, &stderr)

			assert.Equal(t, tt.wantCode, code)
			assert.Contains(t, stdout.String(), tt.wantOut)
			assert.Contains(t, stderr.String(), tt.wantErr)
		})
	}
}
