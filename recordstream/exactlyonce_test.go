package recordstream

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/snapshot"
)

var eoSeeds = flag.Int("eo.seeds", 20, "number of seeds of the exactly-once crash tests")

func TestExactlyOnceMatchesReferenceWithoutCrashes(t *testing.T) {
	src := newMemSource(1, 3000, 3, 80)
	for name, p := range shapes() {
		for _, mode := range []string{"aligned", "unaligned"} {
			t.Run(fmt.Sprintf("%s/%s", name, mode), func(t *testing.T) {
				cfg := Config{Guarantee: ExactlyOnce, Parallelism: 2, BatchSize: 16, QueueBatches: 4, WatermarkEvery: 50, Seed: 3}
				cp := CheckpointConfig{CheckpointInterval: 2e6, CheckpointDir: t.TempDir(), Unaligned: mode == "unaligned"}
				rep, err := runExactlyOnce(t.Context(), p, src, cfg, cp)
				require.NoError(t, err)
				check(t, p, src, rep)
				assert.Zero(t, rep.Counters["duplicates"])
			})
		}
	}
}

// TestExactlyOnceCrashes is the randomized crash test: for many seeds,
// crash a random task (the one taking in the N-th record) once or several
// times, some crashes close together so that one hits the replay after a
// restore; the two-phase-commit sink's output must equal the reference
// answer exactly, with no duplicate pane.
func TestExactlyOnceCrashes(t *testing.T) {
	stateful := []string{"fixed", "sliding", "session", "count", "hashtags", "lookup-none", "stateless"}
	var restored, restarts int64
	defer func() {
		t.Logf("%d seeds: %d restarts, %d from a checkpoint", *eoSeeds, restarts, restored)
		assert.Positive(t, restored, "no restart restored a checkpoint: the test does not exercise restore")
	}()
	for seed := range uint64(*eoSeeds) {
		r := rand.New(rand.NewPCG(seed, 11))
		name := stateful[r.IntN(len(stateful))]
		mode := []string{"aligned", "unaligned"}[r.IntN(2)]
		t.Run(fmt.Sprintf("seed=%d/%s/%s", seed, name, mode), func(t *testing.T) {
			p := shapes()[name]
			n := 1500 + r.IntN(1500)
			src := newMemSource(seed, n, 1+r.IntN(3), 40)
			var crashes []int64
			for range 1 + r.IntN(3) {
				crashes = append(crashes, 1+r.Int64N(int64(n)))
			}
			if r.IntN(2) == 0 {
				crashes = append(crashes, crashes[0]+1+r.Int64N(50))
			}
			cfg := Config{Guarantee: ExactlyOnce, Parallelism: 1 + r.IntN(3), BatchSize: 8, QueueBatches: 2, WatermarkEvery: 20,
				Seed: seed, Faults: Faults{CrashAfter: crashes, Slow: 20 * time.Microsecond}}
			cp := CheckpointConfig{CheckpointInterval: time.Duration(1+r.IntN(5)) * time.Millisecond, CheckpointDir: t.TempDir(),
				Unaligned: mode == "unaligned"}
			rep, err := runExactlyOnce(t.Context(), p, src, cfg, cp)
			require.NoError(t, err)
			check(t, p, src, rep)
			assert.Zero(t, rep.Counters["duplicates"], "duplicate panes a reader saw")
			restored += rep.Counters["restored_checkpoints"]
			restarts += rep.Counters["restarts"]
			if rep.Counters["restored_checkpoints"] > 0 {
				// The last restore names its checkpoint and where the
				// spouts resumed; a completed checkpoint has id 1 or more.
				assert.Positive(t, rep.Counters["restored_checkpoint_id"])
				assert.GreaterOrEqual(t, rep.Counters["restored_offset"], int64(0))
				assert.LessOrEqual(t, rep.Counters["restored_offset"], int64(n))
			} else {
				assert.Zero(t, rep.Counters["restored_checkpoint_id"])
				assert.Zero(t, rep.Counters["restored_offset"])
			}
		})
	}
}

// TestAtLeastOnceCheckpointsLoseNothing crashes runs with at-least-once
// checkpoints (barriers counted, not aligned): no window value may be below
// the one of a run without faults (nothing lost); the excess is the records
// counted twice.
func TestAtLeastOnceCheckpointsLoseNothing(t *testing.T) {
	p := shapes()["fixed"] // count and sum of positive values: duplicates only add
	var dups, restored int64
	for seed := range uint64(*eoSeeds / 2) {
		r := rand.New(rand.NewPCG(seed, 12))
		n := 2000 + r.IntN(1000)
		src := newMemSource(seed, n, 2+r.IntN(2), 40)
		cfg := Config{Guarantee: ExactlyOnce, Parallelism: 1 + r.IntN(3), BatchSize: 8, QueueBatches: 2, WatermarkEvery: 20,
			Seed: seed, Faults: Faults{CrashAfter: []int64{int64(n/4 + r.IntN(n/4)), int64(n/2 + r.IntN(n/4))}, Slow: 20 * time.Microsecond}}
		cp := CheckpointConfig{CheckpointInterval: 2 * time.Millisecond, AtLeastOnceCheckpoints: true}
		rep, err := Run(t.Context(), p, src, Config{})
		require.NoError(t, err)
		want := rep.Results
		cfg.CheckpointConfig = cp
		rep, err = Run(t.Context(), p, src, cfg)
		require.NoError(t, err)
		// A replayed record can be late for the restored watermark, which
		// records after the barrier pushed (they are in the state already):
		// it is dropped rather than counted twice, so Late is not checked.
		restored += rep.Counters["restored_checkpoints"]
		got := map[string]int64{}
		for _, g := range rep.Results {
			got[g.Window.String()+g.Key] = g.Value.Int64()
		}
		for _, w := range want {
			g, ok := got[w.Window.String()+w.Key]
			require.True(t, ok, "seed %d: window %v key %s lost", seed, w.Window, w.Key)
			require.GreaterOrEqual(t, g, w.Value.Int64(), "seed %d: window %v key %s lost records", seed, w.Window, w.Key)
			dups += g - w.Value.Int64()
		}
	}
	t.Logf("records counted twice over %d seeds: %d (%d restores from a checkpoint)", *eoSeeds/2, dups, restored)
	assert.Positive(t, restored, "no restore from a checkpoint: the test does not exercise restore")
}

// corruptFS flips a byte of every task file it reads from the newest
// complete checkpoint in the directory, so that every restore that finds
// one must skip it and fall back to an older one (whatever the timing of
// checkpoints and crashes).
type corruptFS struct {
	snapshot.OSFS
	mu      sync.Mutex
	flipped int
}

func (c *corruptFS) ReadFile(name string) ([]byte, error) {
	b, err := c.OSFS.ReadFile(name)
	if err != nil || !strings.HasSuffix(name, ".snap") || len(b) <= 40 {
		return b, err
	}
	chk := filepath.Dir(name)
	var id int
	if _, err := fmt.Sscanf(filepath.Base(chk), "chk-%d", &id); err != nil {
		return b, nil
	}
	names, err := c.OSFS.ReadDir(filepath.Dir(chk))
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		var other int
		if _, err := fmt.Sscanf(n, "chk-%d", &other); err != nil || other <= id {
			continue
		}
		// A newer checkpoint that is complete (has its _COMPLETED marker)
		// is the one a restore reads first; an unfinished one it skips.
		if _, err := c.OSFS.ReadFile(filepath.Join(filepath.Dir(chk), n, "_COMPLETED")); err == nil {
			return b, nil // not the newest complete one
		}
	}
	b[len(b)/2] ^= 0x40
	c.mu.Lock()
	c.flipped++
	c.mu.Unlock()
	return b, nil
}

func TestExactlyOnceFallsBackPastCorruptCheckpoints(t *testing.T) {
	p := shapes()["sliding"]
	src := newMemSource(5, 3000, 2, 40)
	var fallbacks, restored int64
	for seed := range uint64(6) {
		fs := &corruptFS{}
		cfg := Config{Guarantee: ExactlyOnce, Parallelism: 2, BatchSize: 8, QueueBatches: 2, WatermarkEvery: 20, Seed: seed,
			Faults:           Faults{CrashAfter: []int64{1500 + int64(seed)*200, 4000}, Slow: 20 * time.Microsecond},
			CheckpointConfig: CheckpointConfig{CheckpointInterval: 2 * time.Millisecond, CheckpointFS: fs, KeepCheckpoints: 3}}
		rep, err := Run(t.Context(), p, src, cfg)
		require.NoError(t, err)
		check(t, p, src, rep)
		fallbacks += rep.Counters["checkpoint_fallbacks"]
		restored += rep.Counters["restored_checkpoints"]
		// RE5: each damaged checkpoint skipped is warned of, naming its
		// file (once, however many restores skip it).
		if rep.Counters["checkpoint_fallbacks"] > 0 {
			require.NotEmpty(t, rep.Warnings, "seed %d: %d fallbacks without a warning", seed, rep.Counters["checkpoint_fallbacks"])
		}
		assert.LessOrEqual(t, int64(len(rep.Warnings)), rep.Counters["checkpoint_fallbacks"]+rep.Counters["restarts_from_start"])
		for _, w := range rep.Warnings {
			if !strings.Contains(w, "from the start of the input") {
				assert.Regexp(t, `chk-\d+/task-\d+\.snap`, w, "seed %d: the warning names the damaged file", seed)
			}
		}
	}
	assert.Positive(t, fallbacks, "no restore met a corrupt checkpoint")
	assert.Positive(t, restored, "no restore used an older valid checkpoint")
}

// rotFS flips a byte of every task file it reads: every checkpoint a
// restore finds is damaged.
type rotFS struct{ snapshot.OSFS }

func (rotFS) ReadFile(name string) ([]byte, error) {
	b, err := os.ReadFile(name)
	if err == nil && strings.HasSuffix(name, ".snap") && len(b) > 0 {
		b[len(b)/2] ^= 0x40
	}
	return b, err
}

// TestExactlyOnceAllCheckpointsDamaged: a restore that finds every
// checkpoint damaged restarts the topology from offset 0, and says so
// (RE5): the restart is counted in restarts_from_start, each damaged
// file and the restart are warned of. It was silent.
func TestExactlyOnceAllCheckpointsDamaged(t *testing.T) {
	p := shapes()["fixed"]
	src := newMemSource(7, 3000, 2, 40)
	var fromStart int64
	for seed := range uint64(4) {
		dir := t.TempDir()
		cfg := Config{Guarantee: ExactlyOnce, Parallelism: 2, BatchSize: 8, QueueBatches: 2, WatermarkEvery: 20, Seed: seed,
			Faults:           Faults{CrashAfter: []int64{1500 + int64(seed)*200}, Slow: 20 * time.Microsecond},
			CheckpointConfig: CheckpointConfig{CheckpointInterval: 2 * time.Millisecond, CheckpointDir: dir, CheckpointFS: rotFS{}}}
		rep, err := Run(t.Context(), p, src, cfg)
		require.NoError(t, err)
		assert.Zero(t, rep.Counters["restored_checkpoints"], "seed %d: every checkpoint was damaged, none can be restored", seed)
		if rep.Counters["checkpoint_fallbacks"] == 0 {
			continue // the crash came before the first checkpoint completed
		}
		fromStart += rep.Counters["restarts_from_start"]
		require.Equal(t, int64(1), rep.Counters["restarts_from_start"], "seed %d", seed)
		require.NotEmpty(t, rep.Warnings)
		last := rep.Warnings[len(rep.Warnings)-1]
		assert.Contains(t, last, dir)
		assert.Contains(t, last, "from the start of the input (offset 0)")
		for _, w := range rep.Warnings[:len(rep.Warnings)-1] {
			assert.Regexp(t, regexp.QuoteMeta(dir)+`/chk-\d+/task-\d+\.snap`, w, "seed %d: the warning names the damaged file", seed)
		}
	}
	assert.Positive(t, fromStart, "no restore found only damaged checkpoints: the test does not exercise it")
}

// TestExactlyOnceRefusesAnotherRunsCheckpointDir: a run restores only its
// own checkpoints (RE4). A second run into the first one's directory, of
// the same pipeline or of another, is refused before it starts, naming
// the checkpoint it found, and leaves the directory as it was.
func TestExactlyOnceRefusesAnotherRunsCheckpointDir(t *testing.T) {
	src := newMemSource(2, 2000, 2, 40)
	var dir string
	var cfg Config
	// A short run may end before its first checkpoint completes (under
	// load): then there is nothing to refuse, and it is tried again.
	for try := 0; ; try++ {
		dir = t.TempDir()
		cfg = Config{Guarantee: ExactlyOnce, Parallelism: 2, BatchSize: 8, QueueBatches: 2, WatermarkEvery: 20, Seed: 1,
			Faults:           Faults{Slow: 20 * time.Microsecond}, // long enough for a few checkpoints
			CheckpointConfig: CheckpointConfig{CheckpointInterval: 2 * time.Millisecond, CheckpointDir: dir, CheckpointIdentity: "input A"}}
		first, err := Run(t.Context(), shapes()["fixed"], src, cfg)
		require.NoError(t, err)
		if first.Counters["checkpoints"] > 0 {
			break
		}
		require.Less(t, try, 4, "the first run completed no checkpoint in 5 tries: nothing to refuse")
	}
	before, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, tc := range []struct {
		name, pipeline, want string
	}{
		{"the same run again", "fixed", "another run of the same job"},
		{"another pipeline", "sliding", "another job"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Run(t.Context(), shapes()[tc.pipeline], src, cfg)
			require.Error(t, err, "a run into another run's checkpoint directory succeeded: %v", rep != nil)
			assert.ErrorIs(t, err, snapshot.ErrForeign)
			ce, ok := errors.AsType[*ConfigError](err)
			require.True(t, ok, "%v is a *ConfigError", err)
			assert.Equal(t, "CheckpointDir", ce.Field)
			assert.Regexp(t, regexp.QuoteMeta(dir)+`/chk-\d+/_COMPLETED`, err.Error())
			assert.ErrorContains(t, err, tc.want)
			after, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Equal(t, len(before), len(after), "the refused run left the directory as it was")
		})
	}
}

func TestExactlyOnceIdempotentSink(t *testing.T) {
	p := shapes()["fixed"]
	src := newMemSource(6, 3000, 3, 40)
	cfg := Config{Guarantee: ExactlyOnce, Parallelism: 2, BatchSize: 8, QueueBatches: 2, WatermarkEvery: 20,
		Faults:           Faults{CrashAfter: []int64{1200, 2500}, Slow: 20 * time.Microsecond},
		CheckpointConfig: CheckpointConfig{CheckpointInterval: 2 * time.Millisecond, IdempotentSink: true}}
	rep, err := Run(t.Context(), p, src, cfg)
	require.NoError(t, err)
	check(t, p, src, rep)
}

func TestCheckpointConfigValidate(t *testing.T) {
	_, err := Run(t.Context(), shapes()["fixed"], newMemSource(1, 10, 1, 0),
		Config{Guarantee: ExactlyOnce, CheckpointConfig: CheckpointConfig{Unaligned: true, AtLeastOnceCheckpoints: true}})
	assert.ErrorContains(t, err, "unaligned")
}

// TestExactlyOnceLeavesNoGoroutines runs in a synctest bubble, so only this
// test's goroutines count (see TestRunLeavesNoGoroutines). Crashes and 1 ms
// checkpoints exercise restarts and the snapshot writers; the slow fault
// stays out, as it busy-waits on a clock that a bubble only advances when
// every goroutine is blocked.
func TestExactlyOnceLeavesNoGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		before := bubbleGoroutines()
		src := newMemSource(3, 2000, 2, 0)
		cfg := Config{Guarantee: ExactlyOnce, Parallelism: 2, BatchSize: 8, QueueBatches: 2,
			Faults:           Faults{CrashAfter: []int64{500, 900}},
			CheckpointConfig: CheckpointConfig{CheckpointInterval: time.Millisecond}}
		rep, err := Run(t.Context(), shapes()["fixed"], src, cfg)
		require.NoError(t, err)
		require.Positive(t, rep.Counters["restarts"], "the crashes restarted the topology")
		synctest.Wait()
		// Run waits for every goroutine it started (RG1), so none is left now.
		assert.Equal(t, before, bubbleGoroutines(), "goroutines left after Run")
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err = Run(ctx, shapes()["fixed"], src, cfg)
		require.Error(t, err)
		synctest.Wait()
		assert.Equal(t, before, bubbleGoroutines(), "goroutines left after a cancelled Run")
	})
}

// shiftAfterReadSource reports a wrong event-time shift (an hour off) until
// its first record is read, as a paced log does before its filler has
// written the first record.
type shiftAfterReadSource struct {
	*memSource
	read atomic.Bool
}

func (s *shiftAfterReadSource) EventTimeShift() int64 {
	if s.read.Load() {
		return s.shift
	}
	return s.shift - time.Hour.Milliseconds()
}

func (s *shiftAfterReadSource) Read(p int, off int64, dst dataflow.Row) (dataflow.Row, int64) {
	s.read.Store(true)
	return s.memSource.Read(p, off, dst)
}

// TestExactlyOnceLatencyReadsTheShiftAtCommit: the two-phase sink reads the
// log's event-time shift when it commits, not once when the incarnation
// starts (which put an hour's offset into paced runs' latency).
func TestExactlyOnceLatencyReadsTheShiftAtCommit(t *testing.T) {
	m := newMemSource(1, 2000, 2, 20)
	// Map the last event time (testBaseTime + 10 ms a record) onto now.
	m.shift = time.Now().UnixMilli() - (testBaseTime + 2000*10)
	src := &shiftAfterReadSource{memSource: m}
	cfg := Config{Guarantee: ExactlyOnce, Parallelism: 2, BatchSize: 16, QueueBatches: 4, WatermarkEvery: 50, Seed: 3}
	cp := CheckpointConfig{CheckpointInterval: 2e6, CheckpointDir: t.TempDir()}
	rep, err := runExactlyOnce(t.Context(), shapes()["fixed"], src, cfg, cp)
	require.NoError(t, err)
	require.Positive(t, rep.Latency.EventTime.Count())
	assert.Less(t, rep.Latency.EventTime.Max(), 30*time.Minute, "no output carries the hour-off shift read before the first record")
}

// TestExactlyOnceAsyncSnapshotsOfLargeState crashes runs whose window
// bolts hold tens of thousands of keys, checkpointed every few
// milliseconds: the writers encode each bolt's state (a copy-on-write view,
// dataflow's AV1-AV5) while the bolt goes on taking the records after the
// barrier, so a restored checkpoint is right only if the view is the state
// at the barrier. The committed output must equal the reference answer.
func TestExactlyOnceAsyncSnapshotsOfLargeState(t *testing.T) {
	const n, keys = 200_000, 40_000
	src, p := stateFixture(n, keys, 2)
	for _, crash := range []int64{n / 3, 2 * n / 3} {
		t.Run(fmt.Sprintf("crash=%d", crash), func(t *testing.T) {
			// The log holds back its records from 10 000 before the crash
			// until a checkpoint is complete, so the crash always finds one
			// to restore (without the gate a fast run could crash first).
			fs := newCompletionFS(nil, 1)
			gated := &gatedSource{colSource: src, gate: logGate{steps: []gateStep{{at: (crash - 10_000) / int64(src.Partitions()), open: fs.done[0]}}}}
			cfg := Config{Guarantee: ExactlyOnce, Parallelism: 2, SampleInterval: -1, Faults: Faults{CrashAfter: []int64{crash, crash + 20_000}}}
			cp := CheckpointConfig{CheckpointInterval: 3 * time.Millisecond, CheckpointDir: t.TempDir(), CheckpointFS: fs}
			rep, err := runExactlyOnce(t.Context(), p, gated, cfg, cp)
			require.NoError(t, err)
			var recs []dataflow.Record
			for part := range src.Partitions() {
				for off := range src.End(part) {
					row, ingest := src.Read(part, off, nil)
					recs = append(recs, dataflow.Record{Row: row, Partition: part, Offset: off, IngestNanos: ingest})
				}
			}
			want, err := dataflow.Reference(p, slices.Values(recs), dataflow.ReferenceOptions{})
			require.NoError(t, err)
			require.Len(t, rep.Results, len(want), "number of results")
			for i := range want {
				if !assert.Equal(t, want[i], rep.Results[i], "result %d", i) {
					break
				}
			}
			assert.Zero(t, rep.Counters["duplicates"])
			assert.Positive(t, rep.Counters["restored_checkpoints"], "no restart restored a checkpoint (counters %v)", rep.Counters)
		})
	}
}

// completionFS is fs (nil: the operating system's) that closes done[k-1]
// when the k-th checkpoint is complete (its _COMPLETED marker renamed into
// place).
type completionFS struct {
	snapshot.FS
	done []chan struct{}

	mu        sync.Mutex
	completed int
}

func newCompletionFS(fs snapshot.FS, n int) *completionFS {
	if fs == nil {
		fs = snapshot.OSFS{}
	}
	c := &completionFS{FS: fs, done: make([]chan struct{}, n)}
	for i := range c.done {
		c.done[i] = make(chan struct{})
	}
	return c
}

func (c *completionFS) Rename(oldpath, newpath string) error {
	err := c.FS.Rename(oldpath, newpath)
	if err == nil && filepath.Base(newpath) == "_COMPLETED" {
		c.mu.Lock()
		if c.completed < len(c.done) {
			close(c.done[c.completed])
		}
		c.completed++
		c.mu.Unlock()
	}
	return err
}

// logGate makes a log live: it publishes only the first steps[0].at
// records of each partition until steps[0].open is closed, then up to
// steps[1].at until steps[1].open is, and so on; past the last step all
// of it, and it closes. The zero value is open from the start.
type logGate struct{ steps []gateStep }

type gateStep struct {
	at   int64
	open <-chan struct{}
}

// step returns the first step still closed, or nil.
func (g logGate) step() *gateStep {
	for i := range g.steps {
		select {
		case <-g.steps[i].open:
		default:
			return &g.steps[i]
		}
	}
	return nil
}

// end is a partition's published end, of the end the log holds.
func (g logGate) end(held int64) int64 {
	if st := g.step(); st != nil {
		return min(st.at, held)
	}
	return held
}

func (g logGate) closed() bool { return g.step() == nil }

func (g logGate) changed() <-chan struct{} {
	if st := g.step(); st != nil {
		return st.open
	}
	return closedChan()
}

// gatedSource is a colSource behind a logGate.
type gatedSource struct {
	*colSource
	gate logGate
}

func (g *gatedSource) End(p int) int64          { return g.gate.end(g.colSource.End(p)) }
func (g *gatedSource) Closed() bool             { return g.gate.closed() }
func (g *gatedSource) Changed() <-chan struct{} { return g.gate.changed() }
