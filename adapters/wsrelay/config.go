package wsrelay

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
)

// Defaults applied by New to zero fields of Config.
const (
	DefaultHandshakeTimeout = 30 * time.Second
	DefaultOutboundTimeout  = 30 * time.Second
	DefaultPingInterval     = 30 * time.Second
	DefaultReadTimeout      = 60 * time.Second
	DefaultWriteTimeout     = 10 * time.Second
	DefaultReadLimit        = 4 << 20
	DefaultIdleAckTimeout   = 5 * time.Second
	DefaultDrainGrace       = 5 * time.Second
	DefaultBackoffMin       = 1 * time.Second
	DefaultBackoffMax       = 30 * time.Second
	DefaultStableAfter      = 60 * time.Second
)

// Config configures a Transport. Every duration and limit left at zero takes
// the default named beside it; negative values are rejected by New.
type Config struct {
	// URL is the connector's base URL (http, https, ws or wss). It is
	// normalized with wire.DialURL: the transport dials <URL>/relay.
	// Required.
	URL string

	// GatewayID names this gateway in the upgrade token.
	GatewayID string

	// Secret signs the upgrade token. A blank secret, or an empty
	// GatewayID, sends no Authorization header. The secret is never logged
	// and never appears in an error.
	Secret string

	// Identities are the platform bots this gateway fronts: one hello is
	// sent per identity, in order, and the first is the default identity
	// of the link. Required: at least one, each with a platform. There is
	// no implicit default identity, because the connector checks every
	// platform and bot id it is told about.
	Identities []domain.Identity

	// HandshakeTimeout bounds the WebSocket upgrade of a dial and the wait
	// of Handshake for the first descriptor. Default 30s.
	HandshakeTimeout time.Duration
	// OutboundTimeout bounds the wait for an outbound result once its frame
	// was written. Default 30s.
	OutboundTimeout time.Duration
	// PingInterval is the period of the keepalive pings. Default 30s.
	PingInterval time.Duration
	// ReadTimeout declares the link dead when nothing (no message, no pong,
	// no ping) was read for this long. Default 60s.
	ReadTimeout time.Duration
	// WriteTimeout bounds each write to the socket. Default 10s.
	WriteTimeout time.Duration
	// ReadLimit bounds one WebSocket message, and one frame pending across
	// messages, in bytes. A peer exceeding it is disconnected with close
	// code 1009 and the link is re-dialed. Default 4 MiB.
	ReadLimit int64
	// IdleAckTimeout bounds the wait of GoIdle for going_idle_ack. Default
	// 5s.
	IdleAckTimeout time.Duration
	// DrainGrace is how long Disconnect lets in-flight outbound calls finish
	// before it closes the link. Default 5s.
	DrainGrace time.Duration
	// BackoffMin is the first re-dial delay after an unexpected close; each
	// failed attempt doubles it up to BackoffMax. Defaults 1s and 30s.
	BackoffMin time.Duration
	BackoffMax time.Duration
	// StableAfter is how long a link must stay up for the backoff ladder to
	// start again from BackoffMin when it drops. Default 60s.
	StableAfter time.Duration

	// DisableReconnect turns the background re-dial off: after an
	// unexpected close the transport stays disconnected. Production leaves
	// it false.
	DisableReconnect bool

	// Logger receives lifecycle and per-frame logs. Default: discard.
	Logger *slog.Logger
	// Metrics observes reconnects and link state. Default: ports.NopMetrics.
	Metrics ports.Metrics

	// Now returns the current time; it dates upgrade tokens and measures
	// link lifetimes. Default time.Now.
	Now func() time.Time
	// After returns a channel that fires once d has passed; it times the
	// re-dial backoff. Default time.After. Tests inject one that fires at
	// once so they never wait for a real backoff.
	After func(d time.Duration) <-chan time.Time
	// Jitter turns a backoff step into the delay actually waited. Default:
	// a random delay in [d/2, d].
	Jitter func(d time.Duration) time.Duration

	// Dialer dials the connector. Default: a websocket.Dialer using the
	// environment's proxy settings. Its HandshakeTimeout is left as set;
	// the transport bounds every dial by HandshakeTimeout itself.
	Dialer *websocket.Dialer
}

// withDefaults returns c with every zero optional field replaced by its
// default.
func (c Config) withDefaults() Config {
	setDur := func(p *time.Duration, def time.Duration) {
		if *p == 0 {
			*p = def
		}
	}

	setDur(&c.HandshakeTimeout, DefaultHandshakeTimeout)
	setDur(&c.OutboundTimeout, DefaultOutboundTimeout)
	setDur(&c.PingInterval, DefaultPingInterval)
	setDur(&c.ReadTimeout, DefaultReadTimeout)
	setDur(&c.WriteTimeout, DefaultWriteTimeout)
	setDur(&c.IdleAckTimeout, DefaultIdleAckTimeout)
	setDur(&c.DrainGrace, DefaultDrainGrace)
	setDur(&c.BackoffMin, DefaultBackoffMin)
	setDur(&c.BackoffMax, DefaultBackoffMax)
	setDur(&c.StableAfter, DefaultStableAfter)

	if c.ReadLimit == 0 {
		c.ReadLimit = DefaultReadLimit
	}

	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}

	if c.Metrics == nil {
		c.Metrics = ports.NopMetrics{}
	}

	if c.Now == nil {
		c.Now = time.Now
	}

	if c.After == nil {
		c.After = time.After
	}

	if c.Jitter == nil {
		c.Jitter = halfJitter
	}

	if c.Dialer == nil {
		c.Dialer = &websocket.Dialer{Proxy: websocket.DefaultDialer.Proxy}
	}

	return c
}

// validate reports every problem of a configuration with defaults applied,
// joined with errors.Join. Messages never contain the secret.
func (c Config) validate() error {
	var errs []error

	if strings.TrimSpace(c.URL) == "" {
		errs = append(errs, errors.New("url is required"))
	}

	if len(c.Identities) == 0 {
		errs = append(errs, errors.New("at least one identity is required"))
	}

	for i, id := range c.Identities {
		if id.Platform == "" {
			errs = append(errs, fmt.Errorf("identity %d has no platform", i))
		}
	}

	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"handshake timeout", c.HandshakeTimeout},
		{"outbound timeout", c.OutboundTimeout},
		{"ping interval", c.PingInterval},
		{"read timeout", c.ReadTimeout},
		{"write timeout", c.WriteTimeout},
		{"idle ack timeout", c.IdleAckTimeout},
		{"drain grace", c.DrainGrace},
		{"backoff min", c.BackoffMin},
		{"backoff max", c.BackoffMax},
		{"stable after", c.StableAfter},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s %s is negative", d.name, d.v))
		}
	}

	if c.ReadLimit < 0 {
		errs = append(errs, fmt.Errorf("read limit %d is negative", c.ReadLimit))
	}

	if c.BackoffMax > 0 && c.BackoffMin > c.BackoffMax {
		errs = append(errs, fmt.Errorf("backoff min %s exceeds backoff max %s",
			c.BackoffMin, c.BackoffMax))
	}

	if c.PingInterval > 0 && c.ReadTimeout > 0 && c.PingInterval >= c.ReadTimeout {
		errs = append(errs, fmt.Errorf("ping interval %s must be shorter than read timeout %s",
			c.PingInterval, c.ReadTimeout))
	}

	return errors.Join(errs...)
}

// halfJitter returns a random delay in [d/2, d].
func halfJitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}

	half := d / 2

	return half + rand.N(d-half+1)
}
