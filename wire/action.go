package wire

import (
	"encoding/json"
	"errors"

	"github.com/relay-go/relay/domain"
)

// ErrBadAction means an outbound action is not a JSON object.
var ErrBadAction = errors.New("relay action is not a JSON object")

// DecodeAction decodes the action object of an outbound frame, as a
// connector reads it. reply_to null or absent leaves ReplyTo nil. metadata
// that is not an object reads as empty. Keys the Action type does not model
// are kept in Extra. It fails only when raw is not a JSON object.
func DecodeAction(raw []byte) (domain.Action, error) {
	var fields map[string]json.RawMessage
	if !isObject(raw) || json.Unmarshal(raw, &fields) != nil {
		return domain.Action{}, ErrBadAction
	}

	var a domain.Action
	str := func(key string) string {
		var t text
		if r, ok := fields[key]; ok {
			_ = t.UnmarshalJSON(r)
		}
		delete(fields, key)

		return string(t)
	}

	a.Op = str("op")
	a.ChatID = str("chat_id")
	a.Content = str("content")
	a.SessionKey = str("session_key")
	a.Kind = str("kind")
	a.MessageID = str("message_id")

	if r, ok := fields["reply_to"]; ok && string(r) != "null" {
		var t text
		_ = t.UnmarshalJSON(r)
		s := string(t)
		a.ReplyTo = &s
	}
	delete(fields, "reply_to")

	if r, ok := fields["metadata"]; ok && isObject(r) {
		_ = json.Unmarshal(r, &a.Metadata)
	}
	delete(fields, "metadata")

	for k, r := range fields {
		var v any
		if json.Unmarshal(r, &v) == nil {
			if a.Extra == nil {
				a.Extra = make(map[string]any, len(fields))
			}
			a.Extra[k] = v
		}
	}

	return a, nil
}
