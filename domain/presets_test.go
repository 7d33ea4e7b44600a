package domain_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/domain"
)

func TestPresetDescriptors(t *testing.T) {
	tests := []struct {
		name     string
		give     func() domain.Descriptor
		wantMax  int
		wantUnit string
		wantOp   string
		wantNoOp string
	}{
		{name: "discord counts code points and takes follow-ups",
			give: domain.DiscordDescriptor, wantMax: 2000, wantUnit: domain.UnitChars,
			wantOp: domain.OpFollowUp},
		{name: "telegram counts UTF-16 units and takes no follow-ups",
			give: domain.TelegramDescriptor, wantMax: 4096, wantUnit: domain.UnitUTF16,
			wantOp: domain.OpGetChatInfo, wantNoOp: domain.OpFollowUp},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.give()
			assert.Equal(t, tt.wantMax, d.MaxMessageLength)
			assert.Equal(t, tt.wantUnit, d.LenUnit)
			assert.True(t, d.SupportsCodeBlocks())
			assert.True(t, d.SupportsOp(tt.wantOp))
			if tt.wantNoOp != "" {
				assert.False(t, d.SupportsOp(tt.wantNoOp))
			}

			b, err := d.MarshalJSON()
			require.NoError(t, err)
			back, err := domain.DecodeDescriptor(b)
			require.NoError(t, err, "a preset is a complete descriptor")
			assert.Equal(t, d, back)

			d.SupportedOps[0] = "changed"
			assert.NotEqual(t, "changed", tt.give().SupportedOps[0],
				"calls share no memory")
		})
	}
}
