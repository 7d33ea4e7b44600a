package domain

// DiscordDescriptor returns the capability profile a connector fronting
// Discord advertises: 2000 Unicode code points per message, the discord
// markdown dialect, edits and threads, and the ops send, edit, typing,
// follow_up and get_chat_info. Test and development connectors answer
// with it; a gateway always adopts what its connector sends instead. Each
// call returns a value that shares no memory with another.
func DiscordDescriptor() Descriptor {
	return Descriptor{
		ContractVersion:  1,
		Platform:         "discord",
		Label:            "Discord",
		MaxMessageLength: 2000,
		SupportsEdit:     true,
		SupportsThreads:  true,
		MarkdownDialect:  "discord",
		LenUnit:          UnitChars,
		Emoji:            DefaultEmoji,
		SupportedOps:     []string{OpSend, OpEdit, OpTyping, OpFollowUp, OpGetChatInfo},
	}
}

// TelegramDescriptor returns the capability profile a connector fronting
// Telegram advertises: 4096 UTF-16 code units per message, markdown_v2,
// edits and threads, and the ops send, edit, typing and get_chat_info.
// Each call returns a value that shares no memory with another.
func TelegramDescriptor() Descriptor {
	return Descriptor{
		ContractVersion:  1,
		Platform:         "telegram",
		Label:            "Telegram",
		MaxMessageLength: 4096,
		SupportsEdit:     true,
		SupportsThreads:  true,
		MarkdownDialect:  "markdown_v2",
		LenUnit:          UnitUTF16,
		Emoji:            DefaultEmoji,
		SupportedOps:     []string{OpSend, OpEdit, OpTyping, OpGetChatInfo},
	}
}
