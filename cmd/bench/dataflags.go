package main

import (
	"flag"

	"github.com/weirlab/weir/cmd/bench/cliflags"
)

// dataFlags are the flags that choose the data, shared by gen and run (and
// weirbeam run, through cliflags) so all spell, default and check them the
// same way.
type dataFlags = cliflags.Data

// addDataFlags defines the data flags on fs for the command cmd ("gen" or
// "run"; run's built-in data may be paced by --rate, which run defines).
func addDataFlags(fs *flag.FlagSet, cmd string) *dataFlags {
	d := &dataFlags{FS: fs}
	builtin := "" // run also reads --input; these flags then do not apply
	if cmd == "run" {
		builtin = "built-in data: "
	}
	fs.Int64Var(&d.Events, "events", 0, builtin+"number of events (0: the workload's default)")
	if cmd == "run" {
		fs.Float64Var(&d.EventRate, "event-rate", 0, builtin+"events per second of event time "+
			"(0: the workload's default, or with --rate the ingest rate, so event time follows the wall clock)")
		fs.Uint64Var(&d.Seed, "seed", 1, builtin+"seed of the generator (same seed, same events); also seeds fault injection")
	} else {
		fs.Float64Var(&d.EventRate, "event-rate", 0, "events per second of event time (0: the workload's default)")
		fs.Uint64Var(&d.Seed, "seed", 1, "seed of the generator (same seed, same events)")
	}
	partitions := "log partitions (0: the default, 4). The log is partitioned by the dataset's key column " +
		"(nexmark: round robin), so each key's records are in one partition, in arrival order"
	if cmd == "gen" {
		partitions += "; the file interleaves the partitions, and bench run --input with the same --partitions " +
			"reads every record back into its partition and position"
	}
	fs.IntVar(&d.Partitions, "partitions", 0, partitions)
	d.AddSkew(builtin)
	return d
}
