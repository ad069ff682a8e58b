package microbatch

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"sync"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/dataflow/wire"
	"github.com/weirlab/weir/internal/snapshot"
)

// checkpoints stores the driver's checkpoints (MF2): offsets, watermark,
// keyed state and the rate controller, after a batch commits.
// [snapshotCheckpoints] is the implementation; the interface lets runState
// hold none (nil) when a run takes no checkpoints.
type checkpoints interface {
	// save writes a new checkpoint with the payload encode appends to the
	// buffer it is given, and returns the size of the file written.
	save(encode func(dst []byte) ([]byte, error)) (int, error)
	// latest returns the payload of the newest usable checkpoint, or ok
	// false if there is none, and the newer checkpoints it skipped (each
	// error names the bad path).
	latest() (payload []byte, ok bool, skipped []error, err error)
	// dir is the checkpoint directory.
	dir() string
}

// checkpointJob is the Job of the run's snapshot.Identity: what the
// checkpoints' state depends on (the pipeline, the model, the batch
// interval, the partitions) and the caller's CheckpointIdentity.
func checkpointJob(p *dataflow.Pipeline, src Source, cfg *Config) string {
	job := fmt.Sprintf("microbatch %v pipeline %s batch %v partitions %d", cfg.Mode, p.Name, cfg.BatchInterval, src.Partitions())
	if cfg.CheckpointIdentity != "" {
		job += "; " + cfg.CheckpointIdentity
	}
	return job
}

// openCheckpoints returns the store cfg asks for: a directory, a temporary
// directory when a driver crash is injected without one (removed by
// cleanup), or nil (no checkpoints) when there is neither. The store is on
// cfg.CheckpointFS (nil: the operating system's files) and records a new
// identity of job; a directory that already holds a checkpoint is refused
// (MF4, snapshot's SN6), with a *ConfigError on CheckpointDir.
func openCheckpoints(cfg *Config, job string) (checkpoints, func(), error) {
	dir := cfg.CheckpointDir
	cleanup := func() {}
	if dir == "" {
		crash := false
		for _, f := range cfg.Failures {
			crash = crash || f.Kind == CrashDriver
		}
		if !crash {
			// Nothing to restart from: a failed batch is recomputed from
			// its offsets without a checkpoint (MK5).
			return nil, cleanup, nil
		}
		tmp, err := os.MkdirTemp("", "weir-microbatch-checkpoint-")
		if err != nil {
			return nil, nil, fmt.Errorf("microbatch: checkpoint directory: %w", err)
		}
		dir, cleanup = tmp, func() { os.RemoveAll(tmp) }
	}
	st, err := snapshot.NewStore(snapshot.Config{Dir: dir, FS: cfg.CheckpointFS, Keep: keepCheckpoints,
		Identity: snapshot.NewIdentity(job)})
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("microbatch: checkpoint directory: %w", err)
	}
	if err := st.CheckFresh(); err != nil {
		cleanup()
		if errors.Is(err, snapshot.ErrForeign) {
			return nil, nil, &ConfigError{Field: "CheckpointDir", Err: err}
		}
		return nil, nil, fmt.Errorf("microbatch: checkpoint directory: %w", err)
	}
	last, err := st.MaxID()
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("microbatch: checkpoint directory: %w", err)
	}
	return &snapshotCheckpoints{st: st, next: last + 1}, cleanup, nil
}

// keepCheckpoints is how many completed checkpoints a run keeps: two, so
// that a damaged newest one leaves one to fall back to.
const keepCheckpoints = snapshot.DefaultKeep

// driverTask is the one task that writes each checkpoint: the driver.
const driverTask snapshot.TaskID = 0

// snapshotCheckpoints keeps the checkpoints in a [snapshot.Store]: one task
// file per checkpoint (the driver's), atomic writes whose every failure,
// the directory sync's included, is returned (snapshot's SN3), and a restore
// that falls back past damaged checkpoints (snapshot's SN4).
type snapshotCheckpoints struct {
	st *snapshot.Store
	mu sync.Mutex // guards next and hint
	// next is the id of the next checkpoint: above every id in the store
	// when the run started, so ids increase across incarnations (snapshot's
	// SN1).
	next snapshot.ID
	// hint is the size of the last payload: the next one's buffer is made
	// a little larger, so that encoding it grows the buffer at most once.
	hint int
}

func (c *snapshotCheckpoints) save(encode func(dst []byte) ([]byte, error)) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// The payload is encoded after room for the file header, which Frame
	// fills in place: a large state is not copied to be framed.
	buf := make([]byte, snapshot.HeaderSize, snapshot.Overhead+c.hint+c.hint/8)
	buf, err := encode(buf)
	if err != nil {
		return 0, err
	}
	c.hint = len(buf) - snapshot.HeaderSize
	id := c.next
	c.next++
	f, err := c.st.WriteEncoded(id, driverTask, snapshot.Frame(buf, id, driverTask))
	if err != nil {
		return 0, fmt.Errorf("microbatch: checkpoint: %w", err)
	}
	// A checkpoint that is complete but whose older ones could not all be
	// deleted is still a good checkpoint; the next completion retries the
	// deletion, so the prune error is not the batch's failure.
	if _, err := c.st.Complete(id, []snapshot.TaskFile{f}); err != nil {
		return 0, fmt.Errorf("microbatch: checkpoint: %w", err)
	}
	return int(f.Size), nil
}

func (c *snapshotCheckpoints) dir() string { return c.st.Dir() }

func (c *snapshotCheckpoints) latest() ([]byte, bool, []error, error) {
	ck, err := c.st.Latest()
	if errors.Is(err, snapshot.ErrNoCheckpoint) {
		// Every directory was unusable (or there was none): start over,
		// reporting what was skipped.
		return nil, false, snapshot.Unusable(err), nil
	}
	if errors.Is(err, snapshot.ErrForeign) {
		// Another run writes to the same directory.
		return nil, false, nil, &ConfigError{Field: "CheckpointDir", Err: err}
	}
	if err != nil {
		return nil, false, nil, fmt.Errorf("microbatch: read checkpoint: %w", err)
	}
	p, ok := ck.Tasks[driverTask]
	if !ok {
		return nil, false, nil, fmt.Errorf("microbatch: checkpoint %s has no %s file", c.st.CheckpointDir(ck.ID), driverTask)
	}
	return p, true, ck.Skipped, nil
}

// The checkpoint payload, in package wire's encoding (u: uvarint, f: float,
// b: byte, s: string; everything else a varint):
//
//	"WMBK" | version b | seq | nextT | taken | u#offsets offset... | wm | maxEvent | lastBatch
//	       | pid: firstRun b, latestTime, latestRate f, latestError f | rate f
//	       | cells(with lastUpd) | u#batches (batch time, cells)... | prev b [cells]
//	       | join b [join state] | keyRows b [u#values value... per live cell, in cell order]
//	cells:  u#specs mode b... | lastUpd b | u#cells cell...
//	cell:   start | end | key s | n | maxEv | maxIng | [lastUpd] | agg...
//	agg:    by mode: count: nothing; sums, means, min/max of ints: i; of floats: f f;
//	        min/max of strings: has b, s; span: i, j or f, g; max-by: has b, value, by value
//	        (dataflow.AppendValue); others: the accumulator's bytes
//
// The join state's layout is at [joinState.appendJoinState]; key rows (a
// regroup's first stage) are each live cell's key column values.
//
// Batches are written in increasing batch time, so equal states give equal
// bytes. The version changes with any change to this layout.
const (
	ckMagic   = "WMBK"
	ckVersion = 2
)

// ErrCorruptCheckpoint is wrapped by the error of a restore whose
// checkpoint passed the store's checks (size, CRC) but does not decode as
// this build's checkpoint of this pipeline: written by another version or
// for another plan.
var ErrCorruptCheckpoint = errors.New("microbatch: checkpoint does not match this build or pipeline")

// appendCells appends the cells of cs (live nil: all) and, when lastUpd is
// not nil, each cell's last update time.
func appendCells(dst []byte, cs *cellSet, live func(c int32) bool, lastUpd []int64) ([]byte, error) {
	dst = wire.AppendUvarint(dst, uint64(len(cs.specs)))
	for _, sp := range cs.specs {
		dst = append(dst, byte(sp.mode))
	}
	dst = append(dst, boolByte(lastUpd != nil))
	n := 0
	for c := range int32(cs.len()) {
		if live == nil || live(c) {
			n++
		}
	}
	dst = wire.AppendUvarint(dst, uint64(n))
	var acc []byte // scratch for accumulator states
	for c := range int32(cs.len()) {
		if live != nil && !live(c) {
			continue
		}
		dst = wire.AppendVarint(dst, int64(cs.win[c].Start))
		dst = wire.AppendVarint(dst, int64(cs.win[c].End))
		dst = wire.AppendString(dst, cs.key[c])
		dst = wire.AppendVarint(dst, cs.n[c])
		dst = wire.AppendVarint(dst, cs.maxEv[c])
		dst = wire.AppendVarint(dst, cs.maxIng[c])
		if lastUpd != nil {
			dst = wire.AppendVarint(dst, lastUpd[c])
		}
		for j, sp := range cs.specs {
			a := &cs.a[j]
			switch sp.mode {
			case modeCount:
			case modeSumI, modeMeanI, modeMinI, modeMaxI:
				dst = wire.AppendVarint(dst, a.i[c])
			case modeSumF, modeMean, modeMinF, modeMaxF:
				dst = wire.AppendFloat(dst, a.f[c])
			case modeMinS, modeMaxS:
				dst = append(dst, boolByte(a.has[c]))
				dst = wire.AppendString(dst, a.s[c])
			case modeSpanI:
				dst = wire.AppendVarint(dst, a.i[c])
				dst = wire.AppendVarint(dst, a.j[c])
			case modeSpanF:
				dst = wire.AppendFloat(dst, a.f[c])
				dst = wire.AppendFloat(dst, a.g[c])
			case modeAcc:
				var err error
				if acc, err = a.acc[c].AppendBinary(acc[:0]); err != nil {
					return dst, fmt.Errorf("microbatch: checkpoint aggregate %d (%v) of key %q: %w", j, sp.agg, cs.key[c], err)
				}
				dst = wire.AppendBytes(dst, acc)
			case modeMaxBy:
				dst = append(dst, boolByte(a.has[c]))
				dst = dataflow.AppendValue(dst, a.v[c])
				dst = dataflow.AppendValue(dst, a.w[c])
			}
		}
	}
	return dst, nil
}

// decodeCells reads cells written by appendCells into cs through add, which
// returns the new cell's index, and returns their last update times (nil
// if none were written).
func decodeCells(d *wire.Decoder, cs *cellSet, add func(w dataflow.Window, key string) int32) ([]int64, error) {
	if n := d.Count(); d.Err() == nil && n != len(cs.specs) {
		return nil, fmt.Errorf("%w: %d aggregates, the pipeline has %d", ErrCorruptCheckpoint, n, len(cs.specs))
	}
	for _, sp := range cs.specs {
		if m := aggMode(d.Byte()); d.Err() == nil && m != sp.mode {
			return nil, fmt.Errorf("%w: aggregate %v held as mode %d, the pipeline's is %d", ErrCorruptCheckpoint, sp.agg, m, sp.mode)
		}
	}
	hasUpd := d.Byte()
	if hasUpd > 1 {
		d.Fail("bad update-times flag")
	}
	wantUpd := hasUpd == 1
	n := d.Count()
	var lastUpd []int64
	if wantUpd {
		lastUpd = make([]int64, 0, n)
	}
	for ; n > 0 && d.Err() == nil; n-- {
		w := dataflow.Window{Start: dataflow.Time(d.Varint()), End: dataflow.Time(d.Varint())}
		key := d.String()
		cn, maxEv, maxIng := d.Varint(), d.Varint(), d.Varint()
		if wantUpd {
			lastUpd = append(lastUpd, d.Varint())
		}
		if d.Err() != nil {
			break
		}
		c := add(w, key)
		cs.n[c], cs.maxEv[c], cs.maxIng[c] = cn, maxEv, maxIng
		for j, sp := range cs.specs {
			a := &cs.a[j]
			switch sp.mode {
			case modeCount:
			case modeSumI, modeMeanI, modeMinI, modeMaxI:
				a.i[c] = d.Varint()
			case modeSumF, modeMean, modeMinF, modeMaxF:
				a.f[c] = d.Float()
			case modeMinS, modeMaxS:
				has := d.Byte()
				if has > 1 {
					d.Fail("bad presence flag")
				}
				a.has[c], a.s[c] = has == 1, d.String()
			case modeSpanI:
				a.i[c], a.j[c] = d.Varint(), d.Varint()
			case modeSpanF:
				a.f[c], a.g[c] = d.Float(), d.Float()
			case modeAcc:
				b := d.Bytes()
				if d.Err() != nil {
					break
				}
				if err := a.acc[c].UnmarshalBinary(b); err != nil {
					return nil, fmt.Errorf("%w: aggregate %v of key %q: %w", ErrCorruptCheckpoint, sp.agg, key, err)
				}
			case modeMaxBy:
				has := d.Byte()
				if has > 1 {
					d.Fail("bad presence flag")
				}
				a.has[c] = has == 1
				a.v[c], a.w[c] = dataflow.DecodeValue(d), dataflow.DecodeValue(d)
			}
		}
	}
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorruptCheckpoint, err)
	}
	return lastUpd, nil
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// appendState appends the checkpoint payload of the state after batch b.
func (d *driver) appendState(dst []byte, b *batch) ([]byte, error) {
	st := d.st
	dst = append(dst, ckMagic...)
	dst = append(dst, ckVersion)
	dst = wire.AppendVarint(dst, b.seq+1)
	dst = wire.AppendVarint(dst, b.tMs+d.cfg.BatchInterval.Milliseconds())
	dst = wire.AppendVarint(dst, b.taken+b.records)
	dst = wire.AppendUvarint(dst, uint64(len(b.after)))
	for _, o := range b.after {
		dst = wire.AppendVarint(dst, o)
	}
	dst = wire.AppendVarint(dst, st.wm)
	dst = wire.AppendVarint(dst, st.maxEvent)
	dst = wire.AppendVarint(dst, st.lastBatch)
	pid := d.pid.state()
	dst = append(dst, boolByte(pid.FirstRun))
	dst = wire.AppendVarint(dst, pid.LatestTime)
	dst = wire.AppendFloat(dst, pid.LatestRate)
	dst = wire.AppendFloat(dst, pid.LatestError)
	d.mu.Lock()
	rate := d.rate
	d.mu.Unlock()
	dst = wire.AppendFloat(dst, rate)
	var err error
	if dst, err = appendCells(dst, st.cells, func(c int32) bool { return !st.dead[c] }, st.lastUpd); err != nil {
		return dst, err
	}
	dst = wire.AppendUvarint(dst, uint64(len(st.batches)))
	for _, t := range slices.Sorted(maps.Keys(st.batches)) {
		dst = wire.AppendVarint(dst, t)
		if dst, err = appendCells(dst, st.batches[t], nil, nil); err != nil {
			return dst, err
		}
	}
	dst = append(dst, boolByte(st.prevWin != nil))
	if st.prevWin != nil {
		if dst, err = appendCells(dst, st.prevWin, nil, nil); err != nil {
			return dst, err
		}
	}
	dst = append(dst, boolByte(st.join != nil))
	if st.join != nil {
		dst = st.join.appendJoinState(dst)
	}
	dst = append(dst, boolByte(d.p.then != nil))
	if d.p.then != nil {
		for c := range int32(st.cells.len()) {
			if !st.dead[c] {
				dst = dataflow.AppendRow(dst, st.keyRows[c])
			}
		}
	}
	return dst, nil
}

// checkpoint saves the state after batch b and returns the size of the
// file written.
func (d *driver) checkpoint(b *batch) (int, error) {
	return d.rs.ck.save(func(dst []byte) ([]byte, error) { return d.appendState(dst, b) })
}

// restore loads the last usable checkpoint, if any, into a new driver. It
// counts each newer checkpoint it had to skip because it was damaged (not
// merely unfinished) as a checkpoint_fallbacks, and warns of it naming the
// file ([Report.Warnings], and the logger). When every checkpoint was
// damaged, the driver starts over from the beginning of the input: that
// is counted as restarts_from_start and warned of too.
func (d *driver) restore() error {
	if d.rs.ck == nil {
		return nil
	}
	payload, ok, skipped, err := d.rs.ck.latest()
	if err != nil {
		return err
	}
	var warnings []string
	for _, e := range skipped {
		if !errors.Is(e, snapshot.ErrIncomplete) {
			warnings = append(warnings, fmt.Sprintf("microbatch: the driver's restart skipped a damaged checkpoint: %v", e))
		}
	}
	fallbacks := len(warnings)
	if !ok && fallbacks > 0 {
		warnings = append(warnings, fmt.Sprintf("microbatch: every checkpoint in %s was damaged; the driver restarted from the start of the input (offset 0)", d.rs.ck.dir()))
	}
	for _, w := range warnings {
		d.cfg.Logger.Warn(w)
	}
	if len(warnings) > 0 {
		d.rs.mu.Lock()
		d.rs.counters["checkpoint_fallbacks"] += int64(fallbacks)
		if !ok {
			d.rs.counters["restarts_from_start"]++
		}
		for _, w := range warnings {
			// A damaged checkpoint stays in the store: a later restart
			// skips it again, counts it again, but warns of it once.
			if !slices.Contains(d.rs.warnings, w) {
				d.rs.warnings = append(d.rs.warnings, w)
			}
		}
		d.rs.mu.Unlock()
	}
	if !ok {
		return nil
	}
	if err := d.decodeState(payload); err != nil {
		return fmt.Errorf("microbatch: restore checkpoint: %w", err)
	}
	return nil
}

// decodeState restores the driver from a payload written by appendState.
func (d *driver) decodeState(payload []byte) error {
	r := wire.NewDecoder(payload)
	if m := r.Next(len(ckMagic)); r.Err() != nil || string(m) != ckMagic {
		return fmt.Errorf("%w: not a microbatch checkpoint", ErrCorruptCheckpoint)
	}
	if v := r.Byte(); v != ckVersion {
		return fmt.Errorf("%w: version %d, this build reads version %d", ErrCorruptCheckpoint, v, ckVersion)
	}
	seq, nextT, taken := r.Varint(), r.Varint(), r.Varint()
	offsets := make([]int64, r.Count())
	for i := range offsets {
		offsets[i] = r.Varint()
	}
	wm, maxEvent, lastBatch := r.Varint(), r.Varint(), r.Varint()
	firstRun := r.Byte()
	pid := pidState{FirstRun: firstRun == 1, LatestTime: r.Varint(), LatestRate: r.Float(), LatestError: r.Float()}
	if firstRun > 1 {
		r.Fail("bad PID first-run flag")
	}
	rate := r.Float()
	if err := r.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrCorruptCheckpoint, err)
	}
	d.seq, d.nextT, d.taken = seq, nextT, taken
	copy(d.offsets, offsets)
	st := d.st
	st.wm, st.maxEvent, st.lastBatch = wm, maxEvent, lastBatch
	lastUpd, err := decodeCells(r, st.cells, func(w dataflow.Window, key string) int32 {
		g := st.keyOf(key)
		c := st.addCell(w, g, key)
		if d.p.shape == shapeSession {
			for int(g) >= len(st.sess) {
				st.sess = append(st.sess, nil)
			}
			st.sess[g] = append(st.sess[g], c)
		}
		return c
	})
	if err != nil {
		return err
	}
	copy(st.lastUpd, lastUpd)
	for n := r.Count(); n > 0 && r.Err() == nil; n-- {
		t := r.Varint()
		cs := newCellSet(d.p.specs)
		if _, err := decodeCells(r, cs, func(w dataflow.Window, key string) int32 { return cs.add(w, -1, key) }); err != nil {
			return err
		}
		st.batches[t] = cs
	}
	if hasPrev := r.Byte(); hasPrev == 1 {
		cs := newCellSet(d.p.specs)
		if _, err := decodeCells(r, cs, func(w dataflow.Window, key string) int32 { return cs.add(w, -1, key) }); err != nil {
			return err
		}
		st.prevWin = cs
	} else if hasPrev > 1 {
		r.Fail("bad previous-window flag")
	}
	if hasJoin := r.Byte(); r.Err() == nil && hasJoin != boolByte(st.join != nil) {
		return fmt.Errorf("%w: join state flag %d, the pipeline's is %d", ErrCorruptCheckpoint, hasJoin, boolByte(st.join != nil))
	} else if hasJoin == 1 {
		if err := st.join.decodeJoinState(r); err != nil {
			return err
		}
	}
	if hasRows := r.Byte(); r.Err() == nil && hasRows != boolByte(d.p.then != nil) {
		return fmt.Errorf("%w: key-row flag %d, the pipeline's is %d", ErrCorruptCheckpoint, hasRows, boolByte(d.p.then != nil))
	} else if hasRows == 1 {
		for c := range st.keyRows {
			row := make(dataflow.Row, r.Count())
			for i := range row {
				row[i] = dataflow.DecodeValue(r)
			}
			st.keyRows[c] = row
		}
	}
	if err := r.Finish(); err != nil {
		return fmt.Errorf("%w: %w", ErrCorruptCheckpoint, err)
	}
	d.pid.restore(pid)
	d.rate = rate
	if d.nextT == 0 {
		d.nextT = math.MinInt64
	}
	return nil
}
