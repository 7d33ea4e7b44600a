// Package transporttest is the conformance suite every ports.Transport
// passes. A transport's own tests call Run with a factory of Harness values;
// the suite drives the transport through the ports.Transport contract and
// the connector side through the Harness, and checks handshakes, result
// correlation, ordering, interrupts both ways, forwards, buffered delivery
// acknowledgements, going idle, close and timeout semantics.
//
// # Running the suite against a transport
//
// Implement Harness over the transport and a connector it can reach: for an
// in-process transport, its own connector; for a network transport, a
// loopback test connector listening on 127.0.0.1. The factory builds a
// fresh, unconnected transport and a connector that accepts its dial, with
// the timings of the Settings it is given. Declare what the harness cannot
// do in Features; those tests are skipped. Then:
//
//	func TestConformance(t *testing.T) {
//		transporttest.Run(t, transporttest.Features{},
//			func(t *testing.T, s transporttest.Settings) transporttest.Harness {
//				conn := newLoopbackConnector(t) // the team's own test connector
//				tr := mytransport.New(mytransport.Config{
//					URL:             conn.URL(),
//					OutboundTimeout: s.OutboundTimeout,
//					CloseGrace:      s.CloseGrace,
//				})
//				return &harness{tr: tr, conn: conn}
//			})
//	}
//
// The suite connects the transport itself (SetHandlers, Connect,
// Handshake) and disconnects it before calling Harness.Close. Subtests run
// in parallel, each with its own harness, and never sleep: every wait is on
// a channel or a context with a timeout. A transport that implements
// ports.Idler also runs the going-idle test.
//
// The package is meant for tests only: it imports testing and testify.
package transporttest
