package wsrelay_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/adapters/wsrelay/wsrelaytest"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/wire"
)

func TestDescriptorsKeepOnlyHellodPlatforms(t *testing.T) {
	srv := wsrelaytest.NewServer(t, wsrelaytest.WithoutDescriptors())
	cfg := testConfig(srv)
	cfg.HandshakeTimeout = waitTimeout // the flood is read before the handshake
	tr := newTransport(t, cfg)
	ctx := testCtx(t)
	require.NoError(t, tr.Connect(ctx))
	require.NoError(t, srv.WaitConnections(ctx, 1))

	const flood = 200
	var b []byte
	for i := range flood {
		frame, err := wire.AppendDescriptor(nil, wsrelaytest.DefaultDescriptor(fmt.Sprintf("p-%d", i)))
		require.NoError(t, err)
		b = append(b, frame...)
	}
	require.NoError(t, srv.Send(b))
	discord := srv.Descriptor("discord")
	require.NoError(t, srv.SendDescriptor(discord))

	d, err := tr.Handshake(ctx)
	require.NoError(t, err)
	assert.Equal(t, discord, d, "a descriptor for a platform never hello'd completes nothing")
	assert.Equal(t, map[string]domain.Descriptor{"discord": discord}, tr.Descriptors())
	_, ok := tr.Descriptor("p-0")
	assert.False(t, ok)
}

func TestLaterDescriptorForAPlatformReplacesIt(t *testing.T) {
	srv := wsrelaytest.NewServer(t)
	tr := newTransport(t, testConfig(srv))
	first := connectAndHandshake(t, tr)

	updated := first
	updated.Label = "renamed"
	require.NoError(t, srv.SendDescriptor(updated))
	// A round trip orders after the descriptor on the same link.
	require.True(t, tr.SendOutbound(testCtx(t), sendAction("sync")).Success)

	got, ok := tr.Descriptor("discord")
	require.True(t, ok)
	assert.Equal(t, updated, got)
	again, err := tr.Handshake(testCtx(t))
	require.NoError(t, err)
	assert.Equal(t, first, again, "the handshake keeps the first descriptor")
}
