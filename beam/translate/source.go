package translate

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/clock"
)

// LogSpec says how a worker rebuilds the run's log: weir's generators are
// deterministic (same dataset, config and seed, same records in the same
// partitions and order), so a worker regenerates the log rather than
// receiving it, as a Flink task manager reads its Kafka partitions; or it
// loads the same `gen` folder. Ingest times come from a stepping clock that
// starts at ClockBase and advances 1µs per reading, so a regenerated log's
// ingest (processing) times are the driver's too; a loaded folder's come
// from the loader's clock and are not reproducible (see [Refuse]).
type LogSpec struct {
	Dataset  string
	Config   datasets.Config
	InputDir string `json:",omitempty"`
	// ClockBase is the stepping clock's start, ns since the epoch.
	ClockBase int64
}

// stepClock is a clock.Clock whose every Now reading is 1µs after the
// last: deterministic ingest times for a log filled in one goroutine.
type stepClock struct{ *clock.Manual }

func (c stepClock) Now() time.Time {
	c.Advance(time.Microsecond)
	return c.Manual.Now()
}

// OpenLog builds the log and lookup tables spec describes, closed.
func OpenLog(ctx context.Context, spec LogSpec) (*datasets.Log, map[string]*dataflow.Table, error) {
	if spec.InputDir != "" {
		return datasets.LoadDir(ctx, spec.InputDir, spec.Dataset, spec.Config)
	}
	gen, err := datasets.Lookup(spec.Dataset)
	if err != nil {
		return nil, nil, err
	}
	if err := spec.Config.Validate(); err != nil {
		return nil, nil, err
	}
	l, err := datasets.NewLog(datasets.LogConfig{Schema: gen.Schema(), Partitions: spec.Config.Partitions,
		ChunkRows: spec.Config.ChunkRows, Clock: stepClock{clock.NewManual(time.Unix(0, spec.ClockBase))}})
	if err != nil {
		return nil, nil, err
	}
	if err := datasets.Fill(ctx, gen, l, spec.Config, datasets.Pacing{}); err != nil {
		return nil, nil, err
	}
	return l, gen.Tables(spec.Config.Seed), nil
}

// Fingerprint hashes a log's records (partition, offset, row and, when
// withIngest, ingest time) with FNV-1a, so a worker can prove it rebuilt
// the driver's log.
func Fingerprint(l *datasets.Log, withIngest bool) string {
	h := fnv.New64a()
	var buf []byte
	for r := range l.All() {
		buf = strconv.AppendInt(buf[:0], int64(r.Partition), 10)
		buf = strconv.AppendInt(buf, r.Offset, 10)
		if withIngest {
			buf = strconv.AppendInt(buf, r.IngestNanos, 10)
		}
		buf = dataflow.AppendRow(buf, r.Row)
		h.Write(buf)
	}
	return strconv.FormatUint(h.Sum64(), 16)
}

// ReadFn is the translated source: a splittable DoFn over one log
// partition (the element is the partition number, the restriction its
// offset range), which reads the records, runs the pipeline's stateless
// steps on them (fused, as Beam would fuse them), and emits each row that
// reaches the aggregation or output, keyed by its key (I9), with its time
// in the aggregation's domain as its Beam timestamp.
//
// With LogWatermark, the DoFn sets its output watermark from the log as
// dataflow's policy does (I4): the largest event time the partition has
// delivered minus MaxOutOfOrderness, reported every Chunk records through
// a self-checkpoint (Beam's watermark estimator is read at checkpoints), so
// Beam's watermark is the minimum over partitions and records can be late.
// Without it the watermark stays at the start until the partition is read,
// then jumps to the end, like a bounded Create: nothing is late.
type ReadFn struct {
	Plan         string
	Log          LogSpec
	Ends         []int64
	Fingerprint  string
	WithIngest   bool
	LogWatermark bool
	Chunk        int64

	p       *dataflow.Pipeline
	log     *datasets.Log
	c       *chain
	keyIdx  []int
	timeIdx int
	procT   bool
	boundMs int64
	keyBuf  []byte
	row     dataflow.Row
}

// Setup rebuilds the plan and the log and checks the log against the
// driver's fingerprint.
func (fn *ReadFn) Setup(ctx context.Context) error {
	p, err := DecodePlan(fn.Plan)
	if err != nil {
		return err
	}
	l, _, err := OpenLog(ctx, fn.Log)
	if err != nil {
		return fmt.Errorf("translate: worker rebuilds the log: %w", err)
	}
	if got := Fingerprint(l, fn.WithIngest); got != fn.Fingerprint {
		return fmt.Errorf("translate: the worker's log (fingerprint %s) is not the driver's (%s): run the worker on the same weir build and input", got, fn.Fingerprint)
	}
	c, err := compileChain(p)
	if err != nil {
		return err
	}
	last, err := p.Last()
	if err != nil {
		return err
	}
	fn.p, fn.log, fn.c, fn.timeIdx = p, l, c, -1
	if a := p.Agg; a != nil {
		if fn.keyIdx, err = columnIndexes(last, a.Key); err != nil {
			return err
		}
		switch a.Window.Kind {
		case dataflow.WindowFixed, dataflow.WindowSliding, dataflow.WindowSession:
			if a.Domain == dataflow.EventTime {
				fn.timeIdx = last.Index(a.TimeCol)
			} else {
				fn.procT = true
			}
		}
		fn.boundMs = dataflow.Millis(a.Watermark.MaxOutOfOrderness)
	} else if fn.keyIdx, err = columnIndexes(last, p.Emit.Key); err != nil {
		return err
	}
	return nil
}

func columnIndexes(s dataflow.Schema, cols []string) ([]int, error) {
	idx := make([]int, len(cols))
	for i, c := range cols {
		_, j, err := s.Lookup(c)
		if err != nil {
			return nil, err
		}
		idx[i] = j
	}
	return idx, nil
}

// CreateInitialRestriction is the partition's whole offset range.
func (fn *ReadFn) CreateInitialRestriction(part int) offsetrange.Restriction {
	return offsetrange.Restriction{Start: 0, End: fn.Ends[part]}
}

// SplitRestriction keeps a partition whole: one reader per partition, in
// offset order, as weir's runtimes read it.
func (fn *ReadFn) SplitRestriction(_ int, r offsetrange.Restriction) []offsetrange.Restriction {
	return []offsetrange.Restriction{r}
}

// RestrictionSize is the number of records left.
func (fn *ReadFn) RestrictionSize(_ int, r offsetrange.Restriction) float64 { return r.Size() }

// CreateTracker tracks offsets.
func (fn *ReadFn) CreateTracker(r offsetrange.Restriction) *sdf.LockRTracker {
	return sdf.NewLockRTracker(offsetrange.NewTracker(r))
}

// CreateWatermarkEstimator starts the partition's watermark at the
// beginning of time.
func (fn *ReadFn) CreateWatermarkEstimator() *sdf.ManualWatermarkEstimator {
	return &sdf.ManualWatermarkEstimator{State: mtime.MinTimestamp.ToTime()}
}

// ProcessElement reads partition part from its restriction's start.
func (fn *ReadFn) ProcessElement(ctx context.Context, we *sdf.ManualWatermarkEstimator, rt *sdf.LockRTracker, part int,
	emit func(beam.EventTime, string, Elem)) (sdf.ProcessContinuation, error) {
	r := rt.GetRestriction().(offsetrange.Restriction)
	maxEv := int64(dataflow.MinTime)
	if fn.LogWatermark && fn.timeIdx >= 0 && r.Start > 0 {
		// The watermark resumes from the records before the restriction.
		for off := int64(0); off < r.Start; off++ {
			fn.c.run(0, 0, fn.read(part, off), func(_ int32, row dataflow.Row) { maxEv = max(maxEv, row[fn.timeIdx].I) })
		}
	}
	n := int64(0)
	for off := r.Start; off < r.End; off++ {
		if !rt.TryClaim(off) {
			return sdf.StopProcessing(), rt.GetError()
		}
		row := fn.read(part, off)
		ing := fn.log.IngestAt(part, off)
		fn.c.run(0, 0, row, func(sub int32, row dataflow.Row) {
			t := dataflow.FloorDiv(ing, 1e6)
			if fn.timeIdx >= 0 {
				t = row[fn.timeIdx].I
				maxEv = max(maxEv, t)
			}
			fn.keyBuf = dataflow.AppendKey(fn.keyBuf[:0], row, fn.keyIdx)
			// Beam may hold an emitted element past this call, so each
			// gets its own row.
			emit(mtime.Time(t), string(fn.keyBuf), Elem{Partition: int32(part), Sub: sub, Offset: off, Ingest: ing, EventMs: t, Row: slices.Clone(row)})
		})
		n++
		if fn.LogWatermark && fn.Chunk > 0 && n >= fn.Chunk && off+1 < r.End {
			if maxEv > int64(dataflow.MinTime) {
				we.UpdateWatermark(mtime.Time(maxEv - fn.boundMs).ToTime())
			}
			return sdf.ResumeProcessingIn(0), nil
		}
	}
	return sdf.StopProcessing(), nil
}

func (fn *ReadFn) read(part int, off int64) dataflow.Row {
	fn.row, _ = fn.log.Read(part, off, fn.row)
	return fn.row
}

// specJSON is how a LogSpec is shown in errors.
func (s LogSpec) String() string {
	b, _ := json.Marshal(s)
	return string(b)
}
