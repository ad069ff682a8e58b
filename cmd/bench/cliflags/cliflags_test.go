package cliflags

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

func parse(t *testing.T, args ...string) *Data {
	t.Helper()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	d := &Data{FS: fs}
	fs.Int64Var(&d.Events, "events", 0, "")
	d.AddSkew("")
	require.NoError(t, fs.Parse(args))
	return d
}

// TestSpec: the skew flags select the dataset's default, in-order data or
// a skew, and a bad value is refused naming its flag.
func TestSpec(t *testing.T) {
	s, err := parse(t).Spec()
	require.NoError(t, err)
	assert.Equal(t, compare.DataSpec{}, s, "no flags: the dataset's default")

	s, err = parse(t, "--out-of-order", "0", "--late", "0").Spec()
	require.NoError(t, err)
	assert.True(t, s.InOrder, "a zero skew is in-order data")

	s, err = parse(t, "--out-of-order", "0.2", "--max-delay", "2s").Spec()
	require.NoError(t, err)
	assert.Equal(t, datasets.Skew{OutOfOrder: 0.2, Delay: 2 * time.Second}, s.Skew, "no late records: no late delay")

	for args, want := range map[[2]string]string{
		{"--out-of-order", "1.5"}: "--out-of-order 1.5: want a share between 0 and 1",
		{"--late", "-1"}:          "--late -1: want a share between 0 and 1",
		{"--max-delay", "-1s"}:    "--max-delay -1s: want a duration of at least 1ms",
		{"--late-delay", "-1s"}:   "--late-delay -1s: want a duration of at least 2ms",
	} {
		_, err := parse(t, args[:]...).Spec()
		require.Error(t, err, "%v", args)
		assert.Contains(t, err.Error(), want)
	}
	_, err = parse(t, "--out-of-order", "0.6", "--late", "0.5").Spec()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "must add up to at most 1")
}

// TestFlagsSet: which flags the command line gave.
func TestFlagsSet(t *testing.T) {
	d := parse(t, "--late", "0.1", "--max-delay", "1s")
	assert.Equal(t, "max-delay", d.SkewFlagSet(), "the first in definition order")
	assert.False(t, d.EventsSet())
	d = parse(t, "--events", "5")
	assert.Empty(t, d.SkewFlagSet())
	assert.True(t, d.EventsSet())
}

func TestCheckOutPath(t *testing.T) {
	for _, p := range []string{"", "r.csv", "d/r.parquet", "r.jsonl"} {
		assert.NoError(t, CheckOutPath(p), p)
	}
	for _, p := range []string{"r.json", "r", "r.csv.gz"} {
		assert.ErrorContains(t, CheckOutPath(p), "name the file .csv, .parquet or .jsonl", p)
	}
}

func TestExitCodeOf(t *testing.T) {
	assert.Equal(t, ExitUnsupported, ExitCodeOf(fmt.Errorf("run: %w", &dataflow.UnsupportedError{Reason: "r"})))
	assert.Equal(t, ExitUsage, ExitCodeOf(fmt.Errorf("run: %w", &compare.InputError{})))
	assert.Equal(t, ExitFailed, ExitCodeOf(errors.New("boom")))
}
