package wire

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/relay-go/relay/domain"
)

// The Append functions write one frame, newline included, to the end of dst
// and return the extended slice. They allocate only when dst lacks room or
// a nested map has to be marshalled, so a writer can reuse one buffer for
// many frames and batch several frames into one WebSocket message.

// AppendHello appends a hello frame announcing one fronted identity.
func AppendHello(dst []byte, id domain.Identity) []byte {
	dst = append(dst, `{"type":"hello","platform":`...)
	dst = appendString(dst, id.Platform)
	dst = append(dst, `,"botId":`...)
	dst = appendString(dst, id.BotID)

	return append(dst, "}\n"...)
}

// AppendOutbound appends an outbound frame carrying an action. platform and
// botId are written only when the action targets an identity. It fails only
// when the action's metadata or extra keys cannot be marshalled.
func AppendOutbound(dst []byte, requestID string, a domain.Action) ([]byte, error) {
	start := len(dst)
	dst = append(dst, `{"type":"outbound","requestId":`...)
	dst = appendString(dst, requestID)
	dst = append(dst, `,"action":`...)

	dst, err := AppendAction(dst, a)
	if err != nil {
		return dst[:start], err
	}

	if !a.Target.IsZero() {
		dst = append(dst, `,"platform":`...)
		dst = appendString(dst, a.Target.Platform)
		dst = append(dst, `,"botId":`...)
		dst = appendString(dst, a.Target.BotID)
	}

	return append(dst, "}\n"...), nil
}

// AppendAction appends the JSON object of an action, keyed by its op as the
// domain.Action documentation describes. A nil metadata map is written as
// an empty object.
func AppendAction(dst []byte, a domain.Action) ([]byte, error) {
	start := len(dst)
	dst = append(dst, `{"op":`...)
	dst = appendString(dst, a.Op)

	var err error
	switch a.Op {
	case domain.OpSend:
		dst = appendKeyString(dst, "chat_id", a.ChatID)
		dst = appendKeyString(dst, "content", a.Content)
		dst = append(dst, `,"reply_to":`...)
		if a.ReplyTo == nil {
			dst = append(dst, "null"...)
		} else {
			dst = appendString(dst, *a.ReplyTo)
		}
		dst, err = appendKeyMap(dst, "metadata", a.Metadata)
	case domain.OpFollowUp:
		dst = appendKeyString(dst, "session_key", a.SessionKey)
		dst = appendKeyString(dst, "kind", a.Kind)
		dst = appendKeyString(dst, "content", a.Content)
		dst, err = appendKeyMap(dst, "metadata", a.Metadata)
	case domain.OpGetChatInfo:
		dst = appendKeyString(dst, "chat_id", a.ChatID)
	default:
		dst, err = appendGenericAction(dst, a)
	}
	if err != nil {
		return dst[:start], err
	}

	return append(dst, '}'), nil
}

func appendGenericAction(dst []byte, a domain.Action) ([]byte, error) {
	known := map[string]bool{"op": true}
	put := func(key, val string) {
		if val != "" {
			dst = appendKeyString(dst, key, val)
			known[key] = true
		}
	}

	put("chat_id", a.ChatID)
	put("message_id", a.MessageID)
	put("content", a.Content)
	put("session_key", a.SessionKey)
	put("kind", a.Kind)
	if a.ReplyTo != nil {
		put("reply_to", *a.ReplyTo)
	}

	var err error
	if a.Metadata != nil {
		dst, err = appendKeyMap(dst, "metadata", a.Metadata)
		known["metadata"] = true
	}
	for k, v := range a.Extra {
		if err != nil {
			break
		}
		if known[k] {
			continue
		}
		var b []byte
		if b, err = json.Marshal(v); err == nil {
			dst = append(dst, ',')
			dst = appendString(dst, k)
			dst = append(dst, ':')
			dst = append(dst, b...)
		}
	}
	if err != nil {
		return dst, fmt.Errorf("encode action: %w", err)
	}

	return dst, nil
}

// AppendInterrupt appends an interrupt frame. A nil reason is written as
// null.
func AppendInterrupt(dst []byte, sessionKey string, reason *string) []byte {
	dst = append(dst, `{"type":"interrupt","session_key":`...)
	dst = appendString(dst, sessionKey)
	dst = append(dst, `,"reason":`...)
	if reason == nil {
		dst = append(dst, "null"...)
	} else {
		dst = appendString(dst, *reason)
	}

	return append(dst, "}\n"...)
}

// AppendGoingIdle appends a going_idle frame.
func AppendGoingIdle(dst []byte) []byte {
	return append(dst, `{"type":"going_idle"}`+"\n"...)
}

// AppendInboundAck appends an inbound_ack frame for one buffered delivery.
func AppendInboundAck(dst []byte, bufferID string) []byte {
	dst = append(dst, `{"type":"inbound_ack","bufferId":`...)
	dst = appendString(dst, bufferID)

	return append(dst, "}\n"...)
}

// AppendDescriptor appends a descriptor frame.
func AppendDescriptor(dst []byte, d domain.Descriptor) ([]byte, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return dst, fmt.Errorf("encode descriptor: %w", err)
	}

	return AppendDescriptorRaw(dst, b), nil
}

// AppendDescriptorRaw appends a descriptor frame around an already encoded
// descriptor object.
func AppendDescriptorRaw(dst []byte, descriptor []byte) []byte {
	dst = append(dst, `{"type":"descriptor","descriptor":`...)
	dst = append(dst, descriptor...)

	return append(dst, "}\n"...)
}

// AppendInboundRaw appends an inbound frame around an already encoded event
// object. An empty bufferID is not written.
func AppendInboundRaw(dst []byte, event []byte, bufferID string) []byte {
	dst = append(dst, `{"type":"inbound","event":`...)
	dst = append(dst, event...)
	if bufferID != "" {
		dst = appendKeyString(dst, "bufferId", bufferID)
	}

	return append(dst, "}\n"...)
}

// AppendInbound appends an inbound frame for an event, written with the
// wire names of its fields (empty optional fields are left out).
func AppendInbound(dst []byte, ev domain.MessageEvent, bufferID string) []byte {
	return AppendInboundRaw(dst, AppendEvent(nil, ev), bufferID)
}

// AppendEvent appends the JSON object of an event.
func AppendEvent(dst []byte, ev domain.MessageEvent) []byte {
	dst = append(dst, `{"text":`...)
	dst = appendString(dst, ev.Text)
	mt := string(ev.MessageType)
	if mt == "" {
		mt = string(domain.MessageText)
	}
	dst = appendKeyString(dst, "message_type", mt)

	s := ev.Source
	dst = append(dst, `,"source":{"platform":`...)
	dst = appendString(dst, s.Platform)
	dst = appendKeyString(dst, "chat_id", s.ChatID)
	chatType := s.ChatType
	if chatType == "" {
		chatType = domain.ChatDM
	}
	dst = appendKeyString(dst, "chat_type", chatType)
	for _, kv := range [...][2]string{
		{"chat_name", s.ChatName}, {"user_id", s.UserID}, {"user_name", s.UserName},
		{"thread_id", s.ThreadID}, {"chat_topic", s.ChatTopic}, {"guild_id", s.GuildID},
		{"scope_id", s.ScopeID}, {"parent_chat_id", s.ParentChatID},
		{"message_id", s.MessageID}, {"user_id_alt", s.UserIDAlt},
		{"chat_id_alt", s.ChatIDAlt}, {"profile", s.Profile},
	} {
		if kv[1] != "" {
			dst = appendKeyString(dst, kv[0], kv[1])
		}
	}
	dst = append(dst, '}')

	if ev.MessageID != "" {
		dst = appendKeyString(dst, "message_id", ev.MessageID)
	}
	if ev.ReplyToMessageID != "" {
		dst = appendKeyString(dst, "reply_to_message_id", ev.ReplyToMessageID)
	}
	if len(ev.MediaURLs) > 0 {
		dst = append(dst, `,"media_urls":[`...)
		for i, u := range ev.MediaURLs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, u)
		}
		dst = append(dst, ']')
	}

	return append(dst, '}')
}

// AppendResult appends an outbound_result frame.
func AppendResult(dst []byte, requestID string, r domain.SendResult) []byte {
	dst = append(dst, `{"type":"outbound_result","requestId":`...)
	dst = appendString(dst, requestID)
	dst = append(dst, `,"result":{"success":`...)
	dst = strconv.AppendBool(dst, r.Success)
	if r.MessageID != "" {
		dst = appendKeyString(dst, "message_id", r.MessageID)
	}
	if r.Error != "" {
		dst = appendKeyString(dst, "error", r.Error)
	}
	if r.Ambiguous {
		dst = append(dst, `,"ambiguous":true`...)
	}

	return append(dst, "}}\n"...)
}

// AppendResultRaw appends an outbound_result frame around an already encoded
// result object.
func AppendResultRaw(dst []byte, requestID string, result []byte) []byte {
	dst = append(dst, `{"type":"outbound_result","requestId":`...)
	dst = appendString(dst, requestID)
	dst = append(dst, `,"result":`...)
	dst = append(dst, result...)

	return append(dst, "}\n"...)
}

// AppendInterruptInbound appends an interrupt_inbound frame.
func AppendInterruptInbound(dst []byte, sessionKey, chatID string) []byte {
	dst = append(dst, `{"type":"interrupt_inbound","session_key":`...)
	dst = appendString(dst, sessionKey)
	dst = appendKeyString(dst, "chat_id", chatID)

	return append(dst, "}\n"...)
}

// AppendGoingIdleAck appends a going_idle_ack frame.
func AppendGoingIdleAck(dst []byte) []byte {
	return append(dst, `{"type":"going_idle_ack"}`+"\n"...)
}

// AppendForward appends a passthrough_forward frame. The body is written as
// standard padded base64. An empty bufferID is not written.
func AppendForward(dst []byte, f domain.Forward, bufferID string) []byte {
	dst = append(dst, `{"type":"passthrough_forward","forward":{"platform":`...)
	dst = appendString(dst, f.Platform)
	dst = appendKeyString(dst, "botId", f.BotID)
	dst = appendKeyString(dst, "method", f.Method)
	dst = appendKeyString(dst, "path", f.Path)
	dst = append(dst, `,"headers":[`...)
	for i, h := range f.Headers {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		dst = appendString(dst, h[0])
		dst = append(dst, ',')
		dst = appendString(dst, h[1])
		dst = append(dst, ']')
	}
	dst = append(dst, ']')
	dst = appendKeyString(dst, "bodyB64", base64.StdEncoding.EncodeToString(f.Body))
	if f.Profile != "" {
		dst = appendKeyString(dst, "profile", f.Profile)
	}
	dst = append(dst, '}')
	if bufferID != "" {
		dst = appendKeyString(dst, "bufferId", bufferID)
	}

	return append(dst, "}\n"...)
}

func appendKeyString(dst []byte, key, val string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, key...)
	dst = append(dst, '"', ':')

	return appendString(dst, val)
}

func appendKeyMap(dst []byte, key string, m map[string]any) ([]byte, error) {
	dst = append(dst, ',', '"')
	dst = append(dst, key...)
	dst = append(dst, '"', ':')
	if len(m) == 0 {
		return append(dst, "{}"...), nil
	}

	return appendMap(dst, m)
}

// appendMap writes a metadata map. String values, the common case, are
// written directly; other values go through encoding/json.
func appendMap(dst []byte, m map[string]any) ([]byte, error) {
	dst = append(dst, '{')
	first := true
	for k, v := range m {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendString(dst, k)
		dst = append(dst, ':')

		switch tv := v.(type) {
		case string:
			dst = appendString(dst, tv)
		case nil:
			dst = append(dst, "null"...)
		case bool:
			dst = strconv.AppendBool(dst, tv)
		default:
			b, err := json.Marshal(tv)
			if err != nil {
				return dst, fmt.Errorf("encode metadata key %q: %w", k, err)
			}
			dst = append(dst, b...)
		}
	}

	return append(dst, '}'), nil
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. Invalid UTF-8 is replaced with
// U+FFFD, as encoding/json does; HTML characters are not escaped.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i

			continue
		}

		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i

			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i

			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)

	return append(dst, '"')
}
