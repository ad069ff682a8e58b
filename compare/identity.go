package compare

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/snapshot"
)

// Checkpoints belong to one run (snapshot's SN6). A run's identity, which
// both runtimes record in every checkpoint, is what it computes from what:
// the workload, the fingerprint of its pipeline (overrides included) and
// the identity of its input: the dataset, events, seed, partitions, event
// rate, skew and pacing of built-in data, or the path, size and
// modification time of an --input file. The runtimes add a token drawn
// when the run starts, so "the same run" is one [RunOne] and the restarts
// inside it after an injected crash; a second run into the same checkpoint
// directory, of the same command or another, is refused (an [InputError]
// on RuntimeFlags.CheckpointDir): its sink would hold none of the results
// the first run emitted before it stopped, so resuming the first run's
// checkpoints could only lose them.

// jobIdentity returns the identity of running workload w's pipeline p on
// log, built from d.
func jobIdentity(w *Workload, p *dataflow.Pipeline, log *datasets.Log, d DataSpec) string {
	var b strings.Builder
	fmt.Fprintf(&b, "workload %s pipeline %s; ", w.Name, pipelineFingerprint(p))
	if d.InputDir != "" {
		path := filepath.Join(d.InputDir, datasets.EventsFile)
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		fmt.Fprintf(&b, "input %s", path)
		if fi, err := os.Stat(path); err == nil {
			fmt.Fprintf(&b, " (%d bytes, modified %s)", fi.Size(), fi.ModTime().UTC().Format(time.RFC3339Nano))
		}
		fmt.Fprintf(&b, " partitions %d", log.Partitions())
		return b.String()
	}
	cfg := DataConfig(w, d)
	fmt.Fprintf(&b, "data %s events %d seed %d partitions %d event-rate %g skew %+v in-order %t",
		w.Dataset, cfg.Events, cfg.Seed, log.Partitions(), cfg.EventRate, cfg.Skew, cfg.InOrder)
	if d.Rate > 0 {
		fmt.Fprintf(&b, " paced %g events/s steps %v", d.Rate, d.Steps)
	}
	return b.String()
}

// pipelineFingerprint returns a short hash of everything a pipeline
// computes: its input schema, steps and aggregation (or output), so that
// a workload changed by overrides (another window, lateness, sketch) has
// another fingerprint.
func pipelineFingerprint(p *dataflow.Pipeline) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%v\n", p.Name, p.Input)
	for _, s := range p.Steps {
		fmt.Fprintf(h, "step %v\n", s)
	}
	if a := p.Agg; a != nil {
		// Window and Agg have String methods that leave fields out (an
		// offset, a sketch's size): their fields are written one by one.
		win := a.Window
		fmt.Fprintf(h, "agg key %q window %v %d %d %d %d domain %v time %q watermark %+v lateness %v late %v trigger %+v accumulation %v\n",
			a.Key, win.Kind, win.Size, win.Period, win.Offset, win.Gap, a.Domain, a.TimeCol, a.Watermark, a.AllowedLateness, a.Late, a.Trigger, a.Accumulation)
		for _, g := range a.Aggs {
			fmt.Fprintf(h, "aggregate %v %q %d %q %d %d %d\n", g.Kind, g.Col, g.N, g.As, g.Width, g.Depth, g.Precision)
		}
		if a.Having != nil {
			fmt.Fprintf(h, "having %v\n", a.Having)
		}
	} else {
		fmt.Fprintf(h, "emit %q %q %q\n", p.Emit.Key, p.Emit.Value, p.Emit.Extra)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// checkCheckpointDir refuses, before any work, a checkpoint directory that
// already holds checkpoints: a run restores only its own.
func checkCheckpointDir(dir string) error {
	if dir == "" {
		return nil
	}
	if err := snapshot.CheckFresh(nil, dir, snapshot.Identity{}); err != nil {
		return &FieldError{Field: "RuntimeFlags.CheckpointDir", Err: err}
	}
	return nil
}

// checkpointDirError turns a runtime's refusal of another run's checkpoint
// into an [InputError] on RuntimeFlags.CheckpointDir; other errors are
// returned as they are.
func checkpointDirError(err error) error {
	if fe, ok := errors.AsType[*snapshot.ForeignError](err); ok {
		return &InputError{&FieldError{Field: "RuntimeFlags.CheckpointDir", Err: fe}}
	}
	return err
}
