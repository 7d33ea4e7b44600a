package domain_test

import (
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/relay-go/relay/domain"
)

func TestCaptureDiscriminator(t *testing.T) {
	tests := []struct {
		name     string
		give     domain.SessionSource
		wantChat string
		want     domain.Discriminator
		wantOK   bool
	}{
		{
			name:     "guild message remembers the guild",
			give:     domain.SessionSource{ChatID: "c1", GuildID: "g1", UserID: "u1"},
			wantChat: "c1", want: domain.Discriminator{Scope: "g1"}, wantOK: true,
		},
		{
			name:     "scope_id counts as a scope",
			give:     domain.SessionSource{ChatID: "c1", ScopeID: "w1", UserID: "u1"},
			wantChat: "c1", want: domain.Discriminator{Scope: "w1"}, wantOK: true,
		},
		{
			name:     "guild_id wins over scope_id",
			give:     domain.SessionSource{ChatID: "c1", GuildID: "g1", ScopeID: "w1"},
			wantChat: "c1", want: domain.Discriminator{Scope: "g1"}, wantOK: true,
		},
		{
			name:     "dm remembers the author",
			give:     domain.SessionSource{ChatID: "d1", UserID: "u1"},
			wantChat: "d1", want: domain.Discriminator{DMUser: "u1"}, wantOK: true,
		},
		{
			name:   "no chat id remembers nothing",
			give:   domain.SessionSource{GuildID: "g1", UserID: "u1"},
			wantOK: false,
		},
		{
			name:   "no scope and no user remembers nothing",
			give:   domain.SessionSource{ChatID: "c1"},
			wantOK: false,
		},
		{name: "empty source remembers nothing", wantOK: false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chat, d, ok := domain.CaptureDiscriminator(domain.MessageEvent{Source: tt.give})
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.wantChat, chat)
			assert.Equal(t, tt.want, d)
		})
	}
}

func TestReattachScope(t *testing.T) {
	guild := domain.Discriminator{Scope: "g1"}
	dm := domain.Discriminator{DMUser: "u1"}

	tests := []struct {
		name  string
		give  map[string]any
		d     domain.Discriminator
		known bool
		want  map[string]any
	}{
		{
			name: "guild reply gets guild_id and scope_id",
			give: map[string]any{"thread_id": "t"}, d: guild, known: true,
			want: map[string]any{"thread_id": "t", "guild_id": "g1", "scope_id": "g1"},
		},
		{
			name: "nil metadata gets the guild",
			give: nil, d: guild, known: true,
			want: map[string]any{"guild_id": "g1", "scope_id": "g1"},
		},
		{
			name: "present guild_id is kept",
			give: map[string]any{"guild_id": "g2"}, d: guild, known: true,
			want: map[string]any{"guild_id": "g2"},
		},
		{
			name: "present scope_id is kept while guild_id is added",
			give: map[string]any{"scope_id": "w9"}, d: guild, known: true,
			want: map[string]any{"guild_id": "g1", "scope_id": "w9"},
		},
		{
			name: "empty string guild_id counts as absent",
			give: map[string]any{"guild_id": ""}, d: guild, known: true,
			want: map[string]any{"guild_id": "g1", "scope_id": "g1"},
		},
		{
			name: "nil guild_id counts as absent",
			give: map[string]any{"guild_id": nil, "scope_id": ""}, d: guild, known: true,
			want: map[string]any{"guild_id": "g1", "scope_id": "g1"},
		},
		{
			name: "guild reply never gets user_id",
			give: map[string]any{}, d: domain.Discriminator{Scope: "g1", DMUser: "u1"}, known: true,
			want: map[string]any{"guild_id": "g1", "scope_id": "g1"},
		},
		{
			name: "reply with explicit guild_id gets no user_id",
			give: map[string]any{"guild_id": "g2"}, d: dm, known: true,
			want: map[string]any{"guild_id": "g2"},
		},
		{
			name: "dm reply gets user_id and no guild_id",
			give: map[string]any{"thread_id": "t"}, d: dm, known: true,
			want: map[string]any{"thread_id": "t", "user_id": "u1"},
		},
		{
			name: "nil metadata of a dm gets user_id",
			give: nil, d: dm, known: true,
			want: map[string]any{"user_id": "u1"},
		},
		{
			name: "explicit user_id is preserved",
			give: map[string]any{"user_id": "u2"}, d: dm, known: true,
			want: map[string]any{"user_id": "u2"},
		},
		{
			name: "empty string user_id counts as absent",
			give: map[string]any{"user_id": ""}, d: dm, known: true,
			want: map[string]any{"user_id": "u1"},
		},
		{
			name: "unknown chat gets nothing",
			give: map[string]any{"thread_id": "t"}, d: domain.Discriminator{}, known: false,
			want: map[string]any{"thread_id": "t"},
		},
		{
			name: "unknown chat with nil metadata stays nil",
			give: nil, d: domain.Discriminator{}, known: false,
			want: nil,
		},
		{
			name: "not known ignores a stale discriminator",
			give: map[string]any{}, d: guild, known: false,
			want: map[string]any{},
		},
		{
			name: "known zero discriminator adds nothing",
			give: map[string]any{}, d: domain.Discriminator{}, known: true,
			want: map[string]any{},
		},
		{
			name: "non-string guild_id is a present value",
			give: map[string]any{"guild_id": 0}, d: guild, known: true,
			want: map[string]any{"guild_id": 0},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := maps.Clone(tt.give)

			got := domain.ReattachScope(tt.give, tt.d, tt.known)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, before, tt.give, "caller map unchanged")
		})
	}
}

func TestReattachScopeCopiesOnlyWhenAdding(t *testing.T) {
	meta := map[string]any{"guild_id": "g2"}

	got := domain.ReattachScope(meta, domain.Discriminator{Scope: "g1"}, true)
	got["probe"] = true
	assert.Contains(t, meta, "probe", "nothing added: the input map itself is returned")

	meta = map[string]any{"thread_id": "t"}
	got = domain.ReattachScope(meta, domain.Discriminator{Scope: "g1"}, true)
	got["probe"] = true
	assert.NotContains(t, meta, "probe", "something added: a copy is returned")
}

func TestReattachScopeAllocations(t *testing.T) {
	meta := map[string]any{"thread_id": "t"}
	kept := map[string]any{"guild_id": "g2"}
	guild := domain.Discriminator{Scope: "123456789012345678"}

	noop := testing.AllocsPerRun(100, func() { _ = domain.ReattachScope(kept, guild, true) })
	assert.Zero(t, noop, "nothing added allocates nothing")

	// A Go map costs a header and one group, and a string stored in an
	// interface is boxed once (guild_id and scope_id share the box).
	added := testing.AllocsPerRun(100, func() { _ = domain.ReattachScope(meta, guild, true) })
	assert.LessOrEqual(t, added, 3.0)
}
