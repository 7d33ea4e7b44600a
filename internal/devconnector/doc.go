// Package devconnector is a development connector: a local stand-in for the
// service that owns the real chat platform sockets. Gateways dial it exactly
// as they dial a production connector; people and tests drive it through a
// small HTTP API or its Go methods.
//
// # What it does
//
//   - Serves the relay WebSocket endpoint on /relay, checks each gateway's
//     upgrade token against the configured secrets (several per gateway, for
//     rotation), answers every hello with a capability descriptor.
//   - Delivers inbound message events, Discord interactions (as passthrough
//     forwards) and interrupts to the connected gateway.
//   - Answers outbound actions the way a real connector guards egress: a
//     reply must name a guild (or scope) that inbound traffic onboarded, or,
//     in a DM, the author the connector itself delivered. A non-empty
//     guild_id alone decides; scope_id is read only without one. Anything
//     else is declined with DeclinedError.
//   - Buffers inbound while a gateway is idle (after going_idle) or away,
//     replays the buffer in order after its next handshake, and drops each
//     entry only when the gateway acknowledges it, so nothing is lost and
//     nothing acknowledged is delivered again.
//   - Records every outbound action with its verdict, and every interrupt a
//     gateway sent, for inspection.
//
// # HTTP API
//
//	GET  /relay            the gateway WebSocket endpoint
//	POST /v1/inbound       an event object, or {"event": {...}, "gateway_id": "..."}
//	POST /v1/interactions  a Discord interaction body, forwarded byte for byte
//	                       (optional query parameter gateway_id)
//	POST /v1/interrupt     {"session_key": "...", "chat_id": "...", "gateway_id"?: "..."}
//	POST /v1/revoke        {"gateway_id": "..."}: close its links with 4401
//	                       "revoked" and refuse its secrets from now on
//	GET  /v1/outbound      what gateways sent: outbound actions and interrupts
//	GET  /v1/stats         delivery counters
//
// Posts answer 202 with a JSON receipt; a body that is not what the endpoint
// expects gets 400 with {"error": "..."} saying what is wrong. A revoke of
// a gateway that is neither configured nor ever seen gets 404. A revocation
// lasts until the connector stops: it is not written anywhere.
//
// # Choices a real connector may make differently
//
//   - An expired upgrade token is accepted at the HTTP level and the socket
//     is then closed with code 4401 and reason "expired", so a gateway can
//     tell a stale token from a revoked secret. A missing, malformed or
//     wrongly signed token is refused with HTTP 401 at the upgrade.
//   - A gateway has at most one live link: when a second link of the same
//     gateway completes its handshake, the older one is closed with 1001.
//   - Inbound that names no gateway goes to the gateway that most recently
//     completed a handshake; before any handshake, to the only configured
//     gateway, or, when there are several, to whichever gateway completes a
//     handshake first.
//   - A buffered entry keeps the bufferId it was given when it was buffered,
//     across every replay, so a late acknowledgement still matches it.
//   - Live deliveries (to a connected, non-idle gateway) carry no bufferId
//     and are not acknowledged, as the wire contract says: a link that
//     breaks at that moment may lose one.
//   - A follow_up succeeds when its session key contains the channel id of
//     a Discord interaction delivered to that gateway: gateways build
//     session keys from the chat id, and that is all this connector can
//     check without a credential vault.
//   - Onboarding is per gateway and happens when a delivery is written to
//     the gateway's socket, live or replayed.
//
// # Chaos
//
// Config.Chaos injects faults into gateway links, to soak-test gateways
// against the failures a real network and a real connector produce. A spec
// string (ParseChaos, ChaosSyntax) names each fault with a rate or a
// period, for example
//
//	drop=0.01,expire=30s,delay=0.05:200ms,noresult=0.01,split=0.3,batch=0.3,drain=20s
//
// The faults:
//
//   - drop: the TCP connection is cut without a close frame, before a frame
//     (rate per frame written; sometimes after part of that frame's bytes)
//     or once per link after a period.
//   - expire: the link is closed with 4401 "expired" right after its
//     handshake (rate per handshake) or a period after it. A gateway must
//     treat it as a stale token, never as a revocation.
//   - delay and noresult: an outbound result is held for a random time up
//     to a maximum, or never sent; the gateway's own timeout must answer
//     its caller.
//   - split and batch: a message is cut at random byte positions into
//     several WebSocket messages; queued frames are written one per message
//     or several per message.
//   - drain: a planned drain. The connector cannot make a gateway go idle
//     or dormant by protocol (only the gateway sends going_idle), so it
//     plays the connector's half: it marks the gateway idle, so deliveries
//     buffer, and closes the link with 1001 "going away: planned drain".
//     The gateway re-dials like after any close, and the buffer replays
//     with its bufferIds on the next handshake. A gateway-driven dormant
//     cycle (going_idle, ack, close, re-dial) is the gateway's to start;
//     the soak in internal/soak drives it through the adapter's GoDormant.
//
// All choices come from one math/rand/v2 source per connector seeded with
// Chaos.Seed and guarded by a mutex: a seed always yields the same sequence
// of choices, though which frame meets which choice depends on the timing
// of concurrent links. Periods are jittered to between half and one and a
// half of their value. Stats.Chaos counts what was injected.
//
// Config.AlwaysBuffer sends every delivery through the buffer, even to a
// live link, so a broken link loses nothing: each delivery reaches the
// gateway at least once and stays pending until acknowledged. It is the
// mode to count deliveries exactly under chaos.
//
// # Concurrency
//
// Every method of a Connector is safe for concurrent use. New starts no
// goroutine; each accepted gateway link runs one reader and one writer
// goroutine until it closes, and Close waits for all of them.
package devconnector
