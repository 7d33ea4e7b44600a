package devconnector

import (
	"fmt"
	"slices"
	"strings"

	"github.com/relay-go/relay/domain"
)

// builtinDescriptors are the capability profiles PlatformDescriptor knows.
var builtinDescriptors = map[string]domain.Descriptor{
	"discord": {
		ContractVersion:  1,
		Platform:         "discord",
		Label:            "Discord",
		MaxMessageLength: 2000,
		SupportsEdit:     true,
		SupportsThreads:  true,
		MarkdownDialect:  "discord",
		LenUnit:          domain.UnitChars,
		Emoji:            domain.DefaultEmoji,
		SupportedOps: []string{
			domain.OpSend, domain.OpEdit, domain.OpTyping, domain.OpFollowUp,
			domain.OpGetChatInfo,
		},
	},
	"telegram": {
		ContractVersion:  1,
		Platform:         "telegram",
		Label:            "Telegram",
		MaxMessageLength: 4096,
		SupportsEdit:     true,
		SupportsThreads:  true,
		MarkdownDialect:  "markdown_v2",
		LenUnit:          domain.UnitUTF16,
		Emoji:            domain.DefaultEmoji,
		SupportedOps: []string{
			domain.OpSend, domain.OpEdit, domain.OpTyping, domain.OpGetChatInfo,
		},
	},
}

// Platforms returns the names PlatformDescriptor knows, sorted.
func Platforms() []string {
	names := make([]string, 0, len(builtinDescriptors))
	for name := range builtinDescriptors {
		names = append(names, name)
	}
	slices.Sort(names)

	return names
}

// PlatformDescriptor returns the built-in capability descriptor of a
// platform:
//
//   - discord: 2000 Unicode code points per message, the discord markdown
//     dialect, edits and threads, ops send, edit, typing, follow_up and
//     get_chat_info.
//   - telegram: 4096 UTF-16 code units per message, markdown_v2, edits and
//     threads, ops send, edit, typing and get_chat_info.
//
// An unknown name is an error listing the known ones. The returned value
// does not share memory with later calls.
func PlatformDescriptor(name string) (domain.Descriptor, error) {
	d, ok := builtinDescriptors[name]
	if !ok {
		return domain.Descriptor{}, fmt.Errorf("platform descriptor: unknown platform %q (known: %s)",
			name, strings.Join(Platforms(), ", "))
	}
	d.SupportedOps = slices.Clone(d.SupportedOps)

	return d, nil
}
