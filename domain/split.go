package domain

import (
	"strings"
	"unicode/utf8"
)

// The fence text SplitMessageParts adds around a part cut inside a fenced
// code block.
const (
	// FenceMarker opens and closes a fenced code block at the start of a
	// line.
	FenceMarker = "```"
	// FenceSuffix ends a part whose cut falls inside a code block.
	FenceSuffix = "\n" + FenceMarker
)

// Part is one piece of a split message.
type Part struct {
	// Text is the message to send: Prefix, then a piece of the original
	// text, then Suffix.
	Text string
	// Prefix is the fence SplitMessageParts added to reopen a code block
	// that the previous part closed: FenceMarker, the block's language tag,
	// and "\n". It is "" when nothing was added.
	Prefix string
	// Suffix is FenceSuffix when SplitMessageParts closed a code block the
	// cut fell inside, else "".
	Suffix string
}

// Body returns the piece of the original text the part carries: Text
// without Prefix and Suffix. Concatenating the bodies of all parts gives
// the original text.
func (p Part) Body() string {
	return p.Text[len(p.Prefix) : len(p.Text)-len(p.Suffix)]
}

// SplitMessage splits text into messages that each fit limit when measured
// in unit with Length. It returns the Text of each part SplitMessageParts
// returns; see there for the rules.
func SplitMessage(text string, limit int, unit string, codeBlocks bool) []string {
	parts := SplitMessageParts(text, limit, unit, codeBlocks)
	if parts == nil {
		return nil
	}

	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = p.Text
	}

	return out
}

// SplitMessageParts splits text into parts whose Text each fit limit when
// measured in unit with Length. A limit <= 0 means DefaultMaxMessageLength.
// Empty text gives no parts (nil); text that fits gives one part holding
// it unchanged.
//
// Each cut is made at the last newline within the room left, keeping the
// newline in the earlier part; failing that, after the last space; failing
// that, at the limit itself. A cut never falls inside a code point, so a
// surrogate pair is never split and valid UTF-8 stays valid. Bytes that are
// not valid UTF-8 count one each and may be cut between.
//
// With codeBlocks, a fence is a line that starts with FenceMarker in its
// first column; fences alternate between opening and closing a block, and
// an opening fence's language tag is the rest of its line with surrounding
// spaces and tabs removed. When a cut falls inside a block, the part ends
// with FenceSuffix and the next part begins with the reopening fence
// FenceMarker+tag+"\n"; both count against the limit. The added text is
// reported in Prefix and Suffix, so the Body of each part is exactly a
// piece of the original text. No fence is added after the last part, even
// when the text leaves its last block open.
//
// Degenerate limits: fences are added to a part only when together they
// take at most half the limit; otherwise that part is cut as plain text.
// When a single code point is wider than the limit (an astral code point
// with a UTF-16 limit of 1), it is emitted alone in a part that exceeds the
// limit: the only way a part can exceed it. Every part carries at least one
// code point, so splitting always ends.
//
// The running time is linear in len(text) plus the size of the returned
// parts.
func SplitMessageParts(text string, limit int, unit string, codeBlocks bool) []Part {
	if text == "" {
		return nil
	}

	if limit <= 0 {
		limit = DefaultMaxMessageLength
	}

	s := splitter{text: text, limit: limit, utf16: unit == UnitUTF16, code: codeBlocks}

	return s.split()
}

// fenceState says whether a position lies inside a fenced code block and,
// if so, the block's language tag (a substring of the text).
type fenceState struct {
	open bool
	lang string
	// at is where the line of the opening fence starts, when open.
	at int
}

// splitter holds one split's input; it is used by one goroutine.
type splitter struct {
	text  string
	limit int
	utf16 bool
	code  bool
}

// split cuts the whole text into parts.
func (s *splitter) split() []Part {
	var (
		parts []Part
		state fenceState
	)

	for start := 0; start < len(s.text); {
		p, next, nextState := s.part(start, state)
		parts = append(parts, p)
		start, state = next, nextState
	}

	return parts
}

// part cuts the part that begins at start, where the fence state is st. It
// returns the part, where the next part begins, and the fence state there.
func (s *splitter) part(start int, st fenceState) (Part, int, fenceState) {
	if s.code {
		if pw, ok := s.fenceRoom(st); ok {
			prefix := ""
			if st.open {
				prefix = FenceMarker + st.lang + "\n"
			}

			return s.fencedPart(start, st, prefix, pw)
		}
	}

	return s.plainPart(start, st)
}

// fenceRoom returns the width of the reopening fence a part starting in
// state st needs (0 outside a block), and whether that fence and a closing
// fence together take at most half the limit. It measures at most half the
// limit of the language tag, so a huge tag costs no more than a part.
func (s *splitter) fenceRoom(st fenceState) (int, bool) {
	sw := s.width(FenceSuffix)
	half := s.limit / 2
	if sw > half {
		return 0, false
	}

	if !st.open {
		return 0, true
	}

	fixed := s.width(FenceMarker) + 1 + sw
	if fixed > half {
		return 0, false
	}

	pw := s.width(FenceMarker) + 1 + s.widthUpTo(st.lang, half-fixed)

	return pw, pw+sw <= half
}

// fencedPart cuts a part that may carry fences: prefix (possibly "", of
// width pw) before the body and, when the cut falls inside a block,
// FenceSuffix after it. The caller checked with fenceRoom that the fences
// fit.
func (s *splitter) fencedPart(
	start int, st fenceState, prefix string, pw int,
) (Part, int, fenceState) {
	sw := s.width(FenceSuffix)
	budget := s.limit - pw
	end := s.advance(start, budget)
	if end == len(s.text) {
		return Part{Text: prefix + s.text[start:], Prefix: prefix}, end, fenceState{}
	}

	cut := s.cut(start, end)
	cutState := s.scanFences(st, start, cut)
	if !cutState.open {
		return Part{Text: prefix + s.text[start:cut], Prefix: prefix}, cut, cutState
	}

	// The cut falls inside a block: make room for the closing fence. The
	// room left is at least half the limit, and fences are only added with
	// a limit of at least 8, so it still holds any code point.
	end = s.advance(start, budget-sw)
	cut = s.cut(start, end)
	cutState = s.scanFences(st, start, cut)
	suffix := ""
	if cutState.open {
		suffix = FenceSuffix
	}

	if cutState.open && cutState.at > start && !s.hasNewline(cutState.at, cut-1) {
		// The part would end on the opening fence of an empty block: end
		// it before that fence line instead, outside any block.
		cut, cutState, suffix = cutState.at, fenceState{}, ""
	}

	p := Part{Text: prefix + s.text[start:cut] + suffix, Prefix: prefix, Suffix: suffix}

	return p, cut, cutState
}

// plainPart cuts a part without fences. It always makes progress: when the
// first code point alone is wider than the limit, the part holds just it.
func (s *splitter) plainPart(start int, st fenceState) (Part, int, fenceState) {
	end := s.advance(start, s.limit)
	cut := end
	switch {
	case end == start:
		_, size := utf8.DecodeRuneInString(s.text[start:])
		cut = start + size
	case end < len(s.text):
		cut = s.cut(start, end)
	}

	next := st
	if s.code {
		next = s.scanFences(st, start, cut)
	}

	return Part{Text: s.text[start:cut]}, cut, next
}

// advance returns the largest end such that text[start:end] ends on a code
// point boundary and measures at most budget. It returns start when the
// first code point is wider than budget.
func (s *splitter) advance(start, budget int) int {
	w := 0
	i := start
	for i < len(s.text) {
		size := 1
		if s.text[i] >= utf8.RuneSelf {
			_, size = utf8.DecodeRuneInString(s.text[i:])
		}

		cw := unitWidth(size, s.utf16)
		if w+cw > budget {
			break
		}

		w += cw
		i += size
	}

	return i
}

// cut picks where to end a part that may reach end (exclusive, start < end):
// after the last newline in text[start:end], else after the last space,
// else at end.
func (s *splitter) cut(start, end int) int {
	window := s.text[start:end]
	if i := strings.LastIndexByte(window, '\n'); i >= 0 {
		return start + i + 1
	}

	if i := strings.LastIndexByte(window, ' '); i >= 0 {
		return start + i + 1
	}

	return end
}

// scanFences returns the fence state at to, given the state st at from, by
// applying every fence line that starts in text[from:to].
func (s *splitter) scanFences(st fenceState, from, to int) fenceState {
	i := from
	if i > 0 && s.text[i-1] != '\n' {
		// from is inside a line that started earlier: skip to the next one.
		nl := strings.IndexByte(s.text[i:to], '\n')
		if nl < 0 {
			return st
		}

		i += nl + 1
	}

	for i < to {
		if strings.HasPrefix(s.text[i:], FenceMarker) {
			st = s.toggle(st, i)
		}

		nl := strings.IndexByte(s.text[i:to], '\n')
		if nl < 0 {
			break
		}

		i += nl + 1
	}

	return st
}

// toggle applies the fence line that starts at i.
func (s *splitter) toggle(st fenceState, i int) fenceState {
	if st.open {
		return fenceState{}
	}

	line := s.text[i+len(FenceMarker):]
	if nl := strings.IndexByte(line, '\n'); nl >= 0 {
		line = line[:nl]
	}

	return fenceState{open: true, lang: strings.Trim(line, " \t\r"), at: i}
}

// hasNewline reports whether text[from:to] holds a newline.
func (s *splitter) hasNewline(from, to int) bool {
	return strings.IndexByte(s.text[from:to], '\n') >= 0
}

// widthUpTo measures str in the splitter's unit, but stops once the width
// exceeds bound: a result above bound means "wider than bound".
func (s *splitter) widthUpTo(str string, bound int) int {
	w := 0
	for i := 0; i < len(str) && w <= bound; {
		size := 1
		if str[i] >= utf8.RuneSelf {
			_, size = utf8.DecodeRuneInString(str[i:])
		}

		w += unitWidth(size, s.utf16)
		i += size
	}

	return w
}

// width measures s in the splitter's unit.
func (s *splitter) width(str string) int {
	if s.utf16 {
		return utf16Length(str)
	}

	return utf8.RuneCountInString(str)
}
