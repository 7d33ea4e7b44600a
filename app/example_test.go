package app_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/fx"

	"github.com/relay-go/relay/adapters/memory"
	"github.com/relay-go/relay/app"
	"github.com/relay-go/relay/domain"
)

// echoGateway is a sink that replies through the adapter it receives
// events from.
type echoGateway struct {
	relay *app.Adapter
}

func newEchoGateway(relay *app.Adapter) *echoGateway {
	return &echoGateway{relay: relay}
}

func (g *echoGateway) HandleMessage(ctx context.Context, ev domain.MessageEvent) error {
	res := g.relay.Send(ctx, ev.Source.ChatID, "echo: "+ev.Text, app.SendOptions{})
	if !res.Success {
		return errors.New(res.Error)
	}

	return nil
}

// The adapter in an fx application, over the in-memory transport. The sink
// depends on the adapter it replies through; app.WithSink binds it without a
// dependency cycle.
func Example() {
	var connector *memory.Connector

	application := fx.New(
		fx.NopLogger,
		memory.Module(memory.Config{}),
		app.Module,
		app.WithSink(newEchoGateway),
		fx.Populate(&connector),
	)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if err := application.Start(ctx); err != nil {
		fmt.Println("start:", err)

		return
	}

	// A message arrives from a Discord guild channel.
	connector.Publish(domain.MessageEvent{
		Text:   "hello",
		Source: domain.SessionSource{Platform: "discord", ChatID: "c1", GuildID: "g1"},
	})

	// The reply carries the guild the connector needs to route it.
	out, err := connector.NextOutbound(ctx)
	if err != nil {
		fmt.Println("outbound:", err)

		return
	}

	fmt.Println(out.Action.Op, out.Action.ChatID, out.Action.Content,
		out.Action.Metadata["guild_id"])

	if err := application.Stop(ctx); err != nil {
		fmt.Println("stop:", err)
	}

	// Output: send c1 echo: hello g1
}
