// Package domain holds the pure rules of the relay: the capability
// descriptor and its normalization, length units and message splitting, scope
// capture and the egress discriminators, the mapping of forwarded Discord
// interactions to message events, and the event, action and result types that
// cross the ports.
//
// Nothing in this package performs I/O or starts a goroutine, and it imports
// no other package of this module. Every function is safe for concurrent use
// unless its documentation says otherwise.
package domain
