package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/relay-go/relay/adapters/wsrelay"
	"github.com/relay-go/relay/app"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/internal/echo"
	"github.com/relay-go/relay/internal/observe"
	"github.com/relay-go/relay/ports"
)

// connectSummary is the first paragraph of "relay connect --help".
const connectSummary = `Dial a relay connector and serve an agent until SIGINT or SIGTERM.

On a signal the gateway drains: it asks the connector to buffer inbound
(going_idle), waits up to 5s for the acknowledgement, closes the link
normally and exits 0. When the connector revokes the gateway's credential
the command logs code=relay_disabled and exits 3.

The first connection is not retried: when it fails (connector down, bad
credential, no descriptor) the command exits 1 naming the cause, and a
supervisor may restart it. Once connected, the link is re-dialed in the
background with capped exponential backoff after any unexpected close.`

// defaultIdentity is the identity announced when none is configured.
const defaultIdentity = "discord:relay"

// drainTimeout bounds the whole shutdown: the going-idle wait (5s) plus the
// grace given to in-flight replies and the close handshake.
const drainTimeout = 15 * time.Second

// connectOptions is the parsed configuration of "relay connect". Its
// secret is never printed: format it only through String.
type connectOptions struct {
	url        string
	gatewayID  string
	secret     string
	identities []domain.Identity
	agent      string
	listen     string
	logFormat  string
	logLevel   string
}

// String describes the options without the secret.
func (o connectOptions) String() string {
	return fmt.Sprintf("url=%s gateway_id=%s identities=%d agent=%s listen=%s",
		redactURL(o.url), o.gatewayID, len(o.identities), o.agent, o.listen)
}

// agents builds the sinks "relay connect" can serve, by --agent name. Each
// replies through the adapter.
var agents = map[string]func(r echo.Replier, logger *slog.Logger) ports.EventSink{
	"echo": func(r echo.Replier, logger *slog.Logger) ports.EventSink {
		return echo.New(r, logger)
	},
}

func agentNames() []string {
	names := make([]string, 0, len(agents))
	for n := range agents {
		names = append(names, n)
	}

	slices.Sort(names)

	return names
}

// parseConnectFlags parses the arguments and environment of "relay
// connect". It returns flag.ErrHelp after writing the help to stdout, and
// otherwise a one-line error naming the first problem.
func parseConnectFlags(args []string, env func(string) string,
	stdout io.Writer) (connectOptions, error) {
	var (
		o          connectOptions
		secretFile string
		identities stringList
	)

	fs := newEnvFlagSet("connect", connectSummary, env)
	fs.String(&o.url, "url", "RELAY_URL", "", "URL",
		"connector base URL, http(s) or ws(s); /relay is appended (required)")
	fs.String(&o.gatewayID, "gateway-id", "RELAY_GATEWAY_ID", "", "ID",
		"this gateway's id, signed into the upgrade token")
	fs.String(&secretFile, "secret-file", "RELAY_SECRET_FILE", "", "PATH",
		"file holding the per-gateway secret, whitespace trimmed; wins over RELAY_SECRET")
	fs.Strings(&identities, "identity", "RELAY_IDENTITIES", []string{defaultIdentity},
		"PLATFORM:BOT_ID",
		"identity to announce; the first is the default")
	fs.String(&o.agent, "agent", "RELAY_AGENT", "echo", "NAME",
		"agent to serve: "+strings.Join(agentNames(), ", "))
	fs.String(&o.listen, "listen", "RELAY_LISTEN", "", "ADDR",
		"address of /healthz, /readyz, /metrics, such as 127.0.0.1:9090; off when empty")
	fs.LogFlags(&o.logFormat, &o.logLevel, "RELAY_LOG_LEVEL", "info")
	fs.EnvOnly("RELAY_SECRET",
		"the per-gateway secret itself, when RELAY_SECRET_FILE is not set "+
			"(no flag takes a secret)")
	fs.Note("Without a gateway id and a secret, the gateway dials without credentials.")

	if err := fs.ParseOrHelp(args, stdout); err != nil {
		return o, err
	}

	if strings.TrimSpace(o.url) == "" {
		return o, errors.New("--url (or RELAY_URL) is required")
	}

	if err := checkURL(o.url); err != nil {
		return o, err
	}

	ids, err := parseIdentities(identities)
	if err != nil {
		return o, err
	}

	o.identities = ids

	if _, ok := agents[o.agent]; !ok {
		return o, fmt.Errorf("unknown agent %q (known: %s)", o.agent,
			strings.Join(agentNames(), ", "))
	}

	if _, err := newLogger(o.logFormat, o.logLevel, io.Discard); err != nil {
		return o, err
	}

	o.secret = fs.Getenv("RELAY_SECRET")
	if secretFile != "" {
		if o.secret, err = readSecretFile(secretFile); err != nil {
			return o, err
		}
	}

	return o, nil
}

// checkURL rejects a connector URL the transport could not dial.
func checkURL(raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return fmt.Errorf("connector url %q does not parse", redactURL(raw))
	}

	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return fmt.Errorf("connector url %q needs an http, https, ws or wss scheme",
			redactURL(raw))
	}

	if u.Host == "" {
		return fmt.Errorf("connector url %q has no host", redactURL(raw))
	}

	return nil
}

// redactURL hides a password in a URL's user info so it can be logged.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}

	return u.Redacted()
}

// runConnect is the "relay connect" command.
func runConnect(ctx context.Context, args []string, env func(string) string,
	stdout, stderr io.Writer) int {
	o, err := parseConnectFlags(args, env, stdout)
	if code, done := usageExit("connect", err, stderr); done {
		return code
	}

	logger, err := newLogger(o.logFormat, o.logLevel, stderr)
	if code, done := usageExit("connect", err, stderr); done {
		return code
	}

	return serveConnect(ctx, o, logger)
}

// serveConnect connects and serves until ctx ends or the relay is disabled,
// and returns the exit code.
func serveConnect(ctx context.Context, o connectOptions, logger *slog.Logger) int {
	obs := observe.New()

	if o.listen != "" {
		stop, err := serveOps(o.listen, obs.Handler(), logger)
		if err != nil {
			logger.Error("relay ops listener failed", "listen", o.listen, "error", err)

			return exitFailure
		}

		defer stop()
	}

	transport, err := wsrelay.New(wsrelay.Config{
		URL:        o.url,
		GatewayID:  o.gatewayID,
		Secret:     o.secret,
		Identities: o.identities,
		Logger:     logger.With("component", "wsrelay"),
		Metrics:    obs,
	})
	if err != nil {
		logger.Error("relay transport config invalid", "error", err)

		return exitFailure
	}

	adapter, err := app.NewAdapter(app.Config{
		Transport: transport,
		Notifier:  obs,
		Metrics:   obs,
		Logger:    logger.With("component", "adapter"),
	})
	if err != nil {
		logger.Error("relay adapter config invalid", "error", err)

		return exitFailure
	}

	agent := agents[o.agent](adapter, logger.With("component", "agent", "agent", o.agent))
	if err := adapter.BindSink(agent); err != nil {
		logger.Error("relay agent bind failed", "error", err)

		return exitFailure
	}

	logger.Info("relay connecting", "url", redactURL(o.url), "gateway_id", o.gatewayID,
		"identities", len(o.identities), "default_platform", o.identities[0].Platform,
		"agent", o.agent, "authenticated", o.gatewayID != "" && strings.TrimSpace(o.secret) != "")

	if err := adapter.Connect(ctx); err != nil {
		return connectFailed(ctx, obs, adapter, logger, err)
	}

	logger.Info("relay serving", "agent", o.agent)

	select {
	case <-ctx.Done():
		return drain(adapter, logger)
	case <-obs.Fatal():
		return disabled(obs, adapter, logger)
	}
}

// connectFailed picks the exit code of a first connect that failed.
func connectFailed(ctx context.Context, obs *observe.Observer, adapter *app.Adapter,
	logger *slog.Logger, err error) int {
	shutdown(adapter, logger)

	select {
	case <-obs.Fatal():
		return disabled(obs, adapter, logger)
	default:
	}

	if ctx.Err() != nil {
		logger.Info("relay stopped before connecting")

		return exitOK
	}

	logger.Error("relay connect failed", "error", err)

	return exitFailure
}

// drain shuts down after a signal: going idle, then a normal close.
func drain(adapter *app.Adapter, logger *slog.Logger) int {
	logger.Info("relay draining")

	// A drain that did not complete in time still ends the process: the
	// connector buffers for a gateway that went away, so exit 0 either way.
	if err := shutdown(adapter, logger); err == nil {
		logger.Info("relay stopped")
	}

	return exitOK
}

// disabled stops after a fatal error and returns exit code 3 for a revoked
// credential, 1 for any other fatal error.
func disabled(obs *observe.Observer, adapter *app.Adapter, logger *slog.Logger) int {
	fe, _ := obs.FatalError()

	logger.Error("relay disabled, stopping", "code", fe.Code, "retryable", fe.Retryable)
	shutdown(adapter, logger)

	if fe.Code == domain.CodeRelayDisabled {
		return exitDisabled
	}

	return exitFailure
}

// shutdown disconnects the adapter within drainTimeout and logs a failure.
func shutdown(adapter *app.Adapter, logger *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()

	err := adapter.Disconnect(ctx)
	if err != nil {
		logger.Warn("relay disconnect incomplete", "error", err)
	}

	return err
}

// serveOps serves h on addr in the background. The returned function shuts
// the server down and waits for it.
func serveOps(addr string, h http.Handler, logger *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}

	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	done := make(chan struct{})

	go func() {
		defer close(done)

		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("relay ops server failed", "error", err)
		}
	}()

	logger.Info("relay ops listening", "listen", ln.Addr().String())

	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()

		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}
