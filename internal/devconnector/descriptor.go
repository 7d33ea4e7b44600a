package devconnector

import (
	"fmt"
	"slices"
	"strings"

	"github.com/relay-go/relay/domain"
)

// builtinDescriptors build the capability profiles PlatformDescriptor
// knows.
var builtinDescriptors = map[string]func() domain.Descriptor{
	"discord":  domain.DiscordDescriptor,
	"telegram": domain.TelegramDescriptor,
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
	build, ok := builtinDescriptors[name]
	if !ok {
		return domain.Descriptor{}, fmt.Errorf("platform descriptor: unknown platform %q (known: %s)",
			name, strings.Join(Platforms(), ", "))
	}
	return build(), nil
}
