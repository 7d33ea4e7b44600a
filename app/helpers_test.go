package app_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/relay-go/relay/app"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitLimit bounds every wait of a test for something that must happen.
const waitLimit = 5 * time.Second

// recv returns the next value of ch, failing the test after waitLimit.
func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()

	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatalf("timed out waiting for %T", *new(T))

		panic("unreachable")
	}
}

// none asserts that ch holds nothing right now.
func none[T any](t testing.TB, ch <-chan T) {
	t.Helper()

	select {
	case v := <-ch:
		t.Fatalf("unexpected %T: %+v", v, v)
	default:
	}
}

// fakeTransport is a controllable ports.Transport: the test drives the
// connector side by calling the registered handlers and answering outbound
// actions with respond.
type fakeTransport struct {
	mu           sync.Mutex
	handlers     ports.Handlers
	calls        []string
	connectErr   error
	handshakeErr error
	descriptor   domain.Descriptor
	respond      func(a domain.Action) domain.SendResult
	chatInfo     func(chatID string) (domain.ChatInfo, error)
	interruptErr error
	interrupts   []string
	nextID       int

	actions     chan domain.Action
	disconnects chan struct{}
}

func newFakeTransport() *fakeTransport {
	return &fakeTransport{
		descriptor:  app.DefaultDescriptor(),
		actions:     make(chan domain.Action, 1000),
		disconnects: make(chan struct{}, 10),
	}
}

func (f *fakeTransport) record(call string) {
	f.mu.Lock()
	f.calls = append(f.calls, call)
	f.mu.Unlock()
}

func (f *fakeTransport) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()

	return append([]string(nil), f.calls...)
}

func (f *fakeTransport) SetHandlers(h ports.Handlers) {
	f.mu.Lock()
	f.handlers = h
	f.mu.Unlock()
	f.record("set_handlers")
}

func (f *fakeTransport) Handlers() ports.Handlers {
	f.mu.Lock()
	defer f.mu.Unlock()

	return f.handlers
}

func (f *fakeTransport) Connect(context.Context) error {
	f.record("connect")

	f.mu.Lock()
	defer f.mu.Unlock()

	return f.connectErr
}

func (f *fakeTransport) Handshake(context.Context) (domain.Descriptor, error) {
	f.record("handshake")

	f.mu.Lock()
	defer f.mu.Unlock()

	return f.descriptor, f.handshakeErr
}

func (f *fakeTransport) SendOutbound(_ context.Context, a domain.Action) domain.SendResult {
	f.actions <- a

	f.mu.Lock()
	respond := f.respond
	f.nextID++
	id := f.nextID
	f.mu.Unlock()

	if respond != nil {
		return respond(a)
	}

	return domain.SendResult{Success: true, MessageID: fmt.Sprintf("m%d", id)}
}

func (f *fakeTransport) ChatInfo(_ context.Context, chatID string) (domain.ChatInfo, error) {
	f.mu.Lock()
	chatInfo := f.chatInfo
	f.mu.Unlock()

	if chatInfo != nil {
		return chatInfo(chatID)
	}

	return domain.ChatInfo{Name: "name-" + chatID, Type: domain.ChatGroup}, nil
}

func (f *fakeTransport) SendInterrupt(_ context.Context, sessionKey string, reason *string) error {
	f.mu.Lock()
	defer f.mu.Unlock()

	r := "<nil>"
	if reason != nil {
		r = *reason
	}

	f.interrupts = append(f.interrupts, sessionKey+":"+r)

	return f.interruptErr
}

func (f *fakeTransport) Disconnect(context.Context) error {
	f.record("disconnect")
	f.disconnects <- struct{}{}

	return nil
}

// inbound delivers an event as the transport's reader would.
func (f *fakeTransport) inbound(ev domain.MessageEvent, d ports.Delivery) {
	f.Handlers().Inbound(ev, d)
}

// revokingTransport is a fakeTransport that reports revocations.
type revokingTransport struct {
	*fakeTransport
	revoked chan struct{}
}

func (r *revokingTransport) Revoked() <-chan struct{} { return r.revoked }

// chanAcker records acknowledgements on a channel.
type chanAcker chan string

func (c chanAcker) AckDelivery(id string) { c <- id }

// sinkCall is one event a recordingSink received.
type sinkCall struct {
	ev  domain.MessageEvent
	ctx context.Context
}

// recordingSink passes every event to a channel and, when hold is set for
// the event's chat, waits for a value on that channel (the error to return)
// before returning.
type recordingSink struct {
	got  chan sinkCall
	mu   sync.Mutex
	hold map[string]chan error
}

func newRecordingSink() *recordingSink {
	return &recordingSink{got: make(chan sinkCall, 1000), hold: map[string]chan error{}}
}

// holdChat makes the sink wait, for each event of chatID, for the error to
// return on the returned channel.
func (s *recordingSink) holdChat(chatID string) chan error {
	ch := make(chan error)

	s.mu.Lock()
	s.hold[chatID] = ch
	s.mu.Unlock()

	return ch
}

func (s *recordingSink) HandleMessage(ctx context.Context, ev domain.MessageEvent) error {
	s.got <- sinkCall{ev: ev, ctx: ctx}

	s.mu.Lock()
	hold := s.hold[ev.Source.ChatID]
	s.mu.Unlock()

	if hold == nil {
		return nil
	}

	select {
	case err := <-hold:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// logBuffer collects JSON logs for inspection.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.buf.String()
}

func newLogger(l *logBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// event returns a text event of a chat.
func event(chatID, text string) domain.MessageEvent {
	return domain.MessageEvent{
		Text:        text,
		MessageType: domain.MessageText,
		Source:      domain.SessionSource{Platform: "discord", ChatID: chatID, ChatType: "dm"},
	}
}

// connected returns a connected adapter over a fake transport, disconnected
// when the test ends.
func connected(
	t *testing.T, tr ports.Transport, sink ports.EventSink, edit func(*app.Config),
) *app.Adapter {
	t.Helper()

	cfg := app.Config{Transport: tr, Sink: sink}
	if edit != nil {
		edit(&cfg)
	}

	a, err := app.NewAdapter(cfg)
	require.NoError(t, err)
	require.NoError(t, a.Connect(context.Background()))

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()

		require.NoError(t, a.Disconnect(ctx))
	})

	return a
}
