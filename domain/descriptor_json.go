package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Wire names of the descriptor keys.
const (
	keyContractVersion        = "contract_version"
	keyPlatform               = "platform"
	keyLabel                  = "label"
	keyMaxMessageLength       = "max_message_length"
	keySupportsDraftStreaming = "supports_draft_streaming"
	keySupportsEdit           = "supports_edit"
	keySupportsThreads        = "supports_threads"
	keyMarkdownDialect        = "markdown_dialect"
	keyLenUnit                = "len_unit"
	keyEmoji                  = "emoji"
	keyPlatformHint           = "platform_hint"
	keyPIISafe                = "pii_safe"
	keySupportsContext        = "supports_context"
	keySupportsInchannel      = "supports_inchannel_continuable"
	keySupportsBlockFormat    = "supports_block_formatting"
	keySupportedOps           = "supported_ops"
)

// requiredDescriptorKeys are the keys a descriptor must carry, in the order
// DecodeDescriptor checks them.
var requiredDescriptorKeys = []string{
	keyContractVersion,
	keyPlatform,
	keyLabel,
	keyMaxMessageLength,
	keySupportsDraftStreaming,
	keySupportsEdit,
	keySupportsThreads,
	keyMarkdownDialect,
	keyLenUnit,
}

// LegacyOps is the op set assumed for a connector that advertises no
// supported_ops. Callers must not modify it.
var LegacyOps = []string{OpSend, OpEdit, OpTyping, OpFollowUp}

// ErrMalformedDescriptor reports descriptor bytes that are not one JSON
// object.
var ErrMalformedDescriptor = errors.New("descriptor is not a JSON object")

// MissingKeyError reports a descriptor that lacks a required key.
type MissingKeyError struct {
	// Key is the wire name of the first missing required key.
	Key string
}

// Error names the missing key.
func (e *MissingKeyError) Error() string {
	return fmt.Sprintf("decode descriptor: missing required key %q", e.Key)
}

// DecodeDescriptor decodes a capability descriptor from one JSON object and
// normalizes it.
//
// Unknown keys are ignored. A missing required key (contract_version,
// platform, label, max_message_length, supports_draft_streaming,
// supports_edit, supports_threads, markdown_dialect, len_unit) is a
// *MissingKeyError naming the first one missing; a key present with the
// value null counts as present. Bytes that are not exactly one JSON object
// give an error wrapping ErrMalformedDescriptor.
//
// Missing optional keys take their defaults: emoji DefaultEmoji,
// platform_hint "", the optional booleans false, supported_ops empty.
//
// Normalization never fails the decode:
//   - max_message_length that is not a number, or whose value truncated
//     toward zero is not positive, becomes DefaultMaxMessageLength; a
//     fractional value is truncated (2.9 reads as 2); a value too large for
//     an int is clamped to math.MaxInt.
//   - supported_ops keeps its non-empty string entries in order; a value
//     that is not a list reads as empty. An empty result is nil.
//   - Any other key whose value has the wrong JSON type reads as that key's
//     default: false for a boolean, "" for a required string, DefaultEmoji
//     for emoji, and 0 for a contract_version that is not an integer that
//     fits an int. An explicit "" emoji is kept.
func DecodeDescriptor(data []byte) (Descriptor, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return Descriptor{}, fmt.Errorf("decode descriptor: %w: %w", ErrMalformedDescriptor, err)
	}

	if raw == nil {
		return Descriptor{}, fmt.Errorf("decode descriptor: %w: null", ErrMalformedDescriptor)
	}

	for _, key := range requiredDescriptorKeys {
		if _, ok := raw[key]; !ok {
			return Descriptor{}, &MissingKeyError{Key: key}
		}
	}

	d := Descriptor{
		ContractVersion:              rawInt(raw[keyContractVersion]),
		Platform:                     rawString(raw[keyPlatform], ""),
		Label:                        rawString(raw[keyLabel], ""),
		MaxMessageLength:             rawMaxLength(raw[keyMaxMessageLength]),
		SupportsDraftStreaming:       rawBool(raw[keySupportsDraftStreaming]),
		SupportsEdit:                 rawBool(raw[keySupportsEdit]),
		SupportsThreads:              rawBool(raw[keySupportsThreads]),
		MarkdownDialect:              rawString(raw[keyMarkdownDialect], ""),
		LenUnit:                      rawString(raw[keyLenUnit], ""),
		Emoji:                        rawString(raw[keyEmoji], DefaultEmoji),
		PlatformHint:                 rawString(raw[keyPlatformHint], ""),
		PIISafe:                      rawBool(raw[keyPIISafe]),
		SupportsContext:              rawBool(raw[keySupportsContext]),
		SupportsInchannelContinuable: rawBool(raw[keySupportsInchannel]),
		SupportsBlockFormatting:      rawBool(raw[keySupportsBlockFormat]),
		SupportedOps:                 rawOps(raw[keySupportedOps]),
	}

	return d, nil
}

// SupportsOp reports whether the connector accepts op: whether op is in
// SupportedOps, or in LegacyOps when SupportedOps is empty. An op outside
// the legacy set is supported only when advertised.
func (d Descriptor) SupportsOp(op string) bool {
	if len(d.SupportedOps) == 0 {
		return slices.Contains(LegacyOps, op)
	}

	return slices.Contains(d.SupportedOps, op)
}

// descriptorWire is the wire form of a Descriptor, keys in sorted order.
type descriptorWire struct {
	ContractVersion              int      `json:"contract_version"`
	Emoji                        string   `json:"emoji"`
	Label                        string   `json:"label"`
	LenUnit                      string   `json:"len_unit"`
	MarkdownDialect              string   `json:"markdown_dialect"`
	MaxMessageLength             int      `json:"max_message_length"`
	PIISafe                      bool     `json:"pii_safe"`
	Platform                     string   `json:"platform"`
	PlatformHint                 string   `json:"platform_hint"`
	SupportedOps                 []string `json:"supported_ops"`
	SupportsBlockFormatting      bool     `json:"supports_block_formatting"`
	SupportsContext              bool     `json:"supports_context"`
	SupportsDraftStreaming       bool     `json:"supports_draft_streaming"`
	SupportsEdit                 bool     `json:"supports_edit"`
	SupportsInchannelContinuable bool     `json:"supports_inchannel_continuable"`
	SupportsThreads              bool     `json:"supports_threads"`
}

// MarshalJSON writes the descriptor as one JSON object carrying every key
// under its wire name, in sorted key order, with supported_ops as a list
// (never null). Values are written as they are, without normalization, so
// DecodeDescriptor(MarshalJSON(d)) gives d back for every d that
// DecodeDescriptor can return.
func (d Descriptor) MarshalJSON() ([]byte, error) {
	ops := d.SupportedOps
	if ops == nil {
		ops = []string{}
	}

	w := descriptorWire{
		ContractVersion:              d.ContractVersion,
		Emoji:                        d.Emoji,
		Label:                        d.Label,
		LenUnit:                      d.LenUnit,
		MarkdownDialect:              d.MarkdownDialect,
		MaxMessageLength:             d.MaxMessageLength,
		PIISafe:                      d.PIISafe,
		Platform:                     d.Platform,
		PlatformHint:                 d.PlatformHint,
		SupportedOps:                 ops,
		SupportsBlockFormatting:      d.SupportsBlockFormatting,
		SupportsContext:              d.SupportsContext,
		SupportsDraftStreaming:       d.SupportsDraftStreaming,
		SupportsEdit:                 d.SupportsEdit,
		SupportsInchannelContinuable: d.SupportsInchannelContinuable,
		SupportsThreads:              d.SupportsThreads,
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, fmt.Errorf("encode descriptor: %w", err)
	}

	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// rawString returns the string a raw JSON value holds, or def when it is
// missing or not a string.
func rawString(raw json.RawMessage, def string) string {
	raw = trimJSON(raw)

	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return def
	}

	return s
}

// rawBool returns the boolean a raw JSON value holds; false when it is
// missing or not a boolean.
func rawBool(raw json.RawMessage) bool {
	return string(trimJSON(raw)) == "true"
}

// rawNumber returns the literal of a raw JSON number, or "" when the value
// is not a number.
func rawNumber(raw json.RawMessage) string {
	raw = trimJSON(raw)
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return ""
	}

	return string(raw)
}

// rawInt returns the value of a raw JSON integer that fits an int, else 0.
// An integral number written with a fraction or exponent (1.0, 1e0) counts.
func rawInt(raw json.RawMessage) int {
	lit := rawNumber(raw)
	if lit == "" {
		return 0
	}

	if n, err := strconv.ParseInt(lit, 10, 0); err == nil {
		return int(n)
	}

	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt || f >= math.MaxInt {
		return 0
	}

	return int(f)
}

// rawMaxLength normalizes max_message_length (see DecodeDescriptor).
func rawMaxLength(raw json.RawMessage) int {
	lit := rawNumber(raw)
	if lit == "" {
		return DefaultMaxMessageLength
	}

	if n, err := strconv.ParseInt(lit, 10, 0); err == nil {
		if n <= 0 {
			return DefaultMaxMessageLength
		}

		return int(n)
	}

	// Not a plain integer that fits: a fraction, an exponent or a huge
	// literal. ParseFloat can fail here only with a range error, and then f
	// is an infinity that the cases below handle.
	f, _ := strconv.ParseFloat(lit, 64)
	switch {
	case f < 1:
		return DefaultMaxMessageLength
	case f >= math.MaxInt:
		return math.MaxInt
	default:
		return int(f)
	}
}

// rawOps returns the non-empty strings of a raw JSON list, nil when there
// are none or the value is not a list.
func rawOps(raw json.RawMessage) []string {
	raw = trimJSON(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return nil
	}

	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}

	var ops []string
	for _, item := range items {
		if op := rawString(item, ""); op != "" {
			ops = append(ops, op)
		}
	}

	return ops
}
