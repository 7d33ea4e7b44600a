// Package observe exposes the relay's health and traffic to operators: it
// counts traffic as Prometheus metrics on a private registry, remembers
// whether a handshake is complete and whether the relay was disabled, and
// serves /healthz, /readyz and /metrics over HTTP.
//
// An Observer is the ports.Metrics and the ports.FatalNotifier of one relay.
// Every method is safe for concurrent use and none blocks.
package observe

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
)

var (
	_ ports.Metrics       = (*Observer)(nil)
	_ ports.FatalNotifier = (*Observer)(nil)
)

// Observer records the relay's metrics and health state. Build it with New;
// the zero value is not usable.
type Observer struct {
	registry *prometheus.Registry

	inbound    prometheus.Counter
	refused    prometheus.Counter
	outbound   *prometheus.CounterVec
	reconnects prometheus.Counter
	connected  prometheus.Gauge
	disabled   prometheus.Gauge

	up atomic.Bool

	fatalOnce sync.Once
	fatal     chan struct{}
	fatalErr  atomic.Pointer[domain.FatalError]
}

// New builds an Observer with its own registry, holding the relay_ metrics
// and the Go runtime and process collectors. It registers nothing on the
// global Prometheus registry, so any number of Observers may coexist.
func New() *Observer {
	o := &Observer{
		registry: prometheus.NewRegistry(),
		inbound: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "relay_inbound_events_total",
			Help: "Inbound deliveries that became message events (messages and Discord interactions).",
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "relay_inbound_refused_total",
			Help: "Inbound deliveries refused because the agent's queue was full.",
		}),
		outbound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relay_outbound_actions_total",
			Help: "Outbound actions by op and outcome " +
				"(success, failure, ambiguous, transport_error).",
		}, []string{"op", "outcome"}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "relay_reconnects_total",
			Help: "Re-dials of the connector after an unexpected close.",
		}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "relay_connected",
			Help: "1 while a handshake with the connector is complete, else 0.",
		}),
		disabled: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "relay_disabled",
			Help: "1 once the connector revoked this gateway's credential, else 0.",
		}),
		fatal: make(chan struct{}),
	}

	o.registry.MustRegister(
		o.inbound, o.refused, o.outbound, o.reconnects, o.connected, o.disabled,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)

	return o
}

// Registry returns the private registry the metrics live on, for callers
// that add collectors of their own or gather in tests.
func (o *Observer) Registry() *prometheus.Registry { return o.registry }

// InboundEvent counts one inbound event or forward.
func (o *Observer) InboundEvent() { o.inbound.Inc() }

// InboundRefused counts one inbound delivery refused because the queue
// towards the agent was full.
func (o *Observer) InboundRefused() { o.refused.Inc() }

// OutboundResult counts one outbound action by op and outcome.
func (o *Observer) OutboundResult(op, outcome string) {
	o.outbound.WithLabelValues(op, outcome).Inc()
}

// Reconnect counts one re-dial after an unexpected close.
func (o *Observer) Reconnect() { o.reconnects.Inc() }

// Connected records whether a handshake is currently complete; it drives
// the relay_connected gauge and /readyz.
func (o *Observer) Connected(up bool) {
	o.up.Store(up)

	if up {
		o.connected.Set(1)
	} else {
		o.connected.Set(0)
	}
}

// Ready reports whether a handshake is currently complete.
func (o *Observer) Ready() bool { return o.up.Load() }

// NotifyFatal records a failure the relay cannot recover from by retrying.
// The first call closes the channel Fatal returns and makes /healthz fail;
// later calls are ignored. A relay_disabled error also sets the
// relay_disabled gauge. It never blocks.
func (o *Observer) NotifyFatal(_ context.Context, err domain.FatalError) {
	o.fatalOnce.Do(func() {
		o.fatalErr.Store(&err)

		if err.Code == domain.CodeRelayDisabled {
			o.disabled.Set(1)
		}

		close(o.fatal)
	})
}

// Fatal returns a channel that is closed once a fatal error was reported.
// The same channel is returned on every call.
func (o *Observer) Fatal() <-chan struct{} { return o.fatal }

// FatalError returns the first fatal error reported and whether there was
// one.
func (o *Observer) FatalError() (domain.FatalError, bool) {
	p := o.fatalErr.Load()
	if p == nil {
		return domain.FatalError{}, false
	}

	return *p, true
}

// Handler serves the operator endpoints:
//
//   - GET /healthz: 200 "ok" while no fatal error was reported; 503 with the
//     error code (such as relay_disabled) after one.
//   - GET /readyz: 200 "ready" while a handshake is complete, else 503.
//   - GET /metrics: the registry in the Prometheus text format.
//
// Other paths answer 404. The handler is safe for concurrent use.
func (o *Observer) Handler() http.Handler {
	mux := http.NewServeMux()

	mux.HandleFunc("GET /healthz", o.serveHealth)
	mux.HandleFunc("GET /readyz", o.serveReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.registry, promhttp.HandlerOpts{}))

	return mux
}

func (o *Observer) serveHealth(w http.ResponseWriter, _ *http.Request) {
	if err, ok := o.FatalError(); ok {
		writeText(w, http.StatusServiceUnavailable, err.Code)

		return
	}

	writeText(w, http.StatusOK, "ok")
}

func (o *Observer) serveReady(w http.ResponseWriter, _ *http.Request) {
	if !o.Ready() {
		writeText(w, http.StatusServiceUnavailable, "not ready")

		return
	}

	writeText(w, http.StatusOK, "ready")
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body + "\n"))
}
