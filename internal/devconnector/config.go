package devconnector

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/relay-go/relay/domain"
)

// Defaults of the optional Config fields.
const (
	DefaultPingInterval = 30 * time.Second
	DefaultReadTimeout  = 60 * time.Second
	DefaultMaxRecords   = 10000
)

// Config configures a Connector. Zero optional fields take the defaults
// their documentation names.
type Config struct {
	// Secrets maps a gateway id to the secrets its upgrade token may be
	// signed with. Any of a gateway's secrets verifies its token, so a
	// rotation lists the old and the new one. Blank secrets are ignored.
	// The map is copied by New.
	Secrets map[string][]string

	// Open accepts gateways without a valid token. A gateway is then named
	// by the id its token claims (verified or not), or AnonymousGateway
	// when it sent none. Each such acceptance is logged as a warning. A
	// revoked gateway is refused even when Open is set.
	Open bool

	// Descriptor answers every hello. A hello for another platform gets the
	// same descriptor with that hello's platform. The zero value means the
	// built-in discord descriptor (see PlatformDescriptor).
	Descriptor domain.Descriptor

	// Logger receives the connector's logs; it never sees message text,
	// tokens or secrets. Default: discard.
	Logger *slog.Logger

	// Clock returns the current time for token expiry and record times.
	// Default: time.Now.
	Clock func() time.Time

	// PingInterval is how often a gateway link is pinged. Default:
	// DefaultPingInterval.
	PingInterval time.Duration

	// ReadTimeout closes a gateway link that sent nothing, not even a pong,
	// for this long. Default: DefaultReadTimeout.
	ReadTimeout time.Duration

	// Chaos injects faults into gateway links (see Chaos). The zero value
	// injects none.
	Chaos Chaos

	// AlwaysBuffer sends every delivery through the buffer: it gets a
	// bufferId and stays pending until the gateway acknowledges it, even
	// when it is written at once to a live link, so a link that breaks
	// loses nothing. A gateway then sees each delivery at least once (a
	// delivery whose acknowledgement was lost in a broken link comes
	// again). Without it, live deliveries carry no bufferId, as the wire
	// contract describes.
	AlwaysBuffer bool

	// MaxRecords bounds the outbound and interrupt records kept for
	// Outbound and Interrupts; the oldest are dropped first. Counters are
	// not affected. Default: DefaultMaxRecords.
	MaxRecords int
}

// AnonymousGateway names a gateway accepted in open mode without a token.
const AnonymousGateway = "anonymous"

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.PingInterval == 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.MaxRecords == 0 {
		c.MaxRecords = DefaultMaxRecords
	}
	if c.Descriptor.Platform == "" && c.Descriptor.ContractVersion == 0 {
		c.Descriptor, _ = PlatformDescriptor("discord")
	}

	return c
}

// Validate reports every problem of a configuration at once, joined with
// errors.Join. Errors name gateway ids, never secrets.
func (c Config) Validate() error {
	var errs []error

	usable := 0
	for id, list := range c.Secrets {
		if strings.TrimSpace(id) == "" {
			errs = append(errs, errors.New("a gateway id is empty"))
		}
		for _, s := range list {
			if strings.TrimSpace(s) != "" {
				usable++
			}
		}
	}
	if usable == 0 && !c.Open {
		errs = append(errs, errors.New("no gateway secret configured and not open: "+
			"no gateway could connect"))
	}

	if c.Descriptor.MaxMessageLength < 0 {
		errs = append(errs, fmt.Errorf("descriptor max message length %d is negative",
			c.Descriptor.MaxMessageLength))
	}
	if c.PingInterval < 0 {
		errs = append(errs, fmt.Errorf("ping interval %s is negative", c.PingInterval))
	}
	if c.ReadTimeout < 0 {
		errs = append(errs, fmt.Errorf("read timeout %s is negative", c.ReadTimeout))
	}
	if err := c.Chaos.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.MaxRecords < 0 {
		errs = append(errs, fmt.Errorf("max records %d is negative", c.MaxRecords))
	}

	return errors.Join(errs...)
}
