package devconnector

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/wire"
)

func TestParseChaos(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    Chaos
		wantErr string
	}{
		{name: "empty spec is no chaos", give: "  "},
		{
			name: "every key",
			give: "drop=0.01,expire=30s,delay=0.05:200ms,noresult=0.01,split=0.3," +
				"batch=0.3,drain=20s",
			want: Chaos{DropRate: 0.01, ExpireEvery: 30 * time.Second, DelayRate: 0.05,
				DelayMax: 200 * time.Millisecond, NoResultRate: 0.01, SplitRate: 0.3,
				BatchRate: 0.3, DrainEvery: 20 * time.Second},
		},
		{
			name: "periods and rates swap",
			give: " drop = 5s , expire = 1 ",
			want: Chaos{DropEvery: 5 * time.Second, ExpireRate: 1},
		},
		{name: "unknown key", give: "explode=1", wantErr: `unknown key (known: drop,`},
		{name: "not key=value", give: "drop", wantErr: `chaos item "drop" is not key=value`},
		{name: "empty value", give: "drop=", wantErr: "is not key=value"},
		{name: "duplicate key", give: "split=0.1,split=0.2", wantErr: `"split" given twice`},
		{name: "rate above one", give: "split=1.5", wantErr: "not a number in [0,1]"},
		{name: "negative rate", give: "noresult=-0.1", wantErr: "not a number in [0,1]"},
		{name: "NaN rate", give: "batch=NaN", wantErr: "not a number in [0,1]"},
		{name: "neither rate nor period", give: "drop=often", wantErr: "neither a rate"},
		{name: "delay without max", give: "delay=0.5", wantErr: "want RATE:MAX"},
		{name: "delay with bad max", give: "delay=0.5:soon", wantErr: "positive duration"},
		{name: "drain is a period", give: "drain=0.5", wantErr: "positive duration"},
		{name: "zero period", give: "drain=0s", wantErr: "positive duration"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseChaos(tt.give)
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

func TestChaosStringReadsBack(t *testing.T) {
	for _, spec := range []string{
		"", "drop=0.01,expire=30s,delay=0.05:200ms,noresult=0.01,split=0.3,batch=0.3,drain=20s",
		"drop=1m0s,expire=0.5",
	} {
		c, err := ParseChaos(spec)
		require.NoError(t, err)
		assert.Equal(t, spec, c.String())
		again, err := ParseChaos(c.String())
		require.NoError(t, err)
		assert.Equal(t, c, again)
	}
}

func TestChaosValidateJoinsProblems(t *testing.T) {
	_, err := New(Config{Open: true, Chaos: Chaos{
		DropRate: 2, DropEvery: time.Second, DelayRate: 0.5, DrainEvery: -time.Second,
	}})
	require.Error(t, err)
	for _, want := range []string{"drop rate 2 is not in [0,1]", "drain period -1s is negative",
		"delay rate set without a maximum", "drop is given both"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.False(t, Chaos{Seed: 7}.Enabled(), "a seed alone injects nothing")
}

// frames returns n short frames of distinct lengths.
func testFrames(n int) []byte {
	var b []byte
	for i := range n {
		b = append(b, `{"type":"x","n":"`...)
		b = append(b, bytes.Repeat([]byte("a"), i)...)
		b = append(b, "\"}\n"...)
	}

	return b
}

func TestChaosPlanIsDeterministicAndKeepsBytes(t *testing.T) {
	cfg := Chaos{DropRate: 0.05, SplitRate: 0.5, BatchRate: 0.5, Seed: 42}
	a, b := newChaosSource(cfg), newChaosSource(cfg)
	cfg.Seed = 43
	other := newChaosSource(cfg)

	batch := testFrames(20)
	differs := false
	for range 200 {
		pa, pb, po := a.plan(batch), b.plan(batch), other.plan(batch)
		require.Equal(t, pa, pb, "the same seed makes the same choices")
		differs = differs || len(pa.msgs) != len(po.msgs) || pa.drop != po.drop

		joined := bytes.Join(pa.msgs, nil)
		if pa.drop {
			assert.True(t, bytes.HasPrefix(batch, joined), "a drop writes a prefix")
		} else {
			assert.Equal(t, batch, joined, "without a drop every byte is written in order")
		}
	}
	assert.True(t, differs, "another seed makes other choices")
}

func TestChaosPlanShapes(t *testing.T) {
	batch := testFrames(5)

	t.Run("batch rate near zero writes one frame per message", func(t *testing.T) {
		p := newChaosSource(Chaos{BatchRate: 1e-12}).plan(batch)
		assert.Len(t, p.msgs, 5)
		assert.Zero(t, p.batched)
	})
	t.Run("batch rate one writes one message", func(t *testing.T) {
		p := newChaosSource(Chaos{BatchRate: 1}).plan(batch)
		assert.Len(t, p.msgs, 1)
		assert.Equal(t, 1, p.batched)
	})
	t.Run("split rate one cuts every message", func(t *testing.T) {
		p := newChaosSource(Chaos{SplitRate: 1}).plan(batch)
		assert.Greater(t, len(p.msgs), 1)
		assert.Equal(t, 1, p.splits)
		assert.Equal(t, batch, bytes.Join(p.msgs, nil))
	})
	t.Run("drop rate one writes at most a prefix of the first frame", func(t *testing.T) {
		p := newChaosSource(Chaos{DropRate: 1}).plan(batch)
		assert.True(t, p.drop)
		assert.Less(t, len(bytes.Join(p.msgs, nil)), bytes.IndexByte(batch, '\n')+1)
	})
}

// abrupt reads until the link ends and requires it ended without a close
// frame.
func (g *testGateway) abrupt() {
	g.t.Helper()
	for {
		_, err := g.read()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		require.False(g.t, errors.As(err, &ce), "want no close frame, got %v", err)

		return
	}
}

func chaosServer(t *testing.T, ch Chaos) *server {
	t.Helper()

	return startServer(t, Config{Secrets: secrets, Chaos: ch})
}

func TestChaosDropsLinksWithoutCloseFrame(t *testing.T) {
	t.Run("by rate", func(t *testing.T) {
		s := chaosServer(t, Chaos{DropRate: 1})
		g := open(t, s, "gw-1", "s3cret-one")
		g.send(wire.AppendHello(nil, domain.Identity{Platform: "discord", BotID: "b"}))
		g.abrupt()
		assert.Equal(t, 1, s.Stats().Chaos.Drops)
	})
	t.Run("by period", func(t *testing.T) {
		// The period runs from the link's start, so on a loaded machine it
		// may end before a handshake: the test does not wait for one.
		s := chaosServer(t, Chaos{DropEvery: 20 * time.Millisecond})
		g := open(t, s, "gw-1", "s3cret-one")
		g.abrupt()
		_, err := s.WaitStats(ctxT(t), func(st Stats) bool {
			return st.Chaos.Drops == 1 && st.Connected == 0
		})
		require.NoError(t, err)
	})
}

func TestChaosExpiresLinksAfterHandshake(t *testing.T) {
	for name, ch := range map[string]Chaos{
		"by rate":   {ExpireRate: 1},
		"by period": {ExpireEvery: 20 * time.Millisecond},
	} {
		t.Run(name, func(t *testing.T) {
			s := chaosServer(t, ch)
			g := connect(t, s, "gw-1", "s3cret-one")
			ce := g.closeError()
			assert.Equal(t, CloseUnauthorized, ce.Code)
			assert.Equal(t, ReasonExpired, ce.Text)
			assert.Equal(t, 1, s.Stats().Chaos.Expired)
		})
	}
}

func TestChaosWithholdsAndDelaysResults(t *testing.T) {
	t.Run("withheld", func(t *testing.T) {
		s := chaosServer(t, Chaos{NoResultRate: 1})
		g := connect(t, s, "gw-1", "s3cret-one")
		frame, err := wire.AppendOutbound(nil, "r-1", sendTo("c", "guild_id", "g"))
		require.NoError(t, err)
		g.send(frame)
		_, err = s.WaitOutbound(ctxT(t), 1)
		require.NoError(t, err)

		// The next frame the gateway sees is the interrupt, not a result.
		require.NoError(t, s.Interrupt("sess", "c"))
		assert.Equal(t, wire.TypeInterruptInbound, g.next().Type)
		assert.Equal(t, 1, s.Stats().Chaos.Withheld)
	})
	t.Run("delayed", func(t *testing.T) {
		s := chaosServer(t, Chaos{DelayRate: 1, DelayMax: 30 * time.Millisecond})
		g := connect(t, s, "gw-1", "s3cret-one")
		f := g.outbound("r-1", sendTo("c", "guild_id", "g"))
		assert.Equal(t, "r-1", f.RequestID)
		assert.Equal(t, 1, s.Stats().Chaos.Delayed)
	})
}

// rawMessages reads WebSocket messages until n frames arrived and returns
// the message count and the frames.
func rawMessages(t *testing.T, g *testGateway, n int) (int, []wire.Frame) {
	t.Helper()
	var split wire.Splitter
	var frames []wire.Frame
	msgs := 0
	for len(frames) < n {
		_ = g.ws.SetReadDeadline(time.Now().Add(waitLimit))
		_, msg, err := g.ws.ReadMessage()
		require.NoError(t, err)
		msgs++
		require.NoError(t, split.Feed(msg, func(line []byte) {
			f, err := wire.DecodeFrame(line)
			require.NoError(t, err)
			frames = append(frames, f)
		}))
	}

	return msgs, frames
}

func TestChaosSplitsAndBatchesMessages(t *testing.T) {
	tests := []struct {
		name      string
		give      Chaos
		wantMsgs  func(msgs int) bool
		wantStats func(ChaosStats) bool
	}{
		{
			name:      "split cuts the descriptor and replay into more messages",
			give:      Chaos{SplitRate: 1, BatchRate: 1},
			wantMsgs:  func(m int) bool { return m > 1 },
			wantStats: func(s ChaosStats) bool { return s.Splits >= 1 },
		},
		{
			name:      "batch one carries everything queued in one message",
			give:      Chaos{BatchRate: 1},
			wantMsgs:  func(m int) bool { return m == 1 },
			wantStats: func(s ChaosStats) bool { return s.Batched == 1 },
		},
		{
			name:      "batch near zero writes one frame per message",
			give:      Chaos{BatchRate: 1e-12},
			wantMsgs:  func(m int) bool { return m == 4 },
			wantStats: func(s ChaosStats) bool { return s.Batched == 0 },
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := chaosServer(t, tt.give)
			for _, text := range []string{"one", "two", "three"} {
				_, err := s.Deliver(dmEvent(text, "dm-1", "u-1"))
				require.NoError(t, err)
			}

			g := open(t, s, "gw-1", "s3cret-one")
			g.send(wire.AppendHello(nil, domain.Identity{Platform: "discord", BotID: "b"}))
			msgs, frames := rawMessages(t, g, 4)
			assert.True(t, tt.wantMsgs(msgs), "messages: %d", msgs)
			require.Len(t, frames, 4)
			assert.Equal(t, wire.TypeDescriptor, frames[0].Type)
			for _, f := range frames[1:] {
				assert.Equal(t, wire.TypeInbound, f.Type)
				assert.NotEmpty(t, f.BufferID)
			}
			assert.True(t, tt.wantStats(s.Stats().Chaos), "%+v", s.Stats().Chaos)
		})
	}
}

func TestChaosDrainBuffersThenClosesGoingAway(t *testing.T) {
	s := chaosServer(t, Chaos{DrainEvery: 20 * time.Millisecond})
	g := connect(t, s, "gw-1", "s3cret-one")
	ce := g.closeError()
	assert.Equal(t, websocket.CloseGoingAway, ce.Code)
	assert.Equal(t, ReasonDrain, ce.Text)
	// Counted before the next link, whose own drain period may end at any
	// time on a loaded machine.
	assert.Equal(t, 1, s.Stats().Chaos.Drains)

	rc, err := s.Deliver(dmEvent("later", "dm-1", "u-1"))
	require.NoError(t, err)
	assert.Equal(t, StatusBuffered, rc.Status)

	g = connect(t, s, "gw-1", "s3cret-one")
	f := g.next()
	assert.Equal(t, rc.BufferID, f.BufferID, "the buffer replays on the next handshake")
}

func TestAlwaysBufferKeepsLiveDeliveriesUntilAcked(t *testing.T) {
	s := startServer(t, Config{Secrets: secrets, AlwaysBuffer: true})
	g := connect(t, s, "gw-1", "s3cret-one")

	rc, err := s.Deliver(dmEvent("hi", "dm-1", "u-1"))
	require.NoError(t, err)
	assert.Equal(t, StatusBuffered, rc.Status)
	f := g.next()
	assert.Equal(t, rc.BufferID, f.BufferID, "written at once, with its bufferId")
	st := s.Stats()
	assert.Equal(t, 1, st.BufferedLive)
	assert.Equal(t, 1, st.Pending)
	assert.Zero(t, st.Delivered)
	g.bye()

	// Not acknowledged: it comes again; acknowledged: it is gone.
	g = connect(t, s, "gw-1", "s3cret-one")
	f = g.next()
	assert.Equal(t, rc.BufferID, f.BufferID)
	g.send(wire.AppendInboundAck(nil, f.BufferID))
	_, err = s.WaitStats(ctxT(t), func(st Stats) bool { return st.Pending == 0 })
	require.NoError(t, err)
}
