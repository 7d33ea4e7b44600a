package app

import (
	"log/slog"

	"go.uber.org/fx"

	"github.com/relay-go/relay/ports"
)

// Module provides the *Adapter to an fx application and ties it to the
// application's lifecycle: Connect on start, Disconnect on stop.
//
// The graph must supply a ports.Transport. It may supply a
// ports.SessionInterrupter, ports.FatalNotifier, ports.ScopeStore,
// ports.Metrics and *slog.Logger; each missing one takes its Config default.
// A Config in the graph sets the descriptor placeholder, the queue capacity
// and the idle timeout; its port fields are used only where the graph has
// none.
//
// The event sink is bound separately so that it can depend on the adapter
// it replies through; add one line to the application:
//
//	app.WithSink(NewGateway) // NewGateway(*app.Adapter, ...) *Gateway
//
// A sink already in the graph as a ports.EventSink is bound with
// fx.Invoke((*app.Adapter).BindSink) instead.
//
// The sink is built after the adapter, so its own start hooks run after the
// adapter connected and its stop hooks before the adapter disconnects.
var Module = fx.Module("relay",
	fx.Provide(newFxAdapter),
	fx.Invoke(func(*Adapter) {}),
)

// fxParams are the adapter's dependencies in an fx graph.
type fxParams struct {
	fx.In

	Lifecycle   fx.Lifecycle
	Transport   ports.Transport
	Config      Config                   `optional:"true"`
	Interrupter ports.SessionInterrupter `optional:"true"`
	Notifier    ports.FatalNotifier      `optional:"true"`
	Store       ports.ScopeStore         `optional:"true"`
	Metrics     ports.Metrics            `optional:"true"`
	Logger      *slog.Logger             `optional:"true"`
}

func newFxAdapter(p fxParams) (*Adapter, error) {
	cfg := p.Config
	cfg.Transport = p.Transport

	if p.Interrupter != nil {
		cfg.Interrupter = p.Interrupter
	}

	if p.Notifier != nil {
		cfg.Notifier = p.Notifier
	}

	if p.Store != nil {
		cfg.Store = p.Store
	}

	if p.Metrics != nil {
		cfg.Metrics = p.Metrics
	}

	if p.Logger != nil {
		cfg.Logger = p.Logger
	}

	a, err := NewAdapter(cfg)
	if err != nil {
		return nil, err
	}

	p.Lifecycle.Append(fx.Hook{
		OnStart: a.Connect,
		OnStop:  a.Disconnect,
	})

	return a, nil
}

// sinkName tags the sink WithSink provides, so it cannot clash with other
// EventSink values in the graph.
const sinkName = `name:"relay_sink"`

// WithSink builds the event sink with constructor, an fx constructor that
// may take the *Adapter among its parameters and returns a value that
// implements ports.EventSink (optionally with an error), and binds it to the
// adapter before the application starts. Use it once per application,
// together with Module.
func WithSink(constructor any) fx.Option {
	return fx.Options(
		fx.Provide(fx.Annotate(constructor,
			fx.As(new(ports.EventSink)),
			fx.ResultTags(sinkName))),
		fx.Invoke(fx.Annotate(
			func(a *Adapter, s ports.EventSink) error { return a.BindSink(s) },
			fx.ParamTags(``, sinkName))),
	)
}
