//go:build soak

package soak

import (
	"testing"
	"time"
)

// TestSoakLong is the long soak, run with the soak build tag:
//
//	go test -tags soak -run TestSoakLong -timeout 30m -v ./internal/soak
//
// Its size comes from RELAY_SOAK_EVENTS, RELAY_SOAK_RECONNECTS,
// RELAY_SOAK_DORMANT, RELAY_SOAK_OUTBOUND, RELAY_SOAK_CHAOS and
// RELAY_SOAK_SEED when set; the defaults are 100000 events, 1000 forced
// reconnects and 100 dormant cycles.
func TestSoakLong(t *testing.T) {
	soak(t, Config{
		Events: 100000, Reconnects: 1000, DormantCycles: 100, Outbound: 20000,
		Chats: 5000, ScopeCapacity: 1024, Settle: 5 * time.Minute,
	}, 25*time.Minute)
}
