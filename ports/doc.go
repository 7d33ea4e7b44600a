// Package ports declares the interfaces the relay core needs from the world
// around it: the transport that carries frames to and from a connector, the
// optional capabilities a transport may add, the event sink and session
// interrupter the gateway app implements, the fatal-error notifier, the scope
// store and the metrics observer.
//
// The package imports only the domain package. Adapters implement these
// interfaces; the app package composes them.
package ports
