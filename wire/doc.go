// Package wire speaks version 1 of the relay wire contract: the dial URL,
// the upgrade token, newline-delimited JSON frames, and the JSON shapes of
// events, actions, results and passthrough forwards.
//
// Both sides use it: the gateway's WebSocket transport and connector-side
// code such as test and development connectors. The package does no I/O and
// starts no goroutine; every function is safe for concurrent use. A Splitter
// is not: it belongs to one reader.
//
// Decoders are tolerant in the way the contract asks: unknown keys are
// ignored, missing optional keys take their defaults, and scalar values of
// an unexpected JSON type (a number where a string was expected) are read as
// their text rather than failing the whole frame.
//
// Known limit: keys are meant to be exact, but a frame whose key differs
// from a known one only by letter case (such as "Type") is decoded by
// encoding/json, which matches keys without regard to case, so "Type" is
// read as "type" rather than ignored. Connectors write the exact keys, so
// this only matters for a peer that deliberately sends both spellings.
package wire
