package devconnector

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/wire"
)

// goIdle sends going_idle and waits for the acknowledgement.
func (g *testGateway) goIdle() {
	g.t.Helper()
	g.send(wire.AppendGoingIdle(nil))
	require.Equal(g.t, wire.TypeGoingIdleAck, g.next().Type)
}

// inbound reads n inbound frames and returns their texts and buffer ids.
func (g *testGateway) inbound(n int) (texts, ids []string) {
	g.t.Helper()
	for range n {
		f := g.next()
		require.Equal(g.t, wire.TypeInbound, f.Type)
		ev, err := wire.DecodeEvent(f.Event)
		require.NoError(g.t, err)
		texts = append(texts, ev.Text)
		ids = append(ids, f.BufferID)
	}

	return texts, ids
}

func TestGoingIdleBuffersAndReplaysUntilAcked(t *testing.T) {
	s := startServer(t, Config{Secrets: secrets})
	g := connect(t, s, "gw-1", "s3cret-one")
	g.goIdle()

	var receipts []string
	for _, text := range []string{"one", "two", "three"} {
		rc, err := s.Deliver(dmEvent(text, "dm-1", "u-1"))
		require.NoError(t, err)
		require.Equal(t, StatusBuffered, rc.Status)
		require.NotEmpty(t, rc.BufferID)
		receipts = append(receipts, rc.BufferID)
	}
	assert.Len(t, map[string]bool{receipts[0]: true, receipts[1]: true, receipts[2]: true}, 3,
		"buffer ids are unique")
	g.bye()

	// First reconnect: everything replays in order; two are acked.
	g = connect(t, s, "gw-1", "s3cret-one")
	texts, ids := g.inbound(3)
	assert.Equal(t, []string{"one", "two", "three"}, texts)
	assert.Equal(t, receipts, ids)
	g.send(wire.AppendInboundAck(nil, ids[0]), wire.AppendInboundAck(nil, ids[2]))
	_, err := s.WaitStats(ctxT(t), func(st Stats) bool { return st.Acked == 2 })
	require.NoError(t, err)
	g.bye()

	// Second reconnect: only the unacked entry replays, with its id.
	g = connect(t, s, "gw-1", "s3cret-one")
	texts, ids = g.inbound(1)
	assert.Equal(t, []string{"two"}, texts)
	assert.Equal(t, []string{receipts[1]}, ids)
	g.send(wire.AppendInboundAck(nil, ids[0]))
	st, err := s.WaitStats(ctxT(t), func(st Stats) bool { return st.Acked == 3 })
	require.NoError(t, err)
	assert.Zero(t, st.Pending)
	g.bye()

	// Third reconnect: nothing replays; a new delivery is live.
	g = connect(t, s, "gw-1", "s3cret-one")
	defer g.bye()
	rc, err := s.Deliver(dmEvent("four", "dm-1", "u-1"))
	require.NoError(t, err)
	assert.Equal(t, StatusDelivered, rc.Status)
	texts, ids = g.inbound(1)
	assert.Equal(t, []string{"four"}, texts, "no acked entry is delivered again")
	assert.Equal(t, []string{""}, ids)

	st = s.Stats()
	assert.Equal(t, 3, st.Buffered)
	assert.Equal(t, 4, st.Replayed)
	assert.Equal(t, 1, st.Delivered)
}

func TestInboundWhileAwayIsBuffered(t *testing.T) {
	s := startServer(t, Config{Secrets: map[string][]string{
		"gw-1": {"s3cret-one"}, "gw-2": {"s3cret-two"},
	}})

	rc, err := s.Deliver(guildEvent("early", "chan-1", "guild-1", "u-1"))
	require.NoError(t, err)
	assert.Equal(t, StatusBuffered, rc.Status)
	_, err = s.DeliverInteraction([]byte(`{"type":2,"channel_id":"chan-1","guild_id":"guild-1"}`))
	require.NoError(t, err)

	// Nothing named a gateway: the first to complete a handshake takes it.
	g := connect(t, s, "gw-2", "s3cret-two")
	defer g.bye()
	f := g.next()
	assert.Equal(t, wire.TypeInbound, f.Type)
	assert.NotEmpty(t, f.BufferID)
	f = g.next()
	assert.Equal(t, wire.TypePassthroughForward, f.Type)
	assert.NotEmpty(t, f.BufferID)

	// The replay onboarded the guild for that gateway.
	res := g.outbound("r1", sendTo("chan-1", "guild_id", "guild-1"))
	assert.True(t, wire.DecodeResult(res.Result).Success)
}

func TestBufferedEntryIsOnlyOnboardedWhenWritten(t *testing.T) {
	s := startServer(t, Config{Secrets: secrets})
	g := connect(t, s, "gw-1", "s3cret-one")
	defer g.bye()
	g.goIdle()

	_, err := s.Deliver(guildEvent("later", "chan-1", "guild-1", "u-1"))
	require.NoError(t, err)

	res := g.outbound("r1", sendTo("chan-1", "guild_id", "guild-1"))
	assert.Equal(t, DeclinedError, wire.DecodeResult(res.Result).Error)
}
