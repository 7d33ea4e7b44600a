package memory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
)

// Errors the transport returns; wrapped with the operation that failed.
var (
	// ErrClosed means Disconnect was called.
	ErrClosed = errors.New("memory transport: closed")
	// ErrNotConnected means no link is up: Connect was not called, or the
	// transport is between links while it reconnects.
	ErrNotConnected = errors.New("memory transport: not connected")
)

// errLinkClosed is the cause of a write on a link that just closed.
var errLinkClosed = errors.New("link closed")

var (
	_ ports.Transport          = (*Transport)(nil)
	_ ports.Idler              = (*Transport)(nil)
	_ ports.DormantGoer        = (*Transport)(nil)
	_ ports.RevocationReporter = (*Transport)(nil)
)

// call is one outbound action waiting for its answer.
type call struct {
	link *link
	ch   chan Reply
}

// Transport is the gateway side of an in-memory link to a Connector. It
// implements ports.Transport, ports.Idler, ports.DormantGoer and
// ports.RevocationReporter with the semantics of a networked transport:
// results are correlated by request id, calls time out, a lost link fails
// the calls that waited on it and is re-dialed with backoff, and a
// credential revoked after a handshake is latched.
//
// See the package documentation for the concurrency rules.
type Transport struct {
	cfg  Config
	conn *Connector
	log  *slog.Logger

	mu        sync.Mutex
	handlers  ports.Handlers
	started   bool
	closing   bool
	link      *link
	pending   map[string]*call
	seq       uint64
	inflight  int
	drained   chan struct{}
	handshook bool

	stop       chan struct{}
	revoked    chan struct{}
	revokeOnce sync.Once
	closeOnce  sync.Once
	closed     chan struct{}
	wg         sync.WaitGroup
}

// NewTransport returns a transport that dials c, configured by cfg (the
// connector-side fields of cfg are ignored). It starts nothing: Connect
// does.
func (c *Connector) NewTransport(cfg Config) *Transport {
	cfg = cfg.withDefaults()

	return &Transport{
		cfg:     cfg,
		conn:    c,
		log:     cfg.Logger,
		pending: make(map[string]*call),
		stop:    make(chan struct{}),
		revoked: make(chan struct{}),
		closed:  make(chan struct{}),
	}
}

// SetHandlers registers the callbacks for connector-initiated frames. Each
// link uses the handlers registered when it was dialed.
func (t *Transport) SetHandlers(h ports.Handlers) {
	t.mu.Lock()
	t.handlers = h
	t.mu.Unlock()
}

// Connect dials the connector once and starts the link's reader and the
// reconnect loop. It fails when ctx already ended, the transport was closed
// or connected before, or the connector refused the dial (a revoked
// credential, for instance); it does not retry a refused first dial.
func (t *Transport) Connect(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("connect memory connector: %w", err)
	}

	t.mu.Lock()
	switch {
	case t.closing:
		t.mu.Unlock()
		return fmt.Errorf("connect memory connector: %w", ErrClosed)
	case t.started:
		t.mu.Unlock()
		return errors.New("connect memory connector: already connected")
	}
	t.started = true
	t.mu.Unlock()

	l, err := t.conn.accept(t.cfg.Identities)
	if err != nil {
		t.mu.Lock()
		t.started = false
		t.mu.Unlock()

		return fmt.Errorf("connect memory connector: %w", err)
	}

	if !t.install(l, true) {
		return fmt.Errorf("connect memory connector: %w", ErrClosed)
	}
	t.log.Info("memory transport connected", "link", l.id)

	return nil
}

// install makes l the current link and starts its reader, and the
// reconnect loop when supervise is set. It refuses, closing l, once the
// transport is closing.
func (t *Transport) install(l *link, supervise bool) bool {
	t.mu.Lock()
	if t.closing {
		t.mu.Unlock()
		t.conn.gatewayClosed(l, CloseNormal, "closing")

		return false
	}
	t.link = l
	h := t.handlers
	t.wg.Add(1)
	if supervise {
		t.wg.Add(1)
	}
	t.mu.Unlock()

	go t.read(l, h)
	if supervise {
		go t.supervise(l)
	}
	t.conn.recordHello(l)

	return true
}

// Handshake waits for the first descriptor of the current link, bounded by
// ctx and Config.HandshakeTimeout. Between links, while the transport
// re-dials, it fails at once with ErrNotConnected.
func (t *Transport) Handshake(ctx context.Context) (domain.Descriptor, error) {
	l, err := t.currentLink()
	if err != nil {
		return domain.Descriptor{}, fmt.Errorf("handshake: %w", err)
	}

	select {
	case <-l.handshakeDone:
	case <-l.done:
	case <-ctx.Done():
		return domain.Descriptor{}, fmt.Errorf("handshake: %w", ctx.Err())
	case <-t.cfg.After(t.cfg.HandshakeTimeout):
		return domain.Descriptor{}, fmt.Errorf("handshake: no descriptor within %s",
			t.cfg.HandshakeTimeout)
	}

	d, ok := l.handshake()
	if !ok {
		return domain.Descriptor{}, fmt.Errorf("handshake: %w", errLinkClosed)
	}

	return d, nil
}

// SendOutbound sends an action and waits for its result; see
// ports.Transport for the failure results.
func (t *Transport) SendOutbound(ctx context.Context, a domain.Action) domain.SendResult {
	return t.roundTrip(ctx, a).Result
}

// ChatInfo asks the connector about a chat with a get_chat_info action.
func (t *Transport) ChatInfo(ctx context.Context, chatID string) (domain.ChatInfo, error) {
	r := t.roundTrip(ctx, domain.Action{Op: domain.OpGetChatInfo, ChatID: chatID})
	if r.ChatInfo == nil && !r.Result.Success && r.Result.Error != "" {
		return domain.ChatInfo{}, fmt.Errorf("chat info: %s", r.Result.Error)
	}

	var info domain.ChatInfo
	if r.ChatInfo != nil {
		info = *r.ChatInfo
	}
	if info.Name == "" {
		info.Name = chatID
	}
	if info.Type == "" {
		info.Type = domain.ChatDM
	}

	return info, nil
}

// roundTrip writes an outbound action and waits for its reply.
func (t *Transport) roundTrip(ctx context.Context, a domain.Action) Reply {
	t.mu.Lock()
	switch {
	case t.closing:
		t.mu.Unlock()
		return Reply{Result: domain.ResultClosed}
	case t.link == nil:
		t.mu.Unlock()
		return Reply{Result: domain.ResultNotConnected}
	case ctx.Err() != nil:
		t.mu.Unlock()
		return Reply{Result: domain.ResultClosed}
	}
	l := t.link
	target, ok := resolveTarget(a.Target, l)
	if !ok {
		t.mu.Unlock()
		return Reply{Result: domain.ResultSendFailed(
			fmt.Errorf("no identity for platform %q", a.Target.Platform))}
	}
	t.seq++
	id := "req-" + strconv.FormatUint(t.seq, 10)
	c := &call{link: l, ch: make(chan Reply, 1)}
	t.pending[id] = c
	t.inflight++
	t.mu.Unlock()

	defer t.callDone()

	o := Outbound{RequestID: id, Action: cloneAction(a), Target: target}
	if err := t.write(l, func() error { return t.conn.receiveOutbound(l, o) }); err != nil {
		if t.forget(id) {
			t.log.Debug("memory transport write failed", "request_id", id, "op", a.Op)
			return Reply{Result: domain.ResultSendFailed(err)}
		}

		return <-c.ch
	}

	select {
	case r := <-c.ch:
		return r
	case <-t.cfg.After(t.cfg.OutboundTimeout):
	case <-ctx.Done():
	}

	if t.forget(id) {
		t.log.Warn("memory transport outbound timed out", "request_id", id, "op", a.Op)
		return Reply{Result: domain.ResultTimedOut}
	}

	return <-c.ch
}

// write hands a frame to the connector through l, failing when l closed.
func (t *Transport) write(l *link, deliver func() error) error {
	if !l.isOpen() {
		return errLinkClosed
	}
	if err := deliver(); err != nil {
		return errLinkClosed
	}

	return nil
}

// forget removes a pending call. It reports false when the call was
// already answered or failed, so its reply is waiting on its channel.
func (t *Transport) forget(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()

	if _, ok := t.pending[id]; !ok {
		return false
	}
	delete(t.pending, id)

	return true
}

// callDone ends the accounting of one in-flight call, waking Disconnect
// when it was the last.
func (t *Transport) callDone() {
	t.mu.Lock()
	defer t.mu.Unlock()

	t.inflight--
	if t.inflight == 0 && t.drained != nil {
		close(t.drained)
		t.drained = nil
	}
}

// SendInterrupt tells the connector to stop a session's running turn.
func (t *Transport) SendInterrupt(ctx context.Context, sessionKey string, reason *string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("send interrupt: %w", err)
	}

	l, err := t.currentLink()
	if err != nil {
		return fmt.Errorf("send interrupt: %w", err)
	}

	in := Interrupt{SessionKey: sessionKey}
	if reason != nil {
		r := *reason
		in.Reason = &r
	}
	if err := t.write(l, func() error { return t.conn.receiveInterrupt(l, in) }); err != nil {
		return fmt.Errorf("send interrupt: %w", err)
	}

	return nil
}

// GoIdle sends going_idle and waits for the acknowledgement, bounded by ctx
// and Config.IdleTimeout. Once acknowledged, the connector buffers inbound
// for this gateway until the next link.
func (t *Transport) GoIdle(ctx context.Context) error {
	_, err := t.goIdle(ctx)
	if err != nil {
		return fmt.Errorf("go idle: %w", err)
	}

	return nil
}

func (t *Transport) goIdle(ctx context.Context) (*link, error) {
	l, err := t.currentLink()
	if err != nil {
		return nil, err
	}
	if err := t.write(l, func() error { return t.conn.receiveGoingIdle(l) }); err != nil {
		return nil, err
	}

	select {
	case <-l.idleAcked:
		return l, nil
	case <-l.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.cfg.After(t.cfg.IdleTimeout):
		return nil, fmt.Errorf("no going_idle_ack within %s", t.cfg.IdleTimeout)
	}

	// The ack may have been read just before the link ended.
	select {
	case <-l.idleAcked:
		return l, nil
	default:
		return nil, errLinkClosed
	}
}

// GoDormant goes idle and, once the connector acknowledged, closes the link
// and waits for its reader to stop. The reconnect loop stays armed: it
// re-dials after Config.ReconnectDelay(1), and the connector replays what
// it buffered meanwhile. It reports false, with the cause, when no ack
// arrived; the link is then left up.
func (t *Transport) GoDormant(ctx context.Context) (bool, error) {
	l, err := t.goIdle(ctx)
	if err != nil {
		return false, fmt.Errorf("go dormant: %w", err)
	}

	t.conn.gatewayClosed(l, CloseNormal, "dormant")
	t.log.Info("memory transport dormant", "link", l.id)

	select {
	case <-l.done:
	case <-ctx.Done():
		// The link is closed; only the wait for its reader was cut short.
	}

	return true, nil
}

// Revoked returns a channel closed once a revocation was latched.
func (t *Transport) Revoked() <-chan struct{} { return t.revoked }

// Disconnect closes the transport for good. It stops accepting calls,
// waits for in-flight calls up to Config.CloseGrace (or until ctx ends),
// fails those left with the closed result, closes the link and stops the
// reconnect loop, then waits for every goroutine of the transport. Later
// and concurrent calls wait for the first to finish (or for their ctx) and
// return nil.
func (t *Transport) Disconnect(ctx context.Context) error {
	first := false
	t.closeOnce.Do(func() { first = true })
	if !first {
		select {
		case <-t.closed:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("disconnect: %w", ctx.Err())
		}
	}
	defer close(t.closed)

	t.mu.Lock()
	t.closing = true
	inflight := t.inflight
	if inflight > 0 {
		t.drained = make(chan struct{})
	}
	drained := t.drained
	t.mu.Unlock()

	if drained != nil {
		t.log.Info("memory transport draining", "in_flight", inflight)
		select {
		case <-drained:
		case <-t.cfg.After(t.cfg.CloseGrace):
		case <-ctx.Done():
		}
	}

	close(t.stop)

	t.mu.Lock()
	l := t.link
	t.link = nil
	calls := t.pending
	t.pending = make(map[string]*call)
	t.mu.Unlock()

	for _, c := range calls {
		c.ch <- Reply{Result: domain.ResultClosed}
	}
	if l != nil {
		t.conn.gatewayClosed(l, CloseNormal, "disconnect")
	}
	t.wg.Wait()

	t.log.Info("memory transport disconnected", "failed_calls", len(calls))

	return nil
}

// currentLink returns the current link or why there is none.
func (t *Transport) currentLink() (*link, error) {
	t.mu.Lock()
	defer t.mu.Unlock()

	switch {
	case t.closing:
		return nil, ErrClosed
	case t.link == nil:
		return nil, ErrNotConnected
	}

	return t.link, nil
}

// read is the reader of one link: it dispatches every frame, in order,
// until the link ends, then fails the calls that waited on it.
func (t *Transport) read(l *link, h ports.Handlers) {
	defer t.wg.Done()

	for {
		f, ok := l.next()
		if !ok {
			break
		}
		t.dispatch(l, h, f)
	}

	t.endLink(l)
}

func (t *Transport) dispatch(l *link, h ports.Handlers, f frame) {
	switch f.kind {
	case kindDescriptor:
		if l.completeHandshake(f.descriptor) {
			t.mu.Lock()
			t.handshook = true
			t.mu.Unlock()

			t.log.Info("memory transport handshake complete",
				"link", l.id, "platform", f.descriptor.Platform)
		}
	case kindResult:
		t.resolve(f.requestID, f.reply)
	case kindGoingIdleAck:
		l.mu.Lock()
		select {
		case <-l.idleAcked:
		default:
			close(l.idleAcked)
		}
		l.mu.Unlock()
	case kindInbound:
		if h.Inbound == nil {
			t.log.Debug("memory transport dropped inbound without handler", "link", l.id)
			return
		}
		d := t.delivery(f.bufferID)
		t.guard(f.kind, func() { h.Inbound(f.event, d) })
	case kindForward:
		if h.Forward == nil {
			t.log.Debug("memory transport dropped forward without handler", "link", l.id)
			return
		}
		d := t.delivery(f.bufferID)
		t.guard(f.kind, func() { h.Forward(f.forward, d) })
	case kindInterrupt:
		if h.Interrupt == nil {
			t.log.Debug("memory transport dropped interrupt without handler", "link", l.id)
			return
		}
		t.guard(f.kind, func() { h.Interrupt(f.sessionKey, f.chatID) })
	}
}

// guard runs a handler, recovering a panic so the reader keeps going.
func (t *Transport) guard(kind frameKind, handle func()) {
	defer func() {
		if v := recover(); v != nil {
			t.log.Error("memory transport handler panicked",
				"frame", kind.String(), "panic", fmt.Sprint(v))
		}
	}()

	handle()
}

func (t *Transport) delivery(bufferID string) ports.Delivery {
	if bufferID == "" {
		return ports.Delivery{}
	}

	return ports.Delivery{BufferID: bufferID, Acker: acker{t: t}}
}

// resolve hands a reply to the call waiting for it.
func (t *Transport) resolve(id string, r Reply) {
	t.mu.Lock()
	c, ok := t.pending[id]
	delete(t.pending, id)
	t.mu.Unlock()

	if !ok {
		t.log.Debug("memory transport result for unknown request", "request_id", id)
		return
	}
	c.ch <- r
}

// endLink forgets an ended link and fails the calls that waited on it.
func (t *Transport) endLink(l *link) {
	t.mu.Lock()
	if t.link == l {
		t.link = nil
	}
	var lost []*call
	for id, c := range t.pending {
		if c.link == l {
			delete(t.pending, id)
			lost = append(lost, c)
		}
	}
	t.mu.Unlock()

	for _, c := range lost {
		c.ch <- Reply{Result: domain.ResultLost}
	}
	close(l.done)
}

// supervise re-dials after every unexpected end of a link until the
// transport closes or a revocation is latched.
//
// An unauthorized close (4401, unless its reason is "expired") after a
// handshake ever completed is answered by one immediate re-dial; an
// unauthorized refusal of that dial, or an unauthorized close of the link
// it opened, latches the revocation. Any other end re-dials with
// Config.ReconnectDelay, the attempt count restarting after a link that
// completed its handshake.
func (t *Transport) supervise(l *link) {
	defer t.wg.Done()

	attempt := 0
	probing := false
	for {
		select {
		case <-l.done:
		case <-t.stop:
			return
		}
		select {
		case <-t.stop:
			return
		default:
		}

		code, reason := l.closeInfo()
		if _, ok := l.handshake(); ok {
			attempt = 0
		}
		unauthorized := code == CloseUnauthorized && reason != ReasonExpired
		if unauthorized && probing {
			t.latchRevoked()
			return
		}

		t.mu.Lock()
		probing = unauthorized && t.handshook
		t.mu.Unlock()

		t.log.Info("memory transport link ended", "link", l.id, "close_code", code)

		next, ok := t.redial(&attempt, probing)
		if !ok {
			return
		}
		l = next
	}
}

// redial dials until a link is up. When probing, the first dial happens at
// once and an unauthorized refusal latches the revocation. It reports false
// when the transport closed or was revoked.
func (t *Transport) redial(attempt *int, probing bool) (*link, bool) {
	immediate := probing
	for {
		if !immediate {
			*attempt++
			d := t.cfg.ReconnectDelay(*attempt)
			t.log.Info("memory transport reconnecting", "attempt", *attempt, "delay", d)
			if d > 0 {
				select {
				case <-t.cfg.After(d):
				case <-t.stop:
					return nil, false
				}
			}
		}
		immediate = false

		select {
		case <-t.stop:
			return nil, false
		default:
		}

		l, err := t.conn.accept(t.cfg.Identities)
		if err == nil {
			if !t.install(l, false) {
				return nil, false
			}
			t.log.Info("memory transport reconnected", "link", l.id)

			return l, true
		}

		var ce *CloseError
		if errors.As(err, &ce) && probing && ce.Code == CloseUnauthorized &&
			ce.Reason != ReasonExpired {
			t.latchRevoked()
			return nil, false
		}
		t.log.Warn("memory transport dial failed", "attempt", *attempt, "error", err.Error())
	}
}

func (t *Transport) latchRevoked() {
	t.revokeOnce.Do(func() {
		close(t.revoked)
		t.log.Error("memory transport credential revoked; not reconnecting")
	})
}

// resolveTarget returns the identity an outbound frame names for target: a
// platform without a bot id gets the one hello'd for it. It reports false
// for a platform no identity was hello'd for; such an action is never sent,
// as with the WebSocket transport.
func resolveTarget(target domain.Identity, l *link) (domain.Identity, bool) {
	if target.IsZero() || target.BotID != "" {
		return target, true
	}

	for _, id := range l.identities {
		if id.Platform == target.Platform {
			target.BotID = id.BotID
			return target, true
		}
	}

	return target, false
}

// acker sends inbound_ack on the transport's current link.
type acker struct{ t *Transport }

// AckDelivery sends an inbound_ack, or drops it when no link is up.
func (a acker) AckDelivery(bufferID string) {
	l, err := a.t.currentLinkForAck()
	if err == nil {
		err = a.t.write(l, func() error { return a.t.conn.receiveAck(l, bufferID) })
	}
	if err != nil {
		a.t.log.Debug("memory transport dropped ack", "buffer_id", bufferID)
	}
}

// currentLinkForAck returns the current link even while Disconnect drains,
// so deliveries taken during the grace are still acknowledged.
func (t *Transport) currentLinkForAck() (*link, error) {
	t.mu.Lock()
	defer t.mu.Unlock()

	if t.link == nil {
		return nil, ErrNotConnected
	}

	return t.link, nil
}
