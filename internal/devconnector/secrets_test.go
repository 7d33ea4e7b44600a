package devconnector

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/domain"
)

func TestParseSecretsFile(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    map[string][]string
		wantErr string
	}{
		{name: "several secrets per id, comments and blanks skipped",
			give: "# rotation\n\n gw-1 = old \ngw-1=new=with=equals\n\t# x\ngw-2=two\n",
			want: map[string][]string{"gw-1": {"old", "new=with=equals"}, "gw-2": {"two"}}},
		{name: "empty file", give: "\n# nothing\n", want: map[string][]string{}},
		{name: "line without equals names its number", give: "gw-1=a\nhunter2\n",
			wantErr: "line 2: want gateway_id=secret"},
		{name: "empty id", give: "=hunter2", wantErr: "line 1: empty gateway id"},
		{name: "empty secret", give: "gw-1=  ", wantErr: "line 1: empty secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSecretsFile(strings.NewReader(tt.give))
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.NotContains(t, err.Error(), "hunter2")

				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestPlatformDescriptor(t *testing.T) {
	tests := []struct {
		give     string
		wantMax  int
		wantUnit string
		wantMD   string
	}{
		{give: "discord", wantMax: 2000, wantUnit: domain.UnitChars, wantMD: "discord"},
		{give: "telegram", wantMax: 4096, wantUnit: domain.UnitUTF16, wantMD: "markdown_v2"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			d, err := PlatformDescriptor(tt.give)
			require.NoError(t, err)
			assert.Equal(t, 1, d.ContractVersion)
			assert.Equal(t, tt.give, d.Platform)
			assert.Equal(t, tt.wantMax, d.MaxMessageLength)
			assert.Equal(t, tt.wantUnit, d.LenUnit)
			assert.Equal(t, tt.wantMD, d.MarkdownDialect)
			assert.True(t, d.SupportsEdit)
			assert.True(t, d.SupportsOp(domain.OpGetChatInfo))

			// The descriptor survives the wire unchanged.
			raw, err := d.MarshalJSON()
			require.NoError(t, err)
			back, err := domain.DecodeDescriptor(raw)
			require.NoError(t, err)
			assert.Equal(t, d, back)
		})
	}

	d, err := PlatformDescriptor("discord")
	require.NoError(t, err)
	assert.Equal(t, []string{"send", "edit", "typing", "follow_up", "get_chat_info"},
		d.SupportedOps)

	_, err = PlatformDescriptor("irc")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "discord, telegram")
}
