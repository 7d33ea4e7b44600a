package wire

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fastFrameCases are frames the fast path must handle itself, and inputs it
// must leave to encoding/json.
var fastFrameCases = []struct {
	name     string
	give     string
	wantFast bool
}{
	{name: "inbound", wantFast: true,
		give: `{"type":"inbound","event":{"text":"hi","source":{"chat_id":"c1"}},"bufferId":"b1"}`},
	{name: "result", wantFast: true,
		give: `{"type":"outbound_result","requestId":"r1","result":{"success":true}}`},
	{name: "spaces and numbers", wantFast: true,
		give: ` { "type" : "interrupt_inbound" , "chat_id" : 42 , "session_key":"s" } `},
	{name: "escapes and unicode", wantFast: true,
		give: `{"type":"inbound","event":{"text":"a\"b\u00e9\ud83d\ude80 ünï"}}`},
	{name: "null nested", wantFast: true, give: `{"type":"inbound","event":null}`},
	{name: "reason null", wantFast: true, give: `{"type":"interrupt","reason":null}`},
	{name: "duplicate keys", wantFast: true,
		give: `{"type":"a","type":"inbound","event":{"text":"x"},"event":null}`},
	{name: "key in another case", give: `{"Type":"inbound"}`},
	{name: "object as text", give: `{"type":{"a":1}}`},
	{name: "escaped key", give: `{"t\u0079pe":"inbound"}`},
	{name: "invalid json", give: `{"type":"inbound",}`},
	{name: "trailing garbage", give: `{"type":"inbound"} x`},
	{name: "bad number", give: `{"type":01}`},
	{name: "control character", give: "{\"type\":\"a\x01\"}"},
}

func TestDecodeFrameFastPathAgreesWithEncodingJSON(t *testing.T) {
	for _, tt := range fastFrameCases {
		t.Run(tt.name, func(t *testing.T) {
			fast, ok := decodeFrameFast([]byte(tt.give))
			assert.Equal(t, tt.wantFast, ok)

			slow, err := decodeFrameSlow([]byte(tt.give))
			if ok {
				require.NoError(t, err)
				assert.True(t, framesEqual(slow, fast), "fast %+v\nslow %+v", fast, slow)
			}
		})
	}
}

func TestDecodeFrameFastPathDoesNotAliasTheLine(t *testing.T) {
	line := []byte(`{"type":"inbound","event":{"text":"hi"}}`)

	f, ok := decodeFrameFast(line)
	require.True(t, ok)

	copy(line, strings.Repeat("x", len(line)))
	assert.JSONEq(t, `{"text":"hi"}`, string(f.Event))
}

func TestDecodeEventFastPathCases(t *testing.T) {
	tests := []struct {
		name     string
		give     string
		wantFast bool
	}{
		{name: "full", wantFast: true, give: `{"text":"hi","message_type":"photo",` +
			`"source":{"platform":"discord","chat_id":"c","chat_type":"channel",` +
			`"user_id":"u","user_name":"n","user_display_name":"D","guild_id":"g",` +
			`"scope_id":"s","message_id":"m","profile":"p","extra":[1,{"a":null}]},` +
			`"message_id":"m1","reply_to_message_id":"m0","media_urls":[]}`},
		{name: "source not an object", wantFast: true, give: `{"source":"x","text":"t"}`},
		{name: "duplicate source", wantFast: true,
			give: `{"source":{"chat_id":"a","user_id":"u"},"source":{"chat_id":"b"}}`},
		{name: "media list left to encoding/json", give: `{"media_urls":["a",1,null]}`},
		{name: "media not a list", wantFast: true, give: `{"media_urls":"a"}`},
		{name: "odd source field", give: `{"source":{"chat_id":{"x":1}}}`},
		{name: "source key case", give: `{"source":{"Chat_ID":"x"}}`},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fast, ok := decodeEventFast([]byte(tt.give))
			assert.Equal(t, tt.wantFast, ok)

			slow, err := decodeEventSlow([]byte(tt.give))
			require.NoError(t, err)

			if ok {
				assert.Equal(t, slow, fast.event())
			}

			got, err := DecodeEvent([]byte(tt.give))
			require.NoError(t, err)
			assert.Equal(t, slow, got)
		})
	}
}

func TestDecodeResultFastPathCases(t *testing.T) {
	tests := []struct {
		name     string
		give     string
		wantFast bool
	}{
		{name: "success", wantFast: true, give: `{"success":true,"message_id":"m"}`},
		{name: "failure", wantFast: true, give: `{"success":false,"error":"no","ambiguous":1}`},
		{name: "string flag", wantFast: true, give: `{"success":"yes"}`},
		{name: "zero flag", wantFast: true, give: `{"success":0.0}`},
		{name: "chat info", wantFast: true, give: `{"chat_info":{"name":"n"},"type":"dm"}`},
		{name: "object flag", give: `{"success":{"a":1}}`},
		{name: "key case", give: `{"Success":true}`},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			success, id, msg, ambiguous, ok := decodeResultFast([]byte(tt.give))
			assert.Equal(t, tt.wantFast, ok)

			slow := decodeResultSlow([]byte(tt.give))
			if ok {
				assert.Equal(t, slow.Success, success)
				assert.Equal(t, slow.MessageID, id)
				assert.Equal(t, slow.Error, msg)
				assert.Equal(t, slow.Ambiguous, ambiguous)
			}
			assert.Equal(t, slow, DecodeResult([]byte(tt.give)))
		})
	}
}

// FuzzFastDecodersAgree checks that whenever a fast path accepts an input,
// it decodes it exactly as encoding/json does.
func FuzzFastDecodersAgree(f *testing.F) {
	for _, tt := range fastFrameCases {
		f.Add([]byte(tt.give))
	}

	f.Fuzz(func(t *testing.T, b []byte) {
		if fast, ok := decodeFrameFast(b); ok {
			slow, err := decodeFrameSlow(b)
			if err != nil || !framesEqual(slow, fast) {
				t.Fatalf("frame differs: fast %+v\nslow %+v (%v)", fast, slow, err)
			}
		}

		if fast, ok := decodeEventFast(b); ok {
			slow, err := decodeEventSlow(b)
			if err != nil || !reflect.DeepEqual(slow, fast.event()) {
				t.Fatalf("event differs: fast %+v\nslow %+v (%v)", fast.event(), slow, err)
			}
		}

		if success, id, msg, ambiguous, ok := decodeResultFast(b); ok {
			slow := decodeResultSlow(b)
			if slow.Success != success || slow.MessageID != id || slow.Error != msg ||
				slow.Ambiguous != ambiguous {
				t.Fatalf("result differs: slow %+v", slow)
			}
		}
	})
}

// TestFuzzCorpusOfFastDecodersExists keeps the committed seeds in place.
func TestFuzzCorpusOfFastDecodersExists(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("testdata", "fuzz", "FuzzFastDecodersAgree"))
	require.NoError(t, err)
	assert.NotEmpty(t, entries)
}
