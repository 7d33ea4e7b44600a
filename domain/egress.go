package domain

import "maps"

// Metadata keys that carry the egress discriminators of an outbound action.
const (
	MetaGuildID = "guild_id"
	MetaScopeID = "scope_id"
	MetaUserID  = "user_id"
)

// CaptureDiscriminator returns what an inbound event shows about the tenant
// of its chat: the scope (Source.Scope: guild_id, else scope_id) when there
// is one, else the author (Source.UserID) as a DM user. ok is false when
// there is nothing to remember: no chat id, or neither a scope nor a user
// id. It never panics.
func CaptureDiscriminator(ev MessageEvent) (chatID string, d Discriminator, ok bool) {
	src := ev.Source
	if src.ChatID == "" {
		return "", Discriminator{}, false
	}

	if scope := src.Scope(); scope != "" {
		return src.ChatID, Discriminator{Scope: scope}, true
	}

	if src.UserID != "" {
		return src.ChatID, Discriminator{DMUser: src.UserID}, true
	}

	return "", Discriminator{}, false
}

// ReattachScope returns the metadata of an outbound action into a chat with
// the egress discriminator re-attached. d and known are what a scope store
// returned for the chat; an unknown chat gets nothing.
//
// A value that is missing, nil or the empty string counts as absent; a
// present value is never replaced. When guild_id is absent and d has a
// Scope, guild_id is set to it, and scope_id too when absent. When after
// that there is still no guild_id and no user_id, and d has a DMUser,
// user_id is set to it. So a reply with a guild never gets user_id.
//
// meta is never modified. When something is added the result is a new map
// holding meta's entries plus the added ones; otherwise meta itself is
// returned, which may be nil.
func ReattachScope(meta map[string]any, d Discriminator, known bool) map[string]any {
	if !known {
		return meta
	}

	addGuild := d.Scope != "" && absent(meta, MetaGuildID)
	addScopeID := addGuild && absent(meta, MetaScopeID)
	addUser := !addGuild && d.DMUser != "" &&
		absent(meta, MetaGuildID) && absent(meta, MetaUserID)
	if !addGuild && !addUser {
		return meta
	}

	out := make(map[string]any, len(meta)+2)
	maps.Copy(out, meta)

	if addGuild {
		var scope any = d.Scope
		out[MetaGuildID] = scope
		if addScopeID {
			out[MetaScopeID] = scope
		}
	}

	if addUser {
		out[MetaUserID] = d.DMUser
	}

	return out
}

// absent reports whether meta lacks a usable value under key: the key is
// missing, or holds nil or "".
func absent(meta map[string]any, key string) bool {
	v, ok := meta[key]
	if !ok || v == nil {
		return true
	}

	s, isString := v.(string)

	return isString && s == ""
}
