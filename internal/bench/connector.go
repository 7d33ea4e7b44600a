package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/wire"
)

// Limits of the connector's writer: one WebSocket message carries at most
// maxBatchEvents inbound frames and stops growing past flushBytes. The same
// limits apply whatever the client, so every client is flooded alike.
const (
	maxBatchEvents = 64
	flushBytes     = 64 << 10
)

// Bench identities and scope: every event is a message in a guild channel,
// so a relay reply carries the re-attached guild scope in its metadata.
const (
	benchPlatform = domain.PlatformDiscord
	benchBot      = "bench-bot"
	benchGuild    = "bench-guild"
)

// ErrConnectorClosed is returned by Connector.Accept after Close.
var ErrConnectorClosed = errors.New("bench connector closed")

// Connector is a lean connector for benchmarks. It accepts gateways on
// /relay without authentication, answers each hello with a descriptor, and
// hands every link that said hello to Accept. On a link it answers each
// outbound frame with a successful outbound_result and each going_idle with
// going_idle_ack, and it floods inbound events on request (see
// Session.Flood).
//
// Build it with NewConnector, serve it with Serve. Accept and Close are
// safe for concurrent use.
type Connector struct {
	log        *slog.Logger
	descriptor []byte
	upgrader   websocket.Upgrader
	sessions   chan *Session
	srv        *http.Server

	closeOnce sync.Once
	closed    chan struct{}
	wg        sync.WaitGroup
}

// NewConnector returns a connector that advertises a Discord-like
// descriptor. A nil logger discards logs. It starts nothing.
func NewConnector(logger *slog.Logger) *Connector {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	desc, _ := json.Marshal(domain.Descriptor{
		ContractVersion:  1,
		Platform:         benchPlatform,
		Label:            "Bench",
		MaxMessageLength: 2000,
		MarkdownDialect:  "discord",
		LenUnit:          domain.UnitChars,
		Emoji:            domain.DefaultEmoji,
	})

	c := &Connector{
		log:        logger,
		descriptor: desc,
		upgrader: websocket.Upgrader{
			ReadBufferSize:  32 << 10,
			WriteBufferSize: 32 << 10,
		},
		sessions: make(chan *Session, 4),
		closed:   make(chan struct{}),
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/relay", c.handle)
	c.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	return c
}

// Serve accepts connections on ln until Close. It returns nil after Close.
func (c *Connector) Serve(ln net.Listener) error {
	err := c.srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}

	return fmt.Errorf("serve bench connector: %w", err)
}

// Accept returns the next link whose hello was answered. It blocks until
// one arrives, ctx ends, or the connector closes.
func (c *Connector) Accept(ctx context.Context) (*Session, error) {
	select {
	case s := <-c.sessions:
		return s, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("accept bench link: %w", ctx.Err())
	case <-c.closed:
		return nil, fmt.Errorf("accept bench link: %w", ErrConnectorClosed)
	}
}

// Close stops the server, closes every link and waits for their
// goroutines. It is idempotent.
func (c *Connector) Close(ctx context.Context) error {
	var err error

	c.closeOnce.Do(func() {
		close(c.closed)
		err = c.srv.Shutdown(ctx)
		_ = c.srv.Close()
	})

	c.wg.Wait()

	if err != nil {
		return fmt.Errorf("close bench connector: %w", err)
	}

	return nil
}

func (c *Connector) handle(w http.ResponseWriter, r *http.Request) {
	ws, err := c.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}

	s := newSession(ws, c.log)
	if err := s.greet(c.descriptor); err != nil {
		c.log.Warn("bench link refused", "error", err)
		ws.Close()

		return
	}

	c.wg.Add(2)
	go func() { defer c.wg.Done(); s.readLoop() }()
	go func() { defer c.wg.Done(); s.writeLoop() }()

	select {
	case c.sessions <- s:
	case <-c.closed:
		s.Close()
	}

	go func() {
		select {
		case <-c.closed:
			s.Close()
		case <-s.done:
		}
	}()
}

// Session is one gateway link of the bench connector. Its reader answers
// outbound frames; its writer coalesces those answers and, during a flood,
// inbound events into as few messages as the limits allow.
type Session struct {
	ws  *websocket.Conn
	log *slog.Logger

	// mu guards out, the frames the reader queued for the writer.
	mu   sync.Mutex
	out  []byte
	wake chan struct{}

	flood atomic.Pointer[flood]

	closeOnce sync.Once
	done      chan struct{} // closed when the reader ends
	stop      chan struct{} // closed to stop the writer
}

func newSession(ws *websocket.Conn, log *slog.Logger) *Session {
	return &Session{
		ws:   ws,
		log:  log,
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
		stop: make(chan struct{}),
	}
}

// Done is closed once the link ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// Close closes the link. It is idempotent.
func (s *Session) Close() {
	s.closeOnce.Do(func() {
		close(s.stop)
		_ = s.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
			time.Now().Add(time.Second))
		s.ws.Close()
	})
}

// greet reads the hello frames of the first message and answers each with
// the descriptor.
func (s *Session) greet(descriptor []byte) error {
	_ = s.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer s.ws.SetReadDeadline(time.Time{})

	_, msg, err := s.ws.ReadMessage()
	if err != nil {
		return fmt.Errorf("read hello: %w", err)
	}

	var out []byte
	var split wire.Splitter
	_ = split.Feed(msg, func(line []byte) {
		if f, err := wire.DecodeFrame(line); err == nil && f.Type == wire.TypeHello {
			out = wire.AppendDescriptorRaw(out, descriptor)
		}
	})
	if out == nil {
		return errors.New("read hello: the first message has no hello")
	}

	if err := s.ws.WriteMessage(websocket.TextMessage, out); err != nil {
		return fmt.Errorf("write descriptor: %w", err)
	}

	return nil
}

// queue hands frames to the writer.
func (s *Session) queue(frames []byte) {
	s.mu.Lock()
	s.out = append(s.out, frames...)
	s.mu.Unlock()
	s.signal()
}

func (s *Session) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// readLoop answers the gateway's frames until the link ends.
func (s *Session) readLoop() {
	defer close(s.done)
	defer s.Close()

	var (
		split   wire.Splitter
		msg     bytes.Buffer
		answers []byte
		seq     uint64
	)

	for {
		_, r, err := s.ws.NextReader()
		if err != nil {
			return
		}

		msg.Reset()
		if _, err := msg.ReadFrom(r); err != nil {
			return
		}

		now := time.Now()
		f := s.flood.Load()
		if f != nil {
			f.messages.Add(1)
		}
		answers = answers[:0]

		err = split.Feed(msg.Bytes(), func(line []byte) {
			kind, reqID, replyTo := scanFrame(line)
			switch kind {
			case wire.TypeOutbound:
				seq++
				answers = appendSuccess(answers, reqID, seq)
				if f != nil {
					f.reply(replyTo, now)
				}
			case wire.TypeGoingIdle:
				answers = wire.AppendGoingIdleAck(answers)
			}
		})
		if err != nil {
			return
		}

		if len(answers) > 0 {
			s.queue(answers)
		}
		if f != nil {
			s.signal()
		}
	}
}

// writeLoop writes the queued answers and, during a flood, the inbound
// events the flood allows, coalesced into messages.
func (s *Session) writeLoop() {
	var (
		buf   []byte
		timer = time.NewTimer(time.Hour)
		idx   []int
	)
	defer timer.Stop()

	for {
		s.mu.Lock()
		buf, s.out = s.out, buf[:0]
		s.mu.Unlock()

		f := s.flood.Load()
		idx = idx[:0]
		var wait time.Duration
		if f != nil {
			buf, idx, wait = f.fill(buf, idx, time.Now())
		}

		if len(buf) > 0 {
			now := time.Now()
			for _, i := range idx {
				f.sent[i].Store(now.UnixNano())
			}

			if err := s.ws.WriteMessage(websocket.TextMessage, buf); err != nil {
				if f != nil {
					f.fail(fmt.Errorf("write inbound: %w", err))
				}

				return
			}

			continue
		}

		var tick <-chan time.Time
		if wait > 0 {
			timer.Reset(wait)
			tick = timer.C
		}

		select {
		case <-s.wake:
		case <-tick:
		case <-s.stop:
			return
		case <-s.done:
			if f != nil {
				f.fail(errors.New("link closed during the flood"))
			}

			return
		}
		timer.Stop()
	}
}

// appendSuccess appends a successful outbound_result for reqID.
func appendSuccess(dst []byte, reqID []byte, seq uint64) []byte {
	dst = append(dst, `{"type":"outbound_result","requestId":"`...)
	dst = append(dst, reqID...)
	dst = append(dst, `","result":{"success":true,"message_id":"r`...)
	dst = strconv.AppendUint(dst, seq, 10)

	return append(dst, "\"}}\n"...)
}

// scanFrame reads the type, the request id and the reply_to of a frame a
// gateway wrote. Compact frames with plain ASCII ids, as every client of
// the bench writes them, are scanned without decoding; anything else goes
// through encoding/json.
func scanFrame(line []byte) (kind string, reqID, replyTo []byte) {
	const outboundPrefix = `{"type":"outbound","requestId":"`

	if bytes.HasPrefix(line, []byte(outboundPrefix)) {
		rest := line[len(outboundPrefix):]
		end := bytes.IndexByte(rest, '"')
		if end > 0 && bytes.IndexByte(rest[:end], '\\') < 0 {
			reqID = rest[:end]
			replyTo = scanString(rest[end:], `"reply_to":"`)

			return wire.TypeOutbound, reqID, replyTo
		}
	}

	var f struct {
		Type      string `json:"type"`
		RequestID string `json:"requestId"`
		Action    struct {
			ReplyTo *string `json:"reply_to"`
		} `json:"action"`
	}
	if json.Unmarshal(line, &f) != nil {
		return "", nil, nil
	}

	if f.Action.ReplyTo != nil {
		replyTo = []byte(*f.Action.ReplyTo)
	}

	return f.Type, []byte(f.RequestID), replyTo
}

// scanString returns the plain string value that follows key in b, or nil.
func scanString(b []byte, key string) []byte {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return nil
	}

	v := b[i+len(key):]
	end := bytes.IndexByte(v, '"')
	if end < 0 {
		return nil
	}

	return v[:end]
}
