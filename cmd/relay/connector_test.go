package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testWait bounds each wait of these tests. It is never slept: a test ends
// as soon as what it waits for happens, so the bound is generous for a
// loaded machine.
const testWait = 15 * time.Second

// watchedBuffer is an io.Writer that lets a test wait for text to appear.
type watchedBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newWatchedBuffer() *watchedBuffer {
	return &watchedBuffer{changed: make(chan struct{}, 1)}
}

func (w *watchedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	select {
	case w.changed <- struct{}{}:
	default:
	}

	return n, err
}

func (w *watchedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()

	return w.buf.String()
}

// waitMatch waits until re matches the text and returns the first submatch.
func (w *watchedBuffer) waitMatch(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.After(testWait)
	for {
		if m := re.FindStringSubmatch(w.String()); m != nil {
			return m[len(m)-1]
		}
		select {
		case <-w.changed:
		case <-deadline:
			t.Fatalf("no match for %s in:\n%s", re, w.String())
		}
	}
}

func connectorTempFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))

	return path
}

func TestConnectorUsageErrors(t *testing.T) {
	badSecrets := connectorTempFile(t, "secrets", "gw-1=ok\nhunter2-no-equals\n")
	emptySecrets := connectorTempFile(t, "empty", "# nothing\n")
	badDescriptor := connectorTempFile(t, "d.json", `{"platform":"x"}`)

	tests := []struct {
		name    string
		give    []string
		env     map[string]string
		wantErr string
	}{
		{name: "no secrets file and not open", wantErr: "--secrets-file (or RELAY_SECRETS_FILE) " +
			"is required unless --open"},
		{name: "unknown platform", give: []string{"--open", "--platform", "irc"},
			wantErr: `unknown platform "irc" (known: discord, telegram)`},
		{name: "bad log format", give: []string{"--open", "--log-format", "xml"},
			wantErr: `log format "xml"`},
		{name: "bad open value in the environment",
			env: map[string]string{"RELAY_CONNECTOR_OPEN": "maybe"}, wantErr: "RELAY_CONNECTOR_OPEN"},
		{name: "missing secrets file", give: []string{"--secrets-file", "/nonexistent/s"},
			wantErr: "secrets file: open /nonexistent/s"},
		{name: "bad secrets line names the line, not the secret",
			give: []string{"--secrets-file", badSecrets}, wantErr: "line 2"},
		{name: "secrets file without secrets",
			env: map[string]string{"RELAY_SECRETS_FILE": emptySecrets}, wantErr: "holds no"},
		{name: "bad descriptor file", give: []string{"--open", "--descriptor", badDescriptor},
			wantErr: `missing required key "contract_version"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := func(k string) string { return tt.env[k] }
			var stdout, stderr bytes.Buffer
			code := runConnector(context.Background(), tt.give, env, &stdout, &stderr)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr.String(), tt.wantErr)
			assert.True(t, strings.HasPrefix(stderr.String(), "relay connector: "))
			assert.Equal(t, 1, strings.Count(stderr.String(), "\n"), "one line")
			assert.NotContains(t, stderr.String(), "hunter2")
		})
	}
}

func TestConnectorHelpDocumentsFlagsAndVariables(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := runConnector(context.Background(), []string{"--help"}, noEnv, &stdout, &stderr)
	assert.Equal(t, exitOK, code)
	for _, want := range []string{
		"--listen", "RELAY_CONNECTOR_LISTEN", "127.0.0.1:8765",
		"--secrets-file", "RELAY_SECRETS_FILE", "--open", "RELAY_CONNECTOR_OPEN",
		"--platform", "RELAY_PLATFORM", "--descriptor", "RELAY_DESCRIPTOR_FILE",
		"--log-format", "--log-level", "POST /v1/inbound", "GET  /v1/outbound",
		`POST /v1/revoke        {"gateway_id"}`,
	} {
		assert.Contains(t, stdout.String(), want)
	}
}

func TestHelpEndsWithTheExitCodesOfItsCommand(t *testing.T) {
	const shared = "Exit codes: 0 ok, 1 failure, 2 usage error."
	tests := []struct {
		give string
		want string
	}{
		{give: "connect", want: "Exit codes: 0 ok, 1 failure, 2 usage error, " +
			"3 relay disabled (revoked)."},
		{give: "connector", want: shared},
		{give: "demo", want: shared},
		{give: "bench", want: shared},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := dispatch(context.Background(), []string{tt.give, "--help"}, noEnv,
				&stdout, &stderr)
			require.Equal(t, exitOK, code, stderr.String())
			lines := strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n")
			assert.Equal(t, tt.want, lines[len(lines)-1])
		})
	}
}

func TestConnectorServesUntilCancelled(t *testing.T) {
	const secret = "connector-test-secret-never-logged"
	secrets := connectorTempFile(t, "secrets", "# gateways\ngw-1="+secret+"\n")
	descriptor := connectorTempFile(t, "d.json", `{"contract_version":1,"platform":"slack",`+
		`"label":"Slack","max_message_length":3000,"supports_draft_streaming":false,`+
		`"supports_edit":true,"supports_threads":true,"markdown_dialect":"plain",`+
		`"len_unit":"chars"}`)
	env := map[string]string{
		"RELAY_CONNECTOR_LISTEN": "127.0.0.1:0",
		"RELAY_SECRETS_FILE":     secrets,
		"RELAY_DESCRIPTOR_FILE":  descriptor,
		"RELAY_LOG_LEVEL":        "debug",
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := newWatchedBuffer()
	var stdout bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- runConnector(ctx, []string{"--log-format", "text"},
			func(k string) string { return env[k] }, &stdout, stderr)
	}()

	addr := stderr.waitMatch(t, regexp.MustCompile(`"connector listening" listen=(\S+)`))
	assert.Contains(t, stderr.String(), "platform=slack")

	resp, err := http.Post("http://"+addr+"/v1/inbound", "application/json",
		strings.NewReader(`{"text":"private words","source":{"chat_id":"c1"}}`))
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusAccepted, resp.StatusCode)

	cancel()
	select {
	case code := <-done:
		assert.Equal(t, exitOK, code)
	case <-time.After(testWait):
		t.Fatal("connector did not stop")
	}
	logs := stderr.String()
	assert.Contains(t, logs, "connector stopped")
	assert.NotContains(t, logs, secret)
	assert.NotContains(t, logs, "private words")
}

func TestConnectorListenFailureExitsOne(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := runConnector(context.Background(), []string{"--open", "--listen", "256.0.0.1:1"},
		noEnv, &stdout, &stderr)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr.String(), "connector listen failed")
}
