package microbatch

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/weirlab/weir/dataflow"
)

// checkpoints stores the driver's checkpoints (F2): offsets, watermark,
// keyed state and the rate controller, after a batch commits.
type checkpoints interface {
	save(seq int64, data []byte) error
	// latest returns the newest checkpoint, or ok false if there is none.
	latest() (data []byte, ok bool, err error)
}

// openCheckpoints returns the store cfg asks for: a directory, a temporary
// directory when a driver crash is injected without one (removed by
// cleanup), or nil (no checkpoints) when there is neither.
func openCheckpoints(cfg *Config) (checkpoints, func(), error) {
	dir := cfg.CheckpointDir
	cleanup := func() {}
	if dir == "" {
		crash := false
		for _, f := range cfg.Failures {
			crash = crash || f.Kind == CrashDriver
		}
		if !crash {
			// Nothing to restart from: a failed batch is recomputed from
			// its offsets without a checkpoint (K5).
			return nil, cleanup, nil
		}
		tmp, err := os.MkdirTemp("", "weir-microbatch-checkpoint-")
		if err != nil {
			return nil, nil, fmt.Errorf("microbatch: checkpoint directory: %w", err)
		}
		dir, cleanup = tmp, func() { os.RemoveAll(tmp) }
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("microbatch: checkpoint directory: %w", err)
	}
	return &dirCheckpoints{dir: dir}, cleanup, nil
}

// dirCheckpoints writes each checkpoint atomically: a temporary file,
// fsync, rename, fsync of the directory. It keeps the last two.
type dirCheckpoints struct{ dir string }

const ckPrefix = "checkpoint-"

func (c *dirCheckpoints) save(seq int64, data []byte) error {
	name := filepath.Join(c.dir, fmt.Sprintf("%s%020d", ckPrefix, seq))
	f, err := os.CreateTemp(c.dir, ".tmp-checkpoint-")
	if err != nil {
		return fmt.Errorf("microbatch: checkpoint: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("microbatch: checkpoint: %w", err)
	}
	if d, err := os.Open(c.dir); err == nil {
		d.Sync()
		d.Close()
	}
	names, err := c.list()
	if err != nil {
		return err
	}
	for _, old := range names[:max(len(names)-2, 0)] {
		os.Remove(filepath.Join(c.dir, old))
	}
	return nil
}

func (c *dirCheckpoints) list() ([]string, error) {
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, fmt.Errorf("microbatch: checkpoint: %w", err)
	}
	var names []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ckPrefix) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

func (c *dirCheckpoints) latest() ([]byte, bool, error) {
	names, err := c.list()
	if err != nil || len(names) == 0 {
		return nil, false, err
	}
	b, err := os.ReadFile(filepath.Join(c.dir, names[len(names)-1]))
	if err != nil {
		return nil, false, fmt.Errorf("microbatch: read checkpoint: %w", err)
	}
	return b, true, nil
}

// ckState is the checkpoint's content.
type ckState struct {
	Seq, NextT, Taken int64
	Offsets           []int64
	WM, MaxEvent      int64
	LastBatch         int64
	Cells             ckCells
	Batches           map[int64]ckCells
	Prev              *ckCells
	PID               pidState
	Rate              float64
}

type ckCells struct {
	Win     []dataflow.Window
	Key     []string
	N       []int64
	MaxEv   []int64
	MaxIng  []int64
	LastUpd []int64
	Aggs    []ckAgg
}

type ckAgg struct {
	I, J []int64
	F, G []float64
	S    []string
	Has  []bool
	Acc  [][]byte
}

// encodeCells copies the live cells (live nil: all).
func encodeCells(cs *cellSet, live func(c int32) bool, lastUpd []int64) (ckCells, error) {
	out := ckCells{Aggs: make([]ckAgg, len(cs.specs))}
	for c := range int32(cs.len()) {
		if live != nil && !live(c) {
			continue
		}
		out.Win = append(out.Win, cs.win[c])
		out.Key = append(out.Key, cs.key[c])
		out.N = append(out.N, cs.n[c])
		out.MaxEv = append(out.MaxEv, cs.maxEv[c])
		out.MaxIng = append(out.MaxIng, cs.maxIng[c])
		if lastUpd != nil {
			out.LastUpd = append(out.LastUpd, lastUpd[c])
		}
		for j := range cs.specs {
			a, o := &cs.a[j], &out.Aggs[j]
			if len(a.i) > 0 {
				o.I = append(o.I, a.i[c])
			}
			if len(a.j) > 0 {
				o.J = append(o.J, a.j[c])
			}
			if len(a.f) > 0 {
				o.F = append(o.F, a.f[c])
			}
			if len(a.g) > 0 {
				o.G = append(o.G, a.g[c])
			}
			if len(a.s) > 0 {
				o.S = append(o.S, a.s[c])
				o.Has = append(o.Has, a.has[c])
			}
			if len(a.acc) > 0 {
				b, err := a.acc[c].AppendBinary(nil)
				if err != nil {
					return out, err
				}
				o.Acc = append(o.Acc, b)
			}
		}
	}
	return out, nil
}

// decodeCells appends the cells to cs through add, which returns the new
// cell's index.
func decodeCells(in ckCells, cs *cellSet, add func(w dataflow.Window, key string) int32) error {
	for k := range in.N {
		c := add(in.Win[k], in.Key[k])
		cs.n[c], cs.maxEv[c], cs.maxIng[c] = in.N[k], in.MaxEv[k], in.MaxIng[k]
		for j := range cs.specs {
			a, o := &cs.a[j], &in.Aggs[j]
			if len(o.I) > 0 {
				a.i[c] = o.I[k]
			}
			if len(o.J) > 0 {
				a.j[c] = o.J[k]
			}
			if len(o.F) > 0 {
				a.f[c] = o.F[k]
			}
			if len(o.G) > 0 {
				a.g[c] = o.G[k]
			}
			if len(o.S) > 0 {
				a.s[c], a.has[c] = o.S[k], o.Has[k]
			}
			if len(o.Acc) > 0 {
				if err := a.acc[c].UnmarshalBinary(o.Acc[k]); err != nil {
					return fmt.Errorf("microbatch: checkpoint: %w", err)
				}
			}
		}
	}
	return nil
}

// checkpoint saves the state after batch b and returns its size.
func (d *driver) checkpoint(b *batch) (int, error) {
	st := d.st
	s := ckState{Seq: b.seq + 1, NextT: b.tMs + d.cfg.BatchInterval.Milliseconds(), Taken: b.taken + b.records,
		Offsets: b.after, WM: st.wm, MaxEvent: st.maxEvent, LastBatch: st.lastBatch, PID: d.pid.state()}
	d.mu.Lock()
	s.Rate = d.rate
	d.mu.Unlock()
	var err error
	if s.Cells, err = encodeCells(st.cells, func(c int32) bool { return !st.dead[c] }, st.lastUpd); err != nil {
		return 0, err
	}
	if len(st.batches) > 0 {
		s.Batches = map[int64]ckCells{}
		for t, cs := range st.batches {
			if s.Batches[t], err = encodeCells(cs, nil, nil); err != nil {
				return 0, err
			}
		}
	}
	if st.prevWin != nil {
		p, err := encodeCells(st.prevWin, nil, nil)
		if err != nil {
			return 0, err
		}
		s.Prev = &p
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&s); err != nil {
		return 0, fmt.Errorf("microbatch: checkpoint: %w", err)
	}
	return buf.Len(), d.rs.ck.save(b.seq, buf.Bytes())
}

// restore loads the last checkpoint, if any, into a new driver.
func (d *driver) restore() error {
	if d.rs.ck == nil {
		return nil
	}
	data, ok, err := d.rs.ck.latest()
	if err != nil || !ok {
		return err
	}
	var s ckState
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&s); err != nil {
		return fmt.Errorf("microbatch: checkpoint: %w", err)
	}
	d.seq, d.nextT, d.taken = s.Seq, s.NextT, s.Taken
	copy(d.offsets, s.Offsets)
	st := d.st
	st.wm, st.maxEvent, st.lastBatch = s.WM, s.MaxEvent, s.LastBatch
	if err := decodeCells(s.Cells, st.cells, func(w dataflow.Window, key string) int32 {
		c := st.addCell(wkey{w, key})
		if d.p.shape == shapeSession {
			st.sess[key] = append(st.sess[key], c)
		}
		return c
	}); err != nil {
		return err
	}
	copy(st.lastUpd, s.Cells.LastUpd)
	for t, in := range s.Batches {
		cs := newCellSet(d.p.specs)
		if err := decodeCells(in, cs, func(w dataflow.Window, key string) int32 { return cs.add(w, -1, key) }); err != nil {
			return err
		}
		st.batches[t] = cs
	}
	if s.Prev != nil {
		cs := newCellSet(d.p.specs)
		if err := decodeCells(*s.Prev, cs, func(w dataflow.Window, key string) int32 { return cs.add(w, -1, key) }); err != nil {
			return err
		}
		st.prevWin = cs
	}
	d.pid.restore(s.PID)
	d.rate = s.Rate
	if d.nextT == 0 {
		d.nextT = math.MinInt64
	}
	return nil
}
