package echo_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/app"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/internal/echo"
)

// sent is one call a fakeReplier received.
type sent struct {
	chatID  string
	content string
	replyTo *string
	meta    map[string]any
}

// fakeReplier records every Send and answers with result.
type fakeReplier struct {
	mu     sync.Mutex
	calls  []sent
	result domain.SendResult
}

func (f *fakeReplier) Send(
	_ context.Context, chatID, content string, opts app.SendOptions,
) domain.SendResult {
	f.mu.Lock()
	defer f.mu.Unlock()

	f.calls = append(f.calls, sent{chatID, content, opts.ReplyTo, opts.Metadata})

	return f.result
}

func ptr(s string) *string { return &s }

func TestHandleMessageEchoesText(t *testing.T) {
	tests := []struct {
		name string
		give domain.MessageEvent
		want []sent
	}{
		{
			name: "text message replies to its id",
			give: domain.MessageEvent{
				Text:      "hello there",
				Source:    domain.SessionSource{ChatID: "c1", GuildID: "g1"},
				MessageID: "m1",
			},
			want: []sent{{chatID: "c1", content: "hello there", replyTo: ptr("m1")}},
		},
		{
			name: "event without message id replies to nothing",
			give: domain.MessageEvent{Text: "hi", Source: domain.SessionSource{ChatID: "c2"}},
			want: []sent{{chatID: "c2", content: "hi"}},
		},
		{
			name: "text is sent unchanged",
			give: domain.MessageEvent{
				Text:   "  spaced *markdown* 🔌\nline two  ",
				Source: domain.SessionSource{ChatID: "c3"},
			},
			want: []sent{{chatID: "c3", content: "  spaced *markdown* 🔌\nline two  "}},
		},
		{
			name: "forwarded interaction answers with its command name",
			give: domain.MessageEvent{
				Text:        "ping",
				MessageType: domain.MessageCommand,
				Source:      domain.SessionSource{ChatID: "c4", GuildID: "g4", ChatType: "channel"},
				MessageID:   "i4",
			},
			want: []sent{{chatID: "c4", content: "ping", replyTo: ptr("i4")}},
		},
		{
			name: "empty text gets no answer",
			give: domain.MessageEvent{Source: domain.SessionSource{ChatID: "c5"}, MessageID: "m5"},
			want: nil,
		},
		{
			name: "event without chat gets no answer",
			give: domain.MessageEvent{Text: "lost"},
			want: nil,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeReplier{result: domain.SendResult{Success: true, MessageID: "r"}}

			err := echo.New(r, nil).HandleMessage(context.Background(), tt.give)

			require.NoError(t, err)
			assert.Equal(t, tt.want, r.calls)
		})
	}
}

func TestHandleMessageTakesTheEventWhenTheReplyFails(t *testing.T) {
	var logs bytes.Buffer

	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := &fakeReplier{result: domain.ResultLost}

	err := echo.New(r, logger).HandleMessage(context.Background(), domain.MessageEvent{
		Text:   "secret words",
		Source: domain.SessionSource{ChatID: "c1"},
	})

	require.NoError(t, err, "a failed reply must not cause a redelivery")
	require.Len(t, r.calls, 1)
	assert.Contains(t, logs.String(), "echo reply failed")
	assert.Contains(t, logs.String(), "chat_id=c1")
	assert.Contains(t, logs.String(), domain.ResultLost.Error)
	assert.NotContains(t, logs.String(), "secret words", "message text must never be logged")
}

func TestNewPanicsWithoutReplier(t *testing.T) {
	assert.Panics(t, func() { echo.New(nil, nil) })
}

func TestAdapterIsAReplier(t *testing.T) {
	var _ echo.Replier = (*app.Adapter)(nil)
}
