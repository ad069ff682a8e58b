package main

import (
	"flag"

	"github.com/weirlab/weir/cmd/bench/cliflags"
)

// dataFlags are bench run's data flags (cliflags'), spelled, defaulted and
// checked the same way, without gen's variants.
type dataFlags = cliflags.Data

// addDataFlags defines bench run's data flags on fs. weirbeam has no
// --rate: a Beam worker rebuilds a closed log.
func addDataFlags(fs *flag.FlagSet) *dataFlags {
	d := &dataFlags{FS: fs}
	builtin := "built-in data: " // --input reads a folder; these flags then do not apply
	fs.Int64Var(&d.Events, "events", 0, builtin+"number of events (0: the workload's default)")
	fs.Float64Var(&d.EventRate, "event-rate", 0, builtin+"events per second of event time (0: the workload's default)")
	fs.Uint64Var(&d.Seed, "seed", 1, builtin+"seed of the generator (same seed, same events)")
	fs.IntVar(&d.Partitions, "partitions", 0, "log partitions (0: the default, 4). The log is partitioned by the dataset's key column "+
		"(nexmark: round robin), so each key's records are in one partition, in arrival order; Beam reads each partition with one splittable DoFn restriction")
	d.AddSkew(builtin)
	return d
}
