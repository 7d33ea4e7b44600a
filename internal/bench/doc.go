// Package bench measures the relay end to end on one machine.
//
// A Harness serves a lean bench Connector on 127.0.0.1 and floods inbound
// events at a client: either the production gateway stack (the wsrelay
// transport, the relay adapter and the echo agent) or a BareClient, the
// simplest fast echo loop one could write with gorilla/websocket and
// encoding/json. The connector answers every outbound frame with a
// successful result, times each reply against the inbound event it names
// (its reply_to carries the event's message_id), and batches the frames it
// writes the same way for every client.
//
// Everything runs in one process: allocation, CPU and memory figures
// include the connector's share. Compare the relay's figures with the bare
// client's, measured in the same run, rather than reading them alone.
package bench
