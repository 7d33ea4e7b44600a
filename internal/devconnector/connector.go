package devconnector

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/wire"
)

// Errors the Go API returns; callers may branch on them with errors.Is.
var (
	// ErrClosed means Close was called.
	ErrClosed = errors.New("devconnector: closed")
	// ErrNotConnected means no gateway link is up to carry an interrupt.
	ErrNotConnected = errors.New("devconnector: no gateway connected")
	// ErrNoChatID means an event names no chat to deliver into.
	ErrNoChatID = errors.New("devconnector: event has no source chat_id")
	// ErrNotObject means an interaction body is not one JSON object.
	ErrNotObject = errors.New("devconnector: body is not a JSON object")
	// ErrNoSessionKey means an interrupt names no session.
	ErrNoSessionKey = errors.New("devconnector: interrupt has no session_key")
)

// DeclinedError is the result error of an outbound send the egress guard
// refuses: its target is not a guild (or scope) onboarded by inbound traffic,
// nor, for a reply without a guild, an author the connector delivered.
const DeclinedError = "discord egress declined: target not routed to an onboarded tenant"

// FollowUpDeclinedError is the result error of a follow_up whose session no
// delivered interaction explains.
const FollowUpDeclinedError = "follow_up declined: no interaction delivered for this session"

// Close codes and reasons the connector sends.
const (
	CloseUnauthorized = 4401
	ReasonExpired     = "expired"
	ReasonRevoked     = "revoked"
)

const (
	writeWait  = 10 * time.Second
	closeGrace = 2 * time.Second
	readLimit  = 2 * wire.DefaultMaxLine
)

// DeliveryStatus says what became of a delivery.
type DeliveryStatus string

// Delivery statuses.
const (
	// StatusDelivered means the frame was handed to a live gateway link.
	StatusDelivered DeliveryStatus = "delivered"
	// StatusBuffered means the delivery waits in the gateway's buffer for
	// its next handshake.
	StatusBuffered DeliveryStatus = "buffered"
)

// DeliveryReceipt is the outcome of a delivery.
type DeliveryReceipt struct {
	Status    DeliveryStatus
	GatewayID string
	// BufferID names the buffered entry; empty for a live delivery.
	BufferID string
}

// Stats are the connector's counters since New.
type Stats struct {
	// Delivered counts deliveries written live, without a bufferId.
	Delivered int
	// Buffered counts deliveries put in a buffer.
	Buffered int
	// Replayed counts buffered frames written after a handshake; an entry
	// replayed twice counts twice.
	Replayed int
	// Acked counts buffered entries dropped on the gateway's inbound_ack.
	Acked int
	// Pending is the number of buffered entries not acknowledged yet.
	Pending int
	// Outbound counts outbound actions answered; Declined those refused.
	Outbound int
	Declined int
	// Interrupts counts interrupt frames gateways sent.
	Interrupts int
	// Handshakes counts completed handshakes.
	Handshakes int
	// Connected is the number of gateways with a live link now.
	Connected int
	// BufferedLive counts buffered deliveries written at once to a live
	// link, with their bufferId (Config.AlwaysBuffer); they are also
	// counted in Buffered.
	BufferedLive int
	// Chaos counts the faults injected (Config.Chaos).
	Chaos ChaosStats
}

// OutboundRecord is one outbound action a gateway sent and the connector's
// verdict.
type OutboundRecord struct {
	GatewayID string
	RequestID string
	// Platform and BotID are the frame's target identity; empty for the
	// default identity.
	Platform string
	BotID    string
	Action   domain.Action
	// RawAction is the action object as received.
	RawAction []byte
	Result    domain.SendResult
	// ChatInfo is the answer to a get_chat_info, else nil.
	ChatInfo *domain.ChatInfo
	Time     time.Time
}

// InterruptRecord is one interrupt frame a gateway sent.
type InterruptRecord struct {
	GatewayID  string
	SessionKey string
	// Reason is nil when the gateway sent null.
	Reason *string
	Time   time.Time
}

// Connector is a development connector. Build it with New; serve it with
// Serve, ListenAndServe or Handler; stop it with Close.
type Connector struct {
	cfg      Config
	log      *slog.Logger
	mux      *http.ServeMux
	upgrader websocket.Upgrader
	// chaos is nil when Config.Chaos injects nothing.
	chaos *chaosSource
	// onExtend, when set before the connector serves (tests set it), is
	// called from a link's reader each time its read deadline is pushed
	// back, with what pushed it: "start", "pong", "ping" or "message".
	onExtend func(cause string)

	mu         sync.Mutex
	secrets    map[string][]string
	revoked    map[string]bool
	gateways   map[string]*gateway
	conns      map[*conn]struct{}
	servers    map[*http.Server]struct{}
	lastLive   string
	outbound   []OutboundRecord
	interrupts []InterruptRecord
	stats      Stats
	seq        uint64
	msgSeq     uint64
	changed    chan struct{}
	closed     bool

	wg sync.WaitGroup
}

// New builds a connector. It fails when the configuration is invalid (see
// Config.Validate). It starts no goroutine.
func New(cfg Config) (*Connector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new devconnector: %w", err)
	}
	cfg = cfg.withDefaults()

	secrets := make(map[string][]string, len(cfg.Secrets))
	for id, list := range cfg.Secrets {
		secrets[id] = append([]string(nil), list...)
	}

	c := &Connector{
		cfg:      cfg,
		log:      cfg.Logger,
		secrets:  secrets,
		revoked:  make(map[string]bool),
		gateways: make(map[string]*gateway),
		conns:    make(map[*conn]struct{}),
		servers:  make(map[*http.Server]struct{}),
		changed:  make(chan struct{}),
		upgrader: websocket.Upgrader{
			// Gateways are programs, not browsers: the token is the check.
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}
	c.mux = c.routes()
	if cfg.Chaos.Enabled() {
		c.chaos = newChaosSource(cfg.Chaos)
		c.log.Warn("chaos enabled", "chaos", cfg.Chaos.String(), "seed", cfg.Chaos.Seed)
	}

	return c, nil
}

// Handler returns the handler serving /relay and the HTTP API. Gateway links
// it accepts are closed by Close, whichever server carries them.
func (c *Connector) Handler() http.Handler { return c.mux }

// Serve accepts connections on ln until Close. It blocks, and returns nil
// after Close, or the error that stopped serving. It closes ln.
func (c *Connector) Serve(ln net.Listener) error {
	srv := &http.Server{
		Handler:           c.mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(c.log.Handler(), slog.LevelDebug),
	}

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		_ = ln.Close()

		return ErrClosed
	}
	c.servers[srv] = struct{}{}
	c.mu.Unlock()

	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}

	return fmt.Errorf("serve: %w", err)
}

// ListenAndServe listens on addr and serves until ctx ends, then closes the
// connector, giving gateways up to five seconds to close their links. It
// blocks and returns nil after a clean stop.
func (c *Connector) ListenAndServe(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	c.log.Info("connector listening", "addr", ln.Addr().String())

	served := make(chan error, 1)
	go func() { served <- c.Serve(ln) }()

	var serveErr error
	select {
	case serveErr = <-served:
	case <-ctx.Done():
	}

	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	closeErr := c.Close(stopCtx)
	if serveErr == nil {
		// Serve may not have started before Close: that is a clean stop.
		if serveErr = <-served; errors.Is(serveErr, ErrClosed) {
			serveErr = nil
		}
	}

	return errors.Join(serveErr, closeErr)
}

// Close stops the connector: servers started by Serve stop accepting, every
// gateway link is closed with 1001, and Close waits until each gateway
// answered the close or ctx ends (links are then cut). When it returns, no
// goroutine of the connector is left. It is idempotent. Deliveries after
// Close fail with ErrClosed; records and counters stay readable.
func (c *Connector) Close(ctx context.Context) error {
	c.mu.Lock()
	c.closed = true
	servers := make([]*http.Server, 0, len(c.servers))
	for srv := range c.servers {
		servers = append(servers, srv)
	}
	conns := make([]*conn, 0, len(c.conns))
	for k := range c.conns {
		conns = append(conns, k)
		k.closeWith(websocket.CloseGoingAway, "connector shutting down")
	}
	c.notifyLocked()
	c.mu.Unlock()

	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
			errs = append(errs, fmt.Errorf("close devconnector: stop server: %w", err))
		}
	}

	done := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(done)
	}()

	select {
	case <-done:
	case <-ctx.Done():
		for _, k := range conns {
			_ = k.ws.Close()
		}
		<-done
		errs = append(errs, fmt.Errorf("close devconnector: links cut: %w", ctx.Err()))
	}
	c.log.Info("connector closed")

	return errors.Join(errs...)
}

// Revoke refuses gatewayID from now on: its live links are closed with 4401
// "revoked", and its tokens no longer verify, even in open mode. Buffered
// entries of the gateway are kept. It does not block on the links' close.
func (c *Connector) Revoke(gatewayID string) {
	c.mu.Lock()
	defer c.mu.Unlock()

	c.revokeLocked(gatewayID)
}

// revokeKnown revokes gatewayID like Revoke when the connector knows it: a
// configured gateway, or one that connected or was delivered to. It
// reports false, revoking nothing, for any other id, and otherwise the
// number of links it closed.
func (c *Connector) revokeKnown(gatewayID string) (links int, known bool) {
	c.mu.Lock()
	defer c.mu.Unlock()

	_, configured := c.secrets[gatewayID]
	_, seen := c.gateways[gatewayID]
	linked := false
	for k := range c.conns {
		linked = linked || k.gatewayID == gatewayID
	}
	if gatewayID == "" || !(configured || seen || linked) {
		return 0, false
	}

	return c.revokeLocked(gatewayID), true
}

// revokeLocked marks gatewayID revoked, closes its links and returns how
// many it closed.
func (c *Connector) revokeLocked(gatewayID string) int {
	c.revoked[gatewayID] = true
	links := 0
	for k := range c.conns {
		if k.gatewayID == gatewayID {
			k.closeWith(CloseUnauthorized, ReasonRevoked)
			links++
		}
	}
	c.log.Info("gateway revoked", "gateway_id", gatewayID, "links", links)

	return links
}

// Connected reports whether at least one gateway has a live link that
// completed its handshake.
func (c *Connector) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.stats.Connected > 0
}

// WaitConnected blocks until Connected is true, ctx ends, or the connector
// closes.
func (c *Connector) WaitConnected(ctx context.Context) error {
	err := c.waitFor(ctx, func() bool { return c.stats.Connected > 0 })
	if err != nil {
		return fmt.Errorf("wait connected: %w", err)
	}

	return nil
}

// Stats returns the connector's counters.
func (c *Connector) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.stats
}

// WaitStats blocks until cond holds for the counters, ctx ends, or the
// connector closes, and returns the counters it last saw. cond runs with the
// connector locked: it must only look at its argument.
func (c *Connector) WaitStats(ctx context.Context, cond func(Stats) bool) (Stats, error) {
	var last Stats
	err := c.waitFor(ctx, func() bool {
		last = c.stats
		return cond(last)
	})
	if err != nil {
		return last, fmt.Errorf("wait stats: %w", err)
	}

	return last, nil
}

// Outbound returns the outbound records kept, oldest first.
func (c *Connector) Outbound() []OutboundRecord {
	c.mu.Lock()
	defer c.mu.Unlock()

	return append([]OutboundRecord(nil), c.outbound...)
}

// Interrupts returns the interrupt records kept, oldest first.
func (c *Connector) Interrupts() []InterruptRecord {
	c.mu.Lock()
	defer c.mu.Unlock()

	return append([]InterruptRecord(nil), c.interrupts...)
}

// WaitOutbound blocks until at least n outbound actions were answered since
// New, then returns the records kept. It fails when ctx ends or the
// connector closes first.
func (c *Connector) WaitOutbound(ctx context.Context, n int) ([]OutboundRecord, error) {
	if err := c.waitFor(ctx, func() bool { return c.stats.Outbound >= n }); err != nil {
		return c.Outbound(), fmt.Errorf("wait outbound: %w", err)
	}

	return c.Outbound(), nil
}

// Deliver delivers an inbound event to the default gateway (see DeliverTo).
func (c *Connector) Deliver(ev domain.MessageEvent) (DeliveryReceipt, error) {
	return c.DeliverTo("", ev)
}

// DeliverTo delivers an inbound event to a gateway: at once when its link is
// up and not idle, else into its buffer (with Config.AlwaysBuffer, always
// into its buffer, and written at once too, with its bufferId, when the link
// is up and not idle). An empty gatewayID means the default
// gateway: the one that most recently completed a handshake, else the only
// configured one, else whichever completes a handshake first. An empty
// source platform is filled with the descriptor's. It fails when the event
// has no chat id or the connector is closed.
func (c *Connector) DeliverTo(gatewayID string, ev domain.MessageEvent) (DeliveryReceipt, error) {
	if ev.Source.ChatID == "" {
		return DeliveryReceipt{}, fmt.Errorf("deliver: %w", ErrNoChatID)
	}
	if ev.Source.Platform == "" {
		ev.Source.Platform = c.cfg.Descriptor.Platform
	}

	return c.deliver(gatewayID, &entry{event: wire.AppendEvent(nil, ev), learn: learnEvent(ev)})
}

// DeliverInteraction forwards a Discord interaction body to the default
// gateway as a passthrough_forward (platform discord, POST /interactions,
// content-type application/json, the exact bytes), buffering it like an
// event when the gateway is idle or away. It fails when body is not one JSON
// object or the connector is closed.
func (c *Connector) DeliverInteraction(body []byte) (DeliveryReceipt, error) {
	return c.deliverInteraction("", body)
}

func (c *Connector) deliverInteraction(gatewayID string, body []byte) (DeliveryReceipt, error) {
	learn, err := learnInteraction(body)
	if err != nil {
		return DeliveryReceipt{}, fmt.Errorf("deliver interaction: %w", err)
	}

	return c.deliver(gatewayID, &entry{forward: append([]byte(nil), body...), learn: learn})
}

// Interrupt asks the default gateway to stop a session's running turn. It
// fails with ErrNotConnected when that gateway has no live link: an
// interrupt is not buffered, it would be stale by the time it arrived.
func (c *Connector) Interrupt(sessionKey, chatID string) error {
	return c.interrupt("", sessionKey, chatID)
}

func (c *Connector) interrupt(gatewayID, sessionKey, chatID string) error {
	if sessionKey == "" {
		return fmt.Errorf("interrupt: %w", ErrNoSessionKey)
	}

	c.mu.Lock()
	defer c.mu.Unlock()

	if c.closed {
		return fmt.Errorf("interrupt: %w", ErrClosed)
	}
	g := c.targetLocked(gatewayID)
	if g.live == nil || !g.live.enqueue(wire.AppendInterruptInbound(nil, sessionKey, chatID)) {
		return fmt.Errorf("interrupt gateway %q: %w", g.id, ErrNotConnected)
	}
	c.log.Info("interrupt sent", "gateway_id", g.id, "chat_id", chatID)

	return nil
}

func (c *Connector) deliver(gatewayID string, e *entry) (DeliveryReceipt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if c.closed {
		return DeliveryReceipt{}, fmt.Errorf("deliver: %w", ErrClosed)
	}

	g := c.targetLocked(gatewayID)
	if !c.cfg.AlwaysBuffer && g.live != nil && !g.idle &&
		g.live.enqueue(c.frameLocked(e, g.live, "")) {
		g.learn(e.learn)
		c.stats.Delivered++
		c.notifyLocked()
		c.log.Debug("inbound delivered", "gateway_id", g.id, "chat_id", e.learn.chatID)

		return DeliveryReceipt{Status: StatusDelivered, GatewayID: g.id}, nil
	}

	c.seq++
	e.seq = c.seq
	e.bufferID = fmt.Sprintf("buf-%d", c.seq)
	g.pending = append(g.pending, e)
	c.stats.Buffered++
	c.stats.Pending++
	if g.live != nil && !g.idle && g.live.enqueue(c.frameLocked(e, g.live, e.bufferID)) {
		g.learn(e.learn)
		c.stats.BufferedLive++
	}
	c.notifyLocked()
	c.log.Debug("inbound buffered", "gateway_id", g.id, "buffer_id", e.bufferID)

	return DeliveryReceipt{Status: StatusBuffered, GatewayID: g.id, BufferID: e.bufferID}, nil
}

// targetLocked resolves a gateway id, empty for the default gateway, to its
// state, creating it when needed. The unassigned bucket has the id "".
func (c *Connector) targetLocked(gatewayID string) *gateway {
	if gatewayID == "" {
		switch {
		case c.lastLive != "":
			gatewayID = c.lastLive
		case len(c.secrets) == 1:
			for id := range c.secrets {
				gatewayID = id
			}
		}
	}

	return c.gatewayLocked(gatewayID)
}

func (c *Connector) gatewayLocked(id string) *gateway {
	g, ok := c.gateways[id]
	if !ok {
		g = newGateway(id)
		c.gateways[id] = g
	}

	return g
}

// frameLocked encodes the frame of a delivery for one link.
func (c *Connector) frameLocked(e *entry, k *conn, bufferID string) []byte {
	if e.forward == nil {
		return wire.AppendInboundRaw(nil, e.event, bufferID)
	}

	f := domain.Forward{
		Platform: "discord",
		BotID:    k.bots["discord"],
		Method:   http.MethodPost,
		Path:     "/interactions",
		Headers:  [][2]string{{"content-type", "application/json"}},
		Body:     e.forward,
	}

	return wire.AppendForward(nil, f, bufferID)
}

// notifyLocked wakes every waiter.
func (c *Connector) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// waitFor blocks until cond, run with c.mu held, is true.
func (c *Connector) waitFor(ctx context.Context, cond func() bool) error {
	for {
		c.mu.Lock()
		ok, closed, ch := cond(), c.closed, c.changed
		c.mu.Unlock()

		switch {
		case ok:
			return nil
		case closed:
			return ErrClosed
		}

		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// secretsFor returns the secrets a gateway's token may be signed with.
func (c *Connector) secretsFor(gatewayID string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()

	if c.revoked[gatewayID] {
		return nil
	}

	return c.secrets[gatewayID]
}

// authenticate checks the upgrade token of r. It returns the gateway id, and
// expired when the token was genuine but is past its expiry.
func (c *Connector) authenticate(r *http.Request) (id string, expired bool, err error) {
	token := wire.BearerToken(r.Header.Get("Authorization"))
	id, err = wire.VerifyToken(token, c.secretsFor, c.cfg.Clock())

	switch {
	case err == nil:
		return id, false, nil
	case errors.Is(err, wire.ErrTokenExpired) && !c.cfg.Open:
		return id, true, nil
	case !c.cfg.Open:
		return "", false, err
	}

	if id == "" {
		id = claimedGateway(token)
	}
	if id == "" {
		id = AnonymousGateway
	}

	c.mu.Lock()
	revoked := c.revoked[id]
	c.mu.Unlock()
	if revoked {
		return "", false, wire.ErrTokenInvalid
	}
	c.log.Warn("accepting unauthenticated gateway in open mode", "gateway_id", id,
		"reason", err.Error())

	return id, false, nil
}

// claimedGateway returns the gateway id a token names, without checking it,
// or "" when the token does not have the contract's shape.
func claimedGateway(token string) string {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return ""
	}

	s := string(raw)
	sig := strings.LastIndexByte(s, ':')
	if sig < 0 {
		return ""
	}
	exp := strings.LastIndexByte(s[:sig], ':')
	if exp <= 0 {
		return ""
	}

	return s[:exp]
}
