package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/app"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/mocks"
	"github.com/relay-go/relay/ports"
)

func TestSendReattachesScope(t *testing.T) {
	tests := []struct {
		name     string
		inbound  *domain.SessionSource // nil: the chat was never seen
		giveMeta map[string]any
		wantMeta map[string]any
	}{
		{
			name:     "guild reply carries guild and scope ids",
			inbound:  &domain.SessionSource{ChatID: "c1", GuildID: "g1", UserID: "u1"},
			wantMeta: map[string]any{"guild_id": "g1", "scope_id": "g1"},
		},
		{
			name:     "newer scope id is captured too",
			inbound:  &domain.SessionSource{ChatID: "c1", ScopeID: "w1", UserID: "u1"},
			wantMeta: map[string]any{"guild_id": "w1", "scope_id": "w1"},
		},
		{
			name:     "dm reply carries the author",
			inbound:  &domain.SessionSource{ChatID: "c1", UserID: "u1"},
			giveMeta: map[string]any{"thread_id": "t1"},
			wantMeta: map[string]any{"thread_id": "t1", "user_id": "u1"},
		},
		{
			name:     "explicit values are kept",
			inbound:  &domain.SessionSource{ChatID: "c1", GuildID: "g1"},
			giveMeta: map[string]any{"guild_id": "g2"},
			wantMeta: map[string]any{"guild_id": "g2"},
		},
		{
			name:     "explicit dm user is kept",
			inbound:  &domain.SessionSource{ChatID: "c1", UserID: "u1"},
			giveMeta: map[string]any{"user_id": "u9"},
			wantMeta: map[string]any{"user_id": "u9"},
		},
		{
			name:     "unknown chat gets nothing",
			wantMeta: map[string]any{},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newFakeTransport()
			sink := newRecordingSink()
			a := connected(t, tr, sink, nil)

			if tt.inbound != nil {
				tr.inbound(domain.MessageEvent{Source: *tt.inbound}, ports.Delivery{})
				recv(t, sink.got)
			}

			var before map[string]any
			if tt.giveMeta != nil {
				before = map[string]any{}
				for k, v := range tt.giveMeta {
					before[k] = v
				}
			}

			reply := "r1"
			res := a.Send(context.Background(), "c1", "hello",
				app.SendOptions{ReplyTo: &reply, Metadata: tt.giveMeta})
			require.True(t, res.Success)

			action := recv(t, tr.actions)
			assert.Equal(t, domain.OpSend, action.Op)
			assert.Equal(t, "c1", action.ChatID)
			assert.Equal(t, "hello", action.Content)
			assert.Equal(t, &reply, action.ReplyTo)
			assert.Equal(t, tt.wantMeta, action.Metadata)
			assert.Equal(t, before, tt.giveMeta, "the caller's map is unchanged")
		})
	}
}

func TestSendSplitsLongContent(t *testing.T) {
	failAt := func(n int) func(domain.Action) domain.SendResult {
		calls := 0

		return func(a domain.Action) domain.SendResult {
			calls++
			if calls == n {
				return domain.SendResult{Error: "rejected"}
			}

			return domain.SendResult{Success: true, MessageID: "id-" + a.Content[:1]}
		}
	}

	tests := []struct {
		name        string
		descriptor  domain.Descriptor
		give        string
		respond     func(domain.Action) domain.SendResult
		wantParts   []string
		want        domain.SendResult
		wantMetrics []string
	}{
		{
			name:       "fits in one message",
			descriptor: domain.Descriptor{MaxMessageLength: 10, LenUnit: domain.UnitChars},
			give:       "aaaa bbbb",
			wantParts:  []string{"aaaa bbbb"},
			want:       domain.SendResult{Success: true, MessageID: "id-a"},
		},
		{
			name:       "split at spaces, last id returned",
			descriptor: domain.Descriptor{MaxMessageLength: 10, LenUnit: domain.UnitChars},
			give:       "aaaa bbbb cccc",
			wantParts:  []string{"aaaa bbbb ", "cccc"},
			want:       domain.SendResult{Success: true, MessageID: "id-c"},
		},
		{
			name:       "utf16 unit counts surrogate pairs",
			descriptor: domain.Descriptor{MaxMessageLength: 4, LenUnit: domain.UnitUTF16},
			give:       "a😀b😀",
			wantParts:  []string{"a😀b", "😀"},
			want:       domain.SendResult{Success: true, MessageID: "id-\xf0"},
		},
		{
			name:       "first failure stops the rest",
			descriptor: domain.Descriptor{MaxMessageLength: 5, LenUnit: domain.UnitChars},
			give:       "aaaa bbbb cccc",
			respond:    failAt(2),
			wantParts:  []string{"aaaa ", "bbbb "},
			want:       domain.SendResult{Error: "rejected"},
		},
		{
			name: "code blocks are reopened",
			descriptor: domain.Descriptor{
				MaxMessageLength: 20, LenUnit: domain.UnitChars, MarkdownDialect: "discord",
			},
			give: "```go\nx := 1\ny := 2\nz := 3\n```",
			wantParts: []string{
				"```go\nx := 1\n\n```", "```go\ny := 2\n\n```", "```go\nz := 3\n```",
			},
			want: domain.SendResult{Success: true, MessageID: "id-`"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newFakeTransport()
			tr.descriptor = tt.descriptor
			tr.respond = tt.respond

			if tr.respond == nil {
				tr.respond = func(a domain.Action) domain.SendResult {
					return domain.SendResult{Success: true, MessageID: "id-" + a.Content[:1]}
				}
			}

			a := connected(t, tr, newRecordingSink(), nil)
			reply := "orig"

			got := a.Send(context.Background(), "c1", tt.give, app.SendOptions{ReplyTo: &reply})
			assert.Equal(t, tt.want, got)

			var parts []string

			for i := range tt.wantParts {
				action := recv(t, tr.actions)
				parts = append(parts, action.Content)

				if i == 0 {
					assert.Equal(t, &reply, action.ReplyTo, "first part replies")
				} else {
					assert.Nil(t, action.ReplyTo, "later parts do not reply")
				}
			}

			assert.Equal(t, tt.wantParts, parts)
			none(t, tr.actions)
		})
	}
}

func TestSendCountsEachAction(t *testing.T) {
	tr := newFakeTransport()
	tr.descriptor = domain.Descriptor{MaxMessageLength: 5, LenUnit: domain.UnitChars}
	metrics := mocks.NewMetrics(t)
	metrics.EXPECT().OutboundResult("send", "success").Return().Times(3)
	metrics.EXPECT().OutboundResult("follow_up", "failure").Return().Once()

	a := connected(t, tr, newRecordingSink(), func(c *app.Config) { c.Metrics = metrics })
	assert.True(t, a.Send(context.Background(), "c1", "aaaa bbbb cccc", app.SendOptions{}).Success)

	tr.respond = func(domain.Action) domain.SendResult { return domain.SendResult{Error: "no"} }
	a.SendFollowUp(context.Background(), "s", "k", "x", nil)
}

func TestOutcome(t *testing.T) {
	tests := []struct {
		name string
		give domain.SendResult
		want string
	}{
		{name: "success", give: domain.SendResult{Success: true}, want: app.OutcomeSuccess},
		{name: "timed out", give: domain.ResultTimedOut, want: app.OutcomeAmbiguous},
		{name: "closed", give: domain.ResultClosed, want: app.OutcomeTransportError},
		{name: "not connected", give: domain.ResultNotConnected, want: app.OutcomeTransportError},
		{name: "lost", give: domain.ResultLost, want: app.OutcomeTransportError},
		{name: "no transport", give: domain.ResultNoTransport, want: app.OutcomeTransportError},
		{
			name: "write failed",
			give: domain.ResultSendFailed(errors.New("broken pipe")),
			want: app.OutcomeTransportError,
		},
		{
			name: "connector declined",
			give: domain.SendResult{Error: "discord egress declined"},
			want: app.OutcomeFailure,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, app.Outcome(tt.give))
		})
	}
}

func TestSendFollowUpShape(t *testing.T) {
	tests := []struct {
		name     string
		giveMeta map[string]any
		wantMeta map[string]any
	}{
		{name: "nil metadata is an empty object", wantMeta: map[string]any{}},
		{
			name:     "metadata passed unchanged",
			giveMeta: map[string]any{"ephemeral": true},
			wantMeta: map[string]any{"ephemeral": true},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newFakeTransport()
			sink := newRecordingSink()
			a := connected(t, tr, sink, nil)

			// A known chat's scope is not added: follow-ups name no chat.
			ev := event("c1", "x")
			ev.Source.GuildID = "g1"
			tr.inbound(ev, ports.Delivery{})
			recv(t, sink.got)

			res := a.SendFollowUp(context.Background(),
				"sess-1", "discord.interaction_token", "done", tt.giveMeta)
			assert.True(t, res.Success)

			assert.Equal(t, domain.Action{
				Op:         domain.OpFollowUp,
				SessionKey: "sess-1",
				Kind:       "discord.interaction_token",
				Content:    "done",
				Metadata:   tt.wantMeta,
			}, recv(t, tr.actions))
		})
	}
}

func TestWithoutTransport(t *testing.T) {
	a, err := app.NewAdapter(app.Config{Sink: newRecordingSink()})
	require.NoError(t, err)

	ctx := context.Background()

	assert.Equal(t, domain.ResultNoTransport, a.Send(ctx, "c1", "x", app.SendOptions{}))
	assert.Equal(t, domain.ResultNoTransport, a.SendFollowUp(ctx, "s", "k", "x", nil))

	info, err := a.GetChatInfo(ctx, "c1")
	require.NoError(t, err)
	assert.Equal(t, domain.ChatInfo{Name: "c1", Type: "dm"}, info)

	assert.ErrorIs(t, a.SendInterrupt(ctx, "s", nil), app.ErrNoTransport)
	assert.ErrorIs(t, a.Connect(ctx), app.ErrNoTransport)
	assert.False(t, a.GoDormant(ctx))
	assert.NoError(t, a.Disconnect(ctx))
}

func TestGetChatInfo(t *testing.T) {
	tr := newFakeTransport()
	a := connected(t, tr, newRecordingSink(), nil)

	info, err := a.GetChatInfo(context.Background(), "c1")
	require.NoError(t, err)
	assert.Equal(t, domain.ChatInfo{Name: "name-c1", Type: domain.ChatGroup}, info)

	cause := errors.New("timed out")
	tr.chatInfo = func(string) (domain.ChatInfo, error) { return domain.ChatInfo{}, cause }

	_, err = a.GetChatInfo(context.Background(), "c1")
	require.ErrorIs(t, err, cause)
	assert.ErrorContains(t, err, "get relay chat info")
}

func TestSendInterrupt(t *testing.T) {
	tr := newFakeTransport()
	a := connected(t, tr, newRecordingSink(), nil)
	reason := "user stop"

	require.NoError(t, a.SendInterrupt(context.Background(), "s1", &reason))
	require.NoError(t, a.SendInterrupt(context.Background(), "s2", nil))
	assert.Equal(t, []string{"s1:user stop", "s2:<nil>"}, tr.interrupts)

	tr.interruptErr = errors.New("closed")
	err := a.SendInterrupt(context.Background(), "s3", nil)
	assert.ErrorContains(t, err, "send relay interrupt: closed")
}

func TestSendNeverLogsText(t *testing.T) {
	tr := newFakeTransport()
	logs := &logBuffer{}
	tr.respond = func(domain.Action) domain.SendResult { return domain.ResultLost }
	a := connected(t, tr, newRecordingSink(), func(c *app.Config) { c.Logger = newLogger(logs) })

	a.Send(context.Background(), "c1", "top secret reply", app.SendOptions{})
	assert.False(t, strings.Contains(logs.String(), "top secret"))
}
