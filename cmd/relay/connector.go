package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/internal/devconnector"
)

// connectorSummary is the first paragraph of "relay connector --help".
const connectorSummary = `Run a development connector: a local stand-in for the service that
owns the chat platform sockets. Gateways dial it on /relay; you drive it
over HTTP:

  POST /v1/inbound       deliver an event: {"text","source":{"chat_id",...},...}
                         or {"event":{...},"gateway_id":"..."}
  POST /v1/interactions  forward a Discord interaction body to the gateway
  POST /v1/interrupt     {"session_key","chat_id"}: stop a running turn
  POST /v1/revoke        {"gateway_id"}: close its links with 4401 "revoked"
                         and refuse its secrets until the connector stops
                         (a connected relay then exits 3)
  GET  /v1/outbound      what gateways sent, with the connector's verdicts
  GET  /v1/stats         delivery counters

Replies are checked like a real connector checks egress: a guild reply must
name a guild that inbound onboarded, a DM reply the author it delivered;
anything else is declined. Inbound for an idle or absent gateway is
buffered and replayed after its next handshake until acknowledged.
Runs until SIGINT or SIGTERM, then closes every gateway link and exits 0.`

// connectorShutdown bounds the close of the gateway links on a signal.
const connectorShutdown = 5 * time.Second

// connectorOptions is the parsed configuration of "relay connector". The
// secrets file is read later, so the options hold no secret.
type connectorOptions struct {
	listen         string
	secretsFile    string
	open           bool
	platform       string
	descriptorFile string
	logFormat      string
	logLevel       string
	chaosSpec      string
	seed           string
	alwaysBuffer   bool
	chaos          devconnector.Chaos
}

// parseConnectorFlags parses the arguments and environment of "relay
// connector". It returns flag.ErrHelp after writing the help to stdout, and
// otherwise a one-line error naming the first problem.
func parseConnectorFlags(args []string, env func(string) string,
	stdout io.Writer) (connectorOptions, error) {
	var o connectorOptions

	fs := newEnvFlagSet("connector", connectorSummary, env)
	fs.String(&o.listen, "listen", "RELAY_CONNECTOR_LISTEN", "127.0.0.1:8765", "ADDR",
		"address to serve /relay and the HTTP API on")
	fs.String(&o.secretsFile, "secrets-file", "RELAY_SECRETS_FILE", "", "PATH",
		"file of gateway_id=secret lines (several per id for rotation; # comments); "+
			"required unless --open")
	fs.Bool(&o.open, "open", "RELAY_CONNECTOR_OPEN", false,
		"accept gateways without a valid token (logged as a warning); for local use only")
	fs.String(&o.platform, "platform", "RELAY_PLATFORM", "discord", "NAME",
		"built-in descriptor to advertise: "+strings.Join(devconnector.Platforms(), ", "))
	fs.String(&o.descriptorFile, "descriptor", "RELAY_DESCRIPTOR_FILE", "", "FILE",
		"JSON capability descriptor to advertise instead of --platform's")
	fs.LogFlags(&o.logFormat, &o.logLevel, "RELAY_LOG_LEVEL", "info")
	fs.String(&o.chaosSpec, "chaos", "RELAY_CHAOS", "", "SPEC",
		"inject faults into gateway links, for soak tests (syntax below)")
	fs.String(&o.seed, "seed", "RELAY_CHAOS_SEED", "1", "N",
		"seed of the chaos random source: the same seed makes the same choices")
	fs.Bool(&o.alwaysBuffer, "always-buffer", "RELAY_CONNECTOR_ALWAYS_BUFFER", false,
		"send every delivery through the buffer with a bufferId, even to a live "+
			"gateway, until it is acknowledged")
	fs.Note(devconnector.ChaosSyntax)
	fs.Note("Logs never contain message text or secrets.")

	if err := fs.ParseOrHelp(args, stdout); err != nil {
		return o, err
	}

	if strings.TrimSpace(o.listen) == "" {
		return o, errors.New("--listen (or RELAY_CONNECTOR_LISTEN) must not be empty")
	}
	if o.secretsFile == "" && !o.open {
		return o, errors.New("--secrets-file (or RELAY_SECRETS_FILE) is required unless --open")
	}
	if o.descriptorFile == "" {
		if _, err := devconnector.PlatformDescriptor(o.platform); err != nil {
			return o, fmt.Errorf("--platform: unknown platform %q (known: %s)", o.platform,
				strings.Join(devconnector.Platforms(), ", "))
		}
	}
	if _, err := newLogger(o.logFormat, o.logLevel, io.Discard); err != nil {
		return o, err
	}

	chaos, err := devconnector.ParseChaos(o.chaosSpec)
	if err != nil {
		return o, fmt.Errorf("--chaos (or RELAY_CHAOS): %w", err)
	}
	if chaos.Seed, err = strconv.ParseUint(strings.TrimSpace(o.seed), 10, 64); err != nil {
		return o, fmt.Errorf("--seed (or RELAY_CHAOS_SEED): %q is not an unsigned integer",
			o.seed)
	}
	if err := chaos.Validate(); err != nil {
		return o, fmt.Errorf("--chaos (or RELAY_CHAOS): %w", err)
	}
	o.chaos = chaos

	return o, nil
}

// connectorConfig reads the files the options name. Its errors name the
// file and the problem, never a secret.
func connectorConfig(o connectorOptions) (devconnector.Config, error) {
	cfg := devconnector.Config{Open: o.open, Chaos: o.chaos, AlwaysBuffer: o.alwaysBuffer}

	if o.secretsFile != "" {
		f, err := os.Open(o.secretsFile)
		if err != nil {
			return cfg, fmt.Errorf("secrets file: %w", err)
		}
		defer f.Close()

		if cfg.Secrets, err = devconnector.ParseSecretsFile(f); err != nil {
			return cfg, fmt.Errorf("secrets file %s: %w", o.secretsFile, err)
		}
		if len(cfg.Secrets) == 0 && !o.open {
			return cfg, fmt.Errorf("secrets file %s holds no gateway_id=secret line",
				o.secretsFile)
		}
	}

	if o.descriptorFile != "" {
		raw, err := os.ReadFile(o.descriptorFile)
		if err != nil {
			return cfg, fmt.Errorf("descriptor file: %w", err)
		}
		if cfg.Descriptor, err = domain.DecodeDescriptor(raw); err != nil {
			return cfg, fmt.Errorf("descriptor file %s: %w", o.descriptorFile, err)
		}

		return cfg, nil
	}

	d, err := devconnector.PlatformDescriptor(o.platform)
	cfg.Descriptor = d

	return cfg, err
}

// runConnector is the "relay connector" command.
func runConnector(ctx context.Context, args []string, env func(string) string,
	stdout, stderr io.Writer) int {
	o, err := parseConnectorFlags(args, env, stdout)
	if code, done := usageExit("connector", err, stderr); done {
		return code
	}

	cfg, err := connectorConfig(o)
	if err != nil {
		fmt.Fprintf(stderr, "relay connector: %v\n", err)

		return exitUsage
	}

	logger, err := newLogger(o.logFormat, o.logLevel, stderr)
	if code, done := usageExit("connector", err, stderr); done {
		return code
	}
	cfg.Logger = logger

	return serveConnector(ctx, cfg, o.listen, logger)
}

// serveConnector serves until ctx ends and returns the exit code.
func serveConnector(ctx context.Context, cfg devconnector.Config, listen string,
	logger *slog.Logger) int {
	c, err := devconnector.New(cfg)
	if err != nil {
		logger.Error("connector config invalid", "error", err)

		return exitFailure
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", listen)
	if err != nil {
		logger.Error("connector listen failed", "listen", listen, "error", err)
		_ = c.Close(context.Background())

		return exitFailure
	}

	gateways := make([]string, 0, len(cfg.Secrets))
	for id := range cfg.Secrets {
		gateways = append(gateways, id)
	}
	logger.Info("connector listening", "listen", ln.Addr().String(),
		"platform", cfg.Descriptor.Platform, "max_message_length", cfg.Descriptor.MaxMessageLength,
		"len_unit", cfg.Descriptor.LenUnit, "gateways", len(gateways), "open", cfg.Open)
	if cfg.Open {
		logger.Warn("connector is open: gateways without a valid token are accepted")
	}

	served := make(chan error, 1)
	go func() { served <- c.Serve(ln) }()

	code := exitOK
	select {
	case <-ctx.Done():
		logger.Info("connector stopping")
	case err := <-served:
		logger.Error("connector server failed", "error", err)
		code = exitFailure
	}

	stopCtx, cancel := context.WithTimeout(context.Background(), connectorShutdown)
	defer cancel()
	if err := c.Close(stopCtx); err != nil {
		logger.Warn("connector close incomplete", "error", err)
	}
	if code == exitOK {
		// Serve may not have started before Close: that is a clean stop.
		if err := <-served; err != nil && !errors.Is(err, devconnector.ErrClosed) {
			logger.Error("connector server failed", "error", err)
			code = exitFailure
		}
	}
	logger.Info("connector stopped")

	return code
}
