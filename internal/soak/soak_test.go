package soak

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/relay-go/relay/internal/devconnector"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// soak runs one soak of cfg (overridden from the environment), logs its
// report and checks its promises.
func soak(t *testing.T, cfg Config, limit time.Duration) Report {
	t.Helper()

	cfg, err := ConfigFromEnv(os.Getenv, cfg)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()

	r, err := Run(ctx, cfg)
	t.Logf("soak report:\n%s", r)
	require.NoError(t, err)

	assert.NoError(t, r.Check())
	assert.LessOrEqual(t, r.GoroutinesAfter, r.GoroutinesBefore,
		"goroutines return to their starting level")
	assert.LessOrEqual(t, r.HeapAfter, r.HeapBefore+8<<20,
		"the heap returns to within 8 MiB of its starting level")
	assert.GreaterOrEqual(t, r.Reconnects, cfg.Reconnects)
	assert.GreaterOrEqual(t, r.DormantCycles, cfg.DormantCycles)

	return r
}

// TestSoakShort is the short soak every "go test ./..." runs: a few
// thousand events through tens of forced reconnects and dormant cycles.
func TestSoakShort(t *testing.T) {
	if testing.Short() {
		t.Skip("soak skipped in -short mode")
	}

	soak(t, Config{Events: 10000, Reconnects: 100, DormantCycles: 20, Outbound: 2000},
		45*time.Second)
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		give    map[string]string
		want    Config
		wantErr string
	}{
		{name: "nothing set keeps the base", want: Config{Events: 5, Chaos: devconnector.Chaos{
			Seed: 3}}},
		{
			name: "every variable",
			give: map[string]string{"RELAY_SOAK_EVENTS": "100", "RELAY_SOAK_RECONNECTS": "7",
				"RELAY_SOAK_DORMANT": "2", "RELAY_SOAK_OUTBOUND": "9",
				"RELAY_SOAK_CHAOS": "split=0.5", "RELAY_SOAK_SEED": "11"},
			want: Config{Events: 100, Reconnects: 7, DormantCycles: 2, Outbound: 9,
				Chaos: devconnector.Chaos{SplitRate: 0.5, Seed: 11}},
		},
		{name: "bad count", give: map[string]string{"RELAY_SOAK_EVENTS": "-1"},
			wantErr: `RELAY_SOAK_EVENTS: "-1" is not a positive integer`},
		{name: "bad chaos", give: map[string]string{"RELAY_SOAK_CHAOS": "x=1"},
			wantErr: "RELAY_SOAK_CHAOS: chaos x=1: unknown key"},
		{name: "bad seed", give: map[string]string{"RELAY_SOAK_SEED": "s"},
			wantErr: `RELAY_SOAK_SEED: "s" is not an unsigned integer`},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := Config{Events: 5, Chaos: devconnector.Chaos{Seed: 3}}
			got, err := ConfigFromEnv(func(k string) string { return tt.give[k] }, base)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)

				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestReportCheckNamesEveryBrokenPromise(t *testing.T) {
	r := Report{Events: 3, Acked: 2, Lost: 1, Duplicated: 2, Hung: 1, ScopeLen: 5,
		ScopeCapacity: 4}
	err := r.Check()
	require.Error(t, err)
	for _, want := range []string{"1 lost", "2 duplicated", "1 hung", "over its capacity 4",
		"3 events but 2 acknowledged"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NoError(t, Report{Events: 2, Acked: 2, Redelivered: 5}.Check(),
		"redeliveries after a lost ack are allowed")
}
