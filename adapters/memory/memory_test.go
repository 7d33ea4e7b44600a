package memory_test

import (
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/relay-go/relay/adapters/memory"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
	"github.com/relay-go/relay/ports/transporttest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestConformance(t *testing.T) {
	transporttest.Run(t, transporttest.Features{},
		func(t *testing.T, s transporttest.Settings) transporttest.Harness {
			tr, conn := memory.NewPair(memory.Config{
				OutboundTimeout: s.OutboundTimeout,
				CloseGrace:      s.CloseGrace,
				Logger:          testLogger(t),
			})

			return &harness{tr: tr, conn: conn}
		})
}

// harness drives a memory connector for the conformance suite.
type harness struct {
	tr   *memory.Transport
	conn *memory.Connector
}

var _ transporttest.Harness = (*harness)(nil)

func (h *harness) Transport() ports.Transport { return h.tr }

func (h *harness) Descriptor() domain.Descriptor { return memory.DefaultDescriptor() }

func (h *harness) PushInbound(_ context.Context, ev domain.MessageEvent, bufferID string) error {
	return h.conn.PushInbound(ev, bufferID)
}

func (h *harness) PushForward(_ context.Context, f domain.Forward, bufferID string) error {
	return h.conn.PushForward(f, bufferID)
}

func (h *harness) PushInterrupt(_ context.Context, sessionKey, chatID string) error {
	return h.conn.PushInterrupt(sessionKey, chatID)
}

func (h *harness) SetResponder(r transporttest.Responder) {
	if r == nil {
		h.conn.SetResponder(nil)
		return
	}
	h.conn.SetResponder(func(o memory.Outbound) memory.Reply {
		return memoryReply(r(transporttest.Outbound(o)))
	})
}

func (h *harness) Answer(_ context.Context, requestID string, r transporttest.Reply) error {
	return h.conn.Answer(requestID, memoryReply(r))
}

func memoryReply(r transporttest.Reply) memory.Reply {
	return memory.Reply{Result: r.Result, ChatInfo: r.ChatInfo, Hold: r.Hold}
}

func (h *harness) NextOutbound(ctx context.Context) (transporttest.Outbound, error) {
	o, err := h.conn.NextOutbound(ctx)
	return transporttest.Outbound(o), err
}

func (h *harness) NextAck(ctx context.Context) (string, error) { return h.conn.NextAck(ctx) }

func (h *harness) NextInterrupt(ctx context.Context) (transporttest.Interrupt, error) {
	in, err := h.conn.NextInterrupt(ctx)
	return transporttest.Interrupt(in), err
}

func (h *harness) NextGoingIdle(ctx context.Context) error { return h.conn.NextGoingIdle(ctx) }

func (h *harness) Drop(context.Context) error {
	if !h.conn.Drop() {
		return memory.ErrNoLink
	}

	return nil
}

func (h *harness) Close() {}
