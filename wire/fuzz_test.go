package wire

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/relay-go/relay/domain"
)

// The fuzz targets below read their seed corpus from testdata/fuzz/<Name>/
// as well as from the few inputs added in code.

// isJSONObject reports whether b is one valid JSON value that is an object.
func isJSONObject(b []byte) bool {
	return json.Valid(b) && bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("{"))
}

func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte(`{"type":"hello","platform":"discord","botId":"b1"}`))
	f.Add([]byte(`{"type":"interrupt","session_key":"s","reason":null}`))
	f.Add([]byte(`[1,2]`))

	f.Fuzz(func(t *testing.T, line []byte) {
		fr, err := DecodeFrame(line)
		if err != nil {
			if isJSONObject(line) {
				t.Fatalf("valid object rejected: %v", err)
			}
			if !frameIsZero(fr) {
				t.Fatalf("failed decode returned a frame: %+v", fr)
			}
			return
		}
		if !isJSONObject(line) {
			t.Fatalf("accepted a line that is not a JSON object: %q", line)
		}

		// The nested decoders must cope with whatever the frame carried.
		_, _ = DecodeAction(fr.Action)
		_, _ = DecodeEvent(fr.Event)
		_, _ = DecodeForward(fr.Forward)
		_ = DecodeResult(fr.Result)
		_ = DecodeChatInfo(fr.Result, "c")

		again, ok := reencodeFrame(fr)
		if !ok {
			return
		}
		back, err := DecodeFrame(again[:len(again)-1])
		if err != nil {
			t.Fatalf("re-encoded frame rejected: %v\n%s", err, again)
		}
		if !framesEqual(restrict(fr), back) {
			t.Fatalf("re-encoded frame differs:\nfirst %+v\nagain %+v\n%s", fr, back, again)
		}
	})
}

func frameIsZero(f Frame) bool {
	return framesEqual(f, Frame{}) && f.Action == nil && f.Event == nil && f.Result == nil &&
		f.Forward == nil && f.Descriptor == nil
}

func framesEqual(a, b Frame) bool {
	reasonEqual := (a.Reason == nil) == (b.Reason == nil) &&
		(a.Reason == nil || *a.Reason == *b.Reason)

	return a.Type == b.Type && a.Platform == b.Platform && a.BotID == b.BotID &&
		a.RequestID == b.RequestID && bytes.Equal(a.Action, b.Action) &&
		bytes.Equal(a.Result, b.Result) && bytes.Equal(a.Descriptor, b.Descriptor) &&
		bytes.Equal(a.Event, b.Event) && bytes.Equal(a.Forward, b.Forward) &&
		a.BufferID == b.BufferID && a.SessionKey == b.SessionKey && a.ChatID == b.ChatID &&
		reasonEqual
}

// reencodeFrame writes the fields of a decoded frame back with the Append
// functions, and returns the frame those fields should decode to again.
func reencodeFrame(f Frame) ([]byte, bool) {
	switch f.Type {
	case TypeHello:
		return AppendHello(nil, domain.Identity{Platform: f.Platform, BotID: f.BotID}), true
	case TypeInterrupt:
		return AppendInterrupt(nil, f.SessionKey, f.Reason), true
	case TypeGoingIdle:
		return AppendGoingIdle(nil), true
	case TypeGoingIdleAck:
		return AppendGoingIdleAck(nil), true
	case TypeInboundAck:
		return AppendInboundAck(nil, f.BufferID), true
	case TypeInterruptInbound:
		return AppendInterruptInbound(nil, f.SessionKey, f.ChatID), true
	}

	return nil, false
}

// restrict keeps only the fields a frame of its type carries, so that it
// can be compared with a re-encoded copy.
func restrict(f Frame) Frame {
	switch f.Type {
	case TypeHello:
		return Frame{Type: f.Type, Platform: f.Platform, BotID: f.BotID}
	case TypeInterrupt:
		return Frame{Type: f.Type, SessionKey: f.SessionKey, Reason: f.Reason}
	case TypeInboundAck:
		return Frame{Type: f.Type, BufferID: f.BufferID}
	case TypeInterruptInbound:
		return Frame{Type: f.Type, SessionKey: f.SessionKey, ChatID: f.ChatID}
	}

	return Frame{Type: f.Type}
}

func FuzzSplitter(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n{\"b\":2}\n"), []byte{3, 9})
	f.Add([]byte("\n \n\r\nx\n"), []byte{1, 1, 1, 1})

	f.Fuzz(func(t *testing.T, stream, cuts []byte) {
		var whole Splitter
		want, err := collect(&whole, string(stream))
		if err != nil {
			t.Fatalf("whole stream: %v", err)
		}

		var pieces []string
		rest := string(stream)
		for _, c := range cuts {
			n := min(int(c), len(rest))
			pieces = append(pieces, rest[:n])
			rest = rest[n:]
		}
		pieces = append(pieces, rest)

		var cut Splitter
		got, err := collect(&cut, pieces...)
		if err != nil {
			t.Fatalf("cut stream: %v", err)
		}
		if !slices.Equal(want, got) {
			t.Fatalf("cut at %v: got %q, want %q", cuts, got, want)
		}
		if whole.Pending() != cut.Pending() {
			t.Fatalf("pending %d after cuts, %d whole", cut.Pending(), whole.Pending())
		}
		for _, fr := range got {
			if bytes.ContainsRune([]byte(fr), '\n') || isBlank([]byte(fr)) {
				t.Fatalf("bad frame %q", fr)
			}
		}
	})
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"text":"hi","source":{"chat_id":"c","user_display_name":"A"}}`))
	f.Add([]byte(`{"media_urls":[1,null,"a"],"source":[]}`))

	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := DecodeEvent(raw)
		if err != nil {
			if isJSONObject(raw) {
				t.Fatalf("valid object rejected: %v", err)
			}
			return
		}
		if !isJSONObject(raw) {
			t.Fatalf("accepted a non-object: %q", raw)
		}
		if ev.Source.ChatType == "" {
			t.Fatal("chat type left empty")
		}
		if domain.ParseMessageType(string(ev.MessageType)) != ev.MessageType {
			t.Fatalf("unknown message type %q kept", ev.MessageType)
		}
		if ev.MediaURLs != nil && len(ev.MediaURLs) == 0 {
			t.Fatal("empty non-nil media list")
		}

		back, err := DecodeEvent(AppendEvent(nil, ev))
		if err != nil {
			t.Fatalf("re-encoded event rejected: %v", err)
		}
		if !eventsEqual(ev, back) {
			t.Fatalf("round trip differs:\nfirst %+v\nagain %+v", ev, back)
		}
	})
}

func eventsEqual(a, b domain.MessageEvent) bool {
	return a.Text == b.Text && a.MessageType == b.MessageType && a.Source == b.Source &&
		a.MessageID == b.MessageID && a.ReplyToMessageID == b.ReplyToMessageID &&
		slices.Equal(a.MediaURLs, b.MediaURLs)
}

func FuzzDecodeForward(f *testing.F) {
	f.Add([]byte(`{"platform":"discord","headers":[["a","b"]],"bodyB64":"aGk="}`))
	f.Add([]byte(`{"headers":"x","bodyB64":"aGk"}`))

	f.Fuzz(func(t *testing.T, raw []byte) {
		fw, err := DecodeForward(raw)
		if err != nil {
			if isJSONObject(raw) {
				t.Fatalf("valid object rejected: %v", err)
			}
			return
		}
		if !isJSONObject(raw) {
			t.Fatalf("accepted a non-object: %q", raw)
		}

		line := AppendForward(nil, fw, "")
		fr, err := DecodeFrame(line[:len(line)-1])
		if err != nil {
			t.Fatalf("re-encoded frame rejected: %v\n%s", err, line)
		}
		back, err := DecodeForward(fr.Forward)
		if err != nil {
			t.Fatalf("re-encoded forward rejected: %v", err)
		}
		if !forwardsEqual(fw, back) {
			t.Fatalf("round trip differs:\nfirst %+v\nagain %+v", fw, back)
		}
	})
}

func forwardsEqual(a, b domain.Forward) bool {
	return a.Platform == b.Platform && a.BotID == b.BotID && a.Method == b.Method &&
		a.Path == b.Path && slices.Equal(a.Headers, b.Headers) && bytes.Equal(a.Body, b.Body) &&
		a.Profile == b.Profile
}

func FuzzDecodeAction(f *testing.F) {
	f.Add([]byte(`{"op":"send","chat_id":"c","content":"x","reply_to":null,"metadata":{"a":1}}`))
	f.Add([]byte(`{"op":"edit","message_id":"m","extra":[{"k":true}]}`))

	f.Fuzz(func(t *testing.T, raw []byte) {
		a, err := DecodeAction(raw)
		if err != nil {
			if isJSONObject(raw) {
				t.Fatalf("valid object rejected: %v", err)
			}
			return
		}
		if !isJSONObject(raw) {
			t.Fatalf("accepted a non-object: %q", raw)
		}

		enc, err := AppendAction(nil, a)
		if err != nil {
			t.Fatalf("decoded action does not encode: %v", err)
		}
		if !json.Valid(enc) {
			t.Fatalf("encoded action is not JSON: %s", enc)
		}
		back, err := DecodeAction(enc)
		if err != nil {
			t.Fatalf("re-encoded action rejected: %v", err)
		}
		want := wireView(a)
		if !actionsEqual(want, back) {
			t.Fatalf("round trip differs:\nwant  %#v\nagain %#v\n%s", want, back, enc)
		}
	})
}

// wireView is the action a decoder reads back from AppendAction(a).
func wireView(a domain.Action) domain.Action {
	nonNil := func(m map[string]any) map[string]any {
		if m == nil {
			return map[string]any{}
		}
		return m
	}

	switch a.Op {
	case domain.OpSend:
		return domain.Action{
			Op: a.Op, ChatID: a.ChatID, Content: a.Content, ReplyTo: a.ReplyTo,
			Metadata: nonNil(a.Metadata),
		}
	case domain.OpFollowUp:
		return domain.Action{
			Op: a.Op, SessionKey: a.SessionKey, Kind: a.Kind, Content: a.Content,
			Metadata: nonNil(a.Metadata),
		}
	case domain.OpGetChatInfo:
		return domain.Action{Op: a.Op, ChatID: a.ChatID}
	}

	// Other ops write only non-empty fields.
	if a.ReplyTo != nil && *a.ReplyTo == "" {
		a.ReplyTo = nil
	}
	a.Target = domain.Identity{}

	return a
}

func actionsEqual(a, b domain.Action) bool {
	return reflect.DeepEqual(a, b)
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{
		"", "plain", "\"\\\n\r\t\x00\x1f", "<>&", "\u2028\u2029", "\xff\xfe", "é☃🔌",
	} {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, s string) {
		got := appendString(nil, s)
		if !json.Valid(got) {
			t.Fatalf("not valid JSON: %q", got)
		}
		if bytes.ContainsAny(got, "\n\r") {
			t.Fatalf("raw line break in %q", got)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("unmarshal %q: %v", got, err)
		}
		if want := jsonString(t, s); back != want {
			t.Fatalf("appendString(%q) reads back as %q, encoding/json as %q", s, back, want)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("valid string %q changed to %q", s, back)
		}
	})
}
