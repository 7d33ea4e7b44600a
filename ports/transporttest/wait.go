package transporttest

import (
	"testing"
	"time"
)

// WaitTimeout is how long the suite waits for something that should
// happen promptly.
const WaitTimeout = 5 * time.Second

// WaitFor returns the next value received from ch, failing the test when
// none arrives within timeout or ch is closed first.
func WaitFor[T any](t testing.TB, ch <-chan T, timeout time.Duration) T {
	t.Helper()

	timer := time.NewTimer(timeout)
	defer timer.Stop()

	var zero T
	select {
	case v, ok := <-ch:
		if ok {
			return v
		}
		t.Fatalf("channel closed before a value arrived")
	case <-timer.C:
		t.Fatalf("nothing arrived within %s", timeout)
	}

	return zero
}
