package metrics

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// RSS returns the process's resident set size in bytes, read from
// /proc/self/status (VmRSS): the memory figure of an unbounded run's
// flat-memory claim. Where /proc is missing (not Linux) it returns an
// error; report the run's memory another way there.
func RSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("metrics: resident memory: %w", err)
	}
	return parseRSS(b)
}

// parseRSS reads the VmRSS line of a /proc/PID/status file.
func parseRSS(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		line := sc.Bytes()
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("metrics: resident memory: unexpected VmRSS line %q", line)
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil || kb < 0 {
			return 0, fmt.Errorf("metrics: resident memory: unexpected VmRSS line %q", line)
		}
		return kb * 1024, nil
	}
	return 0, errors.New("metrics: resident memory: no VmRSS line in /proc/self/status")
}
