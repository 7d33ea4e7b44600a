package app

import (
	"context"
	"strconv"
	"testing"

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
