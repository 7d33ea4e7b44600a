package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/relay-go/relay/domain"
)

// Outcomes passed to ports.Metrics.OutboundResult.
const (
	OutcomeSuccess        = "success"
	OutcomeFailure        = "failure"
	OutcomeAmbiguous      = "ambiguous"
	OutcomeTransportError = "transport_error"
)

// SendOptions are the optional parts of a Send.
type SendOptions struct {
	// ReplyTo names the message the reply answers; nil sends reply_to as
	// null. When the content is split, only the first part carries it.
	ReplyTo *string
	// Metadata is passed to the connector. Send never modifies the map: the
	// chat's remembered scope is added to a copy.
	Metadata map[string]any
}

// Send sends content to a chat as op "send" and returns the result; it never
// returns a Go error. Without a transport it returns domain.ResultNoTransport.
//
// The chat's remembered egress discriminator is re-attached to a copy of the
// metadata (see domain.ReattachScope), so the connector can route a reply
// into a guild or a DM. Content longer than the descriptor's
// MaxMessageLength, measured in its length unit, is split with
// domain.SplitMessage (keeping code blocks intact when the platform renders
// them) and sent as consecutive messages: only the first answers
// opts.ReplyTo, all carry the same metadata. The result is that of the last
// message, so its MessageID names the last part; the first part that fails
// stops the rest and its result is returned. Each message sent is counted
// with ports.Metrics.OutboundResult.
//
// Send blocks until every part has a result or ctx ends.
func (a *Adapter) Send(
	ctx context.Context, chatID, content string, opts SendOptions,
) domain.SendResult {
	if a.transport == nil {
		return domain.ResultNoTransport
	}

	meta := a.withScope(chatID, opts.Metadata)
	action := domain.Action{
		Op:       domain.OpSend,
		ChatID:   chatID,
		Content:  content,
		ReplyTo:  opts.ReplyTo,
		Metadata: meta,
	}

	d := a.descriptor.Load()
	if domain.Length(content, d.LenUnit) <= d.MaxMessageLength {
		return a.outbound(ctx, action)
	}

	var res domain.SendResult

	parts := domain.SplitMessage(content, d.MaxMessageLength, d.LenUnit, d.SupportsCodeBlocks())
	for i, part := range parts {
		action.Content = part
		if i > 0 {
			action.ReplyTo = nil
		}

		res = a.outbound(ctx, action)
		if !res.Success {
			return res
		}
	}

	return res
}

// withScope returns meta with the chat's remembered egress discriminator
// re-attached, as a new map when something was added. It never modifies
// meta and never returns nil.
func (a *Adapter) withScope(chatID string, meta map[string]any) map[string]any {
	d, known := a.store.Lookup(chatID)

	out := domain.ReattachScope(meta, d, known)
	if out == nil {
		out = map[string]any{}
	}

	return out
}

// outbound sends one action and counts its outcome.
func (a *Adapter) outbound(ctx context.Context, action domain.Action) domain.SendResult {
	res := a.transport.SendOutbound(ctx, action)
	a.metrics.OutboundResult(action.Op, Outcome(res))

	return res
}

// Outcome classifies a result for ports.Metrics.OutboundResult: a success;
// an ambiguous result (the connector may have applied the action); a
// transport error the gateway produced itself (closed, not connected,
// connection lost, write failed, no transport); or a failure the connector
// reported.
func Outcome(res domain.SendResult) string {
	switch {
	case res.Success:
		return OutcomeSuccess
	case res.Ambiguous:
		return OutcomeAmbiguous
	case res == domain.ResultClosed, res == domain.ResultNotConnected,
		res == domain.ResultLost, res == domain.ResultNoTransport,
		strings.HasPrefix(res.Error, sendFailedPrefix):
		return OutcomeTransportError
	default:
		return OutcomeFailure
	}
}

// sendFailedPrefix starts the error of every domain.ResultSendFailed.
const sendFailedPrefix = "relay send failed: "

// SendFollowUp sends content as op "follow_up": through a capability of
// the given kind (such as "discord.interaction_token") that the connector
// holds and bound to the session. The gateway never holds nor sends the
// credential. Metadata is passed unchanged (an empty object when nil) and
// no scope is added: the connector resolves the tenant from the session.
// Without a transport it returns domain.ResultNoTransport. It blocks until
// the result arrives or ctx ends.
func (a *Adapter) SendFollowUp(
	ctx context.Context, sessionKey, kind, content string, metadata map[string]any,
) domain.SendResult {
	if a.transport == nil {
		return domain.ResultNoTransport
	}

	if metadata == nil {
		metadata = map[string]any{}
	}

	return a.outbound(ctx, domain.Action{
		Op:         domain.OpFollowUp,
		SessionKey: sessionKey,
		Kind:       kind,
		Content:    content,
		Metadata:   metadata,
	})
}

// GetChatInfo asks the connector about a chat. Without a transport it
// answers {Name: chatID, Type: "dm"} and no error. A failed request returns
// an error wrapping the transport's.
func (a *Adapter) GetChatInfo(ctx context.Context, chatID string) (domain.ChatInfo, error) {
	if a.transport == nil {
		return domain.ChatInfo{Name: chatID, Type: domain.ChatDM}, nil
	}

	info, err := a.transport.ChatInfo(ctx, chatID)
	if err != nil {
		a.metrics.OutboundResult(domain.OpGetChatInfo, OutcomeFailure)

		return domain.ChatInfo{}, fmt.Errorf("get relay chat info: %w", err)
	}

	a.metrics.OutboundResult(domain.OpGetChatInfo, OutcomeSuccess)

	return info, nil
}

// SendInterrupt tells the connector to stop a session's running turn; a nil
// reason is sent as null. It returns ErrNoTransport without a transport, and
// wraps the transport's error otherwise.
func (a *Adapter) SendInterrupt(ctx context.Context, sessionKey string, reason *string) error {
	if a.transport == nil {
		return fmt.Errorf("send relay interrupt: %w", ErrNoTransport)
	}

	if err := a.transport.SendInterrupt(ctx, sessionKey, reason); err != nil {
		return fmt.Errorf("send relay interrupt: %w", err)
	}

	return nil
}
