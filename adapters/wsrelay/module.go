package wsrelay

import (
	"context"

	"go.uber.org/fx"

	"github.com/relay-go/relay/ports"
)

// Module provides the WebSocket transport to an fx application. It takes a
// Config from the graph and provides both *Transport and ports.Transport
// (the same value). The transport is not connected by the module: the
// consumer calls Connect. An OnStop hook disconnects it, bounded by fx's
// stop timeout.
//
//	fx.New(wsrelay.Provide(cfg), ...)
var Module = fx.Module("wsrelay",
	fx.Provide(
		newForFx,
		func(t *Transport) ports.Transport { return t },
	),
)

// Provide supplies cfg and includes Module: one line wires the transport.
func Provide(cfg Config) fx.Option {
	return fx.Options(fx.Supply(cfg), Module)
}

func newForFx(lc fx.Lifecycle, cfg Config) (*Transport, error) {
	t, err := New(cfg)
	if err != nil {
		return nil, err
	}

	lc.Append(fx.Hook{
		OnStop: func(ctx context.Context) error { return t.Disconnect(ctx) },
	})

	return t, nil
}
