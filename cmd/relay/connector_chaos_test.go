package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/internal/devconnector"
)

func TestConnectorChaosFlags(t *testing.T) {
	tests := []struct {
		name      string
		give      []string
		env       map[string]string
		want      devconnector.Chaos
		wantBuf   bool
		wantErr   string
		wantUsage bool
	}{
		{name: "no chaos by default", give: []string{"--open"},
			want: devconnector.Chaos{Seed: 1}},
		{name: "spec and seed from flags",
			give: []string{"--open", "--chaos", "drop=0.5,drain=2s", "--seed", "42"},
			want: devconnector.Chaos{DropRate: 0.5, DrainEvery: 2 * time.Second, Seed: 42}},
		{name: "spec, seed and buffering from the environment", give: []string{"--open"},
			env: map[string]string{"RELAY_CHAOS": "noresult=0.1", "RELAY_CHAOS_SEED": "7",
				"RELAY_CONNECTOR_ALWAYS_BUFFER": "true"},
			want:    devconnector.Chaos{NoResultRate: 0.1, Seed: 7},
			wantBuf: true},
		{name: "unknown chaos key", give: []string{"--open", "--chaos", "boom=1"},
			wantErr: "--chaos (or RELAY_CHAOS): chaos boom=1: unknown key", wantUsage: true},
		{name: "bad chaos rate from the environment", give: []string{"--open"},
			env:     map[string]string{"RELAY_CHAOS": "split=2"},
			wantErr: "not a number in [0,1]", wantUsage: true},
		{name: "bad seed", give: []string{"--open", "--seed", "-1"},
			wantErr:   `--seed (or RELAY_CHAOS_SEED): "-1" is not an unsigned integer`,
			wantUsage: true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := func(k string) string { return tt.env[k] }
			if tt.wantUsage {
				var stdout, stderr bytes.Buffer
				code := runConnector(context.Background(), tt.give, env, &stdout, &stderr)
				assert.Equal(t, exitUsage, code)
				assert.Contains(t, stderr.String(), tt.wantErr)
				assert.Equal(t, 1, strings.Count(stderr.String(), "\n"), "one line")

				return
			}

			o, err := parseConnectorFlags(tt.give, env, &bytes.Buffer{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, o.chaos)
			cfg, err := connectorConfig(o)
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg.Chaos)
			assert.Equal(t, tt.wantBuf, cfg.AlwaysBuffer)
		})
	}
}

func TestConnectorHelpDocumentsChaos(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := runConnector(context.Background(), []string{"--help"}, noEnv, &stdout, &stderr)
	assert.Equal(t, exitOK, code)
	for _, want := range []string{"--chaos SPEC", "RELAY_CHAOS", "--seed N", "RELAY_CHAOS_SEED",
		"--always-buffer", "drop=RATE|PERIOD", "drain=PERIOD", "noresult=RATE"} {
		assert.Contains(t, stdout.String(), want)
	}
}

func TestConnectorLogsChaosAtStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := newWatchedBuffer()
	done := make(chan int, 1)
	go func() {
		done <- runConnector(ctx, []string{"--open", "--listen", "127.0.0.1:0",
			"--chaos", "split=0.5", "--seed", "9"}, noEnv, &bytes.Buffer{}, stderr)
	}()

	stderr.waitMatch(t, regexp.MustCompile(`"connector listening"`))
	assert.Contains(t, stderr.String(), `"chaos enabled" chaos="split=0.5" seed=9`)
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, exitOK, code)
	case <-time.After(testWait):
		t.Fatal("connector did not stop")
	}
}
