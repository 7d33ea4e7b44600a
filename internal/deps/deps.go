// Package deps pins module dependencies that the packages of this module use
// while they are being written. It is removed once every dependency has an
// importer of its own.
package deps

import (
	_ "github.com/gorilla/websocket"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/stretchr/testify/require"
	_ "go.uber.org/fx"
	_ "go.uber.org/goleak"
)
