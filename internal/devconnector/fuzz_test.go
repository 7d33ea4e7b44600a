package devconnector

import (
	"bytes"
	"encoding/json"
	"testing"
)

func FuzzParseInbound(f *testing.F) {
	f.Add([]byte(`{"text":"hi","source":{"chat_id":"c","user_id":"u"}}`))
	f.Add([]byte(`{"event":{"source":{"chat_id":"c"}},"gateway_id":"g"}`))
	f.Add([]byte(`{"event":"x"}`))
	f.Add([]byte("{\"text\":\"a\nb\",\"source\":{\"chat_id\":1}}"))

	f.Fuzz(func(t *testing.T, body []byte) {
		event, _, err := parseInbound(body)
		if err != nil {
			return
		}
		if bytes.IndexByte(event, '\n') >= 0 {
			t.Fatalf("event holds a newline and would break framing: %q", event)
		}
		if !json.Valid(event) {
			t.Fatalf("event is not valid JSON: %q", event)
		}
	})
}

func FuzzLearnInteraction(f *testing.F) {
	f.Add([]byte(`{"type":2,"channel_id":"c","guild_id":"g","member":{"user":{"id":"u"}}}`))
	f.Add([]byte(`{"type":3,"channel_id":5,"user":{"id":7}}`))
	f.Add([]byte(`{"member":"odd","user":[1]}`))
	f.Add([]byte(`null`))

	f.Fuzz(func(t *testing.T, body []byte) {
		l, err := learnInteraction(body)
		if err != nil {
			return
		}
		if len(l.scopes) > 0 && l.author != "" {
			t.Fatalf("a guild interaction bound an author: %+v", l)
		}
	})
}
