package memory

import (
	"context"

	"go.uber.org/fx"

	"github.com/relay-go/relay/ports"
)

// Module returns an fx option that provides a *Connector and the Transport
// linked to it as a ports.Transport, both configured by cfg. The transport
// is not connected by the module: whoever consumes ports.Transport calls
// Connect. An OnStop hook disconnects the transport (Disconnect is
// idempotent, so a consumer that disconnects first is fine).
func Module(cfg Config) fx.Option {
	return fx.Module("memory_transport",
		fx.Provide(func(lc fx.Lifecycle) (*Connector, ports.Transport) {
			tr, conn := NewPair(cfg)
			lc.Append(fx.Hook{
				OnStop: func(ctx context.Context) error { return tr.Disconnect(ctx) },
			})

			return conn, tr
		}),
	)
}
