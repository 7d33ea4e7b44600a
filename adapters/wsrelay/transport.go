package wsrelay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
	"github.com/relay-go/relay/wire"
)

// CloseUnauthorized is the close code a connector sends when it refuses the
// gateway's credential.
const CloseUnauthorized = 4401

// closeReasonExpired is the close reason of a 4401 that refused a token only
// because it expired: never a revocation.
const closeReasonExpired = "expired"

// Errors callers may branch on. None of them carries a secret or a token.
var (
	// ErrClosed means Disconnect was called.
	ErrClosed = errors.New("relay transport closed")
	// ErrNotConnected means no link is up at the moment.
	ErrNotConnected = errors.New("relay transport not connected")
	// ErrLinkLost means the link closed while the call waited.
	ErrLinkLost = errors.New("relay transport connection lost")
	// ErrRevoked means the connector revoked this gateway's credential; the
	// transport no longer dials.
	ErrRevoked = errors.New("relay credential revoked")
)

// UpgradeRefusedError reports a connector that answered the WebSocket
// upgrade with an HTTP error status instead of switching protocols.
type UpgradeRefusedError struct {
	// StatusCode is the HTTP status of the refusal.
	StatusCode int
}

// Error names the status.
func (e *UpgradeRefusedError) Error() string {
	return fmt.Sprintf("relay upgrade refused with HTTP %d", e.StatusCode)
}

// Unauthorized reports whether the refusal is an authentication one (401 or
// 403), which counts as a 4401 close at the upgrade.
func (e *UpgradeRefusedError) Unauthorized() bool {
	return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
}

var (
	_ ports.Transport          = (*Transport)(nil)
	_ ports.Idler              = (*Transport)(nil)
	_ ports.DormantGoer        = (*Transport)(nil)
	_ ports.RevocationReporter = (*Transport)(nil)
	_ ports.Acker              = (*Transport)(nil)
)

// Transport is the gateway's WebSocket link to a connector. It implements
// ports.Transport, ports.Idler, ports.DormantGoer, ports.RevocationReporter
// and ports.Acker. Create it with New; the zero value is not usable. See the
// package documentation for its concurrency model.
type Transport struct {
	cfg Config
	url string
	log *slog.Logger

	// ctx ends when Disconnect starts; it cancels dials and backoff waits.
	ctx    context.Context
	cancel context.CancelFunc

	// connectMu serializes Connect calls.
	connectMu sync.Mutex

	// ids mints the request ids of outbound frames.
	ids *idSource
	// cur is the link that is up, or nil: t.link, readable without mu.
	cur atomic.Pointer[link]
	// closed is set, under mu, together with closing.
	closed atomic.Bool
	// drained is closed once no call is pending while closing.
	drained   chan struct{}
	drainOnce sync.Once

	// mu guards every field below and the guarded fields of each link.
	mu         sync.Mutex
	handlers   ports.Handlers
	link       *link
	supervised bool          // the supervisor is running
	linkUp     chan struct{} // closed and replaced when a link is published
	closing    bool          // Disconnect was called
	handshaken bool          // a descriptor arrived once on this transport
	authRetry  bool          // the next dial is the fresh-token re-dial
	gen        uint64

	revoked    chan struct{}
	revokeOnce sync.Once
	stopped    chan struct{} // closed when Disconnect finished
	wg         sync.WaitGroup
}

// New validates cfg, applies its defaults and returns a transport that is
// not connected yet. It starts no goroutine. The error joins every problem
// of cfg; it never contains the secret.
func New(cfg Config) (*Transport, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("configure relay transport: %w", err)
	}

	cfg.Identities = append([]domain.Identity(nil), cfg.Identities...)
	ctx, cancel := context.WithCancel(context.Background())

	return &Transport{
		cfg:     cfg,
		url:     wire.DialURL(cfg.URL),
		log:     cfg.Logger,
		ids:     newIDSource(),
		ctx:     ctx,
		cancel:  cancel,
		drained: make(chan struct{}),
		revoked: make(chan struct{}),
		stopped: make(chan struct{}),
		linkUp:  make(chan struct{}),
	}, nil
}

// SetHandlers registers the callbacks for connector-initiated frames. It is
// meant to be called before Connect; later calls take effect on the next
// link the transport dials.
func (t *Transport) SetHandlers(h ports.Handlers) {
	t.mu.Lock()
	t.handlers = h
	t.mu.Unlock()
}

// Revoked returns a channel closed once the transport latched a revocation
// of its credential: an unauthorized refusal (a 4401 close, or HTTP 401 or
// 403 at the upgrade, with a reason other than "expired") after a
// handshake, confirmed by a refusal of the freshly minted token of the
// immediate re-dial that followed. The transport then stops dialing. The
// same channel is returned on every call.
func (t *Transport) Revoked() <-chan struct{} { return t.revoked }

// Connect dials the connector once and sends one hello per identity. It
// blocks until the hellos are written, the dial fails, or ctx ends; the
// upgrade is bounded by HandshakeTimeout. It makes a single attempt: a
// failure is returned and nothing keeps dialing. After it returned nil, a
// background supervisor re-dials after every unexpected close until
// Disconnect or a revocation. Calling it again while the supervisor runs
// returns nil; once it stopped (DisableReconnect after a lost link), Connect
// dials anew. Safe for concurrent use.
func (t *Transport) Connect(ctx context.Context) error {
	t.connectMu.Lock()
	defer t.connectMu.Unlock()

	t.mu.Lock()
	switch {
	case t.closing:
		t.mu.Unlock()
		return fmt.Errorf("connect relay: %w", ErrClosed)
	case t.isRevoked():
		t.mu.Unlock()
		return fmt.Errorf("connect relay: %w", ErrRevoked)
	case t.supervised:
		t.mu.Unlock()
		return nil
	}
	t.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(t.ctx, cancel)
	defer stop()

	l, err := t.dial(ctx)
	if err != nil {
		return fmt.Errorf("connect relay: %w", err)
	}

	t.mu.Lock()
	if t.closing {
		t.mu.Unlock()
		l.ws.Close()

		return fmt.Errorf("connect relay: %w", ErrClosed)
	}
	if !t.adoptLocked(l) {
		// The link was lost right after its hellos, and reconnecting is
		// off: nothing is left to supervise.
		t.mu.Unlock()
		return nil
	}
	t.supervised = true
	t.wg.Add(1)
	t.mu.Unlock()

	go t.supervise(l)

	return nil
}

// Handshake waits for the first descriptor of the current link and returns
// it; a descriptor that already arrived is returned at once. While the
// supervisor is re-dialing, it waits for the next link instead. It fails
// when no link is up and none is being dialed, the transport closes or is
// revoked, ctx ends, or HandshakeTimeout passes. Safe for concurrent use.
func (t *Transport) Handshake(ctx context.Context) (domain.Descriptor, error) {
	timer := time.NewTimer(t.cfg.HandshakeTimeout)
	defer timer.Stop()

	for {
		t.mu.Lock()
		l, next, supervised := t.link, t.linkUp, t.supervised
		closing, alive := t.closing, l != nil && !l.dead
		if !closing && l != nil && l.hasFirst {
			first := l.first
			t.mu.Unlock()

			return first, nil
		}
		t.mu.Unlock()

		var ready, lost <-chan struct{}
		switch {
		case closing:
			return domain.Descriptor{}, fmt.Errorf("relay handshake: %w", ErrClosed)
		case t.isRevoked():
			return domain.Descriptor{}, fmt.Errorf("relay handshake: %w", ErrRevoked)
		case alive:
			ready, lost = l.ready, l.done
		case !supervised:
			return domain.Descriptor{}, fmt.Errorf("relay handshake: %w", ErrNotConnected)
		}

		select {
		case <-ready:
		case <-lost:
			if !supervised {
				return domain.Descriptor{}, fmt.Errorf("relay handshake: %w", ErrLinkLost)
			}
		case <-next:
		case <-t.revoked:
		case <-t.ctx.Done():
		case <-ctx.Done():
			return domain.Descriptor{}, fmt.Errorf("relay handshake: %w", ctx.Err())
		case <-timer.C:
			return domain.Descriptor{}, fmt.Errorf("relay handshake timed out after %s",
				t.cfg.HandshakeTimeout)
		}
	}
}

// Descriptors returns a copy of the descriptors the current link received,
// keyed by platform. It is empty while no link is up; every dial starts
// with an empty set. Safe for concurrent use.
func (t *Transport) Descriptors() map[string]domain.Descriptor {
	t.mu.Lock()
	defer t.mu.Unlock()

	if t.link == nil {
		return map[string]domain.Descriptor{}
	}

	return maps.Clone(t.link.descs)
}

// Descriptor returns the descriptor the current link received for one
// platform, and whether there is one. Safe for concurrent use.
func (t *Transport) Descriptor(platform string) (domain.Descriptor, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()

	if t.link == nil {
		return domain.Descriptor{}, false
	}
	d, ok := t.link.descs[platform]

	return d, ok
}

// Disconnect closes the transport for good. It stops re-dialing, lets
// in-flight outbound calls finish for up to DrainGrace (bounded by ctx),
// sends a normal close frame (1000), fails what is left with
// domain.ResultClosed and waits for every goroutine of the transport to
// end. New calls fail with the closed result from its start. It is
// idempotent and safe for concurrent use: a second call waits for the
// first. It returns ctx's error only when ctx ended before the transport
// finished stopping (the remaining goroutines then end on their own
// shortly, or, when a handler is running, once it returns).
//
// A handler must not call Disconnect synchronously: the link's reader,
// which runs the handler, cannot end before the handler returns, so such a
// call only ends by ctx (never, without a deadline). Call it from another
// goroutine.
func (t *Transport) Disconnect(ctx context.Context) error {
	t.mu.Lock()
	if t.closing {
		t.mu.Unlock()
		select {
		case <-t.stopped:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("disconnect relay: %w", ctx.Err())
		}
	}
	t.closing = true
	t.closed.Store(true)
	l := t.link
	t.mu.Unlock()

	// A call registers under l.pmu only while closed is unset, so once
	// this count is taken no new call joins it.
	pending := 0
	if l != nil {
		l.pmu.Lock()
		pending = len(l.pending)
		t.signalDrained(l)
		l.pmu.Unlock()
	}

	if l != nil && pending > 0 {
		t.log.Info("relay draining", "pending", pending)
		timer := time.NewTimer(t.cfg.DrainGrace)
		select {
		case <-t.drained:
		case <-timer.C:
		case <-ctx.Done():
		case <-l.done:
		}
		timer.Stop()
	}

	t.cancel()
	if l != nil {
		t.closeLink(ctx, l, endDisconnect)
	}

	done := make(chan struct{})
	go func() {
		t.wg.Wait()
		close(done)
	}()

	select {
	case <-done:
		close(t.stopped)
		t.log.Info("relay disconnected")

		return nil
	case <-ctx.Done():
		go func() {
			<-done
			close(t.stopped)
		}()

		return fmt.Errorf("disconnect relay: %w", ctx.Err())
	}
}

// currentLink returns the link that is up, or why there is none.
func (t *Transport) currentLink() (*link, error) {
	t.mu.Lock()
	defer t.mu.Unlock()

	switch {
	case t.closing:
		return nil, ErrClosed
	case t.isRevoked():
		return nil, ErrRevoked
	case t.link == nil || t.link.dead:
		return nil, ErrNotConnected
	}

	return t.link, nil
}

func (t *Transport) isRevoked() bool {
	select {
	case <-t.revoked:
		return true
	default:
		return false
	}
}

// latchRevocation closes the Revoked channel once.
func (t *Transport) latchRevocation() {
	t.revokeOnce.Do(func() {
		close(t.revoked)
		t.log.Error("relay credential revoked; not reconnecting")
	})
}

// dial opens one link: the upgrade with a freshly minted token, then the
// hellos. The link is published as current before its hellos are written,
// but no other frame can be queued ahead of them.
func (t *Transport) dial(ctx context.Context) (*link, error) {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.HandshakeTimeout)
	defer cancel()

	t.mu.Lock()
	fresh := t.authRetry
	t.mu.Unlock()

	header := http.Header{}
	if v, ok := wire.AuthorizationHeader(t.cfg.GatewayID, t.cfg.Secret, t.cfg.Now()); ok {
		header.Set("Authorization", v)
	}

	ws, resp, err := t.cfg.Dialer.DialContext(ctx, t.url, header)
	if err != nil {
		return nil, t.dialFailed(resp, err, fresh)
	}
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}

	t.mu.Lock()
	if t.closing {
		t.mu.Unlock()
		ws.Close()

		return nil, ErrClosed
	}
	t.gen++
	l := newLink(t, ws, t.gen, t.handlers)
	l.freshRetry = fresh
	t.authRetry = false
	var lastHello chan error
	for _, id := range t.cfg.Identities {
		lastHello = make(chan error, 1)
		l.out <- writeReq{kind: kindHello, identity: id, written: lastHello}
	}
	t.setLinkLocked(l)
	close(t.linkUp)
	t.linkUp = make(chan struct{})
	t.wg.Add(2)
	t.mu.Unlock()

	go l.writeLoop()
	go l.readLoop()

	select {
	case err = <-lastHello:
	case <-l.done:
		err = ErrLinkLost
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		// Let the link finish before reporting, so that a 4401 which
		// ended it has been judged when the caller decides how to
		// re-dial.
		ws.Close()
		select {
		case <-l.done:
		case <-ctx.Done():
		}

		return nil, fmt.Errorf("send hello: %w", err)
	}

	t.log.Info("relay link up", "dial", l.gen, "identities", len(t.cfg.Identities))

	return l, nil
}

// dialFailed turns a failed upgrade into an error and judges an
// authentication refusal. fresh says whether this dial was the fresh-token
// re-dial. After a handshake, an unauthorized refusal (HTTP 401 or 403 whose
// body is not "expired") of an ordinary dial earns the fresh-token re-dial;
// the same refusal of the fresh-token re-dial latches the revocation. A
// fresh-token re-dial that fails any other way (network error, another
// status, "expired") never reached a verdict on the credential: the
// judgment is dropped, and a later refusal starts it again.
func (t *Transport) dialFailed(resp *http.Response, err error, fresh bool) error {
	unauthorized := false
	if resp != nil {
		defer resp.Body.Close()

		refused := &UpgradeRefusedError{StatusCode: resp.StatusCode}
		if refused.Unauthorized() {
			var body [64]byte
			n, _ := resp.Body.Read(body[:])
			unauthorized = strings.TrimSpace(string(body[:n])) != closeReasonExpired
		}
		err = refused
	}

	t.mu.Lock()
	revoke := false
	switch {
	case fresh:
		t.authRetry = false
		revoke = unauthorized
	case unauthorized && t.handshaken && !t.closing:
		t.authRetry = true
	}
	t.mu.Unlock()

	if revoke {
		t.latchRevocation()
		return fmt.Errorf("dial relay: %w: %w", ErrRevoked, err)
	}

	return fmt.Errorf("dial relay: %w", err)
}

// supervise waits for each link to end and re-dials unless the transport is
// closing, revoked, or configured not to reconnect. It is the only dialer
// once Connect returned. Whenever it decides to stop, it marks itself
// stopped under the same lock it decided under, so that a Connect that
// follows dials anew instead of trusting a supervisor on its way out.
func (t *Transport) supervise(l *link) {
	defer t.wg.Done()

	step := 0
	for {
		select {
		case <-l.done:
		case <-t.ctx.Done():
			t.stopSupervising()
			return
		}

		t.mu.Lock()
		end, immediate := l.end, t.authRetry
		t.mu.Unlock()

		if t.abandons(end) {
			// The link's end already marked the supervisor stopped.
			t.log.Warn("relay link lost; reconnect disabled")
			return
		}
		if !t.mayDial() {
			return
		}

		if t.cfg.Now().Sub(l.started) >= t.cfg.StableAfter {
			step = 0
		}

		var delay time.Duration
		counted := true
		switch {
		case end == endDormant:
			step, counted = 0, false
			delay = t.cfg.BackoffMin
		case immediate:
			delay = 0
		default:
			delay = t.backoff(step)
			step++
		}

		for {
			if delay > 0 {
				wait := t.cfg.Jitter(delay)
				t.log.Info("relay reconnecting", "delay", wait)
				select {
				case <-t.cfg.After(wait):
				case <-t.ctx.Done():
					t.stopSupervising()
					return
				}
			}
			if !t.mayDial() {
				return
			}
			if counted {
				t.cfg.Metrics.Reconnect()
			}
			counted = true

			next, err := t.dial(t.ctx)
			if err == nil {
				if !t.adopt(next) {
					t.log.Warn("relay link lost; reconnect disabled")
					return
				}
				l = next

				break
			}
			if !t.mayDial() {
				return
			}

			t.log.Warn("relay reconnect failed", "error", err)

			// A refusal of the credential earns the fresh-token re-dial
			// at once; anything else backs off.
			t.mu.Lock()
			immediate = t.authRetry
			t.mu.Unlock()
			if immediate {
				delay = 0
			} else {
				delay = t.backoff(step)
				step++
			}
		}
	}
}

// abandons reports whether the supervisor stops after a link that ended
// with end, rather than re-dialing.
func (t *Transport) abandons(end endKind) bool {
	return t.cfg.DisableReconnect && end != endDormant
}

// adoptLocked hands a dialed link to the supervisor, so that its end is
// judged for the supervisor. It reports false, and marks the supervisor
// stopped, when the link already ended in a way the supervisor does not
// re-dial after. t.mu is held.
func (t *Transport) adoptLocked(l *link) bool {
	if l.dead && t.abandons(l.end) {
		t.endSupervisionLocked()
		return false
	}
	l.owned = true

	return true
}

func (t *Transport) adopt(l *link) bool {
	t.mu.Lock()
	defer t.mu.Unlock()

	return t.adoptLocked(l)
}

// mayDial reports whether the supervisor may go on dialing. When the
// transport is closing or revoked it marks the supervisor stopped and
// reports false.
func (t *Transport) mayDial() bool {
	t.mu.Lock()
	defer t.mu.Unlock()

	if !t.closing && t.ctx.Err() == nil && !t.isRevoked() {
		return true
	}
	t.endSupervisionLocked()

	return false
}

func (t *Transport) stopSupervising() {
	t.mu.Lock()
	t.endSupervisionLocked()
	t.mu.Unlock()
}

// endSupervisionLocked marks the supervisor stopped and wakes Handshake
// waiters, which then see that nothing is dialing. t.mu is held.
func (t *Transport) endSupervisionLocked() {
	t.supervised = false
	close(t.linkUp)
	t.linkUp = make(chan struct{})
}

// backoff returns the re-dial delay of a ladder step: BackoffMin doubled
// step times, at most BackoffMax.
func (t *Transport) backoff(step int) time.Duration {
	d := t.cfg.BackoffMin
	for range step {
		if d >= t.cfg.BackoffMax/2 {
			return t.cfg.BackoffMax
		}
		d *= 2
	}

	return min(d, t.cfg.BackoffMax)
}

// closeLink closes l deliberately: it sends a normal close frame through
// the writer, waits for the peer's answer for at most WriteTimeout (and
// ctx), then closes the socket. It returns once the link ended, or when ctx
// ends first: a reader held inside a handler finishes the link only once
// the handler returns.
func (t *Transport) closeLink(ctx context.Context, l *link, why endKind) {
	t.mu.Lock()
	if l.end == endUnexpected && !l.dead {
		l.end = why
	}
	t.mu.Unlock()

	timer := time.NewTimer(t.cfg.WriteTimeout)
	defer timer.Stop()

	sent := false
	select {
	case l.out <- writeReq{kind: kindClose}:
		sent = true
	case <-l.done:
		return
	case <-timer.C:
	case <-ctx.Done():
	}

	if sent {
		select {
		case <-l.done:
			return
		case <-timer.C:
		case <-ctx.Done():
		}
	}

	l.ws.Close()
	select {
	case <-l.done:
	case <-ctx.Done():
	}
}

// setLinkLocked makes l (nil for none) the current link. t.mu is held.
func (t *Transport) setLinkLocked(l *link) {
	t.link = l
	t.cur.Store(l)
}

// closeInfo extracts the close code and reason of a read error; 0 when the
// link ended without a close frame.
func closeInfo(err error) (int, string) {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Text
	}

	return 0, ""
}
