package wsrelay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
	"github.com/relay-go/relay/wire"
)

const (
	// outQueue is the capacity of a link's write queue beyond its hellos.
	outQueue = 256
	// maxBatch bounds how many queued frames one message coalesces.
	maxBatch = 64
	// flushAt is the message size after which the writer stops coalescing.
	flushAt = 64 << 10
	// keepBuf is the largest buffer the reader and writer keep between
	// messages; a larger one is dropped after use.
	keepBuf = 1 << 20
)

// endKind says why a link ended.
type endKind int

const (
	endUnexpected endKind = iota
	endDormant
	endDisconnect
)

// reqKind is the kind of one write request.
type reqKind int

const (
	kindHello reqKind = iota
	kindOutbound
	kindInterrupt
	kindGoingIdle
	kindAck
	kindPong
	kindClose
)

// writeReq asks the writer to write one frame or control message. written,
// when not nil, receives the outcome of the write (buffered, never blocks).
type writeReq struct {
	kind     reqKind
	id       string // buffer id, session key, or pong payload
	identity domain.Identity
	reason   *string
	call     *call
	code     int
	written  chan error
}

// outcome resolves one outbound call: the connector's raw result, or a
// result the transport made itself.
type outcome struct {
	raw    json.RawMessage
	result domain.SendResult
	failed bool
}

// States of a call's frame, so that a caller giving up knows whether its
// frame can still be written.
const (
	callQueued    int32 = iota // in the queue; the writer has not taken it
	callClaimed                // the writer took it: it is being written
	callAbandoned              // the caller gave up first: never written
)

// call is one outbound request waiting for its result.
type call struct {
	id      string
	action  domain.Action
	state   atomic.Int32
	written chan error
	result  chan outcome
}

// link is one dialed WebSocket connection with its reader and writer.
type link struct {
	t          *Transport
	ws         *websocket.Conn
	gen        uint64
	started    time.Time
	handlers   ports.Handlers
	freshRetry bool // dialed as the fresh-token re-dial after a refusal

	out        chan writeReq
	stop       chan struct{} // closed to stop the writer
	stopOnce   sync.Once
	writerDone chan struct{}
	ready      chan struct{} // closed on the first descriptor
	done       chan struct{} // closed once the link fully ended

	// Guarded by t.mu.
	dead        bool
	owned       bool // the supervisor judges this link's end
	end         endKind
	pending     map[string]*call
	descs       map[string]domain.Descriptor
	first       domain.Descriptor
	hasFirst    bool
	idleWaiters []chan struct{}
}

func newLink(t *Transport, ws *websocket.Conn, gen uint64, h ports.Handlers) *link {
	return &link{
		t:          t,
		ws:         ws,
		gen:        gen,
		started:    t.cfg.Now(),
		handlers:   h,
		out:        make(chan writeReq, outQueue+len(t.cfg.Identities)),
		stop:       make(chan struct{}),
		writerDone: make(chan struct{}),
		ready:      make(chan struct{}),
		done:       make(chan struct{}),
		pending:    make(map[string]*call),
		descs:      make(map[string]domain.Descriptor),
	}
}

func (l *link) stopWriter() { l.stopOnce.Do(func() { close(l.stop) }) }

// writeLoop is the link's writer: data frames, pings, pongs and the
// deliberate close frame go through it (the reader writes only the close
// frames that end a link from its side). Frames queued together are
// coalesced into one message, built in one reused buffer.
func (l *link) writeLoop() {
	defer l.t.wg.Done()
	defer close(l.writerDone)

	cfg := &l.t.cfg
	ping := time.NewTicker(cfg.PingInterval)
	defer ping.Stop()

	w := batchWriter{l: l}
	for {
		select {
		case <-l.stop:
			return
		case <-ping.C:
			err := l.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(cfg.WriteTimeout))
			if err != nil {
				l.abort(fmt.Errorf("write ping: %w", err))
				return
			}
		case r := <-l.out:
			w.batch = append(w.batch[:0], r)
		drain:
			for len(w.batch) < maxBatch {
				select {
				case r := <-l.out:
					w.batch = append(w.batch, r)
				default:
					break drain
				}
			}
			if !w.writeBatch() {
				return
			}
		}
	}
}

// batchWriter holds the writer's reusable state.
type batchWriter struct {
	l       *link
	batch   []writeReq
	buf     []byte
	waiting []chan error
}

// writeBatch writes the queued requests in order, coalescing frames into as
// few messages as possible. It reports whether the writer goes on.
func (w *batchWriter) writeBatch() bool {
	for i, r := range w.batch {
		var err error
		switch r.kind {
		case kindPong, kindClose:
			if err = w.flush(); err == nil {
				err = w.control(r)
			}
			if r.kind == kindClose && err == nil {
				w.notifyRest(w.batch[i+1:], ErrLinkLost)
				return false
			}
		default:
			err = w.appendFrame(r)
			if err == nil && len(w.buf) >= flushAt {
				err = w.flush()
			}
		}
		if err != nil && !errors.Is(err, errEncode) {
			w.l.abort(err)
			w.notifyRest(w.batch[i+1:], err)
			return false
		}
	}

	if err := w.flush(); err != nil {
		w.l.abort(err)
		return false
	}

	return true
}

var errEncode = errors.New("encode frame")

// appendFrame appends one frame to the pending message. An action that
// cannot be encoded fails only its own request.
func (w *batchWriter) appendFrame(r writeReq) error {
	switch r.kind {
	case kindHello:
		w.buf = wire.AppendHello(w.buf, r.identity)
	case kindOutbound:
		if !r.call.state.CompareAndSwap(callQueued, callClaimed) {
			return nil
		}
		buf, err := wire.AppendOutbound(w.buf, r.call.id, r.call.action)
		w.buf = buf
		if err != nil {
			notify(r.written, fmt.Errorf("%w: %w", errEncode, err))
			return errEncode
		}
	case kindInterrupt:
		w.buf = wire.AppendInterrupt(w.buf, r.id, r.reason)
	case kindGoingIdle:
		w.buf = wire.AppendGoingIdle(w.buf)
	case kindAck:
		w.buf = wire.AppendInboundAck(w.buf, r.id)
	}

	if r.written != nil {
		w.waiting = append(w.waiting, r.written)
	}

	return nil
}

// flush writes the pending message, if any, and tells its requests.
func (w *batchWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}

	ws := w.l.ws
	err := ws.SetWriteDeadline(time.Now().Add(w.l.t.cfg.WriteTimeout))
	if err == nil {
		err = ws.WriteMessage(websocket.TextMessage, w.buf)
	}
	if err != nil {
		err = fmt.Errorf("write frame: %w", err)
	}

	for _, ch := range w.waiting {
		notify(ch, err)
	}
	clear(w.waiting)
	w.waiting = w.waiting[:0]
	if cap(w.buf) > keepBuf {
		w.buf = nil
	} else {
		w.buf = w.buf[:0]
	}

	return err
}

// control writes one control message.
func (w *batchWriter) control(r writeReq) error {
	deadline := time.Now().Add(w.l.t.cfg.WriteTimeout)
	var err error
	switch r.kind {
	case kindPong:
		err = w.l.ws.WriteControl(websocket.PongMessage, []byte(r.id), deadline)
	case kindClose:
		code := r.code
		if code == 0 {
			code = websocket.CloseNormalClosure
		}
		err = w.l.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(code, ""), deadline)
	}
	if err != nil {
		return fmt.Errorf("write control: %w", err)
	}

	return nil
}

func (w *batchWriter) notifyRest(rest []writeReq, err error) {
	for _, r := range rest {
		notify(r.written, err)
	}
	for _, ch := range w.waiting {
		notify(ch, err)
	}
	w.waiting = w.waiting[:0]
}

func notify(ch chan error, err error) {
	if ch != nil {
		select {
		case ch <- err:
		default:
		}
	}
}

// abort ends the link after a write failure: closing the socket unblocks
// the reader, which finishes the link.
func (l *link) abort(err error) {
	l.t.log.Warn("relay write failed", "dial", l.gen, "error", err)
	l.ws.Close()
}

// readLoop is the link's only reader. It refreshes the read deadline on
// every message, ping and pong, splits messages into frames and dispatches
// them. When it ends, it finishes the link.
func (l *link) readLoop() {
	defer l.t.wg.Done()

	cfg := &l.t.cfg
	ws := l.ws
	extend := func() { _ = ws.SetReadDeadline(time.Now().Add(cfg.ReadTimeout)) }

	ws.SetReadLimit(cfg.ReadLimit)
	ws.SetPongHandler(func(string) error {
		extend()
		return nil
	})
	ws.SetPingHandler(func(data string) error {
		extend()
		select {
		case l.out <- writeReq{kind: kindPong, id: data}:
		default:
		}

		return nil
	})

	split := wire.Splitter{MaxLine: int(cfg.ReadLimit)}
	var msg bytes.Buffer
	var err error
	for {
		extend()

		var r io.Reader
		if _, r, err = ws.NextReader(); err != nil {
			break
		}

		msg.Reset()
		if _, err = msg.ReadFrom(r); err != nil {
			break
		}

		if err = split.Feed(msg.Bytes(), l.dispatch); err != nil {
			// A frame pending across messages outgrew the limit: the
			// same verdict as an oversized message. The close is written
			// here rather than through the writer, which is about to stop;
			// WriteControl is safe beside a concurrent writer.
			_ = ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseMessageTooBig, ""),
				time.Now().Add(cfg.WriteTimeout))

			break
		}

		if msg.Cap() > keepBuf {
			msg = bytes.Buffer{}
		}
	}

	l.finish(err)
}

// finish ends the link after its reader stopped: it closes the socket,
// waits for the writer, fails the pending calls, judges a 4401 close, and
// closes done.
func (l *link) finish(readErr error) {
	t := l.t
	l.ws.Close()
	l.stopWriter()
	<-l.writerDone

	code, reason := closeInfo(readErr)

	t.mu.Lock()
	l.dead = true
	if t.link == l {
		t.link = nil
	}
	pending := l.pending
	l.pending = nil
	closing, end, wasUp := t.closing, l.end, l.hasFirst
	if l.owned && t.abandons(end) {
		// Mark the supervisor stopped together with the link's end, so
		// that a Connect right after it dials anew.
		t.endSupervisionLocked()
	}

	// The fresh-token link answers for the refusal that caused it only
	// while it is young: once it stayed up StableAfter, as long as it takes
	// the backoff ladder to start again, a 4401 on it is a new refusal.
	fresh := l.freshRetry && t.cfg.Now().Sub(l.started) < t.cfg.StableAfter
	revoke := false
	if end == endUnexpected && !closing && code == CloseUnauthorized &&
		reason != closeReasonExpired && t.handshaken {
		if fresh {
			revoke = true
		} else {
			t.authRetry = true
		}
	}

	fail := domain.ResultLost
	if closing {
		fail = domain.ResultClosed
	}
	for _, c := range pending {
		c.result <- outcome{result: fail, failed: true}
	}
	t.signalDrainedLocked()
	t.mu.Unlock()

	if wasUp {
		t.cfg.Metrics.Connected(false)
	}

	switch {
	case revoke:
		t.latchRevocation()
	case end != endUnexpected || closing:
		t.log.Info("relay link closed", "dial", l.gen)
	case code == CloseUnauthorized:
		t.log.Warn("relay link refused", "dial", l.gen, "close_code", code,
			"close_reason", reason)
	default:
		t.log.Warn("relay link lost", "dial", l.gen, "close_code", code, "error", readErr)
	}

	close(l.done)
}

// signalDrainedLocked closes the drain signal once no call is pending while
// the transport is closing. t.mu is held.
func (t *Transport) signalDrainedLocked() {
	if !t.closing || t.drained == nil {
		return
	}

	if t.link != nil && len(t.link.pending) > 0 {
		return
	}

	select {
	case <-t.drained:
	default:
		close(t.drained)
	}
}

// dispatch handles one frame line. A malformed line is logged without its
// content and skipped; a panic in a handler is recovered so the reader
// never dies of it.
func (l *link) dispatch(line []byte) {
	defer func() {
		if p := recover(); p != nil {
			l.t.log.Error("relay frame handler panicked", "dial", l.gen,
				"panic_type", fmt.Sprintf("%T", p), "stack", string(debug.Stack()))
		}
	}()

	f, err := wire.DecodeFrame(line)
	if err != nil {
		l.t.log.Warn("relay frame skipped: not a JSON object", "dial", l.gen, "bytes", len(line))
		return
	}

	switch f.Type {
	case wire.TypeDescriptor:
		l.onDescriptor(f)
	case wire.TypeInbound:
		l.onInbound(f)
	case wire.TypeOutboundResult:
		l.onResult(f)
	case wire.TypeInterruptInbound:
		if h := l.handlers.Interrupt; h != nil {
			h(f.SessionKey, f.ChatID)
		}
	case wire.TypeGoingIdleAck:
		l.onIdleAck()
	case wire.TypePassthroughForward:
		l.onForward(f)
	default:
		l.t.log.Debug("relay frame ignored", "dial", l.gen, "frame_type", f.Type)
	}
}

func (l *link) onDescriptor(f wire.Frame) {
	t := l.t
	d, err := domain.DecodeDescriptor(f.Descriptor)
	if err != nil {
		t.log.Warn("relay descriptor skipped", "dial", l.gen, "error", err)
		return
	}

	t.mu.Lock()
	l.descs[d.Platform] = d
	first := !l.hasFirst
	if first {
		l.first, l.hasFirst = d, true
		t.handshaken = true
		close(l.ready)
	}
	t.mu.Unlock()

	if first {
		t.cfg.Metrics.Connected(true)
		t.log.Info("relay handshake complete", "dial", l.gen, "platform", d.Platform)
	}
}

func (l *link) delivery(bufferID string) ports.Delivery {
	if bufferID == "" {
		return ports.Delivery{}
	}

	return ports.Delivery{BufferID: bufferID, Acker: l.t}
}

func (l *link) onInbound(f wire.Frame) {
	h := l.handlers.Inbound
	if h == nil {
		l.t.log.Debug("relay inbound dropped: no handler", "dial", l.gen)
		return
	}

	ev, err := wire.DecodeEvent(f.Event)
	if err != nil {
		l.t.log.Warn("relay inbound skipped", "dial", l.gen, "error", err)
		return
	}

	h(ev, l.delivery(f.BufferID))
}

func (l *link) onForward(f wire.Frame) {
	h := l.handlers.Forward
	if h == nil {
		l.t.log.Debug("relay forward dropped: no handler", "dial", l.gen)
		return
	}

	fw, err := wire.DecodeForward(f.Forward)
	if err != nil {
		l.t.log.Warn("relay forward skipped", "dial", l.gen, "error", err)
		return
	}

	h(fw, l.delivery(f.BufferID))
}

func (l *link) onResult(f wire.Frame) {
	t := l.t
	t.mu.Lock()
	defer t.mu.Unlock()

	c, ok := l.pending[f.RequestID]
	if !ok {
		t.log.Debug("relay result ignored: unknown request", "dial", l.gen,
			"request_id", f.RequestID)
		return
	}

	delete(l.pending, f.RequestID)
	c.result <- outcome{raw: f.Result}
	t.signalDrainedLocked()
}

func (l *link) onIdleAck() {
	t := l.t
	t.mu.Lock()
	waiters := l.idleWaiters
	l.idleWaiters = nil
	t.mu.Unlock()

	for _, ch := range waiters {
		close(ch)
	}
}
