package wire

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// TokenLifetime is how long a minted upgrade token stays valid.
const TokenLifetime = 300 * time.Second

// Errors returned by VerifyToken. They never contain the token or a secret.
var (
	// ErrTokenMissing means the upgrade carried no bearer token.
	ErrTokenMissing = errors.New("relay token missing")
	// ErrTokenMalformed means the token does not have the contract's shape.
	ErrTokenMalformed = errors.New("relay token malformed")
	// ErrTokenExpired means the token's expiry has passed.
	ErrTokenExpired = errors.New("relay token expired")
	// ErrTokenInvalid means no secret of the gateway produced the signature.
	ErrTokenInvalid = errors.New("relay token invalid")
)

// HasSecret reports whether an upgrade should carry a token: a gateway id is
// set and the secret is not blank.
func HasSecret(gatewayID, secret string) bool {
	return gatewayID != "" && strings.TrimSpace(secret) != ""
}

// MintToken returns the upgrade token of a gateway, valid until exp (unix
// seconds; 0 means it never expires). The token is
// base64url_unpadded("<gateway_id>:<exp>:<hex hmac-sha256(secret, "<gateway_id>:<exp>")>").
func MintToken(gatewayID, secret string, exp int64) string {
	msg := gatewayID + ":" + strconv.FormatInt(exp, 10)

	return base64.RawURLEncoding.EncodeToString([]byte(msg + ":" + sign(secret, msg)))
}

// AuthorizationHeader returns the value of the Authorization header for a
// dial at now, and false when no header should be sent (no gateway id or a
// blank secret). Call it for every dial: each call mints a fresh token.
func AuthorizationHeader(gatewayID, secret string, now time.Time) (string, bool) {
	if !HasSecret(gatewayID, secret) {
		return "", false
	}

	exp := now.Add(TokenLifetime).Unix()

	return "Bearer " + MintToken(gatewayID, secret, exp), true
}

// VerifyToken checks an upgrade token against the secrets a connector holds
// for the gateway it names. secrets returns every secret currently valid for
// a gateway id (several during a rotation); it may return none. The
// signature is compared in constant time. On success it returns the gateway
// id.
func VerifyToken(token string, secrets func(gatewayID string) []string, now time.Time) (string, error) {
	if token == "" {
		return "", ErrTokenMissing
	}

	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", ErrTokenMalformed
	}

	// The gateway id may itself contain colons: the expiry and the
	// signature are the last two fields.
	s := string(raw)
	sigAt := strings.LastIndexByte(s, ':')
	if sigAt < 0 {
		return "", ErrTokenMalformed
	}
	expAt := strings.LastIndexByte(s[:sigAt], ':')
	if expAt <= 0 {
		return "", ErrTokenMalformed
	}

	gatewayID, expText, sig := s[:expAt], s[expAt+1:sigAt], s[sigAt+1:]
	exp, err := strconv.ParseInt(expText, 10, 64)
	if err != nil || exp < 0 {
		return "", ErrTokenMalformed
	}

	msg := s[:sigAt]
	valid := false
	for _, secret := range secrets(gatewayID) {
		if strings.TrimSpace(secret) == "" {
			continue
		}
		if hmac.Equal([]byte(sign(secret, msg)), []byte(sig)) {
			valid = true
		}
	}
	if !valid {
		return "", ErrTokenInvalid
	}

	if exp != 0 && now.Unix() > exp {
		return gatewayID, ErrTokenExpired
	}

	return gatewayID, nil
}

// BearerToken extracts the token of an Authorization header value, or ""
// when the value is not a bearer credential.
func BearerToken(header string) string {
	const prefix = "Bearer "
	if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return ""
	}

	return strings.TrimSpace(header[len(prefix):])
}

func sign(secret, msg string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(msg))

	return hex.EncodeToString(mac.Sum(nil))
}
