package app_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/relay-go/relay/adapters/memory"
	"github.com/relay-go/relay/app"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/mocks"
	"github.com/relay-go/relay/ports"
)

func TestModuleConnectsOnStartAndDisconnectsOnStop(t *testing.T) {
	var (
		relay     *app.Adapter
		connector *memory.Connector
	)

	application := fxtest.New(t,
		fx.NopLogger,
		memory.Module(memory.Config{}),
		app.Module,
		app.WithSink(newEchoGateway),
		fx.Populate(&relay, &connector),
	)

	require.False(t, connector.Connected(), "constructors start nothing")

	// Published while no gateway is connected: buffered by the connector.
	bufID := connector.Publish(event("c0", "early"))
	require.NotEmpty(t, bufID)

	application.RequireStart()
	assert.True(t, connector.Connected())
	assert.Equal(t, "discord", relay.Descriptor().Platform)

	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()

	// The replayed delivery is acked once the sink replied.
	out, err := connector.NextOutbound(ctx)
	require.NoError(t, err)
	assert.Equal(t, "echo: early", out.Action.Content)

	ack, err := connector.NextAck(ctx)
	require.NoError(t, err)
	assert.Equal(t, bufID, ack)

	require.Empty(t, connector.Publish(event("c1", "hi")), "delivered live")

	out, err = connector.NextOutbound(ctx)
	require.NoError(t, err)
	assert.Equal(t, "echo: hi", out.Action.Content)

	application.RequireStop()
	assert.False(t, connector.Connected())
	assert.True(t, connector.Idle(), "went idle before closing")
}

func TestModuleUsesOptionalPorts(t *testing.T) {
	var (
		relay     *app.Adapter
		connector *memory.Connector
	)

	interrupted := make(chan string, 1)
	interrupter := mocks.NewSessionInterrupter(t)
	interrupter.EXPECT().InterruptSession(mock.Anything, "s1", "c1").
		RunAndReturn(func(_ context.Context, key, _ string) error {
			interrupted <- key

			return nil
		}).Once()

	store := mocks.NewScopeStore(t)
	store.EXPECT().Remember("c1", domain.Discriminator{Scope: "g1"}).Return().Once()

	metrics := mocks.NewMetrics(t)
	metrics.EXPECT().InboundEvent().Return().Once()

	sink := newRecordingSink()
	logs := &logBuffer{}

	application := fxtest.New(t,
		fx.NopLogger,
		memory.Module(memory.Config{}),
		app.Module,
		fx.Supply(
			app.Config{Descriptor: domain.Descriptor{MaxMessageLength: 77}},
			fx.Annotate(interrupter, fx.As(new(ports.SessionInterrupter))),
			fx.Annotate(store, fx.As(new(ports.ScopeStore))),
			fx.Annotate(metrics, fx.As(new(ports.Metrics))),
			fx.Annotate(ports.EventSink(sink), fx.As(new(ports.EventSink))),
			newLogger(logs),
		),
		fx.Invoke((*app.Adapter).BindSink),
		fx.Populate(&relay, &connector),
	)

	assert.Equal(t, 77, relay.MaxMessageLength(), "the graph's config is used")

	application.RequireStart()

	ev := event("c1", "x")
	ev.Source.GuildID = "g1"
	require.NoError(t, connector.PushInbound(ev, ""))
	recv(t, sink.got)

	require.NoError(t, connector.PushInterrupt("s1", "c1"))
	assert.Equal(t, "s1", recv(t, interrupted))

	application.RequireStop()
	assert.Contains(t, logs.String(), "relay connected")
}

func TestModuleErrors(t *testing.T) {
	tests := []struct {
		name    string
		give    fx.Option
		wantErr string
	}{
		{
			name:    "no transport",
			give:    fx.Options(app.Module, app.WithSink(newEchoGateway)),
			wantErr: "ports.Transport",
		},
		{
			name: "invalid config",
			give: fx.Options(
				memory.Module(memory.Config{}),
				app.Module,
				fx.Supply(app.Config{QueueCapacity: -1}),
			),
			wantErr: "queue capacity -1 is negative",
		},
		{
			name: "sink constructor fails",
			give: fx.Options(
				memory.Module(memory.Config{}),
				app.Module,
				app.WithSink(func(*app.Adapter) (*echoGateway, error) {
					return nil, errors.New("no gateway today")
				}),
			),
			wantErr: "no gateway today",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			application := fx.New(fx.NopLogger, tt.give)
			require.Error(t, application.Err())
			assert.ErrorContains(t, application.Err(), tt.wantErr)
		})
	}
}

func TestModuleStartFailsWithoutSink(t *testing.T) {
	application := fx.New(
		fx.NopLogger,
		memory.Module(memory.Config{}),
		app.Module,
		fx.Supply(slog.New(slog.DiscardHandler)),
	)
	require.NoError(t, application.Err())

	err := application.Start(context.Background())
	require.ErrorIs(t, err, app.ErrNoSink)
	require.NoError(t, application.Stop(context.Background()))
}
