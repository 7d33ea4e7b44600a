package app

import (
	"context"
	"fmt"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
)

// onInbound runs on the transport's reader: it counts the event, remembers
// the chat's scope and queues the event for the sink.
func (a *Adapter) onInbound(ev domain.MessageEvent, d ports.Delivery) {
	a.metrics.InboundEvent()
	a.capture(ev)
	a.enqueue(ev, d)
}

// capture remembers the egress discriminator an inbound event shows. It
// never fails the inbound: a panicking store is logged and ignored.
func (a *Adapter) capture(ev domain.MessageEvent) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Warn("relay scope capture failed",
				"chat_id", ev.Source.ChatID, "panic", r)
		}
	}()

	if chatID, disc, ok := domain.CaptureDiscriminator(ev); ok {
		a.store.Remember(chatID, disc)
	}
}

// enqueue hands an event to its chat's queue, or refuses it when the queue
// is full or the adapter is shutting down. A refused delivery is not
// acknowledged.
func (a *Adapter) enqueue(ev domain.MessageEvent, d ports.Delivery) bool {
	chatID := ev.Source.ChatID
	if a.dispatch.enqueue(chatID, delivery{ev: ev, d: d}) {
		return true
	}

	a.refused.Add(1)

	if a.refusals != nil {
		a.refusals.InboundRefused()
	}

	if d.Buffered() {
		a.log.Warn("relay inbound refused, queue full or stopped; left for replay",
			"chat_id", chatID, "buffered", true)
	} else {
		a.log.Warn("relay inbound refused, queue full or stopped; live event lost",
			"chat_id", chatID, "buffered", false)
	}

	return false
}

// deliver hands one queued event to the sink and acknowledges a buffered
// delivery once the sink accepted it. It runs on the chat's worker.
func (a *Adapter) deliver(ctx context.Context, it delivery) {
	chatID := it.ev.Source.ChatID

	box := a.sink.Load()
	if box == nil {
		a.log.Warn("relay inbound dropped, no sink bound", "chat_id", chatID)

		return
	}

	if err := handleSafely(ctx, box.sink, it.ev); err != nil {
		a.log.Warn("relay sink did not accept inbound",
			"chat_id", chatID, "buffered", it.d.Buffered(), "error", err)

		return
	}

	it.d.Ack()
}

func handleSafely(ctx context.Context, sink ports.EventSink, ev domain.MessageEvent) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sink panicked: %v", r)
		}
	}()

	return sink.HandleMessage(ctx, ev)
}

// onInterrupt runs on the transport's reader: it stops the named session's
// running turn and leaves every other session alone. The interrupter gets
// at most the configured interrupt timeout, as the reader waits for it.
func (a *Adapter) onInterrupt(sessionKey, chatID string) {
	if a.interrupt == nil {
		a.log.Warn("relay interrupt dropped, no session interrupter",
			"session_key", sessionKey, "chat_id", chatID)

		return
	}

	defer func() {
		if r := recover(); r != nil {
			a.log.Warn("relay interrupt panicked",
				"session_key", sessionKey, "chat_id", chatID, "panic", r)
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), a.interruptTimeout)
	defer cancel()

	if err := a.interrupt.InterruptSession(ctx, sessionKey, chatID); err != nil {
		a.log.Warn("relay interrupt failed",
			"session_key", sessionKey, "chat_id", chatID, "error", err)
	}
}

// onForward runs on the transport's reader. A Discord interaction becomes a
// message event: its scope is captured and it is queued like any inbound
// message, so a buffered forward is acknowledged only once the sink accepted
// it, and counted as an inbound event. A forward nobody can handle (another
// platform, or a body that is not an interaction) is logged, acknowledged
// so the connector does not replay it forever, and not counted. A panic is
// recovered and logged; the forward is then acknowledged too, as a replay
// would fail the same way.
func (a *Adapter) onForward(f domain.Forward, d ports.Delivery) {
	queued := false

	defer func() {
		if r := recover(); r != nil {
			a.log.Warn("relay forward handling failed",
				"platform", f.Platform, "method", f.Method, "path", f.Path, "panic", r)

			if !queued {
				d.Ack()
			}
		}
	}()

	if f.Platform != domain.PlatformDiscord {
		a.log.Info("relay forward dropped, no handler for platform",
			"platform", f.Platform, "method", f.Method, "path", f.Path)
		d.Ack()

		return
	}

	ev, ok := domain.DiscordInteractionEvent(f.Body)
	if !ok {
		a.log.Info("relay forward dropped, not a discord interaction",
			"platform", f.Platform, "method", f.Method, "path", f.Path)
		d.Ack()

		return
	}

	if ev.Source.Profile == "" {
		ev.Source.Profile = f.Profile
	}

	a.metrics.InboundEvent()
	a.capture(ev)
	queued = true
	a.enqueue(ev, d)
}
