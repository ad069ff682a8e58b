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

// addDataFlags defines bench run's data flags on fs. weirbeam has no
// --rate: a Beam worker rebuilds a closed log.
func addDataFlags(fs *flag.FlagSet) *dataFlags {
	d := &dataFlags{}
	builtin := "built-in data: " // --input reads a folder; these flags then do not apply
	fs.Int64Var(&d.events, "events", 0, builtin+"number of events (0: the workload's default)")
	fs.Float64Var(&d.eventRate, "event-rate", 0, builtin+"events per second of event time (0: the workload's default)")
	fs.Uint64Var(&d.seed, "seed", 1, builtin+"seed of the generator (same seed, same events)")
	fs.IntVar(&d.partitions, "partitions", 0, "log partitions (0: the default, 4). The log is partitioned by the dataset's key column "+
		"(nexmark: round robin), so each key's records are in one partition, in arrival order; Beam reads each partition with one splittable DoFn restriction")

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
