package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/internal/devconnector"
)

func noEnv(string) string { return "" }

func TestDemoPlaysTheScript(t *testing.T) {
	tests := []struct {
		give     string
		wantLine []string
	}{
		{give: "discord", wantLine: []string{
			"handshake: descriptor platform=discord max_message_length=2000 len_unit=chars",
			"reply 3/3",
			"(4770 characters)",
		}},
		{give: "telegram", wantLine: []string{
			"handshake: descriptor platform=telegram max_message_length=4096 len_unit=utf16",
			"reply 2/2",
			"(4500 UTF-16 units, 3000 characters)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*demoTimeout)
			defer cancel()

			var stdout, stderr bytes.Buffer
			code := runDemo(ctx, []string{"--platform", tt.give}, noEnv, &stdout, &stderr)
			out := stdout.String()
			require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, stderr.String())

			for _, want := range append(tt.wantLine,
				"→ inbound      chat=chan-general guild_id=guild-42",
				"← reply        chat=chan-general guild_id=guild-42: \"hello from the guild\"",
				"← reply        chat=dm-ada user_id=user-ada: \"hi, just between us\"",
				"→ interaction  /ping in chat=chan-general guild_id=guild-42",
				"← reply        chat=chan-general guild_id=guild-42: \"ping\"",
				"✓ the gateway stopped that session's running turn",
				"⧗ buffered by the connector as buf-1",
				"✓ replayed with bufferId buf-1 and acknowledged",
				"connector: accepted, message_id=",
				"0 declined",
				"ok: every reply accepted, nothing lost, nothing duplicated",
			) {
				assert.Contains(t, out, want)
			}
			assert.NotContains(t, out, "declined:")
			assert.Empty(t, stderr.String(), "warn-level logs stay quiet on success")
		})
	}
}

func TestDemoUsageErrors(t *testing.T) {
	tests := []struct {
		name    string
		give    []string
		env     map[string]string
		wantErr string
	}{
		{name: "unknown platform", give: []string{"--platform", "irc"},
			wantErr: `unknown platform "irc" (known: discord, telegram)`},
		{name: "unknown platform from the environment",
			env: map[string]string{"RELAY_PLATFORM": "irc"}, wantErr: `"irc"`},
		{name: "bad log level", give: []string{"--log-level", "loud"}, wantErr: `"loud"`},
		{name: "positional argument", give: []string{"extra"}, wantErr: `"extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := func(k string) string { return tt.env[k] }
			var stdout, stderr bytes.Buffer
			code := runDemo(context.Background(), tt.give, env, &stdout, &stderr)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr.String(), tt.wantErr)
			assert.Equal(t, 1, bytes.Count(stderr.Bytes(), []byte("\n")), "one line")
			assert.Empty(t, stdout.String())
		})
	}
}

func TestDemoHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := runDemo(context.Background(), []string{"--help"}, noEnv, &stdout, &stderr)
	assert.Equal(t, exitOK, code)
	for _, want := range []string{"--platform", "RELAY_PLATFORM", "--log-level", "--log-format"} {
		assert.Contains(t, stdout.String(), want)
	}
}

func TestDemoFinishReportsLossAndDuplicates(t *testing.T) {
	conn, err := devconnector.New(devconnector.Config{Open: true})
	require.NoError(t, err)
	require.NoError(t, conn.Close(context.Background()))

	tests := []struct {
		name    string
		replies int
		wantErr string
	}{
		{name: "a missing reply fails", replies: 1,
			wantErr: "answered 0 replies, want 1: a reply was lost or duplicated"},
		{name: "matching counts pass", replies: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			d := &demo{out: &out, conn: conn, replies: tt.replies}
			err := d.finish()
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Contains(t, out.String(), "nothing lost")

				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}
