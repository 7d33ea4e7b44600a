package ports

import (
	"context"

	"github.com/relay-go/relay/domain"
)

// Acker confirms buffered deliveries to the connector. Implementations are
// safe for concurrent use and never block: an acknowledgement that cannot be
// sent (the link is down) is dropped, and the connector delivers the entry
// again after the next handshake.
type Acker interface {
	AckDelivery(bufferID string)
}

// Delivery identifies one delivery of an inbound event or a forward. A
// delivery with a BufferID came from the connector's buffer and must be
// acknowledged, once, after the gateway has taken it.
type Delivery struct {
	// BufferID is empty for a live delivery.
	BufferID string
	// Acker sends the acknowledgement; nil for a live delivery.
	Acker Acker
}

// Buffered reports whether the delivery must be acknowledged.
func (d Delivery) Buffered() bool { return d.BufferID != "" }

// Ack acknowledges a buffered delivery. It does nothing for a live one. It
// never blocks. Callers ack each delivery at most once.
func (d Delivery) Ack() {
	if d.BufferID != "" && d.Acker != nil {
		d.Acker.AckDelivery(d.BufferID)
	}
}

// InboundHandler receives an inbound message event. It runs on the
// transport's reader and must return quickly: hand the event off, do not
// process it in place.
type InboundHandler func(ev domain.MessageEvent, d Delivery)

// InterruptHandler receives a connector's request to stop the running turn
// of a session. It runs on the transport's reader and must return quickly.
type InterruptHandler func(sessionKey, chatID string)

// ForwardHandler receives a passthrough forward. It runs on the transport's
// reader and must return quickly.
type ForwardHandler func(f domain.Forward, d Delivery)

// Handlers are the callbacks a transport calls for connector-initiated
// frames. A nil field drops that kind of frame (a buffered delivery is then
// not acknowledged). A panic in a handler is recovered by the transport and
// never stops its reader.
type Handlers struct {
	Inbound   InboundHandler
	Interrupt InterruptHandler
	Forward   ForwardHandler
}

// Transport carries frames between the gateway and one connector.
//
// SetHandlers is called before Connect. After Connect, every other method may
// be called from many goroutines at once.
type Transport interface {
	// SetHandlers registers the callbacks for connector-initiated frames.
	// It must be called before Connect; calling it later has no effect on a
	// link that is already up.
	SetHandlers(h Handlers)

	// Connect dials the connector and announces the gateway's identities.
	// It blocks until the link is up or ctx ends, and returns an error that
	// names the cause when it cannot connect. A transport that reconnects
	// by itself keeps doing so in the background after Connect returned
	// nil, until Disconnect.
	Connect(ctx context.Context) error

	// Handshake waits for the connector's first descriptor on the current
	// link and returns it. It returns an error when ctx ends, the
	// handshake times out, or the link closes first.
	Handshake(ctx context.Context) (domain.Descriptor, error)

	// SendOutbound sends an action and waits for its result. It never
	// returns a Go error: every failure is a result (see the Result values
	// in domain). It blocks until the result arrives, the outbound timeout
	// passes, the link is lost, the transport is closed, or ctx ends (an
	// ambiguous timeout result when the frame was written, else a closed
	// result).
	SendOutbound(ctx context.Context, a domain.Action) domain.SendResult

	// ChatInfo asks the connector about a chat. A missing name reads as the
	// chat id and a missing type as "dm". It returns an error only when the
	// request failed.
	ChatInfo(ctx context.Context, chatID string) (domain.ChatInfo, error)

	// SendInterrupt tells the connector to stop a session's running turn.
	// A nil reason is sent as null.
	SendInterrupt(ctx context.Context, sessionKey string, reason *string) error

	// Disconnect closes the link deliberately: it never reconnects after.
	// In-flight outbound calls are given a bounded grace, then fail with
	// the closed result. It is idempotent and safe to call concurrently;
	// when it returns, the transport has no goroutine left.
	Disconnect(ctx context.Context) error
}

// Idler is a transport that can ask the connector to buffer inbound for this
// gateway before it closes.
type Idler interface {
	// GoIdle sends going_idle and waits for the acknowledgement, bounded by
	// ctx and the transport's own limit. An error means no ack arrived; the
	// caller may close anyway.
	GoIdle(ctx context.Context) error
}

// DormantGoer is a transport that can close its link for a scale-to-zero
// suspend while staying armed to re-dial on wake.
type DormantGoer interface {
	// GoDormant goes idle and, only once the connector acknowledged, closes
	// the link without disarming the reconnect loop. It reports whether the
	// link was closed.
	GoDormant(ctx context.Context) (bool, error)
}

// RevocationReporter is a transport that can tell a revoked credential from
// an ordinary disconnect.
type RevocationReporter interface {
	// Revoked returns a channel that is closed once the transport latched a
	// revocation. The same channel is returned on every call.
	Revoked() <-chan struct{}
}
