package microbatch

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/dataflow/wire"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/snapshot"
)

// firstRestore picks the checkpoint to damage: the one the first restore
// reads first, the newest in the store when the driver crashed (the store
// reads nothing before that: the first incarnation finds it empty).
type firstRestore struct {
	mu     sync.Mutex
	target string // checkpoint directory, "chk-5"
}

func (f *firstRestore) hit(path string) bool {
	dir := filepath.Base(filepath.Dir(path))
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.target == "" {
		f.target = dir
	}
	return dir == f.target
}

// checkpointDamage is the fault matrix of the shared store (internal/
// snapshot's TestStoreFallsBack), applied to the newest checkpoint of a
// crashed run through a FaultFS over a MemFS. fallback says whether
// skipping it counts as a fallback (an unfinished checkpoint does not).
func checkpointDamage() []struct {
	name     string
	fault    func(f *firstRestore) *snapshot.FaultFS
	fallback bool
} {
	onRead := func(damage func(b []byte) []byte) func(f *firstRestore) *snapshot.FaultFS {
		return func(f *firstRestore) *snapshot.FaultFS {
			return &snapshot.FaultFS{FS: snapshot.NewMemFS(), Read: func(path string, b []byte) []byte {
				if f.hit(path) && strings.HasSuffix(path, ".snap") {
					return damage(b)
				}
				return b
			}}
		}
	}
	missing := func(suffix string) func(f *firstRestore) *snapshot.FaultFS {
		return func(f *firstRestore) *snapshot.FaultFS {
			return &snapshot.FaultFS{FS: snapshot.NewMemFS(), Inject: func(op snapshot.Op, path string) error {
				if op == snapshot.OpReadFile && f.hit(path) && strings.HasSuffix(path, suffix) {
					return &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
				}
				return nil
			}}
		}
	}
	return []struct {
		name     string
		fault    func(f *firstRestore) *snapshot.FaultFS
		fallback bool
	}{
		{"bit flip", onRead(func(b []byte) []byte { b[len(b)/2] ^= 0x20; return b }), true},
		{"truncated file", onRead(func(b []byte) []byte { return b[:len(b)-5] }), true},
		{"partial file", onRead(func(b []byte) []byte { return b[:snapshot.HeaderSize] }), true},
		{"wrong version", onRead(func(b []byte) []byte { b[8]++; return b }), true},
		{"CRC mismatch", onRead(func(b []byte) []byte { b[len(b)-1] ^= 0xff; return b }), true},
		{"missing task file", missing(".snap"), true},
		{"missing marker", missing("_COMPLETED"), false},
	}
}

// TestCheckpointFallsBackPastDamage: a driver crash whose newest checkpoint
// is damaged restarts from an older one (snapshot's SN4) and gives the same
// results as the same crash without damage, which are the reference answer
// (MF2).
func TestCheckpointFallsBackPastDamage(t *testing.T) {
	l := testLog(t, 2, 3000, 3, 20_000, 2000)
	src := datasets.NewArrowSource(l)
	sh := shapes()
	crash := []Failure{{AfterRecords: 1800, Kind: CrashDriver}}
	for _, pc := range []struct {
		pipeline string
		mode     Mode
		all      bool // run every damage case, not only the first
	}{
		{"sliding-multi", ModeEventTime, true},
		{"session", ModeEventTime, false},
		{"proc-sliding", ModeDStream, false},
	} {
		p := sh[pc.pipeline]
		run := func(t *testing.T, fsys snapshot.FS) *Report {
			t.Helper()
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			cfg := Config{Mode: pc.mode, BatchInterval: time.Second, Allocator: mem, Failures: crash,
				CheckpointDir: "/checkpoints", CheckpointFS: fsys}
			rep, err := Run(context.Background(), p, src, cfg)
			require.NoError(t, err)
			return rep
		}
		clean := run(t, snapshot.NewMemFS())
		requireSparkResults(t, p, l, clean)
		require.Equal(t, int64(1), clean.Counters["driver_restarts"])
		require.Zero(t, clean.Counters["checkpoint_fallbacks"])
		for i, dc := range checkpointDamage() {
			if i > 0 && !pc.all {
				break
			}
			t.Run(pc.pipeline+"/"+dc.name, func(t *testing.T) {
				var f firstRestore
				rep := run(t, dc.fault(&f))
				require.NotEmpty(t, f.target, "the restore read no checkpoint: the test does not exercise the fallback")
				assert.Equal(t, int64(1), rep.Counters["driver_restarts"])
				want := int64(0)
				if dc.fallback {
					want = 1
				}
				assert.Equal(t, want, rep.Counters["checkpoint_fallbacks"], "fallbacks past %s with %s", f.target, dc.name)
				assert.Zero(t, rep.Counters["restarts_from_start"], "an older checkpoint was left to restore")
				if dc.fallback {
					// The warning names the damaged checkpoint's file.
					require.Len(t, rep.Warnings, 1, "warnings after skipping %s", f.target)
					assert.Contains(t, rep.Warnings[0], filepath.Join("/checkpoints", f.target)+"/")
				} else {
					assert.Empty(t, rep.Warnings, "an unfinished checkpoint is skipped without a warning")
				}
				requireSameResults(t, clean.Results, rep.Results)
				requireSparkResults(t, p, l, rep)
			})
		}
	}
}

// TestCheckpointAllDamagedRestartsFromStart: a driver crash whose every
// checkpoint is damaged restarts from offset 0, and says so: each damaged
// file is warned of, the restart is counted (restarts_from_start), and the
// results are still the reference answer (the sink is idempotent, MF2).
func TestCheckpointAllDamagedRestartsFromStart(t *testing.T) {
	l := testLog(t, 2, 3000, 3, 20_000, 2000)
	p := shapes()["sliding-multi"]
	fsys := &snapshot.FaultFS{FS: snapshot.NewMemFS(), Read: func(path string, b []byte) []byte {
		if strings.HasSuffix(path, ".snap") {
			b[len(b)/2] ^= 0x20
		}
		return b
	}}
	cfg := Config{BatchInterval: time.Second, Failures: []Failure{{AfterRecords: 1800, Kind: CrashDriver}},
		CheckpointDir: "/checkpoints", CheckpointFS: fsys}
	rep, err := Run(context.Background(), p, datasets.NewArrowSource(l), cfg)
	require.NoError(t, err)
	require.Equal(t, int64(1), rep.Counters["driver_restarts"])
	fallbacks := rep.Counters["checkpoint_fallbacks"]
	require.Positive(t, fallbacks, "the restart skipped no damaged checkpoint: the test does not exercise it")
	assert.Equal(t, int64(1), rep.Counters["restarts_from_start"])
	require.Len(t, rep.Warnings, int(fallbacks)+1, "one warning per damaged checkpoint, and one for the restart from the start: %q", rep.Warnings)
	for _, w := range rep.Warnings[:fallbacks] {
		assert.Regexp(t, `/checkpoints/chk-\d+/task-0\.snap`, w)
	}
	assert.Contains(t, rep.Warnings[fallbacks], "from the start of the input")
	assert.Contains(t, rep.Warnings[fallbacks], "/checkpoints")
	requireSparkResults(t, p, l, rep)
}

// TestCheckpointDirOfAnotherRunIsRefused: a run restores only its own
// checkpoints (snapshot's SN6). A second run of the same pipeline over
// the same log into the first one's directory, or a run of another
// pipeline, is refused before it starts with a *ConfigError on
// CheckpointDir naming the checkpoint, instead of resuming the first run's
// final state and reporting no results. The first run's files are left
// as they were.
func TestCheckpointDirOfAnotherRunIsRefused(t *testing.T) {
	l := testLog(t, 3, 1000, 2, 8000, 500)
	src := datasets.NewArrowSource(l)
	sh := shapes()
	fsys := snapshot.NewMemFS()
	cfg := Config{BatchInterval: time.Second, CheckpointDir: "/checkpoints", CheckpointFS: fsys, CheckpointIdentity: "input A"}
	first, err := Run(context.Background(), sh["fixed-count"], src, cfg)
	require.NoError(t, err)
	require.NotEmpty(t, first.Results)
	require.Positive(t, first.Counters["checkpoints"])
	before, err := fsys.ReadDir("/checkpoints")
	require.NoError(t, err)
	for _, tc := range []struct {
		name     string
		pipeline string
		identity string
		want     string
	}{
		{"the same command again", "fixed-count", "input A", "another run of the same job"},
		{"another input", "fixed-count", "input B", "another job"},
		{"another pipeline", "sliding-multi", "input A", "another job"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			c.CheckpointIdentity = tc.identity
			rep, err := Run(context.Background(), sh[tc.pipeline], src, c)
			require.Error(t, err, "a run into another run's checkpoint directory (it reported %d results)", resultsOf(rep))
			assert.ErrorIs(t, err, snapshot.ErrForeign)
			ce, ok := errors.AsType[*ConfigError](err)
			require.True(t, ok, "%v is a *ConfigError", err)
			assert.Equal(t, "CheckpointDir", ce.Field)
			assert.Regexp(t, `/checkpoints/chk-\d+/_COMPLETED`, err.Error())
			assert.ErrorContains(t, err, tc.want)
			after, err := fsys.ReadDir("/checkpoints")
			require.NoError(t, err)
			assert.Equal(t, before, after, "the refused run left the directory as it was")
		})
	}
	t.Run("an unfinished checkpoint", func(t *testing.T) {
		fsys := snapshot.NewMemFS()
		require.NoError(t, fsys.MkdirAll("/checkpoints/chk-3"))
		c := cfg
		c.CheckpointFS = fsys
		_, err := Run(context.Background(), sh["fixed-count"], src, c)
		assert.ErrorIs(t, err, snapshot.ErrForeign)
		assert.ErrorContains(t, err, "/checkpoints/chk-3")
	})
}

func resultsOf(rep *Report) int {
	if rep == nil {
		return 0
	}
	return len(rep.Results)
}

// TestCheckpointWriteFaultsFailTheRun: a checkpoint that cannot be written
// durably fails the run with the store's error naming the file, the
// directory sync's included (snapshot's SN3).
func TestCheckpointWriteFaultsFailTheRun(t *testing.T) {
	l := testLog(t, 3, 1000, 2, 8000, 500)
	src := datasets.NewArrowSource(l)
	p := shapes()["fixed-count"]
	for _, op := range []snapshot.Op{snapshot.OpCreateTemp, snapshot.OpWrite, snapshot.OpSync, snapshot.OpRename, snapshot.OpSyncDir} {
		t.Run(op.String(), func(t *testing.T) {
			var calls int
			var mu sync.Mutex
			fsys := &snapshot.FaultFS{FS: snapshot.NewMemFS(), Inject: func(o snapshot.Op, path string) error {
				mu.Lock()
				defer mu.Unlock()
				if o == op {
					if calls++; calls == 3 { // the second checkpoint's task file
						return snapshot.ErrInjected
					}
				}
				return nil
			}}
			cfg := Config{BatchInterval: time.Second, CheckpointDir: "/checkpoints", CheckpointFS: fsys}
			_, err := Run(context.Background(), p, src, cfg)
			require.ErrorIs(t, err, snapshot.ErrInjected, "Run with a failing %v", op)
			assert.ErrorContains(t, err, "/checkpoints/chk-")
		})
	}
}

// testSpecs are aggregate specs of every mode of a cellSet.
func testSpecs() []aggSpec {
	in := dataflow.NewSchema(
		dataflow.Field{Name: "i", Kind: dataflow.KindInt64},
		dataflow.Field{Name: "f", Kind: dataflow.KindFloat64},
		dataflow.Field{Name: "s", Kind: dataflow.KindString})
	var specs []aggSpec
	for _, g := range []dataflow.Agg{dataflow.Count(), dataflow.Sum("i"), dataflow.Sum("f"), dataflow.Min("i"), dataflow.Max("f"),
		dataflow.Min("s"), dataflow.Max("s"), dataflow.Mean("f"), dataflow.Mean("i"), dataflow.Span("i"), dataflow.Span("f"),
		dataflow.Distinct("s")} {
		specs = append(specs, newAggSpec(g, in))
	}
	return specs
}

// randomCells fills a cellSet of every mode with seeded random state.
func randomCells(r *rand.Rand, n int) *cellSet {
	cs := newCellSet(testSpecs())
	for range n {
		c := cs.add(dataflow.Window{Start: dataflow.Time(r.Int64N(1000)), End: dataflow.Time(1000 + r.Int64N(1000))}, -1, string(rune('a'+r.IntN(26))))
		cs.n[c], cs.maxEv[c], cs.maxIng[c] = r.Int64N(100), r.Int64()-r.Int64(), r.Int64()
		for j, sp := range cs.specs {
			a := &cs.a[j]
			switch sp.mode {
			case modeSumI, modeMeanI, modeMinI, modeMaxI:
				a.i[c] = r.Int64() - r.Int64()
			case modeSumF, modeMean, modeMinF, modeMaxF:
				a.f[c] = r.NormFloat64()
			case modeMinS, modeMaxS:
				a.has[c], a.s[c] = r.IntN(2) == 1, "s"+string(rune('a'+r.IntN(26)))
			case modeSpanI:
				a.i[c], a.j[c] = r.Int64N(10), math.MaxInt64
			case modeSpanF:
				a.f[c], a.g[c] = math.Inf(1), r.Float64()
			case modeAcc:
				a.acc[c].Add(dataflow.Str("v" + string(rune('a'+r.IntN(26)))))
			}
		}
	}
	return cs
}

func TestCellsEncodingRoundTrip(t *testing.T) {
	const seed = 21
	r := rand.New(rand.NewPCG(seed, 2))
	cs := randomCells(r, 50)
	upd := make([]int64, cs.len())
	for i := range upd {
		upd[i] = r.Int64()
	}
	live := func(c int32) bool { return c%3 != 0 }
	for _, tc := range []struct {
		name    string
		live    func(int32) bool
		lastUpd []int64
	}{{"all", nil, nil}, {"live with update times", live, upd}} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := appendCells(nil, cs, tc.live, tc.lastUpd)
			require.NoError(t, err)
			got := newCellSet(cs.specs)
			var from []int32 // cell of cs each decoded cell came from
			for c := range int32(cs.len()) {
				if tc.live == nil || tc.live(c) {
					from = append(from, c)
				}
			}
			d := wire.NewDecoder(b)
			gotUpd, err := decodeCells(d, got, func(w dataflow.Window, key string) int32 { return got.add(w, -1, key) })
			require.NoError(t, err, "seed %d", seed)
			require.NoError(t, d.Finish())
			require.Equal(t, len(from), got.len())
			if tc.lastUpd == nil {
				assert.Nil(t, gotUpd)
			} else {
				require.Len(t, gotUpd, len(from))
			}
			for k, c := range from {
				g := int32(k)
				assert.Equal(t, cs.win[c], got.win[g])
				assert.Equal(t, cs.key[c], got.key[g])
				assert.Equal(t, []int64{cs.n[c], cs.maxEv[c], cs.maxIng[c]}, []int64{got.n[g], got.maxEv[g], got.maxIng[g]})
				if tc.lastUpd != nil {
					assert.Equal(t, tc.lastUpd[c], gotUpd[k])
				}
				for j, sp := range cs.specs {
					a, ga := &cs.a[j], &got.a[j]
					switch {
					case len(a.i) > 0:
						assert.Equal(t, a.i[c], ga.i[g], "aggregate %d", j)
					case len(a.f) > 0:
						assert.Equal(t, a.f[c], ga.f[g], "aggregate %d", j)
					case len(a.s) > 0:
						assert.Equal(t, []any{a.has[c], a.s[c]}, []any{ga.has[g], ga.s[g]}, "aggregate %d", j)
					case sp.mode == modeAcc:
						assert.Equal(t, a.acc[c].Result(), ga.acc[g].Result(), "aggregate %d", j)
					}
					if len(a.j) > 0 {
						assert.Equal(t, a.j[c], ga.j[g])
					}
					if len(a.g) > 0 {
						assert.Equal(t, a.g[c], ga.g[g])
					}
				}
			}
		})
	}
	t.Run("another plan's cells", func(t *testing.T) {
		b, err := appendCells(nil, cs, nil, nil)
		require.NoError(t, err)
		other := newCellSet(cs.specs[:3])
		_, err = decodeCells(wire.NewDecoder(b), other, func(w dataflow.Window, key string) int32 { return other.add(w, -1, key) })
		assert.ErrorIs(t, err, ErrCorruptCheckpoint)
		assert.ErrorContains(t, err, "12 aggregates, the pipeline has 3")
	})
}

func FuzzDecodeCells(f *testing.F) {
	// Seeds: valid encodings with and without update times, truncated.
	r := rand.New(rand.NewPCG(4, 4))
	cs := randomCells(r, 3)
	b, _ := appendCells(nil, cs, nil, nil)
	f.Add(b)
	b, _ = appendCells(nil, cs, nil, make([]int64, cs.len()))
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		got := newCellSet(testSpecs())
		_, err := decodeCells(wire.NewDecoder(b), got, func(w dataflow.Window, key string) int32 { return got.add(w, -1, key) })
		if err != nil && !errors.Is(err, ErrCorruptCheckpoint) {
			t.Fatalf("decodeCells error %v does not wrap ErrCorruptCheckpoint", err)
		}
	})
}
