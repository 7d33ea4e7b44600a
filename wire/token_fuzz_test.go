package wire

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzVerifyToken feeds arbitrary Authorization header values, as a
// connector reads them from the network, through BearerToken and
// VerifyToken. Nothing may panic; a token is accepted only when it names a
// gateway whose secret signed it, and a refusal is one of the token errors.
func FuzzVerifyToken(f *testing.F) {
	f.Add("Bearer " + MintToken("gw-1", "s", 0))
	f.Add("Bearer " + MintToken("gw:with:colons", "s", 100))
	f.Add("bearer   Z3ctMTowOmFi")
	f.Add("Basic abc")
	f.Add("Bearer Z3ctMTo5OTk5OTk5OTk5OTk5OTk5OTk5OTk6")

	secrets := func(id string) []string {
		if id == "gw-1" || strings.HasPrefix(id, "gw:") {
			return []string{"s", "", "other"}
		}

		return nil
	}
	known := []error{ErrTokenMissing, ErrTokenMalformed, ErrTokenExpired, ErrTokenInvalid}

	f.Fuzz(func(t *testing.T, header string) {
		token := BearerToken(header)
		id, err := VerifyToken(token, secrets, time.Unix(50, 0))
		if err != nil {
			for _, k := range known {
				if errors.Is(err, k) {
					return
				}
			}
			t.Fatalf("unexpected error kind: %v", err)
		}
		if secrets(id) == nil {
			t.Fatalf("accepted a token of unknown gateway %q", id)
		}
	})
}
