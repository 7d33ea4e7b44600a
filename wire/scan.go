package wire

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/relay-go/relay/domain"
)

// The decoders of the hot path (frames, inbound events, outbound results)
// first try a single-pass scanner that validates the JSON as it reads it
// and builds the result without reflection. It handles the common shape:
// keys spelled exactly, scalar fields, nested objects where they belong.
// Whenever it meets something else (a key that differs from a known one
// only by case, an object where a scalar belongs, invalid JSON, very deep
// nesting), it gives up and the caller decodes with encoding/json instead,
// so both paths always agree.

// maxScanDepth bounds the nesting the scanner follows before giving up.
const maxScanDepth = 512

// scanner reads one JSON document. Its methods report false when the input
// is not what the fast path handles; the scanner is then abandoned.
type scanner struct {
	b     []byte
	i     int
	depth int
}

func (s *scanner) skipSpace() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.skipSpace()
	if s.i < len(s.b) {
		return s.b[s.i]
	}

	return 0
}

// end reports whether only spaces are left.
func (s *scanner) end() bool {
	s.skipSpace()

	return s.i == len(s.b)
}

// objectStart consumes the '{' of an object.
func (s *scanner) objectStart() bool {
	if s.peek() != '{' {
		return false
	}
	s.i++

	return true
}

// member advances to the next key of an object whose '{' was consumed. It
// returns the key's raw bytes (no escapes allowed) with more true, or more
// false once the closing '}' was consumed. ok is false on malformed input.
// first tracks whether a comma is expected.
func (s *scanner) member(first *bool) (key []byte, more, ok bool) {
	c := s.peek()
	if c == '}' {
		s.i++

		return nil, false, true
	}

	if !*first {
		if c != ',' {
			return nil, false, false
		}
		s.i++
		c = s.peek()
	}
	*first = false

	if c != '"' {
		return nil, false, false
	}

	start := s.i + 1
	for j := start; j < len(s.b); j++ {
		switch b := s.b[j]; {
		case b == '"':
			key = s.b[start:j]
			s.i = j + 1
			if s.peek() != ':' {
				return nil, false, false
			}
			s.i++

			return key, true, true
		case b == '\\' || b < 0x20 || b >= utf8.RuneSelf:
			return nil, false, false
		}
	}

	return nil, false, false
}

// value skips one value, validating it, and returns its raw bytes.
func (s *scanner) value() ([]byte, bool) {
	c := s.peek()
	start := s.i

	var ok bool
	switch {
	case c == '"':
		_, _, ok = s.str()
	case c == '{':
		ok = s.skipObject()
	case c == '[':
		ok = s.skipArray()
	case c == 't':
		ok = s.literal("true")
	case c == 'f':
		ok = s.literal("false")
	case c == 'n':
		ok = s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		ok = s.number()
	}
	if !ok {
		return nil, false
	}

	return s.b[start:s.i], true
}

func (s *scanner) literal(lit string) bool {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return false
	}
	s.i += len(lit)

	return true
}

// number consumes a JSON number.
func (s *scanner) number() bool {
	b, i := s.b, s.i
	digits := func() bool {
		n := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}

		return i > n
	}

	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	s.i = i

	return true
}

// str consumes a string. plain reports that it has no escape and only
// ASCII, so its bytes between the quotes are its value.
func (s *scanner) str() (tok []byte, plain, ok bool) {
	start := s.i
	plain = true
	for j := start + 1; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			s.i = j + 1

			return s.b[start:s.i], plain, true
		case c == '\\':
			plain = false
			j++
			if j >= len(s.b) {
				return nil, false, false
			}
			switch s.b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(s.b) {
					return nil, false, false
				}
				for _, h := range s.b[j+1 : j+5] {
					if !isHex(h) {
						return nil, false, false
					}
				}
				j += 4
			default:
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		case c >= utf8.RuneSelf:
			plain = false
		}
	}

	return nil, false, false
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func (s *scanner) skipObject() bool {
	if s.depth++; s.depth > maxScanDepth || !s.objectStart() {
		return false
	}

	first := true
	for {
		_, more, ok := s.member(&first)
		if !ok {
			// A key with escapes or non-ASCII is still valid JSON; the
			// fast path leaves such documents to encoding/json.
			return false
		}
		if !more {
			s.depth--

			return true
		}
		if _, ok := s.value(); !ok {
			return false
		}
	}
}

func (s *scanner) skipArray() bool {
	if s.depth++; s.depth > maxScanDepth {
		return false
	}
	s.i++ // '['

	if s.peek() == ']' {
		s.i++
		s.depth--

		return true
	}

	for {
		if _, ok := s.value(); !ok {
			return false
		}

		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--

			return true
		default:
			return false
		}
	}
}

// text reads a value as the lenient text type does: a string as itself, a
// number or a boolean as its literal, null as "". Objects and arrays are
// left to the slow path.
func (s *scanner) text() (string, bool) {
	switch c := s.peek(); {
	case c == '"':
		tok, plain, ok := s.str()
		if !ok {
			return "", false
		}

		return unquote(tok, plain)
	case c == 'n':
		return "", s.literal("null")
	case c == 't', c == 'f', c == '-', c >= '0' && c <= '9':
		raw, ok := s.value()

		return string(raw), ok
	default:
		return "", false
	}
}

// unquote returns the value of a string token.
func unquote(tok []byte, plain bool) (string, bool) {
	if plain {
		return intern(tok[1 : len(tok)-1]), true
	}

	if utf8.Valid(tok) && bytes.IndexByte(tok, '\\') < 0 {
		return string(tok[1 : len(tok)-1]), true
	}

	var v string
	if json.Unmarshal(tok, &v) != nil {
		return "", false
	}

	return v, true
}

// intern returns b as a string, without allocating for the values that
// recur in almost every frame: frame types, message and chat types, and
// platform names.
func intern(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case TypeInbound:
		return TypeInbound
	case TypeOutboundResult:
		return TypeOutboundResult
	case TypeDescriptor:
		return TypeDescriptor
	case TypeInterruptInbound:
		return TypeInterruptInbound
	case TypeGoingIdleAck:
		return TypeGoingIdleAck
	case TypePassthroughForward:
		return TypePassthroughForward
	case string(domain.MessageText):
		return string(domain.MessageText)
	case domain.ChatDM:
		return domain.ChatDM
	case domain.ChatGroup:
		return domain.ChatGroup
	case domain.ChatChannel:
		return domain.ChatChannel
	case domain.ChatThread:
		return domain.ChatThread
	case domain.PlatformDiscord:
		return domain.PlatformDiscord
	case "telegram":
		return "telegram"
	case "slack":
		return "slack"
	default:
		return string(b)
	}
}

// flag reads a value as the lenient flag type does, except objects and
// arrays, which are left to the slow path.
func (s *scanner) flag() (bool, bool) {
	switch c := s.peek(); {
	case c == 't':
		return true, s.literal("true")
	case c == 'f':
		return false, s.literal("false")
	case c == 'n':
		return false, s.literal("null")
	case c == '"':
		tok, _, ok := s.str()

		return len(tok) > 2, ok
	case c == '-', c >= '0' && c <= '9':
		raw, ok := s.value()
		n, err := strconv.ParseFloat(string(raw), 64)

		return err == nil && n != 0, ok
	default:
		return false, false
	}
}

// foldsTo reports whether key matches one of known regardless of case,
// which encoding/json would honour: the fast path then gives up.
func foldsTo(key []byte, known []string) bool {
	for _, k := range known {
		if len(k) == len(key) && bytes.EqualFold(key, []byte(k)) {
			return true
		}
	}

	return false
}

var frameKeys = []string{
	"type", "platform", "botId", "requestId", "action", "result", "descriptor",
	"event", "forward", "bufferId", "session_key", "chat_id", "reason",
}

// decodeFrameFast is the fast path of DecodeFrame.
func decodeFrameFast(line []byte) (Frame, bool) {
	var (
		f     Frame
		raws  [5][2]int // offsets of action, result, descriptor, event, forward
		has   [5]bool
		first = true
	)

	s := scanner{b: line}
	if !s.objectStart() {
		return Frame{}, false
	}

	for {
		key, more, ok := s.member(&first)
		if !ok {
			return Frame{}, false
		}
		if !more {
			break
		}

		var slot = -1
		switch string(key) {
		case "type":
			f.Type, ok = s.text()
		case "platform":
			f.Platform, ok = s.text()
		case "botId":
			f.BotID, ok = s.text()
		case "requestId":
			f.RequestID, ok = s.text()
		case "bufferId":
			f.BufferID, ok = s.text()
		case "session_key":
			f.SessionKey, ok = s.text()
		case "chat_id":
			f.ChatID, ok = s.text()
		case "reason":
			if s.peek() == 'n' {
				f.Reason, ok = nil, s.literal("null")
			} else {
				var r string
				r, ok = s.text()
				f.Reason = &r
			}
		case "action":
			slot = 0
		case "result":
			slot = 1
		case "descriptor":
			slot = 2
		case "event":
			slot = 3
		case "forward":
			slot = 4
		default:
			if foldsTo(key, frameKeys) {
				return Frame{}, false
			}
			_, ok = s.value()
		}

		if slot >= 0 {
			var raw []byte
			if raw, ok = s.value(); ok {
				raws[slot] = [2]int{s.i - len(raw), s.i}
				has[slot] = string(raw) != "null"
			}
		}
		if !ok {
			return Frame{}, false
		}
	}

	if !s.end() {
		return Frame{}, false
	}

	if has != [5]bool{} {
		// One copy of the line backs every nested value, so the frame
		// does not alias line.
		own := bytes.Clone(line)
		dst := [5]*json.RawMessage{&f.Action, &f.Result, &f.Descriptor, &f.Event, &f.Forward}
		for i, ok := range has {
			if ok {
				*dst[i] = own[raws[i][0]:raws[i][1]:raws[i][1]]
			}
		}
	}

	return f, true
}

var eventKeys = []string{
	"text", "message_type", "source", "message_id", "reply_to_message_id", "media_urls",
}

// decodeEventFast is the fast path of DecodeEvent. It leaves media_urls
// with entries to the slow path.
func decodeEventFast(raw []byte) (eventFields, bool) {
	var (
		ev    eventFields
		first = true
	)

	s := scanner{b: raw}
	if !s.objectStart() {
		return ev, false
	}

	for {
		key, more, ok := s.member(&first)
		if !ok {
			return ev, false
		}
		if !more {
			break
		}

		switch string(key) {
		case "text":
			ev.text, ok = s.text()
		case "message_type":
			ev.messageType, ok = s.text()
		case "message_id":
			ev.messageID, ok = s.text()
		case "reply_to_message_id":
			ev.replyTo, ok = s.text()
		case "source":
			ev.src = sourceFields{}
			if s.peek() == '{' {
				ok = s.source(&ev.src)
			} else {
				_, ok = s.value()
			}
		case "media_urls":
			switch s.peek() {
			case 'n':
				ok = s.literal("null")
			case '[':
				var v []byte
				v, ok = s.value()
				ok = ok && isEmptyArray(v)
			default:
				// Not a list: reads as no media.
				_, ok = s.value()
			}
			ev.media = nil
		default:
			if foldsTo(key, eventKeys) {
				return ev, false
			}
			_, ok = s.value()
		}
		if !ok {
			return ev, false
		}
	}

	return ev, s.end()
}

// event builds the domain event, with the defaults DecodeEvent documents.
func (f *eventFields) event() domain.MessageEvent {
	src := domain.SessionSource{
		Platform: f.src.platform,
		ChatID:   f.src.chatID,
		ChatType: f.src.chatType,
		ChatName: f.src.chatName,
		UserID:   f.src.userID,
		UserName: firstNonEmpty(text(f.src.userDisplayName), text(f.src.userName),
			text(f.src.userHandle)),
		ThreadID:     f.src.threadID,
		ChatTopic:    f.src.chatTopic,
		GuildID:      f.src.guildID,
		ScopeID:      f.src.scopeID,
		ParentChatID: f.src.parentChatID,
		MessageID:    f.src.messageID,
		UserIDAlt:    f.src.userIDAlt,
		ChatIDAlt:    f.src.chatIDAlt,
		Profile:      f.src.profile,
	}
	if src.ChatType == "" {
		src.ChatType = domain.ChatDM
	}

	return domain.MessageEvent{
		Text:             f.text,
		MessageType:      domain.ParseMessageType(f.messageType),
		Source:           src,
		MessageID:        f.messageID,
		ReplyToMessageID: f.replyTo,
		MediaURLs:        f.media,
	}
}

func isEmptyArray(v []byte) bool {
	return len(bytes.TrimSpace(v[1:len(v)-1])) == 0
}

// eventFields holds the fields of an event the fast path read.
type eventFields struct {
	text, messageType, messageID, replyTo string
	src                                   sourceFields
	media                                 []string
}

// sourceFields holds the fields of an event source, by wire name.
type sourceFields struct {
	platform, chatID, chatType, chatName, userID, userName, userDisplayName string
	userHandle, threadID, chatTopic, guildID, scopeID, parentChatID         string
	messageID, userIDAlt, chatIDAlt, profile                                string
}

var sourceKeys = []string{
	"platform", "chat_id", "chat_type", "chat_name", "user_id", "user_name",
	"user_display_name", "user_handle", "thread_id", "chat_topic", "guild_id",
	"scope_id", "parent_chat_id", "message_id", "user_id_alt", "chat_id_alt", "profile",
}

// source reads a source object into src.
func (s *scanner) source(src *sourceFields) bool {
	s.objectStart()

	first := true
	for {
		key, more, ok := s.member(&first)
		if !ok {
			return false
		}
		if !more {
			return true
		}

		var p *string
		switch string(key) {
		case "platform":
			p = &src.platform
		case "chat_id":
			p = &src.chatID
		case "chat_type":
			p = &src.chatType
		case "chat_name":
			p = &src.chatName
		case "user_id":
			p = &src.userID
		case "user_name":
			p = &src.userName
		case "user_display_name":
			p = &src.userDisplayName
		case "user_handle":
			p = &src.userHandle
		case "thread_id":
			p = &src.threadID
		case "chat_topic":
			p = &src.chatTopic
		case "guild_id":
			p = &src.guildID
		case "scope_id":
			p = &src.scopeID
		case "parent_chat_id":
			p = &src.parentChatID
		case "message_id":
			p = &src.messageID
		case "user_id_alt":
			p = &src.userIDAlt
		case "chat_id_alt":
			p = &src.chatIDAlt
		case "profile":
			p = &src.profile
		default:
			if foldsTo(key, sourceKeys) {
				return false
			}
			if _, ok := s.value(); !ok {
				return false
			}

			continue
		}

		if *p, ok = s.text(); !ok {
			return false
		}
	}
}

var resultKeys = []string{"success", "message_id", "error", "ambiguous", "chat_info",
	"name", "type"}

// decodeResultFast is the fast path of DecodeResult.
func decodeResultFast(raw []byte) (success bool, messageID, errText string, ambiguous, ok bool) {
	s := scanner{b: raw}
	if !s.objectStart() {
		return false, "", "", false, false
	}

	first := true
	for {
		key, more, good := s.member(&first)
		if !good {
			return false, "", "", false, false
		}
		if !more {
			break
		}

		switch string(key) {
		case "success":
			success, good = s.flag()
		case "ambiguous":
			ambiguous, good = s.flag()
		case "message_id":
			messageID, good = s.text()
		case "error":
			errText, good = s.text()
		case "name", "type":
			_, good = s.text()
		default:
			if foldsTo(key, resultKeys) && string(key) != "chat_info" {
				return false, "", "", false, false
			}
			_, good = s.value()
		}
		if !good {
			return false, "", "", false, false
		}
	}

	return success, messageID, errText, ambiguous, s.end()
}
