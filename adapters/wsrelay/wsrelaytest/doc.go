// Package wsrelaytest provides a connector for tests, in the spirit of
// net/http/httptest: a real WebSocket server on a loopback port that speaks
// the relay wire contract, so any gateway-side code can be tested over real
// sockets without a production connector.
//
// Start one with NewServer and point the gateway at URL(), which returns
// the plain http://127.0.0.1:<port> base URL (the gateway normalizes it to
// ws://…/relay):
//
//	srv := wsrelaytest.NewServer(t, wsrelaytest.WithSecrets("gw-1", "secret"))
//	tr, _ := wsrelay.New(wsrelay.Config{URL: srv.URL(), GatewayID: "gw-1",
//		Secret: "secret", Identities: []domain.Identity{{Platform: "discord", BotID: "b"}}})
//
// # What the server does by itself
//
//   - Upgrades on /relay only. With WithSecrets or SetSecrets it verifies
//     the bearer token of each upgrade with wire.VerifyToken (constant-time
//     comparison, several secrets per gateway for rotation, expiry judged by
//     WithNow's clock). A refused token is answered per AuthPolicy: HTTP 401
//     at the upgrade, or an accepted upgrade closed at once with code 4401;
//     either way with the reason "expired" or "unauthorized". Without
//     secrets every upgrade is accepted. SetRefuseStatus refuses every
//     upgrade with an HTTP status, to simulate an unavailable connector.
//   - Answers every hello with one descriptor: the one set for its platform
//     (WithDescriptor, SetDescriptor) or DefaultDescriptor (Discord, 2000
//     characters, discord markdown). WithoutDescriptors leaves hellos
//     unanswered.
//   - Answers every outbound action through the Responder (default: success
//     with a fresh message id); a Reply with Hold leaves it for Reply.
//   - Acknowledges going_idle (WithoutIdleAck turns that off) and answers
//     pings.
//
// # Scripting and observing
//
// Send writes raw bytes as one WebSocket message, so tests can split a
// frame across messages or batch several; SendInbound, SendForward,
// SendInterruptInbound, SendDescriptor and SendIdleAck build the frames.
// CloseLink sends a close code and reason, Drop closes the TCP socket
// without a close frame, and Stall makes the server stop reading (no
// frames, no pongs: a half-open link) until Resume.
//
// Everything the gateway sends is recorded in arrival order: NextDial,
// NextHello, NextOutbound, NextAck, NextInterrupt, NextGoingIdle and
// NextClose block until the next item or the context's end; Dials,
// DialCount, Pings and the Wait methods give counts.
//
// # Concurrency and shutdown
//
// Every method is safe for concurrent use. Sending methods act on the
// connection accepted last. Close closes every connection, stops the
// listener and waits for all of the server's goroutines, so tests using
// goleak stay clean; NewServer registers it as a cleanup when given a
// testing.TB.
package wsrelaytest
