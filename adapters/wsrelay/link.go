package wsrelay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
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
// An outbound request carries its call instead, with the call's generation
// and request id as they were when it was queued: the writer resolves the
// call itself when the write fails, and never touches a call that was
// reused for another request since.
type writeReq struct {
	kind     reqKind
	id       string // request id, buffer id, session key, or pong payload
	identity domain.Identity
	reason   *string
	call     *call
	gen      uint64 // the call's generation, for kindOutbound
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
// frame can still be written, and a finished call knows whether the writer
// is done reading it. They sit in the low bits of call.state, under the
// call's generation.
const (
	callQueued    uint64 = iota // in the queue; the writer has not taken it
	callClaimed                 // the writer took it and is encoding it
	callAbandoned               // the caller gave up first: never written
	callEncoded                 // encoded: the writer reads it no more
	callStateBits = 2
	callStateMask = 1<<callStateBits - 1
)

// call is one outbound request waiting for its result. Calls are pooled:
// each use gets a new generation, and exactly one outcome is sent on result
// per use, by whoever removes the call from its link's pending map.
type call struct {
	id     string
	action domain.Action
	// state is generation<<callStateBits | frame state.
	state  atomic.Uint64
	result chan outcome // capacity 1

	// Guarded by the link's pmu while the call is pending.
	written  bool      // the frame reached the socket
	gaveUp   bool      // the caller's ctx ended while the frame was written
	deadline time.Time // when an unanswered written call times out
}

var callPool = sync.Pool{New: func() any { return &call{result: make(chan outcome, 1)} }}

// newCall takes a call from the pool for one request and returns it with
// its generation.
func newCall(id string, a domain.Action) (*call, uint64) {
	c := callPool.Get().(*call)
	gen := c.state.Load()>>callStateBits + 1
	c.state.Store(gen << callStateBits)
	c.id, c.action = id, a
	c.written, c.gaveUp, c.deadline = false, false, time.Time{}

	return c, gen
}

// releaseCall returns a finished call (its outcome received) to the pool,
// unless the writer may still read it: a call still queued is first
// marked abandoned so the writer never claims it, and a call the writer
// claimed but has not finished encoding is left to the collector.
func releaseCall(c *call, gen uint64) {
	queued := gen<<callStateBits | callQueued
	if !c.state.CompareAndSwap(queued, gen<<callStateBits|callAbandoned) &&
		c.state.Load()&callStateMask == callClaimed {
		return
	}

	c.id, c.action = "", domain.Action{}
	callPool.Put(c)
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
	sweeper    *time.Timer   // times out written calls; see sweep
	stop       chan struct{} // closed to stop the writer
	stopOnce   sync.Once
	writerDone chan struct{}
	ready      chan struct{} // closed on the first descriptor
	done       chan struct{} // closed once the link fully ended

	// pmu guards pending, swept and the pending calls' guarded fields.
	// Outbound calls take only this lock, never t.mu.
	pmu     sync.Mutex
	pending map[string]*call // nil once the link finished
	swept   bool             // the sweeper is armed

	// Guarded by t.mu.
	dead        bool
	owned       bool // the supervisor judges this link's end
	end         endKind
	descs       map[string]domain.Descriptor
	first       domain.Descriptor
	hasFirst    bool
	idleWaiters []chan struct{}
}

func newLink(t *Transport, ws *websocket.Conn, gen uint64, h ports.Handlers) *link {
	l := &link{
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
	l.sweeper = time.AfterFunc(time.Hour, l.sweep)
	l.sweeper.Stop()

	return l
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
			w.collect()
			if !w.writeBatch() {
				return
			}
		}
	}
}

// collect adds the requests already queued to the batch, up to maxBatch.
// When the queue runs dry before that, the writer yields the processor
// once and collects again: goroutines that are runnable at that moment
// (typically callers about to queue their frames, woken by the same
// inbound message) run first, so their frames share this message instead
// of costing one write each. Without other runnable goroutines the yield
// returns at once.
func (w *batchWriter) collect() {
	yielded := false
	for len(w.batch) < maxBatch {
		select {
		case r := <-w.l.out:
			w.batch = append(w.batch, r)
		default:
			if yielded {
				return
			}
			yielded = true
			runtime.Gosched()
		}
	}
}

// batchWriter holds the writer's reusable state.
type batchWriter struct {
	l       *link
	batch   []writeReq
	buf     []byte
	waiting []chan error
	calls   []sentCall // outbound calls in buf
}

// sentCall is an outbound call encoded into the pending message.
type sentCall struct {
	c  *call
	id string
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
		c, base := r.call, r.gen<<callStateBits
		if !c.state.CompareAndSwap(base|callQueued, base|callClaimed) {
			return nil // abandoned by its caller: never written
		}
		buf, err := wire.AppendOutbound(w.buf, r.id, c.action)
		w.buf = buf
		c.state.Store(base | callEncoded)
		if err != nil {
			w.l.resolve(c, r.id, domain.ResultSendFailed(err))
			return errEncode
		}
		w.calls = append(w.calls, sentCall{c: c, id: r.id})
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
	if len(w.calls) > 0 {
		w.l.written(w.calls, err)
		clear(w.calls)
		w.calls = w.calls[:0]
	}
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

// notifyRest tells the requests the writer will not write, and those of
// the unwritten message, that they failed with err. Outbound calls queued
// behind a close frame (err is ErrLinkLost) are left pending: the link's
// end fails them.
func (w *batchWriter) notifyRest(rest []writeReq, err error) {
	lost := errors.Is(err, ErrLinkLost)
	for _, r := range rest {
		if r.kind == kindOutbound && !lost {
			w.l.resolve(r.call, r.id, domain.ResultSendFailed(sendCause(err)))
		}
		notify(r.written, err)
	}
	for _, ch := range w.waiting {
		notify(ch, err)
	}
	w.waiting = w.waiting[:0]
	if len(w.calls) > 0 && !lost {
		w.l.written(w.calls, err)
	}
	clear(w.calls)
	w.calls = w.calls[:0]
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

	l.pmu.Lock()
	pending := l.pending
	l.pending = nil
	l.sweeper.Stop() // sweep re-arms only while pending is not nil
	fail := domain.ResultLost
	if t.closed.Load() {
		fail = domain.ResultClosed
	}
	for _, c := range pending {
		c.result <- outcome{result: fail, failed: true}
	}
	t.signalDrained(l)
	l.pmu.Unlock()

	t.mu.Lock()
	l.dead = true
	if t.link == l {
		t.setLinkLocked(nil)
	}
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

// signalDrained closes the drain signal once no call of l is pending while
// the transport is closing. l.pmu is held.
func (t *Transport) signalDrained(l *link) {
	if len(l.pending) == 0 && t.closed.Load() {
		t.drainOnce.Do(func() { close(t.drained) })
	}
}

// resolve gives a pending call of l its outcome: it fails the call with
// res, unless the call is no longer pending under id (resolved already, or
// reused for another request). It reports whether it did.
func (l *link) resolve(c *call, id string, res domain.SendResult) bool {
	l.pmu.Lock()
	defer l.pmu.Unlock()

	return l.resolveLocked(c, id, outcome{result: res, failed: true})
}

// resolveLocked removes a pending call and sends it o. l.pmu is held.
func (l *link) resolveLocked(c *call, id string, o outcome) bool {
	if p, ok := l.pending[id]; !ok || p != c {
		return false
	}
	delete(l.pending, id)
	c.result <- o
	l.t.signalDrained(l)

	return true
}

// written records the outcome of the message that carried calls. A failed
// write fails them; a successful one starts their OutboundTimeout, except
// for a call whose caller gave up meanwhile, which times out at once. The
// sweeper is armed when it was idle.
func (l *link) written(calls []sentCall, err error) {
	now := time.Now()
	deadline := now.Add(l.t.cfg.OutboundTimeout)
	failure := domain.ResultSendFailed(sendCause(err))

	l.pmu.Lock()
	defer l.pmu.Unlock()

	for _, s := range calls {
		c, id := s.c, s.id
		if p, ok := l.pending[id]; !ok || p != c {
			continue
		}
		switch {
		case err != nil:
			l.resolveLocked(c, id, outcome{result: failure, failed: true})
		case c.gaveUp:
			l.resolveLocked(c, id, outcome{result: domain.ResultTimedOut, failed: true})
		default:
			c.written, c.deadline = true, deadline
		}
	}

	if err == nil && !l.swept && l.pending != nil {
		l.swept = true
		l.sweeper.Reset(l.t.cfg.OutboundTimeout)
	}
}

// sweepStep returns the sweeper's granularity for timeout: a written call
// times out between timeout and timeout plus this step after its write.
// It is a sixteenth of the timeout, within [1ms, 1s].
func sweepStep(timeout time.Duration) time.Duration {
	return min(max(timeout/16, time.Millisecond), time.Second)
}

// sweep times out every written call whose deadline passed, and re-arms
// itself for the earliest deadline left, at least sweepStep later so that
// a steady stream of calls costs one pass over the pending calls per step.
// It runs on its own timer, never on the reader or the writer.
func (l *link) sweep() {
	now := time.Now()

	l.pmu.Lock()
	defer l.pmu.Unlock()

	var next time.Time
	for id, c := range l.pending {
		if !c.written {
			continue
		}
		if !now.Before(c.deadline) {
			l.resolveLocked(c, id, outcome{result: domain.ResultTimedOut, failed: true})
		} else if next.IsZero() || c.deadline.Before(next) {
			next = c.deadline
		}
	}

	if next.IsZero() || l.pending == nil {
		l.swept = false
		return
	}
	l.sweeper.Reset(max(next.Sub(now), sweepStep(l.t.cfg.OutboundTimeout)))
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

	if _, hellod := t.botIDFor(d.Platform); !hellod {
		// Only a descriptor answering one of this link's hellos is kept,
		// so a connector cannot grow the set beyond the identities.
		t.log.Debug("relay descriptor ignored: platform not hello'd", "dial", l.gen)
		return
	}

	t.mu.Lock()
	l.descs[d.Platform] = d // a later descriptor for a platform replaces it
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
	l.pmu.Lock()
	c, ok := l.pending[f.RequestID]
	if ok {
		l.resolveLocked(c, f.RequestID, outcome{raw: f.Result})
	}
	l.pmu.Unlock()

	if !ok {
		l.t.log.Debug("relay result ignored: unknown request", "dial", l.gen,
			"request_id", f.RequestID)
	}
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
