package wsrelaytest

import (
	"context"
	"sync"
)

// queue is an unbounded FIFO that the server's readers push to without ever
// blocking, and that tests pop from with a context.
type queue[T any] struct {
	mu     sync.Mutex
	items  []T
	signal chan struct{} // closed and replaced on every push
}

func newQueue[T any]() *queue[T] {
	return &queue[T]{signal: make(chan struct{})}
}

func (q *queue[T]) push(v T) {
	q.mu.Lock()
	q.items = append(q.items, v)
	close(q.signal)
	q.signal = make(chan struct{})
	q.mu.Unlock()
}

// next pops the oldest item, waiting until one arrives or ctx ends.
func (q *queue[T]) next(ctx context.Context) (T, error) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			v := q.items[0]
			var zero T
			q.items[0] = zero
			q.items = q.items[1:]
			q.mu.Unlock()

			return v, nil
		}
		signal := q.signal
		q.mu.Unlock()

		select {
		case <-signal:
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
	}
}

// counter counts events and lets tests wait for a count.
type counter struct {
	mu     sync.Mutex
	n      int
	signal chan struct{}
}

func newCounter() *counter { return &counter{signal: make(chan struct{})} }

func (c *counter) add() {
	c.mu.Lock()
	c.n++
	close(c.signal)
	c.signal = make(chan struct{})
	c.mu.Unlock()
}

func (c *counter) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.n
}

// wait blocks until the count reaches n or ctx ends.
func (c *counter) wait(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		if c.n >= n {
			c.mu.Unlock()
			return nil
		}
		signal := c.signal
		c.mu.Unlock()

		select {
		case <-signal:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
