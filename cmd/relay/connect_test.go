package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/domain"
)

// fakeEnv returns an env lookup over m.
func fakeEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, content string) string {
	t.Helper()

	p := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))

	return p
}

func TestConnectUsageErrorsExitTwoWithOneLine(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")

	tests := []struct {
		name string
		give []string
		env  map[string]string
		want string
	}{
		{name: "missing url", give: nil, want: "--url (or RELAY_URL) is required"},
		{name: "blank url from env", env: map[string]string{"RELAY_URL": "  "},
			want: "--url (or RELAY_URL) is required"},
		{name: "url without scheme", give: []string{"--url", "localhost:8080"},
			want: "needs an http, https, ws or wss scheme"},
		{name: "url without host", give: []string{"--url", "http://"}, want: "has no host"},
		{name: "unreadable secret file",
			give: []string{"--url", "http://127.0.0.1:1", "--secret-file", missing},
			want: "read secret file"},
		{name: "unreadable secret file from env",
			give: []string{"--url", "http://127.0.0.1:1"},
			env:  map[string]string{"RELAY_SECRET_FILE": missing},
			want: "read secret file"},
		{name: "identity without bot id",
			give: []string{"--url", "http://127.0.0.1:1", "--identity", "discord"},
			want: `identity "discord" is not platform:botId`},
		{name: "identity with empty platform",
			give: []string{"--url", "http://127.0.0.1:1", "--identity", ":bot"},
			want: `identity ":bot" is not platform:botId`},
		{name: "bad identity from env",
			give: []string{"--url", "http://127.0.0.1:1"},
			env:  map[string]string{"RELAY_IDENTITIES": "discord:a,telegram"},
			want: `identity "telegram" is not platform:botId`},
		{name: "bad log level",
			give: []string{"--url", "http://127.0.0.1:1", "--log-level", "loud"},
			want: `log level "loud" is not one of debug, info, warn, error`},
		{name: "bad log format from env",
			give: []string{"--url", "http://127.0.0.1:1"},
			env:  map[string]string{"RELAY_LOG_FORMAT": "xml"},
			want: `log format "xml" is not one of text, json`},
		{name: "unknown agent",
			give: []string{"--url", "http://127.0.0.1:1", "--agent", "gpt"},
			want: `unknown agent "gpt" (known: echo)`},
		{name: "unknown flag", give: []string{"--secret", "hunter2"},
			want: "flag provided but not defined: -secret"},
		{name: "positional argument", give: []string{"--url", "http://127.0.0.1:1", "extra"},
			want: `unexpected argument "extra"`},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer

			code := runConnect(context.Background(), tt.give, fakeEnv(tt.env), &stdout, &stderr)

			assert.Equal(t, exitUsage, code)
			assert.Empty(t, stdout.String())

			line := stderr.String()
			assert.Equal(t, 1, strings.Count(line, "\n"), "want one line, got %q", line)
			assert.True(t, strings.HasPrefix(line, "relay connect: "), line)
			assert.Contains(t, line, tt.want)
			assert.NotContains(t, line, "hunter2", "a secret must never be printed")
		})
	}
}

func TestConnectHelpDocumentsEveryFlagAndVariable(t *testing.T) {
	for _, arg := range []string{"-h", "--help"} {
		t.Run(arg, func(t *testing.T) {
			var stdout, stderr bytes.Buffer

			code := runConnect(context.Background(), []string{arg}, fakeEnv(nil), &stdout,
				&stderr)

			require.Equal(t, exitOK, code)
			assert.Empty(t, stderr.String())

			for _, want := range []string{
				"--url", "RELAY_URL", "--gateway-id", "RELAY_GATEWAY_ID",
				"--secret-file", "RELAY_SECRET_FILE", "RELAY_SECRET\n",
				"--identity", "RELAY_IDENTITIES", "default discord:relay",
				"--agent", "RELAY_AGENT", "--listen", "RELAY_LISTEN",
				"--log-format", "RELAY_LOG_FORMAT", "--log-level", "RELAY_LOG_LEVEL",
				"Exit codes",
			} {
				assert.Contains(t, stdout.String(), want)
			}
		})
	}
}

func TestConnectFlagsReadTheEnvironment(t *testing.T) {
	secretFile := writeFile(t, "  file-secret\n\n")

	tests := []struct {
		name string
		give []string
		env  map[string]string
		want connectOptions
	}{
		{
			name: "defaults",
			give: []string{"--url", "http://127.0.0.1:1"},
			want: connectOptions{
				url:        "http://127.0.0.1:1",
				identities: []domain.Identity{{Platform: "discord", BotID: "relay"}},
				agent:      "echo", logFormat: "text", logLevel: "info",
			},
		},
		{
			name: "everything from the environment",
			env: map[string]string{
				"RELAY_URL":         "https://connector.example",
				"RELAY_GATEWAY_ID":  "gw-1",
				"RELAY_SECRET":      "env-secret",
				"RELAY_IDENTITIES":  "discord:111, telegram:222 ,",
				"RELAY_AGENT":       "echo",
				"RELAY_LISTEN":      "127.0.0.1:0",
				"RELAY_LOG_FORMAT":  "json",
				"RELAY_LOG_LEVEL":   "debug",
				"RELAY_UNRELATED_X": "ignored",
			},
			want: connectOptions{
				url: "https://connector.example", gatewayID: "gw-1", secret: "env-secret",
				identities: []domain.Identity{
					{Platform: "discord", BotID: "111"}, {Platform: "telegram", BotID: "222"},
				},
				agent: "echo", listen: "127.0.0.1:0", logFormat: "json", logLevel: "debug",
			},
		},
		{
			name: "flags win over the environment",
			give: []string{
				"--url", "ws://127.0.0.1:2", "--gateway-id", "flag-gw",
				"--identity", "slack:S1", "--identity", "discord:D1",
				"--log-level", "warn", "--listen", "127.0.0.1:9",
			},
			env: map[string]string{
				"RELAY_URL": "http://127.0.0.1:1", "RELAY_GATEWAY_ID": "env-gw",
				"RELAY_IDENTITIES": "telegram:T", "RELAY_LOG_LEVEL": "error",
				"RELAY_LISTEN": "127.0.0.1:8",
			},
			want: connectOptions{
				url: "ws://127.0.0.1:2", gatewayID: "flag-gw",
				identities: []domain.Identity{
					{Platform: "slack", BotID: "S1"}, {Platform: "discord", BotID: "D1"},
				},
				agent: "echo", listen: "127.0.0.1:9", logFormat: "text", logLevel: "warn",
			},
		},
		{
			name: "secret file wins over secret variable and is trimmed",
			give: []string{"--url", "http://127.0.0.1:1", "--secret-file", secretFile},
			env:  map[string]string{"RELAY_SECRET": "env-secret"},
			want: connectOptions{
				url: "http://127.0.0.1:1", secret: "file-secret",
				identities: []domain.Identity{{Platform: "discord", BotID: "relay"}},
				agent:      "echo", logFormat: "text", logLevel: "info",
			},
		},
		{
			name: "secret file from the environment",
			give: []string{"--url", "http://127.0.0.1:1"},
			env:  map[string]string{"RELAY_SECRET_FILE": secretFile},
			want: connectOptions{
				url: "http://127.0.0.1:1", secret: "file-secret",
				identities: []domain.Identity{{Platform: "discord", BotID: "relay"}},
				agent:      "echo", logFormat: "text", logLevel: "info",
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout bytes.Buffer

			got, err := parseConnectFlags(tt.give, fakeEnv(tt.env), &stdout)

			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Empty(t, stdout.String())
		})
	}
}

func TestConnectOptionsStringHidesTheSecret(t *testing.T) {
	o := connectOptions{url: "https://user:pw@host.example", secret: "hunter2"}

	s := o.String()

	assert.NotContains(t, s, "hunter2")
	assert.NotContains(t, s, ":pw@")
	assert.Contains(t, s, "host.example")
}

func TestNewLogger(t *testing.T) {
	tests := []struct {
		name       string
		giveFormat string
		giveLevel  string
		wantJSON   bool
		wantDebug  bool
		wantInfo   bool
	}{
		{name: "empty means text at info", wantInfo: true},
		{name: "json at debug", giveFormat: "json", giveLevel: "debug", wantJSON: true,
			wantDebug: true, wantInfo: true},
		{name: "case-insensitive", giveFormat: "JSON", giveLevel: "Info", wantJSON: true,
			wantInfo: true},
		{name: "warn hides info", giveFormat: "text", giveLevel: "warn"},
		{name: "error hides info", giveLevel: "error"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer

			logger, err := newLogger(tt.giveFormat, tt.giveLevel, &buf)
			require.NoError(t, err)

			logger.Debug("debug line", "chat_id", "c")
			logger.Info("info line", "chat_id", "c")

			out := buf.String()
			assert.Equal(t, tt.wantDebug, strings.Contains(out, "debug line"))
			assert.Equal(t, tt.wantInfo, strings.Contains(out, "info line"))

			if tt.wantJSON && out != "" {
				first, _, _ := strings.Cut(out, "\n")

				var m map[string]any
				require.NoError(t, json.Unmarshal([]byte(first), &m))
				assert.Equal(t, "c", m["chat_id"])
			}
		})
	}
}

func TestStringListAppends(t *testing.T) {
	var l stringList

	require.NoError(t, l.Set("a"))
	require.NoError(t, l.Set("b"))

	assert.Equal(t, stringList{"a", "b"}, l)
	assert.Equal(t, "a,b", l.String())
}

func TestEnvFlagSetRejectsBadEnvironmentValues(t *testing.T) {
	var (
		b bool
		n stringList
	)

	fs := newEnvFlagSet("x", "test", fakeEnv(map[string]string{"X_BOOL": "maybe"}))
	fs.Bool(&b, "b", "X_BOOL", false, "a bool")
	fs.Strings(&n, "n", "X_LIST", nil, "N", "a list")

	err := fs.Parse(nil)

	require.Error(t, err)
	assert.Contains(t, err.Error(), "X_BOOL")
}

func TestEnvFlagSetTypedFlags(t *testing.T) {
	tests := []struct {
		name     string
		give     []string
		env      map[string]string
		wantBool bool
		wantDur  time.Duration
	}{
		{name: "defaults", wantDur: time.Second},
		{name: "from the environment",
			env:      map[string]string{"X_BOOL": "true", "X_DUR": "5s"},
			wantBool: true, wantDur: 5 * time.Second},
		{name: "flags win", give: []string{"--b=false", "--d", "2m"},
			env:     map[string]string{"X_BOOL": "1", "X_DUR": "5s"},
			wantDur: 2 * time.Minute},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				b bool
				d time.Duration
			)

			fs := newEnvFlagSet("x", "test", fakeEnv(tt.env))
			fs.Bool(&b, "b", "X_BOOL", false, "a bool")
			fs.Duration(&d, "d", "X_DUR", time.Second, "a duration")

			require.NoError(t, fs.Parse(tt.give))
			assert.Equal(t, tt.wantBool, b)
			assert.Equal(t, tt.wantDur, d)

			var help bytes.Buffer
			fs.Usage(&help)
			assert.Contains(t, help.String(), "--d duration")
			assert.Contains(t, help.String(), "env X_DUR; default 1s")
		})
	}
}
