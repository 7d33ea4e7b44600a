package wsrelay

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/domain"
)

func TestHalfJitterStaysWithinHalfToFull(t *testing.T) {
	tests := []struct {
		name string
		give time.Duration
	}{
		{name: "zero", give: 0},
		{name: "one nanosecond", give: 1},
		{name: "one second", give: time.Second},
		{name: "thirty seconds", give: 30 * time.Second},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 200 {
				got := halfJitter(tt.give)
				assert.GreaterOrEqual(t, got, tt.give/2)
				assert.LessOrEqual(t, got, tt.give)
			}
		})
	}
}

func TestDefaultsApply(t *testing.T) {
	tr, err := New(Config{URL: "https://connector.example/", Identities: []domain.Identity{
		{Platform: "discord"},
	}})
	require.NoError(t, err)

	c := tr.cfg
	assert.Equal(t, "wss://connector.example/relay", tr.url)
	assert.Equal(t, 30*time.Second, c.HandshakeTimeout)
	assert.Equal(t, 30*time.Second, c.OutboundTimeout)
	assert.Equal(t, 30*time.Second, c.PingInterval)
	assert.Equal(t, 60*time.Second, c.ReadTimeout)
	assert.Equal(t, 10*time.Second, c.WriteTimeout)
	assert.Equal(t, int64(4<<20), c.ReadLimit)
	assert.Equal(t, 5*time.Second, c.IdleAckTimeout)
	assert.Equal(t, 5*time.Second, c.DrainGrace)
	assert.Equal(t, time.Second, c.BackoffMin)
	assert.Equal(t, 30*time.Second, c.BackoffMax)
	assert.Equal(t, time.Minute, c.StableAfter)
	assert.False(t, c.DisableReconnect)
}

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	tr := &Transport{cfg: Config{BackoffMin: time.Second, BackoffMax: 30 * time.Second}}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30}

	for step, w := range want {
		assert.Equal(t, w*time.Second, tr.backoff(step), "step %d", step)
	}
	assert.Equal(t, 30*time.Second, tr.backoff(1000), "no overflow on a long outage")
}
