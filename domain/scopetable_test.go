package domain_test

import (
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
)

var _ ports.ScopeStore = (*domain.ScopeTable)(nil)

func TestScopeTableRememberAndLookup(t *testing.T) {
	guild := domain.Discriminator{Scope: "g1"}
	dm := domain.Discriminator{DMUser: "u1"}

	tests := []struct {
		name      string
		remember  []domain.Discriminator
		want      domain.Discriminator
		wantKnown bool
	}{
		{name: "unknown chat is not known", wantKnown: false},
		{
			name:     "remembered scope is returned",
			remember: []domain.Discriminator{guild}, want: guild, wantKnown: true,
		},
		{
			name:     "remembered dm user is returned",
			remember: []domain.Discriminator{dm}, want: dm, wantKnown: true,
		},
		{
			name:     "dm user replaces a scope",
			remember: []domain.Discriminator{guild, dm}, want: dm, wantKnown: true,
		},
		{
			name:     "scope replaces a dm user",
			remember: []domain.Discriminator{dm, guild}, want: guild, wantKnown: true,
		},
		{
			name:     "zero discriminator is ignored",
			remember: []domain.Discriminator{guild, {}}, want: guild, wantKnown: true,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := domain.NewScopeTable(4)
			for _, d := range tt.remember {
				table.Remember("chat", d)
			}

			got, known := table.Lookup("chat")
			assert.Equal(t, tt.wantKnown, known)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestScopeTableIgnoresEmptyChatID(t *testing.T) {
	table := domain.NewScopeTable(4)
	table.Remember("", domain.Discriminator{Scope: "g"})

	assert.Zero(t, table.Len())
	_, known := table.Lookup("")
	assert.False(t, known)
}

func TestNewScopeTableCapacity(t *testing.T) {
	tests := []struct {
		name string
		give int
		want int
	}{
		{name: "positive capacity is kept", give: 3, want: 3},
		{name: "zero means the default", give: 0, want: domain.DefaultScopeCapacity},
		{name: "negative means the default", give: -7, want: domain.DefaultScopeCapacity},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, domain.NewScopeTable(tt.give).Capacity())
		})
	}
}

func TestScopeTableEvictsLeastRecentlyUsed(t *testing.T) {
	scope := func(s string) domain.Discriminator { return domain.Discriminator{Scope: s} }

	t.Run("oldest remembered chat goes first", func(t *testing.T) {
		table := domain.NewScopeTable(3)
		table.Remember("a", scope("1"))
		table.Remember("b", scope("2"))
		table.Remember("c", scope("3"))
		table.Remember("d", scope("4"))

		assertKnown(t, table, map[string]bool{"a": false, "b": true, "c": true, "d": true})
		assert.Equal(t, 3, table.Len())
	})

	t.Run("lookup counts as a use", func(t *testing.T) {
		table := domain.NewScopeTable(3)
		table.Remember("a", scope("1"))
		table.Remember("b", scope("2"))
		table.Remember("c", scope("3"))
		_, _ = table.Lookup("a")
		table.Remember("d", scope("4"))

		assertKnown(t, table, map[string]bool{"a": true, "b": false, "c": true, "d": true})
	})

	t.Run("remembering again counts as a use", func(t *testing.T) {
		table := domain.NewScopeTable(3)
		table.Remember("a", scope("1"))
		table.Remember("b", scope("2"))
		table.Remember("c", scope("3"))
		table.Remember("a", domain.Discriminator{DMUser: "u"})
		table.Remember("d", scope("4"))
		table.Remember("e", scope("5"))

		assertKnown(t, table, map[string]bool{"a": true, "b": false, "c": false, "d": true, "e": true})
		got, _ := table.Lookup("a")
		assert.Equal(t, domain.Discriminator{DMUser: "u"}, got)
	})

	t.Run("capacity of one keeps the latest", func(t *testing.T) {
		table := domain.NewScopeTable(1)
		table.Remember("a", scope("1"))
		table.Remember("b", scope("2"))

		assertKnown(t, table, map[string]bool{"a": false, "b": true})
		assert.Equal(t, 1, table.Len())
	})

	t.Run("evicted slot serves a new chat with its own value", func(t *testing.T) {
		table := domain.NewScopeTable(2)
		for i := range 50 {
			table.Remember(strconv.Itoa(i), scope("s"+strconv.Itoa(i)))
		}

		for i := 48; i < 50; i++ {
			got, known := table.Lookup(strconv.Itoa(i))
			require.True(t, known)
			assert.Equal(t, scope("s"+strconv.Itoa(i)), got)
		}
	})
}

func assertKnown(t *testing.T, table *domain.ScopeTable, want map[string]bool) {
	t.Helper()

	// Check absent chats first: a hit would count as a use.
	for chat, known := range want {
		if !known {
			_, got := table.Lookup(chat)
			assert.False(t, got, "chat %q should be forgotten", chat)
		}
	}

	for chat, known := range want {
		if known {
			_, got := table.Lookup(chat)
			assert.True(t, got, "chat %q should be remembered", chat)
		}
	}
}

func TestScopeTableStaysWithinCapacity(t *testing.T) {
	const capacity = 1000

	table := domain.NewScopeTable(capacity)
	d := domain.Discriminator{Scope: "g"}
	for i := range 1_000_000 {
		table.Remember("chat-"+strconv.Itoa(i), d)
		if i%9973 == 0 {
			require.LessOrEqual(t, table.Len(), capacity)
		}
	}

	assert.Equal(t, capacity, table.Len())
	_, known := table.Lookup("chat-999999")
	assert.True(t, known)
	_, known = table.Lookup("chat-0")
	assert.False(t, known)
}

func TestScopeTableConcurrentUse(t *testing.T) {
	const capacity = 64

	table := domain.NewScopeTable(capacity)

	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				chat := strconv.Itoa((w*7 + i) % 200)
				if i%2 == 0 {
					table.Remember(chat, domain.Discriminator{Scope: chat})
				} else {
					table.Remember(chat, domain.Discriminator{DMUser: chat})
				}

				if d, ok := table.Lookup(chat); ok {
					assert.Contains(t, []string{d.Scope, d.DMUser}, chat)
				}

				assert.LessOrEqual(t, table.Len(), capacity)
			}
		})
	}

	wg.Wait()
	assert.LessOrEqual(t, table.Len(), capacity)
}
