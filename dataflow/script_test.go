package dataflow_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/script"
)

// Helpers shared by the script tests (testdata/operator, testdata/watermark;
// format in internal/script). Times are milliseconds, written as integers,
// with -inf and +inf for MinTime and MaxTime and -inf+N for MinTime+N.

// scriptTime formats t as the script files write it.
func scriptTime(t dataflow.Time) string {
	switch t {
	case dataflow.MinTime:
		return "-inf"
	case dataflow.MaxTime:
		return "+inf"
	}
	return strconv.FormatInt(int64(t), 10)
}

// parseScriptTime reads a time written as scriptTime writes it.
func parseScriptTime(t *testing.T, c *script.Cmd, key, s string) dataflow.Time {
	t.Helper()
	switch {
	case s == "-inf":
		return dataflow.MinTime
	case s == "+inf":
		return dataflow.MaxTime
	case strings.HasPrefix(s, "-inf+"):
		n, err := strconv.ParseInt(s[len("-inf+"):], 10, 64)
		if err == nil && n >= 0 {
			return dataflow.MinTime + dataflow.Time(n)
		}
	default:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return dataflow.Time(n)
		}
	}
	t.Fatalf("%s: %s: %s=%q is not a time (ms, -inf, +inf or -inf+N)", c.Pos, c.Name, key, s)
	return 0
}

// scriptTimeArg returns the time argument key, or def when the command has
// none.
func scriptTimeArg(t *testing.T, c *script.Cmd, key string, def dataflow.Time) dataflow.Time {
	t.Helper()
	s, ok := c.Arg(key)
	if !ok {
		return def
	}
	return parseScriptTime(t, c, key, s)
}

// scriptIntArg returns the int argument key, or def when the command has
// none.
func scriptIntArg(t *testing.T, c *script.Cmd, key string, def int) int {
	t.Helper()
	if _, ok := c.Arg(key); !ok {
		return def
	}
	return c.Int(t, key)
}
