package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Plan describes one flood of inbound events.
type Plan struct {
	// Events is the number of inbound events to send. Required, > 0.
	Events int
	// Chats spreads the events round-robin over this many chats. Required,
	// > 0.
	Chats int
	// Size is the length of each event's text in bytes. Required, > 0.
	Size int
	// Rate bounds the offered load in events per second; zero floods as
	// fast as the window allows.
	Rate float64
	// Window bounds the events written and not yet answered. Required,
	// > 0. A flood never has more than Window events outstanding, so a
	// gateway with a bounded queue is not overrun.
	Window int
}

// validate reports every problem of a plan.
func (p Plan) validate() error {
	var errs []error

	for _, f := range []struct {
		name string
		v    int
	}{{"events", p.Events}, {"chats", p.Chats}, {"size", p.Size}, {"window", p.Window}} {
		if f.v <= 0 {
			errs = append(errs, fmt.Errorf("%s %d must be positive", f.name, f.v))
		}
	}

	if p.Rate < 0 {
		errs = append(errs, fmt.Errorf("rate %g must not be negative", p.Rate))
	}

	return errors.Join(errs...)
}

// FloodStats is what the connector observed during one flood.
type FloodStats struct {
	// Replies counts the events answered by a reply naming them.
	Replies int
	// Duplicates counts replies to an event already answered; Unmatched
	// counts outbound frames that named no event of the flood.
	Duplicates int
	Unmatched  int
	// Messages counts the WebSocket messages the client wrote during the
	// flood: how well it coalesces its replies.
	Messages int
	// Elapsed runs from the start of the flood to the last reply.
	Elapsed time.Duration
	// Latencies holds, sorted, the time from writing each answered event
	// to reading its reply.
	Latencies []time.Duration
}

// flood is the state of one flood, shared by a session's writer (which
// writes events) and reader (which matches replies).
type flood struct {
	plan  Plan
	text  string
	start time.Time

	// Writer only.
	next int

	// sent holds each written event's write time in Unix nanoseconds. The
	// writer stores it before the write and the reader loads it after the
	// reply, so the pair needs no other synchronization.
	sent []atomic.Int64

	// mu guards the reply bookkeeping below, written by the reader.
	mu         sync.Mutex
	lat        []int64
	duplicates int
	unmatched  int
	last       time.Time

	replied  atomic.Int64
	messages atomic.Int64 // WebSocket messages read from the client
	finished chan struct{}
	failOnce sync.Once
	failed   chan struct{}
	err      error
}

func newFlood(p Plan, now time.Time) *flood {
	return &flood{
		plan:     p,
		text:     eventText(p.Size),
		start:    now,
		sent:     make([]atomic.Int64, p.Events),
		lat:      make([]int64, p.Events),
		finished: make(chan struct{}),
		failed:   make(chan struct{}),
	}
}

// eventText returns a printable ASCII text of n bytes.
func eventText(n int) string {
	const words = "the relay carries this message to the agent and back again "

	var b strings.Builder
	b.Grow(n)

	for b.Len() < n {
		b.WriteString(words[:min(len(words), n-b.Len())])
	}

	return b.String()
}

// fill appends the events the flood allows now, up to the batch limits,
// and their indexes. When the rate holds the next event back, wait says how
// long until it is due.
func (f *flood) fill(buf []byte, idx []int, now time.Time) ([]byte, []int, time.Duration) {
	p := f.plan

	limit := min(p.Events, int(f.replied.Load())+p.Window)
	if p.Rate > 0 {
		due := int(p.Rate*now.Sub(f.start).Seconds()) + 1
		limit = min(limit, due)
	}

	for f.next < limit && len(idx) < maxBatchEvents && len(buf) < flushBytes {
		buf = f.appendEvent(buf, f.next)
		idx = append(idx, f.next)
		f.next++
	}

	var wait time.Duration
	if len(idx) == 0 && p.Rate > 0 && f.next < p.Events &&
		f.next < int(f.replied.Load())+p.Window {
		at := f.start.Add(time.Duration(float64(f.next) / p.Rate * float64(time.Second)))
		wait = max(at.Sub(now), time.Microsecond)
	}

	return buf, idx, wait
}

// appendEvent appends the inbound frame of event i: a guild channel
// message whose message_id names i.
func (f *flood) appendEvent(dst []byte, i int) []byte {
	chat := i % f.plan.Chats

	dst = append(dst, `{"type":"inbound","event":{"text":"`...)
	dst = append(dst, f.text...)
	dst = append(dst, `","message_type":"text","source":{"platform":"`...)
	dst = append(dst, benchPlatform...)
	dst = append(dst, `","chat_id":"c`...)
	dst = strconv.AppendInt(dst, int64(chat), 10)
	dst = append(dst, `","chat_type":"channel","user_id":"u`...)
	dst = strconv.AppendInt(dst, int64(chat), 10)
	dst = append(dst, `","user_name":"bench","guild_id":"`...)
	dst = append(dst, benchGuild...)
	dst = append(dst, `"},"message_id":"m`...)
	dst = strconv.AppendInt(dst, int64(i), 10)

	return append(dst, "\"}}\n"...)
}

// reply records the reply to the event whose message id is replyTo, read
// at now. It runs on the reader.
func (f *flood) reply(replyTo []byte, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()

	i, ok := eventIndex(replyTo)
	if !ok || i >= len(f.lat) {
		f.unmatched++

		return
	}

	sent := f.sent[i].Load()
	switch {
	case sent == 0:
		f.unmatched++
	case f.lat[i] != 0:
		f.duplicates++
	default:
		f.lat[i] = max(now.UnixNano()-sent, 1)
		f.last = now

		if f.replied.Add(1) == int64(f.plan.Events) {
			close(f.finished)
		}
	}
}

// eventIndex parses a message id "m<i>".
func eventIndex(id []byte) (int, bool) {
	if len(id) < 2 || id[0] != 'm' {
		return 0, false
	}

	n := 0
	for _, c := range id[1:] {
		if c < '0' || c > '9' || n > 1<<40 {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}

	return n, true
}

func (f *flood) fail(err error) {
	f.failOnce.Do(func() {
		f.err = err
		close(f.failed)
	})
}

// stats summarizes the flood so far.
func (f *flood) stats() FloodStats {
	f.mu.Lock()
	defer f.mu.Unlock()

	st := FloodStats{
		Replies:    int(f.replied.Load()),
		Messages:   int(f.messages.Load()),
		Duplicates: f.duplicates,
		Unmatched:  f.unmatched,
	}

	if !f.last.IsZero() {
		st.Elapsed = f.last.Sub(f.start)
	}

	st.Latencies = make([]time.Duration, 0, st.Replies)
	for _, l := range f.lat {
		if l != 0 {
			st.Latencies = append(st.Latencies, time.Duration(l))
		}
	}
	slices.Sort(st.Latencies)

	return st
}

// Flood sends p.Events inbound events on the link and waits until each was
// answered, the link ends, or ctx ends. Only one flood runs on a session at
// a time; the caller must not start another before this one returned.
//
// It returns the stats and nil when every event got its reply. When ctx
// ends or the link fails first, it returns an error; the stats then count
// only what was answered by then.
func (s *Session) Flood(ctx context.Context, p Plan) (FloodStats, error) {
	if err := p.validate(); err != nil {
		return FloodStats{}, fmt.Errorf("flood: %w", err)
	}

	f := newFlood(p, time.Now())
	s.flood.Store(f)
	s.signal()

	var err error
	select {
	case <-f.finished:
	case <-f.failed:
		err = f.err
	case <-s.done:
		err = errors.New("link closed during the flood")
	case <-ctx.Done():
		err = ctx.Err()
	}

	s.flood.Store(nil)

	if err != nil {
		s.Close()

		return f.stats(), fmt.Errorf("flood: %w", err)
	}

	return f.stats(), nil
}
