package domain

import "fmt"

// Operation names of outbound actions.
const (
	OpSend        = "send"
	OpEdit        = "edit"
	OpTyping      = "typing"
	OpFollowUp    = "follow_up"
	OpGetChatInfo = "get_chat_info"
)

// Action is one outbound request to the connector. Which fields are sent on
// the wire depends on Op:
//
//   - send: chat_id, content, reply_to (null when ReplyTo is nil), metadata
//   - follow_up: session_key, kind, content, metadata
//   - get_chat_info: chat_id
//   - any other op: op, every non-empty field above, and Extra
//
// A follow_up never carries a credential: the connector holds it and binds
// it to the session.
type Action struct {
	Op         string
	ChatID     string
	Content    string
	ReplyTo    *string
	Metadata   map[string]any
	SessionKey string
	Kind       string
	// MessageID names the message an edit replaces.
	MessageID string
	// Extra carries additional keys of ops this package does not model. It
	// never overrides the keys above.
	Extra map[string]any
	// Target names the fronted identity the action is for. The zero value
	// sends no platform and lets the connector use the default identity.
	Target Identity
}

// SendResult is the outcome of an outbound action.
type SendResult struct {
	Success   bool
	MessageID string
	Error     string
	// Ambiguous means the connector may have applied the action although
	// the gateway did not learn the outcome.
	Ambiguous bool
}

// The failure results a gateway produces itself. They are returned as
// results, never as Go errors, so a caller always gets an answer.
var (
	ResultClosed       = SendResult{Error: "relay transport closed"}
	ResultNotConnected = SendResult{Error: "relay transport not connected"}
	ResultTimedOut     = SendResult{Error: "relay outbound timed out", Ambiguous: true}
	ResultLost         = SendResult{Error: "relay transport connection lost"}
	ResultNoTransport  = SendResult{Error: "no transport"}
)

// ResultSendFailed is the result of an outbound frame that could not be
// written. The cause must not contain secrets or message text.
func ResultSendFailed(cause error) SendResult {
	return SendResult{Error: fmt.Sprintf("relay send failed: %v", cause)}
}

// ChatInfo describes a chat as the connector knows it.
type ChatInfo struct {
	Name string
	Type string
}

// FatalError is a failure the gateway app must act on, such as a revoked
// credential. It implements error.
type FatalError struct {
	Code      string
	Message   string
	Retryable bool
}

// Error returns the code and the message.
func (e *FatalError) Error() string { return e.Code + ": " + e.Message }

// CodeRelayDisabled is the code of the fatal error reported when the
// connector revoked this gateway's credential.
const CodeRelayDisabled = "relay_disabled"

// RelayDisabled returns the non-retryable fatal error for a revoked
// credential.
func RelayDisabled() FatalError {
	return FatalError{
		Code:    CodeRelayDisabled,
		Message: "Relay disabled (opted out — recreate the instance to re-enable)",
	}
}
