package main

import (
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/weirlab/weir/compare"
)

// repeatable marks a flag value that takes the flag more than once
// (--crash-after); every other flag given twice is refused ([repeatedFlag]):
// the flag package would keep the last silently.
type repeatable interface{ repeatable() }

func (*int64List) repeatable() {}

// repeatedFlag returns the name of the first flag of fs given more than once
// in args (parsed by [parseArgs]), or "" when none is. It reads args as the
// flag package does: "-name" or "--name", "=value" or the next argument as
// the value of a flag that is not boolean; "--" makes the next argument
// positional.
func repeatedFlag(fs *flag.FlagSet, args []string) string {
	seen := map[string]bool{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++ // parseArgs takes the next argument as positional
			continue
		}
		if len(a) < 2 || a[0] != '-' {
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
		f := fs.Lookup(name)
		if f == nil {
			continue
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !hasValue && !(ok && b.IsBoolFlag()) {
			i++ // the flag's value
		}
		if _, ok := f.Value.(repeatable); ok {
			continue
		}
		if seen[f.Name] {
			return f.Name
		}
		seen[f.Name] = true
	}
	return ""
}

// givenFlags returns the names of the flags set on fs's command line.
func givenFlags(fs *flag.FlagSet) map[string]bool {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	return given
}

// flagUse says which runtime configurations read a runtime or fault flag:
// microbatch in the modes listed, and recordstream under the guarantees
// listed. The reference runtime, the batch answer, reads none of them.
type flagUse struct {
	microbatch   []string
	recordstream []string
}

// runtimeFlagUses lists, per flag, the runtimes that read it (compare's
// adapters, compare/microbatch.go and compare/recordstream.go, and the
// runtimes' Config docs): acking (ackers, max spout pending, message
// timeout, acker messages to drop) is at-least-once's, barrier checkpoints
// exactly-once's; Structured Streaming (event-time) runs one batch job at a
// time, so only DStreams run concurrent jobs. --crash-after is missing: a
// crash that cannot fire is reported by the run (compare.FaultWarnings),
// not refused.
func runtimeFlagUses() map[string]flagUse {
	rsAll := compare.Guarantees()
	rsAcking := []string{"at-least-once"}
	rsCheckpoints := []string{"exactly-once"}
	rsTrident := []string{"trident"}
	// Trident's spouts send their watermark with each batch, not on a
	// timer.
	rsTimedWatermarks := slices.DeleteFunc(slices.Clone(rsAll), func(g string) bool { return g == "trident" })
	rsDataflow := []string{"dataflow"}
	mbAll := compare.Modes()
	return map[string]flagUse{
		"guarantee":               {recordstream: rsAll},
		"watermark-interval":      {recordstream: rsTimedWatermarks},
		"ackers":                  {recordstream: rsAcking},
		"max-spout-pending":       {recordstream: rsAcking},
		"message-timeout":         {recordstream: rsAcking},
		"drop-acks":               {recordstream: []string{"at-least-once", "dataflow"}},
		"dataflow-retry":          {recordstream: rsDataflow},
		"dataflow-id-cache":       {recordstream: rsDataflow},
		"dataflow-bloom-bits":     {recordstream: rsDataflow},
		"unaligned":               {recordstream: rsCheckpoints},
		"checkpoint-interval":     {microbatch: mbAll, recordstream: rsCheckpoints},
		"checkpoint-dir":          {microbatch: mbAll, recordstream: rsCheckpoints},
		"parallelism":             {microbatch: mbAll, recordstream: rsAll},
		"slow":                    {microbatch: mbAll, recordstream: rsAll},
		"batch-interval":          {microbatch: mbAll},
		"block-interval":          {microbatch: mbAll},
		"mode":                    {microbatch: mbAll},
		"backpressure":            {microbatch: mbAll},
		"memory-budget":           {microbatch: mbAll, recordstream: rsAcking},
		"concurrent-jobs":         {microbatch: []string{"dstream"}},
		"max-offsets-per-trigger": {microbatch: mbAll},

		// Trident (recordstream/trident.go).
		"trident-batch-size":    {recordstream: rsTrident},
		"trident-pending":       {recordstream: rsTrident},
		"trident-emit-interval": {recordstream: rsTrident},
		"trident-spout":         {recordstream: rsTrident},
	}
}

// unusedRuntimeFlag returns the problem with the first flag given on fs
// (in fs's order) that the runner named runner ("reference",
// "microbatch/event-time", "recordstream/at-least-once", ...) does not
// read, with what to do, or "" when every given flag is read. A flag the
// run would ignore is refused, not dropped.
func unusedRuntimeFlag(fs *flag.FlagSet, runner string) string {
	runtime, variant, _ := strings.Cut(runner, "/") // the mode or guarantee
	given := givenFlags(fs)
	uses := runtimeFlagUses()
	problem := ""
	fs.VisitAll(func(f *flag.Flag) {
		u, ok := uses[f.Name]
		if problem != "" || !ok || !given[f.Name] {
			return
		}
		switch runtime {
		case "reference":
			problem = fmt.Sprintf("--%s configures a streaming runtime; the reference runtime (the batch answer) reads no runtime flags and injects no faults: drop --%s, or run --runtime microbatch or recordstream", f.Name, f.Name)
		case "microbatch":
			switch {
			case len(u.microbatch) == 0:
				problem = fmt.Sprintf("--%s is a recordstream flag; microbatch does not read it: drop --%s, or run --runtime recordstream", f.Name, f.Name)
			case !slices.Contains(u.microbatch, variant):
				problem = fmt.Sprintf("--%s applies to microbatch %s only; this run is %s: drop --%s, or give %s", f.Name, strings.Join(u.microbatch, " or "), variant, f.Name, choiceFlags("mode", u.microbatch))
			}
		case "recordstream":
			switch {
			case len(u.recordstream) == 0:
				problem = fmt.Sprintf("--%s is a microbatch flag; recordstream does not read it: drop --%s, or run --runtime microbatch", f.Name, f.Name)
			case !slices.Contains(u.recordstream, variant):
				problem = fmt.Sprintf("--%s applies to recordstream %s only; this run is %s: drop --%s, or give %s", f.Name, strings.Join(u.recordstream, " or "), variant, f.Name, choiceFlags("guarantee", u.recordstream))
			}
		}
	})
	return problem
}

// choiceFlags spells the flag settings that choose one of values:
// "--guarantee exactly-once", "--mode dstream or --mode event-time".
func choiceFlags(flag string, values []string) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = "--" + flag + " " + v
	}
	return strings.Join(parts, " or ")
}

// inputFlagProblem returns the problem with a data flag of bench run that
// shapes built-in data only, given with --input, or "" when there is none.
// --seed also seeds the lost acker messages, so it stays with --drop-acks.
func inputFlagProblem(fs *flag.FlagSet) string {
	given := givenFlags(fs)
	if !given["input"] {
		return ""
	}
	for _, name := range []string{"events", "event-rate", "seed"} {
		if !given[name] || (name == "seed" && given["drop-acks"]) {
			continue
		}
		return fmt.Sprintf("--%s shapes built-in data only; the file of --input holds the events `bench gen` wrote (drop --%s, or pass it to bench gen)", name, name)
	}
	return ""
}

// runtimeFlagsProblem checks the runtime flags given on fs for the runner
// named runner: each must be one the runner reads
// ([unusedRuntimeFlag]). "" when there is no problem.
func runtimeFlagsProblem(fs *flag.FlagSet, runner string) string {
	return unusedRuntimeFlag(fs, runner)
}

// checkpointDirProblem checks --checkpoint-dir is a directory that can be
// used ([checkDirOut]), before the runner is built (which then checks that
// it holds no other run's checkpoints). "" when there is no problem.
func checkpointDirProblem(f compare.RuntimeFlags) string {
	if f.CheckpointDir != "" {
		if err := checkDirOut(f.CheckpointDir); err != nil {
			return fmt.Sprintf("--checkpoint-dir %s: %v", f.CheckpointDir, err)
		}
	}
	return ""
}
