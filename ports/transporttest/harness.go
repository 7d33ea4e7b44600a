package transporttest

import (
	"context"
	"time"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
)

// Harness gives the suite a transport under test and control of the
// connector at the other end of its link. Every method may be called from
// any goroutine; nothing may block past its context. The connector-side
// methods act on the link the transport currently has; the suite calls
// them only after Handshake returned.
type Harness interface {
	// Transport returns the transport under test, not yet connected. It
	// returns the same value on every call.
	Transport() ports.Transport

	// Descriptor returns the descriptor the connector answers the first
	// hello with, as the transport reports it: after decoding and
	// defaults, for a transport that decodes.
	Descriptor() domain.Descriptor

	// PushInbound sends an inbound frame, with bufferID when it is not
	// empty. It returns once the frame is on its way; the transport may
	// not have read it yet.
	PushInbound(ctx context.Context, ev domain.MessageEvent, bufferID string) error

	// PushForward sends a passthrough_forward frame, like PushInbound.
	PushForward(ctx context.Context, f domain.Forward, bufferID string) error

	// PushInterrupt sends an interrupt_inbound frame.
	PushInterrupt(ctx context.Context, sessionKey, chatID string) error

	// SetResponder sets how the connector answers outbound actions from
	// now on; nil restores the default, which answers every action with
	// success and a fresh message id.
	SetResponder(r Responder)

	// Answer answers an outbound action that the responder held.
	Answer(ctx context.Context, requestID string, r Reply) error

	// NextOutbound returns the next outbound action the connector
	// received, in arrival order, waiting until ctx ends.
	NextOutbound(ctx context.Context) (Outbound, error)

	// NextAck returns the buffer id of the next inbound_ack the connector
	// received, waiting until ctx ends.
	NextAck(ctx context.Context) (string, error)

	// NextInterrupt returns the next interrupt the gateway sent, waiting
	// until ctx ends.
	NextInterrupt(ctx context.Context) (Interrupt, error)

	// NextGoingIdle waits until ctx ends for the next going_idle, which
	// the connector acknowledges.
	NextGoingIdle(ctx context.Context) error

	// Drop ends the link abruptly, as a lost connection does.
	Drop(ctx context.Context) error

	// Close releases the connector side. The suite calls it once, after
	// it disconnected the transport.
	Close()
}

// Outbound is one outbound action as the connector received it.
type Outbound struct {
	// RequestID is the id the result must carry.
	RequestID string
	// Action is the decoded action.
	Action domain.Action
	// Target is the platform and bot id the frame named; zero when it
	// named none.
	Target domain.Identity
}

// Reply is the connector's answer to an outbound action.
type Reply struct {
	// Result is the outbound result.
	Result domain.SendResult
	// ChatInfo answers a get_chat_info; nil sends neither name nor type.
	ChatInfo *domain.ChatInfo
	// Hold leaves the action unanswered, for Harness.Answer or a timeout.
	Hold bool
}

// Responder decides the answer to an outbound action. It may be called
// from several goroutines at once and must not block.
type Responder func(o Outbound) Reply

// Interrupt is one interrupt frame the gateway sent.
type Interrupt struct {
	SessionKey string
	// Reason is nil when the frame carried null.
	Reason *string
}

// Settings are the timings the suite wants the transport of one harness to
// use. The factory passes them to the transport's configuration.
type Settings struct {
	// OutboundTimeout bounds the wait for an outbound result.
	OutboundTimeout time.Duration
	// CloseGrace bounds how long Disconnect waits for in-flight calls.
	CloseGrace time.Duration
}

// Features declares what a harness cannot do. The zero value runs every
// test; each flag set skips the tests that need the feature.
type Features struct {
	// NoForwards skips the passthrough forward tests.
	NoForwards bool
	// NoChatInfo skips the ChatInfo tests.
	NoChatInfo bool
	// NoDeferredAnswers skips the tests that hold an action and answer it
	// later with Harness.Answer.
	NoDeferredAnswers bool
	// NoDrop skips the lost-link test, which needs Harness.Drop.
	NoDrop bool
}
