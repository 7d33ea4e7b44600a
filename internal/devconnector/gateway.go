package devconnector

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/relay-go/relay/domain"
)

// gateway is what the connector knows of one gateway id: its live link, its
// buffer, and what its deliveries onboarded. All fields are guarded by
// Connector.mu.
type gateway struct {
	id string
	// live is the link that completed the latest handshake; nil when none.
	live *conn
	// idle is set when the live link sent going_idle: deliveries buffer.
	idle bool
	// pending holds buffered deliveries not acknowledged, oldest first.
	pending []*entry

	scopes   map[string]bool
	authors  map[string]bool
	chats    map[string]domain.ChatInfo
	channels map[string]bool
}

func newGateway(id string) *gateway {
	return &gateway{
		id:       id,
		scopes:   make(map[string]bool),
		authors:  make(map[string]bool),
		chats:    make(map[string]domain.ChatInfo),
		channels: make(map[string]bool),
	}
}

// entry is one delivery: an event or a Discord interaction body.
type entry struct {
	seq      uint64
	bufferID string
	// event is the compact JSON of an inbound event; nil for a forward.
	event []byte
	// forward is the exact body of an interaction; nil for an event.
	forward []byte
	learn   learning
}

// learning is what a delivery teaches the egress guard once written.
type learning struct {
	scopes   []string
	author   string
	chatID   string
	chatName string
	chatType string
	// channel is the channel of an interaction, for follow_up.
	channel string
}

func learnEvent(ev domain.MessageEvent) learning {
	l := learning{
		chatID:   ev.Source.ChatID,
		chatName: ev.Source.ChatName,
		chatType: ev.Source.ChatType,
	}
	for _, s := range []string{ev.Source.GuildID, ev.Source.ScopeID} {
		if s != "" {
			l.scopes = append(l.scopes, s)
		}
	}
	if len(l.scopes) == 0 {
		l.author = ev.Source.UserID
	}

	return l
}

// learnInteraction reads the routing facts of a Discord interaction body:
// its guild, or without one its user, and its channel.
func learnInteraction(body []byte) (learning, error) {
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil || in == nil {
		return learning{}, ErrNotObject
	}

	var l learning
	l.channel = scalar(in["channel_id"])
	l.chatID = l.channel
	if g := scalar(in["guild_id"]); g != "" {
		l.scopes = []string{g}
		l.chatType = domain.ChatChannel
	} else {
		l.chatType = domain.ChatDM
		user, _ := in["user"].(map[string]any)
		if member, ok := in["member"].(map[string]any); ok {
			if u, ok := member["user"].(map[string]any); ok {
				user = u
			}
		}
		l.author = scalar(user["id"])
	}

	return l, nil
}

// learn records what a written delivery onboarded.
func (g *gateway) learn(l learning) {
	for _, s := range l.scopes {
		g.scopes[s] = true
	}
	if l.author != "" {
		g.authors[l.author] = true
	}
	if l.channel != "" {
		g.channels[l.channel] = true
	}
	if l.chatID != "" {
		info := g.chats[l.chatID]
		if l.chatName != "" {
			info.Name = l.chatName
		}
		if l.chatType != "" {
			info.Type = l.chatType
		}
		g.chats[l.chatID] = info
	}
}

// ack drops the buffered entry bufferID and reports whether it was pending.
func (g *gateway) ack(bufferID string) bool {
	i := slices.IndexFunc(g.pending, func(e *entry) bool { return e.bufferID == bufferID })
	if i < 0 {
		return false
	}
	g.pending = slices.Delete(g.pending, i, i+1)

	return true
}

// adopt moves the entries of another gateway's buffer into g's, keeping the
// order in which they were buffered.
func (g *gateway) adopt(other *gateway) {
	g.pending = append(g.pending, other.pending...)
	other.pending = nil
	slices.SortStableFunc(g.pending, func(a, b *entry) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}

		return 0
	})
}

// verdict is the connector's answer to one outbound action.
type verdict struct {
	result   domain.SendResult
	chatInfo *domain.ChatInfo
}

// raw encodes the verdict as the result object of an outbound_result.
func (v verdict) raw() []byte {
	type chatInfoJSON struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	out := struct {
		Success   bool          `json:"success"`
		MessageID string        `json:"message_id,omitempty"`
		Error     string        `json:"error,omitempty"`
		ChatInfo  *chatInfoJSON `json:"chat_info,omitempty"`
	}{Success: v.result.Success, MessageID: v.result.MessageID, Error: v.result.Error}
	if v.chatInfo != nil {
		out.ChatInfo = &chatInfoJSON{Name: v.chatInfo.Name, Type: v.chatInfo.Type}
	}
	b, _ := json.Marshal(out)

	return b
}

// judge applies the egress guard to an action. newID mints message ids.
func (g *gateway) judge(a domain.Action, newID func() string) verdict {
	switch a.Op {
	case domain.OpSend:
		if g.routes(a.Metadata) {
			return verdict{result: domain.SendResult{Success: true, MessageID: newID()}}
		}

		return verdict{result: domain.SendResult{Error: DeclinedError}}
	case domain.OpFollowUp:
		if g.knowsSession(a.SessionKey) {
			return verdict{result: domain.SendResult{Success: true, MessageID: newID()}}
		}

		return verdict{result: domain.SendResult{Error: FollowUpDeclinedError}}
	case domain.OpGetChatInfo:
		info := g.chats[a.ChatID]
		if info.Name == "" {
			info.Name = a.ChatID
		}
		if info.Type == "" {
			info.Type = domain.ChatDM
		}

		return verdict{result: domain.SendResult{Success: true}, chatInfo: &info}
	case domain.OpEdit:
		return verdict{result: domain.SendResult{Success: true, MessageID: a.MessageID}}
	default:
		return verdict{result: domain.SendResult{Success: true}}
	}
}

// routes reports whether a send with this metadata reaches an onboarded
// tenant. The tenant is read from guild_id first: when it is present (not
// empty) it alone decides, and a scope_id beside it cannot rescue a guild
// that was never onboarded. scope_id decides only without a guild_id.
// Without either, the user_id must be an author this gateway was delivered.
func (g *gateway) routes(meta map[string]any) bool {
	if guild := scalar(meta["guild_id"]); guild != "" {
		return g.scopes[guild]
	}
	if scope := scalar(meta["scope_id"]); scope != "" {
		return g.scopes[scope]
	}

	user := scalar(meta["user_id"])

	return user != "" && g.authors[user]
}

// knowsSession reports whether a session key names the channel of a
// delivered interaction.
func (g *gateway) knowsSession(key string) bool {
	if key == "" {
		return false
	}
	for ch := range g.channels {
		if strings.Contains(key, ch) {
			return true
		}
	}

	return false
}

// scalar reads a JSON scalar as text: a string as itself, a number as its
// shortest decimal form; anything else reads as "".
func scalar(v any) string {
	switch tv := v.(type) {
	case string:
		return tv
	case float64:
		return strconv.FormatFloat(tv, 'f', -1, 64)
	case json.Number:
		return tv.String()
	case int:
		return strconv.Itoa(tv)
	case int64:
		return strconv.FormatInt(tv, 10)
	case fmt.Stringer:
		return tv.String()
	default:
		return ""
	}
}
