package app

import (
	"context"
	"sync"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
)

// delivery is one inbound event waiting for the sink, with the receipt to
// acknowledge once the sink accepted it.
type delivery struct {
	ev domain.MessageEvent
	d  ports.Delivery
}

// chatQueue is the FIFO of one chat's waiting deliveries. Items before head
// were taken already.
type chatQueue struct {
	items []delivery
	head  int
}

func (q *chatQueue) empty() bool { return q.head == len(q.items) }

func (q *chatQueue) push(it delivery) {
	// Reclaim the taken prefix before it dominates the slice, so a chat
	// that never drains completely does not grow its backing array
	// forever.
	if q.head > 0 && q.head >= len(q.items)/2 {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items = q.items[:n]
		q.head = 0
	}

	q.items = append(q.items, it)
}

func (q *chatQueue) pop() delivery {
	it := q.items[q.head]
	q.items[q.head] = delivery{}
	q.head++

	return it
}

// reset empties the queue, dropping its references to the deliveries so
// they can be collected, and keeps its backing array for reuse.
func (q *chatQueue) reset() int {
	n := len(q.items) - q.head
	clear(q.items)
	q.items = q.items[:0]
	q.head = 0

	return n
}

// reusable reports whether the queue's backing array is small enough to
// keep on the free list once emptied.
func (q *chatQueue) reusable() bool { return cap(q.items) <= maxPooledQueueCap }

// dispatchRun is one period between a dispatcher's start and stop. Workers
// hold the run they were started for, so a later start never shares their
// context or their accounting.
type dispatchRun struct {
	ctx    context.Context
	cancel context.CancelFunc

	// Guarded by dispatcher.mu.
	live     int           // workers of this run still running
	excused  int           // live workers stop does not wait for
	stopping bool          // stop was called
	quiet    chan struct{} // closed once stopping and live == excused
	isQuiet  bool
}

// checkQuiet closes run.quiet once the run is stopping and every worker
// still running is excused. The dispatcher's mutex must be held.
func (run *dispatchRun) checkQuiet() {
	if run.stopping && !run.isQuiet && run.live == run.excused {
		run.isQuiet = true
		close(run.quiet)
	}
}

// workerKey is the context key under which a worker's handler finds its
// workerMark.
type workerKey struct{}

// workerMark identifies, through the context a handler is given, the worker
// the handler runs on, so that a handler that stops the dispatcher is not
// waited for by that stop.
type workerMark struct {
	d       *dispatcher
	run     *dispatchRun
	excused bool // guarded by d.mu
}

// maxFreeQueues bounds the number of emptied chat queues kept for reuse:
// enough for a thousand chats turning over at once without allocating.
const maxFreeQueues = 1024

// maxPooledQueueCap bounds the backing array of a queue kept for reuse. A
// chat that once held a long backlog grew its array; keeping it would pin
// that memory for as long as the dispatcher lives, so such a queue is left
// to the garbage collector once it drains.
const maxPooledQueueCap = 64

// dispatcher hands inbound deliveries to a handler without blocking the
// caller. Each chat with waiting deliveries has one worker goroutine that
// takes them in order and exits when the queue is empty; the total number of
// waiting deliveries is bounded.
type dispatcher struct {
	capacity int
	handle   func(ctx context.Context, it delivery)

	mu      sync.Mutex
	run     *dispatchRun
	queues  map[string]*chatQueue
	free    []*chatQueue
	queued  int
	running int           // workers of every run still running
	idle    chan struct{} // closed when running drops to zero, if set
}

func newDispatcher(capacity int, handle func(context.Context, delivery)) *dispatcher {
	return &dispatcher{
		capacity: capacity,
		handle:   handle,
		queues:   make(map[string]*chatQueue),
	}
}

// start accepts deliveries from now on. It does nothing when already
// started.
func (d *dispatcher) start() {
	d.mu.Lock()
	defer d.mu.Unlock()

	if d.run != nil {
		return
	}

	ctx, cancel := context.WithCancel(context.Background())
	d.run = &dispatchRun{ctx: ctx, cancel: cancel, quiet: make(chan struct{})}
}

// enqueue appends a delivery to its chat's queue and starts the chat's
// worker when it has none. It never blocks on the handler. It reports false,
// and keeps nothing, when the dispatcher is stopped or full.
func (d *dispatcher) enqueue(chatID string, it delivery) bool {
	d.mu.Lock()
	defer d.mu.Unlock()

	if d.run == nil || d.queued >= d.capacity {
		return false
	}

	q, active := d.queues[chatID]
	if !active {
		q = d.newQueue()
		d.queues[chatID] = q
	}

	q.push(it)
	d.queued++

	if !active {
		d.run.live++
		d.running++

		go d.drain(&workerMark{d: d, run: d.run}, chatID, q)
	}

	return true
}

func (d *dispatcher) newQueue() *chatQueue {
	if n := len(d.free); n > 0 {
		q := d.free[n-1]
		d.free = d.free[:n-1]

		return q
	}

	return &chatQueue{}
}

// drain hands a chat's deliveries to the handler one at a time until the
// queue is empty or the run is stopped; deliveries left at a stop are
// dropped without acknowledgement. The handler's context carries the
// worker's mark (see excuse).
func (d *dispatcher) drain(mark *workerMark, chatID string, q *chatQueue) {
	run := mark.run
	ctx := context.WithValue(run.ctx, workerKey{}, mark)

	for {
		d.mu.Lock()

		if q.empty() || run.ctx.Err() != nil {
			d.queued -= q.reset()
			delete(d.queues, chatID)

			if len(d.free) < maxFreeQueues && q.reusable() {
				d.free = append(d.free, q)
			}

			d.exit(mark)
			d.mu.Unlock()

			return
		}

		it := q.pop()
		d.queued--
		d.mu.Unlock()

		d.handle(ctx, it)
	}
}

// exit accounts for a worker that returns. The mutex must be held.
func (d *dispatcher) exit(mark *workerMark) {
	mark.run.live--
	if mark.excused {
		mark.run.excused--
	}

	mark.run.checkQuiet()

	d.running--
	if d.running == 0 && d.idle != nil {
		close(d.idle)
		d.idle = nil
	}
}

// excuse reports whether ctx is, or derives from, the context a handler of
// this dispatcher was given. If so, the worker running that handler is
// excused: stop no longer waits for it, so a handler may stop the
// dispatcher and wait for the stop without waiting for itself. The worker
// still exits once its handler returns.
func (d *dispatcher) excuse(ctx context.Context) bool {
	mark, ok := ctx.Value(workerKey{}).(*workerMark)
	if !ok || mark.d != d {
		return false
	}

	d.mu.Lock()
	defer d.mu.Unlock()

	if !mark.excused {
		mark.excused = true
		mark.run.excused++
		mark.run.checkQuiet()
	}

	return true
}

// stop refuses new deliveries, cancels the context the handler runs with,
// and waits for the workers to return, except excused ones, or ctx to end.
// Deliveries still queued are dropped without acknowledgement. It does
// nothing when not started.
func (d *dispatcher) stop(ctx context.Context) error {
	d.mu.Lock()
	run := d.run
	d.run = nil

	if run != nil {
		run.stopping = true
		run.checkQuiet()
	}
	d.mu.Unlock()

	if run == nil {
		return nil
	}

	run.cancel()

	select {
	case <-run.quiet:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait waits until no worker of any run is running, excused ones included,
// or ctx ends. It is meant for after stop: a worker started meanwhile is
// waited for too.
func (d *dispatcher) wait(ctx context.Context) error {
	d.mu.Lock()
	if d.running == 0 {
		d.mu.Unlock()

		return nil
	}

	if d.idle == nil {
		d.idle = make(chan struct{})
	}

	idle := d.idle
	d.mu.Unlock()

	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pending returns the number of deliveries waiting for the handler.
func (d *dispatcher) pending() int {
	d.mu.Lock()
	defer d.mu.Unlock()

	return d.queued
}
