package wire

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// referenceToken computes an upgrade token straight from the standard
// library, independently of MintToken.
func referenceToken(gatewayID, secret string, exp int64) string {
	msg := gatewayID + ":" + strconv.FormatInt(exp, 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(msg))
	raw := msg + ":" + hex.EncodeToString(mac.Sum(nil))

	return strings.TrimRight(base64.URLEncoding.EncodeToString([]byte(raw)), "=")
}

func TestMintTokenMatchesReference(t *testing.T) {
	tests := []struct {
		name      string
		gatewayID string
		secret    string
		exp       int64
	}{
		{name: "plain", gatewayID: "gw-1", secret: "s3cret", exp: 1700000300},
		{name: "never expires", gatewayID: "gw-1", secret: "s3cret", exp: 0},
		{name: "colons in gateway id", gatewayID: "a:b:c", secret: "k", exp: 5},
		{name: "non-ascii", gatewayID: "gw-é", secret: "sécret", exp: 42},
		{name: "long secret", gatewayID: "g", secret: strings.Repeat("k", 200), exp: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MintToken(tt.gatewayID, tt.secret, tt.exp)
			assert.Equal(t, referenceToken(tt.gatewayID, tt.secret, tt.exp), got)
			assert.NotContains(t, got, "=", "token must be unpadded")
			assert.NotContains(t, got, "+", "token must use the URL alphabet")
			assert.NotContains(t, got, "/", "token must use the URL alphabet")
		})
	}
}

// The golden tokens below were computed once with Python's hmac, hashlib
// and base64.urlsafe_b64encode (padding stripped), so they pin the format
// against an implementation other than Go's.
func TestMintTokenGolden(t *testing.T) {
	tests := []struct {
		name      string
		gatewayID string
		secret    string
		exp       int64
		want      string
	}{
		{
			name: "plain", gatewayID: "gw-1", secret: "s3cret", exp: 1700000300,
			want: "Z3ctMToxNzAwMDAwMzAwOjg5OWZhOTliMDczMWQ4ZmVkY2FjY2NiZjM2Y2Fj" +
				"ZTdhYjM0ODA1OWM4Yjk3OTE4ZjljNjJkZmI1MWViOWUzYzE",
		},
		{
			name: "colons and never expires", gatewayID: "a:b:c", secret: "k", exp: 0,
			want: "YTpiOmM6MDpmOGFlMzliMjhiOGI3M2VlN2I5OTFiYWI3MmJhY2ExMzY0ZTRj" +
				"ZDU1NWE4MGM0OGVjMmE4MTg3NzE0ZTgxODEy",
		},
		{
			name: "utf-8", gatewayID: "gw-é", secret: "sécret", exp: 42,
			want: "Z3ctw6k6NDI6ZTNlYWM3YzYxOGY3ZWJiODM1MmI3OTlmNzIxOGJhYzAwODcz" +
				"YmM2NGMyMTRmOTNhYzIwOGM4YzkzNDUzMGFmMA",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, MintToken(tt.gatewayID, tt.secret, tt.exp))
		})
	}
}

func TestHasSecret(t *testing.T) {
	tests := []struct {
		name      string
		gatewayID string
		secret    string
		want      bool
	}{
		{name: "both set", gatewayID: "gw", secret: "s", want: true},
		{name: "secret with spaces around", gatewayID: "gw", secret: " s ", want: true},
		{name: "no gateway id", gatewayID: "", secret: "s", want: false},
		{name: "empty secret", gatewayID: "gw", secret: "", want: false},
		{name: "whitespace secret", gatewayID: "gw", secret: " \t\n", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, HasSecret(tt.gatewayID, tt.secret))
		})
	}
}

func TestAuthorizationHeader(t *testing.T) {
	now := time.Unix(1700000000, 0)

	t.Run("no header without a credential", func(t *testing.T) {
		gives := [][2]string{{"", "s"}, {"gw", ""}, {"gw", "   "}, {"gw", "\t\r\n"}}
		for _, give := range gives {
			got, ok := AuthorizationHeader(give[0], give[1], now)
			assert.False(t, ok, "gateway %q secret %q", give[0], give[1])
			assert.Empty(t, got)
		}
	})

	t.Run("bearer token expiring in 300 s", func(t *testing.T) {
		got, ok := AuthorizationHeader("gw-1", "s3cret", now)
		require.True(t, ok)
		assert.Equal(t, "Bearer "+referenceToken("gw-1", "s3cret", 1700000300), got)
		assert.Equal(t, 300*time.Second, TokenLifetime)
	})

	t.Run("secret used as given", func(t *testing.T) {
		got, ok := AuthorizationHeader("gw", " s ", now)
		require.True(t, ok)
		assert.Equal(t, "Bearer "+referenceToken("gw", " s ", 1700000300), got)
	})

	t.Run("fresh token per dial", func(t *testing.T) {
		first, ok := AuthorizationHeader("gw", "s", now)
		require.True(t, ok)
		second, ok := AuthorizationHeader("gw", "s", now.Add(time.Second))
		require.True(t, ok)
		assert.NotEqual(t, first, second)

		id, err := VerifyToken(BearerToken(second), secretsOf("s"), now.Add(301*time.Second))
		require.NoError(t, err)
		assert.Equal(t, "gw", id)
	})
}

func secretsOf(secrets ...string) func(string) []string {
	return func(string) []string { return secrets }
}

func TestVerifyToken(t *testing.T) {
	const now = int64(1700000000)
	encode := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	sigOf := func(secret, msg string) string {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(msg))
		return hex.EncodeToString(mac.Sum(nil))
	}

	tests := []struct {
		name    string
		token   string
		secrets []string
		wantID  string
		wantErr error
	}{
		{name: "valid", token: MintToken("gw", "s", now+300), secrets: []string{"s"}, wantID: "gw"},
		{
			name: "valid at the expiry second", token: MintToken("gw", "s", now),
			secrets: []string{"s"}, wantID: "gw",
		},
		{
			name: "expired", token: MintToken("gw", "s", now-1), secrets: []string{"s"},
			wantID: "gw", wantErr: ErrTokenExpired,
		},
		{
			name: "exp 0 never expires", token: MintToken("gw", "s", 0),
			secrets: []string{"s"}, wantID: "gw",
		},
		{
			name: "wrong secret", token: MintToken("gw", "s", now+300),
			secrets: []string{"t"}, wantErr: ErrTokenInvalid,
		},
		{name: "no secrets", token: MintToken("gw", "s", now+300), wantErr: ErrTokenInvalid},
		{
			name: "rotation: second secret valid", token: MintToken("gw", "new", now+300),
			secrets: []string{"old", "new"}, wantID: "gw",
		},
		{
			name: "rotation: first secret valid", token: MintToken("gw", "old", now+300),
			secrets: []string{"old", "new"}, wantID: "gw",
		},
		{
			name: "empty secrets ignored", token: MintToken("gw", "", now+300),
			secrets: []string{"", "  "}, wantErr: ErrTokenInvalid,
		},
		{
			name: "whitespace secret ignored even if it signed", token: MintToken("gw", " ", now+300),
			secrets: []string{" ", "s"}, wantErr: ErrTokenInvalid,
		},
		{
			name: "gateway id with colons", token: MintToken("a:b:c", "s", now+300),
			secrets: []string{"s"}, wantID: "a:b:c",
		},
		{
			name: "expired token with a bad signature is invalid", token: MintToken("gw", "x", now-1),
			secrets: []string{"s"}, wantErr: ErrTokenInvalid,
		},
		{name: "empty token", token: "", secrets: []string{"s"}, wantErr: ErrTokenMissing},
		{
			name: "malformed base64", token: "!!!not base64!!!",
			secrets: []string{"s"}, wantErr: ErrTokenMalformed,
		},
		{
			name: "padded base64 rejected", token: encode("gw:0:"+sigOf("s", "gw:0")) + "==",
			secrets: []string{"s"}, wantErr: ErrTokenMalformed,
		},
		{
			name: "standard alphabet rejected", token: "Z3c6MDo+/w", secrets: []string{"s"},
			wantErr: ErrTokenMalformed,
		},
		{
			name: "no separators", token: encode("garbage"),
			secrets: []string{"s"}, wantErr: ErrTokenMalformed,
		},
		{
			name: "one separator", token: encode("gw:sig"),
			secrets: []string{"s"}, wantErr: ErrTokenMalformed,
		},
		{
			name: "missing gateway id", token: encode(":0:" + sigOf("s", ":0")),
			secrets: []string{"s"}, wantErr: ErrTokenMalformed,
		},
		{
			name: "missing exp", token: encode("gw::" + sigOf("s", "gw:")),
			secrets: []string{"s"}, wantErr: ErrTokenMalformed,
		},
		{
			name: "exp not a number", token: encode("gw:soon:" + sigOf("s", "gw:soon")),
			secrets: []string{"s"}, wantErr: ErrTokenMalformed,
		},
		{
			name: "negative exp", token: encode("gw:-5:" + sigOf("s", "gw:-5")),
			secrets: []string{"s"}, wantErr: ErrTokenMalformed,
		},
		{
			name: "missing signature", token: encode("gw:0:"),
			secrets: []string{"s"}, wantErr: ErrTokenInvalid,
		},
		{
			name: "uppercase signature", token: encode("gw:0:" + strings.ToUpper(sigOf("s", "gw:0"))),
			secrets: []string{"s"}, wantErr: ErrTokenInvalid,
		},
		{
			name: "signature over another gateway", token: encode("gw2:0:" + sigOf("s", "gw:0")),
			secrets: []string{"s"}, wantErr: ErrTokenInvalid,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := VerifyToken(tt.token, secretsOf(tt.secrets...), time.Unix(now, 0))
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantID, id)
			if err != nil && tt.token != "" {
				assert.NotContains(t, err.Error(), tt.token, "errors never echo the token")
			}
		})
	}
}

func TestVerifyTokenLooksUpTheNamedGateway(t *testing.T) {
	var asked []string
	secrets := func(id string) []string {
		asked = append(asked, id)
		if id == "a:b" {
			return []string{"s"}
		}
		return nil
	}

	id, err := VerifyToken(MintToken("a:b", "s", 0), secrets, time.Unix(0, 0))
	require.NoError(t, err)
	assert.Equal(t, "a:b", id)
	assert.Equal(t, []string{"a:b"}, asked)

	_, err = VerifyToken(MintToken("other", "s", 0), secrets, time.Unix(0, 0))
	assert.ErrorIs(t, err, ErrTokenInvalid)
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string
	}{
		{name: "bearer", give: "Bearer abc", want: "abc"},
		{name: "scheme is case-insensitive", give: "bearer abc", want: "abc"},
		{name: "upper case scheme", give: "BEARER abc", want: "abc"},
		{name: "extra spaces trimmed", give: "Bearer   abc  ", want: "abc"},
		{name: "empty", give: "", want: ""},
		{name: "scheme only", give: "Bearer", want: ""},
		{name: "scheme and space", give: "Bearer ", want: ""},
		{name: "basic scheme", give: "Basic abc", want: ""},
		{name: "no space", give: "Bearerabc", want: ""},
		{name: "token only", give: "abc", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, BearerToken(tt.give))
		})
	}
}
