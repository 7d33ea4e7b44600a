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
package wire
