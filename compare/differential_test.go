package compare

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/dataflow/dataflowtest"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/clock"
)

// The differential test is weir's main equality test (issue 9): random
// pipelines from dataflowtest over every built-in dataset, each run on
// every runtime configuration below and checked by the check the bench
// uses (checkOutcome: equal to dataflow.Reference after the verified late
// exclusions, no unverified drop). The hand-picked shapes of each package's
// tests are examples; this is the net.
//
// Reproduce a failure with the seed and index it prints:
//
//	go test ./compare -run TestDifferential/cases/017 -diff.seed=S
//
// and run more pipelines with -diff.n.
var (
	diffSeed = flag.Uint64("diff.seed", 20261201, "seed of TestDifferential's pipelines and data")
	diffN    = flag.Int("diff.n", 200, "random pipelines TestDifferential runs on every runtime configuration")
)

// Scales of the generated data and windows. A log holds a few hundred to
// about a thousand events over diffEventSpan of event time and
// diffIngestSpan of ingest time (a manual clock paces the fill, so ingest
// times are deterministic and the log is complete before the run).
const (
	diffEventSpan  = 20 * time.Second
	diffIngestSpan = 24 * time.Millisecond
	// diffBatch is microbatch's batch interval: 2 ms against processing
	// time units of 1 ms, so some DStream windows are not multiples of it
	// and must be refused.
	diffBatch = 2 * time.Millisecond
)

// diffConfig is one runtime configuration of the differential test.
type diffConfig struct {
	name    string
	runtime string
	flags   RuntimeFlags
	// tweak adjusts the built runner where RuntimeFlags has no flag.
	tweak func(r Runner)
}

// diffConfigs returns every runtime configuration: recordstream's
// guarantees and checkpoint modes at parallelism 1 and 2, and microbatch's
// two models. recordstream's spouts send a watermark every 16 records
// (default 4096) and move batches of 16 tuples, so a log of a few hundred
// records sees many watermarks, and skewed input is dropped as late and
// verified.
func diffConfigs() []diffConfig {
	small := func(r Runner) {
		c := &r.(*recordstreamRunner).cfg
		c.WatermarkEvery, c.BatchSize = 16, 16
	}
	var cs []diffConfig
	for _, par := range []int{1, 2} {
		for _, g := range []struct {
			name  string
			flags RuntimeFlags
			tweak func(Runner)
		}{
			{"at-most-once", RuntimeFlags{Guarantee: "at-most-once"}, small},
			{"at-least-once", RuntimeFlags{Guarantee: "at-least-once"}, small},
			{"exactly-once", RuntimeFlags{Guarantee: "exactly-once", CheckpointInterval: 2 * time.Millisecond}, small},
			{"exactly-once-unaligned", RuntimeFlags{Guarantee: "exactly-once", CheckpointInterval: 2 * time.Millisecond, Unaligned: true}, small},
			{"trident", RuntimeFlags{Guarantee: "trident", TridentBatchSize: 50, TridentPending: 2}, small},
			{"trident-opaque", RuntimeFlags{Guarantee: "trident", TridentBatchSize: 50, TridentSpout: "opaque"}, small},
			{"exactly-once-alo-checkpoints", RuntimeFlags{Guarantee: "exactly-once", CheckpointInterval: 2 * time.Millisecond}, func(r Runner) {
				small(r)
				r.(*recordstreamRunner).cfg.AtLeastOnceCheckpoints = true
			}},
		} {
			f := g.flags
			f.Parallelism = par
			cs = append(cs, diffConfig{name: fmt.Sprintf("recordstream/%s/p=%d", g.name, par), runtime: "recordstream", flags: f, tweak: g.tweak})
		}
	}
	cs = append(cs,
		diffConfig{name: "microbatch/dstream", runtime: "microbatch", flags: RuntimeFlags{Mode: "dstream", BatchInterval: diffBatch}},
		diffConfig{name: "microbatch/event-time", runtime: "microbatch", flags: RuntimeFlags{Mode: "event-time", BatchInterval: diffBatch}},
	)
	return cs
}

// diffRefusal declares a combination a model cannot express: on the
// configurations whose name starts with config, a pipeline for which
// applies is true must be refused with a *dataflow.UnsupportedError whose
// reason contains reason, before any work (the test also runs it on an
// empty log). A declared pipeline that runs fails the test, as does a
// refusal nobody declared.
type diffRefusal struct {
	config  string
	applies func(p *dataflow.Pipeline) bool
	reason  string
	why     string
}

// diffRefusals is the one table of what the models cannot express.
func diffRefusals() []diffRefusal {
	win := func(k dataflow.WindowKind) func(p *dataflow.Pipeline) bool {
		return func(p *dataflow.Pipeline) bool { return p.Agg != nil && p.Agg.Window.Kind == k }
	}
	b := diffBatch.Milliseconds()
	return []diffRefusal{
		{"microbatch/", win(dataflow.WindowCount), "count windows",
			"Spark has no count windows: DStream windows are spans of batch time, Structured Streaming's spans of event time"},
		{"microbatch/dstream", win(dataflow.WindowSession), "session windows",
			"DStream windows are fixed spans of batch time (window(length, slide)); a session's end depends on the data"},
		{"microbatch/dstream", func(p *dataflow.Pipeline) bool {
			a := p.Agg
			if a == nil || a.Domain != dataflow.ProcessingTime || (a.Window.Kind != dataflow.WindowFixed && a.Window.Kind != dataflow.WindowSliding) {
				return false
			}
			return a.Window.Size%b != 0 || a.Window.Period%b != 0 || a.Window.Offset%b != 0
		}, "multiple", "DStream windows must be multiples of the batch interval (length, slide and offset), Spark's WindowedDStream check"},
		{"microbatch/event-time", func(p *dataflow.Pipeline) bool {
			return win(dataflow.WindowSession)(p) && len(p.Agg.Key) == 0
		}, "grouping column", "Structured Streaming's session_window needs a grouping column besides the session"},
	}
}

// diffKnownBug is a combination a runtime gets wrong today, found by this
// test. A run it applies to may fail only with the bug's signature (so the
// entry hides nothing else) or pass (the data did not trigger it); over the
// default run every entry must reproduce at least once, so a fix flips the
// test loudly: then delete the entry.
type diffKnownBug struct {
	config  string
	applies func(p *dataflow.Pipeline) bool
	// signature reports whether a failed check is this bug.
	signature func(c CheckResult) bool
	issue     string
	// flaky says the bug depends on timing, so the default run need not
	// reproduce it.
	flaky bool
}

// diffKnownBugs is the table of known runtime bugs, reported and not yet
// fixed.
func diffKnownBugs() []diffKnownBug {
	// Fixed and removed: session panes that outlived a merge (now
	// dataflow.PaneMerged), and a watermark that jumped to the end of the
	// input while an idle partition still had records (now held by
	// dataflow.WatermarkTracker).
	return nil
}

func (d diffRefusal) match(config string, p *dataflow.Pipeline) bool {
	return strings.HasPrefix(config, d.config) && d.applies(p)
}

func (b diffKnownBug) match(config string, p *dataflow.Pipeline) bool {
	return strings.HasPrefix(config, b.config) && b.applies(p)
}

// diffDataset is one built-in dataset as a dataflowtest domain.
type diffDataset struct {
	gen    datasets.Generator
	domain dataflowtest.Domain
}

// diffDomains describes every built-in dataset from a sample of its data:
// keys are the columns with 2 to 300 distinct values in 2,000 events,
// small ones have at most dataflowtest.SmallLimit, and filters compare
// with sampled values. ysb joins its campaigns table (rebound to each
// case's seed by bindTables); weblogs gets a made-up table of status
// classes (an integer lookup key that leaves one status out).
func diffDomains(t *testing.T) []diffDataset {
	t.Helper()
	var out []diffDataset
	for _, name := range datasets.Names() {
		gen, err := datasets.Lookup(name)
		require.NoError(t, err)
		cfg := datasets.Config{Events: 2000, Seed: 1, EventRate: 100}
		l, tables, err := datasets.Generate(t.Context(), name, cfg)
		require.NoError(t, err)
		s := gen.Schema()
		distinct := make([]map[string]bool, s.Len())
		for i := range distinct {
			distinct[i] = map[string]bool{}
		}
		var rows []dataflow.Row
		for rec := range l.All() {
			for i, v := range rec.Row {
				distinct[i][v.String()] = true
			}
			if len(rows) < 400 {
				rows = append(rows, slices.Clone(rec.Row))
			}
		}
		d := dataflowtest.Domain{Name: name, Schema: s, TimeCol: "event_time", PartitionKey: gen.PartitionKey(), Values: map[string][]dataflow.Value{}}
		r := rand.New(rand.NewPCG(1, 9))
		for i, f := range s.Fields {
			n := len(distinct[i])
			if f.Kind != dataflow.KindFloat64 && f.Kind != dataflow.KindTimestamp && n >= 2 && n <= 300 {
				d.Keys = append(d.Keys, f.Name)
			}
			if n <= dataflowtest.SmallLimit {
				d.Small = append(d.Small, f.Name)
			}
			for range 3 {
				d.Values[f.Name] = append(d.Values[f.Name], rows[r.IntN(len(rows))][i])
			}
		}
		switch name {
		case "hashtags":
			d.Text = []dataflowtest.Text{{Col: "text", Prefix: "#"}}
		case "ysb":
			c := tables["campaigns"]
			require.NotNil(t, c)
			d.Lookups = []dataflow.LookupStep{{Table: c, On: "ad_id", Key: "ad_id", Cols: []string{"campaign_id"}}}
		case "weblogs":
			d.Lookups = []dataflow.LookupStep{{Table: statusClasses(distinct[s.Index("status")]), On: "status", Key: "status", Cols: []string{"class"}}}
		}
		out = append(out, diffDataset{gen: gen, domain: d})
	}
	return out
}

// statusClasses maps every status but the smallest to its class (status /
// 100).
func statusClasses(seen map[string]bool) *dataflow.Table {
	var codes []int64
	for s := range seen {
		var c int64
		fmt.Sscan(s, &c)
		codes = append(codes, c)
	}
	slices.Sort(codes)
	t := &dataflow.Table{Name: "status_classes", Schema: dataflow.NewSchema(
		dataflow.Field{Name: "status", Kind: dataflow.KindInt64}, dataflow.Field{Name: "class", Kind: dataflow.KindInt64})}
	for _, c := range codes[1:] {
		t.Rows = append(t.Rows, dataflow.Row{dataflow.Int(c), dataflow.Int(c / 100)})
	}
	return t
}

// bindTables returns p with each lookup of a seed-dependent dataset table
// replaced by the table of that name for the case's data.
func bindTables(p *dataflow.Pipeline, tables map[string]*dataflow.Table) *dataflow.Pipeline {
	q := *p
	q.Steps = slices.Clone(p.Steps)
	for i, s := range q.Steps {
		if l, ok := s.(dataflow.LookupStep); ok {
			if t := tables[l.Table.Name]; t != nil {
				l.Table = t
				q.Steps[i] = l
			}
		}
	}
	return &q
}

// diffCase is one generated pipeline with its data.
type diffCase struct {
	dataflowtest.Case
	ds   diffDataset
	data datasets.Config
}

func (c diffCase) String() string {
	return fmt.Sprintf("%v  data: %s, %d events, seed %d, %d partitions, event rate %.0f/s, skew %+v (in order %v)",
		c.Case, c.ds.gen.Name(), c.data.Events, c.data.Seed, c.data.Partitions, c.data.EventRate, c.data.Skew, c.data.InOrder)
}

// diffData draws a case's data: size, partitions and event-time disorder
// (in order, the default skew, or out-of-order and late records well past
// the watermark bounds the generator draws).
func diffData(r *rand.Rand) datasets.Config {
	events := 300 + r.Int64N(900)
	cfg := datasets.Config{Events: events, Seed: r.Uint64N(1 << 32), Partitions: 1 + r.IntN(4),
		EventRate: float64(events) / diffEventSpan.Seconds()}
	switch x := r.Float64(); {
	case x < 0.2:
		cfg.InOrder = true
	case x < 0.45:
		// the default skew
	default:
		cfg.Skew = datasets.Skew{Delay: time.Duration(1+r.IntN(6000)) * time.Millisecond, OutOfOrder: r.Float64() * 0.3,
			Late: r.Float64() * 0.05, LateDelay: time.Duration(2+r.IntN(20_000)) * time.Millisecond}
	}
	return cfg
}

// diffLog fills a closed log with a case's data, ingest times paced by a
// manual clock over diffIngestSpan.
func diffLog(ctx context.Context, c diffCase) (*datasets.Log, map[string]*dataflow.Table, error) {
	l, err := datasets.NewLogFor(c.ds.gen, c.data)
	if err != nil {
		return nil, nil, err
	}
	// A manual clock jumps over every wait of the paced fill: ingest times
	// are spaced by the pacing rate, deterministically, without waiting.
	clk := clock.NewManual(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	rate := float64(c.data.Events) / diffIngestSpan.Seconds()
	fillCtx, filled := context.WithCancel(ctx)
	var fillErr error
	go func() {
		defer filled()
		fillErr = datasets.Fill(fillCtx, c.ds.gen, l, c.data, datasets.Pacing{Rate: rate, Clock: clk})
	}()
	_ = clk.FastForward(fillCtx)
	if fillErr != nil {
		return nil, nil, fillErr
	}
	return l, c.ds.gen.Tables(c.data.Seed), nil
}

// diffStats is what one configuration did over the run.
type diffStats struct {
	matched, refused, knownBugs, verifiedLate int
	elapsed                                   time.Duration
}

// TestDifferential runs -diff.n random pipelines (default 200) on every
// runtime configuration of diffConfigs. Each either matches the reference
// (the bench's check: OK, no replays without faults) or is declared in
// diffRefusals and refused before any work; nothing is skipped. It then
// asserts the generator's coverage: every feature of dataflowtest, every
// dataset.
func TestDifferential(t *testing.T) {
	seed, n := *diffSeed, *diffN
	t.Logf("seed %d (-diff.seed), %d pipelines per configuration (-diff.n)", seed, n)
	dss := diffDomains(t)
	domains := make([]dataflowtest.Domain, len(dss))
	for i, d := range dss {
		domains[i] = d.domain
	}
	g, err := dataflowtest.NewGenerator(dataflowtest.Config{
		EventWindow:      diffEventSpan / 5,
		ProcessingWindow: 4 * time.Millisecond,
		MaxBound:         2 * time.Second,
	}, domains...)
	require.NoError(t, err)

	r := rand.New(rand.NewPCG(seed, 0))
	cases := make([]diffCase, n)
	cov := make(dataflowtest.Coverage)
	perDomain := map[string]int{}
	for i := range cases {
		c, err := g.Pipeline(r, i)
		require.NoError(t, err, "seed %d", seed)
		cases[i] = diffCase{Case: c, ds: dss[i%len(dss)], data: diffData(r)}
		cov.Add(c)
		perDomain[c.Domain.Name]++
	}

	configs := diffConfigs()
	refusals, bugs := diffRefusals(), diffKnownBugs()
	var (
		mu         sync.Mutex
		stats      = map[string]*diffStats{}
		ran        int
		reproduced = make([]int, len(bugs))
	)
	for _, cfg := range configs {
		stats[cfg.name] = &diffStats{}
	}
	t.Run("cases", func(t *testing.T) {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%03d-%s", c.Index, c.Domain.Name), func(t *testing.T) {
				t.Parallel()
				local, rep := runDiffCase(t, seed, c, configs, refusals, bugs)
				mu.Lock()
				defer mu.Unlock()
				ran++
				for _, b := range rep {
					reproduced[b]++
				}
				for name, s := range local {
					st := stats[name]
					st.matched += s.matched
					st.refused += s.refused
					st.knownBugs += s.knownBugs
					st.verifiedLate += s.verifiedLate
					st.elapsed += s.elapsed
				}
			})
		}
	})
	for _, cfg := range configs {
		s := stats[cfg.name]
		t.Logf("%-45s matched %3d, refused %3d, known bugs %3d, verified late drops %d, %v", cfg.name, s.matched, s.refused, s.knownBugs, s.verifiedLate, s.elapsed.Round(time.Millisecond))
	}
	t.Logf("coverage: %v", cov)
	for i, b := range bugs {
		t.Logf("known bug reproduced in %d runs: %s", reproduced[i], b.issue)
	}
	if n < 200 || ran < n {
		t.Logf("%d of %d cases ran: coverage and known bugs not asserted", ran, n)
		return // a reproduction of a few cases covers less
	}
	for i, b := range bugs {
		if b.flaky {
			continue
		}
		assert.Positive(t, reproduced[i], "known bug no longer reproduces, delete it from diffKnownBugs if it is fixed: %s", b.issue)
	}
	assert.Empty(t, cov.Missing(dataflowtest.AllFeatures()), "features no pipeline exercised (seed %d)", seed)
	for _, d := range dss {
		assert.Positive(t, perDomain[d.domain.Name], "no pipeline over %s", d.domain.Name)
	}
	for _, cfg := range configs {
		assert.GreaterOrEqual(t, stats[cfg.name].matched, n/2, "%s matched fewer than half of the pipelines", cfg.name)
	}
	late := 0
	for name, s := range stats {
		if strings.HasPrefix(name, "recordstream/") {
			late += s.verifiedLate
		}
	}
	assert.Positive(t, late, "no recordstream run dropped a record late: the skewed inputs exercise nothing")
}

// runDiffCase runs one case on every configuration and returns what each
// did.
func runDiffCase(t *testing.T, seed uint64, c diffCase, configs []diffConfig, refusals []diffRefusal, bugs []diffKnownBug) (map[string]diffStats, []int) {
	ctx := t.Context()
	log, tables, err := diffLog(ctx, c)
	require.NoError(t, err, "seed %d: %v", seed, c)
	p := bindTables(c.Pipeline, tables)
	w := &Workload{Name: p.Name, Dataset: c.ds.gen.Name(), Pipeline: func(map[string]*dataflow.Table) (*dataflow.Pipeline, error) { return p, nil }}
	full := &fullReference{}
	out := map[string]diffStats{}
	var reproduced []int // indexes of bugs that reproduced
	for _, cfg := range configs {
		what := func() string {
			return fmt.Sprintf("seed %d (-diff.seed), config %s, case %v", seed, cfg.name, c)
		}
		runner, err := NewRunner(cfg.runtime, cfg.flags)
		require.NoError(t, err, cfg.name)
		if cfg.tweak != nil {
			cfg.tweak(runner)
		}
		var st diffStats
		declared := slices.IndexFunc(refusals, func(d diffRefusal) bool { return d.match(cfg.name, p) })
		bug := slices.IndexFunc(bugs, func(b diffKnownBug) bool { return b.match(cfg.name, p) })
		start := time.Now()
		rep, err := runLog(ctx, w, runner, log, tables, DataSpec{}, Options{Seed: c.data.Seed}, nil, full)
		st.elapsed = time.Since(start)
		var ue *dataflow.UnsupportedError
		switch {
		case declared >= 0:
			d := refusals[declared]
			if !assert.ErrorAs(t, err, &ue, "declared refusal (%s) but the run did not refuse: %s", d.why, what()) {
				continue
			}
			assert.Contains(t, ue.Reason, d.reason, "refused for another reason than declared (%s): %s", d.why, what())
			// Refused before any work: the refusal does not depend on the
			// data, so an empty log gets it too.
			_, err := runner.Run(ctx, &Job{Pipeline: p, Log: emptyLog(t, log)})
			assert.ErrorAs(t, err, &ue, "refusal of %s on an empty log: %s", cfg.name, what())
			st.refused++
		case errors.As(err, &ue):
			t.Errorf("undeclared refusal %v: declare it in diffRefusals if the model cannot express it: %s", err, what())
		case bug >= 0 && err == nil && !rep.Check.OK():
			b := bugs[bug]
			ck := rep.Check
			assert.True(t, b.signature(ck), "a run under known bug %q fails another way: %s\ncheck: %v\nexamples: %q", b.issue, what(), ck, ck.Examples)
			reproduced = append(reproduced, bug)
			st.knownBugs++
		default:
			if !assert.NoError(t, err, what()) {
				continue
			}
			ck := rep.Check
			assert.True(t, ck.OK(), "%s\ncheck: %v\nexamples: %q\nunverified late: %q", what(), ck, ck.Examples, ck.Late.Examples)
			assert.Zero(t, ck.Late.Replays, "replays without faults: %s", what())
			if ck.OK() {
				st.matched++
			}
			st.verifiedLate += ck.Late.Verified
		}
		out[cfg.name] = st
	}
	return out, reproduced
}

// emptyLog returns a closed log with no records, of l's schema and
// partitions.
func emptyLog(t *testing.T, l *datasets.Log) *datasets.Log {
	e, err := datasets.NewLog(datasets.LogConfig{Schema: l.Schema(), Partitions: l.Partitions()})
	require.NoError(t, err)
	e.Close()
	return e
}
