package compare

import (
	"testing"
	"time"

	"github.com/weirlab/weir/datasets"
)

// snapGood is an outcome on which every sub-claim holds; each case below
// changes one part of it.
func snapGood() snapshotOutcome {
	return snapshotOutcome{
		Paced: map[string]snapPaced{
			snapshotBase:           {P99: sp(400, 410, 420), Checkpoints: sp(0, 0, 0)},
			"100ms":                {P99: sp(405, 420, 430), Checkpoints: sp(50, 52, 55)},
			"10s":                  {P99: sp(900, 950, 990), Checkpoints: sp(0, 0, 0)},
			"aligned, slow step":   {P99: sp(900, 950, 990), Checkpoints: sp(50, 52, 55)},
			"unaligned, slow step": {Failed: "hung (cut by its time limit)"},
		},
		Sizes: []snapSize{
			{Width: 1024, Base: sp(100, 105, 110), Throughput: sp(98, 100, 104), Bytes: sp(9e4, 1e5, 1.1e5), Duration: sp(5, 6, 7), Checkpoints: sp(5, 6, 7)},
			{Width: 1 << 20, Base: sp(50, 55, 60), Throughput: sp(20, 25, 30), Bytes: sp(7e7, 7.2e7, 7.5e7), Duration: sp(700, 780, 800), Checkpoints: sp(2, 3, 3)},
		},
		Restore: snapRestore{Restored: sp(1, 1, 1), Offset: sp(14000, 14500, 14700), Replayed: sp(200, 300, 600), Matched: 3, N: 3},
	}
}

func TestVerdictSnapshot(t *testing.T) {
	with := func(f func(*snapshotOutcome)) snapshotOutcome {
		o := snapGood()
		f(&o)
		return o
	}
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict { return verdictSnapshot(snapGood()) }, Holds,
			[]string{"102% of 410 [400-420] ms", "52 [50-55] checkpoints", "10s (0 [0-0] checkpoints)", "95% of 105 [100-110]", "offset 14500 [14000-14700]", "checkpoint p50 780 [700-800] ms"}},
		{"does not hold: one sub-claim fails, the others hold", func() Verdict {
			return verdictSnapshot(with(func(o *snapshotOutcome) { o.Restore.Matched = 2 }))
		}, DoesNotHold, []string{"restore does not hold", "1 of 3 crash repetitions did not match", "latency holds"}},
		{"inconclusive: one sub-claim inconclusive", func() Verdict {
			return verdictSnapshot(with(func(o *snapshotOutcome) { o.Restore.Offset = sp(0, 0, 0) }))
		}, Inconclusive, []string{"restore inconclusive", "offset 0 [0-0]"}},
	})
}

func TestVerdictSnapshotLatency(t *testing.T) {
	paced := func(r snapPaced) snapshotOutcome {
		o := snapGood()
		o.Paced["100ms"] = r
		return o
	}
	runVerdictCases(t, []verdictCase{
		{"holds (the slow-step skew trials are not judged)", func() Verdict { return verdictSnapshotLatency(snapGood()) }, Holds,
			[]string{"every 100ms: p99 420 [405-430] ms, 102%", "not judged, fewer than 10 checkpoints per repetition: 10s"}},
		{"does not hold", func() Verdict {
			return verdictSnapshotLatency(paced(snapPaced{P99: sp(600, 620, 650), Checkpoints: sp(40, 42, 45)}))
		}, DoesNotHold, []string{"151%", "outside the spread"}},
		{"inconclusive: too few checkpoints", func() Verdict {
			return verdictSnapshotLatency(paced(snapPaced{P99: sp(600, 620, 650), Checkpoints: sp(8, 12, 12)}))
		}, Inconclusive, []string{"no interval completed 10 checkpoints", "100ms (12 [8-12] checkpoints)"}},
		{"inconclusive: inside the spread", func() Verdict {
			return verdictSnapshotLatency(paced(snapPaced{P99: sp(410, 500, 700), Checkpoints: sp(40, 42, 45)}))
		}, Inconclusive, []string{"inside the spread", "122%"}},
		{"inconclusive: one interval inside the spread, the other within the bound", func() Verdict {
			o := paced(snapPaced{P99: sp(410, 500, 700), Checkpoints: sp(40, 42, 45)})
			o.Paced["500ms"] = snapPaced{P99: sp(400, 411, 415), Checkpoints: sp(11, 11, 12)}
			return verdictSnapshotLatency(o)
		}, Inconclusive, []string{"inside the spread", "122%", "within 10%: every 500ms: p99 411 [400-415] ms, 100%"}},
		{"inconclusive: a judged trial failed", func() Verdict {
			return verdictSnapshotLatency(paced(snapPaced{Failed: "hung (cut by its time limit)"}))
		}, Inconclusive, []string{"trials failed", "100ms"}},
		{"inconclusive: too few baseline repetitions", func() Verdict {
			o := snapGood()
			o.Paced[snapshotBase] = snapPaced{P99: sp(400, 410)}
			return verdictSnapshotLatency(o)
		}, Inconclusive, []string{"2 repetitions"}},
	})
}

func TestVerdictSnapshotSmall(t *testing.T) {
	small := func(s snapSize) snapshotOutcome {
		o := snapGood()
		o.Sizes[0] = s
		return o
	}
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict { return verdictSnapshotSmall(snapGood()) }, Holds, []string{"sketch width 1024", "95%"}},
		{"does not hold", func() Verdict {
			return verdictSnapshotSmall(small(snapSize{Width: 1024, Base: sp(100, 105, 110), Throughput: sp(60, 70, 80), Bytes: sp(1, 1, 1), Duration: sp(5, 6, 7), Checkpoints: sp(5, 6, 7)}))
		}, DoesNotHold, []string{"67% of 105 [100-110]"}},
		{"inconclusive: inside the spread", func() Verdict {
			return verdictSnapshotSmall(small(snapSize{Width: 1024, Base: sp(80, 105, 130), Throughput: sp(70, 85, 120), Bytes: sp(1, 1, 1), Duration: sp(5, 6, 7), Checkpoints: sp(5, 6, 7)}))
		}, Inconclusive, []string{"inside the spread", "81%"}},
		{"inconclusive: too few checkpoints", func() Verdict {
			return verdictSnapshotSmall(small(snapSize{Width: 1024, Base: sp(100, 105, 110), Throughput: sp(60, 70, 80), Checkpoints: sp(2, 3, 3)}))
		}, Inconclusive, []string{"fewer than 3 checkpoints (3 [2-3])"}},
		{"inconclusive: failed", func() Verdict {
			return verdictSnapshotSmall(small(snapSize{Width: 1024, Failed: "hung (cut by its time limit)"}))
		}, Inconclusive, []string{"sketch width 1024 failed"}},
	})
}

func TestVerdictSnapshotSize(t *testing.T) {
	large := func(s snapSize) snapshotOutcome {
		o := snapGood()
		o.Sizes[1] = s
		return o
	}
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict { return verdictSnapshotSize(snapGood()) }, Holds, []string{"sketch width 1048576: 72000000 [70000000-75000000] bytes"}},
		{"does not hold: the larger state checkpoints faster", func() Verdict {
			return verdictSnapshotSize(large(snapSize{Width: 1 << 20, Bytes: sp(7e7, 7.2e7, 7.5e7), Duration: sp(1, 2, 3), Checkpoints: sp(2, 3, 3)}))
		}, DoesNotHold, []string{"faster", "checkpoint p50 2 [1-3] ms"}},
		{"inconclusive: inside the spread", func() Verdict {
			return verdictSnapshotSize(large(snapSize{Width: 1 << 20, Bytes: sp(7e7, 7.2e7, 7.5e7), Duration: sp(4, 8, 20), Checkpoints: sp(2, 3, 3)}))
		}, Inconclusive, []string{"does not grow outside the spread"}},
		{"inconclusive: no checkpoint", func() Verdict {
			return verdictSnapshotSize(large(snapSize{Width: 1 << 20, Bytes: sp(0, 0, 0), Duration: sp(0, 0, 0), Checkpoints: sp(0, 0, 0)}))
		}, Inconclusive, []string{"sketch width 1048576 has 3 repetitions with 0 [0-0] checkpoints"}},
		{"inconclusive: one size only", func() Verdict {
			o := snapGood()
			o.Sizes = o.Sizes[:1]
			return verdictSnapshotSize(o)
		}, Inconclusive, []string{"1 state sizes ran"}},
	})
}

func TestVerdictSnapshotRestore(t *testing.T) {
	restore := func(r snapRestore) snapshotOutcome {
		o := snapGood()
		o.Restore = r
		return o
	}
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict { return verdictSnapshotRestore(snapGood()) }, Holds, []string{"3 crash repetitions restored 1 [1-1]", "offset 14500 [14000-14700]"}},
		{"does not hold: a restore is not exact", func() Verdict {
			return verdictSnapshotRestore(restore(snapRestore{Restored: sp(1, 1, 1), Offset: sp(1, 2, 3), Matched: 0, N: 3}))
		}, DoesNotHold, []string{"3 of 3"}},
		{"inconclusive: restored from the start", func() Verdict {
			return verdictSnapshotRestore(restore(snapRestore{Restored: sp(0, 1, 1), Offset: sp(0, 2, 3), Matched: 3, N: 3}))
		}, Inconclusive, []string{"non-zero offset"}},
		{"inconclusive: failed", func() Verdict {
			return verdictSnapshotRestore(restore(snapRestore{Failed: "hung (cut by its time limit)"}))
		}, Inconclusive, []string{"crash trial failed"}},
	})
}

func TestPaneLatencies(t *testing.T) {
	trace := []datasets.TraceRow{
		{Kind: datasets.TraceRecord, IngestNanos: 2e9},
		{Kind: datasets.TraceRecord, IngestNanos: 1e9},
		{Kind: datasets.TracePane, IngestNanos: 1.5e9, EmitNanos: 1.6e9},
		{Kind: datasets.TracePane, IngestNanos: 2e9, EmitNanos: 2.3e9},
		{Kind: datasets.TracePane, IngestNanos: 2e9, EmitNanos: 2.1e9},
	}
	lat, emit, start := paneLatencies(trace)
	if start != 1e9 || len(lat) != 3 || lat[0] != 100 || lat[1] != 300 {
		t.Fatalf("paneLatencies = %v, %v, %d", lat, emit, start)
	}
	if q := nearestRank(lat, 0.99); q != 300 {
		t.Errorf("p99 = %v, want 300", q)
	}
	if q := nearestRank(lat, 0.5); q != 100 {
		t.Errorf("p50 = %v, want 100 (nearest rank of 100, 100, 300)", q)
	}
	s := p99OverTime(lat, emit, start, 500*time.Millisecond)
	if len(s) != 2 || s[0].T != 0.75 || s[0].V != 100 || s[1].T != 1.25 || s[1].V != 300 {
		t.Errorf("p99OverTime = %v", s)
	}
}

// TestSideBySideSmoke runs two tiny exactly-once trials side by side and
// checks that each gives a report with pane latencies (no speed is
// asserted).
func TestSideBySideSmoke(t *testing.T) {
	w := mustWorkload("ysb")
	tr := trial{workload: w, runtime: "recordstream", flags: RuntimeFlags{Guarantee: "exactly-once", Parallelism: 2, CheckpointInterval: time.Hour},
		data: DataSpec{Events: 2000}, opts: Options{Trace: true}, timeout: time.Minute}
	runs := sideBySide(t.Context(), []trial{tr, tr}, []bool{true, false}, time.Second, nil)
	if len(runs) != 2 {
		t.Fatalf("%d runs, want 2", len(runs))
	}
	for i, r := range runs {
		if r.err != nil {
			t.Fatalf("run %d: %v", i, r.err)
		}
		if !r.rep.Check.OK() || r.p99 <= 0 || r.rep.Trace != nil {
			t.Errorf("run %d: check %s, p99 %v, trace kept %v", i, r.rep.Check, r.p99, r.rep.Trace != nil)
		}
	}
	if runs[0].overTime == nil || runs[1].overTime != nil {
		t.Errorf("over-time series kept for %v and %v, want the first only", runs[0].overTime != nil, runs[1].overTime != nil)
	}
}
