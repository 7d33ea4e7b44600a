package wsrelay_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/adapters/wsrelay"
	"github.com/relay-go/relay/adapters/wsrelay/wsrelaytest"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
	"github.com/relay-go/relay/ports/transporttest"
)

// harness drives a wsrelay transport against a wsrelaytest server for the
// conformance suite.
type harness struct {
	tr  *wsrelay.Transport
	srv *wsrelaytest.Server
}

func (h *harness) Transport() ports.Transport { return h.tr }

func (h *harness) Descriptor() domain.Descriptor { return h.srv.Descriptor("discord") }

func (h *harness) PushInbound(_ context.Context, ev domain.MessageEvent, bufferID string) error {
	return h.srv.SendInbound(ev, bufferID)
}

func (h *harness) PushForward(_ context.Context, f domain.Forward, bufferID string) error {
	return h.srv.SendForward(f, bufferID)
}

func (h *harness) PushInterrupt(_ context.Context, sessionKey, chatID string) error {
	return h.srv.SendInterruptInbound(sessionKey, chatID)
}

func (h *harness) SetResponder(r transporttest.Responder) {
	if r == nil {
		h.srv.SetResponder(nil)
		return
	}

	h.srv.SetResponder(func(o wsrelaytest.Outbound) wsrelaytest.Reply {
		return toServerReply(r(toSuiteOutbound(o)))
	})
}

func (h *harness) Answer(_ context.Context, requestID string, r transporttest.Reply) error {
	return h.srv.Reply(requestID, toServerReply(r))
}

func (h *harness) NextOutbound(ctx context.Context) (transporttest.Outbound, error) {
	o, err := h.srv.NextOutbound(ctx)

	return toSuiteOutbound(o), err
}

func (h *harness) NextAck(ctx context.Context) (string, error) { return h.srv.NextAck(ctx) }

func (h *harness) NextInterrupt(ctx context.Context) (transporttest.Interrupt, error) {
	i, err := h.srv.NextInterrupt(ctx)

	return transporttest.Interrupt{SessionKey: i.SessionKey, Reason: i.Reason}, err
}

func (h *harness) NextGoingIdle(ctx context.Context) error { return h.srv.NextGoingIdle(ctx) }

func (h *harness) Drop(context.Context) error { return h.srv.Drop() }

func (h *harness) Close() { h.srv.Close() }

func toSuiteOutbound(o wsrelaytest.Outbound) transporttest.Outbound {
	return transporttest.Outbound{RequestID: o.RequestID, Action: o.Action, Target: o.Target}
}

func toServerReply(r transporttest.Reply) wsrelaytest.Reply {
	return wsrelaytest.Reply{Result: r.Result, ChatInfo: r.ChatInfo, Hold: r.Hold}
}

func TestConformance(t *testing.T) {
	transporttest.Run(t, transporttest.Features{},
		func(t *testing.T, s transporttest.Settings) transporttest.Harness {
			srv := wsrelaytest.NewServer(nil)
			cfg := testConfig(srv)
			cfg.OutboundTimeout = s.OutboundTimeout
			cfg.DrainGrace = s.CloseGrace
			cfg.DisableReconnect = true
			tr, err := wsrelay.New(cfg)
			require.NoError(t, err)

			return &harness{tr: tr, srv: srv}
		})
}
