package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
)

// Errors the adapter returns for misuse callers may branch on.
var (
	// ErrNoTransport is returned by Connect and SendInterrupt when the
	// adapter has no transport.
	ErrNoTransport = errors.New("relay adapter has no transport")
	// ErrNoSink is returned by Connect while no event sink is bound.
	ErrNoSink = errors.New("relay adapter has no event sink")
	// ErrConnected is returned by Connect on an adapter that is connecting
	// or connected, and by BindSink once Connect was called.
	ErrConnected = errors.New("relay adapter already connected")
	// ErrClosed is returned by Connect after Disconnect, after a failed
	// handshake, and after a revocation: an adapter is not reused.
	ErrClosed = errors.New("relay adapter closed")
)

// RefusalObserver is an optional extension of ports.Metrics: a Metrics that
// implements it is told of every inbound delivery refused because the
// adapter's queue was full. It must not block.
type RefusalObserver interface {
	InboundRefused()
}

// closeGrace bounds each step of the teardown after going idle: closing the
// transport, and waiting for the sink calls in flight to return. The
// teardown does not depend on any caller's context, so that it completes
// even when the caller stops waiting.
const closeGrace = 5 * time.Second

// notifierKey is the context key that marks the context a FatalNotifier is
// given, with the adapter that gave it.
type notifierKey struct{}

// state is the adapter's position in its lifecycle.
type state int

const (
	stateIdle state = iota
	stateConnecting
	stateConnected
	stateClosed
)

// Adapter is the relay adapter a gateway app talks to: it routes the
// connector's inbound traffic to the sink and the interrupter, and sends the
// gateway's replies through the transport.
//
// Every method is safe for concurrent use. The capability methods read the
// descriptor negotiated on Connect, which is swapped atomically.
//
// Inbound events are handed to the sink through a bounded queue and never
// block the transport's reader. Events of one chat reach the sink one at a
// time, in arrival order; different chats are handled concurrently. When
// Config.QueueCapacity events are already waiting, a new delivery is
// refused: a buffered one stays unacknowledged and is delivered again by the
// connector after the next handshake, an unbuffered (live) one is dropped and
// lost. A buffered delivery is acknowledged only after the sink returned nil
// for it.
//
// Each chat with waiting events has one delivery goroutine. One whose chat
// ran dry waits up to a second for another chat that needs one, so a flood
// over many chats does not start a goroutine per event; at most 1,024 wait
// at a time, and Disconnect ends them with the rest.
//
// Metrics.InboundEvent counts the deliveries that become message events,
// refused ones included; forwards dropped for want of a handler are not
// counted (see Config.Metrics).
//
// An Adapter is used once: after Disconnect, a failed handshake or a
// revoked credential, build a new one with a new transport.
type Adapter struct {
	transport ports.Transport
	interrupt ports.SessionInterrupter
	notifier  ports.FatalNotifier
	store     ports.ScopeStore
	metrics   ports.Metrics
	refusals  RefusalObserver
	log       *slog.Logger

	idleTimeout      time.Duration
	interruptTimeout time.Duration

	descriptor atomic.Pointer[domain.Descriptor]
	sink       atomic.Pointer[sinkBox]
	refused    atomic.Uint64
	dispatch   *dispatcher

	mu        sync.Mutex
	state     state
	watchStop chan struct{}
	watchDone chan struct{}

	closeOnce      sync.Once
	closeDone      chan struct{} // closed once the teardown completed
	closeErr       error         // set before closeDone is closed
	workersStopped bool          // set before closeDone is closed
	notifyOnce     sync.Once
}

// sinkBox lets an interface value live in an atomic.Pointer.
type sinkBox struct{ sink ports.EventSink }

// NewAdapter builds an adapter from cfg after filling its defaults. It
// returns every configuration problem at once (see Config.Validate). It
// starts no goroutine and does not touch the transport.
func NewAdapter(cfg Config) (*Adapter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new relay adapter: %w", err)
	}

	cfg = cfg.withDefaults()

	a := &Adapter{
		transport:        cfg.Transport,
		interrupt:        cfg.Interrupter,
		notifier:         cfg.Notifier,
		store:            cfg.Store,
		metrics:          cfg.Metrics,
		log:              cfg.Logger,
		idleTimeout:      cfg.IdleTimeout,
		interruptTimeout: cfg.InterruptTimeout,
		closeDone:        make(chan struct{}),
	}

	a.refusals, _ = cfg.Metrics.(RefusalObserver)
	a.dispatch = newDispatcher(cfg.QueueCapacity, a.deliver)

	d := cloneDescriptor(cfg.Descriptor)
	a.descriptor.Store(&d)

	if cfg.Sink != nil {
		a.sink.Store(&sinkBox{sink: cfg.Sink})
	}

	return a, nil
}

// BindSink sets the sink that receives inbound events. It must be called
// before Connect, and exists so that a sink which replies through the
// adapter can be built after it. It returns an error for a nil sink and
// ErrConnected once Connect was called; binding again before Connect
// replaces the sink.
func (a *Adapter) BindSink(sink ports.EventSink) error {
	if sink == nil {
		return errors.New("bind relay sink: sink is nil")
	}

	a.mu.Lock()
	defer a.mu.Unlock()

	if a.state != stateIdle {
		return fmt.Errorf("bind relay sink: %w", ErrConnected)
	}

	a.sink.Store(&sinkBox{sink: sink})

	return nil
}

// Connect registers the adapter's handlers on the transport, dials the
// connector, waits for its descriptor and adopts it. It blocks until then or
// until ctx ends; ctx bounds only the dial and the handshake.
//
// It returns ErrNoTransport or ErrNoSink when those are missing, and
// ErrConnected or ErrClosed when the adapter is not fresh. A failed dial
// leaves the adapter unconnected and Connect may be called again. A failed
// handshake disconnects the transport and closes the adapter. In both
// cases the transport's error is returned as the transport reported it.
//
// When the transport is a ports.RevocationReporter, Connect starts watching
// for a revoked credential (see Disconnect for what a revocation does).
func (a *Adapter) Connect(ctx context.Context) error {
	if err := a.beginConnect(); err != nil {
		return fmt.Errorf("connect relay: %w", err)
	}

	a.transport.SetHandlers(ports.Handlers{
		Inbound:   a.onInbound,
		Interrupt: a.onInterrupt,
		Forward:   a.onForward,
	})

	// The transport's errors name the step that failed (its dial, its
	// handshake) and are returned as they are, not wrapped a second time.
	if err := a.transport.Connect(ctx); err != nil {
		a.abortConnect(ctx, false)

		return err
	}

	d, err := a.transport.Handshake(ctx)
	if err != nil {
		a.abortConnect(ctx, true)

		return err
	}

	d = cloneDescriptor(d)
	a.descriptor.Store(&d)

	if !a.finishConnect() {
		a.abortConnect(ctx, true)

		return fmt.Errorf("connect relay: %w", ErrClosed)
	}

	a.log.Info("relay connected",
		"platform", d.Platform,
		"max_message_length", d.MaxMessageLength,
		"len_unit", d.LenUnit)

	return nil
}

// beginConnect moves a fresh adapter to connecting.
func (a *Adapter) beginConnect() error {
	a.mu.Lock()
	defer a.mu.Unlock()

	switch {
	case a.state == stateClosed:
		return ErrClosed
	case a.state != stateIdle:
		return ErrConnected
	case a.transport == nil:
		return ErrNoTransport
	case a.sink.Load() == nil:
		return ErrNoSink
	}

	a.state = stateConnecting
	a.dispatch.start()

	return nil
}

// abortConnect undoes a connect that failed. When the link may be up (the
// dial succeeded) a reconnect loop may run behind it, so the transport is
// disconnected and the adapter closed; after a failed dial the adapter goes
// back to idle unless Disconnect closed it meanwhile. The delivery workers
// are stopped either way.
func (a *Adapter) abortConnect(ctx context.Context, linkUp bool) {
	if linkUp {
		a.mu.Lock()
		a.state = stateClosed
		a.mu.Unlock()

		a.startTeardown(ctx, false)
		<-a.closeDone // bounded by the teardown's own limits
	}

	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeGrace)
	defer cancel()

	if err := a.stopWorkers(stopCtx); err != nil {
		a.log.Warn("relay delivery workers did not stop", "error", err)
	}

	// Back to idle only once the workers stopped, so that a new Connect
	// starts fresh ones.
	a.mu.Lock()
	if a.state == stateConnecting {
		a.state = stateIdle
	}
	a.mu.Unlock()
}

// finishConnect moves a connecting adapter to connected and starts the
// revocation watch. It reports false when Disconnect closed the adapter
// meanwhile.
func (a *Adapter) finishConnect() bool {
	a.mu.Lock()
	defer a.mu.Unlock()

	if a.state != stateConnecting {
		return false
	}

	a.state = stateConnected

	if rr, ok := a.transport.(ports.RevocationReporter); ok {
		a.watchStop = make(chan struct{})
		a.watchDone = make(chan struct{})

		go a.watchRevocation(rr.Revoked(), a.watchStop, a.watchDone)
	}

	return true
}

// watchRevocation waits for the transport to latch a revocation or for stop
// to close. A revocation closes the adapter, then is reported once: the
// teardown is complete before the notifier runs, so the notifier may call
// anything on the adapter, Disconnect included (see Disconnect).
func (a *Adapter) watchRevocation(revoked <-chan struct{}, stop, done chan struct{}) {
	defer close(done)

	select {
	case <-stop:
		return
	case <-revoked:
	}

	// A deliberate disconnect that raced the revocation wins: the adapter
	// is going away anyway, and nobody is to be told.
	select {
	case <-stop:
		return
	default:
	}

	a.log.Warn("relay credential revoked, disabling the relay adapter",
		"code", domain.CodeRelayDisabled)

	a.mu.Lock()
	a.state = stateClosed
	a.mu.Unlock()

	a.startTeardown(context.Background(), false)
	<-a.closeDone // bounded by the teardown's own limits

	a.notifyOnce.Do(func() {
		if a.notifier == nil {
			a.log.Error("relay disabled and no fatal notifier configured",
				"code", domain.CodeRelayDisabled)

			return
		}

		ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
		defer cancel()

		ctx = context.WithValue(ctx, notifierKey{}, a)
		a.notifier.NotifyFatal(ctx, domain.RelayDisabled())
	})
}

// Disconnect shuts the adapter down: it stops the revocation watch, asks the
// connector to buffer inbound for this gateway when the transport is a
// ports.Idler (waiting at most Config.IdleTimeout for the acknowledgement; a
// failure or a missing acknowledgement never blocks shutdown), disconnects
// the transport, then stops the delivery goroutines, cancelling the context
// the sink runs with. Events still queued are dropped; buffered ones stay
// unacknowledged and are delivered again after a later handshake.
//
// The shutdown runs once, in the background, and always runs to completion:
// it does not depend on ctx. Its own limits bound it: Config.IdleTimeout
// for the acknowledgement, then 5 seconds each for the transport to close
// and for the sink calls in flight to return. Disconnect waits for the
// shutdown, for a fatal notification in flight and for every delivery
// goroutine to return, all bounded by ctx. When ctx ends first, Disconnect
// returns ctx's error early but the shutdown carries on; a later call waits
// for it again. Otherwise it returns the transport's disconnect error, or an
// error naming the delivery goroutines that did not stop in time. It is
// idempotent: later and concurrent calls wait for the same shutdown and
// return its result.
//
// Disconnect may be called from the sink's HandleMessage and from the
// notifier's NotifyFatal, provided it is given the context that call
// received, or one derived from it. From the sink, Disconnect does not wait
// for the sink call it is made from, which returns after Disconnect did;
// the cancellation the shutdown causes to that context does not end the
// wait, its deadline does. From the notifier, the adapter is already shut
// down and Disconnect returns without waiting for the notification. Given
// an unrelated context instead, such a call waits for itself until that
// context ends.
//
// A revoked credential triggers the same shutdown by itself, without going
// idle, and the fatal error is reported once the shutdown completed: the
// adapter is not reconnected. Disconnect is then still safe to call.
func (a *Adapter) Disconnect(ctx context.Context) error {
	fromSink := a.dispatch.excuse(ctx)
	fromNotifier := ctx.Value(notifierKey{}) == a

	a.mu.Lock()
	wasConnected := a.state == stateConnected || a.state == stateConnecting
	a.state = stateClosed
	stop, watchDone := a.watchStop, a.watchDone
	a.watchStop = nil
	a.mu.Unlock()

	if stop != nil {
		close(stop)
	}

	a.startTeardown(ctx, wasConnected)

	if fromSink {
		// The shutdown cancels the sink's context: only its deadline
		// bounds the wait.
		var cancel context.CancelFunc

		ctx, cancel = deadlineOnly(ctx)
		defer cancel()
	}

	if err := waitFor(ctx, a.closeDone); err != nil {
		return err
	}

	if watchDone != nil && !fromNotifier {
		if err := waitFor(ctx, watchDone); err != nil {
			return err
		}
	}

	// The teardown waited for every worker but those excused because
	// their own sink called Disconnect; wait for those too, unless this
	// is one of them or the workers did not stop at all.
	if a.workersStopped && !fromSink {
		if err := a.dispatch.wait(ctx); err != nil {
			return fmt.Errorf("disconnect relay: %w", err)
		}
	}

	return a.closeErr
}

// waitFor waits for done to close or ctx to end.
func waitFor(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("disconnect relay: %w", ctx.Err())
	}
}

// deadlineOnly returns a context with ctx's values and deadline that is not
// cancelled when ctx is.
func deadlineOnly(ctx context.Context) (context.Context, context.CancelFunc) {
	detached := context.WithoutCancel(ctx)

	if deadline, ok := ctx.Deadline(); ok {
		return context.WithDeadline(detached, deadline)
	}

	return detached, func() {}
}

// startTeardown starts the one-time teardown in the background unless it
// was started already. The teardown keeps ctx's values but not its
// cancellation or deadline; closeDone closes when it completed.
func (a *Adapter) startTeardown(ctx context.Context, goIdle bool) {
	a.closeOnce.Do(func() {
		ctx := context.WithoutCancel(ctx)

		go func() {
			a.closeErr = a.teardown(ctx, goIdle)
			close(a.closeDone)
		}()
	})
}

// teardown goes idle when asked and possible, disconnects the transport and
// stops the delivery workers, each step bounded by its own limit.
func (a *Adapter) teardown(ctx context.Context, goIdle bool) error {
	if idler, ok := a.transport.(ports.Idler); ok && goIdle {
		a.goIdle(ctx, idler)
	}

	var errs []error

	if a.transport != nil {
		closeCtx, cancel := context.WithTimeout(ctx, closeGrace)

		// The transport's error names its operation already.
		if err := a.transport.Disconnect(closeCtx); err != nil {
			errs = append(errs, err)
		}

		cancel()
	}

	stopCtx, cancel := context.WithTimeout(ctx, closeGrace)
	defer cancel()

	if err := a.stopWorkers(stopCtx); err != nil {
		a.log.Warn("relay delivery workers did not stop", "error", err)
		errs = append(errs, err)
	} else {
		a.workersStopped = true
	}

	if a.transport != nil {
		a.log.Info("relay disconnected")
	}

	return errors.Join(errs...)
}

// goIdle asks the connector to buffer, best effort.
func (a *Adapter) goIdle(ctx context.Context, idler ports.Idler) {
	idleCtx, cancel := context.WithTimeout(ctx, a.idleTimeout)
	defer cancel()

	if err := safeGoIdle(idleCtx, idler); err != nil {
		a.log.Warn("relay going idle not acknowledged, closing anyway", "error", err)

		return
	}

	a.log.Info("relay going idle acknowledged")
}

func safeGoIdle(ctx context.Context, idler ports.Idler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("go idle panicked: %v", r)
		}
	}()

	return idler.GoIdle(ctx)
}

func (a *Adapter) stopWorkers(ctx context.Context) error {
	if err := a.dispatch.stop(ctx); err != nil {
		return fmt.Errorf("stop relay delivery workers: %w", err)
	}

	return nil
}

// GoDormant closes the link for a scale-to-zero suspend while the transport
// stays armed to re-dial on wake, when the transport is a ports.DormantGoer.
// It reports whether the link was closed: false without a transport, when
// the transport cannot go dormant, and when it failed (the failure is
// logged). The revocation watch and the delivery workers keep running.
func (a *Adapter) GoDormant(ctx context.Context) (closed bool) {
	dg, ok := a.transport.(ports.DormantGoer)
	if !ok {
		return false
	}

	defer func() {
		if r := recover(); r != nil {
			a.log.Warn("relay go dormant panicked", "panic", r)

			closed = false
		}
	}()

	closed, err := dg.GoDormant(ctx)
	if err != nil {
		a.log.Warn("relay go dormant failed", "error", err)

		return false
	}

	return closed
}

// Descriptor returns the capability profile in effect: the connector's
// since Connect, else the configured placeholder.
func (a *Adapter) Descriptor() domain.Descriptor {
	return cloneDescriptor(*a.descriptor.Load())
}

// MaxMessageLength returns the longest message the platform accepts, in the
// descriptor's length unit (see LengthFunc).
func (a *Adapter) MaxMessageLength() int {
	return a.descriptor.Load().MaxMessageLength
}

// LengthFunc returns the function that measures a message in the
// descriptor's length unit: Unicode code points, or UTF-16 code units.
func (a *Adapter) LengthFunc() func(string) int {
	return a.descriptor.Load().LengthFunc()
}

// SupportsDraftStreaming reports whether the platform shows a reply while it
// is being written.
func (a *Adapter) SupportsDraftStreaming() bool {
	return a.descriptor.Load().SupportsDraftStreaming
}

// SupportsCodeBlocks reports whether the platform's markdown dialect renders
// fenced code blocks.
func (a *Adapter) SupportsCodeBlocks() bool {
	return a.descriptor.Load().SupportsCodeBlocks()
}

// SupportsOp reports whether the connector accepts an outbound op.
func (a *Adapter) SupportsOp(op string) bool {
	return a.descriptor.Load().SupportsOp(op)
}

// AuthorizationIsUpstream reports true: the connector authenticates the
// gateway and authorizes every inbound author before delivering, so the
// gateway must not deny relay users for lack of a local allow list.
func (a *Adapter) AuthorizationIsUpstream() bool { return true }

// RefusedDeliveries returns how many inbound deliveries were refused because
// the queue was full, since the adapter was built.
func (a *Adapter) RefusedDeliveries() uint64 { return a.refused.Load() }

// PendingDeliveries returns how many inbound events are waiting for the
// sink, not counting those the sink is handling.
func (a *Adapter) PendingDeliveries() int { return a.dispatch.pending() }

func cloneDescriptor(d domain.Descriptor) domain.Descriptor {
	d.SupportedOps = slices.Clone(d.SupportedOps)

	return d
}
