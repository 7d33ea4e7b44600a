package domain

import "unicode/utf8"

// Length returns the length of s in the given unit: UTF-16 code units for
// UnitUTF16 (a code point outside the Basic Multilingual Plane counts as
// two), Unicode code points for UnitChars and for every other unit. Units
// match exactly and case-sensitively, so "UTF16" counts code points.
//
// A byte that is not part of valid UTF-8 counts as one in either unit, the
// width of the replacement character it decodes to. Length does not
// allocate.
func Length(s, unit string) int {
	if unit == UnitUTF16 {
		return utf16Length(s)
	}

	return utf8.RuneCountInString(s)
}

// utf16Length counts the UTF-16 code units of s: one per code point, plus
// one more for each code point that needs a surrogate pair. Only a valid
// four-byte UTF-8 sequence encodes such a code point.
func utf16Length(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			n++
			i++

			continue
		}

		_, size := utf8.DecodeRuneInString(s[i:])
		n += unitWidth(size, true)
		i += size
	}

	return n
}

// unitWidth returns the width of one decoded code point whose UTF-8
// encoding took size bytes: 2 for an astral code point counted in UTF-16,
// else 1. Invalid bytes decode with size 1 and so count as 1.
func unitWidth(size int, utf16 bool) int {
	if utf16 && size == 4 {
		return 2
	}

	return 1
}

// LengthFunc returns the function that measures a message in the
// descriptor's length unit (see Length).
func (d Descriptor) LengthFunc() func(string) int {
	if d.LenUnit == UnitUTF16 {
		return utf16Length
	}

	return utf8.RuneCountInString
}
