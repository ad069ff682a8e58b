package translate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/dataflow/wire"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/metrics"
)

// Runners are the Beam runners a [Runner] submits to.
func Runners() []string { return []string{"prism", "universal"} }

// Runner runs a weir job on Beam: it implements compare.Runner, so
// compare.RunLog checks its results against dataflow.Reference like any
// runtime's.
//
// The job's log must be the one [OpenLog] builds from Log (workers rebuild
// it; the source checks the fingerprint). Runner is not safe for
// concurrent use: Beam's job options (endpoint, environment) are
// process-wide flags that Run sets.
type Runner struct {
	// Beam is "prism" (an in-process Prism job server, loopback workers)
	// or "universal" (submit to Endpoint: a standalone Prism, Flink or
	// Spark job server).
	Beam string
	// Endpoint is the job server's HOST:PORT, for "universal".
	Endpoint string
	// EnvironmentType is the worker environment: LOOPBACK (workers run in
	// this process; the default), DOCKER or EXTERNAL.
	EnvironmentType string
	// EnvironmentConfig is the container image (DOCKER) or worker pool
	// address (EXTERNAL).
	EnvironmentConfig string
	// Log is how workers rebuild the job's log.
	Log LogSpec
	// LogWatermark and Chunk: see [Options].
	LogWatermark bool
	Chunk        int64
	// OutDir is where the sink's part files go (default a temporary folder
	// under the system's, removed after the run). On a cluster it must be
	// a folder every worker and this process share.
	OutDir string
	// SessionsMergeTouching: see [Options]. Prism merges touching
	// sessions, so set it for "prism" and for a Prism job server.
	SessionsMergeTouching bool
}

// Name implements compare.Runner: "beam/prism", "beam/universal".
func (r *Runner) Name() string { return "beam/" + r.Beam }

// Validate reports a configuration that cannot run.
func (r *Runner) Validate() error {
	switch r.Beam {
	case "prism":
		if r.Endpoint != "" {
			return errors.New("translate: the prism runner starts its own job server; drop the endpoint, or use runner universal to submit to one")
		}
	case "universal":
		if r.Endpoint == "" {
			return errors.New("translate: the universal runner needs the job server's endpoint HOST:PORT (a Flink job server listens on 8099, Prism on 8073)")
		}
	default:
		return fmt.Errorf("translate: unknown Beam runner %q; use one of %s", r.Beam, strings.Join(Runners(), ", "))
	}
	switch strings.ToUpper(r.EnvironmentType) {
	case "", "LOOPBACK", "DOCKER", "EXTERNAL", "PROCESS":
	default:
		return fmt.Errorf("translate: unknown environment type %q; use LOOPBACK, DOCKER, EXTERNAL or PROCESS", r.EnvironmentType)
	}
	return nil
}

// Run implements compare.Runner: it translates job.Pipeline, runs it to
// the end of the log and collects the final pane of every window.
func (r *Runner) Run(ctx context.Context, job *compare.Job) (*compare.Outcome, error) {
	if !beam.Initialized() {
		return nil, errors.New("translate: Beam is not initialized: call beam.Init() first thing in main (and in TestMain), so a worker started from this binary runs as one")
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	dir := r.OutDir
	if dir == "" {
		d, err := os.MkdirTemp("", "weirbeam-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	src := Source{Log: r.Log, WithIngest: r.Log.InputDir == ""}
	for p := range job.Log.Partitions() {
		src.Ends = append(src.Ends, job.Log.End(p))
	}
	src.Fingerprint = Fingerprint(job.Log, src.WithIngest)
	o := Options{Runner: r.Beam, LogWatermark: r.LogWatermark, Chunk: r.Chunk, OutDir: dir, SessionsMergeTouching: r.SessionsMergeTouching}
	if err := Refuse(job.Pipeline, src, o); err != nil {
		return nil, err
	}
	p, s := beam.NewPipelineWithRoot()
	if err := Build(s, job.Pipeline, src, o); err != nil {
		return nil, err
	}

	env := r.EnvironmentType
	if env == "" {
		env = "LOOPBACK"
	}
	*jobopts.EnvironmentType = strings.ToLower(env)
	*jobopts.EnvironmentConfig = r.EnvironmentConfig
	start := time.Now()
	var err error
	switch r.Beam {
	case "prism":
		*jobopts.Endpoint = ""
		_, err = prism.Execute(ctx, p)
	case "universal":
		*jobopts.Endpoint = r.Endpoint
		_, err = universal.Execute(ctx, p)
	}
	elapsed := time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("translate: beam job on %s: %w", r.Beam, err)
	}
	out, seen, err := collect(dir, job.Pipeline, start.UnixNano(), job.Log.EventTimeShift())
	if err != nil {
		return nil, err
	}
	if o.LogWatermark && job.Pipeline.Agg != nil && job.Pipeline.Agg.Domain == dataflow.EventTime && windowed(job.Pipeline.Agg.Window.Kind) {
		if out.Late, err = dropped(job.Pipeline, job.Log, seen); err != nil {
			return nil, err
		}
		out.Counters["dropped_late"] = int64(len(out.Late))
	}
	out.Events = job.Log.Len()
	out.Elapsed = elapsed
	return out, nil
}

// Collect reads the sink's part files in dir and gives each window and
// key its final value: the pane with the highest index in accumulating
// mode (Beam's panes are numbered in firing order, and accumulating mode
// fires one more pane when the window closes), the combination of all its
// panes in discarding mode ([dataflow.CombineResults]). Having is applied
// to the final values. Every pane counts as an emission, with its latency.
// The runtime drops nothing it reports, so Late is empty and the rule
// dataflow's: a record Beam dropped as late shows as a missing count.
func Collect(dir string, p *dataflow.Pipeline, startNs, shiftMs int64) (*compare.Outcome, error) {
	out, _, err := collect(dir, p, startNs, shiftMs)
	return out, err
}

// collect is Collect, also returning the records the panes name
// ([Elem.Refs]).
func collect(dir string, p *dataflow.Pipeline, startNs, shiftMs int64) (*compare.Outcome, map[uint64]struct{}, error) {
	seen := map[uint64]struct{}{}
	files, err := filepath.Glob(filepath.Join(dir, "part-*.bin"))
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(files)
	out := &compare.Outcome{LateRule: compare.LateRuleNone, Latency: metrics.NewLatency().Since(startNs), Counters: map[string]int64{}}
	if p.Agg != nil && windowed(p.Agg.Window.Kind) && p.Agg.Domain == dataflow.EventTime {
		out.LateRule = compare.LateRuleDataflow
	}
	type wk struct {
		w dataflow.Window
		k string
	}
	final := map[wk]pane{}
	var order []wk
	var emit dataflow.Emit
	var vi []int
	if p.Agg == nil {
		emit = p.Emit
		last, err := p.Last()
		if err != nil {
			return nil, nil, err
		}
		if vi, err = columnIndexes(last, append([]string{emit.Value}, emit.Extra...)); err != nil {
			return nil, nil, err
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		d := wire.NewDecoder(b)
		for d.Len() > 0 && d.Err() == nil {
			pn := decodePane(d)
			if d.Err() != nil {
				break
			}
			for _, r := range pn.elem.Refs {
				seen[r] = struct{}{}
			}
			out.Emissions++
			out.Latency.Observe(pn.emitNs, pn.elem.EventMs+shiftMs, pn.elem.Ingest)
			if pn.timing == typex.PaneLate {
				out.Counters["late_panes"]++
			} else if pn.timing == typex.PaneEarly {
				out.Counters["early_panes"]++
			}
			if p.Agg == nil {
				r := dataflow.Result{Key: pn.key, Value: pn.elem.Row[vi[0]]}
				for _, x := range vi[1:] {
					r.Extra = append(r.Extra, pn.elem.Row[x])
				}
				out.Results = append(out.Results, r)
				continue
			}
			k := wk{pn.win, pn.key}
			old, ok := final[k]
			switch {
			case !ok:
				order = append(order, k)
				final[k] = pn
			case p.Agg.Accumulation == dataflow.Discarding:
				for i, g := range p.Agg.Aggs {
					v, err := dataflow.CombineResults(g.Kind, old.elem.Row[i], pn.elem.Row[i])
					if err != nil {
						return nil, nil, err
					}
					old.elem.Row[i] = v
				}
				final[k] = old
			case pn.index > old.index:
				final[k] = pn
			}
		}
		if err := d.Err(); err != nil {
			return nil, nil, fmt.Errorf("translate: read %s: %w", f, err)
		}
	}
	out.Counters["panes"] = out.Emissions
	if p.Agg == nil {
		return out, seen, nil
	}
	var having func(dataflow.Row) bool
	last, err := p.Last()
	if err != nil {
		return nil, nil, err
	}
	if p.Agg.Having != nil {
		if having, err = dataflow.CompilePredicate(p.Agg.Having, p.Agg.OutputSchemaFor(last)); err != nil {
			return nil, nil, err
		}
	}
	row := make(dataflow.Row, 1+len(p.Agg.Aggs))
	for _, k := range order {
		pn := final[k]
		w := pn.win
		if !windowed(p.Agg.Window.Kind) && p.Agg.Window.Kind != dataflow.WindowCount {
			w = dataflow.Window{}
		}
		r := dataflow.Result{Window: w, Key: k.k, Value: pn.elem.Row[0]}
		if len(pn.elem.Row) > 1 {
			r.Extra = pn.elem.Row[1:]
		}
		if having != nil {
			row[0] = dataflow.Str(r.Key)
			copy(row[1:], pn.elem.Row)
			if !having(row) {
				continue
			}
		}
		out.Results = append(out.Results, r)
	}
	dataflow.SortResults(out.Results)
	return out, seen, nil
}

// SpecFor returns the LogSpec of workload w's data under d, with the
// stepping clock starting now.
func SpecFor(w *compare.Workload, d compare.DataSpec) LogSpec {
	return LogSpec{Dataset: w.Dataset, Config: compare.DataConfig(w, d), InputDir: d.InputDir, ClockBase: time.Now().UnixNano()}
}

// RunWorkload runs workload w on Beam over the data d and checks it
// against the reference (compare.RunLog): it builds the log as workers
// will ([OpenLog] of [SpecFor]), sets r.Log, and runs. Paced input (d.Rate)
// is refused: a Beam worker rebuilds the log, it does not share the
// driver's filling one.
func RunWorkload(ctx context.Context, w *compare.Workload, d compare.DataSpec, r *Runner, opts compare.Options, progress func(string)) (*compare.Report, error) {
	if err := d.Validate(); err != nil {
		return nil, &compare.InputError{Err: err}
	}
	if d.Rate > 0 {
		return nil, &compare.InputError{Err: errors.New("beam reads a log its workers rebuild, so it cannot follow paced ingestion; drop --rate")}
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	r.Log = SpecFor(w, d)
	log, tables, err := OpenLog(ctx, r.Log)
	if err != nil {
		return nil, &compare.InputError{Err: err}
	}
	return compare.RunLog(ctx, w, r, log, tables, d, opts, progress)
}

// dropped names the records Beam dropped as late: those whose rows reach
// the aggregation but no result's Refs. Beam reports no watermark with a
// drop; each gets the highest watermark dataflow's I4 allows when it was
// read (its partition's largest earlier event time minus the bound), and
// compare's check verifies the drop against it under I5. A record Beam
// dropped at a watermark its bundle-wise advance reached before I4's
// per-record one shows as unverified: a counted difference.
func dropped(p *dataflow.Pipeline, log *datasets.Log, seen map[uint64]struct{}) ([]dataflow.LateRecord, error) {
	bound := dataflow.Time(dataflow.Millis(p.Agg.Watermark.MaxOutOfOrderness))
	prefix := make([]dataflow.Time, log.Partitions())
	for i := range prefix {
		prefix[i] = dataflow.MinTime
	}
	var late []dataflow.LateRecord
	last := dataflow.RecordRef{Partition: -1}
	err := dataflow.AggregationInput(p, log.All(), func(rec dataflow.Record, t dataflow.Time, _ dataflow.Row) {
		ref := dataflow.RecordRef{Partition: rec.Partition, Offset: rec.Offset}
		wm := prefix[rec.Partition]
		if ref != last {
			last = ref
			if _, ok := seen[packRef(int32(rec.Partition), rec.Offset)]; !ok {
				w := dataflow.MinTime
				if wm != dataflow.MinTime {
					w = wm - bound
				}
				late = append(late, dataflow.LateRecord{RecordRef: ref, Watermark: w})
			}
		}
		prefix[rec.Partition] = max(wm, t)
	})
	return late, err
}
