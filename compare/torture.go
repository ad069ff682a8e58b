package compare

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// Torture: randomized fault schedules over every workload and every
// guarantee, each run judged under its guarantee's rule (issue 15). The
// pure part is here: [DrawTortureTrial] draws one trial's schedule from a
// seed, [JudgeTorture] judges a check under a rule. [RunTortureTrial] runs
// one trial through [RunOne]; cmd/bench's torture command loops, prints
// and tallies.

// TortureGuarantee names a guarantee torture exercises: a runtime
// configuration and the rule its runs must keep.
type TortureGuarantee string

// The guarantees torture exercises.
const (
	// TortureAtMostOnce is recordstream at-most-once: it may lose, never
	// duplicate.
	TortureAtMostOnce TortureGuarantee = "at-most-once"
	// TortureAtLeastOnce is recordstream at-least-once (Storm's acker): it
	// may duplicate, never lose.
	TortureAtLeastOnce TortureGuarantee = "at-least-once"
	// TortureExactlyOnce is recordstream exactly-once with aligned
	// barriers: exact.
	TortureExactlyOnce TortureGuarantee = "exactly-once"
	// TortureExactlyOnceUnaligned is recordstream exactly-once with
	// unaligned checkpoints: exact.
	TortureExactlyOnceUnaligned TortureGuarantee = "exactly-once-unaligned"
	// TortureTrident is recordstream's Trident mode, transactional or
	// opaque spouts drawn per trial: exact.
	TortureTrident TortureGuarantee = "trident"
	// TortureDataflow is recordstream dataflow (MillWheel's transactional
	// updates), with crashes and lost acknowledgements: exact.
	TortureDataflow TortureGuarantee = "dataflow"
	// TortureMicrobatch is microbatch (either mode) whose failed batches
	// are recomputed from their offsets and whose crashed driver restarts
	// from its last checkpoint: exact.
	TortureMicrobatch TortureGuarantee = "microbatch-recompute"
)

// TortureGuarantees returns every guarantee torture exercises, in the
// order trials cycle through them.
func TortureGuarantees() []TortureGuarantee {
	return []TortureGuarantee{TortureAtMostOnce, TortureAtLeastOnce, TortureExactlyOnce, TortureExactlyOnceUnaligned, TortureTrident, TortureDataflow, TortureMicrobatch}
}

// ParseTortureGuarantees parses a comma-separated list of guarantee names;
// "" or "all" is every guarantee. An unknown name is a *[FieldError] on
// Field "TortureGuarantee".
func ParseTortureGuarantees(s string) ([]TortureGuarantee, error) {
	if s == "" || s == "all" {
		return TortureGuarantees(), nil
	}
	var out []TortureGuarantee
	for name := range strings.SplitSeq(s, ",") {
		g := TortureGuarantee(strings.TrimSpace(name))
		if !slices.Contains(TortureGuarantees(), g) {
			names := make([]string, 0, 5)
			for _, k := range TortureGuarantees() {
				names = append(names, string(k))
			}
			return nil, &FieldError{Field: "TortureGuarantee", Err: fmt.Errorf("want a comma-separated list of %s (or all); got %q", strings.Join(names, ", "), name)}
		}
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out, nil
}

// Rule is what a run under a guarantee must keep, judged on its
// [CheckResult] by [JudgeTorture].
type Rule uint8

const (
	// RuleExact: the run matches the reference after the verified late
	// exclusions ([CheckResult.OK]).
	RuleExact Rule = iota + 1
	// RuleNeverLose: no reference window is missing or, for a count,
	// below the reference (after the verified exclusions). More is
	// allowed: a duplicated count, or a value of another kind that
	// differs (a duplicate in a mean cannot be told from a loss).
	RuleNeverLose
	// RuleNeverDuplicate: no window the reference lacks, no second result
	// for one window, no count above the reference. Less is allowed. On
	// session windows a lost record splits a session into windows the
	// reference lacks, so there the rule reads the per-window counts of
	// the full answer instead: none may be above the reference.
	RuleNeverDuplicate
)

// String names the rule.
func (r Rule) String() string {
	switch r {
	case RuleExact:
		return "exact"
	case RuleNeverLose:
		return "never lose"
	case RuleNeverDuplicate:
		return "never duplicate"
	}
	return fmt.Sprintf("Rule(%d)", uint8(r))
}

// Rule returns the rule runs under g must keep.
func (g TortureGuarantee) Rule() Rule {
	switch g {
	case TortureAtMostOnce:
		return RuleNeverDuplicate
	case TortureAtLeastOnce:
		return RuleNeverLose
	}
	return RuleExact
}

// JudgeTorture returns the ways check c breaks rule r, one sentence each;
// none when the run kept it. sessionWindows says the pipeline has session
// windows (see [RuleNeverDuplicate]). Under every rule an unverified late
// drop breaks it (CM2): no model may drop a record its rule does not
// make late.
func JudgeTorture(r Rule, c CheckResult, sessionWindows bool) []string {
	var v []string
	if n := c.Late.Unverified; n > 0 {
		v = append(v, fmt.Sprintf("%d late drops not verified under the model's rule", n))
	}
	unit := "windows"
	if c.Stateless {
		unit = "rows"
	}
	switch r {
	case RuleExact:
		if c.Lost > 0 || c.Duplicated > 0 || c.Mismatched > 0 || c.Matching != c.Windows {
			v = append(v, fmt.Sprintf("not exact: %d/%d %s match, lost %d, duplicated %d, mismatched %d", c.Matching, c.Windows, unit, c.Lost, c.Duplicated, c.Mismatched))
		}
	case RuleNeverLose:
		if c.Lost > 0 {
			v = append(v, fmt.Sprintf("lost %d %s (missing or counted below the reference)", c.Lost, unit))
		}
	case RuleNeverDuplicate:
		if !sessionWindows {
			if c.Duplicated > 0 {
				v = append(v, fmt.Sprintf("duplicated %d %s (extra, or counted above the reference)", c.Duplicated, unit))
			}
			break
		}
		above := 0
		for _, d := range c.Full.Deltas {
			if d.Delta > 0 {
				above++
			}
		}
		if above > 0 {
			v = append(v, fmt.Sprintf("duplicated: %d sessions counted above the full answer", above))
		}
	default:
		v = append(v, fmt.Sprintf("no such rule %d", uint8(r)))
	}
	return v
}

// CrashKind is where a drawn crash is aimed.
type CrashKind uint8

const (
	// CrashInWindow falls anywhere in the input, mostly inside open
	// windows.
	CrashInWindow CrashKind = iota
	// CrashDuringCheckpoint falls while checkpoints are taken every
	// millisecond or two, with a slow step, so most crashes meet one in
	// flight (recordstream exactly-once; microbatch: every batch
	// checkpoints).
	CrashDuringCheckpoint
	// CrashDuringRestore falls a few records after the previous crash,
	// on the replay or recomputation that crash caused.
	CrashDuringRestore
)

// String names the kind.
func (k CrashKind) String() string {
	switch k {
	case CrashInWindow:
		return "in a window"
	case CrashDuringCheckpoint:
		return "during a checkpoint"
	case CrashDuringRestore:
		return "during the restore"
	}
	return fmt.Sprintf("CrashKind(%d)", uint8(k))
}

// TortureTrial is one drawn trial: a workload on one runtime
// configuration, its data and its faults. Every value is one that `bench
// run` can be given, so a trial can be reproduced by that command.
type TortureTrial struct {
	// Index is the trial's number in its schedule, from 0.
	Index     int
	Guarantee TortureGuarantee
	Workload  string
	// Runtime and Flags are given to [NewRunner].
	Runtime string
	Flags   RuntimeFlags
	// Data is the trial's input: built-in data, pre-filled or paced.
	Data DataSpec
	// Options hold the faults (CrashAfter in increasing order, Slow,
	// DropAcks) and Seed, equal to Data.Seed (as `bench run` sets it).
	Options Options
	// Crashes says where each entry of Options.CrashAfter is aimed.
	Crashes []CrashKind
}

// String describes the trial in one line.
func (t TortureTrial) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "trial %d: %s, %s on %s, %d events, seed %d", t.Index, t.Guarantee, t.Workload, t.Runtime, t.Data.Events, t.Data.Seed)
	if t.Data.Rate > 0 {
		fmt.Fprintf(&b, ", paced at %.0f events/s", t.Data.Rate)
	}
	for i, n := range t.Options.CrashAfter {
		fmt.Fprintf(&b, ", crash after %d (%s)", n, t.Crashes[i])
	}
	if t.Options.DropAcks > 0 {
		fmt.Fprintf(&b, ", %.0f%% of acks lost", 100*t.Options.DropAcks)
	}
	if t.Options.Slow > 0 {
		fmt.Fprintf(&b, ", slow %v a record", t.Options.Slow)
	}
	return b.String()
}

// tortureShape is how a workload's data is drawn: the number of events,
// the event time they span (0: the workload's density), and the share of
// them the windowed step takes in (what crash points count).
type tortureShape struct {
	minEvents, maxEvents int64
	minSpan, maxSpan     time.Duration
	intake               float64
}

// tortureShapes holds a shape per workload: small inputs (a trial is a
// fraction of a second) spanning several windows of event time, so windows
// close, and crash, while the run goes on. count-window's 100-element
// windows of 10,000 cards need about a million events to fill: its trials
// fill none, and check that faults make no result appear.
func tortureShapes() map[string]tortureShape {
	return map[string]tortureShape{
		"ysb":                 {3_000, 8_000, 20 * time.Second, 60 * time.Second, 1.0 / 3}, // the views, a third
		"grep":                {3_000, 8_000, 0, 0, 0.16},                                  // the kept domains
		"hashtag-topn":        {2_000, 5_000, 2 * time.Hour, 4 * time.Hour, 1},
		"hashtag-approx-topn": {2_000, 5_000, 2 * time.Hour, 4 * time.Hour, 1},
		"request-rate":        {3_000, 8_000, 0, 0, 1},
		"sessions":            {2_000, 5_000, 0, 0, 1},
		"iot-sliding":         {3_000, 8_000, 2 * time.Minute, 5 * time.Minute, 1},
		"fraud":               {3_000, 6_000, time.Minute, 3 * time.Minute, 1},
		"count-window":        {3_000, 8_000, 0, 0, 1},
	}
}

// tortureExpressible reports whether the guarantee's runtime can express
// the workload: microbatch has no count windows, and DStreams no sessions
// (the reasons [dataflow.UnsupportedError] gives).
func tortureExpressible(g TortureGuarantee, mode, workload string) bool {
	if g == TortureDataflow {
		return workload != "count-window" // MillWheel's delivery keeps no order
	}
	if g != TortureMicrobatch {
		return true
	}
	return workload != "count-window" && !(mode == "dstream" && workload == "sessions")
}

// DrawTortureTrial draws trial index of the schedule with seed, under
// guarantee g. The draw depends only on (seed, index, g): the same
// arguments give the same trial, whatever was drawn before.
func DrawTortureTrial(seed uint64, index int, g TortureGuarantee) TortureTrial {
	r := rand.New(rand.NewPCG(seed, 0x7047_0000+uint64(index)))
	t := TortureTrial{Index: index, Guarantee: g}
	switch g {
	case TortureMicrobatch:
		t.Runtime = "microbatch"
		t.Flags.Mode = Modes()[r.IntN(2)]
	default:
		t.Runtime = "recordstream"
	}
	// The lecture's workloads: the Nexmark queries have no torture shape
	// (yet).
	shapes := tortureShapes()
	var fit []string
	for _, w := range LectureWorkloads() {
		if tortureExpressible(g, t.Flags.Mode, w.Name) {
			fit = append(fit, w.Name)
		}
	}
	t.Workload = fit[r.IntN(len(fit))]
	shape := shapes[t.Workload]

	// The data: small, spanning several windows, a quarter of it with
	// very late records, a third paced (over 0.2 to 1 s) rather than
	// filled before the run.
	events := shape.minEvents + r.Int64N(shape.maxEvents-shape.minEvents+1)
	t.Data = DataSpec{Events: events, Seed: 1 + r.Uint64N(1<<20), Partitions: 1 + r.IntN(4)}
	if shape.maxSpan > 0 {
		span := shape.minSpan + time.Duration(r.Int64N(int64(shape.maxSpan-shape.minSpan)+1))
		t.Data.EventRate = float64(events) / span.Seconds()
	}
	if r.IntN(4) == 0 {
		t.Data.Skew = datasets.Skew{OutOfOrder: 0.05, Delay: 2 * time.Second, Late: float64(1+r.IntN(3)) / 100, LateDelay: 20 * time.Second}
	}
	if r.IntN(3) == 0 {
		over := time.Duration(200+r.IntN(801)) * time.Millisecond
		t.Data.Rate = float64(events) / over.Seconds()
	}
	t.Options.Seed = t.Data.Seed

	// The crash points: one to three, uniform over what the windowed step
	// takes in; a third of the trials add one a few records after the
	// first, on its replay.
	intake := max(int64(float64(events)*shape.intake), 2)
	duringCheckpoint := false
	if g == TortureExactlyOnce || g == TortureExactlyOnceUnaligned || g == TortureTrident || g == TortureMicrobatch {
		duringCheckpoint = r.IntN(3) == 0
	}
	kind := CrashInWindow
	if duringCheckpoint {
		kind = CrashDuringCheckpoint
	}
	type crash struct {
		after int64
		kind  CrashKind
	}
	var crashes []crash
	for range 1 + r.IntN(3) {
		crashes = append(crashes, crash{1 + r.Int64N(intake), kind})
	}
	if r.IntN(3) == 0 {
		crashes = append(crashes, crash{crashes[0].after + 1 + r.Int64N(50), CrashDuringRestore})
	}
	slices.SortStableFunc(crashes, func(a, b crash) int { return cmp.Compare(a.after, b.after) })
	crashes = slices.CompactFunc(crashes, func(a, b crash) bool { return a.after == b.after })
	for _, c := range crashes {
		t.Options.CrashAfter = append(t.Options.CrashAfter, c.after)
		t.Crashes = append(t.Crashes, c.kind)
	}

	// Slow steps: none in half the trials, else 10 to 50 µs a record
	// (a trial's few thousand records then take up to a few tenths of a
	// second longer, long enough for checkpoints and timeouts to happen).
	if r.IntN(2) == 0 || duringCheckpoint {
		t.Options.Slow = time.Duration(10+10*r.IntN(5)) * time.Microsecond
	}

	switch g {
	case TortureAtMostOnce:
		t.Flags.Guarantee = "at-most-once"
		t.Flags.Parallelism = 1 + r.IntN(3)
	case TortureAtLeastOnce:
		t.Flags.Guarantee = "at-least-once"
		t.Flags.Parallelism = 1 + r.IntN(3)
		// Short timeouts, so lost trees replay within the trial, but
		// not so short that every pending windowed tuple replays many
		// times before its window closes.
		t.Flags.MessageTimeout = time.Duration(50+r.IntN(251)) * time.Millisecond
		if r.IntN(3) == 0 {
			t.Options.DropAcks = float64(1+r.IntN(3)) / 100
		}
	case TortureExactlyOnce, TortureExactlyOnceUnaligned:
		t.Flags.Guarantee = "exactly-once"
		t.Flags.Unaligned = g == TortureExactlyOnceUnaligned
		t.Flags.Parallelism = 1 + r.IntN(3)
		if duringCheckpoint {
			t.Flags.CheckpointInterval = time.Duration(1+r.IntN(2)) * time.Millisecond
		} else {
			t.Flags.CheckpointInterval = time.Duration(5+r.IntN(46)) * time.Millisecond
		}
	case TortureTrident:
		t.Flags.Guarantee = "trident"
		t.Flags.Parallelism = 1 + r.IntN(3)
		t.Flags.TridentBatchSize = 10 + r.IntN(500)
		t.Flags.TridentPending = 1 + r.IntN(4)
		t.Flags.TridentSpout = TridentSpouts()[r.IntN(2)]
		if duringCheckpoint {
			// Small batches committed every millisecond or so, several in
			// flight: most crashes meet a commit.
			t.Flags.TridentBatchSize = 5 + r.IntN(30)
			t.Flags.TridentPending = 2 + r.IntN(3)
			t.Flags.TridentEmitInterval = time.Millisecond
		}
	case TortureDataflow:
		t.Flags.Guarantee = "dataflow"
		t.Flags.Parallelism = 1 + r.IntN(3)
		t.Flags.DataflowRetry = time.Duration(5+r.IntN(46)) * time.Millisecond
		if r.IntN(2) == 0 {
			t.Options.DropAcks = 0.3 * r.Float64()
		}
	case TortureMicrobatch:
		// Batch intervals that divide every workload's windows and slides
		// (DStream windows are unions of whole batches).
		bi := []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond}[r.IntN(4)]
		t.Flags.BatchInterval = bi
		t.Flags.Parallelism = 1 + r.IntN(3)
		if duringCheckpoint {
			t.Flags.CheckpointInterval = bi // every batch
		} else if r.IntN(2) == 0 {
			t.Flags.CheckpointInterval = time.Duration(2+r.IntN(4)) * bi
		}
	}
	return t
}

// TortureSchedule draws n trials with seed, cycling through guarantees
// in order (trial i is under guarantees[i % len(guarantees)]); trial i is
// [DrawTortureTrial](seed, i, that guarantee).
func TortureSchedule(seed uint64, n int, guarantees []TortureGuarantee) []TortureTrial {
	if len(guarantees) == 0 {
		return nil
	}
	out := make([]TortureTrial, n)
	for i := range out {
		out[i] = DrawTortureTrial(seed, i, guarantees[i%len(guarantees)])
	}
	return out
}

// TortureOutcome is what one trial gave.
type TortureOutcome struct {
	Trial  TortureTrial
	Report *Report
	// Violations are the ways the run broke its guarantee's rule
	// ([JudgeTorture]); empty when it kept it.
	Violations []string
	// Faults is the number of faults that fired: task crashes, failed
	// batches and driver crashes (a crash point past what the windowed
	// step took in never fires).
	Faults int64
	// Restarts counts restarts: of crashed tasks or of the whole job
	// (recordstream), of the driver (microbatch).
	Restarts int64
	// Restored counts restarts that restored a completed checkpoint.
	Restored int64
	// AcksDropped counts acker messages lost.
	AcksDropped int64
}

// RunTortureTrial runs trial t ([RunOne] on built-in data) and judges the
// result under its guarantee's rule. It returns an error when the run
// did not complete: bad input or a model that cannot express the
// workload (as RunOne returns them), a failed run, or ctx done.
func RunTortureTrial(ctx context.Context, t TortureTrial) (*TortureOutcome, error) {
	w, err := LookupWorkload(t.Workload)
	if err != nil {
		return nil, &InputError{err}
	}
	r, err := NewRunner(t.Runtime, t.Flags)
	if err != nil {
		return nil, err
	}
	rep, err := RunOne(ctx, w, r, t.Data, t.Options, nil)
	if err != nil {
		return nil, err
	}
	sessions := rep.Pipeline.Agg != nil && rep.Pipeline.Agg.Window.Kind == dataflow.WindowSession
	c := rep.Outcome.Counters
	o := &TortureOutcome{
		Trial:       t,
		Report:      rep,
		Violations:  JudgeTorture(t.Guarantee.Rule(), rep.Check, sessions),
		Faults:      c["crashes"] + c["failed_batches"] + c["driver_restarts"],
		Restored:    c["restored_checkpoints"],
		AcksDropped: c["acker_messages_dropped"],
	}
	if t.Runtime == "microbatch" {
		o.Restarts = c["driver_restarts"]
	} else {
		// Exactly-once restarts the job on each crash; the other
		// guarantees restart the crashed task.
		o.Restarts = max(c["restarts"], c["crashes"])
	}
	return o, nil
}
