package app

import (
	"context"
	"sync"
	"time"

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
	chatID string // the chat whose queue this is while it is in use
	items  []delivery
	head   int
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
	q.chatID = ""

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

	// hand passes a chat's queue from enqueue to one of this run's idle
	// workers. It is unbuffered: a send succeeds only when an idle worker
	// is waiting and takes the queue at once, so a queue is never left in
	// the channel.
	hand chan *chatQueue

	// Guarded by dispatcher.mu.
	live     int           // workers of this run still running
	idle     int           // live workers parked, or about to park, on hand
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

// maxIdleWorkers bounds the number of workers a run keeps parked for the
// next chat that needs one. A flood over a thousand chats keeps about that
// many chats busy at once, each needing a worker shortly after the last.
const maxIdleWorkers = 1024

// workerLinger is how long an idle worker waits for a chat before it exits,
// so that a quiet dispatcher holds no goroutine for long.
const workerLinger = time.Second

// maxPooledQueueCap bounds the backing array of a queue kept for reuse. A
// chat that once held a long backlog grew its array; keeping it would pin
// that memory for as long as the dispatcher lives, so such a queue is left
// to the garbage collector once it drains.
const maxPooledQueueCap = 64

// dispatcher hands inbound deliveries to a handler without blocking the
// caller. The total number of waiting deliveries is bounded.
//
// Each chat with waiting deliveries has exactly one worker goroutine, which
// takes them in order, one at a time. The chat's entry in queues exists
// exactly as long as it has a worker: enqueue creates the entry and assigns
// a worker in the same critical section, and the worker removes the entry
// in the critical section in which it finds the queue empty. So a chat
// never has two workers, and a chat with a slow handler holds only its own
// worker.
//
// A worker whose chat ran dry does not exit at once: it parks on its run's
// hand channel, at most maxIdle of them, and enqueue hands the next
// chat that needs a worker to a parked one instead of starting a goroutine.
// Only a parked worker can receive from hand, and it owns the queue it
// received exactly as a newly started worker would. A parked worker exits
// after linger without a chat, and at stop (its run's context is
// cancelled). When no worker is parked, enqueue starts one. An excused
// worker never parks.
type dispatcher struct {
	capacity int
	linger   time.Duration // how long a worker stays parked
	maxIdle  int           // how many workers of a run may park
	handle   func(ctx context.Context, it delivery)

	mu      sync.Mutex
	run     *dispatchRun
	queues  map[string]*chatQueue
	free    []*chatQueue
	queued  int
	running int           // workers of every run still running
	started int           // workers ever started, for tests
	idle    chan struct{} // closed when running drops to zero, if set
}

func newDispatcher(capacity int, handle func(context.Context, delivery)) *dispatcher {
	return &dispatcher{
		capacity: capacity,
		linger:   workerLinger,
		maxIdle:  maxIdleWorkers,
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
	d.run = &dispatchRun{
		ctx:    ctx,
		cancel: cancel,
		hand:   make(chan *chatQueue),
		quiet:  make(chan struct{}),
	}
}

// enqueue appends a delivery to its chat's queue and, when the chat has no
// worker, hands the queue to an idle worker or starts one. It never blocks
// on the handler. It reports false, and keeps nothing, when the dispatcher
// is stopped or full.
func (d *dispatcher) enqueue(chatID string, it delivery) bool {
	d.mu.Lock()
	defer d.mu.Unlock()

	run := d.run
	if run == nil || d.queued >= d.capacity {
		return false
	}

	q, active := d.queues[chatID]
	if !active {
		q = d.newQueue()
		q.chatID = chatID
		d.queues[chatID] = q
	}

	q.push(it)
	d.queued++

	if active {
		return true
	}

	if run.idle > 0 {
		select {
		case run.hand <- q:
			run.idle--

			return true
		default:
			// The idle workers are between counting themselves and
			// parking: start one instead.
		}
	}

	run.live++
	d.running++
	d.started++

	go d.work(&workerMark{d: d, run: run}, q)

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

// work is a worker goroutine: it drains q, then parks for the next chat
// handed to it, until it is told to exit (see dispatcher). The handler's
// context carries the worker's mark (see excuse).
func (d *dispatcher) work(mark *workerMark, q *chatQueue) {
	run := mark.run
	ctx := context.WithValue(run.ctx, workerKey{}, mark)

	var linger *time.Timer

	for {
		d.drain(ctx, run, q)

		// d.mu is held and q is no longer this worker's.
		if run.ctx.Err() != nil || mark.excused || run.idle >= d.maxIdle {
			d.exit(mark)
			d.mu.Unlock()

			return
		}

		run.idle++
		d.mu.Unlock()

		if linger == nil {
			linger = time.NewTimer(d.linger)
		} else {
			linger.Reset(d.linger)
		}

		select {
		case q = <-run.hand:
			// enqueue took this worker off the idle count.
			continue
		case <-linger.C:
		case <-run.ctx.Done():
			linger.Stop()
		}

		d.mu.Lock()
		run.idle--
		d.exit(mark)
		d.mu.Unlock()

		return
	}
}

// drain hands a chat's deliveries to the handler one at a time until the
// queue is empty or the run is stopped; deliveries left at a stop are
// dropped without acknowledgement. It returns with d.mu held, after it
// removed the chat's queue from the dispatcher.
func (d *dispatcher) drain(ctx context.Context, run *dispatchRun, q *chatQueue) {
	for {
		d.mu.Lock()

		if q.empty() || run.ctx.Err() != nil {
			delete(d.queues, q.chatID)
			d.queued -= q.reset()

			if len(d.free) < maxFreeQueues && q.reusable() {
				d.free = append(d.free, q)
			}

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
// still exits once its handler returns and its chat ran dry or the run
// stopped; it never parks for another chat.
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
