package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/relay-go/relay/adapters/wsrelay"
	"github.com/relay-go/relay/app"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/internal/devconnector"
	"github.com/relay-go/relay/internal/echo"
)

// demoSummary is the first paragraph of "relay demo --help".
const demoSummary = `Play a scripted conversation end to end, in one process, over a real
loopback WebSocket: a development connector on 127.0.0.1 (an ephemeral
port) and a gateway serving the echo agent. No network, no files.

The script: a guild message, a direct message (its reply must carry the
author's user_id), a Discord slash-command interaction, a message longer
than the platform limit (answered in several parts), an interrupt, and a
drain: the gateway goes idle and closes, a message arrives while it is
away, and it is replayed with a bufferId and acknowledged on reconnect.

The transcript goes to stdout; logs go to stderr. Exits 0 when every reply
was accepted and nothing was lost or duplicated, 1 otherwise.`

// demoTimeout bounds each wait of the demo.
const demoTimeout = 10 * time.Second

const (
	demoGateway = "demo-gateway"
	demoBot     = "demo-bot"
	demoGuild   = "guild-42"
	demoChannel = "chan-general"
	demoDM      = "dm-ada"
	demoUser    = "user-ada"
)

type demoOptions struct {
	platform  string
	logFormat string
	logLevel  string
}

func parseDemoFlags(args []string, env func(string) string,
	stdout io.Writer) (demoOptions, error) {
	var o demoOptions

	fs := newEnvFlagSet("demo", demoSummary, env)
	fs.String(&o.platform, "platform", "RELAY_PLATFORM", "discord", "NAME",
		"platform the connector fronts: "+strings.Join(devconnector.Platforms(), ", ")+
			" (telegram counts message length in UTF-16 code units)")
	fs.LogFlags(&o.logFormat, &o.logLevel, "RELAY_DEMO_LOG_LEVEL", "warn")

	if err := fs.ParseOrHelp(args, stdout); err != nil {
		return o, err
	}

	if _, err := devconnector.PlatformDescriptor(o.platform); err != nil {
		return o, fmt.Errorf("--platform: unknown platform %q (known: %s)", o.platform,
			strings.Join(devconnector.Platforms(), ", "))
	}
	if _, err := newLogger(o.logFormat, o.logLevel, io.Discard); err != nil {
		return o, err
	}

	return o, nil
}

// runDemo is the "relay demo" command.
func runDemo(ctx context.Context, args []string, env func(string) string,
	stdout, stderr io.Writer) int {
	o, err := parseDemoFlags(args, env, stdout)
	if code, done := usageExit("demo", err, stderr); done {
		return code
	}

	logger, err := newLogger(o.logFormat, o.logLevel, stderr)
	if code, done := usageExit("demo", err, stderr); done {
		return code
	}

	d := &demo{out: stdout, log: logger}
	if err := d.run(ctx, o.platform); err != nil {
		fmt.Fprintf(stdout, "\nFAILED: %v\n", err)
		fmt.Fprintf(stderr, "relay demo: %v\n", err)

		return exitFailure
	}

	return exitOK
}

// demo is one run of the scripted conversation.
type demo struct {
	out io.Writer
	log *slog.Logger

	desc      domain.Descriptor
	conn      *devconnector.Connector
	adapter   *app.Adapter
	wake      *wakeGate
	interrupt chan [2]string

	// seen counts the outbound records already shown.
	seen int
	// replies counts the replies expected so far.
	replies int
	msgSeq  int
}

func (d *demo) printf(format string, args ...any) { fmt.Fprintf(d.out, format, args...) }

func (d *demo) run(ctx context.Context, platform string) error {
	d.desc, _ = devconnector.PlatformDescriptor(platform)

	stop, err := d.start(ctx)
	if err != nil {
		return err
	}

	steps := []struct {
		title string
		play  func(context.Context) error
	}{
		{"A message in a guild channel", d.guildMessage},
		{"A direct message: the gateway re-attaches the author's user_id", d.directMessage},
		{"A Discord slash command, forwarded as an interaction", d.slashCommand},
		{"A message longer than the platform limit", d.longMessage},
		{"An interrupt for a running session", d.interruptSession},
		{"A drain, a message while away, and the reconnect", d.drainAndReplay},
	}
	for i, s := range steps {
		d.printf("\n%d. %s\n", i+1, s.title)
		stepCtx, cancel := context.WithTimeout(ctx, demoTimeout)
		err := s.play(stepCtx)
		cancel()
		if err != nil {
			return errors.Join(fmt.Errorf("step %d (%s): %w", i+1, s.title, err), stop())
		}
	}

	d.printf("\n7. The gateway drains and disconnects; the connector closes\n")
	if err := stop(); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	d.printf("   ✓ stopped cleanly\n")

	return d.finish()
}

// start runs the connector and connects the gateway. The returned function
// stops both.
func (d *demo) start(ctx context.Context) (func() error, error) {
	secret := randomSecret()
	conn, err := devconnector.New(devconnector.Config{
		Secrets:    map[string][]string{demoGateway: {secret}},
		Descriptor: d.desc,
		Logger:     d.log.With("component", "connector"),
	})
	if err != nil {
		return nil, fmt.Errorf("start connector: %w", err)
	}
	d.conn = conn

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start connector: %w", err)
	}
	served := make(chan error, 1)
	go func() { served <- conn.Serve(ln) }()

	stopConnector := func() error {
		closeCtx, cancel := context.WithTimeout(context.Background(), demoTimeout)
		defer cancel()

		return errors.Join(conn.Close(closeCtx), <-served)
	}

	d.wake = newWakeGate()
	transport, err := wsrelay.New(wsrelay.Config{
		URL:        "http://" + ln.Addr().String(),
		GatewayID:  demoGateway,
		Secret:     secret,
		Identities: []domain.Identity{{Platform: d.desc.Platform, BotID: demoBot}},
		Logger:     d.log.With("component", "wsrelay"),
		// The re-dial after going dormant waits for the demo to wake it.
		After:  d.wake.After,
		Jitter: func(t time.Duration) time.Duration { return t },
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("start gateway: %w", err), stopConnector())
	}

	d.interrupt = make(chan [2]string, 4)
	adapter, err := app.NewAdapter(app.Config{
		Transport:   transport,
		Interrupter: demoInterrupter(d.interrupt),
		Logger:      d.log.With("component", "adapter"),
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("start gateway: %w", err), stopConnector())
	}
	d.adapter = adapter
	if err := adapter.BindSink(echo.New(adapter, d.log.With("component", "agent"))); err != nil {
		return nil, errors.Join(fmt.Errorf("start gateway: %w", err), stopConnector())
	}

	stopAll := func() error {
		d.wake.Wake()
		closeCtx, cancel := context.WithTimeout(context.Background(), demoTimeout)
		defer cancel()

		return errors.Join(adapter.Disconnect(closeCtx), stopConnector())
	}

	connectCtx, cancel := context.WithTimeout(ctx, demoTimeout)
	defer cancel()
	if err := adapter.Connect(connectCtx); err != nil {
		return nil, errors.Join(fmt.Errorf("connect gateway: %w", err), stopAll())
	}

	got := adapter.Descriptor()
	d.printf("relay demo: a %s connector on %s and a gateway serving the echo agent\n",
		d.desc.Label, ln.Addr())
	d.printf("handshake: descriptor platform=%s max_message_length=%d len_unit=%s\n",
		got.Platform, got.MaxMessageLength, got.LenUnit)

	return stopAll, nil
}

func (d *demo) nextMessageID() string {
	d.msgSeq++
	return fmt.Sprintf("msg-%d", d.msgSeq)
}

func (d *demo) guildMessage(ctx context.Context) error {
	ev := domain.MessageEvent{
		Text: "hello from the guild",
		Source: domain.SessionSource{
			Platform: d.desc.Platform, ChatID: demoChannel, ChatType: domain.ChatChannel,
			ChatName: "general", GuildID: demoGuild, UserID: demoUser, UserName: "ada",
		},
		MessageID: d.nextMessageID(),
	}

	return d.exchange(ctx, ev)
}

func (d *demo) directMessage(ctx context.Context) error {
	ev := domain.MessageEvent{
		Text: "hi, just between us",
		Source: domain.SessionSource{
			Platform: d.desc.Platform, ChatID: demoDM, ChatType: domain.ChatDM,
			UserID: demoUser, UserName: "ada",
		},
		MessageID: d.nextMessageID(),
	}

	return d.exchange(ctx, ev)
}

func (d *demo) slashCommand(ctx context.Context) error {
	id := d.nextMessageID()
	body := fmt.Sprintf(`{"type":2,"id":%q,"channel_id":%q,"guild_id":%q,`+
		`"member":{"user":{"id":%q,"username":"ada"}},"data":{"name":"ping"}}`,
		id, demoChannel, demoGuild, demoUser)

	d.printf("   → interaction  /ping in chat=%s guild_id=%s (passthrough_forward)\n",
		demoChannel, demoGuild)
	rc, err := d.conn.DeliverInteraction([]byte(body))
	if err != nil {
		return err
	}
	if rc.Status != devconnector.StatusDelivered {
		return fmt.Errorf("interaction was %s, want delivered", rc.Status)
	}

	return d.expectReplies(ctx, "ping", demoChannel, []string{"ping"})
}

func (d *demo) longMessage(ctx context.Context) error {
	text := strings.Repeat("The relay splits a long reply at the platform limit. ", 90)
	if d.desc.LenUnit == domain.UnitUTF16 {
		// Each rocket is one code point but two UTF-16 code units: the text
		// fits 4096 characters, not 4096 UTF-16 units.
		text = strings.Repeat("🚀 ", 1500)
	}
	ev := domain.MessageEvent{
		Text: text,
		Source: domain.SessionSource{
			Platform: d.desc.Platform, ChatID: demoChannel, ChatType: domain.ChatChannel,
			ChatName: "general", GuildID: demoGuild, UserID: demoUser, UserName: "ada",
		},
		MessageID: d.nextMessageID(),
	}

	return d.exchange(ctx, ev)
}

func (d *demo) interruptSession(ctx context.Context) error {
	const session = "demo:session:chan-general"
	d.printf("   → interrupt    session_key=%s chat=%s\n", session, demoChannel)
	if err := d.conn.Interrupt(session, demoChannel); err != nil {
		return err
	}

	select {
	case got := <-d.interrupt:
		if got != [2]string{session, demoChannel} {
			return fmt.Errorf("gateway stopped session %q in chat %q", got[0], got[1])
		}
		d.printf("   ✓ the gateway stopped that session's running turn\n")

		return nil
	case <-ctx.Done():
		return errors.New("the gateway never received the interrupt")
	}
}

func (d *demo) drainAndReplay(ctx context.Context) error {
	d.printf("   ⇣ the gateway goes idle (going_idle, ack) and closes its link\n")
	if !d.adapter.GoDormant(ctx) {
		return errors.New("the gateway could not go idle: no going_idle_ack")
	}
	if _, err := d.conn.WaitStats(ctx, func(s devconnector.Stats) bool {
		return s.Connected == 0
	}); err != nil {
		return fmt.Errorf("the link did not close: %w", err)
	}

	ev := domain.MessageEvent{
		Text: "are you still there?",
		Source: domain.SessionSource{
			Platform: d.desc.Platform, ChatID: demoChannel, ChatType: domain.ChatChannel,
			ChatName: "general", GuildID: demoGuild, UserID: demoUser, UserName: "ada",
		},
		MessageID: d.nextMessageID(),
	}
	d.printInbound(ev)
	rc, err := d.conn.Deliver(ev)
	if err != nil {
		return err
	}
	if rc.Status != devconnector.StatusBuffered {
		return fmt.Errorf("inbound while away was %s, want buffered", rc.Status)
	}
	d.printf("   ⧗ buffered by the connector as %s (the gateway is away)\n", rc.BufferID)

	before := d.conn.Stats()
	d.printf("   ⇡ the gateway wakes and reconnects\n")
	d.wake.Wake()

	if err := d.expectReplies(ctx, ev.Text, ev.Source.ChatID, []string{ev.Text}); err != nil {
		return err
	}
	st, err := d.conn.WaitStats(ctx, func(s devconnector.Stats) bool {
		return s.Acked > before.Acked
	})
	if err != nil {
		return fmt.Errorf("the replayed message was never acknowledged: %w", err)
	}
	d.printf("   ✓ replayed with bufferId %s and acknowledged (inbound_ack); %d pending\n",
		rc.BufferID, st.Pending)

	return nil
}

// exchange delivers an event live and checks the echo's replies.
func (d *demo) exchange(ctx context.Context, ev domain.MessageEvent) error {
	d.printInbound(ev)
	rc, err := d.conn.Deliver(ev)
	if err != nil {
		return err
	}
	if rc.Status != devconnector.StatusDelivered {
		return fmt.Errorf("inbound was %s, want delivered", rc.Status)
	}

	parts := domain.SplitMessage(ev.Text, d.desc.MaxMessageLength, d.desc.LenUnit,
		d.desc.SupportsCodeBlocks())

	return d.expectReplies(ctx, ev.Text, ev.Source.ChatID, parts)
}

func (d *demo) printInbound(ev domain.MessageEvent) {
	src := ev.Source
	where := "guild_id=" + src.GuildID
	if src.GuildID == "" {
		where = "user_id=" + src.UserID + " (a DM: no guild)"
	}
	d.printf("   → inbound      chat=%s %s from %s: %s\n", src.ChatID, where, src.UserName,
		d.quote(ev.Text))
}

// expectReplies waits for one reply per part, all into chatID, and prints
// each with the discriminator that routed it and the connector's verdict.
func (d *demo) expectReplies(ctx context.Context, text, chatID string, parts []string) error {
	d.replies += len(parts)
	records, err := d.conn.WaitOutbound(ctx, d.replies)
	if err != nil {
		return fmt.Errorf("got %d of %d replies: %w", len(records)-d.seen, len(parts), err)
	}
	got := records[d.seen:]
	d.seen = len(records)

	var joined strings.Builder
	for i, r := range got {
		a := r.Action
		label := "reply"
		if len(parts) > 1 {
			label = fmt.Sprintf("reply %d/%d", i+1, len(parts))
		}
		d.printf("   ← %-12s chat=%s %s: %s\n", label, a.ChatID, routedBy(a.Metadata),
			d.quote(a.Content))
		if r.Result.Success {
			d.printf("     connector: accepted, message_id=%s\n", r.Result.MessageID)
		} else {
			d.printf("     connector: declined: %s\n", r.Result.Error)
		}

		switch {
		case !r.Result.Success:
			return fmt.Errorf("reply %d was declined: %s", i+1, r.Result.Error)
		case a.ChatID != chatID:
			return fmt.Errorf("reply %d went to chat %q, want %q", i+1, a.ChatID, chatID)
		case domain.Length(a.Content, d.desc.LenUnit) > d.desc.MaxMessageLength:
			return fmt.Errorf("reply %d is longer than the platform limit", i+1)
		}
		joined.WriteString(a.Content)
	}
	if len(got) != len(parts) {
		return fmt.Errorf("got %d replies, want %d", len(got), len(parts))
	}
	if joined.String() != text {
		return errors.New("the replies do not add up to the message")
	}

	return nil
}

// finish checks the connector's counters once the gateway and the
// connector stopped, so no reply can still be on its way.
func (d *demo) finish() error {
	st := d.conn.Stats()
	d.printf("\nconnector: %d replies accepted, %d declined; %d delivered live, "+
		"%d buffered, %d replayed, %d acknowledged, %d pending\n",
		st.Outbound-st.Declined, st.Declined, st.Delivered, st.Buffered, st.Replayed,
		st.Acked, st.Pending)

	switch {
	case st.Outbound != d.replies:
		return fmt.Errorf("the connector answered %d replies, want %d: a reply was lost "+
			"or duplicated", st.Outbound, d.replies)
	case st.Declined != 0:
		return fmt.Errorf("%d replies were declined", st.Declined)
	case st.Pending != 0 || st.Acked != st.Buffered:
		return fmt.Errorf("%d buffered deliveries, %d acknowledged: one was lost",
			st.Buffered, st.Acked)
	case st.Replayed != st.Buffered:
		return fmt.Errorf("%d buffered deliveries replayed %d times: one was duplicated",
			st.Buffered, st.Replayed)
	}
	d.printf("ok: every reply accepted, nothing lost, nothing duplicated\n")

	return nil
}

// quote shows a message text shortened, with its length in the platform's
// unit when it is long.
func (d *demo) quote(text string) string {
	const show = 40
	r := []rune(text)
	if len(r) <= show {
		return fmt.Sprintf("%q", text)
	}

	size := fmt.Sprintf("%d characters", len(r))
	if d.desc.LenUnit == domain.UnitUTF16 {
		size = fmt.Sprintf("%d UTF-16 units, %d characters",
			domain.Length(text, domain.UnitUTF16), len(r))
	}

	return fmt.Sprintf("%q… (%s)", string(r[:show]), size)
}

// routedBy names the discriminator a reply's metadata carries.
func routedBy(meta map[string]any) string {
	if g, ok := meta["guild_id"].(string); ok && g != "" {
		return "guild_id=" + g
	}
	if u, ok := meta["user_id"].(string); ok && u != "" {
		return "user_id=" + u
	}

	return "(no discriminator)"
}

func randomSecret() string {
	var b [16]byte
	_, _ = rand.Read(b[:])

	return hex.EncodeToString(b[:])
}

// wakeGate holds the gateway's re-dial after it went dormant until Wake.
type wakeGate struct {
	once sync.Once
	ch   chan time.Time
}

func newWakeGate() *wakeGate { return &wakeGate{ch: make(chan time.Time)} }

// After ignores the delay: every re-dial waits for Wake.
func (g *wakeGate) After(time.Duration) <-chan time.Time { return g.ch }

// Wake releases every waiting and future re-dial.
func (g *wakeGate) Wake() { g.once.Do(func() { close(g.ch) }) }

// demoInterrupter reports each interrupt the gateway receives.
type demoInterrupter chan [2]string

func (c demoInterrupter) InterruptSession(_ context.Context, sessionKey, chatID string) error {
	select {
	case c <- [2]string{sessionKey, chatID}:
	default:
	}

	return nil
}
