package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDialURL(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string
	}{
		{name: "https becomes wss", give: "https://relay.example", want: "wss://relay.example/relay"},
		{name: "http becomes ws", give: "http://127.0.0.1:8080", want: "ws://127.0.0.1:8080/relay"},
		{name: "wss kept", give: "wss://relay.example", want: "wss://relay.example/relay"},
		{name: "ws kept", give: "ws://127.0.0.1:9", want: "ws://127.0.0.1:9/relay"},
		{name: "trailing slash dropped", give: "https://h/", want: "wss://h/relay"},
		{name: "several trailing slashes dropped", give: "https://h///", want: "wss://h/relay"},
		{name: "relay already there", give: "https://h/relay", want: "wss://h/relay"},
		{name: "relay with trailing slash", give: "http://h/relay/", want: "ws://h/relay"},
		{name: "relay with trailing slashes", give: "ws://h/relay//", want: "ws://h/relay"},
		{name: "base path kept", give: "https://h/api/v1/", want: "wss://h/api/v1/relay"},
		{name: "base path ending in relay", give: "https://h/api/relay", want: "wss://h/api/relay"},
		{name: "relay suffix of a name", give: "https://h/myrelay", want: "wss://h/myrelay/relay"},
		{name: "relays is not relay", give: "https://h/relays", want: "wss://h/relays/relay"},
		{name: "surrounding whitespace trimmed", give: "  https://h/ \n", want: "wss://h/relay"},
		{name: "tabs and newlines trimmed", give: "\thttp://h\r\n", want: "ws://h/relay"},
		{name: "empty", give: "", want: "/relay"},
		{name: "whitespace only", give: "   ", want: "/relay"},
		{name: "scheme only", give: "https://", want: "wss:/relay"},
		{name: "https inside a path", give: "ws://h/https://x", want: "ws://h/https://x/relay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DialURL(tt.give)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, got, DialURL(got), "DialURL must be idempotent")
		})
	}
}

func FuzzDialURL(f *testing.F) {
	for _, s := range []string{
		"https://h", "http://h/relay/", " ws://h// ", "", "https://", "a /", "x/relay /",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, base string) {
		once := DialURL(base)
		if twice := DialURL(once); twice != once {
			t.Fatalf("DialURL not idempotent: %q -> %q -> %q", base, once, twice)
		}
	})
}
