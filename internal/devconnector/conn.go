package devconnector

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/relay-go/relay/wire"
)

// conn is one accepted gateway link. It runs a reader and a writer
// goroutine. Frames are queued by enqueue and written by the writer, several
// queued frames in one WebSocket message.
type conn struct {
	c         *Connector
	ws        *websocket.Conn
	gatewayID string
	log       *slog.Logger

	qmu         sync.Mutex
	batch       []byte
	closeCode   int
	closeReason string
	wake        chan struct{}
	// done is closed when the reader has stopped.
	done chan struct{}
	// shook is closed when the link completed its handshake.
	shook chan struct{}
	// held are the timers of outbound results chaos delays.
	held []*time.Timer

	// Guarded by Connector.mu.
	handshaken bool
	bots       map[string]string
}

// serveRelay upgrades a gateway's request after checking its token.
func (c *Connector) serveRelay(w http.ResponseWriter, r *http.Request) {
	id, expired, err := c.authenticate(r)
	if err != nil {
		c.log.Warn("gateway refused", "reason", err.Error(), "remote_addr", r.RemoteAddr)
		writeError(w, http.StatusUnauthorized, "unauthorized: "+err.Error())

		return
	}

	ws, err := c.upgrader.Upgrade(w, r, nil)
	if err != nil {
		c.log.Debug("upgrade failed", "gateway_id", id, "error", err.Error())
		return
	}

	k := &conn{
		c:         c,
		ws:        ws,
		gatewayID: id,
		log:       c.log.With("gateway_id", id),
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		shook:     make(chan struct{}),
		bots:      make(map[string]string),
	}

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		refuse(ws, websocket.CloseGoingAway, "connector shutting down")

		return
	}
	if expired {
		c.wg.Add(1)
		c.mu.Unlock()
		defer c.wg.Done()
		c.log.Info("gateway token expired", "gateway_id", id)
		refuse(ws, CloseUnauthorized, ReasonExpired)

		return
	}
	c.conns[k] = struct{}{}
	c.wg.Add(2)
	c.mu.Unlock()
	k.log.Info("gateway connected", "remote_addr", r.RemoteAddr)

	go k.readLoop()
	go k.writeLoop()
}

// refuse closes a freshly upgraded socket with a close code, waiting briefly
// for the peer's answer.
func refuse(ws *websocket.Conn, code int, reason string) {
	_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason),
		time.Now().Add(writeWait))
	_ = ws.SetReadDeadline(time.Now().Add(closeGrace))
	for {
		if _, _, err := ws.NextReader(); err != nil {
			break
		}
	}
	_ = ws.Close()
}

// enqueue queues a frame for the writer. It reports false, queueing
// nothing, once the link is closing.
func (k *conn) enqueue(frame []byte) bool {
	k.qmu.Lock()
	defer k.qmu.Unlock()

	if k.closeCode != 0 {
		return false
	}
	k.batch = append(k.batch, frame...)
	k.signal()

	return true
}

// closeWith asks the writer to send a close frame after the queued frames.
// Only the first call counts.
func (k *conn) closeWith(code int, reason string) {
	k.qmu.Lock()
	defer k.qmu.Unlock()

	if k.closeCode != 0 {
		return
	}
	k.closeCode, k.closeReason = code, reason
	k.signal()
}

// shut refuses every later frame and stops the delayed results, once the
// reader stopped.
func (k *conn) shut() {
	k.qmu.Lock()
	defer k.qmu.Unlock()

	if k.closeCode == 0 {
		k.closeCode = -1
	}
	for _, t := range k.held {
		t.Stop()
	}
	k.held = nil
}

// hold enqueues frame after delay, unless the link shut first.
func (k *conn) hold(frame []byte, delay time.Duration) {
	k.qmu.Lock()
	defer k.qmu.Unlock()

	if k.closeCode != 0 {
		return
	}
	k.held = append(k.held, time.AfterFunc(delay, func() { k.enqueue(frame) }))
}

func (k *conn) closing() bool {
	k.qmu.Lock()
	defer k.qmu.Unlock()

	return k.closeCode != 0
}

func (k *conn) signal() {
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

func (k *conn) writeLoop() {
	defer k.c.wg.Done()

	ping := time.NewTicker(k.c.cfg.PingInterval)
	defer ping.Stop()

	t := k.chaosTimers()
	defer t.stop()
	shook := k.shook

	for {
		select {
		case <-k.done:
			return
		case <-ping.C:
			err := k.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait))
			if err != nil {
				_ = k.ws.Close()
				return
			}
		case <-shook:
			shook = nil
			t.armHandshake(k.c.chaos)
		case <-t.dropC():
			k.drop("period")
			return
		case <-t.expireC():
			k.c.chaosClose(k, CloseUnauthorized, ReasonExpired)
		case <-t.drainC():
			k.c.chaosDrain(k)
		case <-k.wake:
			k.qmu.Lock()
			batch, code, reason := k.batch, k.closeCode, k.closeReason
			k.batch = nil
			k.qmu.Unlock()

			if len(batch) > 0 && !k.write(batch) {
				return
			}
			if code < 0 {
				return
			}
			if code != 0 {
				msg := websocket.FormatCloseMessage(code, reason)
				_ = k.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(writeWait))
				_ = k.ws.NetConn().SetReadDeadline(time.Now().Add(closeGrace))

				return
			}
		}
	}
}

// write writes a batch of frames, shaped by chaos when it is on. It reports
// false when the link is gone.
func (k *conn) write(batch []byte) bool {
	msgs := [][]byte{batch}
	var p writePlan
	if ch := k.c.chaos; ch != nil && ch.shapesWrites() {
		p = ch.plan(batch)
		msgs = p.msgs
		k.c.countChaos(func(s *ChaosStats) {
			s.Splits += p.splits
			s.Batched += p.batched
		})
	}

	for _, m := range msgs {
		_ = k.ws.SetWriteDeadline(time.Now().Add(writeWait))
		if err := k.ws.WriteMessage(websocket.TextMessage, m); err != nil {
			k.log.Debug("write failed", "error", err.Error())
			_ = k.ws.Close()

			return false
		}
	}
	if p.drop {
		k.drop("frame")
		return false
	}

	return true
}

// drop cuts the link's TCP connection without a close frame, discarding
// what is unsent.
func (k *conn) drop(why string) {
	// Counted before the cut, so a peer that sees the cut sees the count.
	k.c.countChaos(func(s *ChaosStats) { s.Drops++ })
	if tc, ok := k.ws.NetConn().(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = k.ws.Close()
	k.log.Info("chaos: link dropped", "by", why)
}

func (k *conn) readLoop() {
	defer func() {
		close(k.done)
		_ = k.ws.Close()
		k.shut()
		k.c.detach(k)
		k.c.wg.Done()
	}()

	extend := func(cause string) {
		if !k.closing() {
			_ = k.ws.NetConn().SetReadDeadline(time.Now().Add(k.c.cfg.ReadTimeout))
			if k.c.onExtend != nil {
				k.c.onExtend(cause)
			}
		}
	}
	extend("start")
	k.ws.SetReadLimit(readLimit)
	k.ws.SetPongHandler(func(string) error {
		extend("pong")
		return nil
	})
	k.ws.SetPingHandler(func(data string) error {
		extend("ping")
		_ = k.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeWait))

		return nil
	})

	var split wire.Splitter
	for {
		_, msg, err := k.ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				k.log.Info("gateway disconnected", "close_code", ce.Code)
			} else {
				k.log.Info("gateway link lost", "error", err.Error())
			}

			return
		}
		extend("message")

		if err := split.Feed(msg, k.handle); err != nil {
			k.log.Warn("dropping oversized frame", "error", err.Error())
		}
	}
}

// handle acts on one frame from the gateway.
func (k *conn) handle(line []byte) {
	f, err := wire.DecodeFrame(line)
	if err != nil {
		k.log.Warn("skipping frame that is not a JSON object")
		return
	}

	switch f.Type {
	case wire.TypeHello:
		k.c.onHello(k, f)
	case wire.TypeOutbound:
		k.c.onOutbound(k, f)
	case wire.TypeInterrupt:
		k.c.onInterrupt(k, f)
	case wire.TypeGoingIdle:
		k.c.onGoingIdle(k)
	case wire.TypeInboundAck:
		k.c.onAck(k, f.BufferID)
	default:
		k.log.Debug("ignoring frame", "type", f.Type)
	}
}

func (c *Connector) onHello(k *conn, f wire.Frame) {
	c.mu.Lock()
	defer c.mu.Unlock()

	d := c.cfg.Descriptor
	if f.Platform != "" {
		d.Platform = f.Platform
	}
	if _, ok := k.bots[f.Platform]; !ok {
		k.bots[f.Platform] = f.BotID
	}

	frame, err := wire.AppendDescriptor(nil, d)
	if err != nil {
		k.log.Error("encode descriptor failed", "error", err.Error())
		return
	}
	if k.handshaken {
		k.enqueue(frame)
	} else {
		k.handshaken = true
		c.onHandshakeLocked(k, frame)
	}
	k.log.Debug("hello answered", "platform", f.Platform)
}

// onHandshakeLocked makes k the live link of its gateway, and queues the
// descriptor and, after it, the gateway's buffer in order, each entry with
// its bufferId. They are queued at once, so the writer never sees the
// descriptor without the replay behind it.
func (c *Connector) onHandshakeLocked(k *conn, descriptor []byte) {
	g := c.gatewayLocked(k.gatewayID)
	if old := g.live; old != nil && old != k {
		old.closeWith(websocket.CloseGoingAway, "replaced by a newer link")
	}
	if g.live == nil {
		c.stats.Connected++
	}
	g.live, g.idle = k, false
	c.lastLive = g.id
	c.stats.Handshakes++

	if u := c.gateways[""]; u != nil && u != g && len(u.pending) > 0 {
		g.adopt(u)
	}

	batch := descriptor
	for _, e := range g.pending {
		batch = append(batch, c.frameLocked(e, k, e.bufferID)...)
	}
	if k.enqueue(batch) {
		for _, e := range g.pending {
			g.learn(e.learn)
			c.stats.Replayed++
		}
	}
	c.notifyLocked()
	k.log.Info("gateway handshake complete", "replayed", len(g.pending))

	close(k.shook)
	if c.chaos != nil && c.chaos.chance(c.chaos.cfg.ExpireRate) {
		c.stats.Chaos.Expired++
		k.closeWith(CloseUnauthorized, ReasonExpired)
		k.log.Info("chaos: link expired after handshake")
	}
}

func (c *Connector) onOutbound(k *conn, f wire.Frame) {
	a, err := wire.DecodeAction(f.Action)

	c.mu.Lock()
	defer c.mu.Unlock()

	g := c.gatewayLocked(k.gatewayID)
	var v verdict
	if err != nil {
		v.result.Error = "malformed action: not a JSON object"
	} else {
		v = g.judge(a, c.newMessageIDLocked)
	}

	c.recordLocked(OutboundRecord{
		GatewayID: k.gatewayID,
		RequestID: f.RequestID,
		Platform:  f.Platform,
		BotID:     f.BotID,
		Action:    a,
		RawAction: append([]byte(nil), f.Action...),
		Result:    v.result,
		ChatInfo:  v.chatInfo,
		Time:      c.cfg.Clock(),
	})
	c.answerLocked(k, wire.AppendResultRaw(nil, f.RequestID, v.raw()))

	if v.result.Success {
		k.log.Debug("outbound accepted", "request_id", f.RequestID, "op", a.Op)
	} else {
		k.log.Info("outbound declined", "request_id", f.RequestID, "op", a.Op,
			"error", v.result.Error)
	}
}

func (c *Connector) newMessageIDLocked() string {
	c.msgSeq++
	return "dev-msg-" + strconv.FormatUint(c.msgSeq, 10)
}

func (c *Connector) recordLocked(r OutboundRecord) {
	c.outbound = append(c.outbound, r)
	if over := len(c.outbound) - c.cfg.MaxRecords; over > 0 {
		c.outbound = append(c.outbound[:0:0], c.outbound[over:]...)
	}
	c.stats.Outbound++
	if !r.Result.Success {
		c.stats.Declined++
	}
	c.notifyLocked()
}

func (c *Connector) onInterrupt(k *conn, f wire.Frame) {
	c.mu.Lock()
	defer c.mu.Unlock()

	c.interrupts = append(c.interrupts, InterruptRecord{
		GatewayID:  k.gatewayID,
		SessionKey: f.SessionKey,
		Reason:     f.Reason,
		Time:       c.cfg.Clock(),
	})
	if over := len(c.interrupts) - c.cfg.MaxRecords; over > 0 {
		c.interrupts = append(c.interrupts[:0:0], c.interrupts[over:]...)
	}
	c.stats.Interrupts++
	c.notifyLocked()
	k.log.Info("gateway interrupt received")
}

func (c *Connector) onGoingIdle(k *conn) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if g := c.gateways[k.gatewayID]; g != nil && g.live == k {
		g.idle = true
	}
	k.enqueue(wire.AppendGoingIdleAck(nil))
	c.notifyLocked()
	k.log.Info("gateway going idle: buffering its inbound")
}

func (c *Connector) onAck(k *conn, bufferID string) {
	c.mu.Lock()
	defer c.mu.Unlock()

	g := c.gateways[k.gatewayID]
	if g == nil || !g.ack(bufferID) {
		k.log.Debug("ack of unknown buffer entry", "buffer_id", bufferID)
		return
	}
	c.stats.Acked++
	c.stats.Pending--
	c.notifyLocked()
	k.log.Debug("buffer entry acknowledged", "buffer_id", bufferID)
}

// detach forgets a link whose reader stopped.
func (c *Connector) detach(k *conn) {
	c.mu.Lock()
	defer c.mu.Unlock()

	delete(c.conns, k)
	if g := c.gateways[k.gatewayID]; g != nil && g.live == k {
		g.live, g.idle = nil, false
		c.stats.Connected--
	}
	c.notifyLocked()
}

// answerLocked queues the result of an outbound action, unless chaos
// withholds or delays it.
func (c *Connector) answerLocked(k *conn, frame []byte) {
	if c.chaos == nil {
		k.enqueue(frame)
		return
	}

	withhold, delay := c.chaos.resultFate()
	switch {
	case withhold:
		c.stats.Chaos.Withheld++
		k.log.Debug("chaos: outbound result withheld")
	case delay > 0:
		c.stats.Chaos.Delayed++
		k.hold(frame, delay)
	default:
		k.enqueue(frame)
	}
}

// countChaos updates the chaos counters.
func (c *Connector) countChaos(update func(*ChaosStats)) {
	c.mu.Lock()
	defer c.mu.Unlock()

	update(&c.stats.Chaos)
	c.notifyLocked()
}

// chaosClose closes a link with code and reason, for expire chaos.
func (c *Connector) chaosClose(k *conn, code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if k.closing() {
		return
	}
	c.stats.Chaos.Expired++
	k.closeWith(code, reason)
	c.notifyLocked()
	k.log.Info("chaos: link expired", "close_code", code)
}

// chaosDrain does the connector's half of a planned drain: the gateway's
// deliveries buffer from now on, and its link is closed with 1001 after
// the frames already queued.
func (c *Connector) chaosDrain(k *conn) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if k.closing() {
		return
	}
	if g := c.gateways[k.gatewayID]; g != nil && g.live == k {
		g.idle = true
	}
	c.stats.Chaos.Drains++
	k.closeWith(websocket.CloseGoingAway, ReasonDrain)
	c.notifyLocked()
	k.log.Info("chaos: planned drain, buffering")
}

// linkTimers are a link's chaos timers; a nil timer never fires.
type linkTimers struct {
	drop, expire, drain *time.Timer
}

// chaosTimers arms the timers that run from the link's start.
func (k *conn) chaosTimers() *linkTimers {
	t := &linkTimers{}
	if ch := k.c.chaos; ch != nil && ch.cfg.DropEvery > 0 {
		t.drop = time.NewTimer(ch.jitter(ch.cfg.DropEvery))
	}

	return t
}

// armHandshake arms the timers that run from the handshake.
func (t *linkTimers) armHandshake(ch *chaosSource) {
	if ch == nil {
		return
	}
	if ch.cfg.ExpireEvery > 0 {
		t.expire = time.NewTimer(ch.jitter(ch.cfg.ExpireEvery))
	}
	if ch.cfg.DrainEvery > 0 {
		t.drain = time.NewTimer(ch.jitter(ch.cfg.DrainEvery))
	}
}

func timerC(t *time.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}

	return t.C
}

func (t *linkTimers) dropC() <-chan time.Time   { return timerC(t.drop) }
func (t *linkTimers) expireC() <-chan time.Time { return timerC(t.expire) }
func (t *linkTimers) drainC() <-chan time.Time  { return timerC(t.drain) }

func (t *linkTimers) stop() {
	for _, x := range []*time.Timer{t.drop, t.expire, t.drain} {
		if x != nil {
			x.Stop()
		}
	}
}
