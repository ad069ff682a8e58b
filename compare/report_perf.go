package compare

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/weirlab/weir/internal/handloop"
	"github.com/weirlab/weir/internal/metrics"
	"github.com/weirlab/weir/internal/snapshot"
)

// Files of the performance measurement: [WritePerf] writes PerfCSV and
// PerfParquet (`bench perf --out DIR`), [WriteBeamPerf] BeamPerfCSV and
// BeamPerfParquet (`weirbeam perf --out DIR`); [ReadPerf] and
// [ReadBeamPerf] read the CSVs for `bench report`.
const (
	PerfCSV         = "perf.csv"
	PerfParquet     = "perf.parquet"
	BeamPerfCSV     = "beam-perf.csv"
	BeamPerfParquet = "beam-perf.parquet"
)

// PerfLoop is the hand loop's Config and Runtime in its [PerfRecord].
const PerfLoop = "handloop"

// PerfRecord kinds: the hand loop, the reference (the batch evaluator,
// measured but not a streaming runtime) and a runtime configuration.
const (
	PerfKindLoop      = "loop"
	PerfKindReference = "reference"
	PerfKindRuntime   = "runtime"
)

// PerfRecord is one line of perf.csv: one workload's hand loop or one
// configuration on it, on the workload's one input.
type PerfRecord struct {
	Workload string `parquet:"workload"`
	// Events is the input's length; Results the reference answer's.
	Events  int64 `parquet:"events"`
	Results int64 `parquet:"results"`
	// Config is the configuration's label ("microbatch-dstream", or
	// PerfLoop); Runtime the runner's name; Kind one of PerfKind*;
	// Flags the `bench run` flags that select it.
	Config  string `parquet:"config"`
	Runtime string `parquet:"runtime"`
	Kind    string `parquet:"kind"`
	Flags   string `parquet:"flags"`
	// Status is "ok", "refused" (the model's reason) or "failed" (why:
	// an error, or the check that did not match); only "ok" has figures.
	Status string `parquet:"status"`
	Reason string `parquet:"reason"`
	// Reps is the number of timed repetitions; events/s is their median,
	// min and max; Cores the CPU time over the wall time of the timed runs
	// (getrusage).
	Reps               int64   `parquet:"reps"`
	EventsPerSecond    float64 `parquet:"events_per_second"`
	MinEventsPerSecond float64 `parquet:"min_events_per_second"`
	MaxEventsPerSecond float64 `parquet:"max_events_per_second"`
	Cores              float64 `parquet:"cores"`
	// Sink is what the timed runs' sink did with the results: "counting"
	// (the runtime's counting sink: built and counted, none kept or
	// sorted, as Nexmark's blackhole) or "kept" (every result kept and
	// sorted: the configuration has no counting sink); empty for the loop.
	Sink string `parquet:"sink"`
	// LoopEventsPerSecond is the workload's hand loop's median, beside
	// every row for the ratio.
	LoopEventsPerSecond float64 `parquet:"loop_events_per_second"`
}

// BeamPerfRecord is one line of beam-perf.csv: one workload on Apache
// Beam Go (`weirbeam perf`), on data of the same generator, seed and
// size as bench perf's.
type BeamPerfRecord struct {
	Workload string `parquet:"workload"`
	Events   int64  `parquet:"events"`
	Results  int64  `parquet:"results"`
	// Runner is "beam/prism" (in-process Prism) or the job server's.
	Runner string `parquet:"runner"`
	// Status and Reason as [PerfRecord]'s.
	Status string `parquet:"status"`
	Reason string `parquet:"reason"`
	// Reps is the number of timed runs; events/s their median, min and
	// max, each events over the run's own elapsed time (Outcome.Elapsed).
	Reps               int64   `parquet:"reps"`
	EventsPerSecond    float64 `parquet:"events_per_second"`
	MinEventsPerSecond float64 `parquet:"min_events_per_second"`
	MaxEventsPerSecond float64 `parquet:"max_events_per_second"`
	// Check is the first run's check against the reference answer.
	Check string `parquet:"check"`
}

// WritePerf writes recs into dir as PerfCSV and PerfParquet (meta in the
// Parquet file's key-value metadata: the command, the machine), each
// atomically.
func WritePerf(dir string, recs []PerfRecord, meta [][2]string) error {
	return writePerfFiles(dir, PerfCSV, PerfParquet, recs, meta)
}

// WriteBeamPerf writes recs into dir as BeamPerfCSV and BeamPerfParquet,
// each atomically.
func WriteBeamPerf(dir string, recs []BeamPerfRecord, meta [][2]string) error {
	return writePerfFiles(dir, BeamPerfCSV, BeamPerfParquet, recs, meta)
}

func writePerfFiles[T any](dir, csvName, parquetName string, recs []T, meta [][2]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	return writeTidy(csvName, parquetName, recs, meta, func(name string, data []byte) error {
		if err := snapshot.WriteFileAtomicPerm(snapshot.OSFS{}, filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("compare: %w", err)
		}
		return nil
	})
}

// ReadPerf reads dir's PerfCSV. A missing file is an error wrapping
// [os.ErrNotExist].
func ReadPerf(dir string) ([]PerfRecord, error) {
	return readTidyCSV[PerfRecord](filepath.Join(dir, PerfCSV), "bench perf")
}

// ReadBeamPerf reads dir's BeamPerfCSV. A missing file is an error
// wrapping [os.ErrNotExist].
func ReadBeamPerf(dir string) ([]BeamPerfRecord, error) {
	return readTidyCSV[BeamPerfRecord](filepath.Join(dir, BeamPerfCSV), "weirbeam perf")
}

// readTidyCSV parses a CSV [writeTidy] wrote: a header of T's parquet
// tags, in any order, then one line per row. writer names the command
// that writes it, for the error.
func readTidyCSV[T any](path, writer string) ([]T, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	lines, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("compare: %s: %w", path, err)
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("compare: %s is empty; write it with `%s`", path, writer)
	}
	col := map[string]int{}
	for i, h := range lines[0] {
		col[h] = i
	}
	t := reflect.TypeFor[T]()
	rows := make([]T, 0, len(lines)-1)
	for n, line := range lines[1:] {
		var r T
		v := reflect.ValueOf(&r).Elem()
		for i := range t.NumField() {
			tag := t.Field(i).Tag.Get("parquet")
			j, ok := col[tag]
			if !ok {
				return nil, fmt.Errorf("compare: %s has no column %q; rewrite it with this version's `%s`", path, tag, writer)
			}
			s, f := line[j], v.Field(i)
			var err error
			switch f.Kind() {
			case reflect.String:
				f.SetString(s)
			case reflect.Int64:
				var x int64
				x, err = strconv.ParseInt(s, 10, 64)
				f.SetInt(x)
			case reflect.Float64:
				var x float64
				x, err = strconv.ParseFloat(s, 64)
				f.SetFloat(x)
			}
			if err != nil {
				return nil, fmt.Errorf("compare: %s line %d column %s: %w", path, n+2, tag, err)
			}
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// Issue 16's targets, as [PerfTargets] judges them.
const (
	// PerfTargetLoop: each workload's best runtime configuration at least
	// this times its hand loop.
	PerfTargetLoop = 0.5
	// PerfTargetBeam: each workload's best runtime configuration at least
	// this times Beam on Prism.
	PerfTargetBeam = 20.0
)

// Target verdicts.
const (
	TargetMet         = "met"
	TargetNotMet      = "not met"
	TargetNotMeasured = "not measured"
)

// PerfTarget is one workload's standing against issue 16's targets,
// computed from the figures alone.
type PerfTarget struct {
	Workload string
	// Best and Slowest are the fastest and the slowest measured runtime
	// configuration ("" when none was measured), with their events/s.
	Best, Slowest         string
	BestRate, SlowestRate float64
	// Loop and Beam are the hand loop's and Beam's events/s (0:
	// unmeasured).
	Loop, Beam float64
	// BestOverLoop and BestOverBeam are the ratios (NaN: unmeasured).
	BestOverLoop, BestOverBeam float64
	// LoopTarget, BeamTarget and AboveBeam are TargetMet, TargetNotMet or
	// TargetNotMeasured for: best at least PerfTargetLoop times the loop;
	// best at least PerfTargetBeam times Beam; every runtime
	// configuration faster than Beam. Why says what decided each, in
	// that order.
	LoopTarget, BeamTarget, AboveBeam string
	Why                               [3]string
}

// PerfTargets judges every workload of recs, in their order, against
// issue 16's targets; beam may be nil (every Beam target is then not
// measured). A configuration that failed its check has no figure, so a
// workload with one does not meet "every configuration above Beam"; a
// refused one (its model cannot express the workload) is left out of it.
func PerfTargets(recs []PerfRecord, beam []BeamPerfRecord) []PerfTarget {
	beamRate := map[string]float64{}
	beamWhy := map[string]string{}
	for _, b := range beam {
		switch {
		case b.Status == handloop.StatusOK && b.EventsPerSecond > 0:
			beamRate[b.Workload] = b.EventsPerSecond
		case b.Reason != "":
			beamWhy[b.Workload] = "Beam " + b.Status + ": " + b.Reason
		default:
			beamWhy[b.Workload] = "Beam " + b.Status
		}
	}
	var ts []PerfTarget
	for _, w := range perfWorkloadOrder(recs) {
		t := PerfTarget{Workload: w, BestOverLoop: math.NaN(), BestOverBeam: math.NaN(), Beam: beamRate[w]}
		var failed []string
		for _, r := range recs {
			if r.Workload != w {
				continue
			}
			switch {
			case r.Kind == PerfKindLoop && r.Status == handloop.StatusOK:
				t.Loop = r.EventsPerSecond
			case r.Kind != PerfKindRuntime:
			case r.Status == handloop.StatusFailed:
				failed = append(failed, r.Config)
			case r.Status == handloop.StatusOK:
				if t.Best == "" || r.EventsPerSecond > t.BestRate {
					t.Best, t.BestRate = r.Config, r.EventsPerSecond
				}
				if t.Slowest == "" || r.EventsPerSecond < t.SlowestRate {
					t.Slowest, t.SlowestRate = r.Config, r.EventsPerSecond
				}
			}
		}
		noBeam := beamWhy[w]
		if noBeam == "" {
			noBeam = "no Beam figure (weirbeam perf)"
		}
		switch {
		case t.Best == "":
			t.LoopTarget, t.Why[0] = TargetNotMeasured, "no runtime configuration measured"
		case t.Loop <= 0:
			t.LoopTarget, t.Why[0] = TargetNotMeasured, "no hand loop figure"
		default:
			t.BestOverLoop = t.BestRate / t.Loop
			t.LoopTarget = verdictOf(t.BestOverLoop >= PerfTargetLoop)
			t.Why[0] = fmt.Sprintf("%s %s / loop %s = %.2f", t.Best, rateCell(t.BestRate), rateCell(t.Loop), t.BestOverLoop)
		}
		switch {
		case t.Best == "":
			t.BeamTarget, t.Why[1] = TargetNotMeasured, "no runtime configuration measured"
		case t.Beam <= 0:
			t.BeamTarget, t.Why[1] = TargetNotMeasured, noBeam
		default:
			t.BestOverBeam = t.BestRate / t.Beam
			t.BeamTarget = verdictOf(t.BestOverBeam >= PerfTargetBeam)
			t.Why[1] = fmt.Sprintf("%s %s / Beam %s = %.3g", t.Best, rateCell(t.BestRate), rateCell(t.Beam), t.BestOverBeam)
			if t.BeamTarget == TargetNotMet && t.Loop > 0 && t.Loop/t.Beam < PerfTargetBeam {
				// A target the hand loop itself misses says where the
				// time goes: in the work, not in the framework.
				t.Why[1] += fmt.Sprintf("; the hand loop itself is only %.3g × Beam", t.Loop/t.Beam)
			}
		}
		switch {
		case len(failed) > 0:
			t.AboveBeam, t.Why[2] = TargetNotMet, strings.Join(failed, ", ")+" failed (no figure)"
		case t.Slowest == "":
			t.AboveBeam, t.Why[2] = TargetNotMeasured, "no runtime configuration measured"
		case t.Beam <= 0:
			t.AboveBeam, t.Why[2] = TargetNotMeasured, noBeam
		default:
			t.AboveBeam = verdictOf(t.SlowestRate > t.Beam)
			t.Why[2] = fmt.Sprintf("slowest %s %s / Beam %s = %.3g", t.Slowest, rateCell(t.SlowestRate), rateCell(t.Beam), t.SlowestRate/t.Beam)
		}
		ts = append(ts, t)
	}
	return ts
}

func verdictOf(ok bool) string {
	if ok {
		return TargetMet
	}
	return TargetNotMet
}

// perfConfigs returns the configuration labels of recs other than the
// loop, in first-seen order.
func perfConfigs(recs []PerfRecord) []string {
	var cs []string
	for _, r := range recs {
		if r.Kind != PerfKindLoop && !slices.Contains(cs, r.Config) {
			cs = append(cs, r.Config)
		}
	}
	return cs
}

// perfCell renders one measured figure: "189M [185M-190M]" (a single
// repetition: the figure alone); "refused" or "FAILED" otherwise.
func perfCell(status string, med, lo, hi float64, reps int64) string {
	switch status {
	case handloop.StatusOK:
	case handloop.StatusRefused:
		return "refused"
	default:
		return "FAILED"
	}
	if reps <= 1 {
		return rateCell(med)
	}
	return fmt.Sprintf("%s [%s-%s]", rateCell(med), rateCell(lo), rateCell(hi))
}

// PerfTable renders recs (and beam, which may be nil) as one row per
// workload: its input, the hand loop, every configuration and Beam on
// Prism in events/s (median [min-max] over repetitions, with the cores
// beside each measured runtime), then the best and the slowest runtime
// configuration and the ratios best / loop and best / Beam. It computes
// from the records alone.
func PerfTable(recs []PerfRecord, beam []BeamPerfRecord) Table {
	cfgs := perfConfigs(recs)
	t := Table{Columns: []string{"workload", "events", "results", "hand loop"}}
	t.Columns = append(t.Columns, cfgs...)
	t.Columns = append(t.Columns, "Beam on Prism", "best runtime", "best / loop", "best / Beam", "slowest runtime")
	beamOf := map[string]BeamPerfRecord{}
	for _, b := range beam {
		beamOf[b.Workload] = b
	}
	targets := PerfTargets(recs, beam)
	for i, w := range perfWorkloadOrder(recs) {
		row := make([]string, len(t.Columns))
		row[0] = w
		for j := range cfgs {
			row[4+j] = "-"
		}
		for _, r := range recs {
			if r.Workload != w {
				continue
			}
			row[1], row[2] = strconv.FormatInt(r.Events, 10), strconv.FormatInt(r.Results, 10)
			c := perfCell(r.Status, r.EventsPerSecond, r.MinEventsPerSecond, r.MaxEventsPerSecond, r.Reps)
			if r.Status == handloop.StatusOK && r.Cores > 0 && r.Kind == PerfKindRuntime {
				c += fmt.Sprintf(", %.1f cores", r.Cores)
			}
			if r.Status == handloop.StatusOK && r.Sink == "kept" && r.Kind == PerfKindRuntime {
				c += ", kept sink"
			}
			if r.Kind == PerfKindLoop {
				row[3] = c
				continue
			}
			for j, cfg := range cfgs {
				if cfg == r.Config {
					row[4+j] = c
				}
			}
		}
		k := 4 + len(cfgs)
		row[k] = "not measured"
		if b, ok := beamOf[w]; ok {
			row[k] = perfCell(b.Status, b.EventsPerSecond, b.MinEventsPerSecond, b.MaxEventsPerSecond, b.Reps)
		}
		tg := targets[i]
		row[k+1], row[k+4] = "-", "-"
		if tg.Best != "" {
			row[k+1] = tg.Best
			row[k+4] = fmt.Sprintf("%s %s", tg.Slowest, rateCell(tg.SlowestRate))
		}
		row[k+2], row[k+3] = ratioCell(tg.BestOverLoop), ratioCell(tg.BestOverBeam)
		t.Rows = append(t.Rows, row)
	}
	return t
}

func ratioCell(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("%.3g", x)
}

// PerfTargetsTable renders [PerfTargets] as a table: per workload each
// target's verdict and the figures that decided it.
func PerfTargetsTable(ts []PerfTarget) Table {
	t := Table{Columns: []string{"workload",
		fmt.Sprintf("best ≥ %.1f × hand loop", PerfTargetLoop),
		fmt.Sprintf("best ≥ %.0f × Beam", PerfTargetBeam),
		"every runtime configuration above Beam"}}
	for _, x := range ts {
		t.Rows = append(t.Rows, []string{x.Workload,
			x.LoopTarget + " (" + x.Why[0] + ")",
			x.BeamTarget + " (" + x.Why[1] + ")",
			x.AboveBeam + " (" + x.Why[2] + ")"})
	}
	return t
}

// perfTally counts the workloads meeting each target.
func perfTally(ts []PerfTarget) string {
	count := func(f func(PerfTarget) string) string {
		met, measured := 0, 0
		for _, t := range ts {
			switch f(t) {
			case TargetMet:
				met++
				measured++
			case TargetNotMet:
				measured++
			}
		}
		return fmt.Sprintf("%d of %d workloads (%d measured)", met, len(ts), measured)
	}
	return fmt.Sprintf("Targets met: best ≥ %.1f × hand loop on %s; best ≥ %.0f × Beam on %s; every runtime configuration above Beam on %s.",
		PerfTargetLoop, count(func(t PerfTarget) string { return t.LoopTarget }),
		PerfTargetBeam, count(func(t PerfTarget) string { return t.BeamTarget }),
		count(func(t PerfTarget) string { return t.AboveBeam }))
}

// PerfSeries is the section's figure: each measured configuration's (and
// Beam's) events/s against its workload's hand loop's, log-log, one point
// per workload, with the loop itself (1×) and issue 16's 0.5× target as
// lines.
func PerfSeries(recs []PerfRecord, beam []BeamPerfRecord) Series {
	s := Series{Name: "perf", Title: "events/s of each configuration against its workload's hand loop",
		XLabel: "hand loop events/s (one point per workload)", YLabel: "events/s", XScale: ScaleLog, YScale: ScaleLog}
	loop := map[string]float64{}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range recs {
		if r.Kind == PerfKindLoop && r.Status == handloop.StatusOK && r.EventsPerSecond > 0 {
			loop[r.Workload] = r.EventsPerSecond
			lo, hi = min(lo, r.EventsPerSecond), max(hi, r.EventsPerSecond)
		}
	}
	for _, c := range perfConfigs(recs) {
		var pts metrics.Series
		for _, r := range recs {
			if r.Config == c && r.Status == handloop.StatusOK && loop[r.Workload] > 0 && r.EventsPerSecond > 0 {
				pts = append(pts, metrics.Point{T: loop[r.Workload], V: r.EventsPerSecond})
			}
		}
		if len(pts) > 0 {
			s.Lines = append(s.Lines, Line{Label: c, Points: sortedPoints(pts), Scatter: true})
		}
	}
	var pts metrics.Series
	for _, b := range beam {
		if b.Status == handloop.StatusOK && loop[b.Workload] > 0 && b.EventsPerSecond > 0 {
			pts = append(pts, metrics.Point{T: loop[b.Workload], V: b.EventsPerSecond})
		}
	}
	if len(pts) > 0 {
		s.Lines = append(s.Lines, Line{Label: "Beam on Prism", Points: sortedPoints(pts), Scatter: true})
	}
	if lo <= hi {
		s.Lines = append(s.Lines,
			Line{Label: "hand loop (1×)", Points: metrics.Series{{T: lo, V: lo}, {T: hi, V: hi}}},
			Line{Label: fmt.Sprintf("target %.1f × hand loop", PerfTargetLoop), Points: metrics.Series{{T: lo, V: PerfTargetLoop * lo}, {T: hi, V: PerfTargetLoop * hi}}})
	}
	return s
}

func sortedPoints(p metrics.Series) metrics.Series {
	slices.SortStableFunc(p, func(a, b metrics.Point) int { return cmp.Compare(a.T, b.T) })
	return p
}

// PerfSectionOptions say what [WritePerfSection] quotes and where its
// figure goes.
type PerfSectionOptions struct {
	// Command and BeamCommand are the commands that measured the
	// records (from the Parquet files' metadata; "" when unknown);
	// Machine describes where.
	Command, BeamCommand, Machine string
	// FigureDir, if not empty, receives the figure as perf.svg and
	// perf.png ([WriteFigure]); FigureLink is it relative to the report.
	FigureDir, FigureLink string
}

// PerfSectionTitle is the heading WritePerfSection writes.
const PerfSectionTitle = "Performance: weir against a hand loop and Beam"

// WritePerfSection renders the performance section of the report to w:
// the events/s table ([PerfTable]), the targets ([PerfTargetsTable]) and
// their tally, the figure, and the reasons of every refused or failed
// cell. beam may be nil.
func WritePerfSection(w io.Writer, recs []PerfRecord, beam []BeamPerfRecord, o PerfSectionOptions) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n", PerfSectionTitle)
	if o.Command != "" {
		fmt.Fprintf(&b, "Measured by `%s`", o.Command)
		if o.BeamCommand != "" {
			fmt.Fprintf(&b, " and, for Beam, `%s`", o.BeamCommand)
		}
		b.WriteString(".")
		if o.Machine != "" {
			fmt.Fprintf(&b, " Machine: %s.", o.Machine)
		}
		b.WriteString("\n\n")
	}
	b.WriteString("Events/s of each workload's hand loop (internal/handloop: one goroutine, no framework, the same answer) and of every runtime configuration on the same pre-filled log, medians [min-max] over interleaved repetitions, each configuration run once untimed and checked against `dataflow.Reference` (a configuration whose check fails has no figure), its timed runs counting their results in the runtime's counting sink (built and counted, none kept or sorted, as Nexmark's blackhole sink; the hand loop keeps its answer in compact form and sorts nothing) except where the configuration has none (\"kept sink\": every result kept and sorted), with the cores it kept busy (process CPU time over wall time, getrusage). Beam on Prism ran the same generator, seed and size (`weirbeam perf`). The reference is the exact batch evaluator, not a streaming runtime: it is never the best or the slowest.\n\n")
	writeTable(&b, PerfTable(recs, beam))
	ts := PerfTargets(recs, beam)
	fmt.Fprintf(&b, "Issue 16's targets, judged from the figures above. %s\n\n", perfTally(ts))
	writeTable(&b, PerfTargetsTable(ts))
	if o.FigureDir != "" {
		s := PerfSeries(recs, beam)
		if err := WriteFigure(o.FigureDir, s.Name, s); err != nil {
			return err
		}
		link := filepath.ToSlash(filepath.Join(o.FigureLink, s.Name))
		fmt.Fprintf(&b, "![%s](%s.%s)\n\n([PNG](%s.%s))\n\n", s.Title, link, FigureSVG, link, FigurePNG)
	}
	var notes []string
	for _, r := range recs {
		if r.Status != handloop.StatusOK {
			notes = append(notes, fmt.Sprintf("%s on %s: %s: %s", r.Workload, r.Config, r.Status, r.Reason))
		}
	}
	for _, r := range beam {
		if r.Status != handloop.StatusOK {
			notes = append(notes, fmt.Sprintf("%s on %s: %s: %s", r.Workload, r.Runner, r.Status, r.Reason))
		}
	}
	for _, r := range recs {
		if r.Kind == PerfKindLoop && r.Results == 0 {
			notes = append(notes, fmt.Sprintf("%s: the reference answer is empty at %d events, so its figures time a run that emits nothing; measure it with more events", r.Workload, r.Events))
		}
	}
	for _, n := range notes {
		fmt.Fprintf(&b, "- %s\n", mdCell(n))
	}
	if len(notes) > 0 {
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
