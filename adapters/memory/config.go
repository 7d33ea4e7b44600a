package memory

import (
	"log/slog"
	"time"

	"github.com/relay-go/relay/domain"
)

// Defaults of the Config fields left zero.
const (
	DefaultOutboundTimeout  = 30 * time.Second
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultIdleTimeout      = 5 * time.Second
	DefaultCloseGrace       = 5 * time.Second
	// DefaultBotID is the bot id of the default identity.
	DefaultBotID = "memory-bot"
)

// Config configures a Transport and its Connector. The zero value is usable:
// every field left zero (or negative, for durations) takes the default its
// comment names.
type Config struct {
	// Descriptors are the descriptors the connector advertises. Each hello
	// is answered with the descriptor of the hello's platform, or with the
	// first one when none matches. Default: DefaultDescriptor alone.
	Descriptors []domain.Descriptor

	// Identities are the identities the transport announces, one hello
	// each; the first is the default identity. Default: one discord
	// identity with bot id DefaultBotID.
	Identities []domain.Identity

	// Responder answers outbound actions on the connector side. Default:
	// DefaultResponder. It may be replaced later with
	// Connector.SetResponder.
	Responder Responder

	// IgnoreGoingIdle makes the connector leave going_idle unanswered and
	// keep delivering live. Default false: the connector acknowledges and
	// starts buffering.
	IgnoreGoingIdle bool

	// OutboundTimeout bounds the wait for an outbound result after the
	// frame was written. Default DefaultOutboundTimeout.
	OutboundTimeout time.Duration

	// HandshakeTimeout bounds Handshake. Default DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration

	// IdleTimeout bounds the wait for going_idle_ack in GoIdle and
	// GoDormant. Default DefaultIdleTimeout.
	IdleTimeout time.Duration

	// CloseGrace bounds how long Disconnect waits for in-flight outbound
	// calls before failing them. Default DefaultCloseGrace.
	CloseGrace time.Duration

	// ReconnectDelay returns the wait before re-dial attempt n (from 1)
	// after an unexpected close. A result of zero or less re-dials at once.
	// Default: BackoffDelay.
	ReconnectDelay func(attempt int) time.Duration

	// After returns a channel that receives once d has passed. Every
	// timeout and backoff of the transport waits on it, so a test can
	// control time. Default time.After.
	After func(d time.Duration) <-chan time.Time

	// Logger receives lifecycle and failure logs. Default: a logger that
	// discards everything.
	Logger *slog.Logger
}

// withDefaults returns a copy of c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if len(c.Descriptors) == 0 {
		c.Descriptors = []domain.Descriptor{DefaultDescriptor()}
	}
	if len(c.Identities) == 0 {
		c.Identities = []domain.Identity{{Platform: "discord", BotID: DefaultBotID}}
	}
	if c.OutboundTimeout <= 0 {
		c.OutboundTimeout = DefaultOutboundTimeout
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.CloseGrace <= 0 {
		c.CloseGrace = DefaultCloseGrace
	}
	if c.ReconnectDelay == nil {
		c.ReconnectDelay = BackoffDelay
	}
	if c.After == nil {
		c.After = time.After
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}

	return c
}

// BackoffDelay is the default reconnect delay: one second for the first
// attempt, doubling each attempt, capped at thirty seconds.
func BackoffDelay(attempt int) time.Duration {
	const (
		first = time.Second
		limit = 30 * time.Second
	)
	if attempt < 1 {
		attempt = 1
	}
	d := first
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}

	return min(d, limit)
}

// DefaultDescriptor returns the descriptor a connector advertises when its
// Config names none: a Discord-like profile with a 2000-character limit,
// Discord markdown and contract version 1.
func DefaultDescriptor() domain.Descriptor {
	return domain.DiscordDescriptor()
}
