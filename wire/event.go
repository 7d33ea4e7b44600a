package wire

import (
	"encoding/base64"
	"encoding/json"
	"errors"

	"github.com/relay-go/relay/domain"
)

// ErrBadEvent means an inbound event is not a JSON object.
var ErrBadEvent = errors.New("relay event is not a JSON object")

type sourceJSON struct {
	Platform        text `json:"platform"`
	ChatID          text `json:"chat_id"`
	ChatType        text `json:"chat_type"`
	ChatName        text `json:"chat_name"`
	UserID          text `json:"user_id"`
	UserName        text `json:"user_name"`
	UserDisplayName text `json:"user_display_name"`
	UserHandle      text `json:"user_handle"`
	ThreadID        text `json:"thread_id"`
	ChatTopic       text `json:"chat_topic"`
	GuildID         text `json:"guild_id"`
	ScopeID         text `json:"scope_id"`
	ParentChatID    text `json:"parent_chat_id"`
	MessageID       text `json:"message_id"`
	UserIDAlt       text `json:"user_id_alt"`
	ChatIDAlt       text `json:"chat_id_alt"`
	Profile         text `json:"profile"`
}

type eventJSON struct {
	Text             text             `json:"text"`
	MessageType      text             `json:"message_type"`
	Source           *json.RawMessage `json:"source"`
	MessageID        text             `json:"message_id"`
	ReplyToMessageID text             `json:"reply_to_message_id"`
	MediaURLs        textList         `json:"media_urls"`
}

// DecodeEvent decodes the event object of an inbound frame. chat_type
// defaults to "dm" and message_type to "text"; an unknown message type reads
// as text. The user name is the display name when one was sent, else the
// user name, else the handle. A source that is not an object reads as empty.
// It fails only when raw is not a JSON object.
func DecodeEvent(raw []byte) (domain.MessageEvent, error) {
	if !isObject(raw) {
		return domain.MessageEvent{}, ErrBadEvent
	}

	if f, ok := decodeEventFast(raw); ok {
		return f.event(), nil
	}

	return decodeEventSlow(raw)
}

// decodeEventSlow decodes an event object with encoding/json.
func decodeEventSlow(raw []byte) (domain.MessageEvent, error) {
	var ej eventJSON
	if err := json.Unmarshal(raw, &ej); err != nil {
		return domain.MessageEvent{}, ErrBadEvent
	}

	var sj sourceJSON
	if ej.Source != nil && isObject(*ej.Source) {
		// A source with an odd shape inside still yields what decoded.
		_ = json.Unmarshal(*ej.Source, &sj)
	}

	src := domain.SessionSource{
		Platform:     string(sj.Platform),
		ChatID:       string(sj.ChatID),
		ChatType:     string(sj.ChatType),
		ChatName:     string(sj.ChatName),
		UserID:       string(sj.UserID),
		UserName:     firstNonEmpty(sj.UserDisplayName, sj.UserName, sj.UserHandle),
		ThreadID:     string(sj.ThreadID),
		ChatTopic:    string(sj.ChatTopic),
		GuildID:      string(sj.GuildID),
		ScopeID:      string(sj.ScopeID),
		ParentChatID: string(sj.ParentChatID),
		MessageID:    string(sj.MessageID),
		UserIDAlt:    string(sj.UserIDAlt),
		ChatIDAlt:    string(sj.ChatIDAlt),
		Profile:      string(sj.Profile),
	}
	if src.ChatType == "" {
		src.ChatType = domain.ChatDM
	}

	return domain.MessageEvent{
		Text:             string(ej.Text),
		MessageType:      domain.ParseMessageType(string(ej.MessageType)),
		Source:           src,
		MessageID:        string(ej.MessageID),
		ReplyToMessageID: string(ej.ReplyToMessageID),
		MediaURLs:        []string(ej.MediaURLs),
	}, nil
}

func firstNonEmpty(vs ...text) string {
	for _, v := range vs {
		if v != "" {
			return string(v)
		}
	}

	return ""
}

type forwardJSON struct {
	Platform text              `json:"platform"`
	BotID    text              `json:"botId"`
	Method   text              `json:"method"`
	Path     text              `json:"path"`
	Headers  []json.RawMessage `json:"headers"`
	BodyB64  text              `json:"bodyB64"`
	Profile  text              `json:"profile"`
}

// DecodeForward decodes the forward object of a passthrough_forward frame.
// The body is the base64 (standard alphabet, padded or not) of the exact
// request bytes; a body that does not decode reads as empty. Header entries
// that are not two-element lists are dropped. It fails only when raw is not
// a JSON object.
func DecodeForward(raw []byte) (domain.Forward, error) {
	if !isObject(raw) {
		return domain.Forward{}, ErrBadEvent
	}

	var fj forwardJSON
	if err := json.Unmarshal(raw, &fj); err != nil {
		// headers of the wrong shape fail the typed decode: retry without
		// them so the rest of the forward survives.
		var partial struct {
			forwardJSON
			Headers json.RawMessage `json:"headers"`
		}
		if json.Unmarshal(raw, &partial) != nil {
			return domain.Forward{}, ErrBadEvent
		}
		fj = partial.forwardJSON
		fj.Headers = nil
	}

	f := domain.Forward{
		Platform: string(fj.Platform),
		BotID:    string(fj.BotID),
		Method:   string(fj.Method),
		Path:     string(fj.Path),
		Body:     decodeBody(string(fj.BodyB64)),
		Profile:  string(fj.Profile),
	}
	for _, h := range fj.Headers {
		var pair []json.RawMessage
		if json.Unmarshal(h, &pair) != nil || len(pair) != 2 {
			continue
		}
		var k, v text
		_ = k.UnmarshalJSON(pair[0])
		_ = v.UnmarshalJSON(pair[1])
		f.Headers = append(f.Headers, [2]string{string(k), string(v)})
	}

	return f, nil
}

func decodeBody(s string) []byte {
	if s == "" {
		return nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b
	}
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b
	}

	return nil
}

type resultJSON struct {
	Success   flag             `json:"success"`
	MessageID text             `json:"message_id"`
	Error     text             `json:"error"`
	Ambiguous flag             `json:"ambiguous"`
	ChatInfo  *json.RawMessage `json:"chat_info"`
	Name      *text            `json:"name"`
	Type      *text            `json:"type"`
}

// DecodeResult decodes the result object of an outbound_result frame. A
// result that is not an object reads as a failure that says so.
func DecodeResult(raw []byte) domain.SendResult {
	if success, id, msg, ambiguous, ok := decodeResultFast(raw); ok {
		return domain.SendResult{Success: success, MessageID: id, Error: msg, Ambiguous: ambiguous}
	}

	return decodeResultSlow(raw)
}

// decodeResultSlow decodes a result object with encoding/json.
func decodeResultSlow(raw []byte) domain.SendResult {
	var rj resultJSON
	if !isObject(raw) || json.Unmarshal(raw, &rj) != nil {
		return domain.SendResult{Error: "relay result malformed"}
	}

	return domain.SendResult{
		Success:   bool(rj.Success),
		MessageID: string(rj.MessageID),
		Error:     string(rj.Error),
		Ambiguous: bool(rj.Ambiguous),
	}
}

// DecodeChatInfo reads the chat info of a get_chat_info result: the
// chat_info object when there is one, else the name and type at the top
// level. A missing name reads as chatID and a missing type as "dm".
func DecodeChatInfo(raw []byte, chatID string) domain.ChatInfo {
	info := domain.ChatInfo{Name: chatID, Type: domain.ChatDM}

	var rj resultJSON
	if !isObject(raw) || json.Unmarshal(raw, &rj) != nil {
		return info
	}

	name, typ := rj.Name, rj.Type
	if rj.ChatInfo != nil && isObject(*rj.ChatInfo) {
		var inner struct {
			Name *text `json:"name"`
			Type *text `json:"type"`
		}
		_ = json.Unmarshal(*rj.ChatInfo, &inner)
		name, typ = inner.Name, inner.Type
	}

	if name != nil && *name != "" {
		info.Name = string(*name)
	}
	if typ != nil && *typ != "" {
		info.Type = string(*typ)
	}

	return info
}
