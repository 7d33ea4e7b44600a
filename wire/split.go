package wire

import (
	"bytes"
	"errors"
)

// DefaultMaxLine bounds a frame that is still incomplete across messages.
const DefaultMaxLine = 4 << 20

// ErrLineTooLong means a peer sent more than the splitter's MaxLine bytes
// without ending the frame.
var ErrLineTooLong = errors.New("relay frame exceeds the size limit")

// Splitter cuts the payloads of WebSocket messages into frames. One message
// may carry several frames, and a frame may continue in the next message: a
// trailing partial line is kept until its newline arrives. Blank lines are
// skipped. The zero value is ready to use with DefaultMaxLine.
//
// A Splitter is used by one goroutine.
type Splitter struct {
	// MaxLine bounds a pending partial frame in bytes; zero means
	// DefaultMaxLine.
	MaxLine int

	pending []byte
}

// Feed splits msg and calls emit once per complete, non-blank frame, in
// order, without the trailing newline. The slice passed to emit is only
// valid during the call. Feed returns ErrLineTooLong, after emitting the
// complete frames before it, when a partial frame grows beyond MaxLine; the
// splitter is then reset.
func (s *Splitter) Feed(msg []byte, emit func(frame []byte)) error {
	for len(msg) > 0 {
		nl := bytes.IndexByte(msg, '\n')
		if nl < 0 {
			if len(s.pending)+len(msg) > s.maxLine() {
				s.clearPending()
				return ErrLineTooLong
			}
			s.pending = append(s.pending, msg...)
			return nil
		}

		line := msg[:nl]
		msg = msg[nl+1:]
		if len(s.pending) > 0 {
			if len(s.pending)+len(line) > s.maxLine() {
				s.clearPending()
				return ErrLineTooLong
			}
			s.pending = append(s.pending, line...)
			line = s.pending
		}

		if !isBlank(line) {
			emit(line)
		}
		s.clearPending()
	}

	return nil
}

// Pending reports how many bytes of an incomplete frame are held.
func (s *Splitter) Pending() int { return len(s.pending) }

// Reset drops any partial frame, as when a new connection starts.
func (s *Splitter) Reset() { s.clearPending() }

// keepPending is the largest pending buffer kept between frames; one grown
// larger by a huge frame is dropped once that frame is done, so that it does
// not pin up to MaxLine bytes for the life of the splitter.
const keepPending = 64 << 10

func (s *Splitter) clearPending() {
	if cap(s.pending) > keepPending {
		s.pending = nil
	} else {
		s.pending = s.pending[:0]
	}
}

func (s *Splitter) maxLine() int {
	if s.MaxLine > 0 {
		return s.MaxLine
	}

	return DefaultMaxLine
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}

	return true
}
