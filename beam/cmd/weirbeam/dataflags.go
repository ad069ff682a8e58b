package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/datasets"
)

// defaultLateDelay is the --late-delay default: late records are delayed by
// 15 to 30 s, beyond the 5 s watermark bound of every event-time workload, so
// a runtime drops them as late. (datasets.DefaultSkew has no late records
// and so no late delay.)
const defaultLateDelay = 30 * time.Second

// This file is cmd/bench's dataflags.go with gen's variants removed: the
// data flags of bench run, spelled, defaulted and checked the same way.

// dataFlags are the flags that choose the data.
type dataFlags struct {
	fs         *flag.FlagSet
	events     int64
	eventRate  float64
	seed       uint64
	partitions int
	// The generator's skew (datasets.Skew).
	outOfOrder float64
	delay      time.Duration
	late       float64
	lateDelay  time.Duration
}

// skewFlags are the names of the flags of datasets.Skew.
var skewFlags = []string{"out-of-order", "max-delay", "late", "late-delay"}

// addDataFlags defines the data flags on fs for the command cmd ("gen" or
// "run"; run's built-in data may be paced by --rate, which run defines).
func addDataFlags(fs *flag.FlagSet) *dataFlags {
	cmd := "run"
	d := &dataFlags{fs: fs}
	builtin := "" // run also reads --input; these flags then do not apply
	if cmd == "run" {
		builtin = "built-in data: "
	}
	fs.Int64Var(&d.events, "events", 0, builtin+"number of events (0: the workload's default)")
	if cmd == "run" {
		fs.Float64Var(&d.eventRate, "event-rate", 0, builtin+"events per second of event time "+
			"(0: the workload's default, or with --rate the ingest rate, so event time follows the wall clock)")
		fs.Uint64Var(&d.seed, "seed", 1, builtin+"seed of the generator (same seed, same events); also seeds fault injection")
	} else {
		fs.Float64Var(&d.eventRate, "event-rate", 0, "events per second of event time (0: the workload's default)")
		fs.Uint64Var(&d.seed, "seed", 1, "seed of the generator (same seed, same events)")
	}
	partitions := "log partitions (0: the default, 4). The log is partitioned by the dataset's key column " +
		"(nexmark: round robin), so each key's records are in one partition, in arrival order"
	if cmd == "gen" {
		partitions += "; the file interleaves the partitions, and bench run --input with the same --partitions " +
			"reads every record back into its partition and position"
	}
	fs.IntVar(&d.partitions, "partitions", 0, partitions)

	def := datasets.DefaultSkew()
	fs.Float64Var(&d.outOfOrder, "out-of-order", def.OutOfOrder, builtin+"share (0..1) of records that arrive out of order, "+
		"each delayed uniformly by 0..--max-delay (with --late 0 too: records arrive in event-time order)")
	fs.DurationVar(&d.delay, "max-delay", def.Delay, builtin+"largest arrival delay of out-of-order records (at least 1ms when --out-of-order is above 0)")
	fs.Float64Var(&d.late, "late", def.Late, builtin+"share (0..1) of very late records, each delayed uniformly by "+
		"--late-delay/2..--late-delay; --out-of-order plus --late at most 1")
	fs.DurationVar(&d.lateDelay, "late-delay", defaultLateDelay, builtin+"largest delay of late records (at least 2ms when --late is above 0); "+
		"the default's 15-30s delays are beyond the workloads' 5s watermark bound")
	return d
}

// spec checks the flags, naming the one to change and its valid range, and
// returns the data they select (no --rate, no --input: run adds those).
func (d *dataFlags) spec() (compare.DataSpec, error) {
	switch {
	case !(d.outOfOrder >= 0 && d.outOfOrder <= 1):
		return compare.DataSpec{}, fmt.Errorf("--out-of-order %v: want a share between 0 and 1", d.outOfOrder)
	case !(d.late >= 0 && d.late <= 1):
		return compare.DataSpec{}, fmt.Errorf("--late %v: want a share between 0 and 1", d.late)
	case d.outOfOrder+d.late > 1:
		return compare.DataSpec{}, fmt.Errorf("--out-of-order %v and --late %v: the two shares must add up to at most 1", d.outOfOrder, d.late)
	case d.delay < 0 || (d.outOfOrder > 0 && d.delay < time.Millisecond):
		return compare.DataSpec{}, fmt.Errorf("--max-delay %v: want a duration of at least 1ms (or --out-of-order 0)", d.delay)
	case d.lateDelay < 0 || (d.late > 0 && d.lateDelay < 2*time.Millisecond):
		return compare.DataSpec{}, fmt.Errorf("--late-delay %v: want a duration of at least 2ms (or --late 0)", d.lateDelay)
	}
	s := compare.DataSpec{Events: d.events, EventRate: d.eventRate, Seed: d.seed, Partitions: d.partitions}
	sk := datasets.Skew{OutOfOrder: d.outOfOrder, Late: d.late}
	if sk.OutOfOrder > 0 {
		sk.Delay = d.delay
	}
	if sk.Late > 0 {
		sk.LateDelay = d.lateDelay
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

// eventsSet reports whether --events was given on the command line.
func (d *dataFlags) eventsSet() bool {
	set := false
	d.fs.Visit(func(f *flag.Flag) { set = set || f.Name == "events" })
	return set
}

// skewFlagSet returns the name of the first skew flag (in skewFlags order)
// given on the command line, or "" when none was.
func (d *dataFlags) skewFlagSet() string {
	given := map[string]bool{}
	d.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, s := range skewFlags {
		if given[s] {
			return s
		}
	}
	return ""
}
