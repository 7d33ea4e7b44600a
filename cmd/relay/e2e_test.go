package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/internal/devconnector"
)

// relayBin is the relay binary the end-to-end tests run, built once by
// TestMain.
var relayBin string

// e2eTimeout bounds every wait of an end-to-end test.
const e2eTimeout = 10 * time.Second

const (
	e2eGateway = "gw-e2e"
	e2eSecret  = "e2e-shared-secret-do-not-print"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "relay-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "make temp dir:", err)
		os.Exit(1)
	}

	relayBin = filepath.Join(dir, "relay")

	build := exec.Command("go", "build", "-o", relayBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr

	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build relay binary:", err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}

	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}

	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// logWatcher collects lines and lets a test wait for one that matches.
type logWatcher struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{}
}

func newLogWatcher() *logWatcher { return &logWatcher{changed: make(chan struct{})} }

func (w *logWatcher) add(line string) {
	w.mu.Lock()
	defer w.mu.Unlock()

	w.lines = append(w.lines, line)
	close(w.changed)
	w.changed = make(chan struct{})
}

func (w *logWatcher) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()

	return strings.Join(w.lines, "\n")
}

// wait returns the first line for which match is true, waiting up to
// e2eTimeout for it.
func (w *logWatcher) wait(t *testing.T, what string, match func(string) bool) string {
	t.Helper()

	deadline := time.After(e2eTimeout)

	for seen := 0; ; {
		w.mu.Lock()
		lines, changed := w.lines[seen:], w.changed
		seen = len(w.lines)
		w.mu.Unlock()

		for _, l := range lines {
			if match(l) {
				return l
			}
		}

		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; log so far:\n%s", what, w.text())
		}
	}
}

// recordingHandler is a slog.Handler that renders each record as one
// "msg key=value ..." line into a logWatcher.
type recordingHandler struct {
	w     *logWatcher
	attrs []slog.Attr
}

func (h recordingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h recordingHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder

	b.WriteString(r.Message)

	for _, a := range h.attrs {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}

	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)

		return true
	})

	h.w.add(b.String())

	return nil
}

func (h recordingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return recordingHandler{w: h.w, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h recordingHandler) WithGroup(string) slog.Handler { return h }

// testConnector is a development connector on a loopback port.
type testConnector struct {
	*devconnector.Connector
	url  string
	logs *logWatcher
}

func startConnector(t *testing.T) *testConnector {
	t.Helper()

	logs := newLogWatcher()

	c, err := devconnector.New(devconnector.Config{
		Secrets: map[string][]string{e2eGateway: {e2eSecret}},
		Logger:  slog.New(recordingHandler{w: logs}),
	})
	require.NoError(t, err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)

	served := make(chan error, 1)

	go func() { served <- c.Serve(ln) }()

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
		defer cancel()

		assert.NoError(t, c.Close(ctx))
		assert.NoError(t, <-served)
	})

	return &testConnector{Connector: c, url: "http://" + ln.Addr().String(), logs: logs}
}

// relayProc is a running relay binary.
type relayProc struct {
	cmd    *exec.Cmd
	stderr *logWatcher
	stdout *strings.Builder
	exited chan int
}

// startRelay runs the relay binary with args and exactly the environment
// variables in env (plus PATH).
func startRelay(t *testing.T, env map[string]string, args ...string) *relayProc {
	t.Helper()

	cmd := exec.Command(relayBin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}

	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}

	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)

	p := &relayProc{
		cmd: cmd, stderr: newLogWatcher(), stdout: &strings.Builder{},
		exited: make(chan int, 1),
	}
	cmd.Stdout = p.stdout

	require.NoError(t, cmd.Start())

	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.stderr.add(sc.Text())
		}

		_, _ = io.Copy(io.Discard, stderr)

		_ = cmd.Wait()
		p.exited <- cmd.ProcessState.ExitCode()
	}()

	t.Cleanup(func() {
		select {
		case code := <-p.exited:
			p.exited <- code
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})

	return p
}

// waitExit waits for the process to exit and returns its exit code.
func (p *relayProc) waitExit(t *testing.T) int {
	t.Helper()

	select {
	case code := <-p.exited:
		p.exited <- code

		return code
	case <-time.After(e2eTimeout):
		t.Fatalf("relay did not exit; stderr:\n%s", p.stderr.text())

		return -1
	}
}

// jsonRecord decodes one JSON log line, or returns nil.
func jsonRecord(line string) map[string]any {
	var m map[string]any
	if json.Unmarshal([]byte(line), &m) != nil {
		return nil
	}

	return m
}

// waitServing waits until the relay logged that its first connect
// completed and it serves the agent.
func (p *relayProc) waitServing(t *testing.T) {
	t.Helper()

	p.stderr.wait(t, "the relay serving", func(l string) bool {
		return jsonRecord(l)["msg"] == "relay serving"
	})
}

// opsAddr waits for the relay to log the address of its ops listener.
func (p *relayProc) opsAddr(t *testing.T) string {
	t.Helper()

	line := p.stderr.wait(t, "the ops listener", func(l string) bool {
		return jsonRecord(l)["msg"] == "relay ops listening"
	})

	addr, _ := jsonRecord(line)["listen"].(string)
	require.NotEmpty(t, addr)

	return "http://" + addr
}

// httpGet returns the status and body of a GET.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()

	resp, err := http.Get(url)
	require.NoError(t, err)

	defer resp.Body.Close()

	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)

	return resp.StatusCode, string(b)
}

// waitStatus polls url until it answers want, failing after e2eTimeout.
func waitStatus(t *testing.T, url string, want int) {
	t.Helper()

	deadline := time.Now().Add(e2eTimeout)
	tick := time.NewTicker(20 * time.Millisecond)

	defer tick.Stop()

	for {
		if code, _ := httpGet(t, url); code == want {
			return
		}

		if time.Now().After(deadline) {
			t.Fatalf("%s never answered %d", url, want)
		}

		<-tick.C
	}
}

// waitBody polls url until its body contains want, failing after
// e2eTimeout, and returns the body.
func waitBody(t *testing.T, url, want string) string {
	t.Helper()

	deadline := time.Now().Add(e2eTimeout)
	tick := time.NewTicker(20 * time.Millisecond)

	defer tick.Stop()

	for {
		_, body := httpGet(t, url)
		if strings.Contains(body, want) {
			return body
		}

		if time.Now().After(deadline) {
			t.Fatalf("%s never served %q; last body:\n%s", url, want, body)
		}

		<-tick.C
	}
}

// connectEnv is the environment of a relay that authenticates to c.
func connectEnv(t *testing.T, c *testConnector) map[string]string {
	t.Helper()

	return connectEnvURL(t, c.url)
}

// connectEnvURL is the environment of a relay that authenticates to the
// connector at url as e2eGateway.
func connectEnvURL(t *testing.T, url string) map[string]string {
	t.Helper()

	secretFile := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(secretFile, []byte(e2eSecret+"\n"), 0o600))

	return map[string]string{
		"RELAY_URL":         url,
		"RELAY_GATEWAY_ID":  e2eGateway,
		"RELAY_SECRET_FILE": secretFile,
		"RELAY_LOG_FORMAT":  "json",
		"RELAY_LOG_LEVEL":   "debug",
	}
}

func waitCtx(t *testing.T) context.Context {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	t.Cleanup(cancel)

	return ctx
}

func TestE2EEchoRepliesCarryTheTenantScope(t *testing.T) {
	c := startConnector(t)
	p := startRelay(t, connectEnv(t, c), "connect", "--listen", "127.0.0.1:0")
	ops := p.opsAddr(t)

	waitStatus(t, ops+"/readyz", http.StatusOK)

	code, body := httpGet(t, ops+"/healthz")
	assert.Equal(t, http.StatusOK, code, body)

	const guildText = "guild words e2e-private-text"

	_, err := c.Deliver(domain.MessageEvent{
		Text:      guildText,
		MessageID: "m-guild",
		Source: domain.SessionSource{
			ChatID: "c-guild", ChatType: domain.ChatChannel, GuildID: "g-1", UserID: "u-1",
		},
	})
	require.NoError(t, err)

	_, err = c.Deliver(domain.MessageEvent{
		Text:      "dm words e2e-private-text",
		MessageID: "m-dm",
		Source:    domain.SessionSource{ChatID: "c-dm", ChatType: domain.ChatDM, UserID: "u-2"},
	})
	require.NoError(t, err)

	_, err = c.DeliverInteraction([]byte(`{"type":2,"id":"i-1","channel_id":"c-int",` +
		`"guild_id":"g-2","member":{"user":{"id":"u-3","username":"ann"}},` +
		`"data":{"name":"ping"}}`))
	require.NoError(t, err)

	recs, err := c.WaitOutbound(waitCtx(t), 3)
	require.NoError(t, err)

	byChat := map[string]devconnector.OutboundRecord{}
	for _, r := range recs {
		byChat[r.Action.ChatID] = r
	}

	guild := byChat["c-guild"]
	assert.Equal(t, domain.OpSend, guild.Action.Op)
	assert.Equal(t, guildText, guild.Action.Content)
	require.NotNil(t, guild.Action.ReplyTo)
	assert.Equal(t, "m-guild", *guild.Action.ReplyTo)
	assert.Equal(t, "g-1", guild.Action.Metadata["guild_id"])
	assert.NotContains(t, guild.Action.Metadata, "user_id")
	assert.True(t, guild.Result.Success, guild.Result.Error)

	dm := byChat["c-dm"]
	assert.Equal(t, "u-2", dm.Action.Metadata["user_id"])
	assert.NotContains(t, dm.Action.Metadata, "guild_id")
	assert.True(t, dm.Result.Success, dm.Result.Error)

	interaction := byChat["c-int"]
	assert.Equal(t, "ping", interaction.Action.Content)
	assert.Equal(t, "g-2", interaction.Action.Metadata["guild_id"])
	assert.True(t, interaction.Result.Success, interaction.Result.Error)

	// The relay counts a result after the connector recorded it: wait.
	metrics := waitBody(t, ops+"/metrics",
		`relay_outbound_actions_total{op="send",outcome="success"} 3`)
	assert.Contains(t, metrics, "relay_inbound_events_total 3\n")
	assert.Contains(t, metrics, "relay_connected 1\n")
	assert.Contains(t, metrics, "relay_reconnects_total 0\n")
	assert.Contains(t, metrics, "go_goroutines ")

	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, exitOK, p.waitExit(t))

	logs := p.stderr.text()
	assert.NotContains(t, logs, "e2e-private-text", "message text must never be logged")
	assert.NotContains(t, logs, e2eSecret, "the secret must never be logged")

	for _, l := range strings.Split(logs, "\n") {
		assert.NotNil(t, jsonRecord(l), "every log line is JSON: %q", l)
	}
}

func TestE2EDrainsOnSIGTERM(t *testing.T) {
	c := startConnector(t)
	p := startRelay(t, connectEnv(t, c), "connect")

	require.NoError(t, c.WaitConnected(waitCtx(t)))
	p.waitServing(t)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))

	assert.Equal(t, exitOK, p.waitExit(t))

	c.logs.wait(t, "going_idle at the connector", func(l string) bool {
		return strings.HasPrefix(l, "gateway going idle")
	})
	c.logs.wait(t, "a normal close at the connector", func(l string) bool {
		return strings.HasPrefix(l, "gateway disconnected") && strings.Contains(l, "close_code=1000")
	})
	p.stderr.wait(t, "the drain log", func(l string) bool {
		return jsonRecord(l)["msg"] == "relay draining"
	})

	// The connector now buffers what arrives for the gateway that left.
	rc, err := c.Deliver(domain.MessageEvent{Text: "later", Source: domain.SessionSource{
		ChatID: "c-1", GuildID: "g-1",
	}})
	require.NoError(t, err)
	assert.Equal(t, devconnector.StatusBuffered, rc.Status)
}

func TestE2ERevocationExitsThree(t *testing.T) {
	c := startConnector(t)
	p := startRelay(t, connectEnv(t, c), "connect", "--listen", "127.0.0.1:0")
	ops := p.opsAddr(t)

	waitStatus(t, ops+"/readyz", http.StatusOK)
	p.waitServing(t)

	c.Revoke(e2eGateway)

	assert.Equal(t, exitDisabled, p.waitExit(t))

	// The relay re-dialed once with a fresh token before giving up.
	c.logs.wait(t, "the fresh dial refused", func(l string) bool {
		return strings.HasPrefix(l, "gateway refused")
	})

	line := p.stderr.wait(t, "the relay_disabled error", func(l string) bool {
		r := jsonRecord(l)

		return r["level"] == "ERROR" && r["code"] == domain.CodeRelayDisabled
	})
	assert.Contains(t, line, "relay disabled")
	assert.NotContains(t, p.stderr.text(), e2eSecret)
}

// The connector runs as its own process here, so the revocation goes
// through its HTTP API, as an operator would send it with curl.
func TestE2ERevocationOverTheConnectorAPIExitsThree(t *testing.T) {
	secrets := filepath.Join(t.TempDir(), "secrets")
	require.NoError(t, os.WriteFile(secrets, []byte(e2eGateway+"="+e2eSecret+"\n"), 0o600))

	conn := startRelay(t, nil, "connector", "--listen", "127.0.0.1:0",
		"--secrets-file", secrets, "--log-format", "json")
	line := conn.stderr.wait(t, "the connector listening", func(l string) bool {
		return jsonRecord(l)["msg"] == "connector listening"
	})
	addr, _ := jsonRecord(line)["listen"].(string)
	require.NotEmpty(t, addr)
	base := "http://" + addr

	p := startRelay(t, connectEnvURL(t, base), "connect")
	p.waitServing(t)

	resp, err := http.Post(base+"/v1/revoke", "application/json",
		strings.NewReader(`{"gateway_id":"`+e2eGateway+`"}`))
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, resp.StatusCode, string(body))

	assert.Equal(t, exitDisabled, p.waitExit(t))
	p.stderr.wait(t, "the relay_disabled error", func(l string) bool {
		r := jsonRecord(l)

		return r["level"] == "ERROR" && r["code"] == domain.CodeRelayDisabled
	})
	conn.stderr.wait(t, "the fresh dial refused", func(l string) bool {
		return jsonRecord(l)["msg"] == "gateway refused"
	})

	require.NoError(t, conn.cmd.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, exitOK, conn.waitExit(t))
	assert.NotContains(t, conn.stderr.text(), e2eSecret)
	assert.NotContains(t, p.stderr.text(), e2eSecret)
}

func TestE2EFirstConnectFailureExitsOne(t *testing.T) {
	c := startConnector(t)
	env := connectEnv(t, c)
	env["RELAY_SECRET_FILE"] = ""
	env["RELAY_SECRET"] = "wrong-secret"

	p := startRelay(t, env, "connect")

	assert.Equal(t, exitFailure, p.waitExit(t))
	p.stderr.wait(t, "the connect failure", func(l string) bool {
		r := jsonRecord(l)

		return r["level"] == "ERROR" && r["msg"] == "relay connect failed"
	})
	assert.NotContains(t, p.stderr.text(), "wrong-secret")
}

func TestE2EUsageErrorsExitTwo(t *testing.T) {
	tests := []struct {
		name string
		give []string
		env  map[string]string
		want string
	}{
		{name: "missing url", give: []string{"connect"}, want: "--url"},
		{name: "unreadable secret file",
			give: []string{"connect", "--url", "http://127.0.0.1:1", "--secret-file",
				filepath.Join(t.TempDir(), "missing")},
			want: "read secret file"},
		{name: "bad identity",
			give: []string{"connect", "--url", "http://127.0.0.1:1", "--identity", "x"},
			want: `identity "x"`},
		{name: "bad log level", give: []string{"connect", "--url", "http://127.0.0.1:1"},
			env: map[string]string{"RELAY_LOG_LEVEL": "chatty"}, want: "log level"},
		{name: "bad log format",
			give: []string{"connect", "--url", "http://127.0.0.1:1", "--log-format", "xml"},
			want: "log format"},
		{name: "unknown agent",
			give: []string{"connect", "--url", "http://127.0.0.1:1", "--agent", "nope"},
			want: "unknown agent"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"RELAY_SECRET": e2eSecret}
			for k, v := range tt.env {
				env[k] = v
			}

			p := startRelay(t, env, tt.give...)

			assert.Equal(t, exitUsage, p.waitExit(t))

			stderr := p.stderr.text()
			assert.Equal(t, 0, strings.Count(stderr, "\n"), "one line: %q", stderr)
			assert.Contains(t, stderr, tt.want)
			assert.NotContains(t, stderr, e2eSecret)
		})
	}
}
