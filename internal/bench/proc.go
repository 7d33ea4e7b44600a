package bench

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procStatusBytes returns a "kB" field of /proc/self/status, such as VmHWM
// or VmRSS, in bytes, and whether it could be read.
func procStatusBytes(field string) (uint64, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()

	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}

		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, false
		}

		return kb << 10, true
	}

	return 0, false
}

// PeakRSS returns the process's peak resident set size (VmHWM) in bytes, and
// the source it was read from. Where /proc is missing it falls back to the
// memory the Go runtime obtained from the system (runtime.MemStats.Sys),
// which bounds the Go heap and stacks but not memory allocated outside Go.
func PeakRSS() (uint64, string) {
	if b, ok := procStatusBytes("VmHWM"); ok {
		return b, "VmHWM"
	}

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)

	return ms.Sys, "runtime.MemStats.Sys"
}

// CurrentRSS returns the process's resident set size (VmRSS) in bytes, with
// the same fallback as PeakRSS.
func CurrentRSS() (uint64, string) {
	if b, ok := procStatusBytes("VmRSS"); ok {
		return b, "VmRSS"
	}

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)

	return ms.Sys, "runtime.MemStats.Sys"
}

// CPUTime returns the user and system CPU time the process used so far,
// from getrusage; zero when it is unavailable.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}

	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
