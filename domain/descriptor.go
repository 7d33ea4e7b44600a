package domain

// Length units a descriptor may name.
const (
	UnitChars = "chars"
	UnitUTF16 = "utf16"
)

// DefaultMaxMessageLength replaces a max_message_length that is missing, not
// a number, or not positive.
const DefaultMaxMessageLength = 4096

// DefaultEmoji is the emoji of a descriptor that names none.
const DefaultEmoji = "🔌"

// Descriptor is the capability profile a connector advertises for one
// fronted platform. Decode it with DecodeDescriptor so that defaults and
// normalization apply.
type Descriptor struct {
	ContractVersion              int
	Platform                     string
	Label                        string
	MaxMessageLength             int
	SupportsDraftStreaming       bool
	SupportsEdit                 bool
	SupportsThreads              bool
	MarkdownDialect              string
	LenUnit                      string
	Emoji                        string
	PlatformHint                 string
	PIISafe                      bool
	SupportsContext              bool
	SupportsInchannelContinuable bool
	SupportsBlockFormatting      bool
	// SupportedOps lists the ops the connector accepts; empty means the
	// legacy set (send, edit, typing, follow_up).
	SupportedOps []string
}

// SupportsCodeBlocks reports whether the dialect renders fenced code blocks:
// every dialect but "" and "plain".
func (d Descriptor) SupportsCodeBlocks() bool {
	return d.MarkdownDialect != "" && d.MarkdownDialect != "plain"
}
