package wsrelay

import (
	"context"
	"errors"
	"fmt"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/wire"
)

// SendOutbound sends an action and waits for its result; see
// ports.Transport. The frame carries a fresh 32-hex-digit request id, and a
// platform and bot id only when a.Target names a platform (an empty
// Target.BotID is filled with the bot id hello'd for that platform; a
// platform no identity hello'd fails with domain.ResultSendFailed, "no
// identity for platform", and nothing is sent). It never returns a Go
// error: it returns domain.ResultClosed while or after Disconnect runs or
// when ctx ends before the frame was written,
// domain.ResultNotConnected when no link is up, domain.ResultSendFailed
// when the frame could not be written, domain.ResultLost when the link
// dropped (or GoDormant closed it) while waiting, and domain.ResultTimedOut (ambiguous) when the
// frame was written but no result came within OutboundTimeout or before
// ctx ended. A frame whose caller gave up before the writer took it is
// never written. Safe for many concurrent callers.
func (t *Transport) SendOutbound(ctx context.Context, a domain.Action) domain.SendResult {
	o := t.request(ctx, a)
	if o.failed {
		return o.result
	}

	return wire.DecodeResult(o.raw)
}

// ChatInfo asks the connector about a chat with a get_chat_info action. It
// reads the chat_info object of the result, or the name and type at its top
// level; a missing name reads as chatID and a missing type as "dm". It
// fails when the request failed (the error carries the failure result's
// text) or the connector answered with success false and an error. Safe
// for concurrent use.
func (t *Transport) ChatInfo(ctx context.Context, chatID string) (domain.ChatInfo, error) {
	o := t.request(ctx, domain.Action{Op: domain.OpGetChatInfo, ChatID: chatID})
	if o.failed {
		return domain.ChatInfo{}, fmt.Errorf("get chat info: %s", o.result.Error)
	}

	if r := wire.DecodeResult(o.raw); !r.Success && r.Error != "" {
		return domain.ChatInfo{}, fmt.Errorf("get chat info: connector: %s", r.Error)
	}

	return wire.DecodeChatInfo(o.raw, chatID), nil
}

// request runs one outbound round trip and returns its outcome.
//
// The caller is woken once per call: by its outcome, which the reader
// sends when the result arrives, the writer when the write fails, the
// link's sweeper when OutboundTimeout passed after the write (within
// sweepStep), or the link's end. Only ctx ending wakes it otherwise.
func (t *Transport) request(ctx context.Context, a domain.Action) outcome {
	if t.closed.Load() {
		return failed(domain.ResultClosed)
	}
	if !a.Target.IsZero() && a.Target.BotID == "" {
		id, ok := t.botIDFor(a.Target.Platform)
		if !ok {
			return failed(domain.ResultSendFailed(
				fmt.Errorf("no identity for platform %q", a.Target.Platform)))
		}
		a.Target.BotID = id
	}
	l := t.cur.Load()
	if l == nil {
		return failed(domain.ResultNotConnected)
	}

	id := t.ids.next()
	c, gen := newCall(id, a)

	l.pmu.Lock()
	switch {
	case t.closed.Load():
		l.pmu.Unlock()
		releaseCall(c, gen)
		return failed(domain.ResultClosed)
	case l.pending == nil:
		l.pmu.Unlock()
		releaseCall(c, gen)
		return failed(domain.ResultNotConnected)
	}
	l.pending[id] = c
	l.pmu.Unlock()

	o := t.await(ctx, l, c, gen, id)
	releaseCall(c, gen)

	return o
}

// await queues a registered call's frame and waits for its outcome.
func (t *Transport) await(ctx context.Context, l *link, c *call, gen uint64, id string) outcome {
	r := writeReq{kind: kindOutbound, id: id, call: c, gen: gen}
	select {
	case l.out <- r:
	default:
		select {
		case l.out <- r:
		case o := <-c.result:
			return o
		case <-ctx.Done():
			if c.state.CompareAndSwap(gen<<callStateBits|callQueued,
				gen<<callStateBits|callAbandoned) {
				return l.forget(c, id, domain.ResultClosed)
			}
		}
	}

	select {
	case o := <-c.result:
		return o
	case <-ctx.Done():
	}

	// The caller gives up. A frame the writer has not taken is never
	// written; one already written times out; one being written times
	// out once the write succeeded, or fails with it.
	if c.state.CompareAndSwap(gen<<callStateBits|callQueued, gen<<callStateBits|callAbandoned) {
		return l.forget(c, id, domain.ResultClosed)
	}

	l.pmu.Lock()
	if p, ok := l.pending[id]; ok && p == c {
		if c.written {
			l.resolveLocked(c, id, outcome{result: domain.ResultTimedOut, failed: true})
		} else {
			c.gaveUp = true
		}
	}
	l.pmu.Unlock()

	return <-c.result
}

// sendCause strips the encode marker from a write error.
func sendCause(err error) error {
	if errors.Is(err, errEncode) {
		if u := errors.Unwrap(err); u != nil {
			return u
		}
	}

	return err
}

// forget withdraws a call that gives up with res. When the call was
// resolved meanwhile, its outcome wins.
func (l *link) forget(c *call, id string, res domain.SendResult) outcome {
	l.resolve(c, id, res)

	return <-c.result
}

func failed(res domain.SendResult) outcome { return outcome{result: res, failed: true} }

// botIDFor returns the bot id hello'd for platform, and whether one was.
func (t *Transport) botIDFor(platform string) (string, bool) {
	for _, id := range t.cfg.Identities {
		if id.Platform == platform {
			return id.BotID, true
		}
	}

	return "", false
}

// SendInterrupt tells the connector to stop a session's running turn. A nil
// reason is sent as null. It blocks until the frame is written, and fails
// when no link is up, the write fails, the link drops first, or ctx ends.
// Safe for concurrent use.
func (t *Transport) SendInterrupt(ctx context.Context, sessionKey string, reason *string) error {
	err := t.writeAndWait(ctx, writeReq{kind: kindInterrupt, id: sessionKey, reason: reason})
	if err != nil {
		return fmt.Errorf("send interrupt: %w", err)
	}

	return nil
}

// writeAndWait queues one frame on the current link and waits until it is
// written.
func (t *Transport) writeAndWait(ctx context.Context, r writeReq) error {
	l, err := t.currentLink()
	if err != nil {
		return err
	}

	return l.writeAndWait(ctx, r)
}

func (l *link) writeAndWait(ctx context.Context, r writeReq) error {
	r.written = make(chan error, 1)

	select {
	case l.out <- r:
	case <-l.done:
		return ErrLinkLost
	case <-ctx.Done():
		return ctx.Err()
	}

	select {
	case err := <-r.written:
		return err
	case <-l.done:
		return ErrLinkLost
	case <-ctx.Done():
		return ctx.Err()
	}
}

// AckDelivery queues an inbound_ack for one buffered delivery on the current
// link. It never blocks: when no link is up or the write queue is full the
// ack is dropped, and the connector delivers the entry again after the
// next handshake. An empty bufferID does nothing. Safe for concurrent use.
func (t *Transport) AckDelivery(bufferID string) {
	if bufferID == "" {
		return
	}

	t.mu.Lock()
	l := t.link
	if t.closing || l == nil || l.dead {
		t.mu.Unlock()
		t.log.Debug("relay ack dropped: no link")

		return
	}
	t.mu.Unlock()

	select {
	case l.out <- writeReq{kind: kindAck, id: bufferID}:
	default:
		t.log.Warn("relay ack dropped: write queue full", "dial", l.gen)
	}
}

// GoIdle sends going_idle and waits for going_idle_ack, bounded by ctx and
// IdleAckTimeout. The link keeps serving meanwhile. An error means no ack
// arrived (no link, link lost, timeout); the caller may close anyway. Safe
// for concurrent use: one ack answers every waiting call.
func (t *Transport) GoIdle(ctx context.Context) error {
	_, err := t.goIdle(ctx)
	return err
}

func (t *Transport) goIdle(ctx context.Context) (*link, error) {
	l, err := t.currentLink()
	if err != nil {
		return nil, fmt.Errorf("go idle: %w", err)
	}

	ack := make(chan struct{})
	t.mu.Lock()
	l.idleWaiters = append(l.idleWaiters, ack)
	t.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, t.cfg.IdleAckTimeout)
	defer cancel()

	err = l.writeAndWait(ctx, writeReq{kind: kindGoingIdle})
	if err == nil {
		select {
		case <-ack:
			return l, nil
		case <-l.done:
			err = ErrLinkLost
		case <-ctx.Done():
			err = ctx.Err()
		}
	}

	t.mu.Lock()
	for i, ch := range l.idleWaiters {
		if ch == ack {
			l.idleWaiters = append(l.idleWaiters[:i], l.idleWaiters[i+1:]...)
			break
		}
	}
	t.mu.Unlock()

	if errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("go idle: no going_idle_ack within %s: %w", t.cfg.IdleAckTimeout, err)
	}

	return nil, fmt.Errorf("go idle: %w", err)
}

// GoDormant prepares a scale-to-zero suspend: it goes idle and, only once
// the connector acknowledged, closes the link with a normal close frame
// while the reconnect supervisor stays armed. It reports whether the link
// was closed; on a missed ack it leaves the link up and returns the
// GoIdle error.
//
// Wake policy: the supervisor re-dials BackoffMin after the dormant close
// (with jitter, the backoff ladder reset, not counted as a reconnect). A
// suspended process does not run its timers, so in practice the re-dial
// happens right after wake, and the connector replays the buffered backlog
// on the new handshake. A process that is not suspended simply reconnects
// after BackoffMin.
//
// A handler must not call GoDormant synchronously: the going_idle_ack is
// read by the link's reader, which is busy running that handler, so the
// call always fails, once IdleAckTimeout or ctx ends. Call it from another
// goroutine.
func (t *Transport) GoDormant(ctx context.Context) (bool, error) {
	l, err := t.goIdle(ctx)
	if err != nil {
		return false, fmt.Errorf("go dormant: %w", err)
	}

	t.closeLink(ctx, l, endDormant)
	t.log.Info("relay dormant", "dial", l.gen)

	return true, nil
}
