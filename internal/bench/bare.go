package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
)

// BareClient is the baseline the relay is compared with: the simplest fast
// echo client one could write against a connector with gorilla/websocket
// and encoding/json, and no framework. One goroutine reads a message, splits
// it into lines, decodes each line with encoding/json and, for every inbound
// event, appends an outbound send frame echoing its text; the frames
// answering one message are written together as one message. It does not
// wait for outbound results (it decodes and drops them), keeps no scope
// table, no per-chat ordering, no queue, no timeouts and no reconnects.
//
// Dial it with DialBare and run it with Serve. It is used by one goroutine;
// Close may be called from another.
type BareClient struct {
	ws *websocket.Conn
}

// bareFrame is the part of a frame the bare client reads.
type bareFrame struct {
	Type  string `json:"type"`
	Event struct {
		Text      string `json:"text"`
		MessageID string `json:"message_id"`
		Source    struct {
			ChatID  string `json:"chat_id"`
			GuildID string `json:"guild_id"`
		} `json:"source"`
	} `json:"event"`
}

// DialBare dials url (a ws:// URL ending in /relay), says hello as one
// identity and waits for the descriptor.
func DialBare(ctx context.Context, url string) (*BareClient, error) {
	ws, resp, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("dial bare client: %w", err)
	}
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}

	hello := `{"type":"hello","platform":"` + benchPlatform + `","botId":"` + benchBot + "\"}\n"
	if err := ws.WriteMessage(websocket.TextMessage, []byte(hello)); err != nil {
		ws.Close()

		return nil, fmt.Errorf("bare client hello: %w", err)
	}

	if dl, ok := ctx.Deadline(); ok {
		_ = ws.SetReadDeadline(dl)
	}

	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			ws.Close()

			return nil, fmt.Errorf("bare client handshake: %w", err)
		}

		if bytes.Contains(msg, []byte(`"type":"descriptor"`)) {
			break
		}
	}

	_ = ws.SetReadDeadline(time.Time{})

	return &BareClient{ws: ws}, nil
}

// Serve runs the echo loop until the link closes. It returns nil when the
// peer or Close closed the link normally.
func (c *BareClient) Serve() error {
	var (
		msg     bytes.Buffer
		out     []byte
		pending []byte
		seq     uint64
		f       bareFrame
	)

	for {
		_, r, err := c.ws.NextReader()
		if err != nil {
			return closedOK(err)
		}

		msg.Reset()
		if _, err := msg.ReadFrom(r); err != nil {
			return closedOK(err)
		}

		data := msg.Bytes()
		if len(pending) > 0 {
			pending = append(pending, data...)
			data = pending
		}

		out = out[:0]
		for {
			nl := bytes.IndexByte(data, '\n')
			if nl < 0 {
				break
			}

			line := data[:nl]
			data = data[nl+1:]

			f = bareFrame{}
			if len(line) == 0 || json.Unmarshal(line, &f) != nil || f.Type != "inbound" {
				continue
			}

			seq++
			out = appendBareReply(out, seq, &f)
		}
		pending = append(pending[:0], data...)

		if len(out) > 0 {
			if err := c.ws.WriteMessage(websocket.TextMessage, out); err != nil {
				return closedOK(err)
			}
		}
	}
}

// Close closes the link; Serve then returns.
func (c *BareClient) Close() error {
	_ = c.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
		time.Now().Add(time.Second))

	if err := c.ws.Close(); err != nil {
		return fmt.Errorf("close bare client: %w", err)
	}

	return nil
}

func closedOK(err error) error {
	if websocket.IsCloseError(err, websocket.CloseNormalClosure) ||
		errors.Is(err, net.ErrClosed) {
		return nil
	}

	return fmt.Errorf("bare client: %w", err)
}

// appendBareReply appends the outbound send frame echoing one event.
func appendBareReply(dst []byte, seq uint64, f *bareFrame) []byte {
	dst = append(dst, `{"type":"outbound","requestId":"b`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `","action":{"op":"send","chat_id":`...)
	dst = appendJSONString(dst, f.Event.Source.ChatID)
	dst = append(dst, `,"content":`...)
	dst = appendJSONString(dst, f.Event.Text)
	dst = append(dst, `,"reply_to":`...)
	dst = appendJSONString(dst, f.Event.MessageID)
	dst = append(dst, `,"metadata":{"guild_id":`...)
	dst = appendJSONString(dst, f.Event.Source.GuildID)

	return append(dst, "}}}\n"...)
}

// appendJSONString appends s as a JSON string: printable ASCII as it is,
// anything else through encoding/json.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' ||
			c == '>' || c == '&' {
			b, _ := json.Marshal(s)

			return append(dst, b...)
		}
	}

	dst = append(dst, '"')
	dst = append(dst, s...)

	return append(dst, '"')
}
