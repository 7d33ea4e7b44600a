package memory

import (
	"context"
	"sync"

	"github.com/relay-go/relay/domain"
)

// Close codes a link may end with. They match the WebSocket codes a real
// connector uses, so tests read the same numbers in both transports.
const (
	// CloseNormal ends a link deliberately.
	CloseNormal = 1000
	// CloseAbnormal ends a link without a close handshake: a dropped
	// connection.
	CloseAbnormal = 1006
	// CloseUnauthorized rejects the gateway's credential.
	CloseUnauthorized = 4401
	// CloseReplaced ends a link because the same gateway dialed again.
	CloseReplaced = 4000
)

// ReasonExpired is the close reason of an unauthorized close caused by an
// expired token. Such a close is never a revocation.
const ReasonExpired = "expired"

// frameKind names a connector-to-gateway frame.
type frameKind int

const (
	kindDescriptor frameKind = iota
	kindInbound
	kindForward
	kindInterrupt
	kindResult
	kindGoingIdleAck
)

// String returns the wire name of the frame kind, for logs.
func (k frameKind) String() string {
	switch k {
	case kindDescriptor:
		return "descriptor"
	case kindInbound:
		return "inbound"
	case kindForward:
		return "passthrough_forward"
	case kindInterrupt:
		return "interrupt_inbound"
	case kindResult:
		return "outbound_result"
	case kindGoingIdleAck:
		return "going_idle_ack"
	default:
		return "unknown"
	}
}

// frame is one connector-to-gateway frame. Only the fields of its kind are
// set.
type frame struct {
	kind       frameKind
	descriptor domain.Descriptor
	event      domain.MessageEvent
	forward    domain.Forward
	bufferID   string
	sessionKey string
	chatID     string
	requestID  string
	reply      Reply
}

// link is one connection between a transport and its connector. Frames from
// the connector queue without bound and are read, in order, by the
// transport's reader. Frames from the gateway are handed to the connector
// directly by the writing goroutine.
type link struct {
	id int

	mu     sync.Mutex
	queue  []frame
	wake   chan struct{}
	closed bool
	// abort makes the reader stop without reading what is queued: set when
	// the gateway closes its own side.
	abort       bool
	closeCode   int
	closeReason string
	handshook   bool
	descriptor  domain.Descriptor

	// handshakeDone is closed when the first descriptor was read.
	handshakeDone chan struct{}
	// idleAcked is closed when the first going_idle_ack was read.
	idleAcked chan struct{}
	// done is closed once the reader has exited and the transport has
	// failed the calls that were waiting on this link.
	done chan struct{}
	// identities are the identities the gateway announced on this link.
	identities []domain.Identity
}

func newLink(id int, identities []domain.Identity) *link {
	return &link{
		id:            id,
		wake:          make(chan struct{}, 1),
		handshakeDone: make(chan struct{}),
		idleAcked:     make(chan struct{}),
		done:          make(chan struct{}),
		identities:    identities,
	}
}

// push queues a frame for the gateway. It never blocks and drops the frame
// when the link is closed.
func (l *link) push(f frame) bool {
	l.mu.Lock()
	defer l.mu.Unlock()

	if l.closed {
		return false
	}
	l.queue = append(l.queue, f)
	l.signal()

	return true
}

// signal wakes the reader. The caller holds l.mu.
func (l *link) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// next blocks until a frame is queued or the link ends. It reports false
// once the link is closed and, unless the gateway aborted, drained.
func (l *link) next() (frame, bool) {
	for {
		l.mu.Lock()
		if l.abort {
			l.mu.Unlock()
			return frame{}, false
		}
		if len(l.queue) > 0 {
			f := l.queue[0]
			l.queue[0] = frame{}
			l.queue = l.queue[1:]
			l.mu.Unlock()

			return f, true
		}
		if l.closed {
			l.mu.Unlock()
			return frame{}, false
		}
		l.mu.Unlock()

		<-l.wake
	}
}

// close ends the link with a code. A close by the gateway aborts the reader
// at once; a close by the connector lets the reader finish what is queued,
// as a socket delivers the data that preceded a close frame. It reports
// whether this call closed the link.
func (l *link) close(code int, reason string, byGateway bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()

	if byGateway {
		l.abort = true
	}
	if l.closed {
		l.signal()
		return false
	}
	l.closed = true
	l.closeCode = code
	l.closeReason = reason
	l.signal()

	return true
}

// isOpen reports whether frames may still be written.
func (l *link) isOpen() bool {
	l.mu.Lock()
	defer l.mu.Unlock()

	return !l.closed
}

// closeInfo returns the code and reason the link closed with.
func (l *link) closeInfo() (int, string) {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.closeCode, l.closeReason
}

// completeHandshake records the first descriptor. Later descriptors are
// ignored. It reports whether this descriptor completed the handshake.
func (l *link) completeHandshake(d domain.Descriptor) bool {
	l.mu.Lock()
	defer l.mu.Unlock()

	if l.handshook {
		return false
	}
	l.handshook = true
	l.descriptor = d
	close(l.handshakeDone)

	return true
}

// handshake returns the first descriptor and whether it arrived.
func (l *link) handshake() (domain.Descriptor, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.descriptor, l.handshook
}

// journal is an append-only record that can be read as a whole or consumed
// one entry at a time by a blocking cursor. It is safe for concurrent use.
type journal[T any] struct {
	mu      sync.Mutex
	entries []T
	read    int
	notify  chan struct{}
}

// add appends an entry and wakes waiting readers.
func (j *journal[T]) add(v T) {
	j.mu.Lock()
	defer j.mu.Unlock()

	j.entries = append(j.entries, v)
	if j.notify != nil {
		close(j.notify)
		j.notify = nil
	}
}

// next returns the first entry not yet returned by next, waiting for one
// until ctx ends.
func (j *journal[T]) next(ctx context.Context) (T, error) {
	for {
		j.mu.Lock()
		if j.read < len(j.entries) {
			v := j.entries[j.read]
			j.read++
			j.mu.Unlock()

			return v, nil
		}
		if j.notify == nil {
			j.notify = make(chan struct{})
		}
		ch := j.notify
		j.mu.Unlock()

		select {
		case <-ch:
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
	}
}

// all returns a copy of every entry recorded so far.
func (j *journal[T]) all() []T {
	j.mu.Lock()
	defer j.mu.Unlock()

	return append([]T(nil), j.entries...)
}

// len returns the number of entries recorded so far.
func (j *journal[T]) len() int {
	j.mu.Lock()
	defer j.mu.Unlock()

	return len(j.entries)
}
