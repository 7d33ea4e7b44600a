package wire

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// text decodes a JSON scalar as a string: a string as itself, a number as
// its literal text, true and false as "true" and "false", null as "". An
// object or array is kept as its compact JSON text. It never fails, so one
// odd field does not cost the whole frame.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*t = ""
		return nil
	}

	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)

		return nil
	}

	out := b
	var buf bytes.Buffer
	if json.Compact(&buf, b) == nil {
		out = buf.Bytes()
	}
	// Strings nested in the value may hold invalid UTF-8, which a decoded
	// string never does: replace it so that text re-encodes unchanged.
	*t = text(strings.ToValidUTF8(string(out), "\uFFFD"))

	return nil
}

// flag decodes a JSON value as a boolean the way a loosely typed peer means
// it: true, a non-zero number, or a non-empty string is true; false, null,
// zero, "" and anything else is false.
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		*f = false
	case string(b) == "true":
		*f = true
	case b[0] == '"':
		*f = len(b) > 2
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		n, err := strconv.ParseFloat(string(b), 64)
		*f = flag(err == nil && n != 0)
	case b[0] == '[' || b[0] == '{':
		*f = len(bytes.TrimSpace(b[1:len(b)-1])) > 0
	default:
		*f = false
	}

	return nil
}

// textList decodes a JSON array of scalars, dropping entries that are
// objects, arrays or null (booleans read as their text); anything but an
// array, and an array left with no entries, reads as a nil list.
type textList []string

func (l *textList) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if json.Unmarshal(b, &raw) != nil || len(raw) == 0 {
		*l = nil
		return nil
	}

	out := make([]string, 0, len(raw))
	for _, r := range raw {
		r = bytes.TrimSpace(r)
		if len(r) == 0 || r[0] == '{' || r[0] == '[' || string(r) == "null" {
			continue
		}
		var t text
		_ = t.UnmarshalJSON(r)
		out = append(out, string(t))
	}
	if len(out) == 0 {
		out = nil
	}
	*l = out

	return nil
}
