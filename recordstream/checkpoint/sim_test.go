package checkpoint

import (
	"encoding/binary"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/dataflow/wire"
	"github.com/weirlab/weir/internal/snapshot"
)

var simSeeds = flag.Int("sim.seeds", 60, "number of seeds of the randomized crash simulation")

// The simulation runs a small topology on the checkpoint package's cores in
// one goroutine, with a seeded scheduler choosing which message moves next,
// so every interleaving is reproducible from its seed:
//
//	spout 0..P-1 ──fields(key)──▶ bolt P..P+W-1 ──global──▶ sink P+W
//
// Each spout reads one partition of (key, value) records; a key lives in one
// partition, so each key's order is fixed and the bolts' per-key count
// windows of 4 records (value = sum) have one right answer. Crashes wipe
// every task and queue; the topology restarts from the store's latest
// checkpoint. The sink's Committed output survives, as an external system.

const simWindow = 4

// simMsg is one message on a simulated channel: kind InRecord, InBarrier or
// InEnd.
type simMsg struct {
	kind   InputKind
	id     ID
	key    string
	value  int64
	result dataflow.Result
	pane   int
}

type simBolt struct {
	gate    *Gate[simMsg]
	count   map[string]int64
	sum     map[string]int64
	encoded []byte // unaligned: the state at the snapshot, waiting for channel state
}

type simSink struct {
	gate    *Gate[simMsg]
	sink    *TwoPhaseSink
	encoded []byte
	ended   bool
}

type sim struct {
	t        *testing.T
	r        *rand.Rand
	mode     Mode
	parts    [][]simMsg // input
	nBolts   int
	store    *snapshot.Store
	out      *Committed
	now      time.Time
	interval int // steps between checkpoints

	// Per incarnation.
	coord    *Coordinator
	offsets  []int64
	ended    []bool
	toBolt   [][][]simMsg // [spout][bolt] FIFO
	toSink   [][]simMsg   // [bolt]
	bolts    []*simBolt
	sink     *simSink
	restarts int
	outs     []Output[simMsg] // reused by deliver
}

func (s *sim) spoutID(p int) TaskID { return TaskID(p) }
func (s *sim) boltID(b int) TaskID  { return TaskID(len(s.parts) + b) }
func (s *sim) sinkID() TaskID       { return TaskID(len(s.parts) + s.nBolts) }

func (s *sim) boltOf(key string) int {
	h := uint64(0)
	for i := range len(key) {
		h = h*31 + uint64(key[i])
	}
	return int(h % uint64(s.nBolts))
}

// start builds a fresh incarnation, restored from the latest checkpoint if
// there is one.
func (s *sim) start() {
	t := s.t
	np := len(s.parts)
	var tasks []TaskID
	for i := range np + s.nBolts + 1 {
		tasks = append(tasks, TaskID(i))
	}
	last, err := s.store.MaxID()
	require.NoError(t, err)
	s.coord, err = NewCoordinator(CoordinatorConfig{Tasks: tasks, Interval: time.Duration(s.interval) * time.Millisecond, LastID: last}, s.now)
	require.NoError(t, err)
	s.offsets = make([]int64, np)
	s.ended = make([]bool, np)
	s.toBolt = make([][][]simMsg, np)
	for p := range s.toBolt {
		s.toBolt[p] = make([][]simMsg, s.nBolts)
	}
	s.toSink = make([][]simMsg, s.nBolts)
	s.bolts = make([]*simBolt, s.nBolts)
	for b := range s.bolts {
		sb := &simBolt{count: map[string]int64{}, sum: map[string]int64{}}
		sb.gate, err = NewGate[simMsg](GateConfig{Mode: s.mode, Channels: np})
		require.NoError(t, err)
		s.bolts[b] = sb
	}
	s.sink = &simSink{sink: NewTwoPhaseSink(s.sinkID(), s.out)}
	s.sink.gate, err = NewGate[simMsg](GateConfig{Mode: s.mode, Channels: s.nBolts})
	require.NoError(t, err)

	c, err := s.store.Latest()
	if err != nil {
		require.ErrorIs(t, err, snapshot.ErrNoCheckpoint)
		return
	}
	for p := range np {
		s.offsets[p] = int64(binary.LittleEndian.Uint64(c.Tasks[s.spoutID(p)]))
	}
	for b, sb := range s.bolts {
		secs, err := wire.Sections(c.Tasks[s.boltID(b)])
		require.NoError(t, err)
		d := wire.NewDecoder(secs["state"])
		for n := d.Uvarint(); n > 0; n-- {
			k := d.String()
			sb.count[k] = d.Varint()
			sb.sum[k] = d.Varint()
		}
		require.NoError(t, d.Err())
		// CK6: replay channel state before new input.
		d = wire.NewDecoder(secs["channels"])
		for n := d.Uvarint(); n > 0; n-- {
			k := d.String()
			s.boltRecord(b, simMsg{key: k, value: d.Varint()})
		}
		require.NoError(t, d.Err())
	}
	secs, err := wire.Sections(c.Tasks[s.sinkID()])
	require.NoError(t, err)
	require.NoError(t, s.sink.sink.Restore(secs["state"]))
	d := wire.NewDecoder(secs["channels"])
	for n := d.Uvarint(); n > 0; n-- {
		pane := int(d.Uvarint())
		s.sink.sink.Write(dataflow.DecodeResult(d), pane)
	}
	require.NoError(t, d.Err())
}

func (s *sim) ack(task TaskID, id ID, payload []byte, align time.Duration) {
	f, err := s.store.WriteTask(snapshot.TaskState{Checkpoint: id, Task: task, Payload: payload})
	require.NoError(s.t, err)
	evs, err := s.coord.Ack(id, Ack{Task: task, File: f, Alignment: align}, s.now, nil)
	require.NoError(s.t, err)
	s.handle(evs)
}

func (s *sim) handle(evs []Event) {
	for _, e := range evs {
		switch e.Kind {
		case EventTrigger:
			for p := range s.parts {
				if s.ended[p] {
					continue
				}
				s.ack(s.spoutID(p), e.ID, binary.LittleEndian.AppendUint64(nil, uint64(s.offsets[p])), 0)
				for b := range s.nBolts {
					s.toBolt[p][b] = append(s.toBolt[p][b], simMsg{kind: InBarrier, id: e.ID})
				}
			}
		case EventComplete:
			_, err := s.store.Complete(e.ID, e.Files)
			require.NoError(s.t, err)
			s.sink.sink.NotifyComplete(e.ID)
		case EventAbort:
			require.NoError(s.t, s.store.Abort(e.ID))
		}
	}
}

func (s *sim) boltRecord(b int, m simMsg) {
	sb := s.bolts[b]
	sb.count[m.key]++
	sb.sum[m.key] += m.value
	if n := sb.count[m.key]; n%simWindow == 0 {
		r := dataflow.Result{Window: dataflow.Window{Start: dataflow.Time(n - simWindow), End: dataflow.Time(n)}, Key: m.key, Value: dataflow.Int(sb.sum[m.key])}
		sb.sum[m.key] = 0
		s.toSink[b] = append(s.toSink[b], simMsg{kind: InRecord, result: r})
	}
}

func (s *sim) boltState(b int) []byte {
	sb := s.bolts[b]
	st := binary.AppendUvarint(nil, uint64(len(sb.count)))
	for _, k := range slices.Sorted(maps.Keys(sb.count)) {
		st = wire.AppendString(st, k)
		st = binary.AppendVarint(st, sb.count[k])
		st = binary.AppendVarint(st, sb.sum[k])
	}
	return wire.AppendSection(nil, "state", st)
}

func (s *sim) onBolt(b int, o Output[simMsg]) {
	sb := s.bolts[b]
	switch o.Kind {
	case OutRecord:
		s.boltRecord(b, o.Record)
	case OutSnapshot:
		sb.encoded = s.boltState(b)
		s.toSink[b] = append(s.toSink[b], simMsg{kind: InBarrier, id: o.ID})
		if s.mode != Unaligned {
			s.ack(s.boltID(b), o.ID, wire.AppendSection(sb.encoded, "channels", binary.AppendUvarint(nil, 0)), o.Alignment)
		}
	case OutChannelState:
		var cs []byte
		n := 0
		for _, rs := range o.ChannelState {
			n += len(rs)
		}
		cs = binary.AppendUvarint(cs, uint64(n))
		for _, rs := range o.ChannelState {
			for _, m := range rs {
				cs = wire.AppendString(cs, m.key)
				cs = binary.AppendVarint(cs, m.value)
			}
		}
		s.ack(s.boltID(b), o.ID, wire.AppendSection(sb.encoded, "channels", cs), o.Alignment)
	case OutEnd:
		s.toSink[b] = append(s.toSink[b], simMsg{kind: InEnd})
	}
}

func (s *sim) onSink(o Output[simMsg]) {
	k := s.sink
	switch o.Kind {
	case OutRecord:
		k.sink.Write(o.Record.result, o.Record.pane)
	case OutSnapshot:
		k.sink.PreCommit(o.ID)
		k.encoded = wire.AppendSection(nil, "state", k.sink.AppendSnapshot(nil))
		if s.mode != Unaligned {
			s.ack(s.sinkID(), o.ID, wire.AppendSection(k.encoded, "channels", binary.AppendUvarint(nil, 0)), o.Alignment)
		}
	case OutChannelState:
		var n int
		for _, rs := range o.ChannelState {
			n += len(rs)
		}
		cs := binary.AppendUvarint(nil, uint64(n))
		for _, rs := range o.ChannelState {
			for _, m := range rs {
				cs = binary.AppendUvarint(cs, uint64(m.pane))
				cs = dataflow.AppendResult(cs, m.result)
			}
		}
		s.ack(s.sinkID(), o.ID, wire.AppendSection(k.encoded, "channels", cs), o.Alignment)
	case OutEnd:
		k.sink.EndOfInput()
		k.ended = true
	}
}

// step makes one random move; it reports false when the job has finished.
func (s *sim) step() bool {
	type move struct{ kind, a, b int }
	var moves []move
	for p := range s.parts {
		if !s.ended[p] {
			moves = append(moves, move{0, p, 0})
		}
		for b := range s.nBolts {
			if len(s.toBolt[p][b]) > 0 {
				moves = append(moves, move{1, p, b})
			}
		}
	}
	for b := range s.nBolts {
		if len(s.toSink[b]) > 0 {
			moves = append(moves, move{2, b, 0})
		}
	}
	if len(moves) == 0 {
		require.True(s.t, s.sink.ended, "deadlock: no move and the sink has not ended")
		return false
	}
	s.now = s.now.Add(time.Millisecond)
	s.handle(s.coord.Tick(s.now, nil))
	m := moves[s.r.IntN(len(moves))]
	switch m.kind {
	case 0: // spout emits its next record, or ends
		p := m.a
		if s.offsets[p] == int64(len(s.parts[p])) {
			s.ended[p] = true
			s.coord.Stop() // a finished task cannot acknowledge
			for b := range s.nBolts {
				s.toBolt[p][b] = append(s.toBolt[p][b], simMsg{kind: InEnd})
			}
			return true
		}
		rec := s.parts[p][s.offsets[p]]
		s.offsets[p]++
		b := s.boltOf(rec.key)
		s.toBolt[p][b] = append(s.toBolt[p][b], rec)
	case 1: // a bolt takes a message from spout p
		msg := s.toBolt[m.a][m.b][0]
		s.toBolt[m.a][m.b] = s.toBolt[m.a][m.b][1:]
		for _, o := range s.deliver(s.bolts[m.b].gate, m.a, msg) {
			s.onBolt(m.b, o)
		}
	case 2: // the sink takes a message from bolt b
		msg := s.toSink[m.a][0]
		s.toSink[m.a] = s.toSink[m.a][1:]
		for _, o := range s.deliver(s.sink.gate, m.a, msg) {
			s.onSink(o)
		}
	}
	return true
}

// deliver hands m from channel ch to g and returns the gate's outputs in
// s.outs, valid until the next deliver (handling them never delivers).
func (s *sim) deliver(g *Gate[simMsg], ch int, m simMsg) []Output[simMsg] {
	var err error
	s.outs, err = g.Step(s.outs[:0], Input[simMsg]{Kind: m.kind, Channel: ch, Record: m, ID: m.id, Now: s.now})
	require.NoError(s.t, err)
	return s.outs
}

// simInput makes P partitions of records over keys k0..k(K-1), a key in one
// partition, and the expected windows.
func simInput(r *rand.Rand, parts, keys, records int) ([][]simMsg, []dataflow.Result) {
	in := make([][]simMsg, parts)
	perKey := map[string][]int64{}
	for range records {
		k := r.IntN(keys)
		key := fmt.Sprintf("k%d", k)
		v := int64(r.IntN(100))
		in[k%parts] = append(in[k%parts], simMsg{kind: InRecord, key: key, value: v})
		perKey[key] = append(perKey[key], v)
	}
	var want []dataflow.Result
	for key, vs := range perKey {
		for i := 0; i+simWindow <= len(vs); i += simWindow {
			var sum int64
			for _, v := range vs[i : i+simWindow] {
				sum += v
			}
			want = append(want, dataflow.Result{Window: dataflow.Window{Start: dataflow.Time(i), End: dataflow.Time(i + simWindow)}, Key: key, Value: dataflow.Int(sum)})
		}
	}
	dataflow.SortResults(want)
	return in, want
}

func runSim(t *testing.T, mode Mode, seed uint64) (s *sim, want []dataflow.Result) {
	r := rand.New(rand.NewPCG(seed, uint64(mode)))
	parts := 1 + r.IntN(3)
	in, want := simInput(r, parts, 12, 150+r.IntN(150))
	store, err := snapshot.NewStore(snapshot.Config{Dir: "/chk", FS: snapshot.NewMemFS(), Keep: 1 + r.IntN(2)})
	require.NoError(t, err)
	s = &sim{t: t, r: r, mode: mode, parts: in, nBolts: 1 + r.IntN(3), store: store, out: NewCommitted(),
		now: time.Unix(0, 0), interval: 5 + r.IntN(40)}
	s.start()
	// Crash points, in steps; some close together so that a crash hits a
	// restore in progress or a pending checkpoint.
	var crashes []int
	for range 1 + r.IntN(4) {
		crashes = append(crashes, r.IntN(600))
	}
	if r.IntN(2) == 0 {
		crashes = append(crashes, crashes[0]+1+r.IntN(3))
	}
	slices.Sort(crashes)
	step := 0
	for s.step() {
		step++
		for len(crashes) > 0 && crashes[0] <= step {
			crashes = crashes[1:]
			s.restarts++
			s.start()
		}
	}
	s.sink.sink.CommitAll()
	return s, want
}

// TestSimulatedCrashes is the randomized crash test of the protocol: for
// many seeds, crash the whole topology at random steps (during checkpoints
// and right after restores too) and check that the two-phase-commit sink's
// committed output equals the expected answer exactly in the exactly-once
// modes, and that nothing is lost with at-least-once checkpoints.
func TestSimulatedCrashes(t *testing.T) {
	for _, mode := range []Mode{Aligned, Unaligned, AtLeastOnce} {
		t.Run(mode.String(), func(t *testing.T) {
			var restarts, dups int
			for seed := range uint64(*simSeeds) {
				s, want := runSim(t, mode, seed)
				restarts += s.restarts
				got := s.out.Results()
				if mode == AtLeastOnce {
					// Replayed records are counted again, which shifts the
					// count windows: every key has at least its windows.
					assert.GreaterOrEqual(t, len(got), len(want), "seed %d: windows", seed)
					dups += len(got) - len(want)
					continue
				}
				require.Equal(t, want, got, "seed %d (%d restarts): committed output", seed, s.restarts)
				require.Zero(t, s.out.Duplicates(), "seed %d: duplicate panes", seed)
			}
			t.Logf("%v: %d seeds, %d restarts, %d extra windows from duplicates", mode, *simSeeds, restarts, dups)
		})
	}
}
