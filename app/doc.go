// Package app is the relay adapter service: it turns a ports.Transport into
// the adapter a gateway app talks to. Inbound message events, interrupts and
// passthrough forwards from the connector are routed to the gateway's
// ports.EventSink and ports.SessionInterrupter; replies go out through Send,
// SendFollowUp and the other outbound methods, with the chat's tenant scope
// re-attached so the connector can route them.
//
// # Lifecycle
//
// NewAdapter builds an Adapter and starts nothing. Connect registers the
// transport's handlers, dials, waits for the connector's descriptor and adopts
// it. Disconnect asks the connector to buffer (when the transport can), closes
// the link and stops the delivery goroutines. Module wires the same lifecycle
// into an fx application.
//
// # Concurrency
//
// Every method of Adapter is safe for concurrent use. The transport's reader
// never waits for the sink: inbound events are handed to bounded per-chat
// queues, each drained by its own goroutine while it has work. Events of one
// chat reach the sink one at a time in arrival order; a slow chat delays
// neither other chats nor outbound results. When the queues are full a new
// delivery is refused: a buffered delivery stays unacknowledged and the
// connector delivers it again after the next handshake, while a live
// (unbuffered) delivery is lost. See Config.QueueCapacity.
//
// The sink and the fatal notifier may call Disconnect, given the context
// they received: it then does not wait for the call it is made from. The
// shutdown itself runs in the background and completes even when the
// caller's context ends first. See Adapter.Disconnect.
package app
