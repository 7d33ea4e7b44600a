package wire

import "strings"

// DialPath is the path every connector serves its relay endpoint on.
const DialPath = "/relay"

// DialURL normalizes a connector base URL to the WebSocket URL a gateway
// dials: https becomes wss, http becomes ws, trailing slashes are dropped and
// DialPath is appended unless the URL already ends with it. Surrounding
// whitespace is trimmed. Applying DialURL twice gives the same result.
func DialURL(base string) string {
	u := strings.TrimSpace(base)

	switch {
	case strings.HasPrefix(u, "https://"):
		u = "wss://" + u[len("https://"):]
	case strings.HasPrefix(u, "http://"):
		u = "ws://" + u[len("http://"):]
	}

	u = strings.TrimRight(u, "/")
	if !strings.HasSuffix(u, DialPath) {
		u += DialPath
	}

	return u
}
