package devconnector

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/relay-go/relay/wire"
)

// maxBody bounds the body of an API request.
const maxBody = 1 << 20

func (c *Connector) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+wire.DialPath, c.serveRelay)
	mux.HandleFunc("POST /v1/inbound", c.postInbound)
	mux.HandleFunc("POST /v1/interactions", c.postInteraction)
	mux.HandleFunc("POST /v1/interrupt", c.postInterrupt)
	mux.HandleFunc("POST /v1/revoke", c.postRevoke)
	mux.HandleFunc("GET /v1/outbound", c.getOutbound)
	mux.HandleFunc("GET /v1/stats", c.getStats)

	return mux
}

// receiptJSON is the answer to a delivery post.
type receiptJSON struct {
	Status    DeliveryStatus `json:"status"`
	GatewayID string         `json:"gateway_id"`
	BufferID  string         `json:"bufferId,omitempty"`
}

func (c *Connector) postInbound(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}

	event, gatewayID, err := parseInbound(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !c.knownGateway(gatewayID) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown gateway_id %q", gatewayID))
		return
	}

	ev, _ := wire.DecodeEvent(event)
	rc, err := c.deliver(gatewayID, &entry{event: event, learn: learnEvent(ev)})
	c.writeReceipt(w, rc, err)
}

func (c *Connector) postInteraction(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if err := checkObject(body, "interaction"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}

	gatewayID := r.URL.Query().Get("gateway_id")
	if !c.knownGateway(gatewayID) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown gateway_id %q", gatewayID))
		return
	}

	rc, err := c.deliverInteraction(gatewayID, body)
	c.writeReceipt(w, rc, err)
}

func (c *Connector) postInterrupt(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if err := checkObject(body, "interrupt"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}

	var in struct {
		SessionKey *string `json:"session_key"`
		ChatID     *string `json:"chat_id"`
		GatewayID  *string `json:"gateway_id"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "interrupt: "+describeJSONError(err))
		return
	}
	if in.SessionKey == nil || *in.SessionKey == "" {
		writeError(w, http.StatusBadRequest, "interrupt: session_key is required")
		return
	}

	err := c.interrupt(deref(in.GatewayID), *in.SessionKey, deref(in.ChatID))
	switch {
	case errors.Is(err, ErrNotConnected):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, ErrClosed):
		writeError(w, http.StatusServiceUnavailable, err.Error())
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	default:
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "sent"})
	}
}

// postRevoke revokes a gateway: {"gateway_id": "..."}. It answers 202 with
// the number of links closed, 400 for a bad body, 404 for a gateway the
// connector does not know.
func (c *Connector) postRevoke(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if err := checkObject(body, "revoke"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}

	var in struct {
		GatewayID *string `json:"gateway_id"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "revoke: "+describeJSONError(err))
		return
	}
	if in.GatewayID == nil || *in.GatewayID == "" {
		writeError(w, http.StatusBadRequest, "revoke: gateway_id is required")
		return
	}

	links, known := c.revokeKnown(*in.GatewayID)
	if !known {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown gateway_id %q", *in.GatewayID))
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{
		"status": "revoked", "gateway_id": *in.GatewayID, "links": links,
	})
}

// outboundJSON is one entry of GET /v1/outbound.
type outboundJSON struct {
	GatewayID string          `json:"gateway_id"`
	RequestID string          `json:"requestId"`
	Platform  string          `json:"platform,omitempty"`
	BotID     string          `json:"botId,omitempty"`
	Action    json.RawMessage `json:"action"`
	Result    json.RawMessage `json:"result"`
	Time      time.Time       `json:"time"`
}

type interruptJSON struct {
	GatewayID  string    `json:"gateway_id"`
	SessionKey string    `json:"session_key"`
	Reason     *string   `json:"reason"`
	Time       time.Time `json:"time"`
}

func (c *Connector) getOutbound(w http.ResponseWriter, _ *http.Request) {
	records, interrupts := c.Outbound(), c.Interrupts()

	out := struct {
		Outbound   []outboundJSON  `json:"outbound"`
		Interrupts []interruptJSON `json:"interrupts"`
	}{Outbound: []outboundJSON{}, Interrupts: []interruptJSON{}}

	for _, r := range records {
		action := json.RawMessage(r.RawAction)
		if !json.Valid(action) {
			action = json.RawMessage("null")
		}
		out.Outbound = append(out.Outbound, outboundJSON{
			GatewayID: r.GatewayID,
			RequestID: r.RequestID,
			Platform:  r.Platform,
			BotID:     r.BotID,
			Action:    action,
			Result:    verdict{result: r.Result, chatInfo: r.ChatInfo}.raw(),
			Time:      r.Time,
		})
	}
	for _, r := range interrupts {
		out.Interrupts = append(out.Interrupts, interruptJSON(r))
	}

	writeJSON(w, http.StatusOK, out)
}

func (c *Connector) getStats(w http.ResponseWriter, _ *http.Request) {
	s := c.Stats()
	writeJSON(w, http.StatusOK, map[string]int{
		"delivered":  s.Delivered,
		"buffered":   s.Buffered,
		"replayed":   s.Replayed,
		"acked":      s.Acked,
		"pending":    s.Pending,
		"outbound":   s.Outbound,
		"declined":   s.Declined,
		"interrupts": s.Interrupts,
		"handshakes": s.Handshakes,
		"connected":  s.Connected,

		"buffered_live":  s.BufferedLive,
		"chaos_drops":    s.Chaos.Drops,
		"chaos_expired":  s.Chaos.Expired,
		"chaos_drains":   s.Chaos.Drains,
		"chaos_delayed":  s.Chaos.Delayed,
		"chaos_withheld": s.Chaos.Withheld,
		"chaos_splits":   s.Chaos.Splits,
		"chaos_batched":  s.Chaos.Batched,
	})
}

// knownGateway reports whether an explicit gateway id may receive
// deliveries: any id in open mode, else a configured one.
func (c *Connector) knownGateway(id string) bool {
	if id == "" || c.cfg.Open {
		return true
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.secrets[id]

	return ok
}

func (c *Connector) writeReceipt(w http.ResponseWriter, rc DeliveryReceipt, err error) {
	switch {
	case errors.Is(err, ErrClosed):
		writeError(w, http.StatusServiceUnavailable, err.Error())
	case err != nil:
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		writeJSON(w, http.StatusAccepted, receiptJSON{
			Status: rc.Status, GatewayID: rc.GatewayID, BufferID: rc.BufferID,
		})
	}
}

// parseInbound reads the body of POST /v1/inbound: either an event object,
// or an envelope {"event": {...}, "gateway_id": "..."}. It returns the
// compact event JSON and the gateway id, or an error saying what is wrong.
func parseInbound(body []byte) ([]byte, string, error) {
	if err := checkObject(body, "inbound"); err != nil {
		return nil, "", err
	}

	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, "", fmt.Errorf("inbound: %s", describeJSONError(err))
	}

	event, gatewayID := json.RawMessage(body), ""
	if inner, ok := top["event"]; ok {
		event = inner
		if raw, ok := top["gateway_id"]; ok {
			if err := json.Unmarshal(raw, &gatewayID); err != nil {
				return nil, "", errors.New("inbound: gateway_id must be a string")
			}
		}
	}

	if err := checkObject(event, "event"); err != nil {
		return nil, "", err
	}
	ev, err := wire.DecodeEvent(event)
	if err != nil {
		return nil, "", errors.New("event must be a JSON object")
	}
	if ev.Source.ChatID == "" {
		return nil, "", errors.New("event: source.chat_id is required")
	}

	var compact bytes.Buffer
	if err := json.Compact(&compact, event); err != nil {
		return nil, "", fmt.Errorf("event: %s", describeJSONError(err))
	}

	return compact.Bytes(), gatewayID, nil
}

// checkObject fails, naming what, when b is not one JSON object.
func checkObject(b []byte, what string) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("%s: body is not valid JSON: %s", what, describeJSONError(err))
	}
	if dec.More() {
		return fmt.Errorf("%s: body holds more than one JSON value", what)
	}
	if _, ok := v.(map[string]any); !ok {
		return fmt.Errorf("%s: must be a JSON object, got %s", what, jsonKind(v))
	}

	return nil
}

func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("%s at byte %d", syn.Error(), syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must be %s, got %s", typ.Field, typ.Type, typ.Value)
	case errors.Is(err, io.EOF):
		return "empty body"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of body"
	default:
		return err.Error()
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	default:
		return "something else"
	}
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("body exceeds %d bytes", maxBody))
		} else {
			writeError(w, http.StatusBadRequest, "read body: "+err.Error())
		}

		return nil, false
	}

	return body, true
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}

	return *s
}
