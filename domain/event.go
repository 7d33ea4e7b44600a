package domain

// MessageType classifies an inbound message. Values the relay does not know
// read as MessageText.
type MessageType string

// The message types a connector may deliver.
const (
	MessageText     MessageType = "text"
	MessageCommand  MessageType = "command"
	MessagePhoto    MessageType = "photo"
	MessageVideo    MessageType = "video"
	MessageAudio    MessageType = "audio"
	MessageVoice    MessageType = "voice"
	MessageDocument MessageType = "document"
	MessageSticker  MessageType = "sticker"
	MessageLocation MessageType = "location"
)

// ParseMessageType maps a wire value to a MessageType. Unknown or empty
// values read as MessageText.
func ParseMessageType(s string) MessageType {
	switch t := MessageType(s); t {
	case MessageText, MessageCommand, MessagePhoto, MessageVideo, MessageAudio,
		MessageVoice, MessageDocument, MessageSticker, MessageLocation:
		return t
	default:
		return MessageText
	}
}

// Chat types a session source may carry. ChatDM is the default.
const (
	ChatDM      = "dm"
	ChatGroup   = "group"
	ChatChannel = "channel"
	ChatThread  = "thread"
	ChatForum   = "forum"
)

// SessionSource says where an inbound message came from. An empty string
// means the connector did not send the field.
type SessionSource struct {
	// Platform is the underlying platform, such as "discord" or "telegram".
	Platform string
	// ChatID identifies the chat a reply goes to.
	ChatID string
	// ChatType is one of the Chat constants; ChatDM when the connector sent
	// none.
	ChatType string
	ChatName string
	// UserID is the author id the connector observed. For a DM it is the
	// egress discriminator a reply must carry.
	UserID string
	// UserName is the display name when the connector sent one, else the
	// user name, else the handle.
	UserName  string
	ThreadID  string
	ChatTopic string
	// GuildID and ScopeID name the tenant scope (a Discord guild, a Slack
	// workspace). ScopeID is the newer name; both are kept as sent.
	GuildID      string
	ScopeID      string
	ParentChatID string
	MessageID    string
	UserIDAlt    string
	ChatIDAlt    string
	// Profile is the agent profile the connector stamped, if any.
	Profile string
}

// Scope returns the tenant scope of the source: GuildID when set, else
// ScopeID, else "".
func (s SessionSource) Scope() string {
	if s.GuildID != "" {
		return s.GuildID
	}

	return s.ScopeID
}

// MessageEvent is one normalized inbound message.
type MessageEvent struct {
	Text             string
	MessageType      MessageType
	Source           SessionSource
	MessageID        string
	ReplyToMessageID string
	MediaURLs        []string
}

// Identity is one platform bot fronted by the connector on a gateway's link.
// The zero value means "the default identity".
type Identity struct {
	Platform string
	BotID    string
}

// IsZero reports whether the identity names no platform.
func (i Identity) IsZero() bool { return i.Platform == "" }

// Forward is a passthrough request the connector answered at its edge and
// forwarded to the gateway: a Discord interaction, a webhook. The connector
// verified its signature and stripped credentials; the gateway trusts it.
type Forward struct {
	Platform string
	BotID    string
	Method   string
	Path     string
	// Headers keep arrival order; each entry is a name and a value.
	Headers [][2]string
	// Body holds the exact request bytes; empty when the wire body did not
	// decode.
	Body    []byte
	Profile string
}
