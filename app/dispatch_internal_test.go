package app

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/domain"
)

func TestChatQueueReclaimsTakenPrefix(t *testing.T) {
	var q chatQueue

	// A chat whose queue never empties: two waiting at all times.
	q.push(delivery{ev: domain.MessageEvent{Text: "0"}})

	for i := range 10000 {
		q.push(delivery{ev: domain.MessageEvent{MessageID: string(rune('a' + i%26))}})
		require.False(t, q.empty())
		q.pop()
	}

	assert.LessOrEqual(t, cap(q.items), 8, "backing array stays small")
	assert.Equal(t, 1, len(q.items)-q.head)
}

func TestChatQueueKeepsOrderAcrossCompaction(t *testing.T) {
	var q chatQueue

	next, want := 0, 0

	for round := range 50 {
		for range round%7 + 1 {
			q.push(delivery{ev: domain.MessageEvent{MessageID: strconv.Itoa(next)}})
			next++
		}

		for range round%5 + 1 {
			if q.empty() {
				break
			}

			assert.Equal(t, strconv.Itoa(want), q.pop().ev.MessageID)
			want++
		}
	}

	for !q.empty() {
		assert.Equal(t, strconv.Itoa(want), q.pop().ev.MessageID)
		want++
	}

	assert.Equal(t, next, want)
}

func TestDispatcherReusesEmptiedQueues(t *testing.T) {
	done := make(chan string, 10)
	d := newDispatcher(10, func(_ context.Context, it delivery) { done <- it.ev.Text })
	d.start()

	require.True(t, d.enqueue("c1", delivery{ev: domain.MessageEvent{Text: "a"}}))
	assert.Equal(t, "a", <-done)
	require.NoError(t, d.stop(context.Background()))

	// The worker put its queue on the free list before it returned.
	d.mu.Lock()
	assert.Len(t, d.free, 1)
	assert.Empty(t, d.queues)
	d.mu.Unlock()

	d.start()
	require.True(t, d.enqueue("c2", delivery{ev: domain.MessageEvent{Text: "b"}}))
	assert.Equal(t, "b", <-done)
	require.NoError(t, d.stop(context.Background()))

	assert.False(t, d.enqueue("c3", delivery{}), "stopped dispatcher refuses")
}

func TestDispatcherDropsDrainedLargeQueues(t *testing.T) {
	const backlog = 1000

	release := make(chan struct{})
	handled := make(chan string, backlog+1)
	d := newDispatcher(backlog+1, func(_ context.Context, it delivery) {
		if it.ev.Text == "first" {
			<-release
		}

		handled <- it.ev.Text
	})
	d.start()

	// A chat builds a long backlog behind a slow first event, then drains.
	require.True(t, d.enqueue("big", delivery{ev: domain.MessageEvent{Text: "first"}}))

	for i := range backlog - 1 {
		require.True(t, d.enqueue("big", delivery{ev: domain.MessageEvent{Text: strconv.Itoa(i)}}))
	}

	// A small chat drains too.
	require.True(t, d.enqueue("small", delivery{ev: domain.MessageEvent{Text: "s"}}))

	close(release)

	for range backlog + 1 {
		<-handled
	}

	require.NoError(t, d.stop(context.Background()))

	d.mu.Lock()
	defer d.mu.Unlock()

	require.Len(t, d.free, 1, "only the small queue is kept")

	for _, q := range d.free {
		assert.LessOrEqual(t, cap(q.items), maxPooledQueueCap)
		assert.True(t, q.empty())
	}
}

func TestChatQueueResetDropsReferences(t *testing.T) {
	var q chatQueue

	for i := range 5 {
		q.push(delivery{ev: domain.MessageEvent{Text: strconv.Itoa(i)}})
	}

	q.pop()
	assert.Equal(t, 4, q.reset())
	assert.True(t, q.empty())

	for _, it := range q.items[:cap(q.items)] {
		assert.Zero(t, it, "no delivery stays reachable from the backing array")
	}
}

// waitTimeout is how long these tests wait for a worker before failing.
const waitTimeout = 5 * time.Second

func waitCtx(t *testing.T) context.Context {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)

	return ctx
}

func recvText(t *testing.T, ch <-chan string) string {
	t.Helper()

	select {
	case s := <-ch:
		return s
	case <-time.After(waitTimeout):
		require.FailNow(t, "no delivery handled in time")

		return ""
	}
}

func TestDispatcherReusesIdleWorkers(t *testing.T) {
	const events = 200

	done := make(chan string, 1)
	d := newDispatcher(10, func(_ context.Context, it delivery) { done <- it.ev.Text })
	d.linger = time.Hour
	d.start()

	// Each chat's queue is empty again before the next chat needs a
	// worker: the parked worker takes it instead of a new goroutine.
	for i := range events {
		text := strconv.Itoa(i)
		require.True(t, d.enqueue("chat-"+text, delivery{ev: domain.MessageEvent{Text: text}}))
		assert.Equal(t, text, recvText(t, done))
	}

	d.mu.Lock()
	started := d.started
	d.mu.Unlock()

	assert.Less(t, started, events/2, "most chats were handed to a parked worker")

	require.NoError(t, d.stop(waitCtx(t)), "stop ends the parked workers")
	require.NoError(t, d.wait(waitCtx(t)))
}

func TestDispatcherIdleWorkerExitsAfterLinger(t *testing.T) {
	done := make(chan string, 1)
	d := newDispatcher(10, func(_ context.Context, it delivery) { done <- it.ev.Text })
	d.linger = time.Millisecond
	d.start()

	require.True(t, d.enqueue("c1", delivery{ev: domain.MessageEvent{Text: "a"}}))
	assert.Equal(t, "a", recvText(t, done))

	// No stop: the parked worker leaves by itself.
	require.NoError(t, d.wait(waitCtx(t)))

	// A chat after that gets a new worker.
	require.True(t, d.enqueue("c2", delivery{ev: domain.MessageEvent{Text: "b"}}))
	assert.Equal(t, "b", recvText(t, done))
	require.NoError(t, d.stop(waitCtx(t)))
	require.NoError(t, d.wait(waitCtx(t)))
}

func TestDispatcherStopEndsParkedWorkers(t *testing.T) {
	tests := []struct {
		name    string
		give    int // chats handled before the stop
		restart bool
	}{
		{name: "one parked worker", give: 1},
		{name: "many parked workers", give: 50},
		{name: "restart after stop", give: 3, restart: true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			done := make(chan string, tt.give)
			d := newDispatcher(tt.give, func(_ context.Context, it delivery) {
				<-release
				done <- it.ev.Text
			})
			d.linger = time.Hour
			d.start()

			// All chats busy at once, so each has its own worker.
			for i := range tt.give {
				text := strconv.Itoa(i)
				require.True(t, d.enqueue(text, delivery{ev: domain.MessageEvent{Text: text}}))
			}

			close(release)

			for range tt.give {
				recvText(t, done)
			}

			require.NoError(t, d.stop(waitCtx(t)))
			require.NoError(t, d.wait(waitCtx(t)), "no worker left")

			if !tt.restart {
				return
			}

			// A new run's chats never go to the old run's workers.
			d.start()
			require.True(t, d.enqueue("late", delivery{ev: domain.MessageEvent{Text: "late"}}))
			assert.Equal(t, "late", recvText(t, done))
			require.NoError(t, d.stop(waitCtx(t)))
			require.NoError(t, d.wait(waitCtx(t)))
		})
	}
}

func TestDispatcherExcusedWorkerDoesNotPark(t *testing.T) {
	done := make(chan string, 1)

	var d *dispatcher

	d = newDispatcher(10, func(ctx context.Context, it delivery) {
		assert.True(t, d.excuse(ctx))
		done <- it.ev.Text
	})
	d.linger = time.Hour
	d.start()

	require.True(t, d.enqueue("c1", delivery{ev: domain.MessageEvent{Text: "a"}}))
	assert.Equal(t, "a", recvText(t, done))

	// Without a stop and with an hour's linger, only an exit ends the wait.
	require.NoError(t, d.wait(waitCtx(t)))
	require.NoError(t, d.stop(waitCtx(t)))
}

func TestDispatcherParksNoMoreThanMaxIdle(t *testing.T) {
	done := make(chan string, 1)
	d := newDispatcher(10, func(_ context.Context, it delivery) { done <- it.ev.Text })
	d.linger = time.Hour
	d.maxIdle = 0
	d.start()

	require.True(t, d.enqueue("c1", delivery{ev: domain.MessageEvent{Text: "a"}}))
	assert.Equal(t, "a", recvText(t, done))

	// No room to park: the worker exits once its chat ran dry.
	require.NoError(t, d.wait(waitCtx(t)))
	require.NoError(t, d.stop(waitCtx(t)))
}
