// Package cliflags is the command-line wiring that weir's commands share:
// bench (cmd/bench) and weirbeam (beam/cmd/weirbeam, in the beam module,
// which cannot import package main) define, default and check the data
// flags, the --out path and the exit statuses through it, so the two
// spell them the same way.
//
// The data flags are --events, --event-rate, --seed, --partitions and the
// four skew flags of datasets.Skew (--out-of-order, --max-delay, --late,
// --late-delay). A command defines the first four itself with [Data]'s
// fields as targets, since their help text says what the command does
// with them (bench run's --seed also seeds fault injection; Beam reads a
// partition with one restriction), then calls [Data.AddSkew] for the
// skew flags, whose help and defaults are the same everywhere. After
// parsing, [Data.Spec] checks the values, naming the flag to change and
// its valid range, and returns the compare.DataSpec they select.
//
// It lives under cmd/bench (not internal/) because it names flags in its
// errors and imports compare, which internal/lint allows only there.
package cliflags

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// Exit statuses of weir's commands.
const (
	ExitOK          = 0 // the command completed (a run's check result is in its output)
	ExitFailed      = 1 // the run failed
	ExitUsage       = 2 // bad flags or input
	ExitUnsupported = 3 // the model cannot express the workload
)

// ExitCodeOf maps a run's error to the exit status: [ExitUnsupported] when
// the model cannot express the workload (a dataflow.UnsupportedError),
// [ExitUsage] for unusable input (a compare.InputError), [ExitFailed]
// otherwise.
func ExitCodeOf(err error) int {
	var unsupported *dataflow.UnsupportedError
	var input *compare.InputError
	switch {
	case errors.As(err, &unsupported):
		return ExitUnsupported
	case errors.As(err, &input):
		return ExitUsage
	}
	return ExitFailed
}

// outFormats are the endings of the results files --out writes.
var outFormats = []string{".csv", ".parquet", ".jsonl"}

// CheckOutPath rejects an --out whose format is unknown before the run: ""
// (no file) and a name ending .csv, .parquet or .jsonl pass. The error
// does not name the flag; the caller prefixes it.
func CheckOutPath(path string) error {
	if path == "" {
		return nil
	}
	for _, ext := range outFormats {
		if strings.HasSuffix(path, ext) {
			return nil
		}
	}
	return errors.New("unknown format; name the file .csv, .parquet or .jsonl")
}

// DefaultLateDelay is the --late-delay default: late records are delayed by
// 15 to 30 s, beyond the 5 s watermark bound of every event-time workload, so
// a runtime drops them as late. (datasets.DefaultSkew has no late records
// and so no late delay.)
const DefaultLateDelay = 30 * time.Second

// skewFlags are the names of the flags of datasets.Skew, in definition order.
var skewFlags = []string{"out-of-order", "max-delay", "late", "late-delay"}

// Data holds the data flags' values. The command defines --events,
// --event-rate, --seed and --partitions on FS with the fields as targets
// (their help is the command's), and the skew flags with [Data.AddSkew].
type Data struct {
	FS         *flag.FlagSet
	Events     int64
	EventRate  float64
	Seed       uint64
	Partitions int
	// The generator's skew (datasets.Skew).
	OutOfOrder float64
	Delay      time.Duration
	Late       float64
	LateDelay  time.Duration
}

// AddSkew defines the four skew flags on d.FS, each help text prefixed by
// builtin (a command that also reads --input says "built-in data: ").
func (d *Data) AddSkew(builtin string) {
	fs := d.FS
	def := datasets.DefaultSkew()
	fs.Float64Var(&d.OutOfOrder, "out-of-order", def.OutOfOrder, builtin+"share (0..1) of records that arrive out of order, "+
		"each delayed uniformly by 0..--max-delay (with --late 0 too: records arrive in event-time order)")
	fs.DurationVar(&d.Delay, "max-delay", def.Delay, builtin+"largest arrival delay of out-of-order records (at least 1ms when --out-of-order is above 0)")
	fs.Float64Var(&d.Late, "late", def.Late, builtin+"share (0..1) of very late records, each delayed uniformly by "+
		"--late-delay/2..--late-delay; --out-of-order plus --late at most 1")
	fs.DurationVar(&d.LateDelay, "late-delay", DefaultLateDelay, builtin+"largest delay of late records (at least 2ms when --late is above 0); "+
		"the default's 15-30s delays are beyond the workloads' 5s watermark bound")
}

// Spec checks the flags, naming the one to change and its valid range, and
// returns the data they select (no --rate, no --input: the command adds
// those). Skew flags that select datasets.DefaultSkew leave the dataset's
// default; a zero skew selects in-order data.
func (d *Data) Spec() (compare.DataSpec, error) {
	switch {
	case !(d.OutOfOrder >= 0 && d.OutOfOrder <= 1):
		return compare.DataSpec{}, fmt.Errorf("--out-of-order %v: want a share between 0 and 1", d.OutOfOrder)
	case !(d.Late >= 0 && d.Late <= 1):
		return compare.DataSpec{}, fmt.Errorf("--late %v: want a share between 0 and 1", d.Late)
	case d.OutOfOrder+d.Late > 1:
		return compare.DataSpec{}, fmt.Errorf("--out-of-order %v and --late %v: the two shares must add up to at most 1", d.OutOfOrder, d.Late)
	case d.Delay < 0 || (d.OutOfOrder > 0 && d.Delay < time.Millisecond):
		return compare.DataSpec{}, fmt.Errorf("--max-delay %v: want a duration of at least 1ms (or --out-of-order 0)", d.Delay)
	case d.LateDelay < 0 || (d.Late > 0 && d.LateDelay < 2*time.Millisecond):
		return compare.DataSpec{}, fmt.Errorf("--late-delay %v: want a duration of at least 2ms (or --late 0)", d.LateDelay)
	}
	s := compare.DataSpec{Events: d.Events, EventRate: d.EventRate, Seed: d.Seed, Partitions: d.Partitions}
	sk := datasets.Skew{OutOfOrder: d.OutOfOrder, Late: d.Late}
	if sk.OutOfOrder > 0 {
		sk.Delay = d.Delay
	}
	if sk.Late > 0 {
		sk.LateDelay = d.LateDelay
	}
	switch {
	case sk == datasets.DefaultSkew():
		// The zero Skew: the dataset's default, as without the flags.
	case sk.IsZero():
		s.InOrder = true
	default:
		s.Skew = sk
	}
	return s, nil
}

// EventsSet reports whether --events was given on the command line.
func (d *Data) EventsSet() bool {
	set := false
	d.FS.Visit(func(f *flag.Flag) { set = set || f.Name == "events" })
	return set
}

// SkewFlagSet returns the name of the first skew flag (in definition
// order) given on the command line, or "" when none was.
func (d *Data) SkewFlagSet() string {
	given := map[string]bool{}
	d.FS.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, s := range skewFlags {
		if given[s] {
			return s
		}
	}
	return ""
}
