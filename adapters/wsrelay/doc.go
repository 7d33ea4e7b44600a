// Package wsrelay is the production transport of the relay: a WebSocket
// link the gateway dials out to a connector, speaking the newline-delimited
// JSON frames of the wire package.
//
// Build it with New and a Config, register the handlers with SetHandlers,
// then call Connect and Handshake. Transport implements ports.Transport and
// the optional ports.Idler, ports.DormantGoer, ports.RevocationReporter and
// ports.Acker. Module and Provide wire it into an fx application.
//
// # Link life cycle
//
// Every dial mints a fresh upgrade token (when a gateway id and a secret are
// set) and sends one hello per configured identity. The first descriptor of
// a link completes its handshake; descriptors are kept per platform and
// reset on every dial. Only descriptors for platforms the link sent a hello
// for are kept (a later one for the same platform replaces the earlier);
// any other is ignored and completes nothing, so a connector cannot grow
// the set beyond the configured identities.
//
// After Connect succeeded, one supervisor goroutine owns all later dials, so
// there is never more than one dialer. It re-dials after every unexpected
// close with capped exponential backoff (BackoffMin doubling up to
// BackoffMax, passed through Jitter); the ladder starts again once a link
// stayed up StableAfter. A close with code 4401 before any handshake on the
// transport is retried the same way. After a handshake, an unauthorized
// refusal (a 4401 close, or HTTP 401 or 403 at the upgrade of a re-dial)
// earns one immediate re-dial with a fresh token; when the connector
// refuses that token too (HTTP 401 or 403 at the upgrade, or a 4401 on that
// link, with or without a descriptor first), the transport latches a
// revocation: Revoked is closed and nothing dials again. A refusal whose
// reason is "expired" is never a revocation. When the fresh-token re-dial
// fails for any other reason (network error, another HTTP status), the
// credential got no verdict: the transport backs off as after any failed
// dial, and the next unauthorized refusal starts the judgment again. The
// same holds once the fresh-token link stayed up StableAfter: a 4401 on it
// then is a new refusal, which earns its own fresh-token re-dial.
// Disconnect never re-dials; GoDormant closes the link but keeps the
// supervisor armed (see GoDormant for the wake policy).
//
// # Concurrency
//
// Each link has exactly one reader goroutine and one writer goroutine, plus
// the transport's one supervisor goroutine. Every data frame, ping and pong,
// and the deliberate close frame of Disconnect and GoDormant, is written by
// the writer: callers queue requests on a channel, and the writer coalesces
// the requests queued at the same moment into one WebSocket message built
// in one reused buffer, with a write deadline on every write. Frames from
// one caller keep their order; frames from different callers are ordered
// by when they were queued.
//
// The reader writes close frames only, as the link ends: the WebSocket
// library's own while it reads (the echo of the peer's close, 1009 for an
// oversized message, 1002 for a protocol error, each with a one-second
// deadline) and the 1009 for a frame that outgrew ReadLimit across
// messages (with WriteTimeout). They go through WriteControl, which the
// library allows beside a concurrent writer.
//
// The reader refreshes a read deadline of ReadTimeout on every message,
// ping and pong, so a half-open link is declared dead and re-dialed. It
// splits messages into frames, keeping a partial frame for the next message,
// and calls the handlers one frame at a time. Outbound results are matched
// to their callers by request id in any order; results for unknown or
// abandoned ids are ignored.
//
// # Outbound calls
//
// An outbound call takes one per-link lock to register, and one to be
// resolved; it never takes the transport-wide lock. Its caller is woken
// once, by its outcome: the reader sends the connector's result, the
// writer a write failure, the link's end a lost or closed result, and the
// link's sweeper a timeout. Call records and their result channel are
// pooled. The writer, woken by a first queued frame, yields the processor
// once before it writes, so that callers made runnable by the same inbound
// message queue their frames into the same WebSocket message.
//
// OutboundTimeout runs from the write of the call's frame. There is no
// timer per call: one sweeper timer per link, armed while written calls
// wait, times out every call whose deadline passed, then sleeps until the
// earliest deadline left but at least a sixteenth of OutboundTimeout
// (between 1 ms and 1 s). A call therefore times out between
// OutboundTimeout and OutboundTimeout plus that step (30 s to 31 s by
// default), never earlier.
//
// Request ids are 32 lowercase hex digits: the AES-128 encryption of a
// random 64-bit prefix and a 64-bit counter, under a key drawn from
// crypto/rand when the transport is built. The ids of a transport never
// repeat (AES is a permutation), and without the key they cannot be told
// from random or predicted from earlier ones; minting one costs a block
// encryption instead of a system call.
//
// A handler runs on the reader: it must return quickly; a panic in it is
// recovered and logged, and the reader goes on. A handler must not call
// Disconnect or GoDormant synchronously: both wait for the reader
// (GoDormant for the going_idle_ack it reads), so from a handler GoDormant
// always fails once IdleAckTimeout passes and Disconnect only ends by its
// context. Call them from another goroutine. While a handler blocks,
// Disconnect still returns when its context ends, and the link finishes
// once the handler returns.
//
// All exported methods are safe for concurrent use, except that
// SetHandlers is meant to be called before Connect. Disconnect waits for
// every goroutine of the transport to end.
//
// # Known limits
//
//   - Connect makes a single attempt; background re-dialing starts only
//     after a first successful dial.
//   - An inbound_ack is dropped, not queued, when no link is up or the write
//     queue (256 requests) is full; the connector then replays the delivery
//     after the next handshake.
//   - A descriptor that lacks a required key is logged and skipped; if no
//     valid descriptor follows, Handshake times out.
//   - A message larger than ReadLimit, or a frame that grows beyond it
//     across messages, closes the link with code 1009 and is re-dialed like
//     any unexpected close: a connector that keeps sending it makes the
//     transport flap with backoff.
package wsrelay
