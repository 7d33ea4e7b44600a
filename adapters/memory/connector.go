package memory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/relay-go/relay/domain"
)

// ErrNoLink is returned by the Connector methods that write to the gateway
// when no link is up.
var ErrNoLink = errors.New("memory connector: no link")

// ErrUnknownRequest is returned by Connector.Answer for a request id that is
// not held.
var ErrUnknownRequest = errors.New("memory connector: unknown request")

// Outbound is one outbound action as the connector received it.
type Outbound struct {
	// RequestID correlates the action with its result.
	RequestID string
	// Action is a copy of the action sent.
	Action domain.Action
	// Target is the identity the frame named: zero when the action targets
	// the default identity, else the action's platform with its bot id, or
	// the bot id announced for that platform when the action named none.
	Target domain.Identity
}

// Reply is the connector's answer to one outbound action.
type Reply struct {
	// Result is the outbound result.
	Result domain.SendResult
	// ChatInfo answers a get_chat_info action; nil leaves both fields
	// missing, which the transport reads as the chat id and "dm".
	ChatInfo *domain.ChatInfo
	// Hold leaves the action unanswered; Connector.Answer may answer it
	// later. A held action the connector never answers makes the
	// transport time out.
	Hold bool
}

// Responder decides the connector's answer to an outbound action. It is
// called from the goroutine that sent the action, possibly from many at
// once, and must not block: use Reply.Hold to leave an action unanswered.
type Responder func(o Outbound) Reply

// DefaultResponder returns a Responder that answers every action with
// success and a fresh message id ("mem-1", "mem-2", ...), and every
// get_chat_info with no chat info.
func DefaultResponder() Responder {
	var seq atomic.Uint64

	return func(Outbound) Reply {
		id := "mem-" + strconv.FormatUint(seq.Add(1), 10)
		return Reply{Result: domain.SendResult{Success: true, MessageID: id}}
	}
}

// ResultResponder adapts a function of the action to a Responder. The
// function must not block.
func ResultResponder(f func(a domain.Action) domain.SendResult) Responder {
	return func(o Outbound) Reply { return Reply{Result: f(o.Action)} }
}

// Interrupt is one interrupt the gateway sent to the connector.
type Interrupt struct {
	SessionKey string
	// Reason is nil when the gateway sent null.
	Reason *string
}

// LinkClose records the end of one link.
type LinkClose struct {
	Code   int
	Reason string
	// ByGateway is true when the transport closed the link itself.
	ByGateway bool
}

// bufferEntry is one delivery the connector holds until the gateway acks it.
type bufferEntry struct {
	id      string
	event   *domain.MessageEvent
	forward *domain.Forward
}

// Connector is the connector side of an in-memory link: it accepts the
// transport's dials, answers hellos with descriptors and outbound actions
// with its Responder, delivers inbound traffic, and records what the
// gateway sent. Like a real connector it buffers inbound while its gateway
// is idle or offline and replays the buffer, with buffer ids, after the next
// handshake, dropping each entry once acknowledged.
//
// A Connector serves one Transport. All methods are safe for concurrent use
// and never block, except the Next methods, which wait for a record until
// their context ends.
type Connector struct {
	log         *slog.Logger
	descriptors []domain.Descriptor

	mu          sync.Mutex
	link        *link
	links       int
	idle        bool
	ackIdle     bool
	revoked     bool
	responder   Responder
	fallback    Responder
	held        map[string]*link
	buffer      []bufferEntry
	bufferSeq   int
	deliverySeq int

	hellos     journal[[]domain.Identity]
	outbounds  journal[Outbound]
	acks       journal[string]
	interrupts journal[Interrupt]
	goingIdles journal[struct{}]
	closes     journal[LinkClose]
}

// NewConnector returns a connector configured by cfg. It starts nothing.
func NewConnector(cfg Config) *Connector {
	cfg = cfg.withDefaults()
	fallback := DefaultResponder()
	responder := cfg.Responder
	if responder == nil {
		responder = fallback
	}

	return &Connector{
		log:         cfg.Logger,
		descriptors: append([]domain.Descriptor(nil), cfg.Descriptors...),
		ackIdle:     !cfg.IgnoreGoingIdle,
		responder:   responder,
		fallback:    fallback,
		held:        make(map[string]*link),
		// Until a gateway connects for the first time, inbound is buffered.
		idle: true,
	}
}

// NewPair returns a connector and a transport that dials it, both
// configured by cfg.
func NewPair(cfg Config) (*Transport, *Connector) {
	c := NewConnector(cfg)
	return c.NewTransport(cfg), c
}

// SetResponder replaces the responder for actions received from now on;
// nil restores the connector's default responder, whose message ids keep
// counting from where they were.
func (c *Connector) SetResponder(r Responder) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if r == nil {
		r = c.fallback
	}
	c.responder = r
}

// SetAckGoingIdle sets whether going_idle is acknowledged (and buffering
// starts) or ignored.
func (c *Connector) SetAckGoingIdle(ack bool) {
	c.mu.Lock()
	c.ackIdle = ack
	c.mu.Unlock()
}

// Answer answers a held outbound action. It returns ErrUnknownRequest when
// the id is not held (never sent, already answered, or its link closed).
func (c *Connector) Answer(requestID string, r Reply) error {
	c.mu.Lock()
	l, ok := c.held[requestID]
	delete(c.held, requestID)
	c.mu.Unlock()

	if !ok {
		return fmt.Errorf("answer %s: %w", requestID, ErrUnknownRequest)
	}
	if !l.push(frame{kind: kindResult, requestID: requestID, reply: r}) {
		return fmt.Errorf("answer %s: %w", requestID, ErrNoLink)
	}

	return nil
}

// PushInbound delivers an event on the current link as it is, with bufferID
// when it is not empty, whatever the buffering state. It returns ErrNoLink
// when no link is up. A delivery with a buffer id is not kept for replay;
// its ack is recorded (see NextAck).
func (c *Connector) PushInbound(ev domain.MessageEvent, bufferID string) error {
	ev = cloneEvent(ev)
	return c.pushRaw(frame{kind: kindInbound, event: ev, bufferID: bufferID})
}

// PushForward delivers a passthrough forward on the current link, like
// PushInbound.
func (c *Connector) PushForward(f domain.Forward, bufferID string) error {
	f = cloneForward(f)
	return c.pushRaw(frame{kind: kindForward, forward: f, bufferID: bufferID})
}

// PushInterrupt asks the gateway to stop a session's running turn. It
// returns ErrNoLink when no link is up.
func (c *Connector) PushInterrupt(sessionKey, chatID string) error {
	return c.pushRaw(frame{kind: kindInterrupt, sessionKey: sessionKey, chatID: chatID})
}

func (c *Connector) pushRaw(f frame) error {
	c.mu.Lock()
	l := c.link
	c.mu.Unlock()

	if l == nil || !l.push(f) {
		return fmt.Errorf("push %s: %w", f.kind, ErrNoLink)
	}

	return nil
}

// Publish hands the connector an event from the platform. It is delivered
// live when the gateway is connected and not idle; otherwise it is buffered
// and replayed after the next handshake. Publish returns the buffer id it
// assigned, or "" for a live delivery.
func (c *Connector) Publish(ev domain.MessageEvent) string {
	ev = cloneEvent(ev)
	return c.publish(bufferEntry{event: &ev})
}

// PublishForward hands the connector a passthrough forward, like Publish.
func (c *Connector) PublishForward(f domain.Forward) string {
	f = cloneForward(f)
	return c.publish(bufferEntry{forward: &f})
}

func (c *Connector) publish(e bufferEntry) string {
	c.mu.Lock()
	defer c.mu.Unlock()

	if c.link != nil && !c.idle && c.link.push(e.frame()) {
		return ""
	}

	c.bufferSeq++
	e.id = "buf-" + strconv.Itoa(c.bufferSeq)
	c.buffer = append(c.buffer, e)
	if c.link != nil && !c.idle {
		// The link closed under us: the entry waits for the next link.
		c.log.Debug("memory connector buffered on closing link", "buffer_id", e.id)
	}

	return e.id
}

func (e bufferEntry) frame() frame {
	if e.forward != nil {
		return frame{kind: kindForward, forward: *e.forward, bufferID: e.id}
	}

	return frame{kind: kindInbound, event: *e.event, bufferID: e.id}
}

// Buffered returns the ids of the deliveries waiting for an ack, in order.
func (c *Connector) Buffered() []string {
	c.mu.Lock()
	defer c.mu.Unlock()

	ids := make([]string, 0, len(c.buffer))
	for _, e := range c.buffer {
		ids = append(ids, e.id)
	}

	return ids
}

// Connected reports whether a link is up.
func (c *Connector) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.link != nil
}

// Idle reports whether the connector buffers inbound instead of
// delivering it live.
func (c *Connector) Idle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.link == nil || c.idle
}

// Links returns how many dials the connector accepted.
func (c *Connector) Links() int {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.links
}

// Drop ends the current link abruptly (close code 1006), as a lost
// connection does. It reports whether a link was up.
func (c *Connector) Drop() bool {
	return c.CloseLink(CloseAbnormal, "")
}

// CloseLink ends the current link with a close code and reason. The
// transport reads what was already queued, then sees the close. It reports
// whether a link was up.
func (c *Connector) CloseLink(code int, reason string) bool {
	c.mu.Lock()
	l := c.detachLocked(nil)
	c.mu.Unlock()

	if l == nil {
		return false
	}
	c.endLink(l, code, reason, false)

	return true
}

// Revoke revokes the gateway's credential: the current link closes with
// 4401 and every dial is refused with 4401 until Restore.
func (c *Connector) Revoke() {
	c.mu.Lock()
	c.revoked = true
	l := c.detachLocked(nil)
	c.mu.Unlock()

	if l != nil {
		c.endLink(l, CloseUnauthorized, "revoked", false)
	}
}

// Restore accepts dials again after Revoke.
func (c *Connector) Restore() {
	c.mu.Lock()
	c.revoked = false
	c.mu.Unlock()
}

// NextHello returns the identities announced on the next link, in dial
// order, waiting until ctx ends. When it returns, the transport has made
// that link its current one.
func (c *Connector) NextHello(ctx context.Context) ([]domain.Identity, error) {
	return c.hellos.next(ctx)
}

// NextOutbound returns the next outbound action received, in arrival
// order, waiting until ctx ends.
func (c *Connector) NextOutbound(ctx context.Context) (Outbound, error) {
	return c.outbounds.next(ctx)
}

// Outbounds returns every outbound action received so far.
func (c *Connector) Outbounds() []Outbound { return c.outbounds.all() }

// NextAck returns the buffer id of the next inbound_ack received, waiting
// until ctx ends.
func (c *Connector) NextAck(ctx context.Context) (string, error) {
	return c.acks.next(ctx)
}

// Acks returns every acknowledged buffer id so far, in order, repeats
// included.
func (c *Connector) Acks() []string { return c.acks.all() }

// NextInterrupt returns the next interrupt the gateway sent, waiting until
// ctx ends.
func (c *Connector) NextInterrupt(ctx context.Context) (Interrupt, error) {
	return c.interrupts.next(ctx)
}

// Interrupts returns every interrupt the gateway sent so far.
func (c *Connector) Interrupts() []Interrupt { return c.interrupts.all() }

// NextGoingIdle waits until ctx ends for the next going_idle the gateway
// sent.
func (c *Connector) NextGoingIdle(ctx context.Context) error {
	_, err := c.goingIdles.next(ctx)
	return err
}

// GoingIdles returns how many going_idle frames the gateway sent.
func (c *Connector) GoingIdles() int { return c.goingIdles.len() }

// NextClose returns how the next link ended, waiting until ctx ends.
func (c *Connector) NextClose(ctx context.Context) (LinkClose, error) {
	return c.closes.next(ctx)
}

// accept serves a dial: it answers every hello with a descriptor and then
// replays the buffer. It refuses with 4401 while revoked.
func (c *Connector) accept(identities []domain.Identity) (*link, error) {
	c.mu.Lock()
	if c.revoked {
		c.mu.Unlock()
		return nil, &CloseError{Code: CloseUnauthorized, Reason: "revoked"}
	}

	c.links++
	l := newLink(c.links, identities)
	old := c.detachLocked(nil)
	c.link = l
	c.idle = false
	for _, id := range identities {
		l.push(frame{kind: kindDescriptor, descriptor: c.descriptorFor(id)})
	}
	for _, e := range c.buffer {
		l.push(e.frame())
	}
	replayed := len(c.buffer)
	c.mu.Unlock()

	if old != nil {
		c.endLink(old, CloseReplaced, "replaced", false)
	}
	c.log.Debug("memory connector accepted link", "link", l.id, "replayed", replayed)

	return l, nil
}

// recordHello records the identities of a link once the transport has
// installed it, so that a test that saw the hello finds the transport
// connected.
func (c *Connector) recordHello(l *link) {
	c.hellos.add(slices.Clone(l.identities))
}

// descriptorFor returns the descriptor answering a hello. The caller holds
// c.mu.
func (c *Connector) descriptorFor(id domain.Identity) domain.Descriptor {
	for _, d := range c.descriptors {
		if d.Platform == id.Platform {
			return cloneDescriptor(d)
		}
	}

	return cloneDescriptor(c.descriptors[0])
}

// detachLocked makes the connector forget its link (only when it is l, or
// any link when l is nil) and returns the link it forgot. The caller holds
// c.mu.
func (c *Connector) detachLocked(l *link) *link {
	cur := c.link
	if cur == nil || (l != nil && cur != l) {
		return nil
	}
	c.link = nil
	c.idle = true
	for id, hl := range c.held {
		if hl == cur {
			delete(c.held, id)
		}
	}

	return cur
}

// endLink closes a detached link and records the close.
func (c *Connector) endLink(l *link, code int, reason string, byGateway bool) {
	if l.close(code, reason, byGateway) {
		c.closes.add(LinkClose{Code: code, Reason: reason, ByGateway: byGateway})
		c.log.Debug("memory connector link closed",
			"link", l.id, "close_code", code, "by_gateway", byGateway)
	}
}

// gatewayClosed is called by the transport when it closes a link itself.
func (c *Connector) gatewayClosed(l *link, code int, reason string) {
	c.mu.Lock()
	c.detachLocked(l)
	c.mu.Unlock()

	c.endLink(l, code, reason, true)
}

// current reports whether l is the connector's link. The caller holds c.mu.
func (c *Connector) currentLocked(l *link) bool { return c.link == l && l != nil }

// receiveOutbound handles an outbound frame written by the gateway.
func (c *Connector) receiveOutbound(l *link, o Outbound) error {
	c.mu.Lock()
	if !c.currentLocked(l) {
		c.mu.Unlock()
		return ErrNoLink
	}
	respond := c.responder
	c.mu.Unlock()

	reply := respond(o)

	// A held action is registered before it is recorded, so a test that
	// saw it recorded can answer it at once.
	if reply.Hold {
		c.mu.Lock()
		if c.currentLocked(l) {
			c.held[o.RequestID] = l
		}
		c.mu.Unlock()
	}
	c.outbounds.add(o)

	if !reply.Hold {
		l.push(frame{kind: kindResult, requestID: o.RequestID, reply: cloneReply(reply)})
	}

	return nil
}

// receiveInterrupt handles an interrupt frame written by the gateway.
func (c *Connector) receiveInterrupt(l *link, in Interrupt) error {
	c.mu.Lock()
	ok := c.currentLocked(l)
	c.mu.Unlock()

	if !ok {
		return ErrNoLink
	}
	c.interrupts.add(in)

	return nil
}

// receiveGoingIdle handles going_idle: when configured to, the connector
// starts buffering and acknowledges.
func (c *Connector) receiveGoingIdle(l *link) error {
	c.mu.Lock()
	if !c.currentLocked(l) {
		c.mu.Unlock()
		return ErrNoLink
	}
	ack := c.ackIdle
	if ack {
		c.idle = true
		l.push(frame{kind: kindGoingIdleAck})
	}
	c.mu.Unlock()

	c.goingIdles.add(struct{}{})

	return nil
}

// receiveAck handles inbound_ack: the entry leaves the buffer.
func (c *Connector) receiveAck(l *link, bufferID string) error {
	c.mu.Lock()
	if !c.currentLocked(l) {
		c.mu.Unlock()
		return ErrNoLink
	}
	for i, e := range c.buffer {
		if e.id == bufferID {
			c.buffer = append(c.buffer[:i], c.buffer[i+1:]...)
			break
		}
	}
	c.mu.Unlock()

	c.acks.add(bufferID)

	return nil
}

// CloseError is the close a link ended with, or the refusal of a dial.
type CloseError struct {
	Code   int
	Reason string
}

// Error names the close code and reason.
func (e *CloseError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("closed with code %d", e.Code)
	}

	return fmt.Sprintf("closed with code %d (%s)", e.Code, e.Reason)
}

func cloneEvent(ev domain.MessageEvent) domain.MessageEvent {
	ev.MediaURLs = slices.Clone(ev.MediaURLs)
	return ev
}

func cloneForward(f domain.Forward) domain.Forward {
	f.Headers = slices.Clone(f.Headers)
	f.Body = slices.Clone(f.Body)

	return f
}

func cloneDescriptor(d domain.Descriptor) domain.Descriptor {
	d.SupportedOps = slices.Clone(d.SupportedOps)
	return d
}

func cloneAction(a domain.Action) domain.Action {
	if a.ReplyTo != nil {
		r := *a.ReplyTo
		a.ReplyTo = &r
	}
	a.Metadata = maps.Clone(a.Metadata)
	a.Extra = maps.Clone(a.Extra)

	return a
}

func cloneReply(r Reply) Reply {
	if r.ChatInfo != nil {
		ci := *r.ChatInfo
		r.ChatInfo = &ci
	}

	return r
}
