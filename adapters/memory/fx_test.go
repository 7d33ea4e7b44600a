package memory_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/relay-go/relay/adapters/memory"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
)

func TestModuleProvidesALinkedPair(t *testing.T) {
	var (
		tr   ports.Transport
		conn *memory.Connector
	)
	app := fxtest.New(t,
		memory.Module(memory.Config{Logger: testLogger(t)}),
		fx.Populate(&tr, &conn),
	)
	app.RequireStart()
	ctx := testContext(t)

	require.NoError(t, tr.Connect(ctx))
	_, err := tr.Handshake(ctx)
	require.NoError(t, err)
	assert.True(t, tr.SendOutbound(ctx, domain.Action{Op: domain.OpSend}).Success)
	assert.Len(t, conn.Outbounds(), 1, "the transport is linked to the provided connector")

	app.RequireStop()

	assert.Equal(t, domain.ResultClosed, tr.SendOutbound(ctx, domain.Action{Op: domain.OpSend}))
	assert.False(t, conn.Connected())
}
