package wire

import (
	"encoding/json"
	"errors"
)

// Frame types, gateway to connector.
const (
	TypeHello      = "hello"
	TypeOutbound   = "outbound"
	TypeInterrupt  = "interrupt"
	TypeGoingIdle  = "going_idle"
	TypeInboundAck = "inbound_ack"
)

// Frame types, connector to gateway.
const (
	TypeDescriptor         = "descriptor"
	TypeInbound            = "inbound"
	TypeOutboundResult     = "outbound_result"
	TypeInterruptInbound   = "interrupt_inbound"
	TypeGoingIdleAck       = "going_idle_ack"
	TypePassthroughForward = "passthrough_forward"
)

// ErrNotObject means a frame line is not a JSON object.
var ErrNotObject = errors.New("relay frame is not a JSON object")

// Frame is one decoded frame of either direction. Only the fields of its
// Type are meaningful; nested objects stay raw so that each is decoded by
// the code that needs it, and only when it does.
type Frame struct {
	Type string

	// Hello and outbound targeting.
	Platform string
	BotID    string

	// Outbound and outbound_result.
	RequestID string
	Action    json.RawMessage
	Result    json.RawMessage

	// Descriptor.
	Descriptor json.RawMessage

	// Inbound and passthrough_forward.
	Event    json.RawMessage
	Forward  json.RawMessage
	BufferID string

	// Interrupts. Reason is nil when the peer sent null or nothing.
	SessionKey string
	ChatID     string
	Reason     *string
}

type frameJSON struct {
	Type       text            `json:"type"`
	Platform   text            `json:"platform"`
	BotID      text            `json:"botId"`
	RequestID  text            `json:"requestId"`
	Action     json.RawMessage `json:"action"`
	Result     json.RawMessage `json:"result"`
	Descriptor json.RawMessage `json:"descriptor"`
	Event      json.RawMessage `json:"event"`
	Forward    json.RawMessage `json:"forward"`
	BufferID   text            `json:"bufferId"`
	SessionKey text            `json:"session_key"`
	ChatID     text            `json:"chat_id"`
	Reason     *text           `json:"reason"`
}

// DecodeFrame decodes one frame line. It fails only when the line is not a
// JSON object; unknown keys are ignored and odd scalar types are read as
// text. The returned frame does not alias line.
func DecodeFrame(line []byte) (Frame, error) {
	if !isObject(line) {
		return Frame{}, ErrNotObject
	}

	if f, ok := decodeFrameFast(line); ok {
		return f, nil
	}

	return decodeFrameSlow(line)
}

// decodeFrameSlow decodes a frame line with encoding/json.
func decodeFrameSlow(line []byte) (Frame, error) {
	var fj frameJSON
	if err := json.Unmarshal(line, &fj); err != nil {
		return Frame{}, ErrNotObject
	}

	f := Frame{
		Type:       string(fj.Type),
		Platform:   string(fj.Platform),
		BotID:      string(fj.BotID),
		RequestID:  string(fj.RequestID),
		Action:     nullToNil(fj.Action),
		Result:     nullToNil(fj.Result),
		Descriptor: nullToNil(fj.Descriptor),
		Event:      nullToNil(fj.Event),
		Forward:    nullToNil(fj.Forward),
		BufferID:   string(fj.BufferID),
		SessionKey: string(fj.SessionKey),
		ChatID:     string(fj.ChatID),
	}
	if fj.Reason != nil {
		r := string(*fj.Reason)
		f.Reason = &r
	}

	return f, nil
}

func isObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		default:
			return false
		}
	}

	return false
}

func nullToNil(r json.RawMessage) json.RawMessage {
	if len(r) == 0 || string(r) == "null" {
		return nil
	}

	return r
}
