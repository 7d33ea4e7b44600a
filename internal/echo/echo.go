// Package echo is the simplest agent a relay can serve: it answers every
// inbound message with its own text. It exists to exercise a connector end
// to end (scope re-attachment, replies, drain) without a model behind it.
package echo

import (
	"context"
	"log/slog"

	"github.com/relay-go/relay/app"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
)

var _ ports.EventSink = (*Agent)(nil)

// Replier sends a reply into a chat. *app.Adapter implements it: it
// re-attaches the chat's tenant scope to the metadata before sending. Send
// never returns a Go error; every failure is a result.
type Replier interface {
	Send(ctx context.Context, chatID, content string, opts app.SendOptions) domain.SendResult
}

// Agent answers each inbound message with its text, unchanged, in the same
// chat, as a reply to the inbound message. It is a ports.EventSink and is
// safe for concurrent use: it holds no state of its own.
type Agent struct {
	replier Replier
	log     *slog.Logger
}

// New builds an Agent that replies through r. A nil logger discards logs.
// New panics when r is nil: an agent that cannot answer is a wiring bug.
func New(r Replier, logger *slog.Logger) *Agent {
	if r == nil {
		panic("echo: nil replier")
	}

	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	return &Agent{replier: r, log: logger}
}

// HandleMessage sends ev.Text back to ev.Source.ChatID, replying to
// ev.MessageID (reply_to is null when the event has none). Forwarded Discord
// interactions arrive as ordinary events whose text is the command name or
// the component's custom id, and are answered the same way. An event with
// empty text, or without a chat to answer into, gets no answer.
//
// HandleMessage blocks until the reply's result arrives or ctx ends. It
// always returns nil, even when the reply failed: the event was taken, and
// an error would leave a buffered delivery unacknowledged so the connector
// would deliver it again, repeating the failed reply in a loop. A failed
// reply is logged with the chat id and the error, never with the text.
func (a *Agent) HandleMessage(ctx context.Context, ev domain.MessageEvent) error {
	chatID := ev.Source.ChatID
	if ev.Text == "" || chatID == "" {
		a.log.DebugContext(ctx, "echo skipped event", "chat_id", chatID,
			"reason", skipReason(ev))

		return nil
	}

	var opts app.SendOptions
	if ev.MessageID != "" {
		replyTo := ev.MessageID
		opts.ReplyTo = &replyTo
	}

	res := a.replier.Send(ctx, chatID, ev.Text, opts)
	if !res.Success {
		a.log.WarnContext(ctx, "echo reply failed", "chat_id", chatID,
			"error", res.Error, "ambiguous", res.Ambiguous)

		return nil
	}

	a.log.DebugContext(ctx, "echo replied", "chat_id", chatID, "message_id", res.MessageID)

	return nil
}

func skipReason(ev domain.MessageEvent) string {
	if ev.Text == "" {
		return "empty_text"
	}

	return "no_chat_id"
}
