package domain

// Discriminator is what a chat's inbound traffic showed about its tenant:
// the scope (a guild or workspace) of a group chat, or the author of a DM.
// At most one of the two is set.
type Discriminator struct {
	// Scope is the guild or workspace id of a chat in a server.
	Scope string
	// DMUser is the author id the connector delivered on the last inbound
	// of a DM.
	DMUser string
}

// IsZero reports whether the discriminator holds nothing.
func (d Discriminator) IsZero() bool { return d.Scope == "" && d.DMUser == "" }
