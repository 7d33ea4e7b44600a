package app

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"time"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
)

// DefaultQueueCapacity is the number of inbound events the adapter holds for
// the sink when Config.QueueCapacity is zero.
const DefaultQueueCapacity = 10000

// DefaultIdleTimeout bounds the wait for the connector's going-idle
// acknowledgement when Config.IdleTimeout is zero.
const DefaultIdleTimeout = 5 * time.Second

// DefaultInterruptTimeout bounds each call of the session interrupter when
// Config.InterruptTimeout is zero.
const DefaultInterruptTimeout = 5 * time.Second

// DefaultDescriptor returns the capability profile an adapter advertises
// until the connector's descriptor arrives: plain text of at most
// domain.DefaultMaxMessageLength Unicode code points, no draft streaming, no
// code blocks, the legacy set of ops.
func DefaultDescriptor() domain.Descriptor {
	return domain.Descriptor{
		ContractVersion:  1,
		MaxMessageLength: domain.DefaultMaxMessageLength,
		MarkdownDialect:  "plain",
		LenUnit:          domain.UnitChars,
		Emoji:            domain.DefaultEmoji,
	}
}

// Config configures an Adapter. The zero value of every optional field takes
// the default its documentation names.
type Config struct {
	// Transport carries frames to and from the connector. It may be nil:
	// the adapter then cannot connect, outbound calls return
	// domain.ResultNoTransport and GetChatInfo answers from the chat id.
	Transport ports.Transport

	// Sink receives every inbound message event. It may be nil at
	// construction and bound later with Adapter.BindSink; Connect fails
	// while no sink is bound.
	Sink ports.EventSink

	// Interrupter stops a session's running turn when the connector asks.
	// When nil, interrupts are logged and dropped. It runs on the
	// transport's reader, with a context bounded by InterruptTimeout: while
	// it runs, no other inbound traffic is read.
	Interrupter ports.SessionInterrupter

	// Notifier learns that the connector revoked this gateway's credential.
	// When nil, a revocation is only logged.
	Notifier ports.FatalNotifier

	// Store remembers each chat's egress discriminator. Default:
	// domain.NewScopeTable(0).
	Store ports.ScopeStore

	// Metrics observes inbound events and outbound results. Default:
	// ports.NopMetrics{}. InboundEvent counts every delivery that becomes
	// a message event: each inbound message, and each forward that is a
	// Discord interaction. Forwards dropped for want of a handler are not
	// counted. An event refused because the queue was full is counted, and
	// when Metrics also implements RefusalObserver, it is told of the
	// refusal too.
	Metrics ports.Metrics

	// Logger receives the adapter's logs. Default: a logger that discards
	// everything.
	Logger *slog.Logger

	// Descriptor is the capability profile advertised until the
	// connector's descriptor replaces it on Connect. The zero value means
	// DefaultDescriptor(). A zero MaxMessageLength reads as
	// domain.DefaultMaxMessageLength and an empty LenUnit as
	// domain.UnitChars.
	Descriptor domain.Descriptor

	// QueueCapacity bounds the number of inbound events waiting for the
	// sink, across all chats. Default: DefaultQueueCapacity.
	//
	// When the bound is reached, a new delivery is refused: it is logged,
	// counted, and never reaches the sink. A buffered delivery (one the
	// connector replayed from its buffer) is then left unacknowledged, so
	// the connector delivers it again after the next handshake. A live
	// delivery has no such second chance: it is lost.
	QueueCapacity int

	// IdleTimeout bounds how long Disconnect waits for the connector to
	// acknowledge going idle before it closes the link anyway. Default:
	// DefaultIdleTimeout.
	IdleTimeout time.Duration

	// InterruptTimeout bounds each call of Interrupter: its context ends
	// after this long. The call runs on the transport's reader, so a slow
	// interrupter delays every inbound event behind it by up to this long
	// (longer if it ignores its context). Default: DefaultInterruptTimeout.
	InterruptTimeout time.Duration
}

// withDefaults returns c with every zero optional field replaced by its
// default.
func (c Config) withDefaults() Config {
	if c.Store == nil {
		c.Store = domain.NewScopeTable(0)
	}

	if c.Metrics == nil {
		c.Metrics = ports.NopMetrics{}
	}

	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}

	if isZeroDescriptor(c.Descriptor) {
		c.Descriptor = DefaultDescriptor()
	}

	if c.Descriptor.MaxMessageLength == 0 {
		c.Descriptor.MaxMessageLength = domain.DefaultMaxMessageLength
	}

	if c.Descriptor.LenUnit == "" {
		c.Descriptor.LenUnit = domain.UnitChars
	}

	if c.QueueCapacity == 0 {
		c.QueueCapacity = DefaultQueueCapacity
	}

	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}

	if c.InterruptTimeout == 0 {
		c.InterruptTimeout = DefaultInterruptTimeout
	}

	return c
}

// Validate reports every problem of a configuration at once, joined with
// errors.Join. It is nil for a configuration NewAdapter accepts; zero
// optional fields are valid.
func (c Config) Validate() error {
	var errs []error

	if c.QueueCapacity < 0 {
		errs = append(errs, fmt.Errorf("queue capacity %d is negative", c.QueueCapacity))
	}

	if c.IdleTimeout < 0 {
		errs = append(errs, fmt.Errorf("idle timeout %s is negative", c.IdleTimeout))
	}

	if c.InterruptTimeout < 0 {
		errs = append(errs, fmt.Errorf("interrupt timeout %s is negative", c.InterruptTimeout))
	}

	if c.Descriptor.MaxMessageLength < 0 {
		errs = append(errs, fmt.Errorf(
			"descriptor max message length %d is negative", c.Descriptor.MaxMessageLength))
	}

	switch c.Descriptor.LenUnit {
	case "", domain.UnitChars, domain.UnitUTF16:
	default:
		errs = append(errs, fmt.Errorf(
			"descriptor length unit %q is neither %q nor %q",
			c.Descriptor.LenUnit, domain.UnitChars, domain.UnitUTF16))
	}

	return errors.Join(errs...)
}

// isZeroDescriptor reports whether d has no field set.
func isZeroDescriptor(d domain.Descriptor) bool {
	return reflect.ValueOf(d).IsZero()
}
