// Package memory is an in-process transport: a Transport (the gateway side)
// linked to a Connector (the connector side) without a network. It is a
// first-class adapter, not a test double: it has the close, timeout,
// reconnect, buffering and revocation semantics of the WebSocket transport,
// so the relay behaves the same on it, and it passes the transport
// conformance suite in ports/transporttest.
//
// Build a pair with NewPair, or a Connector with NewConnector and its
// transports with Connector.NewTransport. The Connector plays the connector
// of the wire contract: it answers each hello with a descriptor, answers
// outbound actions with a Responder (or holds them for Connector.Answer),
// delivers inbound events, forwards and interrupts, acknowledges going_idle
// by buffering inbound, replays the buffer with buffer ids after the next
// handshake, and records everything the gateway sent. It can also drop the
// link, close it with any code, and revoke the credential.
//
// # Links and reconnects
//
// A link is one connection. Frames from the connector queue on the link
// without bound, in order, and one reader goroutine per link dispatches
// them. A close by the connector is seen after the frames queued before it,
// as on a socket. When a link ends without Disconnect, the transport
// re-dials after Config.ReconnectDelay (one second, doubling, at most
// thirty). An unauthorized close (code 4401, reason other than "expired")
// once a handshake has completed is answered by one immediate re-dial; if
// that dial is refused with 4401, or the link it opens closes with 4401,
// the transport latches the revocation, closes the Revoked channel and
// stops re-dialing. A refused first dial is returned by Connect and not
// retried.
//
// Known limits: the link carries Go values, not bytes, so nothing is
// encoded or size-limited; the connector runs its Responder on the sending
// goroutine; and a 4401 on the link opened by the fresh re-dial counts as a
// revocation however long that link lived.
//
// # Concurrency
//
// SetHandlers is called before Connect. After that every method of
// Transport and Connector is safe for concurrent use. Handlers run on the
// link's reader goroutine, one frame at a time in arrival order; they must
// return quickly, and must not call GoDormant or Disconnect, which wait for
// the reader. A panicking handler is recovered and logged; the reader goes
// on with the next frame. Outbound results are read by the same goroutine,
// so a slow handler delays them.
//
// Connect starts the reader of the first link and the reconnect loop;
// every re-dial starts one reader. Disconnect stops them all and returns
// only when none is left, so a test can check for leaked goroutines right
// after it. A Connector starts no goroutine of its own. Its Next methods
// block until a record arrives or their context ends; all its other
// methods return at once.
package memory
