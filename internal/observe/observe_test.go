package observe_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/internal/observe"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()

	srv := httptest.NewServer(h)
	defer srv.Close()

	resp, err := http.Get(srv.URL + path)
	require.NoError(t, err)

	defer resp.Body.Close()

	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)

	return resp.StatusCode, string(body)
}

// value returns the value of the metric named name whose labels include
// every given pair, failing the test when there is none.
func value(t *testing.T, o *observe.Observer, name string, labels ...string) float64 {
	t.Helper()

	families, err := o.Registry().Gather()
	require.NoError(t, err)

	for _, f := range families {
		if f.GetName() != name {
			continue
		}

		for _, m := range f.GetMetric() {
			if hasLabels(m.GetLabel(), labels) {
				if c := m.GetCounter(); c != nil {
					return c.GetValue()
				}

				return m.GetGauge().GetValue()
			}
		}
	}

	t.Fatalf("no metric %s%v", name, labels)

	return 0
}

func hasLabels(have []*dto.LabelPair, want []string) bool {
	for i := 0; i+1 < len(want); i += 2 {
		found := false

		for _, p := range have {
			if p.GetName() == want[i] && p.GetValue() == want[i+1] {
				found = true
			}
		}

		if !found {
			return false
		}
	}

	return true
}

func TestCountersRecordTraffic(t *testing.T) {
	o := observe.New()

	o.InboundEvent()
	o.InboundEvent()
	o.InboundRefused()
	o.OutboundResult("send", "success")
	o.OutboundResult("send", "success")
	o.OutboundResult("send", "ambiguous")
	o.Reconnect()

	assert.Equal(t, 2.0, value(t, o, "relay_inbound_events_total"))
	assert.Equal(t, 1.0, value(t, o, "relay_inbound_refused_total"))
	assert.Equal(t, 2.0, value(t, o, "relay_outbound_actions_total",
		"op", "send", "outcome", "success"))
	assert.Equal(t, 1.0, value(t, o, "relay_outbound_actions_total",
		"op", "send", "outcome", "ambiguous"))
	assert.Equal(t, 1.0, value(t, o, "relay_reconnects_total"))
}

func TestConnectedDrivesGaugeAndReadiness(t *testing.T) {
	tests := []struct {
		name      string
		give      []bool
		wantGauge float64
		wantCode  int
	}{
		{name: "never connected", give: nil, wantGauge: 0, wantCode: 503},
		{name: "connected", give: []bool{true}, wantGauge: 1, wantCode: 200},
		{name: "connection lost", give: []bool{true, false}, wantGauge: 0, wantCode: 503},
		{name: "reconnected", give: []bool{true, false, true}, wantGauge: 1, wantCode: 200},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := observe.New()
			for _, up := range tt.give {
				o.Connected(up)
			}

			assert.Equal(t, tt.wantCode == 200, o.Ready())

			assert.Equal(t, tt.wantGauge, value(t, o, "relay_connected"))

			code, _ := get(t, o.Handler(), "/readyz")
			assert.Equal(t, tt.wantCode, code)
		})
	}
}

func TestHealthzFailsOnceDisabled(t *testing.T) {
	o := observe.New()

	code, body := get(t, o.Handler(), "/healthz")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok\n", body)

	select {
	case <-o.Fatal():
		t.Fatal("fatal channel closed before any fatal error")
	default:
	}

	o.NotifyFatal(context.Background(), domain.RelayDisabled())

	select {
	case <-o.Fatal():
	default:
		t.Fatal("fatal channel still open after NotifyFatal")
	}

	code, body = get(t, o.Handler(), "/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "relay_disabled\n", body)

	fe, ok := o.FatalError()
	require.True(t, ok)
	assert.Equal(t, domain.CodeRelayDisabled, fe.Code)

	_, metrics := get(t, o.Handler(), "/metrics")
	assert.Contains(t, metrics, "relay_disabled 1\n")
}

func TestNotifyFatalKeepsTheFirstError(t *testing.T) {
	o := observe.New()

	o.NotifyFatal(context.Background(), domain.FatalError{Code: "other"})
	o.NotifyFatal(context.Background(), domain.RelayDisabled())

	fe, ok := o.FatalError()
	require.True(t, ok)
	assert.Equal(t, "other", fe.Code)

	_, metrics := get(t, o.Handler(), "/metrics")
	assert.Contains(t, metrics, "relay_disabled 0\n")
}

func TestMetricsEndpointServesPrometheusText(t *testing.T) {
	o := observe.New()
	o.InboundEvent()
	o.Connected(true)

	code, body := get(t, o.Handler(), "/metrics")
	require.Equal(t, http.StatusOK, code)

	for _, want := range []string{
		"relay_inbound_events_total 1\n",
		"relay_connected 1\n",
		"relay_reconnects_total 0\n",
		"relay_disabled 0\n",
		"go_goroutines ",
		"process_start_time_seconds ",
	} {
		assert.Contains(t, body, want)
	}
}

func TestUnknownPathIsNotFound(t *testing.T) {
	code, _ := get(t, observe.New().Handler(), "/nope")
	assert.Equal(t, http.StatusNotFound, code)
}

func TestObserversDoNotShareState(t *testing.T) {
	a, b := observe.New(), observe.New()
	a.InboundEvent()
	a.Connected(true)

	assert.False(t, b.Ready())

	_, body := get(t, b.Handler(), "/metrics")
	assert.Contains(t, body, "relay_inbound_events_total 0\n")
}
