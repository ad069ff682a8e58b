package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/microbatch"
	"github.com/weirlab/weir/recordstream"
)

// fieldFlags maps the fields the libraries name in their errors, spelled
// package.Type.Field, to the flag of bench gen or bench run that sets the
// field. It is the one place where a field meets its flag: the libraries
// name their fields (compare.FieldError, recordstream.ConfigError), the
// command line its flags. DataSpec.Skew and DataSpec.InOrder are missing:
// the skew flags (dataflags.go) are checked here, before compare sees them.
func fieldFlags() map[string]string {
	return map[string]string{
		"compare.DataSpec.Events":     "--events",
		"compare.DataSpec.Seed":       "--seed",
		"compare.DataSpec.EventRate":  "--event-rate",
		"compare.DataSpec.Rate":       "--rate",
		"compare.DataSpec.Steps":      "--rate-steps",
		"compare.DataSpec.InputDir":   "--input",
		"compare.DataSpec.Partitions": "--partitions",

		"compare.Overrides.Window":         "--window",
		"compare.Overrides.Slide":          "--slide",
		"compare.Overrides.Gap":            "--gap",
		"compare.Overrides.WatermarkBound": "--watermark-bound",
		"compare.Overrides.Lateness":       "--lateness",
		"compare.Overrides.SketchWidth":    "--sketch-width",

		"compare.Options.CrashAfter": "--crash-after",
		"compare.Options.Slow":       "--slow",
		"compare.Options.DropAcks":   "--drop-acks",
		"compare.Options.Seed":       "--seed",
		"compare.Options.Trace":      "--trace",

		"compare.RuntimeFlags.Guarantee":            "--guarantee",
		"compare.RuntimeFlags.Ackers":               "--ackers",
		"compare.RuntimeFlags.MaxSpoutPending":      "--max-spout-pending",
		"compare.RuntimeFlags.MessageTimeout":       "--message-timeout",
		"compare.RuntimeFlags.Parallelism":          "--parallelism",
		"compare.RuntimeFlags.BatchInterval":        "--batch-interval",
		"compare.RuntimeFlags.BlockInterval":        "--block-interval",
		"compare.RuntimeFlags.Mode":                 "--mode",
		"compare.RuntimeFlags.Backpressure":         "--backpressure",
		"compare.RuntimeFlags.MemoryBudget":         "--memory-budget",
		"compare.RuntimeFlags.CheckpointInterval":   "--checkpoint-interval",
		"compare.RuntimeFlags.CheckpointDir":        "--checkpoint-dir",
		"compare.RuntimeFlags.Unaligned":            "--unaligned",
		"compare.RuntimeFlags.ConcurrentJobs":       "--concurrent-jobs",
		"compare.RuntimeFlags.MaxOffsetsPerTrigger": "--max-offsets-per-trigger",
		"compare.RuntimeFlags.WatermarkInterval":    "--watermark-interval",
		"compare.RuntimeFlags.DataflowRetry":        "--dataflow-retry",
		"compare.RuntimeFlags.DataflowIDCache":      "--dataflow-id-cache",
		"compare.RuntimeFlags.DataflowBloomBits":    "--dataflow-bloom-bits",

		"compare.RuntimeFlags.TridentBatchSize":    "--trident-batch-size",
		"compare.RuntimeFlags.TridentPending":      "--trident-pending",
		"compare.RuntimeFlags.TridentEmitInterval": "--trident-emit-interval",
		"compare.RuntimeFlags.TridentSpout":        "--trident-spout",

		// compare's recordstream adapter copies these RuntimeFlags and
		// Options into recordstream.Config (ConfigError names Config and
		// CheckpointConfig fields without the type).
		"recordstream.Config.Guarantee":          "--guarantee",
		"recordstream.Config.Parallelism":        "--parallelism",
		"recordstream.Config.Ackers":             "--ackers",
		"recordstream.Config.MaxSpoutPending":    "--max-spout-pending",
		"recordstream.Config.MessageTimeout":     "--message-timeout",
		"recordstream.Config.MemoryBudget":       "--memory-budget",
		"recordstream.Config.CheckpointInterval": "--checkpoint-interval",
		"recordstream.Config.CheckpointDir":      "--checkpoint-dir",
		"recordstream.Config.Unaligned":          "--unaligned",
		"recordstream.Config.Faults.CrashAfter":  "--crash-after",
		"recordstream.Config.Faults.Slow":        "--slow",
		"recordstream.Config.Faults.DropAcks":    "--drop-acks",
		"recordstream.Config.RetryTimeout":       "--dataflow-retry",
		"recordstream.Config.BloomBits":          "--dataflow-bloom-bits",

		"recordstream.Config.Trident.BatchSize":         "--trident-batch-size",
		"recordstream.Config.Trident.MaxBatchesPending": "--trident-pending",
		"recordstream.Config.Trident.EmitInterval":      "--trident-emit-interval",

		// And the microbatch adapter into microbatch.Config.
		"microbatch.Config.BatchInterval":        "--batch-interval",
		"microbatch.Config.BlockInterval":        "--block-interval",
		"microbatch.Config.ConcurrentJobs":       "--concurrent-jobs",
		"microbatch.Config.MaxOffsetsPerTrigger": "--max-offsets-per-trigger",
		"microbatch.Config.Parallelism":          "--parallelism",
		"microbatch.Config.MemoryBudget":         "--memory-budget",
		"microbatch.Config.Slow":                 "--slow",
		"microbatch.Config.Failures":             "--crash-after",
	}
}

// withFlag names the flags behind a library's error, through [fieldFlags]:
// a compare.FieldError or recordstream.ConfigError names the field at
// fault, recordstream.ErrSpoutStalled means Config.MaxSpoutPending, and a
// recordstream.MemoryBudgetError or microbatch.MemoryBudgetError names the
// three ways out it describes.
// Other errors, and fields no flag sets, are returned unchanged; the result
// wraps err, so errors.Is and errors.As see through it.
func withFlag(err error) error {
	var fields []string
	if fe, ok := errors.AsType[*compare.FieldError](err); ok {
		fields = []string{"compare." + fe.Field}
	} else if ce, ok := errors.AsType[*recordstream.ConfigError](err); ok {
		fields = []string{"recordstream.Config." + ce.Field}
	} else if ce, ok := errors.AsType[*microbatch.ConfigError](err); ok {
		fields = []string{"microbatch.Config." + ce.Field}
	} else if errors.Is(err, recordstream.ErrSpoutStalled) {
		fields = []string{"recordstream.Config.MaxSpoutPending"}
	} else if _, ok := errors.AsType[*recordstream.MemoryBudgetError](err); ok {
		fields = []string{"recordstream.Config.MessageTimeout", "recordstream.Config.MaxSpoutPending", "recordstream.Config.MemoryBudget"}
	} else if _, ok := errors.AsType[*microbatch.MemoryBudgetError](err); ok {
		fields = []string{"compare.RuntimeFlags.Backpressure", "compare.RuntimeFlags.BatchInterval", "compare.RuntimeFlags.MemoryBudget"}
	}
	flags := fieldFlags()
	var named []string
	for _, f := range fields {
		if fl := flags[f]; fl != "" {
			named = append(named, fl)
		}
	}
	switch len(named) {
	case 0:
		return err
	case 1:
		return fmt.Errorf("%w (flag %s)", err, named[0])
	}
	return fmt.Errorf("%w (flags %s)", err, strings.Join(named, ", "))
}
