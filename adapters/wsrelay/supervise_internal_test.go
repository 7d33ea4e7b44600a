package wsrelay

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/adapters/wsrelay/wsrelaytest"
	"github.com/relay-go/relay/domain"
)

// TestSupervisorNeverDialsWhileDisconnectDrains holds the transport in the
// state Disconnect leaves it in while it drains (closing, not yet
// cancelled), which an outside test can only reach by a narrow race, and
// checks that the link's end does not lead to a dial.
func TestSupervisorNeverDialsWhileDisconnectDrains(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	tr, err := New(Config{
		URL:        srv.URL(),
		Identities: []domain.Identity{{Platform: "discord", BotID: "bot-1"}},
		After: func(time.Duration) <-chan time.Time {
			ch := make(chan time.Time, 1)
			ch <- time.Now()
			return ch
		},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, tr.Connect(ctx))
	_, err = tr.Handshake(ctx)
	require.NoError(t, err)

	tr.mu.Lock()
	tr.closing = true
	stopped := tr.linkUp
	tr.mu.Unlock()
	require.NoError(t, srv.Drop())

	select {
	case <-stopped:
	case <-time.After(2 * time.Second):
		t.Error("the supervisor went on while the transport was closing")
	}
	assert.Equal(t, 1, srv.DialCount())

	tr.mu.Lock()
	tr.closing = false
	tr.mu.Unlock()
	require.NoError(t, tr.Disconnect(ctx))
}
