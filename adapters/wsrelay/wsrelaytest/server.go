package wsrelaytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/wire"
)

// CloseUnauthorized is the close code the server sends when it refuses a
// credential after the upgrade.
const CloseUnauthorized = 4401

// writeWait bounds every write of the server.
const writeWait = 5 * time.Second

// ErrNoConnection means no gateway is connected to the server at the moment.
var ErrNoConnection = errors.New("wsrelaytest: no gateway connected")

// ErrServerClosed means Close was called.
var ErrServerClosed = errors.New("wsrelaytest: server closed")

// AuthPolicy says how the server refuses an upgrade whose token does not
// verify.
type AuthPolicy int

const (
	// RefuseUpgrade answers the upgrade with HTTP 401 and a body of
	// "expired" (expired token) or "unauthorized" (anything else).
	RefuseUpgrade AuthPolicy = iota
	// CloseAfterUpgrade accepts the upgrade, then closes the connection at
	// once with code 4401 and the reason "expired" or "unauthorized".
	CloseAfterUpgrade
)

// Dial records one upgrade request.
type Dial struct {
	// Authorization is the Authorization header as received; "" when the
	// gateway sent none.
	Authorization string
	// Token is the bearer token of the header; "" when there was none.
	Token string
	// GatewayID is the gateway id the token named, when it was well formed
	// and signed by one of the gateway's secrets.
	GatewayID string
	// Err is the verification error (one of the wire.ErrToken values); nil
	// when the token verified or authentication is off.
	Err error
	// Accepted reports whether the credentials were accepted.
	Accepted bool
}

// Outbound is one outbound frame the gateway sent.
type Outbound struct {
	// RequestID is the id a result must carry.
	RequestID string
	// Target is the platform and bot id the frame named; zero when the
	// frame named no platform.
	Target domain.Identity
	// Action is the action decoded with wire.DecodeAction.
	Action domain.Action
	// RawAction is the action object as sent.
	RawAction json.RawMessage
}

// Reply is an answer to an outbound action.
type Reply struct {
	// Result is sent as the result object (success, message_id, error,
	// ambiguous).
	Result domain.SendResult
	// ChatInfo, when set, adds a chat_info object with its name and type.
	ChatInfo *domain.ChatInfo
	// Raw, when not nil, is sent verbatim as the result object instead of
	// Result and ChatInfo.
	Raw json.RawMessage
	// Hold leaves the action unanswered; answer it later with Server.Reply,
	// or let it time out.
	Hold bool
}

// Responder decides the answer to each outbound action. It runs on the
// server's reader for the connection: it must not block. It may be called
// from several goroutines at once when several gateways are connected.
type Responder func(o Outbound) Reply

// Interrupt is one interrupt frame the gateway sent.
type Interrupt struct {
	SessionKey string
	// Reason is nil when the frame carried null or no reason.
	Reason *string
}

// Option configures a Server.
type Option func(*Server)

// WithSecrets turns authentication on and sets the secrets accepted for
// one gateway id (several during a rotation). It may be given once per
// gateway. Without any WithSecrets option every upgrade is accepted.
func WithSecrets(gatewayID string, secrets ...string) Option {
	return func(s *Server) {
		if s.secrets == nil {
			s.secrets = make(map[string][]string)
		}
		s.secrets[gatewayID] = append([]string(nil), secrets...)
	}
}

// WithAuthPolicy sets how a refused token is refused. Default RefuseUpgrade.
func WithAuthPolicy(p AuthPolicy) Option { return func(s *Server) { s.policy = p } }

// WithDescriptor sets the descriptor answered to hellos of d.Platform.
func WithDescriptor(d domain.Descriptor) Option {
	return func(s *Server) { s.descs[d.Platform] = d }
}

// WithResponder sets the responder. Default: DefaultResponder.
func WithResponder(r Responder) Option { return func(s *Server) { s.responder = r } }

// WithNow sets the clock that judges token expiry. Default time.Now.
func WithNow(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithoutIdleAck makes the server record going_idle without acknowledging
// it.
func WithoutIdleAck() Option { return func(s *Server) { s.idleAck = false } }

// WithoutDescriptors makes the server record hellos without answering them,
// so a handshake never completes.
func WithoutDescriptors() Option { return func(s *Server) { s.answerHellos = false } }

// DefaultDescriptor returns the descriptor the server answers a hello with
// when none was configured for its platform: Discord, 2000 characters, the
// discord markdown dialect, with the platform of the hello.
func DefaultDescriptor(platform string) domain.Descriptor {
	d := domain.DiscordDescriptor()
	d.Platform = platform

	return d
}

// Server is a connector for tests: a real WebSocket server on a loopback
// port that speaks the relay wire contract. It verifies upgrade tokens,
// answers hellos with descriptors and outbound actions through a responder,
// records everything the gateway sends, and lets a test script frames,
// replies, close codes, dropped connections and a half-open link.
//
// Every method is safe for concurrent use. Methods that send act on the
// connection accepted last ("the current connection") and fail with
// ErrNoConnection while there is none. The Next methods return what the
// gateway sent, across all connections, in arrival order, each item once.
type Server struct {
	http     *httptest.Server
	upgrader websocket.Upgrader
	now      func() time.Time
	done     chan struct{}
	wg       sync.WaitGroup
	msgIDs   atomic.Uint64

	mu           sync.Mutex
	secrets      map[string][]string
	policy       AuthPolicy
	descs        map[string]domain.Descriptor
	responder    Responder
	idleAck      bool
	answerHellos bool
	conns        map[*conn]struct{}
	cur          *conn
	dials        []Dial
	stalled      chan struct{}
	refuse       int
	closed       bool

	dialCount  *counter
	connCount  *counter
	handshakes *counter
	pings      *counter
	messages   *counter
	closes     *queue[int]
	dialQ      *queue[Dial]
	hellos     *queue[domain.Identity]
	outbounds  *queue[Outbound]
	acks       *queue[string]
	interrupts *queue[Interrupt]
	idles      *queue[struct{}]
}

// conn is one accepted gateway connection.
type conn struct {
	ws        *websocket.Conn
	wmu       sync.Mutex
	described bool // guarded by Server.mu
}

func (c *conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()

	if err := c.ws.SetWriteDeadline(time.Now().Add(writeWait)); err != nil {
		return fmt.Errorf("wsrelaytest write: %w", err)
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		return fmt.Errorf("wsrelaytest write: %w", err)
	}

	return nil
}

// NewServer starts a server on 127.0.0.1 with a free port. When tb is not
// nil, Close is registered as a cleanup of the test; otherwise the caller
// must call Close.
func NewServer(tb testing.TB, opts ...Option) *Server {
	s := &Server{
		now:          time.Now,
		done:         make(chan struct{}),
		descs:        make(map[string]domain.Descriptor),
		idleAck:      true,
		answerHellos: true,
		conns:        make(map[*conn]struct{}),
		dialCount:    newCounter(),
		connCount:    newCounter(),
		handshakes:   newCounter(),
		pings:        newCounter(),
		messages:     newCounter(),
		closes:       newQueue[int](),
		dialQ:        newQueue[Dial](),
		hellos:       newQueue[domain.Identity](),
		outbounds:    newQueue[Outbound](),
		acks:         newQueue[string](),
		interrupts:   newQueue[Interrupt](),
		idles:        newQueue[struct{}](),
		upgrader: websocket.Upgrader{
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}
	s.responder = s.DefaultResponder
	for _, o := range opts {
		o(s)
	}

	s.http = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	if tb != nil {
		tb.Cleanup(s.Close)
	}

	return s
}

// URL returns the server's base URL, http://127.0.0.1:<port>. A gateway
// normalizes it to ws://127.0.0.1:<port>/relay.
func (s *Server) URL() string { return s.http.URL }

// Close closes every connection without a close frame, stops the server
// and waits for all of its goroutines. It is idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	close(s.done)
	s.mu.Unlock()

	for _, c := range conns {
		c.ws.Close()
	}
	s.wg.Wait()
	s.http.Close()
}

// DefaultResponder answers every action with success and a fresh message
// id ("m-1", "m-2", ...). A get_chat_info is answered with success and no
// chat info.
func (s *Server) DefaultResponder(Outbound) Reply {
	n := s.msgIDs.Add(1)

	return Reply{Result: domain.SendResult{Success: true, MessageID: "m-" + strconv.FormatUint(n, 10)}}
}

// SetSecrets replaces the secrets accepted for one gateway id and turns
// authentication on. With no secrets, every token of that gateway is
// refused: the way to revoke it.
func (s *Server) SetSecrets(gatewayID string, secrets ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.secrets == nil {
		s.secrets = make(map[string][]string)
	}
	s.secrets[gatewayID] = append([]string(nil), secrets...)
}

// SetRefuseStatus makes the server refuse every upgrade with an HTTP status
// (such as 503, or 403 for an authentication refusal) before looking at its
// credentials; 0 accepts upgrades again. Refused upgrades are recorded as
// dials with Accepted false.
func (s *Server) SetRefuseStatus(status int) {
	s.mu.Lock()
	s.refuse = status
	s.mu.Unlock()
}

// SetAuthPolicy changes how refused tokens are refused.
func (s *Server) SetAuthPolicy(p AuthPolicy) {
	s.mu.Lock()
	s.policy = p
	s.mu.Unlock()
}

// SetDescriptor sets the descriptor answered to hellos of d.Platform.
func (s *Server) SetDescriptor(d domain.Descriptor) {
	s.mu.Lock()
	s.descs[d.Platform] = d
	s.mu.Unlock()
}

// SetResponder replaces the responder; nil restores DefaultResponder.
func (s *Server) SetResponder(r Responder) {
	if r == nil {
		r = s.DefaultResponder
	}

	s.mu.Lock()
	s.responder = r
	s.mu.Unlock()
}

// SetIdleAck sets whether going_idle is acknowledged.
func (s *Server) SetIdleAck(on bool) {
	s.mu.Lock()
	s.idleAck = on
	s.mu.Unlock()
}

// SetAnswerHellos sets whether hellos are answered with descriptors.
func (s *Server) SetAnswerHellos(on bool) {
	s.mu.Lock()
	s.answerHellos = on
	s.mu.Unlock()
}

// Descriptor returns the descriptor a hello of platform is answered with.
func (s *Server) Descriptor(platform string) domain.Descriptor {
	s.mu.Lock()
	defer s.mu.Unlock()

	if d, ok := s.descs[platform]; ok {
		return d
	}

	return DefaultDescriptor(platform)
}

// Dials returns every upgrade request so far, in order.
func (s *Server) Dials() []Dial {
	s.mu.Lock()
	defer s.mu.Unlock()

	return append([]Dial(nil), s.dials...)
}

// DialCount returns the number of upgrade requests so far.
func (s *Server) DialCount() int { return s.dialCount.get() }

// WaitDials waits until at least n upgrade requests arrived.
func (s *Server) WaitDials(ctx context.Context, n int) error { return s.dialCount.wait(ctx, n) }

// WaitConnections waits until at least n connections were accepted.
func (s *Server) WaitConnections(ctx context.Context, n int) error {
	return s.connCount.wait(ctx, n)
}

// WaitHandshakes waits until at least n connections were sent a
// descriptor.
func (s *Server) WaitHandshakes(ctx context.Context, n int) error {
	return s.handshakes.wait(ctx, n)
}

// Pings returns the number of pings received from gateways so far.
func (s *Server) Pings() int { return s.pings.get() }

// Messages returns the number of WebSocket data messages received from
// gateways so far; a message may carry several frames.
func (s *Server) Messages() int { return s.messages.get() }

// WaitPings waits until at least n pings were received.
func (s *Server) WaitPings(ctx context.Context, n int) error { return s.pings.wait(ctx, n) }

// NextClose returns the close code of the next connection the gateway
// closed: the code of its close frame, or 1006 when the connection ended
// without one. Connections the server closed itself are not reported.
func (s *Server) NextClose(ctx context.Context) (int, error) { return s.closes.next(ctx) }

// NextDial returns the next upgrade request.
func (s *Server) NextDial(ctx context.Context) (Dial, error) { return s.dialQ.next(ctx) }

// NextHello returns the identity of the next hello.
func (s *Server) NextHello(ctx context.Context) (domain.Identity, error) {
	return s.hellos.next(ctx)
}

// NextOutbound returns the next outbound frame.
func (s *Server) NextOutbound(ctx context.Context) (Outbound, error) {
	return s.outbounds.next(ctx)
}

// NextAck returns the buffer id of the next inbound_ack.
func (s *Server) NextAck(ctx context.Context) (string, error) { return s.acks.next(ctx) }

// NextInterrupt returns the next interrupt frame.
func (s *Server) NextInterrupt(ctx context.Context) (Interrupt, error) {
	return s.interrupts.next(ctx)
}

// NextGoingIdle waits for the next going_idle frame.
func (s *Server) NextGoingIdle(ctx context.Context) error {
	_, err := s.idles.next(ctx)
	return err
}

// current returns the connection accepted last.
func (s *Server) current() (*conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	switch {
	case s.closed:
		return nil, ErrServerClosed
	case s.cur == nil:
		return nil, ErrNoConnection
	}

	return s.cur, nil
}

// Send writes raw bytes as one WebSocket message on the current
// connection: one or several frames, a partial frame, anything.
func (s *Server) Send(raw []byte) error {
	c, err := s.current()
	if err != nil {
		return err
	}

	return c.write(raw)
}

// SendInbound sends an inbound frame, with bufferID when not empty.
func (s *Server) SendInbound(ev domain.MessageEvent, bufferID string) error {
	return s.Send(wire.AppendInbound(nil, ev, bufferID))
}

// SendForward sends a passthrough_forward frame, with bufferID when not
// empty.
func (s *Server) SendForward(f domain.Forward, bufferID string) error {
	return s.Send(wire.AppendForward(nil, f, bufferID))
}

// SendInterruptInbound sends an interrupt_inbound frame.
func (s *Server) SendInterruptInbound(sessionKey, chatID string) error {
	return s.Send(wire.AppendInterruptInbound(nil, sessionKey, chatID))
}

// SendDescriptor sends a descriptor frame.
func (s *Server) SendDescriptor(d domain.Descriptor) error {
	b, err := wire.AppendDescriptor(nil, d)
	if err != nil {
		return err
	}

	return s.Send(b)
}

// SendIdleAck sends a going_idle_ack frame.
func (s *Server) SendIdleAck() error { return s.Send(wire.AppendGoingIdleAck(nil)) }

// Reply answers an outbound action on the current connection. A Reply with
// Hold set sends nothing.
func (s *Server) Reply(requestID string, r Reply) error {
	if r.Hold {
		return nil
	}

	b, err := encodeReply(requestID, r)
	if err != nil {
		return err
	}

	return s.Send(b)
}

// CloseLink sends a close frame with code and reason on the current
// connection, then closes it.
func (s *Server) CloseLink(code int, reason string) error {
	c, err := s.current()
	if err != nil {
		return err
	}

	msg := websocket.FormatCloseMessage(code, reason)
	err = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(writeWait))
	c.ws.Close()
	if err != nil {
		return fmt.Errorf("wsrelaytest close: %w", err)
	}

	return nil
}

// Drop closes the current connection's TCP socket without a close frame, as
// a lost network does.
func (s *Server) Drop() error {
	c, err := s.current()
	if err != nil {
		return err
	}

	return c.ws.Close()
}

// Stall simulates a half-open link: the server stops reading from every
// connection, so it neither answers pings nor handles frames, while the
// sockets stay open. The next ping or message that arrives blocks the
// connection's reader until Resume or Close.
func (s *Server) Stall() {
	s.mu.Lock()
	if s.stalled == nil {
		s.stalled = make(chan struct{})
	}
	s.mu.Unlock()
}

// Resume ends a Stall.
func (s *Server) Resume() {
	s.mu.Lock()
	if s.stalled != nil {
		close(s.stalled)
		s.stalled = nil
	}
	s.mu.Unlock()
}

// waitUnstalled blocks while the server is stalled. It reports false when
// the server closed meanwhile.
func (s *Server) waitUnstalled() bool {
	s.mu.Lock()
	stalled := s.stalled
	s.mu.Unlock()

	if stalled == nil {
		return true
	}

	select {
	case <-stalled:
		return true
	case <-s.done:
		return false
	}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != wire.DialPath {
		http.NotFound(w, r)
		return
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "closed", http.StatusServiceUnavailable)

		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	d := Dial{Authorization: r.Header.Get("Authorization")}
	d.Token = wire.BearerToken(d.Authorization)

	s.mu.Lock()
	var secrets map[string][]string
	if s.secrets != nil {
		secrets = maps.Clone(s.secrets)
	}
	policy, refuse := s.policy, s.refuse
	s.mu.Unlock()

	if refuse != 0 {
		s.recordDial(d)
		http.Error(w, http.StatusText(refuse), refuse)

		return
	}

	if secrets != nil {
		lookup := func(id string) []string { return secrets[id] }
		d.GatewayID, d.Err = wire.VerifyToken(d.Token, lookup, s.now())
	}
	d.Accepted = d.Err == nil
	s.recordDial(d)

	reason := "unauthorized"
	if errors.Is(d.Err, wire.ErrTokenExpired) {
		reason = "expired"
	}

	if d.Err != nil && policy == RefuseUpgrade {
		http.Error(w, reason, http.StatusUnauthorized)
		return
	}

	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}

	if d.Err != nil {
		msg := websocket.FormatCloseMessage(CloseUnauthorized, reason)
		_ = ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(writeWait))
		ws.Close()

		return
	}

	c := &conn{ws: ws}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.Close()

		return
	}
	s.conns[c] = struct{}{}
	s.cur = c
	s.mu.Unlock()
	s.connCount.add()

	s.read(c)
}

func (s *Server) recordDial(d Dial) {
	s.mu.Lock()
	s.dials = append(s.dials, d)
	s.mu.Unlock()
	s.dialQ.push(d)
	s.dialCount.add()
}

// read serves one connection until it closes.
func (s *Server) read(c *conn) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		if s.cur == c {
			s.cur = nil
		}
		s.mu.Unlock()
		c.ws.Close()
	}()

	c.ws.SetPingHandler(func(data string) error {
		if !s.waitUnstalled() {
			return ErrServerClosed
		}
		s.pings.add()
		err := c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeWait))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}

		return err
	})

	var split wire.Splitter
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				s.closes.push(ce.Code)
			}

			return
		}
		if !s.waitUnstalled() {
			return
		}
		s.messages.add()

		if split.Feed(msg, func(line []byte) { s.handle(c, line) }) != nil {
			split.Reset()
		}
	}
}

// handle records one frame from the gateway and answers it.
func (s *Server) handle(c *conn, line []byte) {
	f, err := wire.DecodeFrame(line)
	if err != nil {
		return
	}

	switch f.Type {
	case wire.TypeHello:
		s.onHello(c, domain.Identity{Platform: f.Platform, BotID: f.BotID})
	case wire.TypeOutbound:
		s.onOutbound(c, f)
	case wire.TypeInboundAck:
		s.acks.push(f.BufferID)
	case wire.TypeInterrupt:
		s.interrupts.push(Interrupt{SessionKey: f.SessionKey, Reason: f.Reason})
	case wire.TypeGoingIdle:
		s.idles.push(struct{}{})
		s.mu.Lock()
		ack := s.idleAck
		s.mu.Unlock()
		if ack {
			_ = c.write(wire.AppendGoingIdleAck(nil))
		}
	}
}

func (s *Server) onHello(c *conn, id domain.Identity) {
	s.hellos.push(id)

	s.mu.Lock()
	answer := s.answerHellos
	first := answer && !c.described
	if answer {
		c.described = true
	}
	s.mu.Unlock()

	if !answer {
		return
	}

	b, err := wire.AppendDescriptor(nil, s.Descriptor(id.Platform))
	if err != nil || c.write(b) != nil {
		return
	}

	if first {
		s.handshakes.add()
	}
}

func (s *Server) onOutbound(c *conn, f wire.Frame) {
	a, _ := wire.DecodeAction(f.Action)
	o := Outbound{
		RequestID: f.RequestID,
		Action:    a,
		RawAction: f.Action,
	}
	if f.Platform != "" || f.BotID != "" {
		o.Target = domain.Identity{Platform: f.Platform, BotID: f.BotID}
	}
	s.outbounds.push(o)

	s.mu.Lock()
	responder := s.responder
	s.mu.Unlock()

	r := responder(o)
	if r.Hold {
		return
	}

	if b, err := encodeReply(o.RequestID, r); err == nil {
		_ = c.write(b)
	}
}

// encodeReply builds the outbound_result frame of a reply.
func encodeReply(requestID string, r Reply) ([]byte, error) {
	if r.Raw != nil {
		return wire.AppendResultRaw(nil, requestID, r.Raw), nil
	}

	if r.ChatInfo == nil {
		return wire.AppendResult(nil, requestID, r.Result), nil
	}

	obj := map[string]any{
		"success":   r.Result.Success,
		"chat_info": map[string]string{"name": r.ChatInfo.Name, "type": r.ChatInfo.Type},
	}
	if r.Result.MessageID != "" {
		obj["message_id"] = r.Result.MessageID
	}
	if r.Result.Error != "" {
		obj["error"] = r.Result.Error
	}
	if r.Result.Ambiguous {
		obj["ambiguous"] = true
	}

	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("wsrelaytest encode reply: %w", err)
	}

	return wire.AppendResultRaw(nil, requestID, raw), nil
}
