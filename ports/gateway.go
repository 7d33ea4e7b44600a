package ports

import (
	"context"

	"github.com/relay-go/relay/domain"
)

// EventSink is implemented by the gateway app: it receives every inbound
// message event, including forwarded Discord interactions.
//
// The relay calls HandleMessage for the events of one chat one at a time, in
// arrival order; events of different chats may be handled concurrently.
// Returning nil means the event was accepted: a buffered delivery is then
// acknowledged to the connector. Returning an error leaves a buffered
// delivery unacknowledged, so the connector delivers it again after the next
// handshake. ctx ends when the relay shuts down.
type EventSink interface {
	HandleMessage(ctx context.Context, ev domain.MessageEvent) error
}

// EventSinkFunc adapts a function to an EventSink.
type EventSinkFunc func(ctx context.Context, ev domain.MessageEvent) error

// HandleMessage calls f.
func (f EventSinkFunc) HandleMessage(ctx context.Context, ev domain.MessageEvent) error {
	return f(ctx, ev)
}

// SessionInterrupter stops the running turn of one session. It is called
// from the transport's reader: it must return quickly and may be called
// concurrently.
type SessionInterrupter interface {
	InterruptSession(ctx context.Context, sessionKey, chatID string) error
}

// FatalNotifier learns of failures the gateway cannot recover from by
// retrying, such as a revoked credential. The relay calls NotifyFatal at most
// once per failure; it may be called from any goroutine.
type FatalNotifier interface {
	NotifyFatal(ctx context.Context, err domain.FatalError)
}

// ScopeStore remembers, per chat, the egress discriminator that inbound
// traffic showed. Implementations are safe for concurrent use, bounded in
// memory, and never block on I/O for long: they run on the hot path.
type ScopeStore interface {
	// Remember records the discriminator of a chat, replacing what was
	// there.
	Remember(chatID string, d domain.Discriminator)
	// Lookup returns the discriminator of a chat and whether one is known.
	Lookup(chatID string) (domain.Discriminator, bool)
}

// Metrics observes the relay's traffic for monitoring. Implementations are
// safe for concurrent use and never block.
type Metrics interface {
	// InboundEvent counts one inbound event or forward delivered to the
	// relay.
	InboundEvent()
	// OutboundResult counts one outbound action by op and outcome:
	// "success", "failure", "ambiguous" or "transport_error".
	OutboundResult(op, outcome string)
	// Reconnect counts one re-dial after an unexpected close.
	Reconnect()
	// Connected reports whether a handshake is currently complete.
	Connected(up bool)
}

// NopMetrics is a Metrics that records nothing.
type NopMetrics struct{}

// InboundEvent does nothing.
func (NopMetrics) InboundEvent() {}

// OutboundResult does nothing.
func (NopMetrics) OutboundResult(string, string) {}

// Reconnect does nothing.
func (NopMetrics) Reconnect() {}

// Connected does nothing.
func (NopMetrics) Connected(bool) {}
