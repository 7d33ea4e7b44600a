package domain_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/relay-go/relay/domain"
)

func TestDescriptorSupportsCodeBlocks(t *testing.T) {
	tests := []struct {
		name string
		give string
		want bool
	}{
		{name: "empty dialect has no code blocks", give: "", want: false},
		{name: "plain dialect has no code blocks", give: "plain", want: false},
		{name: "discord dialect has code blocks", give: "discord", want: true},
		{name: "markdown_v2 dialect has code blocks", give: "markdown_v2", want: true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, domain.Descriptor{MarkdownDialect: tt.give}.SupportsCodeBlocks())
		})
	}
}

func TestParseMessageType(t *testing.T) {
	tests := []struct {
		name string
		give string
		want domain.MessageType
	}{
		{name: "known type is kept", give: "photo", want: domain.MessagePhoto},
		{name: "command is kept", give: "command", want: domain.MessageCommand},
		{name: "empty reads as text", give: "", want: domain.MessageText},
		{name: "unknown reads as text", give: "hologram", want: domain.MessageText},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, domain.ParseMessageType(tt.give))
		})
	}
}

func TestDiscriminatorIsZero(t *testing.T) {
	assert.True(t, domain.Discriminator{}.IsZero())
	assert.False(t, domain.Discriminator{Scope: "g"}.IsZero())
	assert.False(t, domain.Discriminator{DMUser: "u"}.IsZero())
}

func TestFailureResults(t *testing.T) {
	got := domain.ResultSendFailed(errors.New("broken pipe"))
	assert.Equal(t, domain.SendResult{Error: "relay send failed: broken pipe"}, got)

	disabled := domain.RelayDisabled()
	assert.Equal(t, domain.CodeRelayDisabled, disabled.Code)
	assert.False(t, disabled.Retryable)
	assert.Equal(t, "relay_disabled: "+disabled.Message, disabled.Error())
}
