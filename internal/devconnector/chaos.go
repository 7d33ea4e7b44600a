package devconnector

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ChaosKeys lists the keys a chaos spec accepts, in the order String writes
// them.
var ChaosKeys = []string{"drop", "expire", "delay", "noresult", "split", "batch", "drain"}

// ChaosSyntax describes the chaos spec, for help texts.
const ChaosSyntax = `A chaos spec is a comma-separated list of key=value faults; a RATE is a
probability in [0,1], a PERIOD a duration such as 30s (each period is
jittered to between half and one and a half of it):
  drop=RATE|PERIOD      cut the TCP connection without a close frame: per
                        frame written (RATE) or once per link (PERIOD)
  expire=RATE|PERIOD    close with 4401 "expired" after the handshake: per
                        handshake (RATE) or after PERIOD
  delay=RATE:MAX        hold that fraction of outbound results for a random
                        time up to MAX
  noresult=RATE         never answer that fraction of outbound actions
  split=RATE            cut that fraction of messages at random byte
                        positions into several WebSocket messages
  batch=RATE            with this key, queued frames go one per message and
                        each joins the previous one's message with RATE
  drain=PERIOD          planned drain: buffer the gateway's inbound, then
                        close its link with 1001 "going away"
Example: drop=0.01,expire=30s,delay=0.05:200ms,noresult=0.01,split=0.3,batch=0.3,drain=20s`

// Chaos is the set of faults a connector injects into its gateway links. The
// zero value injects nothing. Parse a spec with ParseChaos.
//
// Every random choice comes from one math/rand/v2 source per connector,
// seeded with Seed and guarded by a mutex, so a seed always yields the same
// sequence of choices. Which frame or link meets which choice still depends
// on the order in which concurrent links and callers reach the source.
type Chaos struct {
	// DropRate cuts the TCP connection, without a close frame, before a
	// frame with this probability: the frames before it are written, the
	// frame itself is lost, sometimes after a random prefix of its bytes.
	DropRate float64
	// DropEvery cuts each link once, this long (jittered) after it opened.
	DropEvery time.Duration

	// ExpireRate closes a link with 4401 "expired" right after its
	// handshake (and the replay of the buffer) with this probability.
	ExpireRate float64
	// ExpireEvery closes each link with 4401 "expired" this long
	// (jittered) after its handshake.
	ExpireEvery time.Duration

	// DelayRate holds an outbound result, with this probability, for a
	// uniformly random time up to DelayMax.
	DelayRate float64
	DelayMax  time.Duration

	// NoResultRate answers no result at all to an outbound action with this
	// probability. The action is still judged and recorded.
	NoResultRate float64

	// SplitRate cuts a WebSocket message, with this probability, at one to
	// three random byte positions into several messages.
	SplitRate float64

	// BatchRate, when set, changes how queued frames become messages: each
	// frame starts a new message unless, with this probability, it joins
	// the previous frame's. Without it, every frame queued at the moment of
	// a write shares one message, as without chaos.
	BatchRate float64

	// DrainEvery plans a drain of each link this long (jittered) after its
	// handshake. The connector cannot make a gateway go idle by protocol,
	// so it does the connector's half of a drain: it marks the gateway idle
	// (new deliveries are buffered), then closes the link with 1001 "going
	// away". The gateway re-dials as after any close, and the buffer
	// replays, each entry with its bufferId, on the next handshake.
	DrainEvery time.Duration

	// Seed seeds the chaos random source. It is not part of the spec.
	Seed uint64
}

// ReasonDrain is the close reason of a planned drain (code 1001).
const ReasonDrain = "going away: planned drain"

// Enabled reports whether c injects any fault.
func (c Chaos) Enabled() bool {
	c.Seed = 0

	return c != Chaos{}
}

// ParseChaos parses a chaos spec (see ChaosSyntax). An empty or blank spec
// is the zero Chaos. The error names the first bad item.
func ParseChaos(spec string) (Chaos, error) {
	var c Chaos
	if strings.TrimSpace(spec) == "" {
		return c, nil
	}

	seen := map[string]bool{}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		key, value, ok := strings.Cut(item, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || key == "" || value == "" {
			return Chaos{}, fmt.Errorf("chaos item %q is not key=value", item)
		}
		if seen[key] {
			return Chaos{}, fmt.Errorf("chaos key %q given twice", key)
		}
		seen[key] = true

		if err := c.set(key, value); err != nil {
			return Chaos{}, fmt.Errorf("chaos %s=%s: %w", key, value, err)
		}
	}

	return c, nil
}

func (c *Chaos) set(key, value string) error {
	var err error

	switch key {
	case "drop":
		c.DropRate, c.DropEvery, err = rateOrPeriod(value)
	case "expire":
		c.ExpireRate, c.ExpireEvery, err = rateOrPeriod(value)
	case "delay":
		rate, maxDelay, ok := strings.Cut(value, ":")
		if !ok {
			return errors.New("want RATE:MAX, such as 0.05:200ms")
		}
		if c.DelayRate, err = parseRate(rate); err != nil {
			return err
		}
		c.DelayMax, err = parsePeriod(maxDelay)
	case "noresult":
		c.NoResultRate, err = parseRate(value)
	case "split":
		c.SplitRate, err = parseRate(value)
	case "batch":
		c.BatchRate, err = parseRate(value)
	case "drain":
		c.DrainEvery, err = parsePeriod(value)
	default:
		return fmt.Errorf("unknown key (known: %s)", strings.Join(ChaosKeys, ", "))
	}

	return err
}

func rateOrPeriod(v string) (float64, time.Duration, error) {
	if r, err := parseRate(v); err == nil {
		return r, 0, nil
	}
	if d, err := parsePeriod(v); err == nil {
		return 0, d, nil
	}

	return 0, 0, errors.New("neither a rate in [0,1] nor a duration such as 30s")
}

func parseRate(v string) (float64, error) {
	r, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || r < 0 || r > 1 || r != r {
		return 0, fmt.Errorf("rate %q is not a number in [0,1]", v)
	}

	return r, nil
}

func parsePeriod(v string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration such as 30s", v)
	}

	return d, nil
}

// String returns the spec of c, which ParseChaos reads back to c without
// its Seed. The zero Chaos is "".
func (c Chaos) String() string {
	var items []string
	add := func(key, value string) { items = append(items, key+"="+value) }
	rate := func(r float64) string { return strconv.FormatFloat(r, 'g', -1, 64) }

	switch {
	case c.DropRate > 0:
		add("drop", rate(c.DropRate))
	case c.DropEvery > 0:
		add("drop", c.DropEvery.String())
	}
	switch {
	case c.ExpireRate > 0:
		add("expire", rate(c.ExpireRate))
	case c.ExpireEvery > 0:
		add("expire", c.ExpireEvery.String())
	}
	if c.DelayRate > 0 {
		add("delay", rate(c.DelayRate)+":"+c.DelayMax.String())
	}
	if c.NoResultRate > 0 {
		add("noresult", rate(c.NoResultRate))
	}
	if c.SplitRate > 0 {
		add("split", rate(c.SplitRate))
	}
	if c.BatchRate > 0 {
		add("batch", rate(c.BatchRate))
	}
	if c.DrainEvery > 0 {
		add("drain", c.DrainEvery.String())
	}

	return strings.Join(items, ",")
}

// Validate reports every problem of c at once: rates outside [0,1],
// negative periods, a delay rate without a maximum, and a fault given both
// as a rate and as a period.
func (c Chaos) Validate() error {
	var errs []error

	for _, r := range []struct {
		name string
		v    float64
	}{
		{"drop rate", c.DropRate}, {"expire rate", c.ExpireRate},
		{"delay rate", c.DelayRate}, {"noresult rate", c.NoResultRate},
		{"split rate", c.SplitRate}, {"batch rate", c.BatchRate},
	} {
		if r.v < 0 || r.v > 1 || r.v != r.v {
			errs = append(errs, fmt.Errorf("chaos %s %v is not in [0,1]", r.name, r.v))
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"drop period", c.DropEvery}, {"expire period", c.ExpireEvery},
		{"delay max", c.DelayMax}, {"drain period", c.DrainEvery},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("chaos %s %s is negative", d.name, d.v))
		}
	}
	if c.DelayRate > 0 && c.DelayMax <= 0 {
		errs = append(errs, errors.New("chaos delay rate set without a maximum delay"))
	}
	if c.DropRate > 0 && c.DropEvery > 0 {
		errs = append(errs, errors.New("chaos drop is given both as a rate and a period"))
	}
	if c.ExpireRate > 0 && c.ExpireEvery > 0 {
		errs = append(errs, errors.New("chaos expire is given both as a rate and a period"))
	}

	return errors.Join(errs...)
}

// ChaosStats counts the faults a connector injected.
type ChaosStats struct {
	// Drops counts links cut without a close frame.
	Drops int
	// Expired counts links closed with 4401 "expired".
	Expired int
	// Drains counts planned drains (links closed with 1001).
	Drains int
	// Delayed and Withheld count outbound results held back and never
	// sent.
	Delayed  int
	Withheld int
	// Splits counts messages cut into several; Batched counts messages
	// that carried more than one frame while batch chaos was on.
	Splits  int
	Batched int
}

// chaosSource is the connector's one random source for chaos choices.
type chaosSource struct {
	cfg Chaos

	mu  sync.Mutex
	rng *rand.Rand
}

func newChaosSource(cfg Chaos) *chaosSource {
	return &chaosSource{
		cfg: cfg,
		rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
	}
}

// chance reports true with probability p; it draws nothing when p is 0.
func (s *chaosSource) chance(p float64) bool {
	if p <= 0 {
		return false
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	return s.rng.Float64() < p
}

// jitter returns a duration in [d/2, 3d/2), or 0 when d is 0.
func (s *chaosSource) jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	return d/2 + time.Duration(s.rng.Int64N(int64(d)))
}

// resultFate decides what becomes of one outbound result: withheld, or held
// for a delay (0 for at once).
func (s *chaosSource) resultFate() (withhold bool, delay time.Duration) {
	if s.cfg.NoResultRate <= 0 && s.cfg.DelayRate <= 0 {
		return false, 0
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	if s.cfg.NoResultRate > 0 && s.rng.Float64() < s.cfg.NoResultRate {
		return true, 0
	}
	if s.cfg.DelayRate > 0 && s.rng.Float64() < s.cfg.DelayRate {
		return false, time.Duration(s.rng.Int64N(int64(s.cfg.DelayMax) + 1))
	}

	return false, 0
}

// shapesWrites reports whether writes go through plan.
func (s *chaosSource) shapesWrites() bool {
	return s.cfg.DropRate > 0 || s.cfg.SplitRate > 0 || s.cfg.BatchRate > 0
}

// writePlan is how one batch of queued frames is written.
type writePlan struct {
	// msgs are written in order, one WebSocket message each.
	msgs [][]byte
	// drop cuts the connection after msgs.
	drop    bool
	splits  int
	batched int
}

// plan cuts a batch of whole frames (each ending in a newline) into
// messages, and decides whether the link is cut before one of them.
func (s *chaosSource) plan(batch []byte) writePlan {
	s.mu.Lock()
	defer s.mu.Unlock()

	var frames [][]byte
	for len(batch) > 0 {
		end := len(batch)
		if i := slices.Index(batch, '\n'); i >= 0 {
			end = i + 1
		}
		frames = append(frames, batch[:end])
		batch = batch[end:]
	}

	var p writePlan
	var cur []byte
	count := 0
	emit := func() {
		if len(cur) > 0 {
			if count > 1 && s.cfg.BatchRate > 0 {
				p.batched++
			}
			p.msgs = append(p.msgs, cur)
		}
		cur, count = nil, 0
	}

	for _, f := range frames {
		if s.cfg.DropRate > 0 && s.rng.Float64() < s.cfg.DropRate {
			if s.rng.IntN(2) == 0 {
				cur = append(cur, f[:s.rng.IntN(len(f))]...)
			}
			p.drop = true

			break
		}
		if s.cfg.BatchRate > 0 && count > 0 && s.rng.Float64() >= s.cfg.BatchRate {
			emit()
		}
		cur = append(cur, f...)
		count++
	}
	emit()

	if s.cfg.SplitRate > 0 {
		var out [][]byte
		for _, m := range p.msgs {
			if len(m) < 2 || s.rng.Float64() >= s.cfg.SplitRate {
				out = append(out, m)
				continue
			}
			cuts := make([]int, 1+s.rng.IntN(3))
			for i := range cuts {
				cuts[i] = 1 + s.rng.IntN(len(m)-1)
			}
			slices.Sort(cuts)
			cuts = slices.Compact(cuts)
			prev := 0
			for _, at := range cuts {
				out = append(out, m[prev:at])
				prev = at
			}
			out = append(out, m[prev:])
			p.splits++
		}
		p.msgs = out
	}

	return p
}
